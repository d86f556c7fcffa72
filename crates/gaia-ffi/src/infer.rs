//! `gaia_embedder` (sentence embeddings) and `gaia_index` (vector search).

use std::ffi::{c_char, CStr};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use gaia_core::infer::similarity::{self, Kind};
use gaia_core::infer::{cache_clear, Embedder, EmbedderOptions, Index, IndexOptions};

use crate::boundary::{check_out, guard, null, slice_in, slice_out, string_out, write_out};
use crate::handle::{self, Castable};
use crate::status::{gaia_status, Failure};
use crate::strings;

/// A loaded sentence-embedding model. Created by `gaia_embedder_open`, freed by
/// `gaia_embedder_free`.
///
/// Thread safety: one handle serves any number of threads at once, without a lock.
#[derive(Debug)]
pub struct gaia_embedder {
    _private: [u8; 0],
}

impl Castable for gaia_embedder {
    type Inner = Embedder;
    const TAG: u64 = 0x6761_6961_0004_0001;
    const NAME: &'static str = "gaia_embedder";
}

/// An in-memory vector index. Created by `gaia_index_new` or `gaia_index_load`, freed by
/// `gaia_index_free`.
///
/// Thread safety: searches run concurrently; `add` and `remove` take the handle
/// exclusively (internally locked).
#[derive(Debug)]
pub struct gaia_index {
    _private: [u8; 0],
}

impl Castable for gaia_index {
    type Inner = RwLock<Index>;
    const TAG: u64 = 0x6761_6961_0004_0002;
    const NAME: &'static str = "gaia_index";
}

/// `gaia_embedder_embed` flag: L2-normalise every vector (what sentence-transformers
/// returns for models ending in a Normalize module, such as all-MiniLM-L6-v2).
pub const GAIA_EMBED_NORMALIZE: u32 = 1;

/// `gaia_similarity` metric: cosine similarity.
pub const GAIA_SIMILARITY_COSINE: u32 = 0;
/// `gaia_similarity` metric: dot product.
pub const GAIA_SIMILARITY_DOT: u32 = 1;

/// The texts of a batch: `count` pointers with `count` byte lengths, or NUL-terminated
/// strings when `lens` is NULL.
///
/// # Safety
/// `texts` must hold `count` pointers, each valid for its length (or NUL-terminated).
unsafe fn texts_in<'a>(
    texts: *const *const c_char,
    lens: *const usize,
    count: usize,
) -> Result<Vec<&'a [u8]>, Failure> {
    // SAFETY: forwarded contract.
    let ptrs = unsafe { slice_in(texts, count, "texts") }?;
    // SAFETY: forwarded contract.
    let lens = if lens.is_null() {
        None
    } else {
        Some(unsafe { slice_in(lens, count, "lens") }?)
    };
    let mut out = Vec::with_capacity(count);
    for (i, &p) in ptrs.iter().enumerate() {
        let bytes = match lens {
            Some(l) => {
                if p.is_null() && l[i] != 0 {
                    return Err(null(&format!("texts[{i}]")));
                }
                if p.is_null() {
                    &[][..]
                } else {
                    // SAFETY: the caller's contract: texts[i] is valid for lens[i] bytes.
                    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), l[i]) }
                }
            }
            None => {
                if p.is_null() {
                    return Err(null(&format!("texts[{i}]")));
                }
                // SAFETY: the caller's contract: NUL-terminated when lens is NULL.
                unsafe { CStr::from_ptr(p) }.to_bytes()
            }
        };
        out.push(bytes);
    }
    Ok(out)
}

/// Opens the sentence-transformers model in the folder `model_dir` (`config.json`,
/// `tokenizer.json`, `model.safetensors`, optional `1_Pooling/config.json`,
/// `sentence_bert_config.json`, `modules.json`; BERT-family encoders). `options_json` may
/// be NULL or `{"threads": 1, "max_tokens_per_batch": 8192, "max_length": 256, "cache": true}`.
/// The process keeps each loaded model in a cache keyed by folder, so opening the same
/// model again (another request of a PHP-FPM worker) costs microseconds.
///
/// Errors: `GAIA_ERR_NOT_FOUND` (folder or file missing, named), `GAIA_ERR_CORRUPT_STATE`
/// (a damaged file), `GAIA_ERR_INVALID_CONFIG` (unsupported architecture, bad option),
/// `GAIA_ERR_INVALID_JSON`. Ownership: `*out` is the caller's, freed with
/// `gaia_embedder_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_open(
    model_dir: *const c_char,
    options_json: *const c_char,
    out: *mut *mut gaia_embedder,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let dir = unsafe { strings::input(model_dir, "model_dir") }?;
        let opts = if options_json.is_null() {
            EmbedderOptions::default()
        } else {
            // SAFETY: C caller's contract.
            let json = unsafe { strings::input(options_json, "options_json") }?;
            EmbedderOptions::from_json(json)
                .map_err(|e| Failure::new(gaia_status::GAIA_ERR_INVALID_JSON, e.to_string()))?
        };
        let e = Embedder::open(dir, &opts)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_embedder>(e)) };
        Ok(())
    })
}

/// Frees an embedder (the cached model stays for the next open; see
/// `gaia_embedder_cache_clear`). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_free(embedder: *mut gaia_embedder) {
    let _ = guard(|| {
        // SAFETY: C caller's contract.
        unsafe { handle::free(embedder) }
    });
}

/// Drops every model the process-wide cache holds (open handles keep theirs); returns how
/// many were dropped. Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn gaia_embedder_cache_clear() -> usize {
    cache_clear()
}

/// Writes the embedding dimension (384 for all-MiniLM-L6-v2) to `*out_dim`.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_dim(
    embedder: *const gaia_embedder,
    out_dim: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_dim, "out_dim")?;
        // SAFETY: C caller's contract.
        let e = unsafe { handle::borrow(embedder) }?;
        // SAFETY: checked above.
        unsafe { write_out(out_dim, e.dim()) };
        Ok(())
    })
}

/// Facts about the model as JSON: `{"dim", "max_length", "pooling", "normalizes",
/// "vocab_size", "layers", "threads", "path", "weights_sha256"}` (the hash is computed on
/// the first call). Ownership: free `*out_json` with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_info_json(
    embedder: *const gaia_embedder,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out_json, "out_json", || {
            let info = handle::borrow(embedder)?.info()?;
            serde_json::to_string(&info)
                .map_err(|e| Failure::new(gaia_status::GAIA_ERR_PANIC, e.to_string()))
        })
    }
}

/// Embeds `count` texts (UTF-8; `lens[i]` bytes at `texts[i]`, NUL bytes allowed; or
/// NUL-terminated strings when `lens` is NULL) into `out` (`out_len` floats, at least
/// `count * dim`): row `i` is text `i`'s vector. `flags`: `GAIA_EMBED_NORMALIZE`. Texts
/// longer than the model's max_length tokens are truncated (count them with
/// `gaia_embedder_count_tokens` to chunk instead).
///
/// Errors: `GAIA_ERR_INVALID_ARGUMENT` (zero texts, unknown flags),
/// `GAIA_ERR_INVALID_UTF8` (naming the text), `GAIA_ERR_BUFFER_TOO_SMALL` (naming the size
/// needed). On error nothing is written to `out`. Thread safety: concurrent calls on one
/// handle are fine.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_embed(
    embedder: *const gaia_embedder,
    texts: *const *const c_char,
    lens: *const usize,
    count: usize,
    flags: u32,
    out: *mut f32,
    out_len: usize,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let e = unsafe { handle::borrow(embedder) }?;
        if flags & !GAIA_EMBED_NORMALIZE != 0 {
            return Err(Failure::new(
                gaia_status::GAIA_ERR_INVALID_ARGUMENT,
                format!("unknown flags {flags:#x}"),
            ));
        }
        // SAFETY: C caller's contract.
        let texts = unsafe { texts_in(texts, lens, count) }?;
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: C caller's contract: out holds out_len floats.
        let out = unsafe { slice_out(out, out_len, "out") }?;
        e.embed(&texts, flags & GAIA_EMBED_NORMALIZE != 0, out)?;
        Ok(())
    })
}

/// Writes each text's token count (`[CLS]`/`[SEP]` included, before truncation) to
/// `out_counts[0..count]`. Texts as for `gaia_embedder_embed`.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_count_tokens(
    embedder: *const gaia_embedder,
    texts: *const *const c_char,
    lens: *const usize,
    count: usize,
    out_counts: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_counts, "out_counts")?;
        // SAFETY: C caller's contract.
        let e = unsafe { handle::borrow(embedder) }?;
        // SAFETY: C caller's contract.
        let texts = unsafe { texts_in(texts, lens, count) }?;
        let counts = e.count_tokens(&texts)?;
        // SAFETY: C caller's contract: out_counts holds count values.
        let out = unsafe { slice_out(out_counts, count, "out_counts") }?;
        out.copy_from_slice(&counts);
        Ok(())
    })
}

/// The token ids the encoder sees for one text (`len` bytes), truncated to max_length:
/// written to `out_ids` (`capacity` ids), their number to `*out_count`. When `capacity`
/// is too small, returns `GAIA_ERR_BUFFER_TOO_SMALL` with the number needed in
/// `*out_count` and writes no id.
#[no_mangle]
pub unsafe extern "C" fn gaia_embedder_tokenize(
    embedder: *const gaia_embedder,
    text: *const c_char,
    len: usize,
    out_ids: *mut u32,
    capacity: usize,
    out_count: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_count, "out_count")?;
        // SAFETY: C caller's contract.
        let e = unsafe { handle::borrow(embedder) }?;
        // SAFETY: C caller's contract.
        let bytes = unsafe { slice_in(text.cast::<u8>(), len, "text") }?;
        let ids = e.token_ids(bytes)?;
        // SAFETY: checked above.
        unsafe { write_out(out_count, ids.len()) };
        if ids.len() > capacity {
            return Err(Failure::new(
                gaia_status::GAIA_ERR_BUFFER_TOO_SMALL,
                format!("out_ids holds {capacity} ids, {} are needed", ids.len()),
            ));
        }
        // SAFETY: C caller's contract: out_ids holds capacity ids.
        let out = unsafe { slice_out(out_ids, capacity, "out_ids") }?;
        out[..ids.len()].copy_from_slice(&ids);
        Ok(())
    })
}

/// Similarities of the `na` rows of `a` with the `nb` rows of `b` (row-major, `dim` floats
/// per row), written row-major to `out` (`out_len` >= `na * nb`). `metric`:
/// `GAIA_SIMILARITY_COSINE` or `GAIA_SIMILARITY_DOT`. Errors: `GAIA_ERR_INVALID_ARGUMENT`
/// (NaN, dim 0, unknown metric), `GAIA_ERR_BUFFER_TOO_SMALL`. Thread safety: pure.
#[no_mangle]
#[allow(
    clippy::too_many_arguments,
    reason = "C ABI: arrays travel as pointer + length pairs"
)]
pub unsafe extern "C" fn gaia_similarity(
    a: *const f32,
    na: usize,
    b: *const f32,
    nb: usize,
    dim: usize,
    metric: u32,
    out: *mut f32,
    out_len: usize,
) -> gaia_status {
    guard(|| {
        let kind = match metric {
            GAIA_SIMILARITY_COSINE => Kind::Cosine,
            GAIA_SIMILARITY_DOT => Kind::Dot,
            m => {
                return Err(Failure::new(
                    gaia_status::GAIA_ERR_INVALID_ARGUMENT,
                    format!("unknown metric {m}"),
                ))
            }
        };
        let len = |n: usize, what: &str| {
            n.checked_mul(dim).ok_or_else(|| {
                Failure::new(
                    gaia_status::GAIA_ERR_INVALID_ARGUMENT,
                    format!("{what}: size overflows"),
                )
            })
        };
        // SAFETY: C caller's contract: a holds na * dim floats, b nb * dim.
        let a = unsafe { slice_in(a, len(na, "a")?, "a") }?;
        // SAFETY: as above.
        let b = unsafe { slice_in(b, len(nb, "b")?, "b") }?;
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: C caller's contract.
        let out = unsafe { slice_out(out, out_len, "out") }?;
        similarity::matrix(kind, a, b, dim, out)?;
        Ok(())
    })
}

/// # Safety
/// See [`handle::borrow`].
unsafe fn read<'a>(index: *const gaia_index) -> Result<RwLockReadGuard<'a, Index>, Failure> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(index) }?
        .read()
        .map_err(|_| poisoned())
}

/// # Safety
/// See [`handle::borrow`].
unsafe fn write<'a>(index: *mut gaia_index) -> Result<RwLockWriteGuard<'a, Index>, Failure> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(index) }?
        .write()
        .map_err(|_| poisoned())
}

fn poisoned() -> Failure {
    Failure::new(
        gaia_status::GAIA_ERR_PANIC,
        "gaia_index is unusable: an earlier call panicked while holding it",
    )
}

/// Creates an empty index: `{"dim": 384, "metric": "cosine"|"dot", "storage":
/// "f32"|"f16"|"int8", "rescore": true, "oversample": 4}` (only `dim` is required).
/// Ownership: free `*out` with `gaia_index_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_index_new(
    options_json: *const c_char,
    out: *mut *mut gaia_index,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(options_json, "options_json") }?;
        let opts = IndexOptions::from_json(json).map_err(|e| match e {
            gaia_core::infer::Error::Options {
                field: "index options",
                ..
            } => Failure::new(gaia_status::GAIA_ERR_INVALID_JSON, e.to_string()),
            e => e.into(),
        })?;
        let idx = Index::new(opts)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_index>(RwLock::new(idx))) };
        Ok(())
    })
}

/// Reads an index file written by `gaia_index_save`; `expected_dim` 0 accepts any
/// dimension, otherwise a file of another dimension is refused (`GAIA_ERR_INVALID_ARGUMENT`).
/// Errors: `GAIA_ERR_NOT_FOUND`, `GAIA_ERR_CORRUPT_STATE`, `GAIA_ERR_UNSUPPORTED_VERSION`,
/// `GAIA_ERR_IO`. Ownership as for `gaia_index_new`.
#[no_mangle]
pub unsafe extern "C" fn gaia_index_load(
    path: *const c_char,
    expected_dim: usize,
    out: *mut *mut gaia_index,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let path = unsafe { strings::input(path, "path") }?;
        let idx = Index::load(path, (expected_dim != 0).then_some(expected_dim))?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_index>(RwLock::new(idx))) };
        Ok(())
    })
}

/// Writes the index to `path` atomically (temporary file, fsync, rename).
#[no_mangle]
pub unsafe extern "C" fn gaia_index_save(
    index: *const gaia_index,
    path: *const c_char,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let path = unsafe { strings::input(path, "path") }?;
        // SAFETY: C caller's contract.
        unsafe { read(index) }?.save(path)?;
        Ok(())
    })
}

/// Frees an index. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gaia_index_free(index: *mut gaia_index) {
    let _ = guard(|| {
        // SAFETY: C caller's contract.
        unsafe { handle::free(index) }
    });
}

/// Adds `count` vectors: `ids[0..count]` and `vectors` (`vectors_len` floats, exactly
/// `count * dim`, row after row). All or nothing: an id already present (or repeated),
/// a wrong length or a NaN adds nothing (`GAIA_ERR_ALREADY_EXISTS`,
/// `GAIA_ERR_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn gaia_index_add(
    index: *mut gaia_index,
    ids: *const u64,
    count: usize,
    vectors: *const f32,
    vectors_len: usize,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let ids = unsafe { slice_in(ids, count, "ids") }?;
        // SAFETY: C caller's contract.
        let v = unsafe { slice_in(vectors, vectors_len, "vectors") }?;
        // SAFETY: C caller's contract.
        unsafe { write(index) }?.add(ids, v)?;
        Ok(())
    })
}

/// Removes vectors by id; all or nothing (`GAIA_ERR_NOT_FOUND` names an unknown id).
#[no_mangle]
pub unsafe extern "C" fn gaia_index_remove(
    index: *mut gaia_index,
    ids: *const u64,
    count: usize,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let ids = unsafe { slice_in(ids, count, "ids") }?;
        // SAFETY: C caller's contract.
        unsafe { write(index) }?.remove(ids)?;
        Ok(())
    })
}

/// Sets how many threads one `gaia_index_search` may scan with (1 to 256; the default is
/// the `threads` option of `gaia_index_new`, 1 for a loaded index). A single query over a
/// large index is bound by memory bandwidth, which several cores share out better than
/// one; results are identical. Indexes under 2^18 numbers are scanned on one thread.
///
/// Errors: `GAIA_ERR_INVALID_ARGUMENT` (out of range; the setting is kept),
/// `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_HANDLE`.
/// Thread safety: takes the index exclusively, like `gaia_index_add`.
#[no_mangle]
pub unsafe extern "C" fn gaia_index_set_threads(
    index: *mut gaia_index,
    threads: usize,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        unsafe { write(index) }?.set_threads(threads)?;
        Ok(())
    })
}

/// Writes the number of vectors to `*out_len` and the dimension to `*out_dim` (either may
/// be NULL when not wanted).
#[no_mangle]
pub unsafe extern "C" fn gaia_index_len(
    index: *const gaia_index,
    out_len: *mut usize,
    out_dim: *mut usize,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let idx = unsafe { read(index) }?;
        if !out_len.is_null() {
            // SAFETY: non-NULL, the caller's contract.
            unsafe { write_out(out_len, idx.len()) };
        }
        if !out_dim.is_null() {
            // SAFETY: as above.
            unsafe { write_out(out_dim, idx.dim()) };
        }
        Ok(())
    })
}

/// Top-`k` search for `queries_len / dim` queries (row after row). Results for query `q`
/// are at `out_ids[q * k ..]` / `out_scores[q * k ..]`, best first; `*out_found` is how
/// many each query got (`min(k, len)`). `out_capacity` is the length of both output
/// arrays and must be at least `queries * k`. Several queries are searched as matrix
/// products (much faster per query than one at a time).
#[no_mangle]
#[allow(
    clippy::too_many_arguments,
    reason = "C ABI: arrays travel as pointer + length pairs"
)]
pub unsafe extern "C" fn gaia_index_search(
    index: *const gaia_index,
    queries: *const f32,
    queries_len: usize,
    k: usize,
    out_ids: *mut u64,
    out_scores: *mut f32,
    out_capacity: usize,
    out_found: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_ids, "out_ids")?;
        check_out(out_scores, "out_scores")?;
        check_out(out_found, "out_found")?;
        // SAFETY: C caller's contract.
        let q = unsafe { slice_in(queries, queries_len, "queries") }?;
        // SAFETY: C caller's contract.
        let idx = unsafe { read(index) }?;
        let dim = idx.dim();
        if queries_len == 0 || !queries_len.is_multiple_of(dim) {
            return Err(Failure::new(
                gaia_status::GAIA_ERR_INVALID_ARGUMENT,
                format!("queries: {queries_len} floats is not a positive multiple of the index's dimension {dim}"),
            ));
        }
        let nq = queries_len / dim;
        let need = nq.saturating_mul(k);
        if out_capacity < need {
            return Err(Failure::new(
                gaia_status::GAIA_ERR_BUFFER_TOO_SMALL,
                format!("output arrays hold {out_capacity} results, {nq} queries x k {k} = {need} are needed"),
            ));
        }
        let results = if nq == 1 {
            vec![idx.search(q, k)?]
        } else {
            idx.search_batch(q, k)?
        };
        // SAFETY: C caller's contract: both arrays hold out_capacity items.
        let ids = unsafe { slice_out(out_ids, out_capacity, "out_ids") }?;
        // SAFETY: as above.
        let scores = unsafe { slice_out(out_scores, out_capacity, "out_scores") }?;
        let found = results.first().map_or(0, Vec::len);
        for (qi, hits) in results.iter().enumerate() {
            for (j, h) in hits.iter().enumerate() {
                ids[qi * k + j] = h.id;
                scores[qi * k + j] = h.score;
            }
        }
        // SAFETY: checked above.
        unsafe { write_out(out_found, found) };
        Ok(())
    })
}
