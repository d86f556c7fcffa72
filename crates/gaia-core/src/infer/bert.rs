//! The BERT encoder: weights in memory as plain `f32` matrices (loaded through candle's
//! safetensors reader), and a forward pass over a *ragged* batch.
//!
//! The batch is never padded: the sequences' tokens are packed one after another, so the
//! dense layers run as a few large matrix products over exactly the real tokens, and
//! attention runs per sequence and head on its own rows. The output equals a padded forward
//! pass with an attention mask (what sentence-transformers runs), without the wasted work.

use candle_core::{DType, Device, Tensor};
use gaia_kernels::{matmul, MatMut, MatRef};

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
    // Weights are PyTorch `Linear` layouts (`out x in`, row-major), read transposed in place.
    /// Query, key and value projections: each fills a third of every row of the qkv buffer.
    qkv: [(W, W); 3],
    wo: W,
    bo: W,
    ln1: (W, W),
    w1: W,
    b1: W,
    w2: W,
    b2: W,
    ln2: (W, W),
}

/// A weight: a range of the file's own buffer (f32 tensors, no copy) or owned values
/// (converted dtypes, the stacked query/key/value projection).
#[derive(Debug)]
enum W {
    Shared(std::ops::Range<usize>),
    Owned(Vec<f32>),
}

/// A loaded BERT encoder. Immutable after loading: any number of threads run
/// [`Bert::forward`] on it at once, each with its own [`Scratch`].
#[derive(Debug)]
pub struct Bert {
    cfg: BertConfig,
    /// The whole `model.safetensors` file, read straight into f32 storage: f32 tensors are
    /// ranges of it (4-byte aligned in every file sentence-transformers writes).
    store: Vec<f32>,
    word: W,
    position: W,
    token_type0: Vec<f32>,
    ln: (W, W),
    layers: Vec<Layer>,
}

/// Per-call working memory of the forward pass, reused between sub-batches.
#[derive(Debug, Default)]
pub struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    ff: Vec<f32>,
    scores: Vec<f32>,
}

struct Weights<'a> {
    st: safetensors::SafeTensors<'a>,
    prefix: &'static str,
    /// Address of the file's first byte, to turn a tensor's bytes into a range of floats.
    base: usize,
}

fn w_err(reason: impl Into<String>) -> Error {
    Error::Model {
        file: "model.safetensors",
        reason: reason.into(),
    }
}

impl Weights<'_> {
    /// The tensor `name` as f32 values in its stored (row-major) order, checked to have
    /// `shape`. f32 tensors are decoded straight from the file's bytes; f16, bf16 and f64
    /// ones go through a candle tensor and its dtype conversion.
    /// The tensor as a range of the store when it is f32 at a 4-byte-aligned offset, else
    /// converted into owned values.
    fn weight(&self, name: &str, shape: &[usize]) -> Result<W, Error> {
        let full = format!("{}{name}", self.prefix);
        let view = self
            .st
            .tensor(&full)
            .map_err(|_| w_err(format!("tensor {full} is missing")))?;
        let offset = view.data().as_ptr() as usize - self.base;
        if view.dtype() == safetensors::Dtype::F32 && view.shape() == shape && offset % 4 == 0 {
            let start = offset / 4;
            return Ok(W::Shared(start..start + view.data().len() / 4));
        }
        self.floats(name, shape).map(W::Owned)
    }

    fn floats(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Error> {
        let full = format!("{}{name}", self.prefix);
        let view = self
            .st
            .tensor(&full)
            .map_err(|_| w_err(format!("tensor {full} is missing")))?;
        if view.shape() != shape {
            return Err(w_err(format!(
                "tensor {full} has shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        use safetensors::Dtype as D;
        let values: Vec<f32> = match view.dtype() {
            D::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            d @ (D::F16 | D::BF16 | D::F64) => {
                let dtype = match d {
                    D::F16 => DType::F16,
                    D::BF16 => DType::BF16,
                    _ => DType::F64,
                };
                Tensor::from_raw_buffer(view.data(), dtype, shape, &Device::Cpu)
                    .and_then(|t| t.to_dtype(DType::F32))
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(|e| w_err(format!("tensor {full}: {e}")))?
            }
            other => {
                return Err(w_err(format!(
                    "tensor {full} has dtype {other:?}; f32, f16, bf16 or f64 expected"
                )))
            }
        };
        if values.len() != shape.iter().product::<usize>() {
            return Err(w_err(format!(
                "tensor {full} holds {} values for shape {shape:?}",
                values.len()
            )));
        }
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(w_err(format!(
                "tensor {full} holds a non-finite value at {i}"
            )));
        }
        Ok(values)
    }
}

impl Bert {
    /// Loads the encoder from a `model.safetensors` file, read once into f32 storage.
    pub fn load(cfg: BertConfig, path: &std::path::Path) -> Result<Bert, Error> {
        use std::io::Read;
        let io = |op: &'static str, source: std::io::Error| Error::Io {
            path: path.display().to_string(),
            op,
            source,
        };
        let mut file = std::fs::File::open(path).map_err(|e| io("open", e))?;
        let len = file.metadata().map_err(|e| io("stat", e))?.len();
        let len = usize::try_from(len).map_err(|_| w_err("file too large"))?;
        let mut store = vec![0f32; len.div_ceil(4)];
        file.read_exact(&mut bytemuck::cast_slice_mut::<f32, u8>(&mut store)[..len])
            .map_err(|e| io("read", e))?;
        let bytes = &bytemuck::cast_slice::<f32, u8>(&store)[..len];
        let mut bert = Bert::parse(cfg, bytes)?;
        bert.store = store;
        Ok(bert)
    }

    /// Builds the encoder from the bytes of a safetensors file; `W::Shared` ranges refer to
    /// `bytes` seen as f32 (the caller stores them in `store`).
    fn parse(cfg: BertConfig, bytes: &[u8]) -> Result<Bert, Error> {
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| w_err(format!("not a safetensors file: {e}")))?;
        let names: std::collections::HashSet<&str> = st.names().into_iter().collect();
        let prefix = if names.contains("embeddings.word_embeddings.weight") {
            ""
        } else if names.contains("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            return Err(w_err(
                "no embeddings.word_embeddings.weight: not the weights of a BERT encoder",
            ));
        };
        let w = Weights {
            st,
            prefix,
            base: bytes.as_ptr() as usize,
        };
        let (h, i) = (cfg.hidden, cfg.intermediate);
        let word = w.weight("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])?;
        let position = w.weight(
            "embeddings.position_embeddings.weight",
            &[cfg.max_positions, h],
        )?;
        // The token-type table has any number of rows; only row 0 is used (single texts).
        let tt = format!("{prefix}embeddings.token_type_embeddings.weight");
        let token_type0 = match w.st.tensor(&tt) {
            Ok(view) if view.shape().len() == 2 && view.shape()[1] == h && view.shape()[0] >= 1 => {
                let rows = view.shape()[0];
                w.floats("embeddings.token_type_embeddings.weight", &[rows, h])?[..h].to_vec()
            }
            Ok(view) => return Err(w_err(format!("tensor {tt} has shape {:?}", view.shape()))),
            Err(_) => vec![0.0; h],
        };
        let ln = (
            w.weight("embeddings.LayerNorm.weight", &[h])?,
            w.weight("embeddings.LayerNorm.bias", &[h])?,
        );
        let mut layers = Vec::with_capacity(cfg.layers);
        for l in 0..cfg.layers {
            let p = format!("encoder.layer.{l}.");
            let proj = |name: &str| -> Result<(W, W), Error> {
                Ok((
                    w.weight(&format!("{p}attention.self.{name}.weight"), &[h, h])?,
                    w.weight(&format!("{p}attention.self.{name}.bias"), &[h])?,
                ))
            };
            let qkv = [proj("query")?, proj("key")?, proj("value")?];
            layers.push(Layer {
                qkv,
                wo: w.weight(&format!("{p}attention.output.dense.weight"), &[h, h])?,
                bo: w.weight(&format!("{p}attention.output.dense.bias"), &[h])?,
                ln1: (
                    w.weight(&format!("{p}attention.output.LayerNorm.weight"), &[h])?,
                    w.weight(&format!("{p}attention.output.LayerNorm.bias"), &[h])?,
                ),
                w1: w.weight(&format!("{p}intermediate.dense.weight"), &[i, h])?,
                b1: w.weight(&format!("{p}intermediate.dense.bias"), &[i])?,
                w2: w.weight(&format!("{p}output.dense.weight"), &[h, i])?,
                b2: w.weight(&format!("{p}output.dense.bias"), &[h])?,
                ln2: (
                    w.weight(&format!("{p}output.LayerNorm.weight"), &[h])?,
                    w.weight(&format!("{p}output.LayerNorm.bias"), &[h])?,
                ),
            });
        }
        Ok(Bert {
            cfg,
            store: Vec::new(),
            word,
            position,
            token_type0,
            ln,
            layers,
        })
    }

    fn get<'a>(&'a self, w: &'a W) -> &'a [f32] {
        match w {
            W::Shared(r) => &self.store[r.clone()],
            W::Owned(v) => v,
        }
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
            x,
            qkv,
            ctx,
            ff,
            scores,
        } = scratch;
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
                    &self.get(&self.word)[id * h..(id + 1) * h],
                    &self.get(&self.position)[p * h..(p + 1) * h],
                );
                for c in 0..h {
                    dst[c] = wv[c] + pv[c] + self.token_type0[c];
                }
                row += 1;
            }
        }
        math::layer_norm(x, self.get(&self.ln.0), self.get(&self.ln.1), self.cfg.eps);

        for layer in &self.layers {
            self.attention(layer, seqs, x, qkv, ctx, scores)?;
            // Feed-forward: x = LN(x + W2 act(W1 x + b1) + b2).
            linear(ff, x, total, h, self.get(&layer.w1), self.get(&layer.b1))?;
            match self.cfg.activation {
                Activation::GeluErf => math::gelu_erf(ff),
                Activation::GeluTanh => math::gelu_tanh(ff),
                Activation::Relu => math::relu(ff),
            }
            linear(
                ctx,
                ff,
                total,
                self.cfg.intermediate,
                self.get(&layer.w2),
                self.get(&layer.b2),
            )?;
            math::add_layer_norm(
                x,
                ctx,
                self.get(&layer.ln2.0),
                self.get(&layer.ln2.1),
                self.cfg.eps,
            );
        }
        Ok(&x[..total * h])
    }

    /// Self-attention and its output block: x = LN(x + Wo attention(x) + bo).
    fn attention(
        &self,
        layer: &Layer,
        seqs: &[&[u32]],
        x: &mut [f32],
        qkv: &mut [f32],
        ctx: &mut [f32],
        scores: &mut [f32],
    ) -> Result<(), Error> {
        let h = self.cfg.hidden;
        let heads = self.cfg.heads;
        let d = h / heads;
        let total = x.len() / h;
        // Three products, each writing its third of every qkv row (row stride 3h).
        for (k, (w, b)) in layer.qkv.iter().enumerate() {
            linear_strided(
                &mut qkv[k * h..],
                3 * h,
                x,
                total,
                h,
                self.get(w),
                self.get(b),
            )?;
        }
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
        linear(
            proj,
            ctx,
            total,
            h,
            self.get(&layer.wo),
            self.get(&layer.bo),
        )?;
        math::add_layer_norm(
            x,
            proj,
            self.get(&layer.ln1.0),
            self.get(&layer.ln1.1),
            self.cfg.eps,
        );
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

/// `out[:rows, :] = input[:rows, :in_dim] W^T + b`, W a PyTorch `Linear` weight
/// (`out_dim x in_dim`, row-major), read transposed in place.
fn linear(
    out: &mut [f32],
    input: &[f32],
    rows: usize,
    in_dim: usize,
    w: &[f32],
    b: &[f32],
) -> Result<(), Error> {
    linear_strided(out, b.len(), input, rows, in_dim, w, b)
}

/// [`linear`] writing rows `out_stride` apart (so several projections can fill one buffer
/// side by side).
fn linear_strided(
    out: &mut [f32],
    out_stride: usize,
    input: &[f32],
    rows: usize,
    in_dim: usize,
    w: &[f32],
    b: &[f32],
) -> Result<(), Error> {
    let out_dim = b.len();
    if rows == 0 {
        return Ok(());
    }
    let span = (rows - 1) * out_stride + out_dim;
    if out.len() < span {
        return Err(Error::Internal(format!(
            "linear: output of {} floats, {span} needed",
            out.len()
        )));
    }
    let out = &mut out[..span];
    for r in 0..rows {
        out[r * out_stride..r * out_stride + out_dim].copy_from_slice(b);
    }
    matmul(
        MatMut {
            data: out,
            rows,
            cols: out_dim,
            row_stride: out_stride,
        },
        MatRef::row_major(&input[..rows * in_dim], rows, in_dim),
        MatRef {
            data: w,
            rows: in_dim,
            cols: out_dim,
            row_stride: 1,
            col_stride: in_dim,
        },
        true,
        1.0,
    )
    .map_err(kernel)
}
