//! Studies: ask/tell black-box optimisation over a [`Space`].
//!
//! The host asks for a trial (an id and every active parameter at once), evaluates it its own
//! way, possibly concurrently and much later, and tells the result. The sampler sees every
//! finished trial and the running ones, so it can treat pending work as it likes.
//!
//! ```
//! use gaia_core::tune::Study;
//! let mut study = Study::from_json(r#"{
//!   "space": {"params": [{"name": "x", "type": "float", "low": -5, "high": 5}]},
//!   "direction": "minimize", "sampler": {"type": "random"}, "seed": 1}"#)?;
//! for _ in 0..50 {
//!     let trial = study.ask()?;
//!     let x = trial.params["x"].as_f64().unwrap_or(0.0);
//!     study.tell(trial.id, (x - 1.0).powi(2), gaia_core::tune::TrialState::Complete)?;
//! }
//! assert!(study.best().unwrap().value.unwrap() < 0.5);
//! # Ok::<(), gaia_core::Error>(())
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::journal::{Journal, StorageConfig};
#[cfg(feature = "tune-mysql")]
use super::mysql::{Change, LogRow, MysqlConfig, MysqlStore};
use super::pareto;
use super::pruner::PrunerConfig;
use super::sampler::{Sampler, SamplerConfig};
use super::{Error, Space};
use crate::stats::Rng;

/// Whether smaller or larger values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better (the default).
    #[default]
    Minimize,
    /// Larger is better.
    Maximize,
}

impl Direction {
    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }

    /// `v` as a value to minimise (negated when larger is better).
    pub fn minimized(self, v: f64) -> f64 {
        match self {
            Direction::Minimize => v,
            Direction::Maximize => -v,
        }
    }

    /// Best first, in IEEE total order (`f64::total_cmp`, reversed when larger is better).
    pub fn best_first(self, a: f64, b: f64) -> std::cmp::Ordering {
        match self {
            Direction::Minimize => a.total_cmp(&b),
            Direction::Maximize => b.total_cmp(&a),
        }
    }
}

/// The life of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    /// Asked, not told yet.
    Running,
    /// Told with a finite value.
    Complete,
    /// The evaluation failed, or was told complete with a NaN or infinite value.
    Failed,
    /// Stopped early by the host.
    Pruned,
}

impl TrialState {
    /// The state for a C ABI / binding code: 1 complete, 2 failed, 3 pruned.
    pub fn from_code(code: i64) -> Result<TrialState, Error> {
        match code {
            1 => Ok(TrialState::Complete),
            2 => Ok(TrialState::Failed),
            3 => Ok(TrialState::Pruned),
            other => Err(Error::InvalidTrialState(other)),
        }
    }
}

/// One trial: its parameters (internal values per space parameter, `None` when inactive),
/// its state, its value and its constraint values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trial {
    /// The id `ask` returned; ids count up from 0.
    pub id: u64,
    /// The state.
    pub state: TrialState,
    /// Internal values, one per space parameter (see [`Space`]).
    pub internal: Vec<Option<f64>>,
    /// The value, for complete trials.
    pub value: Option<f64>,
    /// For complete trials of a study with constraints: one value per declared constraint,
    /// in declaration order; the trial is feasible when every one is `<= 0`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<f64>,
    /// For complete trials of a study with several objectives: one value per objective, in
    /// the order of the study's `directions` (`value` is then `None`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// Intermediate values reported while the trial ran, as `(step, value)` by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intermediate: Vec<(u64, f64)>,
}

impl Trial {
    /// A running trial with these internal values.
    pub fn running(id: u64, internal: Vec<Option<f64>>) -> Trial {
        Trial {
            id,
            state: TrialState::Running,
            internal,
            value: None,
            constraints: Vec::new(),
            values: Vec::new(),
            intermediate: Vec::new(),
        }
    }

    /// The objective values of a complete trial (one for a single-objective study), else
    /// `None`.
    pub fn objectives(&self) -> Option<&[f64]> {
        if self.state != TrialState::Complete {
            return None;
        }
        match &self.value {
            Some(v) => Some(std::slice::from_ref(v)),
            None => (!self.values.is_empty()).then_some(self.values.as_slice()),
        }
    }

    /// The last reported intermediate value, if any.
    pub fn last_intermediate(&self) -> Option<(u64, f64)> {
        self.intermediate.last().copied()
    }

    /// Complete, with every constraint value `<= 0`.
    pub fn is_feasible(&self) -> bool {
        self.state == TrialState::Complete && self.constraints.iter().all(|c| *c <= 0.0)
    }

    /// The sum of the positive constraint values (0 for a feasible trial).
    pub fn violation(&self) -> f64 {
        self.constraints.iter().map(|c| c.max(0.0)).sum()
    }
}

/// What `ask` returns: a trial id and its active parameters as JSON values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asked {
    /// The id to tell the result with.
    pub id: u64,
    /// Active parameters by name.
    pub params: Map<String, Value>,
}

/// A study's configuration as JSON: `space` (see [`Space`]), `direction`, `constraints`
/// (names), `sampler`, `storage` (see [`StorageConfig`]), an optional `seed`, and `name`
/// (needed with database storage, where it picks the study). With a journal or a database
/// study that exists already, `space`, `direction` and `constraints` may be left out (the
/// storage holds them) and must match it when given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyConfig {
    #[serde(default)]
    #[cfg_attr(
        not(feature = "tune-mysql"),
        allow(dead_code, reason = "read by database storage only")
    )]
    name: Option<String>,
    #[serde(default)]
    space: Option<Value>,
    #[serde(default)]
    direction: Option<Direction>,
    #[serde(default)]
    directions: Option<Vec<Direction>>,
    #[serde(default)]
    constraints: Option<Vec<String>>,
    #[serde(default)]
    sampler: Option<SamplerConfig>,
    #[serde(default)]
    pruner: Option<PrunerConfig>,
    #[serde(default)]
    storage: Option<Value>,
    #[serde(default)]
    seed: Option<u64>,
}

/// What defines a study; a journal's first record holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    space: Value,
    direction: Direction,
    /// Several objectives (two or more); empty for a single-objective study.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    directions: Vec<Direction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    constraints: Vec<String>,
    sampler: SamplerConfig,
    #[serde(default, skip_serializing_if = "PrunerConfig::is_none")]
    pruner: PrunerConfig,
}

impl Definition {
    /// The directions, one per objective.
    fn objectives(&self) -> Vec<Direction> {
        if self.directions.is_empty() {
            vec![self.direction]
        } else {
            self.directions.clone()
        }
    }
}

const STATE_FORMAT: &str = "gaia.study";
const JOURNAL_FORMAT: &str = "gaia.study.journal";
/// The format version [`Study::save_json`] writes and [`Study::load_json`] reads (and the
/// journal's record format version).
pub const STATE_VERSION: u64 = 1;

/// The persisted form of a study.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    format: String,
    version: u64,
    space: Value,
    direction: Direction,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    directions: Vec<Direction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    constraints: Vec<String>,
    sampler: SamplerConfig,
    #[serde(default, skip_serializing_if = "PrunerConfig::is_none")]
    pruner: PrunerConfig,
    rng: String,
    trials: Vec<Trial>,
    queue: Vec<Vec<Option<f64>>>,
}

/// One change to a study: what the journal records and every replica applies in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum Op {
    Create {
        format: String,
        version: u64,
        study: Definition,
    },
    Ask {
        id: u64,
        internal: Vec<Option<f64>>,
        /// Popped from the queue (else proposed by a sampler).
        queued: bool,
    },
    Tell {
        id: u64,
        state: TrialState,
        value: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        constraints: Vec<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        values: Vec<f64>,
    },
    Report {
        id: u64,
        step: u64,
        value: f64,
    },
    Enqueue {
        internal: Vec<Option<f64>>,
    },
    Add {
        trial: Trial,
    },
}

/// What a tell records (see `Study::recorded`).
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    state: TrialState,
    value: Option<f64>,
    values: Vec<f64>,
    constraints: Vec<f64>,
}

/// An optimisation study. Not internally synchronised (the C ABI wraps it in a lock); with
/// journal storage, several processes (or several studies in one process) opening the same
/// file share one study.
#[derive(Debug)]
pub struct Study {
    space: Space,
    space_json: Value,
    /// One per objective.
    directions: Vec<Direction>,
    constraints: Vec<String>,
    sampler_config: SamplerConfig,
    sampler: Box<dyn Sampler>,
    pruner: PrunerConfig,
    rng: Rng,
    trials: Vec<Trial>,
    queue: VecDeque<Vec<Option<f64>>>,
    journal: Option<Journal>,
    #[cfg(feature = "tune-mysql")]
    db: Option<MysqlStore>,
}

fn validate_constraints(names: &[String]) -> Result<(), Error> {
    let bad = |reason: String| Error::Config {
        what: "study config",
        field: "constraints".into(),
        reason,
    };
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() || n.len() > 256 || n.contains('\0') {
            return Err(bad(format!(
                "constraint #{i} {n:?} must be 1-256 bytes without NUL"
            )));
        }
        if names[..i].contains(n) {
            return Err(bad(format!("constraint \"{n}\" is declared twice")));
        }
    }
    Ok(())
}

/// Checks one internal parameter vector against the space: the right length, active
/// parameters in range, inactive ones absent.
fn check_internal(space: &Space, internal: &[Option<f64>]) -> Result<(), String> {
    if internal.len() != space.params().len() {
        return Err(format!(
            "{} values for {} parameters",
            internal.len(),
            space.params().len()
        ));
    }
    for (i, x) in internal.iter().enumerate() {
        match (x, space.is_active(i, internal)) {
            (Some(x), true) => {
                let (lo, hi) = space.internal_bounds(i);
                if !(x.is_finite() && *x >= lo - 1e-9 && *x <= hi + 1e-9) {
                    return Err(format!(
                        "parameter \"{}\" out of range",
                        space.params()[i].name
                    ));
                }
            }
            (None, false) => {}
            _ => {
                return Err(format!(
                    "parameter \"{}\" contradicts its condition",
                    space.params()[i].name
                ))
            }
        }
    }
    Ok(())
}

impl Study {
    /// Parses a JSON configuration and creates the study (or, with journal storage, opens
    /// the one in the file, creating it when the file is new or empty).
    pub fn from_json(json: &str) -> Result<Study, Error> {
        let config: StudyConfig = serde_json::from_str(json).map_err(|source| Error::Json {
            what: "study config",
            source,
        })?;
        if let Some(c) = &config.constraints {
            validate_constraints(c)?;
        }
        let objectives = config_objectives(&config)?;
        let storage = match &config.storage {
            Some(v) => StorageConfig::from_value(v)?,
            None => StorageConfig::Memory,
        };
        let seed = config.seed.unwrap_or_else(crate::stats::random_seed);
        let mut rng = Rng::seed_from_u64(seed);
        let given = |rng: &mut Rng| -> Result<Definition, Error> {
            Ok(Definition {
                space: config.space.clone().ok_or_else(|| Error::Config {
                    what: "study config",
                    field: "space".into(),
                    reason: "missing (only a journal that holds a study may omit it)".into(),
                })?,
                direction: objectives.as_ref().map_or(Direction::default(), |d| d[0]),
                directions: objectives
                    .clone()
                    .filter(|d| d.len() > 1)
                    .unwrap_or_default(),
                constraints: config.constraints.clone().unwrap_or_default(),
                sampler: config.sampler.clone().unwrap_or_default().resolved(rng),
                pruner: config.pruner.clone().unwrap_or_default(),
            })
        };
        let jc = match storage {
            StorageConfig::Memory => return Study::new(given(&mut rng)?, rng, None),
            StorageConfig::Journal(jc) => jc,
            #[cfg(feature = "tune-mysql")]
            StorageConfig::Mysql(mc) => return Study::open_db(&config, &mc, rng, given),
        };
        let mut journal = Journal::open(&jc)?;
        let lock = journal.lock(true)?;
        let texts = journal.read_new(&lock)?;
        if texts.is_empty() {
            let def = given(&mut rng)?;
            let mut study = Study::new(def.clone(), rng, None)?;
            let create = Op::Create {
                format: JOURNAL_FORMAT.into(),
                version: STATE_VERSION,
                study: def,
            };
            journal.append(&lock, &[encode(&create)])?;
            drop(lock);
            study.journal = Some(journal);
            return Ok(study);
        }
        let path = journal.path().display().to_string();
        let corrupt = |reason: String| Error::Corrupt {
            what: "study journal",
            reason: format!("{path}: {reason}"),
        };
        let def = stored_definition(&config, &texts[0], &mut rng, "study journal", |reason| {
            Error::JournalMismatch {
                path: path.clone(),
                reason,
            }
        })
        .map_err(|e| match e {
            Error::Corrupt { reason, .. } => corrupt(format!("record 1: {reason}")),
            other => other,
        })?;
        let mut study =
            Study::new(def, rng, None).map_err(|e| corrupt(format!("record 1: {e}")))?;
        journal.consume(&texts, 1);
        study.apply_records(&mut journal, &texts[1..])?;
        drop(lock);
        study.journal = Some(journal);
        Ok(study)
    }

    /// Opens (creating when missing) the study `config.name` in a database.
    #[cfg(feature = "tune-mysql")]
    fn open_db(
        config: &StudyConfig,
        mc: &MysqlConfig,
        mut rng: Rng,
        given: impl FnOnce(&mut Rng) -> Result<Definition, Error>,
    ) -> Result<Study, Error> {
        let bad_name = |reason: &str| Error::Config {
            what: "study config",
            field: "name".into(),
            reason: reason.into(),
        };
        let name = config.name.as_deref().ok_or_else(|| {
            bad_name("a study in a database needs a name (every worker that shares it gives the same one)")
        })?;
        if name.is_empty() || name.len() > 512 || name.contains('\0') {
            return Err(bad_name("must be 1-512 bytes without NUL"));
        }
        let mut made = None;
        let opened = MysqlStore::open(mc, name, || {
            let def = given(&mut rng)?;
            let header = encode(&Op::Create {
                format: JOURNAL_FORMAT.into(),
                version: STATE_VERSION,
                study: def.clone(),
            });
            let direction: Vec<&'static str> = def
                .objectives()
                .into_iter()
                .map(|d| match d {
                    Direction::Minimize => "MINIMIZE",
                    Direction::Maximize => "MAXIMIZE",
                })
                .collect();
            // Checks the definition (space, constraints, sampler) before anything is written.
            Study::new(def.clone(), Rng::seed_from_u64(0), None)?;
            made = Some(def);
            Ok((header, direction))
        })?;
        let mut db = opened.store;
        let def = match (opened.definition, made) {
            (Some(text), _) => {
                let place = db.place().to_owned();
                stored_definition(config, &text, &mut rng, "study database", |reason| {
                    Error::StudyMismatch {
                        study: place.clone(),
                        reason,
                    }
                })?
            }
            (None, Some(def)) => def,
            (None, None) => {
                return Err(Error::Corrupt {
                    what: "study database",
                    reason: format!("{}: the study has no definition", db.place()),
                })
            }
        };
        let mut study = Study::new(def, rng, None).map_err(|e| Error::Corrupt {
            what: "study database",
            reason: format!("{}: {e}", db.place()),
        })?;
        db.set_space(&study.space);
        study.apply_rows(&mut db, opened.log)?;
        study.db = Some(db);
        Ok(study)
    }

    /// Runs `f` with the database store taken out of the study (so both can be borrowed);
    /// `None` for other storage.
    #[cfg(feature = "tune-mysql")]
    fn with_db<T>(
        &mut self,
        f: impl FnOnce(&mut Study, &mut MysqlStore) -> Result<T, Error>,
    ) -> Option<Result<T, Error>> {
        let mut db = self.db.take()?;
        let r = f(self, &mut db);
        self.db = Some(db);
        Some(r)
    }

    /// Applies change records read from the database, in sequence, moving its cursor. It
    /// stops at a gap: InnoDB's read views are not taken atomically, so a read may briefly
    /// see a change without one committed just before it; the next read brings the rest.
    #[cfg(feature = "tune-mysql")]
    fn apply_rows(&mut self, db: &mut MysqlStore, rows: Vec<LogRow>) -> Result<(), Error> {
        for (seq, text) in rows {
            if seq <= db.cursor {
                continue;
            }
            if seq != db.cursor + 1 {
                log::debug!(
                    "{}: change {} not visible yet (read {seq}); reading again later",
                    db.place(),
                    db.cursor + 1
                );
                break;
            }
            let corrupt = |reason: String| Error::Corrupt {
                what: "study database",
                reason: format!("{}: change {seq}: {reason}", db.place()),
            };
            let op = serde_json::from_str::<Op>(&text).map_err(|e| corrupt(e.to_string()))?;
            self.apply(op).map_err(corrupt)?;
            db.cursor = seq;
        }
        Ok(())
    }

    /// Reads until the replica holds every change up to `seq` (one this handle wrote, or
    /// one committed before its call): normally no read at all, a few milliseconds when a
    /// read view lagged; a change still missing after 5 s is reported.
    #[cfg(feature = "tune-mysql")]
    fn catch_up(&mut self, db: &mut MysqlStore, seq: i64) -> Result<(), Error> {
        let start = std::time::Instant::now();
        let mut wait = std::time::Duration::from_micros(200);
        while db.cursor < seq {
            if start.elapsed() > std::time::Duration::from_secs(5) {
                return Err(Error::Corrupt {
                    what: "study database",
                    reason: format!(
                        "{}: change {} is still missing 5 s after change {seq} committed",
                        db.place(),
                        db.cursor + 1
                    ),
                });
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(std::time::Duration::from_millis(50));
            let rows = db.refresh()?;
            self.apply_rows(db, rows)?;
        }
        Ok(())
    }

    #[cfg(feature = "tune-mysql")]
    fn ask_db(&mut self, db: &mut MysqlStore) -> Result<Asked, Error> {
        // Propose from the study as it is now: other workers' running trials included, so
        // constant liar (and the grid) keep concurrent workers apart.
        let rows = db.refresh()?;
        self.apply_rows(db, rows)?;
        if db.reap_due() {
            self.reap(db)?;
        }
        let internal =
            self.sampler
                .sample(&self.space, &self.trials, &self.directions, &mut self.rng);
        let (number, seq, rows) = db.ask(&self.space, &internal)?;
        self.apply_rows(db, rows)?;
        self.catch_up(db, seq)?;
        let trial = usize::try_from(number)
            .ok()
            .and_then(|i| self.trials.get(i))
            .ok_or_else(|| Error::Corrupt {
                what: "study database",
                reason: format!("{}: trial {number} is missing from the log", db.place()),
            })?;
        Ok(Asked {
            id: trial.id,
            params: self.external(&trial.internal),
        })
    }

    /// Marks running trials whose heartbeat stopped (their worker died) as failed.
    #[cfg(feature = "tune-mysql")]
    fn reap(&mut self, db: &mut MysqlStore) -> Result<(), Error> {
        let running: Vec<u64> = self
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Running)
            .map(|t| t.id)
            .collect();
        for number in db.stale(&running)? {
            let op = encode(&Op::Tell {
                id: number as u64,
                state: TrialState::Failed,
                value: None,
                constraints: Vec::new(),
                values: Vec::new(),
            });
            let told = db.tell(number, optuna_state(TrialState::Failed), &[], None, op)?;
            self.apply_rows(db, told.log)?;
            self.catch_up(db, told.seq)?;
            if told.status == 0 {
                log::warn!(
                    "{}: trial {number} had no heartbeat for {} s (its worker stopped): marked failed",
                    db.place(),
                    db.grace_s()
                );
            }
        }
        Ok(())
    }

    #[cfg(feature = "tune-mysql")]
    fn tell_db(
        &mut self,
        db: &mut MysqlStore,
        id: u64,
        outcome: Outcome,
    ) -> Result<TrialState, Error> {
        if id >= self.trials.len() as u64 {
            let rows = db.refresh()?;
            self.apply_rows(db, rows)?;
        }
        let state = outcome.state;
        let known = |s: &Study| -> Result<Option<Outcome>, Error> {
            let t = usize::try_from(id)
                .ok()
                .and_then(|i| s.trials.get(i))
                .ok_or(Error::UnknownTrial {
                    id,
                    count: s.trials.len(),
                })?;
            Ok((t.state != TrialState::Running).then(|| Outcome {
                state: t.state,
                value: t.value,
                values: t.values.clone(),
                constraints: t.constraints.clone(),
            }))
        };
        // A tell repeated after a lost answer (same state and values) succeeds again.
        let finished = |done: Outcome| -> Result<TrialState, Error> {
            if done.state == outcome.state
                && done.value == outcome.value
                && done.values == outcome.values
            {
                Ok(state)
            } else {
                Err(Error::TrialFinished {
                    id,
                    state: done.state,
                })
            }
        };
        if let Some(done) = known(self)? {
            return finished(done);
        }
        let op = encode(&Op::Tell {
            id,
            state,
            value: outcome.value,
            constraints: outcome.constraints.clone(),
            values: outcome.values.clone(),
        });
        let cjson = (!outcome.constraints.is_empty())
            .then(|| serde_json::to_string(&outcome.constraints).unwrap_or_default());
        let objective_values: Vec<f64> = match outcome.value {
            Some(v) => vec![v],
            None => outcome.values.clone(),
        };
        let told = db.tell(id as i64, optuna_state(state), &objective_values, cjson, op)?;
        self.apply_rows(db, told.log)?;
        self.catch_up(db, told.seq)?;
        match told.status {
            0 => Ok(state),
            1 => Err(Error::UnknownTrial {
                id,
                count: self.trials.len(),
            }),
            _ => match known(self)? {
                Some(done) => finished(done),
                None => Err(Error::Corrupt {
                    what: "study database",
                    reason: format!(
                        "{}: trial {id} is finished in the database but not in its log",
                        db.place()
                    ),
                }),
            },
        }
    }

    fn new(def: Definition, rng: Rng, journal: Option<Journal>) -> Result<Study, Error> {
        validate_constraints(&def.constraints)?;
        let space = Space::from_json(&def.space.to_string())?;
        let directions = def.objectives();
        def.pruner.validate()?;
        if directions.len() > 1 && !def.pruner.is_none() {
            return Err(Error::Config {
                what: "study config",
                field: "pruner".into(),
                reason: "pruning needs a study with one objective".into(),
            });
        }
        Ok(Study {
            sampler: def.sampler.build(&space, directions.len())?,
            space,
            space_json: def.space,
            directions,
            constraints: def.constraints,
            sampler_config: def.sampler,
            pruner: def.pruner,
            rng,
            trials: Vec::new(),
            queue: VecDeque::new(),
            journal,
            #[cfg(feature = "tune-mysql")]
            db: None,
        })
    }

    /// The search space.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The direction (of the first objective, for a study with several).
    pub fn direction(&self) -> Direction {
        self.directions[0]
    }

    /// The directions, one per objective.
    pub fn directions(&self) -> &[Direction] {
        &self.directions
    }

    /// The declared constraint names, in the order `tell_with` takes their values.
    pub fn constraint_names(&self) -> &[String] {
        &self.constraints
    }

    /// Every trial, in id order (with journal storage: as of the last call that read the
    /// journal; [`Study::refresh`] reads it now).
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// Applies records other processes appended to the journal (a no-op in memory).
    pub fn refresh(&mut self) -> Result<(), Error> {
        #[cfg(feature = "tune-mysql")]
        if let Some(r) = self.with_db(|s, db| {
            let rows = db.refresh()?;
            s.apply_rows(db, rows)
        }) {
            return r;
        }
        let Some(mut journal) = self.journal.take() else {
            return Ok(());
        };
        let result = journal.lock(false).and_then(|lock| {
            let texts = journal.read_new(&lock)?;
            self.apply_records(&mut journal, &texts)
        });
        self.journal = Some(journal);
        result
    }

    /// Writes the journal's records to the disk now (a no-op in memory).
    pub fn flush(&self) -> Result<(), Error> {
        self.journal.as_ref().map_or(Ok(()), Journal::flush)
    }

    fn apply_records(&mut self, journal: &mut Journal, texts: &[String]) -> Result<(), Error> {
        for (k, text) in texts.iter().enumerate() {
            let applied = serde_json::from_str::<Op>(text)
                .map_err(|e| e.to_string())
                .and_then(|op| self.apply(op));
            if let Err(reason) = applied {
                journal.consume(texts, k);
                return Err(Error::Corrupt {
                    what: "study journal",
                    reason: format!(
                        "{}: record {}: {reason}",
                        journal.path().display(),
                        journal.records() + 1
                    ),
                });
            }
        }
        journal.consume(texts, texts.len());
        Ok(())
    }

    /// Validates with `f` (which sees the study up to date and returns the change), records
    /// the change in the journal, then applies it. Nothing changes when any step fails.
    fn mutate<T>(
        &mut self,
        f: impl FnOnce(&mut Study) -> Result<(Op, T), Error>,
    ) -> Result<T, Error> {
        let Some(mut journal) = self.journal.take() else {
            let (op, out) = f(self)?;
            self.apply(op).map_err(|reason| Error::Corrupt {
                what: "study",
                reason,
            })?;
            return Ok(out);
        };
        let result = journal.lock(true).and_then(|lock| {
            let texts = journal.read_new(&lock)?;
            self.apply_records(&mut journal, &texts)?;
            let (op, out) = f(self)?;
            journal.append(&lock, &[encode(&op)])?;
            self.apply(op).map_err(|reason| Error::Corrupt {
                what: "study journal",
                reason,
            })?;
            Ok(out)
        });
        self.journal = Some(journal);
        result
    }

    /// Whether a trial's values fit its state and the study: a complete trial has one finite
    /// value per objective (`value` for one objective, `values` for several) and one finite
    /// value per constraint; other states have none.
    fn consistent(
        &self,
        state: TrialState,
        value: Option<f64>,
        values: &[f64],
        constraints: &[f64],
    ) -> bool {
        match state {
            TrialState::Complete => {
                let objectives = if self.directions.len() == 1 {
                    value.is_some_and(f64::is_finite) && values.is_empty()
                } else {
                    value.is_none()
                        && values.len() == self.directions.len()
                        && values.iter().all(|v| v.is_finite())
                };
                objectives
                    && constraints.len() == self.constraints.len()
                    && constraints.iter().all(|c| c.is_finite())
            }
            _ => value.is_none() && values.is_empty() && constraints.is_empty(),
        }
    }

    /// Applies one change; an inconsistent one (only possible from a damaged journal) is
    /// refused with the reason and changes nothing.
    fn apply(&mut self, op: Op) -> Result<(), String> {
        let n = self.trials.len() as u64;
        match op {
            Op::Create { .. } => return Err("a second study header".into()),
            Op::Ask {
                id,
                internal,
                queued,
            } => {
                if id != n {
                    return Err(format!("ask of trial {id}, expected {n}"));
                }
                check_internal(&self.space, &internal)?;
                if queued && self.queue.pop_front().is_none() {
                    return Err("ask from an empty queue".into());
                }
                self.trials.push(Trial::running(id, internal));
            }
            Op::Tell {
                id,
                state,
                value,
                constraints,
                values,
            } => {
                let ok = state != TrialState::Running
                    && self.consistent(state, value, &values, &constraints);
                let trial = usize::try_from(id)
                    .ok()
                    .and_then(|i| self.trials.get_mut(i))
                    .ok_or_else(|| format!("tell of unknown trial {id}"))?;
                if !ok || trial.state != TrialState::Running {
                    return Err(format!("tell of trial {id} is inconsistent"));
                }
                trial.state = state;
                trial.value = value;
                trial.constraints = constraints;
                trial.values = values;
            }
            Op::Report { id, step, value } => {
                let trial = usize::try_from(id)
                    .ok()
                    .and_then(|i| self.trials.get_mut(i))
                    .ok_or_else(|| format!("report of unknown trial {id}"))?;
                if trial.state != TrialState::Running || !value.is_finite() {
                    return Err(format!("report of trial {id} is inconsistent"));
                }
                // A step reported twice keeps its first value (as Optuna does).
                if let Err(at) = trial.intermediate.binary_search_by_key(&step, |r| r.0) {
                    trial.intermediate.insert(at, (step, value));
                }
            }
            Op::Enqueue { internal } => {
                check_internal(&self.space, &internal)?;
                self.queue.push_back(internal);
            }
            Op::Add { trial } => {
                if trial.id != n {
                    return Err(format!("added trial {}, expected {n}", trial.id));
                }
                check_internal(&self.space, &trial.internal)?;
                if !self.consistent(trial.state, trial.value, &trial.values, &trial.constraints) {
                    return Err(format!(
                        "trial {}: values or constraints do not match state {:?}",
                        trial.id, trial.state
                    ));
                }
                if !(trial.intermediate.iter().all(|r| r.1.is_finite())
                    && trial.intermediate.windows(2).all(|w| w[0].0 < w[1].0))
                {
                    return Err(format!(
                        "trial {}: intermediate values must be finite, by increasing step",
                        trial.id
                    ));
                }
                self.trials.push(trial);
            }
        }
        Ok(())
    }

    /// Starts a trial: the next enqueued configuration if any, else the sampler's proposal.
    pub fn ask(&mut self) -> Result<Asked, Error> {
        #[cfg(feature = "tune-mysql")]
        if let Some(r) = self.with_db(|s, db| s.ask_db(db)) {
            return r;
        }
        self.mutate(|s| {
            let (internal, queued) = match s.queue.front() {
                Some(q) => (q.clone(), true),
                None => (
                    s.sampler
                        .sample(&s.space, &s.trials, &s.directions, &mut s.rng),
                    false,
                ),
            };
            let id = s.trials.len() as u64;
            let params = s.external(&internal);
            Ok((
                Op::Ask {
                    id,
                    internal,
                    queued,
                },
                Asked { id, params },
            ))
        })
    }

    fn external(&self, internal: &[Option<f64>]) -> Map<String, Value> {
        let mut params = Map::new();
        for (i, p) in self.space.params().iter().enumerate() {
            if let Some(x) = internal[i] {
                params.insert(p.name.clone(), self.space.to_external(i, x));
            }
        }
        params
    }

    /// Finishes trial `id` (see [`Study::tell_with`]; for studies without constraints).
    pub fn tell(&mut self, id: u64, value: f64, state: TrialState) -> Result<TrialState, Error> {
        self.tell_with(id, value, state, &[])
    }

    /// Finishes trial `id` with its value and, for a complete trial of a study with
    /// constraints, one value per declared constraint (feasible when `<= 0`). A complete
    /// trial whose value is NaN or infinite is recorded as `Failed` (so it never reaches the
    /// model) and that state is returned. `Failed` and `Pruned` ignore `value` and
    /// `constraints`. Unknown ids, finished trials, a wrong number of constraint values or a
    /// non-finite one are errors that change nothing. Returns the state recorded. A study
    /// with several objectives needs [`Study::tell_values`] for complete trials.
    pub fn tell_with(
        &mut self,
        id: u64,
        value: f64,
        state: TrialState,
        constraints: &[f64],
    ) -> Result<TrialState, Error> {
        self.tell_values(id, &[value], state, constraints)
    }

    /// Finishes trial `id` with one value per objective (in the order of the study's
    /// directions), as [`Study::tell_with`] does for one: a complete trial with any NaN or
    /// infinite value is recorded as `Failed`; a wrong number of values is an error that
    /// changes nothing.
    pub fn tell_values(
        &mut self,
        id: u64,
        values: &[f64],
        state: TrialState,
        constraints: &[f64],
    ) -> Result<TrialState, Error> {
        #[cfg(feature = "tune-mysql")]
        if self.db.is_some() {
            let outcome = self.recorded(id, values, state, constraints)?;
            if let Some(r) = self.with_db(|s, db| s.tell_db(db, id, outcome)) {
                return r;
            }
        }
        self.mutate(|s| {
            let trial = usize::try_from(id)
                .ok()
                .and_then(|i| s.trials.get(i))
                .ok_or(Error::UnknownTrial {
                    id,
                    count: s.trials.len(),
                })?;
            if trial.state != TrialState::Running {
                return Err(Error::TrialFinished {
                    id,
                    state: trial.state,
                });
            }
            let o = s.recorded(id, values, state, constraints)?;
            let state = o.state;
            Ok((
                Op::Tell {
                    id,
                    state: o.state,
                    value: o.value,
                    constraints: o.constraints,
                    values: o.values,
                },
                state,
            ))
        })
    }

    /// Records an intermediate value of running trial `id` at `step` (a validation score
    /// after an epoch, the quality after n of m evaluation samples) for the pruner; a step
    /// reported twice keeps its first value, as in Optuna. Steps go up to 2^31 - 1 (Optuna's
    /// storage). Errors, changing nothing: an unknown or finished trial, a NaN or infinite
    /// value, a study with several objectives.
    pub fn report(&mut self, id: u64, step: u64, value: f64) -> Result<(), Error> {
        if self.directions.len() > 1 {
            return Err(Error::SingleObjective { what: "pruning" });
        }
        if !value.is_finite() {
            return Err(Error::InvalidValue {
                id,
                what: format!("intermediate value at step {step}"),
                value,
            });
        }
        if step > i32::MAX as u64 {
            return Err(Error::Step { id, step });
        }
        let running = |s: &Study| -> Result<bool, Error> {
            let t = s.running_trial(id)?;
            Ok(t.intermediate.binary_search_by_key(&step, |r| r.0).is_err())
        };
        #[cfg(feature = "tune-mysql")]
        if let Some(r) = self.with_db(|s, db| {
            let rows = db.refresh()?;
            s.apply_rows(db, rows)?;
            if !running(s)? {
                return Ok(());
            }
            let op = encode(&Op::Report { id, step, value });
            let (_, seq, rows) = db.write(
                &s.space,
                Change::Report {
                    number: id as i64,
                    step: step as i64,
                    value,
                    op,
                },
            )?;
            s.apply_rows(db, rows)?;
            s.catch_up(db, seq)
        }) {
            return r;
        }
        self.mutate(|s| {
            running(s)?;
            Ok((Op::Report { id, step, value }, ()))
        })
    }

    /// Whether running trial `id` should stop now, by the study's pruner (see
    /// [`super::pruner`]) from its reports and every other trial's (read first from the
    /// journal or database). Always `false` without a pruner. Errors: an unknown or finished
    /// trial.
    pub fn should_prune(&mut self, id: u64) -> Result<bool, Error> {
        if !self.pruner.is_none() || id >= self.trials.len() as u64 {
            self.refresh()?;
        }
        let trial = self.running_trial(id)?;
        Ok(self
            .pruner
            .should_prune(trial, &self.trials, self.directions[0]))
    }

    /// The running trial `id`, or why it is not one.
    fn running_trial(&self, id: u64) -> Result<&Trial, Error> {
        let t = usize::try_from(id)
            .ok()
            .and_then(|i| self.trials.get(i))
            .ok_or(Error::UnknownTrial {
                id,
                count: self.trials.len(),
            })?;
        if t.state != TrialState::Running {
            return Err(Error::TrialFinished { id, state: t.state });
        }
        Ok(t)
    }

    /// What a tell records: the state (a complete trial with a NaN or infinite value becomes
    /// failed), the value or values (complete trials only) and the checked constraint
    /// values.
    fn recorded(
        &self,
        id: u64,
        values: &[f64],
        state: TrialState,
        constraints: &[f64],
    ) -> Result<Outcome, Error> {
        let n = self.directions.len();
        let mut out = Outcome {
            state,
            value: None,
            values: Vec::new(),
            constraints: Vec::new(),
        };
        match state {
            TrialState::Running => return Err(Error::TrialStillRunning { id }),
            TrialState::Complete if values.len() != n => {
                return Err(Error::Objectives {
                    id,
                    reason: format!(
                        "{} values told; the study has {n} objective{}",
                        values.len(),
                        if n == 1 { "" } else { "s" }
                    ),
                })
            }
            TrialState::Complete if values.iter().any(|v| !v.is_finite()) => {
                log::warn!("trial {id}: value {values:?} is not finite: recorded as failed");
                out.state = TrialState::Failed;
            }
            TrialState::Complete => {
                if n == 1 {
                    out.value = Some(values[0]);
                } else {
                    out.values = values.to_vec();
                }
                out.constraints = self.check_constraints(id, constraints)?;
            }
            _ => {}
        }
        Ok(out)
    }

    fn check_constraints(&self, id: u64, values: &[f64]) -> Result<Vec<f64>, Error> {
        if values.len() != self.constraints.len() {
            return Err(Error::Constraints {
                id,
                reason: if self.constraints.is_empty() {
                    format!(
                        "{} constraint values given; the study declares no constraints",
                        values.len()
                    )
                } else {
                    format!(
                        "{} constraint values given; the study declares {} ({})",
                        values.len(),
                        self.constraints.len(),
                        self.constraints.join(", ")
                    )
                },
            });
        }
        for (name, v) in self.constraints.iter().zip(values) {
            if !v.is_finite() {
                return Err(Error::InvalidValue {
                    id,
                    what: format!("constraint \"{name}\""),
                    value: *v,
                });
            }
        }
        Ok(values.to_vec())
    }

    /// Constraint values by name (for bindings that take a map): every declared constraint
    /// must be present, and no other name.
    pub fn constraints_from_map(
        &self,
        id: u64,
        map: &Map<String, Value>,
    ) -> Result<Vec<f64>, Error> {
        if let Some(extra) = map.keys().find(|k| !self.constraints.contains(k)) {
            return Err(Error::Constraints {
                id,
                reason: format!(
                    "unknown constraint \"{extra}\" (declared: {})",
                    self.constraints.join(", ")
                ),
            });
        }
        self.constraints
            .iter()
            .map(|name| match map.get(name).map(Value::as_f64) {
                Some(Some(v)) => Ok(v),
                Some(None) => Err(Error::Constraints {
                    id,
                    reason: format!("constraint \"{name}\" is not a number"),
                }),
                None => Err(Error::Constraints {
                    id,
                    reason: format!("constraint \"{name}\" is missing"),
                }),
            })
            .collect()
    }

    /// Queues a configuration (parameter name -> value) for the next `ask`. Every active
    /// parameter must be given, each inside its range; inactive ones must be absent.
    pub fn enqueue(&mut self, params: &Map<String, Value>) -> Result<(), Error> {
        let internal = self.internal(params)?;
        #[cfg(feature = "tune-mysql")]
        if let Some(r) = self.with_db(|s, db| {
            let op = encode(&Op::Enqueue {
                internal: internal.clone(),
            });
            let (_, seq, rows) = db.write(
                &s.space,
                Change::Enqueue {
                    internal: internal.clone(),
                    op,
                },
            )?;
            s.apply_rows(db, rows)?;
            s.catch_up(db, seq)
        }) {
            return r;
        }
        self.mutate(|_| Ok((Op::Enqueue { internal }, ())))
    }

    /// Records a trial evaluated elsewhere (e.g. history from before the study existed).
    /// Its value must be finite when complete.
    pub fn add_trial(
        &mut self,
        params: &Map<String, Value>,
        value: f64,
        state: TrialState,
    ) -> Result<u64, Error> {
        self.add_trial_with(params, value, state, &[])
    }

    /// [`Study::add_trial`] with constraint values (as for [`Study::tell_with`]).
    pub fn add_trial_with(
        &mut self,
        params: &Map<String, Value>,
        value: f64,
        state: TrialState,
        constraints: &[f64],
    ) -> Result<u64, Error> {
        self.add_trial_values(params, &[value], state, constraints)
    }

    /// [`Study::add_trial_with`] with one value per objective (for a study with several).
    pub fn add_trial_values(
        &mut self,
        params: &Map<String, Value>,
        values: &[f64],
        state: TrialState,
        constraints: &[f64],
    ) -> Result<u64, Error> {
        let internal = self.internal(params)?;
        // Unlike a tell, an injected result must be finite: it is history, not a failure.
        let checked = |s: &Study, id: u64| -> Result<Outcome, Error> {
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                if state == TrialState::Complete {
                    return Err(Error::InvalidValue {
                        id,
                        what: "value".into(),
                        value: *v,
                    });
                }
            }
            s.recorded(id, values, state, constraints)
        };
        #[cfg(feature = "tune-mysql")]
        if self.db.is_some() {
            let o = checked(self, self.trials.len() as u64)?;
            let optuna_state = optuna_state(o.state);
            let internal = internal.clone();
            let build = Box::new(move |number: u64| {
                let cjson = (!o.constraints.is_empty())
                    .then(|| serde_json::to_string(&o.constraints).unwrap_or_default());
                let objective_values: Vec<f64> = match o.value {
                    Some(v) => vec![v],
                    None => o.values.clone(),
                };
                let mut trial = Trial::running(number, internal.clone());
                trial.state = o.state;
                trial.value = o.value;
                trial.values = o.values;
                trial.constraints = o.constraints;
                (
                    encode(&Op::Add { trial }),
                    internal,
                    optuna_state,
                    objective_values,
                    cjson,
                )
            });
            if let Some(r) = self.with_db(|s, db| {
                let (number, seq, rows) = db.write(&s.space, Change::Add { build })?;
                s.apply_rows(db, rows)?;
                s.catch_up(db, seq)?;
                Ok(number.unwrap_or(0) as u64)
            }) {
                return r;
            }
        }
        self.mutate(|s| {
            let id = s.trials.len() as u64;
            let o = checked(s, id)?;
            let mut trial = Trial::running(id, internal);
            trial.state = o.state;
            trial.value = o.value;
            trial.values = o.values;
            trial.constraints = o.constraints;
            Ok((Op::Add { trial }, id))
        })
    }

    fn internal(&self, params: &Map<String, Value>) -> Result<Vec<Option<f64>>, Error> {
        let mut internal: Vec<Option<f64>> = vec![None; self.space.params().len()];
        for (i, p) in self.space.params().iter().enumerate() {
            let active = self.space.is_active(i, &internal);
            match (params.get(&p.name), active) {
                (Some(v), true) => internal[i] = Some(self.space.to_internal(i, v)?),
                (None, true) => {
                    return Err(Error::Space {
                        param: p.name.clone(),
                        reason: "missing".into(),
                    })
                }
                (Some(_), false) => {
                    return Err(Error::Space {
                        param: p.name.clone(),
                        reason: "given, but inactive under its condition".into(),
                    })
                }
                (None, false) => {}
            }
        }
        if let Some(extra) = params.keys().find(|k| self.space.index(k).is_none()) {
            return Err(Error::Space {
                param: extra.clone(),
                reason: "not in the space".into(),
            });
        }
        Ok(internal)
    }

    /// The best feasible complete trial (the first on ties), if any; `None` for a study
    /// with several objectives (see [`Study::best_trials`]).
    pub fn best(&self) -> Option<&Trial> {
        if self.directions.len() > 1 {
            return None;
        }
        let d = self.directions[0];
        let better = |a: f64, b: f64| d.better(a, b);
        let mut best: Option<&Trial> = None;
        for t in &self.trials {
            if let (true, Some(v)) = (t.is_feasible(), t.value) {
                if best.and_then(|b| b.value).is_none_or(|b| better(v, b)) {
                    best = Some(t);
                }
            }
        }
        best
    }

    /// The best trials: for one objective, the best feasible trial (or none); for several,
    /// the Pareto front: every feasible complete trial that no other feasible trial
    /// dominates (at least as good in every objective, better in one), in id order.
    pub fn best_trials(&self) -> Vec<&Trial> {
        if self.directions.len() == 1 {
            return self.best().into_iter().collect();
        }
        let feasible: Vec<&Trial> = self.trials.iter().filter(|t| t.is_feasible()).collect();
        let points: Vec<Vec<f64>> = feasible
            .iter()
            .map(|t| pareto::to_minimize(&t.values, &self.directions))
            .collect();
        pareto::front(&points)
            .into_iter()
            .map(|i| feasible[i])
            .collect()
    }

    /// The whole study (configuration, trials, queue, generator) as versioned JSON that
    /// [`Study::load_json`] restores to an in-memory study making the same proposals.
    pub fn save_json(&self) -> String {
        let state = State {
            format: STATE_FORMAT.into(),
            version: STATE_VERSION,
            space: self.space_json.clone(),
            direction: self.directions[0],
            directions: if self.directions.len() > 1 {
                self.directions.clone()
            } else {
                Vec::new()
            },
            constraints: self.constraints.clone(),
            sampler: self.sampler_config.clone(),
            pruner: self.pruner.clone(),
            rng: self.rng.to_hex(),
            trials: self.trials.clone(),
            queue: self.queue.iter().cloned().collect(),
        };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// Restores a study saved by [`Study::save_json`], checking every trial against the space.
    pub fn load_json(json: &str) -> Result<Study, Error> {
        let what = "study state";
        let corrupt = |reason: String| Error::Corrupt { what, reason };
        let state: State = super::parse_saved(json, what, STATE_FORMAT, STATE_VERSION)?;
        let rng = Rng::from_hex(&state.rng)
            .ok_or_else(|| corrupt("\"rng\" is not a generator state".into()))?;
        let def = Definition {
            space: state.space,
            direction: state.direction,
            directions: state.directions,
            constraints: state.constraints,
            sampler: state.sampler,
            pruner: state.pruner,
        };
        let mut study = Study::new(def, rng, None).map_err(|e| corrupt(e.to_string()))?;
        for (k, t) in state.trials.into_iter().enumerate() {
            let at = format!("trials[{k}]");
            if t.id != k as u64 {
                return Err(corrupt(format!("{at}: id {} out of sequence", t.id)));
            }
            let consistent = study.consistent(t.state, t.value, &t.values, &t.constraints);
            if !consistent {
                return Err(corrupt(format!(
                    "{at}: value or constraints do not match state {:?}",
                    t.state
                )));
            }
            study
                .apply(Op::Add { trial: t })
                .map_err(|r| corrupt(format!("{at}: {r}")))?;
        }
        for (k, q) in state.queue.into_iter().enumerate() {
            study
                .apply(Op::Enqueue { internal: q })
                .map_err(|r| corrupt(format!("queue[{k}]: {r}")))?;
        }
        Ok(study)
    }

    /// Parses a JSON object of parameters (for [`Study::enqueue`] and [`Study::add_trial`]).
    pub fn parse_params(json: &str) -> Result<Map<String, Value>, Error> {
        serde_json::from_str(json).map_err(|source| Error::Json {
            what: "trial params",
            source,
        })
    }

    /// A trial as JSON: `{"id", "state", "value", "params"}` (`value` null unless complete),
    /// plus `"constraints"` (name -> value, null unless complete) and `"feasible"` when the
    /// study declares constraints.
    pub fn trial_json(&self, trial: &Trial) -> Value {
        let mut v = serde_json::json!({
            "id": trial.id,
            "state": trial.state,
            "params": self.params_of(trial),
        });
        if self.directions.len() == 1 {
            v["value"] = trial.value.map_or(Value::Null, Value::from);
        } else {
            v["values"] = if trial.values.is_empty() {
                Value::Null
            } else {
                Value::from(trial.values.clone())
            };
        }
        if !trial.intermediate.is_empty() {
            v["intermediate"] = trial
                .intermediate
                .iter()
                .map(|(step, x)| serde_json::json!([step, x]))
                .collect();
        }
        if !self.constraints.is_empty() {
            let c: Option<Map<String, Value>> = (!trial.constraints.is_empty()).then(|| {
                self.constraints
                    .iter()
                    .cloned()
                    .zip(trial.constraints.iter().map(|c| Value::from(*c)))
                    .collect()
            });
            v["constraints"] = c.map_or(Value::Null, Value::Object);
            v["feasible"] = Value::Bool(trial.is_feasible());
        }
        v
    }

    /// Every trial as a JSON array of [`Study::trial_json`] objects, after reading what
    /// other processes wrote to the journal.
    pub fn trials_json(&mut self) -> Result<String, Error> {
        self.refresh()?;
        Ok(Value::Array(self.trials.iter().map(|t| self.trial_json(t)).collect()).to_string())
    }

    /// The best trial as [`Study::trial_json`], after reading the journal; an error while no
    /// trial is complete (or, with constraints, none is feasible). For a study with several
    /// objectives: the Pareto front ([`Study::best_trials`]) as a JSON array.
    pub fn best_json(&mut self) -> Result<String, Error> {
        self.refresh()?;
        let best = self.best_trials();
        if best.is_empty() {
            let complete = self
                .trials
                .iter()
                .filter(|t| t.state == TrialState::Complete)
                .count();
            return Err(if complete == 0 {
                Error::NoCompleteTrial
            } else {
                Error::NoFeasibleTrial { complete }
            });
        }
        if self.directions.len() == 1 {
            return Ok(self.trial_json(best[0]).to_string());
        }
        Ok(Value::Array(best.into_iter().map(|t| self.trial_json(t)).collect()).to_string())
    }

    /// How much each parameter matters for reaching good values (see
    /// [`super::importance`]): `(name, share)` pairs, largest first, shares summing to 1.
    pub fn importance(&self) -> Result<Vec<(String, f64)>, Error> {
        if self.directions.len() > 1 {
            return Err(Error::SingleObjective {
                what: "parameter importance",
            });
        }
        super::importance::ped_anova(&self.space, &self.trials, self.directions[0])
    }

    /// [`Study::importance`] after reading the journal, as a JSON array
    /// `[{"param": "x", "importance": 0.71}, ...]`, largest first.
    pub fn importance_json(&mut self) -> Result<String, Error> {
        self.refresh()?;
        let rows: Vec<Value> = self
            .importance()?
            .into_iter()
            .map(|(k, v)| serde_json::json!({"param": k, "importance": v}))
            .collect();
        Ok(Value::Array(rows).to_string())
    }

    /// Constraint values from JSON: an object by constraint name (every declared one, no
    /// other) or an array in declaration order. For bindings and the C ABI.
    pub fn parse_constraints(&self, id: u64, json: &str) -> Result<Vec<f64>, Error> {
        let value: Value = serde_json::from_str(json).map_err(|source| Error::Json {
            what: "constraints",
            source,
        })?;
        match value {
            Value::Object(map) => self.constraints_from_map(id, &map),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    v.as_f64().ok_or_else(|| Error::Constraints {
                        id,
                        reason: format!("constraint #{k} is not a number"),
                    })
                })
                .collect(),
            _ => Err(Error::Constraints {
                id,
                reason: "constraints must be an object by name or an array".into(),
            }),
        }
    }

    /// The parameters of a trial as JSON values (active parameters only).
    pub fn params_of(&self, trial: &Trial) -> Map<String, Value> {
        self.external(&trial.internal)
    }
}

/// Optuna's name for a finished trial's state (its `trials.state` enum).
#[cfg(feature = "tune-mysql")]
fn optuna_state(state: TrialState) -> &'static str {
    match state {
        TrialState::Complete => "COMPLETE",
        TrialState::Pruned => "PRUNED",
        TrialState::Running => "RUNNING",
        TrialState::Failed => "FAIL",
    }
}

/// Reads a stored study header (a journal's first record, a database study's definition)
/// and checks it against the configuration: `space`, `direction` and `constraints` must
/// match when given; a given `sampler` replaces the stored one.
fn stored_definition(
    config: &StudyConfig,
    header: &str,
    rng: &mut Rng,
    what: &'static str,
    mismatch: impl Fn(String) -> Error,
) -> Result<Definition, Error> {
    let corrupt = |reason: String| Error::Corrupt { what, reason };
    let mut def = match serde_json::from_str::<Op>(header) {
        Ok(Op::Create {
            format,
            version,
            study,
        }) if format == JOURNAL_FORMAT => {
            if version != STATE_VERSION {
                return Err(Error::UnsupportedVersion {
                    what,
                    found: version,
                    supported: STATE_VERSION,
                });
            }
            study
        }
        _ => return Err(corrupt("not a gaia study header".into())),
    };
    let differs = |reason: &str| {
        mismatch(format!(
            "it holds a study whose {reason} differs from the configuration"
        ))
    };
    if let Some(space) = &config.space {
        let mine = Space::from_json(&space.to_string())?;
        let theirs =
            Space::from_json(&def.space.to_string()).map_err(|e| corrupt(e.to_string()))?;
        if mine != theirs {
            return Err(differs("search space"));
        }
    }
    if config_objectives(config)?.is_some_and(|d| d != def.objectives()) {
        return Err(differs("direction"));
    }
    if config
        .constraints
        .as_ref()
        .is_some_and(|c| *c != def.constraints)
    {
        return Err(differs("list of constraints"));
    }
    if let Some(s) = &config.sampler {
        def.sampler = s.clone().resolved(rng);
    }
    if let Some(p) = &config.pruner {
        def.pruner = p.clone();
    }
    Ok(def)
}

/// The directions a configuration gives (`direction`, or `directions` for several
/// objectives), if any.
fn config_objectives(config: &StudyConfig) -> Result<Option<Vec<Direction>>, Error> {
    let bad = |reason: &str| Error::Config {
        what: "study config",
        field: "directions".into(),
        reason: reason.into(),
    };
    match (&config.direction, &config.directions) {
        (Some(_), Some(_)) => Err(bad(
            "give either \"direction\" (one objective) or \"directions\" (one per objective)",
        )),
        (_, Some(d)) if d.is_empty() => Err(bad("needs at least one direction")),
        (_, Some(d)) if d.len() > 16 => Err(bad("at most 16 objectives")),
        (_, Some(d)) => Ok(Some(d.clone())),
        (Some(d), None) => Ok(Some(vec![*d])),
        (None, None) => Ok(None),
    }
}

fn encode(op: &Op) -> String {
    serde_json::to_string(op).unwrap_or_default()
}

#[cfg(test)]
mod tests;
