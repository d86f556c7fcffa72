//! The BERT encoder: weights in memory as plain `f32` matrices (loaded through candle's
//! safetensors reader), and a forward pass over a *ragged* batch.
//!
//! The batch is never padded: the sequences' tokens are packed one after another, so the
//! dense layers run as a few large matrix products over exactly the real tokens, and
//! attention runs per sequence and head on its own rows. The output equals a padded forward
//! pass with an attention mask (what sentence-transformers runs), without the wasted work.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use gaia_kernels::{matmul, MatMut, MatRef, PackedLinear};

use gaia_kernels::elementwise as math;

use super::Error;

/// The activation of the feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// GELU with erf (`"gelu"`).
    GeluErf,
    /// GELU with tanh (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    GeluTanh,
    /// `"relu"`.
    Relu,
}

/// The encoder's shape, from `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the hidden states (the embedding dimension).
    pub hidden: usize,
    /// Number of transformer layers.
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the feed-forward block.
    pub intermediate: usize,
    /// Longest sequence the position table covers.
    pub max_positions: usize,
    /// Layer-norm epsilon.
    pub eps: f32,
    /// Feed-forward activation.
    pub activation: Activation,
}

fn cfg_err(reason: impl Into<String>) -> Error {
    Error::Model {
        file: "config.json",
        reason: reason.into(),
    }
}

impl BertConfig {
    /// Parses a Hugging Face `config.json` of a BERT encoder.
    pub fn from_json(text: &str) -> Result<BertConfig, Error> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| cfg_err(format!("not JSON: {e}")))?;
        let model_type = v.get("model_type").and_then(|x| x.as_str()).unwrap_or("");
        if model_type != "bert" {
            return Err(Error::UnsupportedArchitecture(format!(
                "model_type {model_type:?}: Gaia runs BERT encoders (model_type \"bert\": MiniLM, BGE, E5, GTE ...)"
            )));
        }
        if let Some(p) = v.get("position_embedding_type").and_then(|x| x.as_str()) {
            if p != "absolute" {
                return Err(Error::UnsupportedArchitecture(format!(
                    "position_embedding_type {p:?}: only \"absolute\" is supported"
                )));
            }
        }
        let num = |k: &str| -> Result<usize, Error> {
            v.get(k)
                .and_then(|x| x.as_u64())
                .filter(|&n| n > 0 && n < 1 << 24)
                .map(|n| n as usize)
                .ok_or_else(|| cfg_err(format!("{k} is missing or not a positive integer")))
        };
        let activation = match v
            .get("hidden_act")
            .and_then(|x| x.as_str())
            .unwrap_or("gelu")
        {
            "gelu" => Activation::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => {
                return Err(Error::UnsupportedArchitecture(format!(
                    "hidden_act {other:?}"
                )))
            }
        };
        let cfg = BertConfig {
            vocab_size: num("vocab_size")?,
            hidden: num("hidden_size")?,
            layers: num("num_hidden_layers")?,
            heads: num("num_attention_heads")?,
            intermediate: num("intermediate_size")?,
            max_positions: num("max_position_embeddings")?,
            eps: v
                .get("layer_norm_eps")
                .and_then(|x| x.as_f64())
                .unwrap_or(1e-12) as f32,
            activation,
        };
        if !cfg.hidden.is_multiple_of(cfg.heads) {
            return Err(cfg_err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden, cfg.heads
            )));
        }
        Ok(cfg)
    }
}

#[derive(Debug)]
struct Layer {
    // Dense layers are packed once at load (gaia_kernels::PackedLinear): one product reads
    // every weight once, front to back, which is what a one-sentence batch waits on.
    /// Query, key and value projections in one product: each fills a third of every row.
    qkv: PackedLinear,
    wo: PackedLinear,
    ln1: (Vec<f32>, Vec<f32>),
    w1: PackedLinear,
    w2: PackedLinear,
    ln2: (Vec<f32>, Vec<f32>),
}

/// A loaded BERT encoder. Immutable after loading: any number of threads run
/// [`Bert::forward`] on it at once, each with its own [`Scratch`].
#[derive(Debug)]
pub struct Bert {
    cfg: BertConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    ln: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

/// Per-call working memory of the forward pass, reused between sub-batches.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Threads each matrix product may use (rayon's pool); 0 or 1: the calling thread only.
    pub threads: usize,
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    ff: Vec<f32>,
    scores: Vec<f32>,
}

fn w_err(reason: impl Into<String>) -> Error {
    Error::Model {
        file: "model.safetensors",
        reason: reason.into(),
    }
}

/// One tensor's entry in a safetensors header.
#[derive(Debug, serde::Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

/// A safetensors file: its header parsed and checked, tensors read one by one straight
/// into their destination (no copy of the whole file in memory).
struct Weights {
    file: std::fs::File,
    entries: HashMap<String, Entry>,
    data_start: u64,
    prefix: &'static str,
}

impl Weights {
    fn open(path: &std::path::Path) -> Result<Weights, Error> {
        use std::os::unix::fs::FileExt;
        let io = |op: &'static str, source: std::io::Error| Error::Io {
            path: path.display().to_string(),
            op,
            source,
        };
        let file = std::fs::File::open(path).map_err(|e| io("open", e))?;
        let len = file.metadata().map_err(|e| io("stat", e))?.len();
        let mut n = [0u8; 8];
        file.read_exact_at(&mut n, 0)
            .map_err(|_| w_err("not a safetensors file (shorter than its header)"))?;
        let n = u64::from_le_bytes(n);
        if n > 100 << 20 || n + 8 > len {
            return Err(w_err(format!(
                "not a safetensors file (a header of {n} bytes in a file of {len})"
            )));
        }
        let mut header = vec![0u8; n as usize];
        file.read_exact_at(&mut header, 8)
            .map_err(|e| io("read", e))?;
        let mut raw: HashMap<String, serde_json::Value> = serde_json::from_slice(&header)
            .map_err(|e| w_err(format!("not a safetensors file (header: {e})")))?;
        raw.remove("__metadata__");
        let data_start = 8 + n;
        let mut entries = HashMap::with_capacity(raw.len());
        for (name, v) in raw {
            let e: Entry = serde_json::from_value(v)
                .map_err(|e| w_err(format!("header entry {name}: {e}")))?;
            let size = match e.dtype.as_str() {
                "F32" => 4,
                "F16" | "BF16" => 2,
                "F64" | "I64" => 8,
                "I32" => 4,
                "U8" | "I8" | "BOOL" => 1,
                _ => 0,
            };
            let numel = e
                .shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d as u64));
            let [b, end] = e.data_offsets;
            let fits = end >= b && data_start.checked_add(end).is_some_and(|x| x <= len);
            if !fits || (size > 0 && numel.and_then(|n| n.checked_mul(size)) != Some(end - b)) {
                return Err(w_err(format!(
                    "tensor {name}: data_offsets {:?} do not match its shape {:?} and dtype {} in a file of {len} bytes (truncated?)",
                    e.data_offsets, e.shape, e.dtype
                )));
            }
            entries.insert(name, e);
        }
        let prefix = if entries.contains_key("embeddings.word_embeddings.weight") {
            ""
        } else if entries.contains_key("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            return Err(w_err(
                "no embeddings.word_embeddings.weight: not the weights of a BERT encoder",
            ));
        };
        Ok(Weights {
            file,
            entries,
            data_start,
            prefix,
        })
    }

    fn entry(&self, name: &str) -> Result<(String, &Entry), Error> {
        let full = format!("{}{name}", self.prefix);
        match self.entries.get(&full) {
            Some(e) => Ok((full, e)),
            None => Err(w_err(format!("tensor {full} is missing"))),
        }
    }

    /// The tensor `name` as f32 values in its stored (row-major) order, checked to have
    /// `shape`. f32 tensors are read straight into the result; f16, bf16 and f64 ones go
    /// through a candle tensor and its dtype conversion.
    fn floats(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Error> {
        let mut v = Vec::new();
        self.append_floats(name, shape, &mut v)?;
        Ok(v)
    }

    /// [`Weights::floats`] appended to `out` (whose capacity is reused between tensors:
    /// loading faults in fresh pages only for what the model keeps).
    fn append_floats(&self, name: &str, shape: &[usize], out: &mut Vec<f32>) -> Result<(), Error> {
        use std::os::unix::fs::FileExt;
        let (full, e) = self.entry(name)?;
        if e.shape != shape {
            return Err(w_err(format!(
                "tensor {full} has shape {:?}, expected {shape:?}",
                e.shape
            )));
        }
        let numel: usize = shape.iter().product();
        let offset = self.data_start + e.data_offsets[0];
        let read_err = |source| Error::Io {
            path: format!("model.safetensors ({full})"),
            op: "read",
            source,
        };
        let start = out.len();
        match e.dtype.as_str() {
            "F32" => {
                out.resize(start + numel, 0.0);
                let v = &mut out[start..];
                self.file
                    .read_exact_at(bytemuck::cast_slice_mut::<f32, u8>(v), offset)
                    .map_err(read_err)?;
                if cfg!(target_endian = "big") {
                    for x in v {
                        *x = f32::from_bits(x.to_bits().swap_bytes());
                    }
                }
            }
            d @ ("F16" | "BF16" | "F64") => {
                let dtype = match d {
                    "F16" => DType::F16,
                    "BF16" => DType::BF16,
                    _ => DType::F64,
                };
                let mut bytes = vec![0u8; (e.data_offsets[1] - e.data_offsets[0]) as usize];
                self.file
                    .read_exact_at(&mut bytes, offset)
                    .map_err(read_err)?;
                out.extend(
                    Tensor::from_raw_buffer(&bytes, dtype, shape, &Device::Cpu)
                        .and_then(|t| t.to_dtype(DType::F32))
                        .and_then(|t| t.flatten_all())
                        .and_then(|t| t.to_vec1::<f32>())
                        .map_err(|e| w_err(format!("tensor {full}: {e}")))?,
                );
            }
            other => {
                return Err(w_err(format!(
                    "tensor {full} has dtype {other}; F32, F16, BF16 or F64 expected"
                )))
            }
        };
        // An exponent of all ones is an infinity or a NaN; a branch-free pass vectorises.
        let values = &out[start..];
        let bad = values.iter().fold(false, |bad, x| {
            bad | (x.to_bits() & 0x7f80_0000 == 0x7f80_0000)
        });
        if bad {
            let i = values.iter().position(|x| !x.is_finite()).unwrap_or(0);
            out.truncate(start);
            return Err(w_err(format!(
                "tensor {full} holds a non-finite value at {i}"
            )));
        }
        Ok(())
    }

    /// PyTorch `Linear` layers over the same input (`out_dim x in_dim` weights and their
    /// biases, prefixes in `names`) stacked into one packed layer of `names.len() * out_dim`
    /// outputs, side by side in that order; `buf` is reused working memory.
    fn linear(
        &self,
        names: &[String],
        out_dim: usize,
        in_dim: usize,
        buf: &mut Vec<f32>,
    ) -> Result<PackedLinear, Error> {
        buf.clear();
        let mut bias = Vec::with_capacity(names.len() * out_dim);
        for name in names {
            self.append_floats(&format!("{name}.weight"), &[out_dim, in_dim], buf)?;
            self.append_floats(&format!("{name}.bias"), &[out_dim], &mut bias)?;
        }
        PackedLinear::from_torch(buf, &bias, names.len() * out_dim, in_dim).map_err(kernel)
    }
}

impl Bert {
    /// Loads the encoder from a `model.safetensors` file.
    pub fn load(cfg: BertConfig, path: &std::path::Path) -> Result<Bert, Error> {
        let w = Weights::open(path)?;
        let h = cfg.hidden;
        // The word table (about half of the bytes) is read on a second thread while this
        // one reads and packs the layers: opening is bound by copying and faulting in pages.
        let (word, layers) = std::thread::scope(|s| {
            let word =
                s.spawn(|| w.floats("embeddings.word_embeddings.weight", &[cfg.vocab_size, h]));
            let layers = Self::load_layers(&w, &cfg);
            let word = word.join().map_err(|_| {
                Error::Internal("the thread reading the word table panicked".into())
            })?;
            Ok::<_, Error>((word?, layers?))
        })?;
        let position = w.floats(
            "embeddings.position_embeddings.weight",
            &[cfg.max_positions, h],
        )?;
        // The token-type table has any number of rows; only row 0 is used (single texts).
        let token_type0 = match w.entry("embeddings.token_type_embeddings.weight") {
            Ok((full, e)) => {
                if e.shape.len() != 2 || e.shape[1] != h || e.shape[0] == 0 {
                    return Err(w_err(format!("tensor {full} has shape {:?}", e.shape)));
                }
                let rows = e.shape[0];
                w.floats("embeddings.token_type_embeddings.weight", &[rows, h])?[..h].to_vec()
            }
            Err(_) => vec![0.0; h],
        };
        let ln = (
            w.floats("embeddings.LayerNorm.weight", &[h])?,
            w.floats("embeddings.LayerNorm.bias", &[h])?,
        );
        Ok(Bert {
            cfg,
            word,
            position,
            token_type0,
            ln,
            layers,
        })
    }

    /// The transformer layers, packed.
    fn load_layers(w: &Weights, cfg: &BertConfig) -> Result<Vec<Layer>, Error> {
        let (h, i) = (cfg.hidden, cfg.intermediate);
        let mut layers = Vec::with_capacity(cfg.layers);
        let mut buf = Vec::new();
        for l in 0..cfg.layers {
            let p = format!("encoder.layer.{l}.");
            let qkv = ["query", "key", "value"].map(|n| format!("{p}attention.self.{n}"));
            layers.push(Layer {
                // Q, K and V stacked into one (3h x h) layer: one product fills each qkv row.
                qkv: w.linear(&qkv, h, h, &mut buf)?,
                wo: w.linear(&[format!("{p}attention.output.dense")], h, h, &mut buf)?,
                ln1: (
                    w.floats(&format!("{p}attention.output.LayerNorm.weight"), &[h])?,
                    w.floats(&format!("{p}attention.output.LayerNorm.bias"), &[h])?,
                ),
                w1: w.linear(&[format!("{p}intermediate.dense")], i, h, &mut buf)?,
                w2: w.linear(&[format!("{p}output.dense")], h, i, &mut buf)?,
                ln2: (
                    w.floats(&format!("{p}output.LayerNorm.weight"), &[h])?,
                    w.floats(&format!("{p}output.LayerNorm.bias"), &[h])?,
                ),
            });
        }
        Ok(layers)
    }

    /// The encoder's shape.
    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// Runs the encoder over the sequences (token ids, each at most `max_positions` long,
    /// ids below `vocab_size`), packed one after another. Returns the final hidden states,
    /// one `hidden`-wide row per token, in the same packed order.
    pub fn forward<'s>(
        &self,
        seqs: &[&[u32]],
        scratch: &'s mut Scratch,
    ) -> Result<&'s [f32], Error> {
        let h = self.cfg.hidden;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let longest = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if longest > self.cfg.max_positions {
            return Err(Error::InvalidArgument(format!(
                "a sequence of {longest} tokens exceeds the model's {} positions",
                self.cfg.max_positions
            )));
        }
        let Scratch {
            threads,
            x,
            qkv,
            ctx,
            ff,
            scores,
        } = scratch;
        let threads = *threads;
        resize(x, total * h);
        resize(qkv, total * 3 * h);
        resize(ctx, total * h);
        resize(ff, total * self.cfg.intermediate);
        resize(scores, longest * longest);

        // Embeddings: word + position + token type 0, then layer norm.
        let mut row = 0;
        for s in seqs {
            for (p, &id) in s.iter().enumerate() {
                let id = id as usize;
                if id >= self.cfg.vocab_size {
                    return Err(Error::InvalidArgument(format!(
                        "token id {id} is outside the vocabulary"
                    )));
                }
                let dst = &mut x[row * h..(row + 1) * h];
                let (wv, pv) = (
                    &&self.word[id * h..(id + 1) * h],
                    &&self.position[p * h..(p + 1) * h],
                );
                for c in 0..h {
                    dst[c] = wv[c] + pv[c] + self.token_type0[c];
                }
                row += 1;
            }
        }
        math::layer_norm(x, &self.ln.0, &self.ln.1, self.cfg.eps);

        for layer in &self.layers {
            self.attention(layer, seqs, x, qkv, ctx, scores, threads)?;
            // Feed-forward: x = LN(x + W2 act(W1 x + b1) + b2).
            layer
                .w1
                .forward(x, total, ff, self.cfg.intermediate, threads)
                .map_err(kernel)?;
            match self.cfg.activation {
                Activation::GeluErf => math::gelu_erf(ff),
                Activation::GeluTanh => math::gelu_tanh(ff),
                Activation::Relu => math::relu(ff),
            }
            layer
                .w2
                .forward(ff, total, ctx, h, threads)
                .map_err(kernel)?;
            math::add_layer_norm(x, ctx, &layer.ln2.0, &layer.ln2.1, self.cfg.eps);
        }
        Ok(&x[..total * h])
    }

    /// Self-attention and its output block: x = LN(x + Wo attention(x) + bo).
    #[allow(
        clippy::too_many_arguments,
        reason = "the forward pass's buffers, borrowed apart"
    )]
    fn attention(
        &self,
        layer: &Layer,
        seqs: &[&[u32]],
        x: &mut [f32],
        qkv: &mut [f32],
        ctx: &mut [f32],
        scores: &mut [f32],
        threads: usize,
    ) -> Result<(), Error> {
        let h = self.cfg.hidden;
        let heads = self.cfg.heads;
        let d = h / heads;
        let total = x.len() / h;
        layer
            .qkv
            .forward(x, total, qkv, 3 * h, threads)
            .map_err(kernel)?;
        let scale = 1.0 / (d as f32).sqrt();
        let mut start = 0;
        for s in seqs {
            let n = s.len();
            let base = start * 3 * h;
            for head in 0..heads {
                let q = MatRef {
                    data: &qkv[base + head * d..],
                    rows: n,
                    cols: d,
                    row_stride: 3 * h,
                    col_stride: 1,
                };
                // K transposed: element (i, j) is key j's component i.
                let kt = MatRef {
                    data: &qkv[base + h + head * d..],
                    rows: d,
                    cols: n,
                    row_stride: 1,
                    col_stride: 3 * h,
                };
                let sc = MatMut {
                    data: &mut scores[..n * n],
                    rows: n,
                    cols: n,
                    row_stride: n,
                    col_stride: 1,
                };
                matmul(sc, q, kt, false, 1.0).map_err(kernel)?;
                for r in scores[..n * n].chunks_exact_mut(n) {
                    math::softmax_scaled(r, scale);
                }
                let v = MatRef {
                    data: &qkv[base + 2 * h + head * d..],
                    rows: n,
                    cols: d,
                    row_stride: 3 * h,
                    col_stride: 1,
                };
                let out = MatMut {
                    data: &mut ctx[start * h + head * d..],
                    rows: n,
                    cols: d,
                    row_stride: h,
                    col_stride: 1,
                };
                matmul(
                    out,
                    MatRef::row_major(&scores[..n * n], n, n),
                    v,
                    false,
                    1.0,
                )
                .map_err(kernel)?;
            }
            start += n;
        }
        // The output projection goes to qkv's first third (free now), then the residual.
        let proj = &mut qkv[..total * h];
        layer
            .wo
            .forward(ctx, total, proj, h, threads)
            .map_err(kernel)?;
        math::add_layer_norm(x, proj, &layer.ln1.0, &layer.ln1.1, self.cfg.eps);
        Ok(())
    }
}

fn resize(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

fn kernel(e: gaia_kernels::ViewError) -> Error {
    Error::Internal(e.to_string())
}
