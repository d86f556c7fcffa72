//! Tree search for LLM inference-time compute: AB-MCTS-A and AB-MCTS-M (adaptive branching:
//! ask for a new answer, or refine a promising one), with standard MCTS, best-first and
//! repeated sampling as baselines, driven by ask/tell so the host calls its LLMs however it likes.
//!
//! ```
//! use gaia_core::mcts::{Payload, Search};
//! let mut s = Search::from_json(r#"{"actions": ["draft"], "seed": 1}"#)?;
//! for _ in 0..20 {
//!     let trial = s.ask(1)?[0];
//!     // trial.node is 0 (the root: write a first answer) or an answer to refine.
//!     let score = 0.5; // grade the LLM's new answer in [0, 1]
//!     s.tell(trial.id, score, Payload::None)?;
//! }
//! assert_eq!(s.len(), 21);
//! # Ok::<(), gaia_core::Error>(())
//! ```

mod ab_mcts_a;
mod ab_mcts_m;
mod baselines;
pub mod config;
pub mod mixed;
pub mod posterior;
mod search;
mod snapshot;

pub use config::{Algorithm, Config, Pending, RewardAverage, Selection, Widening};
pub use posterior::{Prior, Stats};
pub use search::{NodeInfo, Payload, Search, Trial, TrialState, MAX_ASK};
pub use snapshot::SNAPSHOT_VERSION;

use crate::error::ErrorKind;

/// Errors of the mcts engine. Every message names the field, trial or node at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON, or not of the expected shape.
    #[error("{what}: {source}")]
    Json {
        /// What was being parsed.
        what: &'static str,
        /// serde_json's description.
        source: serde_json::Error,
    },
    /// A configuration value that is not acceptable.
    #[error("mcts config: {field}: {reason}")]
    Config {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// A trial id that `ask` did not return.
    #[error("unknown trial {id} (the search has {count} trials)")]
    UnknownTrial {
        /// The id.
        id: u64,
        /// How many trials exist.
        count: usize,
    },
    /// A trial that can no longer take this call.
    #[error("trial {id} was already {how}")]
    TrialFinished {
        /// The trial.
        id: u64,
        /// `"told"` or `"abandoned"`.
        how: &'static str,
    },
    /// A score outside [0, 1], or NaN.
    #[error("trial {id}: score must be in [0, 1], got {score}")]
    InvalidScore {
        /// The trial.
        id: u64,
        /// The score.
        score: f64,
    },
    /// A node id that does not exist.
    #[error("unknown node {id} (the tree has {count} nodes)")]
    UnknownNode {
        /// The id.
        id: u32,
        /// How many nodes exist.
        count: usize,
    },
    /// An action name that is not configured.
    #[error("unknown action \"{name}\" (actions: {known})")]
    UnknownAction {
        /// The name.
        name: String,
        /// The configured actions.
        known: String,
    },
    /// Nothing can be expanded: the caps are reached everywhere.
    #[error("the tree is full: max_width/max_depth leave no node to expand ({nodes} nodes)")]
    TreeFull {
        /// Nodes in the tree.
        nodes: usize,
    },
    /// An argument out of its domain.
    #[error("{0}")]
    InvalidArgument(String),
    /// A snapshot that is truncated, edited or inconsistent.
    #[error("corrupt mcts snapshot: {0}")]
    Corrupt(String),
    /// A snapshot of a newer format.
    #[error("mcts snapshot has format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Json { .. } => ErrorKind::InvalidJson,
            Error::Config { .. } => ErrorKind::InvalidConfig,
            Error::UnknownTrial { .. }
            | Error::UnknownNode { .. }
            | Error::UnknownAction { .. } => ErrorKind::NotFound,
            Error::TrialFinished { .. } | Error::TreeFull { .. } => ErrorKind::InvalidState,
            Error::InvalidScore { .. } | Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Corrupt(_) => ErrorKind::CorruptState,
            Error::UnsupportedVersion { .. } => ErrorKind::UnsupportedVersion,
        }
    }
}

#[cfg(test)]
mod tests;
