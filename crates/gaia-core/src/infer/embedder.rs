//! The embedder handle: a shared model plus per-handle settings (threads, batch size),
//! and the process-wide model cache.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use serde::Deserialize;

use super::bert::Scratch;
use super::model::{Model, Pooling};
use super::Error;

/// Options of [`Embedder::open`]; JSON `{"threads": 1, "max_tokens_per_batch": 8192,
/// "max_length": 256, "cache": true}` through the C ABI, every field optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedderOptions {
    /// Threads one `embed` call uses (1 to 256). A batch is split into one sub-batch per
    /// thread, balanced by estimated cost; a single text instead splits each matrix
    /// product across a process-wide pool of that many threads (kept between calls).
    /// Several callers may embed at once on one handle regardless.
    pub threads: usize,
    /// Tokens per sub-batch (at least the model's maximum length): bounds working memory
    /// (about 14 KB per token for MiniLM-L6).
    pub max_tokens_per_batch: usize,
    /// Longest sequence in tokens, `[CLS]`/`[SEP]` included; longer texts are truncated.
    /// Default: the model's `max_seq_length` (256 for all-MiniLM-L6-v2).
    pub max_length: Option<usize>,
    /// Share the loaded model with every other handle on the same folder (default true).
    pub cache: bool,
}

impl Default for EmbedderOptions {
    fn default() -> Self {
        EmbedderOptions {
            threads: 1,
            max_tokens_per_batch: 8192,
            max_length: None,
            cache: true,
        }
    }
}

impl EmbedderOptions {
    /// Parses options from JSON (`""` or `"{}"` for the defaults).
    pub fn from_json(text: &str) -> Result<EmbedderOptions, Error> {
        if text.trim().is_empty() {
            return Ok(EmbedderOptions::default());
        }
        serde_json::from_str(text).map_err(|e| Error::Options {
            field: "embedder options",
            reason: format!("{e}"),
        })
    }

    fn validate(&self) -> Result<(), Error> {
        if !(1..=256).contains(&self.threads) {
            return Err(Error::Options {
                field: "embedder option threads",
                reason: format!("{} is outside 1..=256", self.threads),
            });
        }
        if !(16..=1 << 22).contains(&self.max_tokens_per_batch) {
            return Err(Error::Options {
                field: "embedder option max_tokens_per_batch",
                reason: format!("{} is outside 16..=4194304", self.max_tokens_per_batch),
            });
        }
        Ok(())
    }
}

/// What `info` reports about an embedder.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Info {
    /// Embedding dimension.
    pub dim: usize,
    /// Longest sequence, in tokens, before truncation.
    pub max_length: usize,
    /// Pooling mode.
    pub pooling: &'static str,
    /// Whether the model's pipeline normalises its output (sentence-transformers' Normalize).
    pub normalizes: bool,
    /// Vocabulary size of the tokenizer.
    pub vocab_size: usize,
    /// Transformer layers.
    pub layers: usize,
    /// Threads per `embed` call.
    pub threads: usize,
    /// The model folder.
    pub path: String,
    /// SHA-256 of `model.safetensors`.
    pub weights_sha256: String,
}

/// A handle on a loaded model. Cheap to clone; `Send + Sync`: any number of threads call
/// [`Embedder::embed`] on one handle at once, without a lock.
#[derive(Debug, Clone)]
pub struct Embedder {
    model: Arc<Model>,
    threads: usize,
    max_tokens: usize,
}

type CacheKey = (PathBuf, usize, Option<SystemTime>, u64);

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<Model>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<Model>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Drops every model the process-wide cache holds (handles keep theirs alive); returns how
/// many were dropped.
pub fn cache_clear() -> usize {
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    let n = map.len();
    map.clear();
    n
}

impl Embedder {
    /// Opens the model in `folder`, from the process-wide cache when it holds this folder
    /// (same path, same max_length, unchanged `model.safetensors`) and `options.cache`.
    pub fn open(folder: impl AsRef<Path>, options: &EmbedderOptions) -> Result<Embedder, Error> {
        options.validate()?;
        let folder = folder.as_ref();
        let canonical = folder.canonicalize().map_err(|_| Error::MissingFile {
            path: folder.display().to_string(),
            hint: " (the model folder)",
        })?;
        let model = if options.cache {
            let meta = std::fs::metadata(canonical.join("model.safetensors")).ok();
            let key = (
                canonical.clone(),
                options.max_length.unwrap_or(0),
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.as_ref().map_or(0, |m| m.len()),
            );
            let hit = cache()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned();
            match hit {
                Some(m) => m,
                None => {
                    // Loaded outside the lock: other models open meanwhile.
                    let m = Arc::new(Model::load(&canonical, options.max_length)?);
                    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
                    map.entry(key).or_insert(m).clone()
                }
            }
        } else {
            Arc::new(Model::load(&canonical, options.max_length)?)
        };
        if options.max_tokens_per_batch < model.max_length {
            return Err(Error::Options {
                field: "embedder option max_tokens_per_batch",
                reason: format!(
                    "{} is below the model's max_length {}",
                    options.max_tokens_per_batch, model.max_length
                ),
            });
        }
        Ok(Embedder {
            model,
            threads: options.threads,
            max_tokens: options.max_tokens_per_batch,
        })
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.model.dim()
    }

    /// Longest sequence in tokens (texts beyond are truncated).
    pub fn max_length(&self) -> usize {
        self.model.max_length
    }

    /// The pooling mode.
    pub fn pooling(&self) -> Pooling {
        self.model.pooling
    }

    /// Whether two handles share one loaded model.
    pub fn same_model(&self, other: &Embedder) -> bool {
        Arc::ptr_eq(&self.model, &other.model)
    }

    /// Facts about the model (computes the weights hash on first call).
    pub fn info(&self) -> Result<Info, Error> {
        let m = &self.model;
        Ok(Info {
            dim: m.dim(),
            max_length: m.max_length,
            pooling: m.pooling.name(),
            normalizes: m.normalizes,
            vocab_size: m.tokenizer.vocab_size(),
            layers: m.bert.config().layers,
            threads: self.threads,
            path: m.folder.display().to_string(),
            weights_sha256: m.weights_sha256()?,
        })
    }

    fn texts<'t>(texts: &[&'t [u8]]) -> Result<Vec<&'t str>, Error> {
        texts
            .iter()
            .enumerate()
            .map(|(index, t)| {
                std::str::from_utf8(t).map_err(|e| Error::InvalidUtf8 {
                    index,
                    offset: e.valid_up_to(),
                })
            })
            .collect()
    }

    /// Token count of each text, `[CLS]` and `[SEP]` included, before truncation: how
    /// callers decide where to chunk long documents.
    pub fn count_tokens(&self, texts: &[&[u8]]) -> Result<Vec<usize>, Error> {
        Ok(Self::texts(texts)?
            .iter()
            .map(|t| self.model.tokenizer.count(t))
            .collect())
    }

    /// The token ids the encoder sees for `text` (truncated to `max_length`).
    pub fn token_ids(&self, text: &[u8]) -> Result<Vec<u32>, Error> {
        let t = Self::texts(&[text])?;
        Ok(self.model.tokenizer.encode(t[0], self.model.max_length))
    }

    /// Embeds `texts` (UTF-8 bytes) into `out`, row `i` (`dim` floats) for text `i`;
    /// L2-normalised when `normalize`. Texts longer than `max_length` tokens are truncated.
    /// Every argument is checked before anything is computed or written.
    pub fn embed(&self, texts: &[&[u8]], normalize: bool, out: &mut [f32]) -> Result<(), Error> {
        let dim = self.dim();
        if texts.is_empty() {
            return Err(Error::InvalidArgument(
                "embed: no texts (the batch is empty)".into(),
            ));
        }
        let need = texts
            .len()
            .checked_mul(dim)
            .ok_or_else(|| Error::InvalidArgument("embed: batch too large".into()))?;
        if out.len() < need {
            return Err(Error::BufferTooSmall {
                need,
                got: out.len(),
                what: format!("{} texts x {dim} dimensions", texts.len()),
            });
        }
        let strs = Self::texts(texts)?;
        let ids: Vec<Vec<u32>> = strs
            .iter()
            .map(|t| self.model.tokenizer.encode(t, self.model.max_length))
            .collect();

        let lens: Vec<usize> = ids.iter().map(Vec::len).collect();
        let planned = plan_sub_batches(&lens, self.threads, self.max_tokens);
        let batches: Vec<&[usize]> = planned.iter().map(Vec::as_slice).collect();

        let run = |batch: &[usize], scratch: &mut Scratch| -> Result<Vec<f32>, Error> {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            let mut rows = vec![0.0; batch.len() * dim];
            self.model.run(&seqs, normalize, scratch, &mut rows)?;
            Ok(rows)
        };
        let workers = self.threads.min(batches.len());
        let results: Vec<(usize, Result<Vec<f32>, Error>)> = if workers <= 1 {
            // One sub-batch (a single short text): its matrix products use the threads.
            let mut scratch = Scratch::default();
            scratch.threads = self.threads;
            gaia_kernels::with_threads(self.threads, || {
                batches
                    .iter()
                    .enumerate()
                    .map(|(b, batch)| (b, run(batch, &mut scratch)))
                    .collect()
            })
        } else {
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        s.spawn(|| {
                            let mut scratch = Scratch::default();
                            let mut done = Vec::new();
                            loop {
                                let b = next.fetch_add(1, Ordering::Relaxed);
                                let Some(batch) = batches.get(b) else { break };
                                done.push((b, run(batch, &mut scratch)));
                            }
                            done
                        })
                    })
                    .collect();
                let mut all = Vec::new();
                for h in handles {
                    match h.join() {
                        Ok(done) => all.extend(done),
                        Err(_) => all.push((
                            usize::MAX,
                            Err(Error::Internal("an embedding thread panicked".into())),
                        )),
                    }
                }
                all
            })
        };
        let mut rows: Vec<Option<Vec<f32>>> = vec![None; batches.len()];
        for (b, r) in results {
            let r = r?;
            if let Some(slot) = rows.get_mut(b) {
                *slot = Some(r);
            }
        }
        for (batch, r) in batches.iter().zip(rows) {
            let r = r.ok_or_else(|| Error::Internal("a sub-batch produced no result".into()))?;
            for (k, &i) in batch.iter().enumerate() {
                out[i * dim..(i + 1) * dim].copy_from_slice(&r[k * dim..(k + 1) * dim]);
            }
        }
        Ok(())
    }
}

/// The estimated cost of encoding a sequence of `n` tokens, in token units: the dense
/// layers grow with its tokens, attention with their square (a 128-token sequence spends
/// about a tenth of its time in attention with MiniLM's widths, as measured).
pub(super) fn sequence_cost(n: usize) -> f64 {
    n as f64 * (1.0 + n as f64 / 128.0)
}

/// Splits a batch (sequence lengths in tokens) into sub-batches, each a list of indexes:
/// at most `max_tokens` tokens per sub-batch (a longer sequence goes alone) and, when the
/// batch allows, at least `threads` of them, balanced by estimated cost.
///
/// Costs are [`sequence_cost`]. Longest-processing-time first:
/// sequences go, most costly first, to the cheapest sub-batch they fit in, so the threads
/// finish together instead of waiting on a short remainder. Sub-batches come out most
/// costly first (the order the workers take them).
pub(super) fn plan_sub_batches(
    lens: &[usize],
    threads: usize,
    max_tokens: usize,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by(|&a, &b| lens[b].cmp(&lens[a]).then(a.cmp(&b)));
    let total: usize = lens.iter().sum();
    let bins = threads
        .max(total.div_ceil(max_tokens.max(1)))
        .min(lens.len())
        .max(1);
    // (cost, tokens, members)
    let mut plan: Vec<(f64, usize, Vec<usize>)> = vec![(0.0, 0, Vec::new()); bins];
    for i in order {
        let fits = plan
            .iter()
            .enumerate()
            .filter(|(_, b)| b.2.is_empty() || b.1 + lens[i] <= max_tokens)
            .min_by(|x, y| x.1 .0.total_cmp(&y.1 .0).then(x.0.cmp(&y.0)))
            .map(|(k, _)| k);
        let k = match fits {
            Some(k) => k,
            None => {
                plan.push((0.0, 0, Vec::new()));
                plan.len() - 1
            }
        };
        plan[k].0 += sequence_cost(lens[i]);
        plan[k].1 += lens[i];
        plan[k].2.push(i);
    }
    plan.retain(|b| !b.2.is_empty());
    plan.sort_by(|x, y| y.0.total_cmp(&x.0));
    plan.into_iter().map(|b| b.2).collect()
}
