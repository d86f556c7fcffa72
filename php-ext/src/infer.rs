//! `Gaia\Embedder` and `Gaia\VectorIndex`, straight on `gaia_core::infer` (the same
//! methods, results and exceptions as bindings/php over FFI).

use ext_php_rs::binary::Binary;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use gaia_core::infer::similarity::{self, Kind};
use gaia_core::infer::{Embedder as CoreEmbedder, EmbedderOptions, Index, IndexOptions};

use super::{bytes_of, encode, exception, fail, text, JSON_ENCODE_FLAGS};

/// The raw bytes of every element of a PHP list of strings.
fn texts(value: &Zval) -> PhpResult<Vec<&[u8]>> {
    let arr = value
        .array()
        .ok_or_else(|| exception("texts must be an array of strings".into(), 9))?;
    arr.values()
        .enumerate()
        .map(|(i, v)| {
            v.zend_str()
                .map(|s| s.as_bytes())
                .ok_or_else(|| exception(format!("text {i} is not a string"), 9))
        })
        .collect()
}

/// A PHP list of float lists, flattened, each row checked to have `dim` values (the
/// first row's length when `dim` is None).
fn rows(value: &Zval, dim: Option<usize>, what: &str) -> PhpResult<(Vec<f32>, usize, usize)> {
    let arr = value
        .array()
        .ok_or_else(|| exception(format!("{what} must be an array of vectors"), 9))?;
    let mut flat = Vec::new();
    let mut width = dim;
    let mut n = 0;
    for (i, row) in arr.values().enumerate() {
        let r = row
            .array()
            .ok_or_else(|| exception(format!("{what}: row {i} is not an array"), 9))?;
        let w = *width.get_or_insert(r.len());
        if r.len() != w {
            return Err(exception(
                format!("{what}: row {i} has {} dimensions, expected {w}", r.len()),
                9,
            ));
        }
        for v in r.values() {
            let f = v
                .double()
                .or_else(|| v.long().map(|l| l as f64))
                .ok_or_else(|| exception(format!("{what}: row {i} holds a non-number"), 9))?;
            flat.push(f as f32);
        }
        n += 1;
    }
    Ok((flat, n, width.unwrap_or(0)))
}

fn vector(value: &Zval, dim: usize, what: &str) -> PhpResult<Vec<f32>> {
    let arr = value
        .array()
        .ok_or_else(|| exception(format!("{what} must be an array of numbers"), 9))?;
    if arr.len() != dim {
        return Err(exception(
            format!("{what}: row 0 has {} dimensions, expected {dim}", arr.len()),
            9,
        ));
    }
    arr.values()
        .map(|v| {
            v.double()
                .or_else(|| v.long().map(|l| l as f64))
                .map(|f| f as f32)
                .ok_or_else(|| exception(format!("{what}: row 0 holds a non-number"), 9))
        })
        .collect()
}

fn options_json(value: Option<&Zval>, what: &str) -> PhpResult<Option<String>> {
    match value.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) if v.is_array() => {
            if v.array().is_some_and(|a| a.is_empty()) {
                Ok(None)
            } else {
                encode(v, JSON_ENCODE_FLAGS, what).map(Some)
            }
        }
        Some(v) if v.is_string() => Ok(Some(text(v, "options_json")?.to_owned())),
        Some(_) => Err(exception(
            format!("{what} must be an array or a JSON string"),
            7,
        )),
    }
}

/// Sentence embeddings in-process: the same vectors as sentence-transformers. The loaded
/// model stays in the PHP worker across requests (the library's per-process cache).
#[php_class]
#[php(name = "Gaia\\Embedder")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
#[derive(Debug)]
pub struct Embedder {
    inner: CoreEmbedder,
}

#[php_impl]
impl Embedder {
    /// Opens the model folder (config.json, tokenizer.json, model.safetensors).
    pub fn __construct(model_dir: &Zval, options: Option<&Zval>) -> PhpResult<Self> {
        let dir = text(model_dir, "model_dir")?;
        let opts = match options_json(options, "embedder options")? {
            None => EmbedderOptions::default(),
            Some(json) => {
                EmbedderOptions::from_json(&json).map_err(|e| exception(e.to_string(), 7))?
            }
        };
        Ok(Embedder {
            inner: CoreEmbedder::open(dir, &opts).map_err(fail)?,
        })
    }

    /// The embedding dimension.
    pub fn dim(&self) -> i64 {
        self.inner.dim() as i64
    }

    /// Facts about the model as an array.
    pub fn info(&self) -> PhpResult<Zval> {
        let info = self.inner.info().map_err(fail)?;
        super::decode(&serde_json::to_string(&info).map_err(|e| exception(e.to_string(), 3))?)
    }

    /// One vector per text, in input order.
    #[php(defaults(normalize = true))]
    pub fn embed(&self, texts: &Zval, normalize: bool) -> PhpResult<Vec<Vec<f64>>> {
        let out = self.run(texts, normalize)?;
        Ok(out
            .chunks_exact(self.inner.dim())
            .map(|r| r.iter().map(|&x| f64::from(x)).collect())
            .collect())
    }

    /// The vectors as little-endian float32 bytes (count x dim x 4).
    #[php(defaults(normalize = true))]
    pub fn embed_packed(&self, texts: &Zval, normalize: bool) -> PhpResult<Binary<u8>> {
        let out = self.run(texts, normalize)?;
        Ok(Binary::from(
            out.iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>(),
        ))
    }

    /// Each text's token count before truncation.
    pub fn count_tokens(&self, texts: &Zval) -> PhpResult<Vec<i64>> {
        let t = self::texts(texts)?;
        if t.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .inner
            .count_tokens(&t)
            .map_err(fail)?
            .into_iter()
            .map(|c| c as i64)
            .collect())
    }

    /// The token ids the model sees for a text.
    pub fn tokenize(&self, text: &Zval) -> PhpResult<Vec<i64>> {
        let b = bytes_of(text, "text")?;
        Ok(self
            .inner
            .token_ids(b)
            .map_err(fail)?
            .into_iter()
            .map(i64::from)
            .collect())
    }

    /// Similarities of every row of a with every row of b.
    #[php(defaults(metric = "cosine".to_string()))]
    pub fn similarity(a: &Zval, b: &Zval, metric: String) -> PhpResult<Vec<Vec<f64>>> {
        let kind = match metric.as_str() {
            "cosine" => Kind::Cosine,
            "dot" => Kind::Dot,
            m => {
                return Err(exception(
                    format!("unknown metric \"{m}\" (cosine, dot)"),
                    9,
                ))
            }
        };
        let (fa, na, dim) = rows(a, None, "a")?;
        let (fb, nb, _) = rows(b, Some(dim), "b")?;
        let mut out = vec![0.0f32; na * nb];
        similarity::matrix(kind, &fa, &fb, dim, &mut out).map_err(fail)?;
        if nb == 0 {
            return Ok(vec![Vec::new(); na]);
        }
        Ok(out
            .chunks_exact(nb)
            .map(|r| r.iter().map(|&x| f64::from(x)).collect())
            .collect())
    }
}

impl Embedder {
    fn run(&self, texts: &Zval, normalize: bool) -> PhpResult<Vec<f32>> {
        let t = self::texts(texts)?;
        let mut out = vec![0.0f32; t.len() * self.inner.dim()];
        self.inner.embed(&t, normalize, &mut out).map_err(fail)?;
        Ok(out)
    }
}

/// An in-memory vector index with integer ids: top-k by cosine or dot product.
#[php_class]
#[php(name = "Gaia\\VectorIndex")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
#[derive(Debug)]
pub struct VectorIndex {
    inner: Index,
}

fn index_options(json: &str) -> PhpResult<IndexOptions> {
    IndexOptions::from_json(json).map_err(|e| match e {
        gaia_core::infer::Error::Options {
            field: "index options",
            ..
        } => exception(e.to_string(), 7),
        e => fail(e),
    })
}

fn ids(value: &Zval) -> PhpResult<Vec<u64>> {
    let arr = value
        .array()
        .ok_or_else(|| exception("ids must be an array of integers".into(), 9))?;
    arr.values()
        .enumerate()
        .map(|(i, v)| {
            v.long()
                .filter(|&l| l >= 0)
                .map(|l| l as u64)
                .ok_or_else(|| exception(format!("id {i} must be a non-negative integer"), 9))
        })
        .collect()
}

#[php_impl]
impl VectorIndex {
    /// Creates an empty index from options (['dim' => 384, ...]) or their JSON.
    pub fn __construct(options: &Zval) -> PhpResult<Self> {
        let json = options_json(Some(options), "index options")?.unwrap_or_else(|| "{}".into());
        Ok(VectorIndex {
            inner: Index::new(index_options(&json)?).map_err(fail)?,
        })
    }

    /// Reads a file written by save(); expected_dim 0 accepts any dimension.
    #[php(defaults(expected_dim = 0))]
    pub fn load(path: &Zval, expected_dim: i64) -> PhpResult<Self> {
        let p = text(path, "path")?;
        let want = usize::try_from(expected_dim).ok().filter(|&d| d > 0);
        Ok(VectorIndex {
            inner: Index::load(p, want).map_err(fail)?,
        })
    }

    /// Writes the index to path atomically.
    pub fn save(&self, path: &Zval) -> PhpResult<()> {
        self.inner.save(text(path, "path")?).map_err(fail)
    }

    /// The vector dimension.
    pub fn dim(&self) -> i64 {
        self.inner.dim() as i64
    }

    /// Number of vectors.
    pub fn count(&self) -> i64 {
        self.inner.len() as i64
    }

    /// Adds vectors with their ids; all or nothing.
    pub fn add(&mut self, ids: &Zval, vectors: &Zval) -> PhpResult<()> {
        let ids = self::ids(ids)?;
        let (flat, n, _) = rows(vectors, Some(self.inner.dim()), "add")?;
        if n != ids.len() {
            return Err(exception(
                format!("add: {} ids but {n} vectors", ids.len()),
                9,
            ));
        }
        self.inner.add(&ids, &flat).map_err(fail)
    }

    /// Removes vectors by id; all or nothing.
    /// How many threads one search may scan with (1 to 256); results are identical.
    pub fn set_threads(&mut self, threads: i64) -> PhpResult<()> {
        let t = usize::try_from(threads)
            .map_err(|_| exception(format!("index threads: {threads} is outside 1..=256"), 9))?;
        self.inner.set_threads(t).map_err(fail)
    }

    pub fn remove(&mut self, ids: &Zval) -> PhpResult<()> {
        let ids = self::ids(ids)?;
        self.inner.remove(&ids).map_err(fail)
    }

    /// The k nearest vectors, best first: [['id' => int, 'score' => float], ...].
    #[php(defaults(k = 10))]
    pub fn search(&self, query: &Zval, k: i64) -> PhpResult<Zval> {
        let q = vector(query, self.inner.dim(), "query")?;
        let k = usize::try_from(k)
            .ok()
            .filter(|&k| k > 0)
            .ok_or_else(|| exception("search: k must be at least 1".into(), 9))?;
        let hits = self.inner.search(&q, k).map_err(fail)?;
        super::decode(&serde_json::to_string(&hits).map_err(|e| exception(e.to_string(), 3))?)
    }

    /// search() for several queries at once.
    #[php(defaults(k = 10))]
    pub fn search_batch(&self, queries: &Zval, k: i64) -> PhpResult<Zval> {
        let (flat, n, _) = rows(queries, Some(self.inner.dim()), "query")?;
        let k = usize::try_from(k)
            .ok()
            .filter(|&k| k > 0)
            .ok_or_else(|| exception("search: k must be at least 1".into(), 9))?;
        if n == 0 {
            return super::decode("[]");
        }
        let hits = self.inner.search_batch(&flat, k).map_err(fail)?;
        super::decode(&serde_json::to_string(&hits).map_err(|e| exception(e.to_string(), 3))?)
    }
}
