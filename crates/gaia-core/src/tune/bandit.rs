//! Thompson-sampling multi-armed bandits.
//!
//! A [`Bandit`] chooses among named arms (an LLM, a prompt template, a ranking variant) and
//! learns from rewards which one pays best, balancing exploration and exploitation by
//! Thompson sampling: draw one plausible mean reward per arm from its posterior, pick the
//! largest.
//!
//! Two reward models:
//! * [`Model::Beta`]: rewards in `[0, 1]` (success = 1, failure = 0, or a fraction), with a
//!   `Beta(alpha, beta)` prior per arm.
//! * [`Model::Gaussian`]: any finite real reward (latency saved, a judge's score), with a
//!   Normal-Inverse-Gamma prior per arm: unknown mean *and* variance.
//!
//! With `discount < 1` every update first multiplies all arms' evidence by `discount`, so old
//! rewards fade and the bandit follows rewards that drift (discounted Thompson sampling).
//!
//! Each arm keeps three weighted sufficient statistics (weight, mean, sum of squared
//! deviations), so `update` is O(1) and `choose` is one posterior draw per arm.
//!
//! ```
//! use gaia_core::tune::Bandit;
//! let mut b = Bandit::from_json(r#"{"arms": ["gpt", "claude"], "seed": 7}"#)?;
//! let arm = b.choose()?.to_owned();
//! b.update(&arm, 1.0)?;
//! let saved = b.save_json();
//! let restored = Bandit::load_json(&saved)?;
//! assert_eq!(restored.stats().total_pulls, 1);
//! # Ok::<(), gaia_core::Error>(())
//! ```

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::Error;
use crate::stats::{Beta, NormalInverseGamma, Rng};

/// Longest accepted arm name, in bytes.
pub const MAX_ARM_NAME_BYTES: usize = 256;
/// The format version [`Bandit::save_json`] writes and [`Bandit::load_json`] reads.
pub const STATE_VERSION: u64 = 1;
const STATE_FORMAT: &str = "gaia.bandit";
const CONFIG: &str = "bandit config";

/// The reward model of every arm of a bandit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Rewards in `[0, 1]`, Beta prior (Beta-Bernoulli). The default.
    #[default]
    Beta,
    /// Real-valued rewards, Normal-Inverse-Gamma prior.
    Gaussian,
}

/// Prior hyper-parameters. Fields a model does not use must be absent.
///
/// * Beta model: `alpha`, `beta` (default 1, 1: uniform).
/// * Gaussian model: `mu` (0), `kappa` (1), `alpha` (1), `beta` (1).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prior {
    /// Beta: pseudo-successes. Gaussian: shape of the inverse-gamma on the variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Beta: pseudo-failures. Gaussian: scale of the inverse-gamma on the variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Gaussian only: prior mean of the reward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mu: Option<f64>,
    /// Gaussian only: how many observations the prior mean is worth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
}

/// A bandit's configuration, usually parsed from JSON:
///
/// ```json
/// {"arms": ["a", "b"], "model": "beta", "seed": 42, "discount": 1.0,
///  "prior": {"alpha": 1, "beta": 1}}
/// ```
///
/// Only `arms` is required (it may be empty; arms can be added later). Without `seed`, the
/// generator is seeded from the operating system's randomness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditConfig {
    /// The arms' names, unique, 1 to 256 bytes, no NUL.
    pub arms: Vec<String>,
    /// The reward model.
    #[serde(default)]
    pub model: Model,
    /// Seed of the generator; `None` for a random seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Evidence kept per update, in `(0, 1]`; 1 (the default) keeps everything.
    #[serde(default = "one")]
    pub discount: f64,
    /// Prior hyper-parameters; defaults per model.
    #[serde(default)]
    pub prior: Prior,
}

fn one() -> f64 {
    1.0
}

/// Prior hyper-parameters resolved for a model, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hyper {
    alpha: f64,
    beta: f64,
    mu: f64,
    kappa: f64,
}

impl Hyper {
    fn resolve(model: Model, p: &Prior, what: &'static str) -> Result<Hyper, Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what,
            field: format!("prior.{field}"),
            reason,
        };
        if model == Model::Beta {
            for (name, v) in [("mu", p.mu), ("kappa", p.kappa)] {
                if v.is_some() {
                    return Err(bad(name, "applies only to the gaussian model".into()));
                }
            }
        }
        let h = Hyper {
            alpha: p.alpha.unwrap_or(1.0),
            beta: p.beta.unwrap_or(1.0),
            mu: p.mu.unwrap_or(0.0),
            kappa: p.kappa.unwrap_or(1.0),
        };
        for (name, v) in [("alpha", h.alpha), ("beta", h.beta), ("kappa", h.kappa)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(name, format!("must be finite and > 0, got {v}")));
            }
        }
        if !h.mu.is_finite() {
            return Err(bad("mu", format!("must be finite, got {}", h.mu)));
        }
        Ok(h)
    }

    fn to_prior(self, model: Model) -> Prior {
        match model {
            Model::Beta => Prior {
                alpha: Some(self.alpha),
                beta: Some(self.beta),
                ..Prior::default()
            },
            Model::Gaussian => Prior {
                alpha: Some(self.alpha),
                beta: Some(self.beta),
                mu: Some(self.mu),
                kappa: Some(self.kappa),
            },
        }
    }
}

/// One arm's evidence: weighted sufficient statistics of its rewards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Arm {
    name: String,
    /// Updates received (not discounted).
    pulls: u64,
    /// Times `choose` picked it.
    chosen: u64,
    /// Total (discounted) weight of the rewards.
    weight: f64,
    /// Weighted sum of the rewards (for the beta model: the successes, exact for 0/1 rewards).
    sum: f64,
    /// Weighted sum of squared deviations from the mean (Welford).
    m2: f64,
}

impl Arm {
    fn new(name: String) -> Arm {
        Arm {
            name,
            pulls: 0,
            chosen: 0,
            weight: 0.0,
            sum: 0.0,
            m2: 0.0,
        }
    }

    /// Weighted mean of the rewards, 0 before any.
    fn mean(&self) -> f64 {
        if self.weight > 0.0 {
            self.sum / self.weight
        } else {
            0.0
        }
    }

    /// Beta posterior `(alpha, beta)`; fractional rewards count fractionally.
    fn beta_posterior(&self, h: &Hyper) -> (f64, f64) {
        (
            h.alpha + self.sum,
            h.beta + (self.weight - self.sum).max(0.0),
        )
    }

    /// Normal-Inverse-Gamma posterior `(mu, kappa, alpha, beta)`.
    fn nig_posterior(&self, h: &Hyper) -> (f64, f64, f64, f64) {
        let w = self.weight;
        let kappa = h.kappa + w;
        let mu = (h.kappa * h.mu + self.sum) / kappa;
        let alpha = h.alpha + 0.5 * w;
        let d = self.mean() - h.mu;
        let beta = h.beta + 0.5 * self.m2 + h.kappa * w * d * d / (2.0 * kappa);
        (mu, kappa, alpha, beta)
    }
}

/// Per-arm statistics, as reported by [`Bandit::stats`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmStats {
    /// The arm's name.
    pub name: String,
    /// Rewards received.
    pub pulls: u64,
    /// Times the arm was chosen.
    pub chosen: u64,
    /// Effective number of observations after discounting (equals `pulls` without discount).
    pub weight: f64,
    /// Posterior mean of the arm's expected reward.
    pub mean: f64,
    /// Posterior `alpha` (Beta: successes + prior; Gaussian: inverse-gamma shape).
    pub alpha: f64,
    /// Posterior `beta` (Beta: failures + prior; Gaussian: inverse-gamma scale).
    pub beta: f64,
    /// Gaussian only: posterior `kappa`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
}

/// A whole bandit's statistics, as reported by [`Bandit::stats`] (and `gaia_bandit_stats_json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BanditStats {
    /// The reward model.
    pub model: Model,
    /// The discount factor.
    pub discount: f64,
    /// Rewards received by all arms, including arms removed since.
    pub total_pulls: u64,
    /// The arms, in their order.
    pub arms: Vec<ArmStats>,
}

/// The persisted form of a bandit (see [`Bandit::save_json`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    format: String,
    version: u64,
    model: Model,
    discount: f64,
    prior: Prior,
    /// The generator's state, 64 hex digits (u64 would lose precision in PHP/JS JSON).
    rng: String,
    total_pulls: u64,
    arms: Vec<Arm>,
}

/// A Thompson-sampling bandit over named arms. See the [module docs](self).
///
/// Not internally synchronised: `choose` advances the generator, so callers sharing one
/// bandit between threads wrap it in a lock (the C ABI does).
#[derive(Debug, Clone, PartialEq)]
pub struct Bandit {
    model: Model,
    discount: f64,
    hyper: Hyper,
    rng: Rng,
    total_pulls: u64,
    arms: Vec<Arm>,
}

fn check_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_ARM_NAME_BYTES {
        "must be at most 256 bytes"
    } else if name.contains('\0') {
        "must not contain NUL"
    } else {
        return Ok(());
    };
    Err(Error::InvalidArmName {
        name: name.to_owned(),
        reason,
    })
}

fn check_discount(discount: f64, what: &'static str) -> Result<(), Error> {
    if discount.is_finite() && discount > 0.0 && discount <= 1.0 {
        Ok(())
    } else {
        Err(Error::Config {
            what,
            field: "discount".into(),
            reason: format!("must be in (0, 1], got {discount}"),
        })
    }
}

impl Bandit {
    /// Builds a bandit from a validated configuration.
    pub fn new(config: BanditConfig) -> Result<Bandit, Error> {
        check_discount(config.discount, CONFIG)?;
        let hyper = Hyper::resolve(config.model, &config.prior, CONFIG)?;
        let mut arms: Vec<Arm> = Vec::with_capacity(config.arms.len());
        for (i, name) in config.arms.into_iter().enumerate() {
            check_name(&name).map_err(|e| Error::Config {
                what: CONFIG,
                field: format!("arms[{i}]"),
                reason: e.to_string(),
            })?;
            if arms.iter().any(|a| a.name == name) {
                return Err(Error::Config {
                    what: CONFIG,
                    field: format!("arms[{i}]"),
                    reason: format!("duplicate arm \"{name}\""),
                });
            }
            arms.push(Arm::new(name));
        }
        let seed = config.seed.unwrap_or_else(crate::stats::random_seed);
        log::debug!(target: "gaia::tune", "bandit created: {} arms, model {:?}", arms.len(), config.model);
        Ok(Bandit {
            model: config.model,
            discount: config.discount,
            hyper,
            rng: Rng::seed_from_u64(seed),
            total_pulls: 0,
            arms,
        })
    }

    /// Parses a JSON [`BanditConfig`] and builds the bandit.
    pub fn from_json(json: &str) -> Result<Bandit, Error> {
        let config: BanditConfig = serde_json::from_str(json).map_err(|source| Error::Json {
            what: CONFIG,
            source,
        })?;
        Bandit::new(config)
    }

    /// The reward model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The arms' names, in order.
    pub fn arm_names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.arms.iter().map(|a| a.name.as_str())
    }

    /// How many arms there are.
    pub fn arm_count(&self) -> usize {
        self.arms.len()
    }

    /// The name of arm `index`.
    pub fn arm_name(&self, index: usize) -> Result<&str, Error> {
        self.arms
            .get(index)
            .map(|a| a.name.as_str())
            .ok_or(Error::ArmIndex {
                index,
                len: self.arms.len(),
            })
    }

    /// The index of the arm called `name`.
    pub fn arm_index(&self, name: &str) -> Result<usize, Error> {
        self.arms
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| Error::UnknownArm {
                name: name.to_owned(),
                known: self.known_arms(),
            })
    }

    fn known_arms(&self) -> String {
        let mut s = String::new();
        for (i, a) in self.arms.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            if i == 16 {
                let _ = write!(s, "... {} more", self.arms.len() - 16);
                break;
            }
            s.push_str(&a.name);
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }

    /// Draws one sample from each arm's posterior and returns the index of the largest
    /// (the first on ties), counting it as chosen.
    pub fn choose_index(&mut self) -> Result<usize, Error> {
        if self.arms.is_empty() {
            return Err(Error::NoArms);
        }
        let mut best = 0;
        let mut best_draw = f64::NEG_INFINITY;
        for (i, arm) in self.arms.iter().enumerate() {
            let draw = match self.model {
                Model::Beta => {
                    let (a, b) = arm.beta_posterior(&self.hyper);
                    Beta::new(a, b)?.sample(&mut self.rng)
                }
                Model::Gaussian => {
                    let (mu, kappa, alpha, beta) = arm.nig_posterior(&self.hyper);
                    NormalInverseGamma::new(mu, kappa, alpha, beta)?
                        .sample(&mut self.rng)
                        .0
                }
            };
            if draw > best_draw {
                best = i;
                best_draw = draw;
            }
        }
        self.arms[best].chosen += 1;
        Ok(best)
    }

    /// Like [`Bandit::choose_index`], returning the arm's name.
    pub fn choose(&mut self) -> Result<&str, Error> {
        let i = self.choose_index()?;
        Ok(&self.arms[i].name)
    }

    /// Records `reward` for the arm called `name`.
    ///
    /// Beta model: `reward` must be in `[0, 1]`. Gaussian: any finite value. On error
    /// nothing changes.
    pub fn update(&mut self, name: &str, reward: f64) -> Result<(), Error> {
        let i = self.arm_index(name)?;
        self.update_index(i, reward)
    }

    /// Records `reward` for arm `index`; see [`Bandit::update`].
    pub fn update_index(&mut self, index: usize, reward: f64) -> Result<(), Error> {
        let len = self.arms.len();
        let arm = self.arms.get(index).ok_or(Error::ArmIndex { index, len })?;
        let requirement = match self.model {
            Model::Beta if !(0.0..=1.0).contains(&reward) => Some("in [0, 1] for the beta model"),
            Model::Gaussian if !reward.is_finite() => Some("finite"),
            _ => None,
        };
        if let Some(requirement) = requirement {
            return Err(Error::InvalidReward {
                arm: arm.name.clone(),
                value: reward,
                requirement,
            });
        }
        if self.discount < 1.0 {
            for a in &mut self.arms {
                a.weight *= self.discount;
                a.sum *= self.discount;
                a.m2 *= self.discount;
            }
        }
        let arm = &mut self.arms[index];
        let old_mean = arm.mean();
        arm.pulls += 1;
        arm.weight += 1.0;
        arm.sum += reward;
        arm.m2 += (reward - old_mean) * (reward - arm.mean());
        self.total_pulls += 1;
        Ok(())
    }

    /// Adds an arm with no evidence (its prior only) at the end.
    pub fn add_arm(&mut self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        if self.arms.iter().any(|a| a.name == name) {
            return Err(Error::DuplicateArm(name.to_owned()));
        }
        self.arms.push(Arm::new(name.to_owned()));
        log::debug!(target: "gaia::tune", "bandit: added arm \"{name}\"");
        Ok(())
    }

    /// Removes the arm called `name` and its evidence; later arms move down one index.
    pub fn remove_arm(&mut self, name: &str) -> Result<(), Error> {
        let i = self.arm_index(name)?;
        self.arms.remove(i);
        log::debug!(target: "gaia::tune", "bandit: removed arm \"{name}\"");
        Ok(())
    }

    fn arm_stats(&self, arm: &Arm) -> ArmStats {
        let (mean, alpha, beta, kappa) = match self.model {
            Model::Beta => {
                let (a, b) = arm.beta_posterior(&self.hyper);
                (a / (a + b), a, b, None)
            }
            Model::Gaussian => {
                let (mu, kappa, alpha, beta) = arm.nig_posterior(&self.hyper);
                (mu, alpha, beta, Some(kappa))
            }
        };
        ArmStats {
            name: arm.name.clone(),
            pulls: arm.pulls,
            chosen: arm.chosen,
            weight: arm.weight,
            mean,
            alpha,
            beta,
            kappa,
        }
    }

    /// Per-arm statistics and posteriors.
    pub fn stats(&self) -> BanditStats {
        BanditStats {
            model: self.model,
            discount: self.discount,
            total_pulls: self.total_pulls,
            arms: self.arms.iter().map(|a| self.arm_stats(a)).collect(),
        }
    }

    /// [`Bandit::stats`] as compact JSON.
    pub fn stats_json(&self) -> String {
        // Serialising plain structs of strings, integers and finite floats cannot fail.
        serde_json::to_string(&self.stats()).unwrap_or_default()
    }

    /// The whole bandit (configuration, evidence, generator state) as JSON. Loading it with
    /// [`Bandit::load_json`] gives a bandit that makes exactly the same draws.
    pub fn save_json(&self) -> String {
        let state = State {
            format: STATE_FORMAT.to_owned(),
            version: STATE_VERSION,
            model: self.model,
            discount: self.discount,
            prior: self.hyper.to_prior(self.model),
            rng: self.rng.to_hex(),
            total_pulls: self.total_pulls,
            arms: self.arms.clone(),
        };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// Restores a bandit saved by [`Bandit::save_json`], checking every field.
    pub fn load_json(json: &str) -> Result<Bandit, Error> {
        let what = "bandit state";
        let corrupt = |reason: String| Error::Corrupt { what, reason };
        let state: State = super::parse_saved(json, what, STATE_FORMAT, STATE_VERSION)?;
        check_discount(state.discount, "bandit state").map_err(|e| corrupt(e.to_string()))?;
        let hyper = Hyper::resolve(state.model, &state.prior, "bandit state")
            .map_err(|e| corrupt(e.to_string()))?;
        let rng = Rng::from_hex(&state.rng)
            .ok_or_else(|| corrupt("\"rng\" is not a valid generator state".into()))?;
        let mut pulls = 0u64;
        for (i, arm) in state.arms.iter().enumerate() {
            check_name(&arm.name).map_err(|e| corrupt(format!("arms[{i}]: {e}")))?;
            if state.arms[..i].iter().any(|a| a.name == arm.name) {
                return Err(corrupt(format!(
                    "arms[{i}]: duplicate arm \"{}\"",
                    arm.name
                )));
            }
            let slack = 1e-9 * (1.0 + arm.weight);
            let consistent = arm.weight.is_finite()
                && arm.sum.is_finite()
                && arm.m2.is_finite()
                && arm.weight >= 0.0
                && arm.m2 >= 0.0
                && arm.weight <= arm.pulls as f64 + slack
                && (arm.weight > 0.0 || (arm.sum == 0.0 && arm.m2 == 0.0))
                && (state.model == Model::Gaussian
                    || (arm.sum >= 0.0 && arm.sum <= arm.weight + slack));
            if !consistent {
                return Err(corrupt(format!(
                    "arms[{i}] (\"{}\"): inconsistent statistics",
                    arm.name
                )));
            }
            pulls = pulls.saturating_add(arm.pulls);
        }
        if pulls > state.total_pulls {
            return Err(corrupt(format!(
                "total_pulls {} is less than the arms' pulls {pulls}",
                state.total_pulls
            )));
        }
        log::debug!(target: "gaia::tune", "bandit loaded: {} arms", state.arms.len());
        Ok(Bandit {
            model: state.model,
            discount: state.discount,
            hyper,
            rng,
            total_pulls: state.total_pulls,
            arms: state.arms,
        })
    }
}

#[cfg(test)]
mod tests;
