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

/// The life of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    /// Asked, not told yet.
    Running,
    /// Told with a finite value.
    Complete,
    /// The evaluation failed (or its value was NaN or infinite).
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
/// its state and its value.
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
}

/// What `ask` returns: a trial id and its active parameters as JSON values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asked {
    /// The id to tell the result with.
    pub id: u64,
    /// Active parameters by name.
    pub params: Map<String, Value>,
}

/// A study's configuration as JSON: `space` (see [`Space`]), `direction`, `sampler` and an
/// optional `seed`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyConfig {
    space: Value,
    #[serde(default)]
    direction: Direction,
    #[serde(default)]
    sampler: SamplerConfig,
    #[serde(default)]
    seed: Option<u64>,
}

const STATE_FORMAT: &str = "gaia.study";
/// The format version [`Study::save_json`] writes and [`Study::load_json`] reads.
pub const STATE_VERSION: u64 = 1;

/// The persisted form of a study.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    format: String,
    version: u64,
    space: Value,
    direction: Direction,
    sampler: SamplerConfig,
    rng: String,
    trials: Vec<Trial>,
    queue: Vec<Vec<Option<f64>>>,
}

/// An optimisation study. Not internally synchronised (the C ABI wraps it in a lock).
#[derive(Debug)]
pub struct Study {
    space: Space,
    space_json: Value,
    direction: Direction,
    sampler_config: SamplerConfig,
    sampler: Box<dyn Sampler>,
    rng: Rng,
    trials: Vec<Trial>,
    queue: VecDeque<Vec<Option<f64>>>,
}

impl Study {
    /// Parses a JSON configuration and creates the study.
    pub fn from_json(json: &str) -> Result<Study, Error> {
        let config: StudyConfig = serde_json::from_str(json).map_err(|source| Error::Json {
            what: "study config",
            source,
        })?;
        let space = Space::from_json(&config.space.to_string())?;
        let sampler = config.sampler.build()?;
        let seed = config.seed.unwrap_or_else(super::bandit::random_seed);
        Ok(Study {
            space,
            space_json: config.space,
            direction: config.direction,
            sampler_config: config.sampler,
            sampler,
            rng: Rng::seed_from_u64(seed),
            trials: Vec::new(),
            queue: VecDeque::new(),
        })
    }

    /// The search space.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Every trial, in id order.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// Starts a trial: the next enqueued configuration if any, else the sampler's proposal.
    pub fn ask(&mut self) -> Result<Asked, Error> {
        let internal = match self.queue.pop_front() {
            Some(q) => q,
            None => self
                .sampler
                .sample(&self.space, &self.trials, self.direction, &mut self.rng),
        };
        let id = self.trials.len() as u64;
        let params = self.external(&internal);
        self.trials.push(Trial {
            id,
            state: TrialState::Running,
            internal,
            value: None,
        });
        Ok(Asked { id, params })
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

    /// Finishes trial `id`. A `Complete` trial needs a finite `value`: NaN or infinity is
    /// refused with an error and nothing changes (tell it again as `Failed`). `Failed` and
    /// `Pruned` trials ignore `value`. Unknown ids and finished trials are errors.
    pub fn tell(&mut self, id: u64, value: f64, state: TrialState) -> Result<(), Error> {
        let n = self.trials.len();
        let trial = usize::try_from(id)
            .ok()
            .and_then(|i| self.trials.get_mut(i))
            .ok_or(Error::UnknownTrial { id, count: n })?;
        if trial.state != TrialState::Running {
            return Err(Error::TrialFinished {
                id,
                state: trial.state,
            });
        }
        match state {
            TrialState::Running => return Err(Error::TrialStillRunning { id }),
            TrialState::Complete if !value.is_finite() => {
                return Err(Error::InvalidValue { id, value })
            }
            TrialState::Complete => trial.value = Some(value),
            TrialState::Failed | TrialState::Pruned => trial.value = None,
        }
        trial.state = state;
        Ok(())
    }

    /// Queues a configuration (parameter name -> value) for the next `ask`. Every active
    /// parameter must be given, each inside its range; inactive ones must be absent.
    pub fn enqueue(&mut self, params: &Map<String, Value>) -> Result<(), Error> {
        let internal = self.internal(params)?;
        self.queue.push_back(internal);
        Ok(())
    }

    /// Records a trial evaluated elsewhere (e.g. history from before the study existed).
    pub fn add_trial(
        &mut self,
        params: &Map<String, Value>,
        value: f64,
        state: TrialState,
    ) -> Result<u64, Error> {
        let internal = self.internal(params)?;
        let id = self.trials.len() as u64;
        if state == TrialState::Complete && !value.is_finite() {
            return Err(Error::InvalidValue { id, value });
        }
        if state == TrialState::Running {
            return Err(Error::TrialStillRunning { id });
        }
        let value = (state == TrialState::Complete).then_some(value);
        self.trials.push(Trial {
            id,
            state,
            internal,
            value,
        });
        Ok(id)
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

    /// The best complete trial (the first on ties), if any.
    pub fn best(&self) -> Option<&Trial> {
        let better = |a: f64, b: f64| match self.direction {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        };
        let mut best: Option<&Trial> = None;
        for t in &self.trials {
            if let (TrialState::Complete, Some(v)) = (t.state, t.value) {
                if best.and_then(|b| b.value).map_or(true, |b| better(v, b)) {
                    best = Some(t);
                }
            }
        }
        best
    }

    /// The whole study (configuration, trials, queue, generator) as versioned JSON that
    /// [`Study::load_json`] restores to a study making the same proposals.
    pub fn save_json(&self) -> String {
        let state = State {
            format: STATE_FORMAT.into(),
            version: STATE_VERSION,
            space: self.space_json.clone(),
            direction: self.direction,
            sampler: self.sampler_config,
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
        let space =
            Space::from_json(&state.space.to_string()).map_err(|e| corrupt(e.to_string()))?;
        let rng = Rng::from_hex(&state.rng)
            .ok_or_else(|| corrupt("\"rng\" is not a generator state".into()))?;
        let check = |at: String, internal: &[Option<f64>]| -> Result<(), Error> {
            if internal.len() != space.params().len() {
                return Err(corrupt(format!(
                    "{at}: {} values for {} parameters",
                    internal.len(),
                    space.params().len()
                )));
            }
            for (i, x) in internal.iter().enumerate() {
                let active = space.is_active(i, internal);
                match (x, active) {
                    (Some(x), true) => {
                        let (lo, hi) = space.internal_bounds(i);
                        if !(x.is_finite() && *x >= lo - 1e-9 && *x <= hi + 1e-9) {
                            return Err(corrupt(format!("{at}: parameter {i} out of range")));
                        }
                    }
                    (None, false) => {}
                    _ => {
                        return Err(corrupt(format!(
                            "{at}: parameter {i} contradicts its condition"
                        )))
                    }
                }
            }
            Ok(())
        };
        for (k, t) in state.trials.iter().enumerate() {
            let at = format!("trials[{k}]");
            if t.id != k as u64 {
                return Err(corrupt(format!("{at}: id {} out of sequence", t.id)));
            }
            let consistent = match t.state {
                TrialState::Complete => t.value.is_some_and(f64::is_finite),
                _ => t.value.is_none(),
            };
            if !consistent {
                return Err(corrupt(format!(
                    "{at}: value does not match state {:?}",
                    t.state
                )));
            }
            check(at, &t.internal)?;
        }
        for (k, q) in state.queue.iter().enumerate() {
            check(format!("queue[{k}]"), q)?;
        }
        Ok(Study {
            space,
            space_json: state.space,
            direction: state.direction,
            sampler_config: state.sampler,
            sampler: state.sampler.build()?,
            rng,
            trials: state.trials,
            queue: state.queue.into(),
        })
    }

    /// Parses a JSON object of parameters (for [`Study::enqueue`] and [`Study::add_trial`]).
    pub fn parse_params(json: &str) -> Result<Map<String, Value>, Error> {
        serde_json::from_str(json).map_err(|source| Error::Json {
            what: "trial params",
            source,
        })
    }

    /// A trial as JSON: `{"id", "state", "value", "params"}` (`value` null unless complete).
    pub fn trial_json(&self, trial: &Trial) -> Value {
        serde_json::json!({
            "id": trial.id,
            "state": trial.state,
            "value": trial.value,
            "params": self.params_of(trial),
        })
    }

    /// Every trial as a JSON array of [`Study::trial_json`] objects.
    pub fn trials_json(&self) -> String {
        Value::Array(self.trials.iter().map(|t| self.trial_json(t)).collect()).to_string()
    }

    /// The best trial as [`Study::trial_json`]; an error while no trial is complete.
    pub fn best_json(&self) -> Result<String, Error> {
        self.best()
            .map(|t| self.trial_json(t).to_string())
            .ok_or(Error::NoCompleteTrial)
    }

    /// The parameters of a trial as JSON values (active parameters only).
    pub fn params_of(&self, trial: &Trial) -> Map<String, Value> {
        self.external(&trial.internal)
    }
}

#[cfg(test)]
mod tests;
