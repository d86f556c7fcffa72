//! A sentence-transformers model folder: encoder, tokenizer, pooling and normalisation.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::bert::{Bert, BertConfig, Scratch};
use super::tokenizer::Tokenizer;
use super::Error;

/// How token vectors become one sentence vector (`1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean of the token vectors (sentence-transformers' default).
    Mean,
    /// The `[CLS]` token's vector.
    Cls,
    /// Element-wise maximum over the tokens.
    Max,
    /// Sum of the token vectors divided by sqrt(number of tokens).
    MeanSqrtLen,
}

impl Pooling {
    /// The name used in `info`.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::Max => "max",
            Pooling::MeanSqrtLen => "mean_sqrt_len",
        }
    }

    /// Pools `n` token rows of width `dim` into `out`.
    pub fn apply(self, tokens: &[f32], dim: usize, out: &mut [f32]) {
        let n = tokens.len() / dim;
        match self {
            Pooling::Cls => out.copy_from_slice(&tokens[..dim]),
            Pooling::Max => {
                out.copy_from_slice(&tokens[..dim]);
                for row in tokens.chunks_exact(dim).skip(1) {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o = o.max(*v);
                    }
                }
            }
            Pooling::Mean | Pooling::MeanSqrtLen => {
                out.fill(0.0);
                for row in tokens.chunks_exact(dim) {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o += v;
                    }
                }
                let div = if self == Pooling::Mean {
                    n as f32
                } else {
                    (n as f32).sqrt()
                };
                for o in out.iter_mut() {
                    *o /= div.max(1e-9);
                }
            }
        }
    }
}

/// A loaded model. Immutable and shared (`Arc`) by every [`super::Embedder`] opened on
/// the same folder.
#[derive(Debug)]
pub struct Model {
    pub(super) tokenizer: Tokenizer,
    pub(super) bert: Bert,
    pub(super) pooling: Pooling,
    /// Whether the model's pipeline ends with a `Normalize` module.
    pub(super) normalizes: bool,
    pub(super) max_length: usize,
    pub(super) folder: PathBuf,
    weights_sha256: OnceLock<String>,
}

fn read_text(folder: &Path, name: &str) -> Result<Option<String>, Error> {
    let path = folder.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(Error::Model {
            file: leak_name(name),
            reason: "not UTF-8 text".into(),
        }),
        Err(source) => Err(Error::Io {
            path: path.display().to_string(),
            op: "read",
            source,
        }),
    }
}

/// File names are a fixed set of literals; this maps them back to `'static` for errors.
fn leak_name(name: &str) -> &'static str {
    match name {
        "config.json" => "config.json",
        "tokenizer.json" => "tokenizer.json",
        "modules.json" => "modules.json",
        "sentence_bert_config.json" => "sentence_bert_config.json",
        "1_Pooling/config.json" => "1_Pooling/config.json",
        _ => "model file",
    }
}

fn required(folder: &Path, name: &str, hint: &'static str) -> Result<String, Error> {
    read_text(folder, name)?.ok_or_else(|| Error::MissingFile {
        path: folder.join(name).display().to_string(),
        hint,
    })
}

fn json(file: &'static str, text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::Model {
        file,
        reason: format!("not JSON: {e}"),
    })
}

impl Model {
    /// Loads the model in `folder`. `max_length` overrides the model's own maximum
    /// (`sentence_bert_config.json`'s `max_seq_length`, else the encoder's positions).
    pub fn load(folder: &Path, max_length: Option<usize>) -> Result<Model, Error> {
        if !folder.is_dir() {
            return Err(Error::MissingFile {
                path: folder.display().to_string(),
                hint: " (the model folder)",
            });
        }
        let cfg = BertConfig::from_json(&required(
            folder,
            "config.json",
            " (the encoder's configuration)",
        )?)?;
        let tokenizer =
            Tokenizer::from_json(&required(folder, "tokenizer.json", " (the tokenizer)")?)?;
        if tokenizer.vocab_size() > cfg.vocab_size {
            return Err(Error::Model {
                file: "tokenizer.json",
                reason: format!(
                    "{} vocabulary entries, but the encoder has {}",
                    tokenizer.vocab_size(),
                    cfg.vocab_size
                ),
            });
        }

        let mut pooling = Pooling::Mean;
        if let Some(text) = read_text(folder, "1_Pooling/config.json")? {
            let v = json("1_Pooling/config.json", &text)?;
            let on = |k: &str| v.get(k).and_then(|x| x.as_bool()).unwrap_or(false);
            let modes: Vec<Pooling> = [
                ("pooling_mode_mean_tokens", Pooling::Mean),
                ("pooling_mode_cls_token", Pooling::Cls),
                ("pooling_mode_max_tokens", Pooling::Max),
                ("pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen),
            ]
            .into_iter()
            .filter(|(k, _)| on(k))
            .map(|(_, p)| p)
            .collect();
            for k in ["pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"] {
                if on(k) {
                    return Err(Error::UnsupportedArchitecture(format!(
                        "1_Pooling/config.json: {k} is not supported"
                    )));
                }
            }
            pooling = match modes.as_slice() {
                [p] => *p,
                [] => Pooling::Mean,
                _ => {
                    return Err(Error::UnsupportedArchitecture(
                        "1_Pooling/config.json: several pooling modes at once (concatenated) are not supported".into(),
                    ))
                }
            };
        }
        let normalizes = match read_text(folder, "modules.json")? {
            Some(text) => json("modules.json", &text)?.as_array().is_some_and(|mods| {
                mods.iter().any(|m| {
                    m.get("type")
                        .and_then(|t| t.as_str())
                        .is_some_and(|t| t.ends_with(".Normalize"))
                })
            }),
            None => false,
        };
        let mut model_max = cfg.max_positions;
        if let Some(text) = read_text(folder, "sentence_bert_config.json")? {
            if let Some(n) = json("sentence_bert_config.json", &text)?
                .get("max_seq_length")
                .and_then(|x| x.as_u64())
            {
                model_max = (n as usize).min(cfg.max_positions);
            }
        }
        let max_length = match max_length {
            None => model_max,
            Some(n) if (2..=cfg.max_positions).contains(&n) => n,
            Some(n) => {
                return Err(Error::Options {
                    field: "embedder option max_length",
                    reason: format!(
                        "{n} is outside 2..={} (the encoder's positions)",
                        cfg.max_positions
                    ),
                })
            }
        };

        let weights = folder.join("model.safetensors");
        if !weights.exists() {
            let hint = if folder.join("pytorch_model.bin").exists() {
                " (only safetensors weights are supported; pytorch_model.bin is not read)"
            } else {
                " (the encoder's weights)"
            };
            return Err(Error::MissingFile {
                path: weights.display().to_string(),
                hint,
            });
        }
        let bert = Bert::load(cfg, &weights)?;
        Ok(Model {
            tokenizer,
            bert,
            pooling,
            normalizes,
            max_length,
            folder: folder.to_path_buf(),
            weights_sha256: OnceLock::new(),
        })
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.bert.config().hidden
    }

    /// SHA-256 of `model.safetensors`, hex; computed on first use and remembered.
    pub fn weights_sha256(&self) -> Result<String, Error> {
        if let Some(h) = self.weights_sha256.get() {
            return Ok(h.clone());
        }
        let path = self.folder.join("model.safetensors");
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            op: "read",
            source,
        })?;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(self.weights_sha256.get_or_init(|| hex).clone())
    }

    /// Encodes, runs and pools the already-tokenised sequences of one sub-batch, writing
    /// one `dim`-wide row per sequence into `out`, normalised when asked.
    pub(super) fn run(
        &self,
        seqs: &[&[u32]],
        normalize: bool,
        scratch: &mut Scratch,
        out: &mut [f32],
    ) -> Result<(), Error> {
        let dim = self.dim();
        let hidden = self.bert.forward(seqs, scratch)?;
        let mut start = 0;
        for (s, row) in seqs.iter().zip(out.chunks_exact_mut(dim)) {
            let tokens = &hidden[start * dim..(start + s.len()) * dim];
            self.pooling.apply(tokens, dim, row);
            if normalize {
                super::similarity::normalize(row);
            }
            start += s.len();
        }
        Ok(())
    }
}
