//! The sync engine's errors.

use crate::error::ErrorKind;

/// Errors of the sync engine. Every message names the field, table, column, core or file
/// at fault, so a log line is enough to fix the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration text is not JSON, or not of the expected shape (unknown field, wrong type).
    #[error("sync config: {0}")]
    Json(#[source] serde_json::Error),
    /// A configuration value that is not acceptable.
    #[error("sync config: {field}: {reason}")]
    Config {
        /// The field at fault, e.g. `mapping.fields[2].type`.
        field: String,
        /// Why.
        reason: String,
    },
    /// The mapping does not fit the live database or Solr schema (a missing table, column or
    /// field, a table without primary key, a column type that cannot feed the field type).
    #[error("sync mapping: {what}: {reason}")]
    Schema {
        /// What was checked, e.g. `table "products" column "price"`.
        what: String,
        /// Why it does not fit.
        reason: String,
    },
    /// MariaDB refused or failed (unreachable server, wrong credentials, a failed query).
    #[error("MariaDB {context}: {message}")]
    Db {
        /// What the engine was doing, e.g. `connect to 127.0.0.1:3307`.
        context: String,
        /// The driver's or server's message.
        message: String,
    },
    /// Solr refused or failed (unreachable, an error status after all retries).
    #[error("Solr {context}: {message}")]
    Solr {
        /// What the engine was doing, e.g. `POST /products_build/update`.
        context: String,
        /// HTTP status when there was one.
        status: Option<u16>,
        /// Solr's message or the connection error.
        message: String,
    },
    /// A checkpoint file that cannot be read or trusted.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A checkpoint written for another mapping.
    #[error(
        "checkpoint {path} was written for another mapping (hash {found}, this mapping has \
         {expected}); delete the file or run a full rebuild with the new mapping"
    )]
    CheckpointMismatch {
        /// The file.
        path: String,
        /// The mapping hash in the file.
        found: String,
        /// This mapping's hash.
        expected: String,
    },
    /// An incremental run without any checkpoint: a full rebuild must come first.
    #[error("no checkpoint at {path}: run a full rebuild first (mode \"full\" or \"auto\")")]
    NoCheckpoint {
        /// Where the checkpoint was looked for.
        path: String,
    },
    /// The rebuilt core does not hold the expected number of documents: it was not swapped in.
    #[error(
        "verification of core {core} failed: {found} documents, expected {expected}; the live \
         core was left untouched"
    )]
    Verify {
        /// The build core.
        core: String,
        /// Documents Solr reports.
        found: u64,
        /// Documents the run wrote.
        expected: u64,
    },
    /// A file operation failed (checkpoint, dead-letter file, state folder).
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The run was cancelled through [`super::Sync::cancel`]; checkpoints stay valid.
    #[error("sync cancelled; the checkpoint is kept and the next run resumes from it")]
    Cancelled,
    /// Another `run` is in progress on the same handle.
    #[error("a sync run is already in progress on this handle")]
    Busy,
    /// The binlog from the checkpoint's GTID position on is gone (purged); change data
    /// capture falls back to a full rebuild.
    #[error("binlog from GTID position {position:?} is no longer on the server: {message}")]
    BinlogGone {
        /// The position asked for.
        position: String,
        /// The server's message.
        message: String,
    },
    /// A shared rebuild (`tuning.shared_rebuild`) cannot go on: another mapping's rebuild is
    /// in progress, or the rebuild failed or was replaced.
    #[error("shared rebuild of core {core:?}: {message}")]
    Shared {
        /// The live core the rebuild is for.
        core: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Json(_) => ErrorKind::InvalidJson,
            Error::Config { .. } | Error::Schema { .. } => ErrorKind::InvalidConfig,
            Error::Db { .. } | Error::Solr { .. } | Error::Io { .. } | Error::BinlogGone { .. } => {
                ErrorKind::Io
            }
            Error::Checkpoint { .. } => ErrorKind::CorruptState,
            Error::NoCheckpoint { .. } => ErrorKind::NotFound,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::CheckpointMismatch { .. }
            | Error::Verify { .. }
            | Error::Busy
            | Error::Shared { .. } => ErrorKind::InvalidState,
        }
    }

    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn schema(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Schema {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn db(context: impl Into<String>, e: impl std::fmt::Display) -> Error {
        Error::Db {
            context: context.into(),
            message: e.to_string(),
        }
    }

    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// `Result` with the sync engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
