//! The crate-wide error type.
//!
//! Each engine has its own error enum; [`Error`] wraps them. Callers that need to branch
//! (the C ABI mapping errors to status codes, the PHP extension choosing an exception class)
//! use [`Error::kind`], so the mapping lives in one place per adapter.

/// What went wrong, coarsely: the stable classification every adapter maps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A string argument that is not valid UTF-8.
    InvalidUtf8,
    /// Text that is not JSON, or JSON of the wrong shape or type.
    InvalidJson,
    /// A configuration that parses but is not acceptable (a field out of range, a duplicate).
    InvalidConfig,
    /// An argument out of its domain: NaN, infinity, a reward outside its range.
    InvalidArgument,
    /// A name or id that does not exist.
    NotFound,
    /// A name that exists already.
    AlreadyExists,
    /// Saved state that cannot be trusted: truncated, edited, or inconsistent.
    CorruptState,
    /// Saved state written by a newer (or unknown) format version.
    UnsupportedVersion,
    /// The object is not in a state that allows the call (e.g. choosing among zero arms).
    InvalidState,
    /// An operating-system I/O operation failed (a file, a socket).
    Io,
    /// A caller's output buffer is too small; the message gives the size needed.
    BufferTooSmall,
    /// A long operation stopped because the caller cancelled it; saved state stays valid.
    Cancelled,
}

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the statistics module.
    #[error(transparent)]
    Stats(#[from] crate::stats::Error),
    /// A text argument (named by `what`) that is not valid UTF-8.
    #[error("{what} is not valid UTF-8 (invalid byte at offset {offset})")]
    InvalidUtf8 {
        /// The argument's name, e.g. `"arm"`.
        what: &'static str,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// An error of the tune engine.
    #[cfg(feature = "tune")]
    #[error(transparent)]
    Tune(#[from] crate::tune::Error),
    /// An error of the mcts engine.
    #[cfg(feature = "mcts")]
    #[error(transparent)]
    Mcts(#[from] crate::mcts::Error),
    /// An error of the infer engine.
    #[cfg(feature = "infer")]
    #[error(transparent)]
    Infer(#[from] crate::infer::Error),
    /// An error of the sync engine.
    #[cfg(feature = "sync")]
    #[error(transparent)]
    Sync(#[from] crate::sync::Error),
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Stats(e) => e.kind(),
            Error::InvalidUtf8 { .. } => ErrorKind::InvalidUtf8,
            #[cfg(feature = "tune")]
            Error::Tune(e) => e.kind(),
            #[cfg(feature = "mcts")]
            Error::Mcts(e) => e.kind(),
            #[cfg(feature = "infer")]
            Error::Infer(e) => e.kind(),
            #[cfg(feature = "sync")]
            Error::Sync(e) => e.kind(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that `bytes`, the argument named `what`, is UTF-8. Every adapter (the C ABI, the
/// PHP extension) uses this, so a bad string gets the same error everywhere.
pub fn utf8_arg<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        what,
        offset: e.valid_up_to(),
    })
}
