//! Pruners: whether a running trial should stop early, from the intermediate values the
//! host reports (`report(trial, step, value)`: a validation score after an epoch, the
//! quality after n of m evaluation samples).
//!
//! - **Median** and **percentile** (as Optuna's `MedianPruner` and `PercentilePruner`): after
//!   `n_startup_trials` complete trials and `n_warmup_steps` steps, at the first report of
//!   each interval, prune when the trial's best intermediate value so far is worse than the
//!   given percentile (50 for the median) of the complete trials' values at the same step
//!   (linear interpolation; at least `n_min_trials` of them must have reported that step).
//! - **Successive halving** (Jamieson and Talwalkar 2016; asynchronous, Li et al. 2018's
//!   ASHA, as Optuna's `SuccessiveHalvingPruner`): rung r is reached at step
//!   `min_resource * reduction_factor^(min_early_stopping_rate + r)`; a trial whose report
//!   reaches new rungs competes at each with every trial that reached it (the value each
//!   reported at its first step at or past the rung) and continues only when it is in the
//!   best `1 / reduction_factor` of them (the best one while fewer than `reduction_factor`
//!   compete). `min_resource` "auto" is the largest last step of the complete trials over
//!   100 (at least 1); no trial is pruned before one completed.
//!
//! Pruners hold no state: everything is derived from the trials, so every process that
//! shares a study (journal or database) decides alike. Rung values are the reports
//! themselves, so a host that asks after each report gets Optuna's decisions.

use serde::{Deserialize, Serialize};

use super::study::{Direction, Trial, TrialState};
use super::Error;

/// The pruner named in a study's configuration: `{"type": "none"}` (default),
/// `{"type": "median", ...}` or `{"type": "percentile", "percentile": 25, ...}` with any
/// [`PercentileConfig`] field, `{"type": "successive_halving", ...}` with any
/// [`HalvingConfig`] field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PrunerConfig {
    /// Never prunes.
    #[default]
    None,
    /// Prunes below the median of the complete trials at the same step.
    Median(PercentileConfig),
    /// Prunes below a percentile of the complete trials at the same step.
    Percentile(PercentileConfig),
    /// Asynchronous successive halving.
    SuccessiveHalving(HalvingConfig),
}

/// Settings of the median and percentile pruners (Optuna's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PercentileConfig {
    /// Percentile in `[0, 100]` to keep (only for `percentile`; the median uses 50): a
    /// trial is pruned when its best value is worse than this percentile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    /// Complete trials needed before anything is pruned (5).
    pub n_startup_trials: usize,
    /// Steps of a trial before it can be pruned (0).
    pub n_warmup_steps: u64,
    /// Prune at most once per this many steps after the warm-up (1).
    pub interval_steps: u64,
    /// Complete trials that must have reported the step (1).
    pub n_min_trials: usize,
}

impl Default for PercentileConfig {
    fn default() -> Self {
        PercentileConfig {
            percentile: None,
            n_startup_trials: 5,
            n_warmup_steps: 0,
            interval_steps: 1,
            n_min_trials: 1,
        }
    }
}

/// Settings of successive halving (Optuna's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HalvingConfig {
    /// Steps of the first rung; `None` ("auto", the default) estimates it from the complete
    /// trials.
    #[serde(
        serialize_with = "ser_min_resource",
        deserialize_with = "de_min_resource"
    )]
    pub min_resource: Option<u64>,
    /// How much fewer trials each rung keeps (4; at least 2).
    pub reduction_factor: u64,
    /// Rungs skipped at the start (0).
    pub min_early_stopping_rate: u32,
    /// A trial is pruned while no more than this many trials reached its rung (0).
    pub bootstrap_count: usize,
}

impl Default for HalvingConfig {
    fn default() -> Self {
        HalvingConfig {
            min_resource: None,
            reduction_factor: 4,
            min_early_stopping_rate: 0,
            bootstrap_count: 0,
        }
    }
}

fn ser_min_resource<S: serde::Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_u64(*n),
        None => s.serialize_str("auto"),
    }
}

fn de_min_resource<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        S(String),
    }
    match Raw::deserialize(d)? {
        Raw::N(n) => Ok(Some(n)),
        Raw::S(s) if s == "auto" => Ok(None),
        Raw::S(s) => Err(serde::de::Error::custom(format!(
            "min_resource must be \"auto\" or a positive integer, got {s:?}"
        ))),
    }
}

impl PrunerConfig {
    /// Whether this is the pruner that never prunes.
    pub fn is_none(&self) -> bool {
        matches!(self, PrunerConfig::None)
    }

    /// Checks the settings; the error names the field.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what: "study config",
            field: format!("pruner.{field}"),
            reason,
        };
        match self {
            PrunerConfig::None => Ok(()),
            PrunerConfig::Median(c) | PrunerConfig::Percentile(c) => {
                if let (PrunerConfig::Median(_), Some(_)) = (self, c.percentile) {
                    return Err(bad(
                        "percentile",
                        "the median pruner keeps the 50th percentile; use \"percentile\" for another".into(),
                    ));
                }
                if let PrunerConfig::Percentile(_) = self {
                    match c.percentile {
                        Some(p) if (0.0..=100.0).contains(&p) => {}
                        Some(p) => {
                            return Err(bad("percentile", format!("must be in [0, 100], got {p}")))
                        }
                        None => return Err(bad("percentile", "missing".into())),
                    }
                }
                if c.interval_steps == 0 {
                    return Err(bad("interval_steps", "must be >= 1".into()));
                }
                if c.n_min_trials == 0 {
                    return Err(bad("n_min_trials", "must be >= 1".into()));
                }
                Ok(())
            }
            PrunerConfig::SuccessiveHalving(c) => {
                if c.min_resource == Some(0) {
                    return Err(bad("min_resource", "must be >= 1 or \"auto\"".into()));
                }
                if c.reduction_factor < 2 {
                    return Err(bad(
                        "reduction_factor",
                        format!("must be >= 2, got {}", c.reduction_factor),
                    ));
                }
                if c.min_early_stopping_rate > 62 {
                    return Err(bad("min_early_stopping_rate", "must be <= 62".into()));
                }
                Ok(())
            }
        }
    }

    /// Whether `trial` (running, with its reports) should stop, given every trial of the
    /// study (the trial among them) and the direction.
    pub fn should_prune(&self, trial: &Trial, trials: &[Trial], direction: Direction) -> bool {
        match self {
            PrunerConfig::None => false,
            PrunerConfig::Median(c) => percentile_prune(c, 50.0, trial, trials, direction),
            PrunerConfig::Percentile(c) => {
                percentile_prune(c, c.percentile.unwrap_or(50.0), trial, trials, direction)
            }
            PrunerConfig::SuccessiveHalving(c) => halving_prune(c, trial, trials, direction),
        }
    }
}

/// The `q`-th percentile (0-100) of `v` with linear interpolation between order statistics.
fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let rank = q / 100.0 * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

fn percentile_prune(
    c: &PercentileConfig,
    q: f64,
    trial: &Trial,
    trials: &[Trial],
    direction: Direction,
) -> bool {
    let complete: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    if complete.is_empty() || complete.len() < c.n_startup_trials {
        return false;
    }
    let Some((step, _)) = trial.last_intermediate() else {
        return false;
    };
    if step < c.n_warmup_steps {
        return false;
    }
    // Only at the first report of each interval after the warm-up.
    let interval_start =
        (step - c.n_warmup_steps) / c.interval_steps * c.interval_steps + c.n_warmup_steps;
    let previous = trial.intermediate.iter().rev().nth(1).map(|r| r.0);
    if previous.is_some_and(|p| p >= interval_start) {
        return false;
    }
    let best = trial
        .intermediate
        .iter()
        .map(|r| r.1)
        .reduce(|a, b| if direction.better(b, a) { b } else { a })
        .unwrap_or(f64::NAN);
    let mut at_step: Vec<f64> = complete
        .iter()
        .filter_map(|t| {
            t.intermediate
                .binary_search_by_key(&step, |r| r.0)
                .ok()
                .map(|k| t.intermediate[k].1)
        })
        .collect();
    if at_step.len() < c.n_min_trials {
        return false;
    }
    let q = match direction {
        Direction::Minimize => q,
        Direction::Maximize => 100.0 - q,
    };
    let p = percentile(&mut at_step, q);
    direction.better(p, best)
}

/// The value a trial reported at its first step at or past `step`.
fn value_at_or_after(t: &Trial, step: u64) -> Option<f64> {
    let k = t.intermediate.partition_point(|r| r.0 < step);
    t.intermediate.get(k).map(|r| r.1)
}

fn halving_prune(c: &HalvingConfig, trial: &Trial, trials: &[Trial], direction: Direction) -> bool {
    let Some((step, value)) = trial.last_intermediate() else {
        return false;
    };
    let min_resource = match c.min_resource {
        Some(m) => m,
        None => {
            let last = trials
                .iter()
                .filter(|t| t.state == TrialState::Complete)
                .filter_map(|t| t.last_intermediate().map(|r| r.0))
                .max();
            match last {
                Some(l) => (l / 100).max(1),
                None => return false,
            }
        }
    };
    let previous = trial.intermediate.iter().rev().nth(1).map(|r| r.0);
    let f = c.reduction_factor;
    let mut rung_step = min_resource.saturating_mul(f.saturating_pow(c.min_early_stopping_rate));
    // Every rung the last report reached (rungs reached by earlier reports were decided
    // then), from the lowest.
    while rung_step <= step {
        if previous.is_none_or(|p| p < rung_step) {
            let mut competing: Vec<f64> = trials
                .iter()
                .filter(|t| t.id != trial.id)
                .filter_map(|t| value_at_or_after(t, rung_step))
                .collect();
            competing.push(value);
            if competing.len() <= c.bootstrap_count {
                return true;
            }
            let keep = (competing.len() / f as usize).max(1);
            competing.sort_unstable_by(f64::total_cmp);
            let threshold = match direction {
                Direction::Minimize => competing[keep - 1],
                Direction::Maximize => competing[competing.len() - keep],
            };
            if direction.better(threshold, value) {
                return true;
            }
        }
        if rung_step > u64::MAX / f {
            break;
        }
        rung_step *= f;
    }
    false
}

#[cfg(test)]
mod tests;
