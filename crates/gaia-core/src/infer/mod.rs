//! In-process sentence embeddings and vector search: a BERT encoder (all-MiniLM-L6-v2 and
//! other BERT-family sentence-transformers models) run on the CPU in pure Rust, producing
//! the same vectors as sentence-transformers, and an in-memory top-k index.
//!
//! * [`Embedder`]: open a model folder (`config.json`, `tokenizer.json`,
//!   `model.safetensors`, optional `1_Pooling/config.json`, `sentence_bert_config.json`,
//!   `modules.json`), embed batches of texts into a caller's buffer, count tokens. Models
//!   are cached per process by path, so a PHP-FPM worker or a Go service loads a model once.
//! * [`similarity`]: cosine and dot similarity of vectors and of matrices.
//! * [`Index`]: add vectors with ids, remove, top-k search (cosine or dot) with `f32`, `f16`
//!   or `int8` storage (the compressed ones rescored exactly), save and load.
//!
//! ```no_run
//! use gaia_core::infer::{Embedder, EmbedderOptions};
//! let model = Embedder::open("models/all-MiniLM-L6-v2", &EmbedderOptions::default())?;
//! let texts: [&[u8]; 2] = [b"The cat sits on the mat.", b"A feline rests on a rug."];
//! let mut out = vec![0.0f32; 2 * model.dim()];
//! model.embed(&texts, true, &mut out)?;
//! let cos = gaia_core::infer::similarity::cosine(&out[..384], &out[384..]);
//! assert!(cos > 0.5);
//! # Ok::<(), gaia_core::Error>(())
//! ```

pub mod bert;
mod embedder;
pub mod index;
mod model;
pub mod similarity;
pub mod tokenizer;

pub use embedder::{cache_clear, Embedder, EmbedderOptions, Info};
pub use index::{Index, IndexOptions, Metric, Storage, INDEX_VERSION};
pub use model::{Model, Pooling};

use crate::error::ErrorKind;

/// Errors of the infer engine. Every message names the file, argument or item at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model file or folder that does not exist.
    #[error("model: {path} does not exist{hint}")]
    MissingFile {
        /// The missing path.
        path: String,
        /// What the file is for, e.g. " (the tokenizer)".
        hint: &'static str,
    },
    /// A file that could not be read or written.
    #[error("{op} {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The operation, e.g. `"read"`.
        op: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A model file that is present but wrong: not JSON, a missing tensor, a wrong shape.
    #[error("model file {file}: {reason}")]
    Model {
        /// The file, e.g. `"model.safetensors"`.
        file: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A model of an architecture this engine does not run.
    #[error("unsupported model: {0}")]
    UnsupportedArchitecture(String),
    /// An option out of range.
    #[error("{field}: {reason}")]
    Options {
        /// The option, e.g. `"embedder option threads"`, or `"embedder options"` for JSON
        /// that does not parse.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// An output buffer too small for the result.
    #[error("output buffer holds {got} floats, {need} are needed ({what})")]
    BufferTooSmall {
        /// Floats needed.
        need: usize,
        /// Floats provided.
        got: usize,
        /// What the result is, e.g. "3 texts x 384 dimensions".
        what: String,
    },
    /// A vector of the wrong length.
    #[error("{what}: expected {expected} dimensions, got {got}")]
    Dimension {
        /// Which argument.
        what: &'static str,
        /// The index's or model's dimension.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Text that is not UTF-8.
    #[error("text {index} is not valid UTF-8 (invalid byte at offset {offset})")]
    InvalidUtf8 {
        /// Position of the text in the batch.
        index: usize,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// Any other argument out of its domain (zero texts, NaN in a vector, k = 0 ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// An id that the index does not hold (remove) or holds already (add).
    #[error("index: id {id} {problem}")]
    Id {
        /// The id.
        id: u64,
        /// `"is not in the index"` or `"is already in the index"`.
        problem: &'static str,
    },
    /// An index file that cannot be trusted: wrong magic, truncated, bad checksum.
    #[error("index file {path}: {reason}")]
    IndexFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An index file of a newer format version.
    #[error("index file {path}: format version {found} is newer than this library's {supported}")]
    IndexVersion {
        /// The file.
        path: String,
        /// The version found.
        found: u32,
        /// The newest version this library reads.
        supported: u32,
    },
    /// A broken internal invariant (a bug): reported, never a crash.
    #[error("internal error in infer: {0}")]
    Internal(String),
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::MissingFile { .. }
            | Error::Id {
                problem: "is not in the index",
                ..
            } => ErrorKind::NotFound,
            Error::Id { .. } => ErrorKind::AlreadyExists,
            Error::Io { .. } => ErrorKind::Io,
            Error::Model { .. } | Error::IndexFile { .. } => ErrorKind::CorruptState,
            Error::IndexVersion { .. } => ErrorKind::UnsupportedVersion,
            Error::UnsupportedArchitecture(_) | Error::Options { .. } => ErrorKind::InvalidConfig,
            Error::InvalidUtf8 { .. } => ErrorKind::InvalidUtf8,
            Error::BufferTooSmall { .. } => ErrorKind::BufferTooSmall,
            Error::Dimension { .. } | Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Internal(_) => ErrorKind::InvalidState,
        }
    }
}

#[cfg(test)]
mod tests;
