//! Parameter optimisation: learning from feedback which settings work.
//!
//! [`bandit`]: Thompson-sampling multi-armed bandits for choosing among named options (which
//! LLM, which prompt template). [`study`]: ask/tell black-box optimisation over a [`space`],
//! with the samplers random, [`sobol`] (QMC), [`grid`], [`tpe`], [`cmaes`] and [`gp`]
//! (Gaussian-process Bayesian optimisation), named constraints, parameter [`importance`], and
//! storage in memory or in a [`journal`] file that processes share. Studies with several
//! objectives use [`tpe`] (multi-objective TPE), [`nsga2`] (NSGA-II) or the model-free
//! samplers; [`pareto`] holds their shared tools (non-dominated sorting, hypervolume).

pub mod bandit;
pub mod cmaes;
pub mod gp;
pub mod grid;
pub mod importance;
pub mod journal;
#[cfg(feature = "tune-mysql")]
pub mod mysql;
pub mod nsga2;
pub mod pareto;
pub mod pruner;
pub mod sampler;
pub mod sobol;
pub mod space;
pub mod study;
pub mod tpe;

pub use bandit::{ArmStats, Bandit, BanditConfig, BanditStats, Model, Policy, Prior, Ticket};
pub use cmaes::{CmaesConfig, CmaesSampler, RestartStrategy};
pub use gp::{GpConfig, GpSampler};
pub use journal::{JournalConfig, StorageConfig, SyncMode};
pub use nsga2::{Nsga2Config, Nsga2Sampler};
pub use sampler::{RandomSampler, Sampler, SamplerConfig};
pub use space::{Condition, Distribution, Param, Space};
pub use study::{Asked, Direction, Study, Trial, TrialState};
pub use tpe::{TpeConfig, TpeSampler};

use crate::error::ErrorKind;

/// Errors of the tune engine. Every message names the field, arm or value at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON, or not of the expected shape (unknown field, wrong type).
    #[error("{what}: {source}")]
    Json {
        /// What was being parsed, e.g. `"bandit config"`.
        what: &'static str,
        /// serde_json's description, with line and column.
        source: serde_json::Error,
    },
    /// A configuration value that is well-formed JSON but not acceptable.
    #[error("{what}: {field}: {reason}")]
    Config {
        /// What was being configured, e.g. `"bandit config"`.
        what: &'static str,
        /// The field at fault, e.g. `"discount"` or `"prior.alpha"`.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// A search-space parameter that is declared wrongly, or a value outside its range.
    #[error("search space: param \"{param}\": {reason}")]
    Space {
        /// The parameter's name (or `#index` when it has none).
        param: String,
        /// What is wrong, e.g. `low 1.5 > high 1.0`.
        reason: String,
    },
    /// A trial id that no `ask` or `add_trial` returned.
    #[error("unknown trial {id} (the study has {count} trials)")]
    UnknownTrial {
        /// The id asked for.
        id: u64,
        /// How many trials exist.
        count: usize,
    },
    /// `tell` on a trial that is already finished.
    #[error("trial {id} is already finished ({state:?})")]
    TrialFinished {
        /// The trial.
        id: u64,
        /// Its state.
        state: TrialState,
    },
    /// `tell` with the state `Running`.
    #[error("trial {id}: tell needs a finished state (complete, failed or pruned), not running")]
    TrialStillRunning {
        /// The trial.
        id: u64,
    },
    /// A trial state code other than 1 (complete), 2 (failed) or 3 (pruned).
    #[error("state must be complete (1), failed (2) or pruned (3), got {0}")]
    InvalidTrialState(i64),
    /// A negative trial id from a binding whose integers are signed.
    #[error("trial id must not be negative, got {0}")]
    NegativeTrialId(i64),
    /// `best` before any trial completed.
    #[error("the study has no complete trial yet")]
    NoCompleteTrial,
    /// A value that is NaN or infinite where a finite one is needed (an injected trial's
    /// value, a constraint value).
    #[error("trial {id}: {what} {value} is not finite")]
    InvalidValue {
        /// The trial.
        id: u64,
        /// What the value is, e.g. `"value"` or `"constraint \"latency\""`.
        what: String,
        /// The value.
        value: f64,
    },
    /// Objective values that do not match the study's objectives (a wrong count).
    #[error("trial {id}: {reason}")]
    Objectives {
        /// The trial.
        id: u64,
        /// What is wrong.
        reason: String,
    },
    /// A reported step beyond what the storage holds.
    #[error("trial {id}: step {step} is above 2^31 - 1 (the largest step Optuna's storage holds)")]
    Step {
        /// The trial.
        id: u64,
        /// The step.
        step: u64,
    },
    /// An operation that needs a study with one objective (pruning, importance) on a study
    /// with several.
    #[error("{what} needs a study with one objective; this one has several")]
    SingleObjective {
        /// The operation, e.g. `"pruning"`.
        what: &'static str,
    },
    /// Constraint values that do not match the study's declared constraints.
    #[error("trial {id}: {reason}")]
    Constraints {
        /// The trial.
        id: u64,
        /// What is wrong, naming the constraints.
        reason: String,
    },
    /// `best` while no complete trial satisfies every constraint.
    #[error(
        "no complete trial satisfies every constraint yet ({complete} complete, all infeasible)"
    )]
    NoFeasibleTrial {
        /// How many complete (infeasible) trials there are.
        complete: usize,
    },
    /// An analysis that needs more finished trials than the study has.
    #[error("{what} needs at least {needed} complete trials, the study has {have}")]
    NotEnoughTrials {
        /// The analysis, e.g. `"parameter importance"`.
        what: &'static str,
        /// How many it needs.
        needed: usize,
        /// How many there are.
        have: usize,
    },
    /// A file operation failed (journal storage).
    #[error("{op} {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operation, e.g. `"open"` or `"fdatasync"`.
        op: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A database call failed: the server is unreachable, refused, or timed out.
    #[error("{context}: {message}")]
    Database {
        /// The operation and where (user, host, database, study; never the password).
        context: String,
        /// What the server or the connection said.
        message: String,
    },
    /// A stored study that differs from the configuration, or that Gaia cannot use.
    #[error("{study}: {reason}")]
    StudyMismatch {
        /// Where the study is.
        study: String,
        /// What differs.
        reason: String,
    },
    /// A journal file that holds a different study than the configuration describes.
    #[error("journal {path}: {reason}")]
    JournalMismatch {
        /// The file.
        path: String,
        /// What differs.
        reason: String,
    },
    /// A reward that is NaN, infinite, or outside the model's range.
    #[error("reward for arm \"{arm}\" must be {requirement}, got {value}")]
    InvalidReward {
        /// The arm being updated.
        arm: String,
        /// The rejected value.
        value: f64,
        /// What the model accepts.
        requirement: &'static str,
    },
    /// An arm name that is empty, too long or contains NUL.
    #[error("arm name {name:?} is invalid: {reason}")]
    InvalidArmName {
        /// The rejected name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// No arm has this name.
    #[error("unknown arm \"{name}\" (arms: {known})")]
    UnknownArm {
        /// The name asked for.
        name: String,
        /// The arms that do exist, comma-separated.
        known: String,
    },
    /// No arm has this index.
    #[error("arm index {index} is out of range: the bandit has {len} arms")]
    ArmIndex {
        /// The index asked for.
        index: usize,
        /// How many arms there are.
        len: usize,
    },
    /// An arm with this name exists already.
    #[error("arm \"{0}\" already exists")]
    DuplicateArm(String),
    /// `choose` on a bandit without arms.
    #[error("the bandit has no arms: add one before choosing")]
    NoArms,
    /// A bandit ticket that no ask returned.
    #[error("unknown ticket {ticket}: {reason}")]
    UnknownTicket {
        /// The ticket told.
        ticket: u64,
        /// Which tickets exist.
        reason: String,
    },
    /// A bandit ticket that is no longer pending: told already, expired, or dropped with
    /// its arm.
    #[error("ticket {ticket} {reason}")]
    TicketClosed {
        /// The ticket told.
        ticket: u64,
        /// What became of it, e.g. `"expired after 600 s"`.
        reason: String,
    },
    /// A bandit context that does not fit the policy (wrong length, NaN, a context for a
    /// policy without one, none for `"lints"`).
    #[error("context: {reason}")]
    InvalidContext {
        /// What is wrong.
        reason: String,
    },
    /// A call that cannot give a contextual (`"lints"`) bandit the context it needs.
    #[error(
        "policy \"lints\" is contextual: {call} cannot give it a context; use ask(context) \
         and tell(ticket, reward)"
    )]
    NeedsContext {
        /// The call, e.g. `"choose"`.
        call: &'static str,
    },
    /// A time (unix seconds) that is NaN or infinite.
    #[error("time must be finite unix seconds, got {0}")]
    InvalidTime(f64),
    /// Saved state that is malformed or inconsistent.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// What was being loaded, e.g. `"bandit state"`.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Saved state of a format version this build does not read.
    #[error("{what} has format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// What was being loaded, e.g. `"study state"`.
        what: &'static str,
        /// The version found in the state.
        found: u64,
        /// The version this build writes and reads.
        supported: u64,
    },
    /// A distribution refused its parameters (a bug if it ever surfaces: posteriors are
    /// validated before sampling).
    #[error(transparent)]
    Stats(#[from] crate::stats::Error),
}

/// Parses saved state written by a `save_json`: JSON whose `format` is `format` and whose
/// `version` is `version`, then the rest as `T`. `what` names it in errors
/// (`corrupt bandit state: ...`). Shared by every engine object that persists.
pub(crate) fn parse_saved<T: serde::de::DeserializeOwned>(
    json: &str,
    what: &'static str,
    format: &str,
    version: u64,
) -> Result<T, Error> {
    let corrupt = |reason: String| Error::Corrupt { what, reason };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    match value.get("format").and_then(serde_json::Value::as_str) {
        Some(f) if f == format => {}
        other => {
            return Err(corrupt(format!(
                "format is {other:?}, expected \"{format}\""
            )))
        }
    }
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == version => {}
        Some(found) => {
            return Err(Error::UnsupportedVersion {
                what,
                found,
                supported: version,
            })
        }
        None => return Err(corrupt("missing or non-integer \"version\"".into())),
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Json { .. } => ErrorKind::InvalidJson,
            Error::Config { .. } | Error::Space { .. } => ErrorKind::InvalidConfig,
            Error::InvalidReward { .. } | Error::InvalidArmName { .. } => {
                ErrorKind::InvalidArgument
            }
            Error::UnknownArm { .. }
            | Error::ArmIndex { .. }
            | Error::UnknownTrial { .. }
            | Error::NegativeTrialId(_) => ErrorKind::NotFound,
            Error::TrialFinished { .. }
            | Error::NoCompleteTrial
            | Error::NoFeasibleTrial { .. }
            | Error::NotEnoughTrials { .. } => ErrorKind::InvalidState,
            Error::Constraints { .. } | Error::Objectives { .. } | Error::Step { .. } => {
                ErrorKind::InvalidArgument
            }
            Error::SingleObjective { .. } => ErrorKind::InvalidState,
            Error::Io { .. } => ErrorKind::Io,
            Error::JournalMismatch { .. } | Error::StudyMismatch { .. } => ErrorKind::InvalidConfig,
            Error::Database { .. } => ErrorKind::Io,
            Error::TrialStillRunning { .. }
            | Error::InvalidValue { .. }
            | Error::InvalidTrialState(_) => ErrorKind::InvalidArgument,
            Error::DuplicateArm(_) => ErrorKind::AlreadyExists,
            Error::NoArms => ErrorKind::InvalidState,
            Error::UnknownTicket { .. } => ErrorKind::NotFound,
            Error::TicketClosed { .. } | Error::NeedsContext { .. } => ErrorKind::InvalidState,
            Error::InvalidContext { .. } | Error::InvalidTime(_) => ErrorKind::InvalidArgument,
            Error::Corrupt { .. } => ErrorKind::CorruptState,
            Error::UnsupportedVersion { .. } => ErrorKind::UnsupportedVersion,
            Error::Stats(e) => e.kind(),
        }
    }
}
