//! An in-memory vector index: exact top-k search by cosine or dot product over `f32`,
//! `f16` or `int8` rows (the compressed ones scanned first, then the best candidates
//! rescored exactly), batch queries as matrix products, and a checksummed file format.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use gaia_kernels::{dot, dot_f16, dot_i8, f16_to_f32, matmul, MatMut, MatRef};
use serde::{Deserialize, Serialize};

use super::similarity::normalize;
use super::Error;
use crate::checksum::crc32;

/// The index file format version this library writes (and the newest it reads).
pub const INDEX_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"GAIAVIDX";

/// Similarity used for ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity (vectors are normalised when added; queries when searched).
    Cosine,
    /// Dot product of the vectors as given.
    Dot,
}

/// How rows are stored for the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// 4 bytes per dimension, exact.
    F32,
    /// 2 bytes per dimension (IEEE half).
    F16,
    /// 1 byte per dimension plus a scale per row (symmetric per-row quantisation).
    Int8,
}

/// Options of a new [`Index`]; JSON `{"dim": 384, "metric": "cosine", "storage": "int8",
/// "rescore": true, "oversample": 4}` through the C ABI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexOptions {
    /// Vector dimension (1 to 65,536).
    pub dim: usize,
    /// Ranking similarity (default cosine).
    pub metric: Metric,
    /// Row storage (default f32).
    pub storage: Storage,
    /// With f16/int8 storage: keep the f32 rows too and rescore the best `k * oversample`
    /// candidates exactly (default true). Without, scores are the compressed ones.
    pub rescore: bool,
    /// Candidates per wanted result when rescoring (1 to 64, default 4).
    pub oversample: usize,
    /// Threads one search may scan with (1 to 256, default 1). A single query over a large
    /// index is bound by memory bandwidth, which several cores share out better than one;
    /// indexes under 2^18 numbers are always scanned on the calling thread.
    pub threads: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            dim: 0,
            metric: Metric::Cosine,
            storage: Storage::F32,
            rescore: true,
            oversample: 4,
            threads: 1,
        }
    }
}

impl IndexOptions {
    /// Parses options from JSON.
    pub fn from_json(text: &str) -> Result<IndexOptions, Error> {
        let o: IndexOptions = serde_json::from_str(text).map_err(|e| Error::Options {
            field: "index options",
            reason: e.to_string(),
        })?;
        o.validate()?;
        Ok(o)
    }

    fn validate(&self) -> Result<(), Error> {
        if !(1..=65_536).contains(&self.dim) {
            return Err(Error::Options {
                field: "index option dim",
                reason: format!("{} is outside 1..=65536", self.dim),
            });
        }
        if !(1..=256).contains(&self.threads) {
            return Err(Error::Options {
                field: "index option threads",
                reason: format!("{} is outside 1..=256", self.threads),
            });
        }
        if !(1..=64).contains(&self.oversample) {
            return Err(Error::Options {
                field: "index option oversample",
                reason: format!("{} is outside 1..=64", self.oversample),
            });
        }
        Ok(())
    }

    fn keeps_f32(&self) -> bool {
        self.storage == Storage::F32 || self.rescore
    }
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    /// The vector's id.
    pub id: u64,
    /// Its similarity to the query.
    pub score: f32,
}

/// A vector index. Searches take `&self`: share it across threads behind an `RwLock`
/// (or `Arc` when it no longer changes).
#[derive(Debug, Clone)]
pub struct Index {
    opts: IndexOptions,
    ids: Vec<u64>,
    pos: HashMap<u64, usize>,
    full: Vec<f32>,
    half: Vec<u16>,
    quant: Vec<i8>,
    scales: Vec<f32>,
}

/// Numbers (rows x dim) from which a search splits its scan over `threads`.
const PARALLEL_SCAN_MIN: usize = 1 << 18;

/// A candidate in the top-k heap: ordered so the heap's top is the *worst* kept result.
#[derive(Debug, Clone, Copy)]
struct Cand {
    score: f32,
    row: usize,
    id: u64,
}

impl PartialEq for Cand {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    /// Better = higher score, then lower id; the heap keeps the worst on top.
    fn cmp(&self, o: &Self) -> Ordering {
        o.score.total_cmp(&self.score).then(self.id.cmp(&o.id))
    }
}

struct TopK {
    k: usize,
    heap: BinaryHeap<Cand>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }
    #[inline]
    fn push(&mut self, c: Cand) {
        if self.heap.len() < self.k {
            self.heap.push(c);
        } else if let Some(worst) = self.heap.peek() {
            if c < *worst {
                self.heap.pop();
                self.heap.push(c);
            }
        }
    }
    fn merge(&mut self, other: TopK) {
        for c in other.heap {
            self.push(c);
        }
    }
    fn sorted(self) -> Vec<Cand> {
        let mut v = self.heap.into_vec();
        v.sort();
        v
    }
}

fn f32_to_f16(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}

fn quantize(v: &[f32], out: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    out.extend(
        v.iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
    );
    scale
}

impl Index {
    /// An empty index.
    pub fn new(opts: IndexOptions) -> Result<Index, Error> {
        opts.validate()?;
        Ok(Index {
            opts,
            ids: Vec::new(),
            pos: HashMap::new(),
            full: Vec::new(),
            half: Vec::new(),
            quant: Vec::new(),
            scales: Vec::new(),
        })
    }

    /// The options.
    pub fn options(&self) -> &IndexOptions {
        &self.opts
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.opts.dim
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the index holds no vector.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether `id` is in the index.
    pub fn contains(&self, id: u64) -> bool {
        self.pos.contains_key(&id)
    }

    fn check_vectors(&self, what: &'static str, v: &[f32], count: usize) -> Result<(), Error> {
        let dim = self.opts.dim;
        if v.len() != count * dim {
            return Err(Error::Dimension {
                what,
                expected: dim,
                got: v.len().checked_div(count).unwrap_or(v.len()),
            });
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "{what}: vector {} holds a non-finite value (element {})",
                i / dim,
                i % dim
            )));
        }
        Ok(())
    }

    /// Adds `ids.len()` vectors (`vectors` holds them row after row). All or nothing: an
    /// id already present or repeated, a wrong length or a NaN changes nothing.
    pub fn add(&mut self, ids: &[u64], vectors: &[f32]) -> Result<(), Error> {
        self.check_vectors("add", vectors, ids.len())?;
        let mut seen = HashSet::with_capacity(ids.len());
        for &id in ids {
            if self.pos.contains_key(&id) || !seen.insert(id) {
                return Err(Error::Id {
                    id,
                    problem: "is already in the index",
                });
            }
        }
        let dim = self.opts.dim;
        let mut row = vec![0.0; dim];
        for (k, &id) in ids.iter().enumerate() {
            row.copy_from_slice(&vectors[k * dim..(k + 1) * dim]);
            if self.opts.metric == Metric::Cosine {
                normalize(&mut row);
            }
            if self.opts.keeps_f32() {
                self.full.extend_from_slice(&row);
            }
            match self.opts.storage {
                Storage::F32 => {}
                Storage::F16 => self.half.extend(row.iter().map(|&x| f32_to_f16(x))),
                Storage::Int8 => {
                    let s = quantize(&row, &mut self.quant);
                    self.scales.push(s);
                }
            }
            self.pos.insert(id, self.ids.len());
            self.ids.push(id);
        }
        Ok(())
    }

    /// Removes vectors by id; all or nothing (an unknown id changes nothing). The last row
    /// moves into each freed slot.
    pub fn remove(&mut self, ids: &[u64]) -> Result<(), Error> {
        let mut seen = HashSet::with_capacity(ids.len());
        for &id in ids {
            if !self.pos.contains_key(&id) || !seen.insert(id) {
                return Err(Error::Id {
                    id,
                    problem: "is not in the index",
                });
            }
        }
        let dim = self.opts.dim;
        for &id in ids {
            let Some(r) = self.pos.remove(&id) else {
                continue;
            };
            let last = self.ids.len() - 1;
            fn move_row<T: Copy>(v: &mut Vec<T>, r: usize, last: usize, w: usize) {
                if v.is_empty() {
                    return;
                }
                if r != last {
                    v.copy_within(last * w..(last + 1) * w, r * w);
                }
                v.truncate(last * w);
            }
            move_row(&mut self.full, r, last, dim);
            move_row(&mut self.half, r, last, dim);
            move_row(&mut self.quant, r, last, dim);
            move_row(&mut self.scales, r, last, 1);
            self.ids.swap_remove(r);
            if r != last {
                self.pos.insert(self.ids[r], r);
            }
        }
        Ok(())
    }

    fn prepared_query(&self, q: &[f32]) -> Vec<f32> {
        let mut q = q.to_vec();
        if self.opts.metric == Metric::Cosine {
            normalize(&mut q);
        }
        q
    }

    /// Sets how many threads one search may scan with (1 to 256); results do not change.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), Error> {
        if !(1..=256).contains(&threads) {
            return Err(Error::InvalidArgument(format!(
                "index threads: {threads} is outside 1..=256"
            )));
        }
        self.opts.threads = threads;
        Ok(())
    }

    /// The `k` most similar vectors to `query`, best first (ties by lower id).
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>, Error> {
        self.check_vectors("query", query, 1)?;
        if k == 0 {
            return Err(Error::InvalidArgument(
                "search: k must be at least 1".into(),
            ));
        }
        let q = self.prepared_query(query);
        Ok(self.search_prepared(&q, k))
    }

    fn search_prepared(&self, q: &[f32], k: usize) -> Vec<Hit> {
        let dim = self.opts.dim;
        let n = self.ids.len();
        let wanted = self.wanted(k);
        let keep = wanted.min(n.max(1));
        // int8: the query quantised once, shared by every part of the scan.
        let mut qq = Vec::new();
        let qs = if self.opts.storage == Storage::Int8 {
            quantize(q, &mut qq)
        } else {
            1.0
        };
        let parts = if n * dim < PARALLEL_SCAN_MIN {
            1
        } else {
            self.opts.threads.min(n)
        };
        let top = if parts <= 1 {
            self.scan(q, &qq, qs, 0..n, keep)
        } else {
            let per = n.div_ceil(parts);
            std::thread::scope(|sc| {
                let handles: Vec<_> = (1..parts)
                    .map(|p| {
                        let (qq, range) = (&qq, p * per..((p + 1) * per).min(n));
                        sc.spawn(move || self.scan(q, qq, qs, range, keep))
                    })
                    .collect();
                let mut top = self.scan(q, &qq, qs, 0..per.min(n), keep);
                for h in handles {
                    match h.join() {
                        Ok(t) => top.merge(t),
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
                top
            })
        };
        self.finish(q, top, k, wanted)
    }

    /// How many first-pass candidates a top-`k` search keeps: `k`, or `k * oversample`
    /// when compressed rows are rescored exactly.
    fn wanted(&self, k: usize) -> usize {
        if self.opts.storage != Storage::F32 && self.opts.rescore {
            k.saturating_mul(self.opts.oversample)
        } else {
            k
        }
    }

    /// The final hits of one query from its first-pass candidates: rescored exactly from
    /// the kept f32 rows when more than `k` were wanted.
    fn finish(&self, q: &[f32], top: TopK, k: usize, wanted: usize) -> Vec<Hit> {
        let dim = self.opts.dim;
        let cands = top.sorted();
        let cands = if wanted != k {
            let mut re = TopK::new(k);
            for c in cands {
                re.push(Cand {
                    score: dot(q, &self.full[c.row * dim..(c.row + 1) * dim]),
                    ..c
                });
            }
            re.sorted()
        } else {
            cands
        };
        cands
            .into_iter()
            .take(k)
            .map(|c| Hit {
                id: c.id,
                score: c.score,
            })
            .collect()
    }

    /// The best `keep` rows of `rows` by the first-pass score of the storage.
    fn scan(&self, q: &[f32], qq: &[i8], qs: f32, rows: Range<usize>, keep: usize) -> TopK {
        let dim = self.opts.dim;
        let mut top = TopK::new(keep);
        let first = rows.start;
        let span = rows.start * dim..rows.end * dim;
        match self.opts.storage {
            Storage::F32 => {
                for (i, v) in self.full[span].chunks_exact(dim).enumerate() {
                    let row = first + i;
                    top.push(Cand {
                        score: dot(q, v),
                        row,
                        id: self.ids[row],
                    });
                }
            }
            Storage::F16 => {
                for (i, v) in self.half[span].chunks_exact(dim).enumerate() {
                    let row = first + i;
                    top.push(Cand {
                        score: dot_f16(q, v),
                        row,
                        id: self.ids[row],
                    });
                }
            }
            Storage::Int8 => {
                for (i, v) in self.quant[span].chunks_exact(dim).enumerate() {
                    let row = first + i;
                    top.push(Cand {
                        score: dot_i8(qq, v) as f32 * qs * self.scales[row],
                        row,
                        id: self.ids[row],
                    });
                }
            }
        }
        top
    }

    /// Top-`k` for each of `queries.len() / dim` queries. From 4 queries on, the scores
    /// come from matrix products over blocks of rows (compressed rows widened to f32 a
    /// block at a time), much faster than one query at a time. The hits equal
    /// [`Index::search`]'s; without rescoring, int8 rows are scored against the
    /// unquantised query here (a little more accurate than the one-query int8 pass).
    pub fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Hit>>, Error> {
        let dim = self.opts.dim;
        if queries.is_empty() || !queries.len().is_multiple_of(dim) {
            return Err(Error::Dimension {
                what: "queries",
                expected: dim,
                got: queries.len() % dim,
            });
        }
        let nq = queries.len() / dim;
        self.check_vectors("queries", queries, nq)?;
        if k == 0 {
            return Err(Error::InvalidArgument(
                "search: k must be at least 1".into(),
            ));
        }
        let mut qs = Vec::with_capacity(queries.len());
        for q in queries.chunks_exact(dim) {
            qs.extend(self.prepared_query(q));
        }
        if nq < 4 {
            return Ok(qs
                .chunks_exact(dim)
                .map(|q| self.search_prepared(q, k))
                .collect());
        }
        let n = self.ids.len();
        let wanted = self.wanted(k);
        let mut tops: Vec<TopK> = (0..nq).map(|_| TopK::new(wanted.min(n.max(1)))).collect();
        const BLOCK: usize = 1024;
        let mut scores = vec![0.0f32; nq * BLOCK];
        // Compressed rows are widened a block at a time (f16 exactly, int8 times its row's
        // scale), so every storage scores the batch with the same matrix products.
        let mut wide = Vec::new();
        let mut start = 0;
        while start < n {
            let rows = BLOCK.min(n - start);
            let span = start * dim..(start + rows) * dim;
            let block: &[f32] = match self.opts.storage {
                Storage::F32 => &self.full[span],
                Storage::F16 => {
                    wide.clear();
                    wide.extend(self.half[span].iter().map(|&h| f16_to_f32(h)));
                    &wide
                }
                Storage::Int8 => {
                    wide.clear();
                    for (r, row) in self.quant[span].chunks_exact(dim).enumerate() {
                        let scale = self.scales[start + r];
                        wide.extend(row.iter().map(|&v| v as f32 * scale));
                    }
                    &wide
                }
            };
            let bt = MatRef {
                data: block,
                rows: dim,
                cols: rows,
                row_stride: 1,
                col_stride: dim,
            };
            matmul(
                MatMut {
                    data: &mut scores[..nq * rows],
                    rows: nq,
                    cols: rows,
                    row_stride: rows,
                    col_stride: 1,
                },
                MatRef::row_major(&qs, nq, dim),
                bt,
                false,
                1.0,
            )
            .map_err(|e| Error::Internal(e.to_string()))?;
            for (qi, top) in tops.iter_mut().enumerate() {
                for (j, &s) in scores[qi * rows..(qi + 1) * rows].iter().enumerate() {
                    top.push(Cand {
                        score: s,
                        row: start + j,
                        id: self.ids[start + j],
                    });
                }
            }
            start += rows;
        }
        Ok(tops
            .into_iter()
            .zip(qs.chunks_exact(dim))
            .map(|(top, q)| self.finish(q, top, k, wanted))
            .collect())
    }

    /// Writes the index to `path` atomically (a temporary file renamed over it).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let mut buf = Vec::with_capacity(64 + self.ids.len() * (8 + self.opts.dim * 4));
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&INDEX_VERSION.to_le_bytes());
        buf.extend_from_slice(&(self.opts.dim as u32).to_le_bytes());
        buf.push(match self.opts.metric {
            Metric::Cosine => 0,
            Metric::Dot => 1,
        });
        buf.push(match self.opts.storage {
            Storage::F32 => 0,
            Storage::F16 => 1,
            Storage::Int8 => 2,
        });
        buf.push(self.opts.rescore as u8);
        buf.push(0);
        buf.extend_from_slice(&(self.opts.oversample as u32).to_le_bytes());
        buf.extend_from_slice(&(self.ids.len() as u64).to_le_bytes());
        for id in &self.ids {
            buf.extend_from_slice(&id.to_le_bytes());
        }
        for x in &self.full {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        for x in &self.half {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        buf.extend(self.quant.iter().map(|&x| x as u8));
        for x in &self.scales {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        let crc = crc32(&buf);
        buf.extend_from_slice(&crc.to_le_bytes());

        let io = |op: &'static str, source: std::io::Error| Error::Io {
            path: path.display().to_string(),
            op,
            source,
        };
        let tmp = path.with_extension("gaia-tmp");
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        f.write_all(&buf).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("fsync", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io("rename", e))
    }

    /// Reads an index file; `expected_dim` (when given) must match the file's dimension.
    pub fn load(path: impl AsRef<Path>, expected_dim: Option<usize>) -> Result<Index, Error> {
        let path = path.as_ref();
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::MissingFile {
                path: p.clone(),
                hint: " (the index file)",
            },
            _ => Error::Io {
                path: p.clone(),
                op: "read",
                source,
            },
        })?;
        let bad = |reason: &str| Error::IndexFile {
            path: p.clone(),
            reason: reason.to_string(),
        };
        if bytes.len() < 36 || &bytes[..8] != MAGIC {
            return Err(bad("not a Gaia index file (bad magic or too short)"));
        }
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let version = u32_at(8);
        if version > INDEX_VERSION || version == 0 {
            return Err(Error::IndexVersion {
                path: p.clone(),
                found: version,
                supported: INDEX_VERSION,
            });
        }
        let body = bytes.len() - 4;
        if crc32(&bytes[..body]) != u32_at(body) {
            return Err(bad("checksum mismatch (truncated or modified)"));
        }
        let dim = u32_at(12) as usize;
        let metric = match bytes[16] {
            0 => Metric::Cosine,
            1 => Metric::Dot,
            _ => return Err(bad("unknown metric")),
        };
        let storage = match bytes[17] {
            0 => Storage::F32,
            1 => Storage::F16,
            2 => Storage::Int8,
            _ => return Err(bad("unknown storage")),
        };
        let opts = IndexOptions {
            dim,
            metric,
            storage,
            rescore: bytes[18] != 0,
            oversample: u32_at(20) as usize,
            // A run-time setting, not part of the file: see `set_threads`.
            threads: 1,
        };
        opts.validate().map_err(|e| bad(&e.to_string()))?;
        if let Some(want) = expected_dim {
            if want != dim {
                return Err(Error::Dimension {
                    what: "index file",
                    expected: want,
                    got: dim,
                });
            }
        }
        let count = u64::from_le_bytes(bytes[24..32].try_into().map_err(|_| bad("header"))?);
        let count = usize::try_from(count).map_err(|_| bad("count too large"))?;
        let row = |w: usize| count.checked_mul(dim).and_then(|x| x.checked_mul(w));
        let sizes = [
            count.checked_mul(8),
            if opts.keeps_f32() { row(4) } else { Some(0) },
            if storage == Storage::F16 {
                row(2)
            } else {
                Some(0)
            },
            if storage == Storage::Int8 {
                row(1)
            } else {
                Some(0)
            },
            if storage == Storage::Int8 {
                count.checked_mul(4)
            } else {
                Some(0)
            },
        ];
        let mut total = 32usize;
        for s in sizes {
            total = s
                .and_then(|s| total.checked_add(s))
                .ok_or_else(|| bad("sizes overflow"))?;
        }
        if total != body {
            return Err(bad(&format!(
                "{} bytes of data where the header implies {}",
                body, total
            )));
        }
        let mut idx = Index::new(opts)?;
        let mut o = 32;
        for _ in 0..count {
            let id = u64::from_le_bytes(bytes[o..o + 8].try_into().map_err(|_| bad("ids"))?);
            if idx.pos.insert(id, idx.ids.len()).is_some() {
                return Err(bad(&format!("id {id} appears twice")));
            }
            idx.ids.push(id);
            o += 8;
        }
        let take = |o: &mut usize, n: usize| -> &[u8] {
            let s = &bytes[*o..*o + n];
            *o += n;
            s
        };
        if let Some(n) = sizes[1] {
            idx.full = take(&mut o, n)
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
        }
        if let Some(n) = sizes[2] {
            idx.half = take(&mut o, n)
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        if let Some(n) = sizes[3] {
            idx.quant = take(&mut o, n).iter().map(|&b| b as i8).collect();
        }
        if let Some(n) = sizes[4] {
            idx.scales = take(&mut o, n)
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
        }
        if idx.full.iter().chain(&idx.scales).any(|x| !x.is_finite()) {
            return Err(bad("non-finite values"));
        }
        Ok(idx)
    }
}
