//! Multi-armed bandits: Thompson sampling, UCB1 and EXP3.
//!
//! A [`Bandit`] chooses among named arms (an LLM, a prompt template, a ranking variant) and
//! learns from rewards which one pays best, balancing exploration and exploitation. The
//! `policy` field of the configuration picks how ([`Policy`]):
//!
//! * `"thompson"` (the default): Thompson sampling. Draw one plausible mean reward per arm
//!   from its posterior, pick the largest.
//! * `"ucb1"`: UCB1 (Auer, Cesa-Bianchi & Fischer 2002). Try every arm once, then pick the
//!   largest `mean + ucb_c * sqrt(2 ln n / n_i)`, where `mean` is the arm's empirical mean
//!   reward, `n_i` its (discounted or windowed) number of rewards and `n` the sum over arms.
//!   Deterministic: it uses no random draws (ties go to the first arm). The bonus assumes
//!   rewards in `[0, 1]`; for the gaussian model set `ucb_c` to about the rewards' range
//!   (default 1).
//! * `"exp3"`: EXP3 (Auer, Cesa-Bianchi, Freund & Schapire 2002), for adversarial or
//!   non-stochastic rewards. Each arm has a weight `w_i`; the arm is drawn with probability
//!   `p_i = (1 - gamma) w_i / sum(w) + gamma / K` (`K` arms, `gamma` the exploration rate in
//!   `(0, 1]`, default 0.1), and a reward `x` multiplies its weight by
//!   `exp(gamma * x / (p_i K))` (the importance-weighted estimate `x / p_i`). Rewards must
//!   be in `[0, 1]`, so EXP3 needs the beta model. `p_i` is the probability with which the
//!   arm would be chosen at the time of the update: for the usual choose-then-update it is
//!   exactly the probability it was chosen with; for an arm that was not the last chosen (or
//!   never chosen) it is its current probability. An added arm starts level with the
//!   heaviest arm, so it gets tried.
//!
//! Two reward models:
//! * [`Model::Beta`]: rewards in `[0, 1]` (success = 1, failure = 0, or a fraction), with a
//!   `Beta(alpha, beta)` prior per arm.
//! * [`Model::Gaussian`]: any finite real reward (latency saved, a judge's score), with a
//!   Normal-Inverse-Gamma prior per arm: unknown mean *and* variance.
//!
//! Non-stationary rewards, two exclusive ways (a configuration with both `window` and
//! `discount < 1` is refused):
//! * `discount < 1`: every update first multiplies all arms' evidence by `discount`, so old
//!   rewards fade (discounted Thompson sampling / discounted UCB; for EXP3 the log-weights
//!   shrink by `discount`, towards uniform).
//! * `window: N` (sliding window, Garivier & Moulines 2011): only the last `N` rewards, over
//!   all arms, count. The bandit keeps them in a ring; each update removes the reward leaving
//!   the window from its arm's statistics (and, for EXP3, its weight gain), so `update` stays
//!   O(1) (O(K) for EXP3, which normalises its probabilities). A removed arm's rewards stay
//!   in the ring, counting towards `N`, until they leave it.
//!
//! Each arm keeps three weighted sufficient statistics (weight, sum, sum of squared
//! deviations), so `update` is O(1) and `choose` is one posterior draw per arm (Thompson) or
//! one index per arm (UCB1, EXP3). Removing a reward from the window reverses the update
//! exactly up to rounding; an arm whose window empties is reset to exact zeros.
//!
//! ```
//! use gaia_core::tune::Bandit;
//! let mut b = Bandit::from_json(r#"{"arms": ["gpt", "claude"], "seed": 7}"#)?;
//! let arm = b.choose()?.to_owned();
//! b.update(&arm, 1.0)?;
//! let saved = b.save_json();
//! let restored = Bandit::load_json(&saved)?;
//! assert_eq!(restored.stats().total_pulls, 1);
//!
//! let mut ucb = Bandit::from_json(r#"{"arms": ["a", "b"], "policy": "ucb1", "window": 500}"#)?;
//! assert_eq!(ucb.choose()?, "a"); // every arm once, in order
//! let mut exp3 = Bandit::from_json(r#"{"arms": ["a", "b"], "policy": "exp3", "gamma": 0.2}"#)?;
//! exp3.choose()?;
//! # Ok::<(), gaia_core::Error>(())
//! ```

use std::collections::VecDeque;
use std::fmt::Write as _;

use serde::{Deserialize, Deserializer, Serialize};

use super::Error;
use crate::stats::{Beta, NormalInverseGamma, Rng};

/// Longest accepted arm name, in bytes.
pub const MAX_ARM_NAME_BYTES: usize = 256;
/// The newest format version [`Bandit::save_json`] writes; [`Bandit::load_json`] reads it and
/// every older one.
///
/// Version 1 holds Thompson-sampling bandits without a window; version 2 adds the policy
/// fields (`policy`, `ucb_c`, `gamma`, EXP3 `log_weight` per arm) and the sliding window
/// (`window`, `recent`). A bandit that needs none of them is still saved as version 1, so
/// older builds keep reading it.
pub const STATE_VERSION: u64 = 2;
const STATE_FORMAT: &str = "gaia.bandit";
const CONFIG: &str = "bandit config";
const STATE: &str = "bandit state";
/// The default EXP3 exploration rate.
pub const DEFAULT_GAMMA: f64 = 0.1;
/// The default UCB1 exploration constant (Auer et al.'s `sqrt(2 ln n / n_i)` bonus).
pub const DEFAULT_UCB_C: f64 = 1.0;

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

/// How a bandit chooses an arm (the `policy` field). See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Thompson sampling from each arm's posterior. The default.
    #[default]
    Thompson,
    /// UCB1: every arm once, then the largest `mean + ucb_c * sqrt(2 ln n / n_i)`.
    Ucb1,
    /// EXP3: exponential weights with exploration rate `gamma`; beta model only.
    Exp3,
}

impl Policy {
    /// The policy's name in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Thompson => "thompson",
            Policy::Ucb1 => "ucb1",
            Policy::Exp3 => "exp3",
        }
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Policy, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "thompson" => Ok(Policy::Thompson),
            "ucb1" => Ok(Policy::Ucb1),
            "exp3" => Ok(Policy::Exp3),
            other => Err(serde::de::Error::custom(format!(
                "policy: unknown policy {other:?}, expected \"thompson\", \"ucb1\" or \"exp3\""
            ))),
        }
    }
}

fn is_thompson(p: &Policy) -> bool {
    *p == Policy::Thompson
}

/// Prior hyper-parameters. Fields a model does not use must be absent.
///
/// * Beta model: `alpha`, `beta` (default 1, 1: uniform).
/// * Gaussian model: `mu` (0), `kappa` (1), `alpha` (1), `beta` (1).
///
/// Only Thompson sampling draws from the posterior; UCB1 and EXP3 ignore the prior except in
/// [`Bandit::stats`].
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
///  "prior": {"alpha": 1, "beta": 1}, "policy": "thompson"}
/// {"arms": ["a", "b"], "policy": "ucb1", "ucb_c": 1.0, "window": 1000}
/// {"arms": ["a", "b"], "policy": "exp3", "gamma": 0.1}
/// ```
///
/// Only `arms` is required (it may be empty; arms can be added later). Without `seed`, the
/// generator is seeded from the operating system's randomness. `ucb_c` applies only to
/// `"ucb1"`, `gamma` only to `"exp3"`; `window` and a `discount` below 1 are exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditConfig {
    /// The arms' names, unique, 1 to 256 bytes, no NUL.
    pub arms: Vec<String>,
    /// The reward model.
    #[serde(default)]
    pub model: Model,
    /// How arms are chosen (default Thompson sampling).
    #[serde(default)]
    pub policy: Policy,
    /// UCB1 only: exploration constant, finite and >= 0 (default 1: Auer et al.'s bonus for
    /// rewards in `[0, 1]`; scale it to the rewards' range for the gaussian model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ucb_c: Option<f64>,
    /// EXP3 only: exploration rate in `(0, 1]` (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// Seed of the generator; `None` for a random seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Evidence kept per update, in `(0, 1]`; 1 (the default) keeps everything.
    #[serde(default = "one")]
    pub discount: f64,
    /// Sliding window: only the last `window` rewards (over all arms) count; at least 1.
    /// `None` (the default) keeps every reward. Exclusive with `discount < 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
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

/// The policy with its parameters resolved and validated.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    Thompson,
    Ucb1 { c: f64 },
    Exp3 { gamma: f64 },
}

impl Rule {
    fn resolve(
        policy: Policy,
        model: Model,
        ucb_c: Option<f64>,
        gamma: Option<f64>,
        what: &'static str,
    ) -> Result<Rule, Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what,
            field: field.into(),
            reason,
        };
        if ucb_c.is_some() && policy != Policy::Ucb1 {
            return Err(bad(
                "ucb_c",
                format!("applies only to policy \"ucb1\", not \"{}\"", policy.name()),
            ));
        }
        if gamma.is_some() && policy != Policy::Exp3 {
            return Err(bad(
                "gamma",
                format!("applies only to policy \"exp3\", not \"{}\"", policy.name()),
            ));
        }
        match policy {
            Policy::Thompson => Ok(Rule::Thompson),
            Policy::Ucb1 => {
                let c = ucb_c.unwrap_or(DEFAULT_UCB_C);
                if c.is_finite() && c >= 0.0 {
                    Ok(Rule::Ucb1 { c })
                } else {
                    Err(bad("ucb_c", format!("must be finite and >= 0, got {c}")))
                }
            }
            Policy::Exp3 => {
                if model != Model::Beta {
                    return Err(bad(
                        "policy",
                        "\"exp3\" needs rewards in [0, 1]: use the beta model, not gaussian".into(),
                    ));
                }
                let gamma = gamma.unwrap_or(DEFAULT_GAMMA);
                if gamma.is_finite() && gamma > 0.0 && gamma <= 1.0 {
                    Ok(Rule::Exp3 { gamma })
                } else {
                    Err(bad("gamma", format!("must be in (0, 1], got {gamma}")))
                }
            }
        }
    }

    fn policy(self) -> Policy {
        match self {
            Rule::Thompson => Policy::Thompson,
            Rule::Ucb1 { .. } => Policy::Ucb1,
            Rule::Exp3 { .. } => Policy::Exp3,
        }
    }

    fn ucb_c(self) -> Option<f64> {
        match self {
            Rule::Ucb1 { c } => Some(c),
            _ => None,
        }
    }

    fn gamma(self) -> Option<f64> {
        match self {
            Rule::Exp3 { gamma } => Some(gamma),
            _ => None,
        }
    }
}

/// One arm's evidence: weighted sufficient statistics of its rewards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Arm {
    name: String,
    /// Updates received (not discounted, not windowed).
    pulls: u64,
    /// Times `choose` picked it.
    chosen: u64,
    /// Total (discounted) weight of the rewards; with a window, how many are in it.
    weight: f64,
    /// Weighted sum of the rewards (for the beta model: the successes, exact for 0/1 rewards).
    sum: f64,
    /// Weighted sum of squared deviations from the mean (Welford).
    m2: f64,
    /// EXP3 only: the natural log of the arm's weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_weight: Option<f64>,
}

impl Arm {
    fn new(name: String, log_weight: Option<f64>) -> Arm {
        Arm {
            name,
            pulls: 0,
            chosen: 0,
            weight: 0.0,
            sum: 0.0,
            m2: 0.0,
            log_weight,
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

    /// Adds one reward of weight 1 (Welford).
    fn add(&mut self, reward: f64) {
        let old_mean = self.mean();
        self.weight += 1.0;
        self.sum += reward;
        self.m2 += (reward - old_mean) * (reward - self.mean());
    }

    /// Removes one reward of weight 1 that [`Arm::add`] added (reversed Welford). Exact up
    /// to rounding, which is clamped away: `m2 >= 0`, and for the beta model
    /// `0 <= sum <= weight`. An arm left with no rewards is reset to exact zeros.
    fn forget(&mut self, reward: f64, model: Model) {
        if self.weight <= 1.0 {
            self.weight = 0.0;
            self.sum = 0.0;
            self.m2 = 0.0;
            return;
        }
        let with = self.mean();
        self.weight -= 1.0;
        self.sum -= reward;
        if model == Model::Beta {
            self.sum = self.sum.clamp(0.0, self.weight);
        }
        let without = self.mean();
        self.m2 = (self.m2 - (reward - with) * (reward - without)).max(0.0);
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

/// One reward in the sliding window: the arm's index (`None` once the arm is removed), the
/// reward, and (EXP3 only, else 0) the log-weight it added to the arm. Saved as a JSON array
/// `[arm, reward, gain]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Entry(Option<usize>, f64, f64);

/// The sliding window: its size and the last `size` rewards, oldest first.
#[derive(Debug, Clone, PartialEq)]
struct Window {
    size: u64,
    ring: VecDeque<Entry>,
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
    /// Effective number of observations after discounting (equals `pulls` without discount;
    /// with a window, the arm's rewards in the window).
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
    /// EXP3 only: the probability that `choose` picks this arm now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// A whole bandit's statistics, as reported by [`Bandit::stats`] (and `gaia_bandit_stats_json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BanditStats {
    /// The reward model.
    pub model: Model,
    /// The policy (omitted from JSON when Thompson sampling).
    #[serde(skip_serializing_if = "is_thompson")]
    pub policy: Policy,
    /// UCB1 only: the exploration constant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ucb_c: Option<f64>,
    /// EXP3 only: the exploration rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// The discount factor.
    pub discount: f64,
    /// The sliding window's size, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
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
    /// Version 2 (absent: Thompson sampling).
    #[serde(default, skip_serializing_if = "is_thompson")]
    policy: Policy,
    /// Version 2, UCB1 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ucb_c: Option<f64>,
    /// Version 2, EXP3 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gamma: Option<f64>,
    discount: f64,
    /// Version 2: the window's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<u64>,
    /// Version 2: the window's rewards, oldest first (present exactly with `window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recent: Option<Vec<Entry>>,
    prior: Prior,
    /// The generator's state, 64 hex digits (u64 would lose precision in PHP/JS JSON).
    rng: String,
    total_pulls: u64,
    arms: Vec<Arm>,
}

/// Only the version of saved state, read first to pick the format.
#[derive(Deserialize)]
struct Peek {
    version: Option<u64>,
}

/// A multi-armed bandit over named arms (Thompson sampling, UCB1 or EXP3). See the
/// [module docs](self).
///
/// Not internally synchronised: `choose` advances the generator, so callers sharing one
/// bandit between threads wrap it in a lock (the C ABI does).
#[derive(Debug, Clone, PartialEq)]
pub struct Bandit {
    model: Model,
    rule: Rule,
    discount: f64,
    window: Option<Window>,
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

fn check_window(window: Option<u64>, discount: f64, what: &'static str) -> Result<(), Error> {
    let reason = match window {
        None => return Ok(()),
        Some(0) => "must be at least 1, got 0".to_owned(),
        Some(n) if discount < 1.0 => format!(
            "cannot be combined with discount {discount} (< 1): use either window {n} or the \
             discount, not both"
        ),
        Some(_) => return Ok(()),
    };
    Err(Error::Config {
        what,
        field: "window".into(),
        reason,
    })
}

/// The reason `reward` is refused by `model`, if it is.
fn reward_requirement(model: Model, reward: f64) -> Option<&'static str> {
    match model {
        Model::Beta if !(0.0..=1.0).contains(&reward) => Some("in [0, 1] for the beta model"),
        Model::Gaussian if !reward.is_finite() => Some("finite"),
        _ => None,
    }
}

/// EXP3's choice probabilities for arms with log-weights `log_w`; they sum to 1 (up to
/// rounding) and each is at least `gamma / K`.
fn exp3_probabilities(log_w: impl Iterator<Item = f64> + Clone, gamma: f64) -> Vec<f64> {
    let max = log_w.clone().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = log_w.map(|l| (l - max).exp()).collect();
    let total: f64 = w.iter().sum();
    let k = w.len() as f64;
    w.iter()
        .map(|x| (1.0 - gamma) * x / total + gamma / k)
        .collect()
}

impl Bandit {
    /// Builds a bandit from a validated configuration.
    pub fn new(config: BanditConfig) -> Result<Bandit, Error> {
        check_discount(config.discount, CONFIG)?;
        check_window(config.window, config.discount, CONFIG)?;
        let hyper = Hyper::resolve(config.model, &config.prior, CONFIG)?;
        let rule = Rule::resolve(
            config.policy,
            config.model,
            config.ucb_c,
            config.gamma,
            CONFIG,
        )?;
        let log_weight = matches!(rule, Rule::Exp3 { .. }).then_some(0.0);
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
            arms.push(Arm::new(name, log_weight));
        }
        let seed = config.seed.unwrap_or_else(crate::stats::random_seed);
        log::debug!(
            target: "gaia::tune",
            "bandit created: {} arms, model {:?}, policy {}",
            arms.len(),
            config.model,
            config.policy.name()
        );
        Ok(Bandit {
            model: config.model,
            rule,
            discount: config.discount,
            window: config.window.map(|size| Window {
                size,
                ring: VecDeque::new(),
            }),
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

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.rule.policy()
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

    /// EXP3 only: the probability that [`Bandit::choose`] picks each arm now, in arm order
    /// (summing to 1). `None` for the other policies.
    pub fn probabilities(&self) -> Option<Vec<f64>> {
        match self.rule {
            Rule::Exp3 { gamma } => Some(exp3_probabilities(
                self.arms.iter().map(|a| a.log_weight.unwrap_or(0.0)),
                gamma,
            )),
            _ => None,
        }
    }

    /// Thompson sampling: one posterior draw per arm, the largest wins (the first on ties).
    fn choose_thompson(&mut self) -> Result<usize, Error> {
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
        Ok(best)
    }

    /// UCB1: the first arm without evidence, else the largest upper confidence bound (the
    /// first on ties). No random draws.
    fn choose_ucb1(&self, c: f64) -> usize {
        if let Some(i) = self.arms.iter().position(|a| a.weight <= 0.0) {
            return i;
        }
        let n: f64 = self.arms.iter().map(|a| a.weight).sum();
        let log_n = n.ln().max(0.0);
        let mut best = 0;
        let mut best_index = f64::NEG_INFINITY;
        for (i, arm) in self.arms.iter().enumerate() {
            let index = arm.mean() + c * (2.0 * log_n / arm.weight).sqrt();
            if index > best_index {
                best = i;
                best_index = index;
            }
        }
        best
    }

    /// EXP3: one draw from the arms' probabilities.
    fn choose_exp3(&mut self, gamma: f64) -> usize {
        let p = exp3_probabilities(self.arms.iter().map(|a| a.log_weight.unwrap_or(0.0)), gamma);
        let u = self.rng.next_f64();
        let mut cumulative = 0.0;
        for (i, pi) in p.iter().enumerate() {
            cumulative += pi;
            if u < cumulative {
                return i;
            }
        }
        // Rounding left the probabilities summing to just under u.
        p.len() - 1
    }

    /// Chooses an arm by the bandit's policy and returns its index, counting it as chosen.
    ///
    /// Thompson: one draw from each arm's posterior, the largest (the first on ties). UCB1:
    /// the first arm without evidence, else the largest upper confidence bound. EXP3: a draw
    /// from the arms' probabilities ([`Bandit::probabilities`]).
    pub fn choose_index(&mut self) -> Result<usize, Error> {
        if self.arms.is_empty() {
            return Err(Error::NoArms);
        }
        let best = match self.rule {
            Rule::Thompson => self.choose_thompson()?,
            Rule::Ucb1 { c } => self.choose_ucb1(c),
            Rule::Exp3 { gamma } => self.choose_exp3(gamma),
        };
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
    /// Beta model (and so EXP3): `reward` must be in `[0, 1]`. Gaussian: any finite value.
    /// On error nothing changes.
    ///
    /// EXP3 weighs the reward by the inverse of the probability with which the arm would be
    /// chosen now (before this update); right after `choose` picked it, that is the
    /// probability it was chosen with.
    pub fn update(&mut self, name: &str, reward: f64) -> Result<(), Error> {
        let i = self.arm_index(name)?;
        self.update_index(i, reward)
    }

    /// Records `reward` for arm `index`; see [`Bandit::update`].
    pub fn update_index(&mut self, index: usize, reward: f64) -> Result<(), Error> {
        let len = self.arms.len();
        let arm = self.arms.get(index).ok_or(Error::ArmIndex { index, len })?;
        if let Some(requirement) = reward_requirement(self.model, reward) {
            return Err(Error::InvalidReward {
                arm: arm.name.clone(),
                value: reward,
                requirement,
            });
        }
        // EXP3's importance-weighted gain, at the arm's current probability (>= gamma / K).
        let gain = match (self.rule, self.probabilities()) {
            (Rule::Exp3 { gamma }, Some(p)) => gamma * reward / (p[index] * len as f64),
            _ => 0.0,
        };
        if self.discount < 1.0 {
            for a in &mut self.arms {
                a.weight *= self.discount;
                a.sum *= self.discount;
                a.m2 *= self.discount;
                if let Some(l) = &mut a.log_weight {
                    *l *= self.discount;
                }
            }
        }
        if let Some(window) = &mut self.window {
            if window.ring.len() as u64 >= window.size {
                if let Some(Entry(Some(j), old, old_gain)) = window.ring.pop_front() {
                    if let Some(a) = self.arms.get_mut(j) {
                        a.forget(old, self.model);
                        if let Some(l) = &mut a.log_weight {
                            *l -= old_gain;
                        }
                    }
                }
            }
            window.ring.push_back(Entry(Some(index), reward, gain));
        }
        let arm = &mut self.arms[index];
        arm.pulls += 1;
        arm.add(reward);
        if let Some(l) = &mut arm.log_weight {
            *l += gain;
        }
        self.total_pulls += 1;
        Ok(())
    }

    /// Adds an arm with no evidence (its prior only) at the end. Under EXP3 it starts with
    /// the largest weight of the other arms.
    pub fn add_arm(&mut self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        if self.arms.iter().any(|a| a.name == name) {
            return Err(Error::DuplicateArm(name.to_owned()));
        }
        let log_weight = match self.rule {
            Rule::Exp3 { .. } => Some(
                self.arms
                    .iter()
                    .filter_map(|a| a.log_weight)
                    .reduce(f64::max)
                    .unwrap_or(0.0),
            ),
            _ => None,
        };
        self.arms.push(Arm::new(name.to_owned(), log_weight));
        log::debug!(target: "gaia::tune", "bandit: added arm \"{name}\"");
        Ok(())
    }

    /// Removes the arm called `name` and its evidence; later arms move down one index. Its
    /// rewards in a sliding window stay there (counting towards the window) until they leave.
    pub fn remove_arm(&mut self, name: &str) -> Result<(), Error> {
        let i = self.arm_index(name)?;
        self.arms.remove(i);
        if let Some(window) = &mut self.window {
            for entry in &mut window.ring {
                entry.0 = match entry.0 {
                    Some(j) if j == i => None,
                    Some(j) if j > i => Some(j - 1),
                    other => other,
                };
            }
        }
        log::debug!(target: "gaia::tune", "bandit: removed arm \"{name}\"");
        Ok(())
    }

    fn arm_stats(&self, arm: &Arm, probability: Option<f64>) -> ArmStats {
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
            probability,
        }
    }

    /// Per-arm statistics and posteriors.
    pub fn stats(&self) -> BanditStats {
        let p = self.probabilities();
        BanditStats {
            model: self.model,
            policy: self.rule.policy(),
            ucb_c: self.rule.ucb_c(),
            gamma: self.rule.gamma(),
            discount: self.discount,
            window: self.window.as_ref().map(|w| w.size),
            total_pulls: self.total_pulls,
            arms: self
                .arms
                .iter()
                .enumerate()
                .map(|(i, a)| self.arm_stats(a, p.as_ref().and_then(|p| p.get(i).copied())))
                .collect(),
        }
    }

    /// [`Bandit::stats`] as compact JSON.
    pub fn stats_json(&self) -> String {
        // Serialising plain structs of strings, integers and finite floats cannot fail.
        serde_json::to_string(&self.stats()).unwrap_or_default()
    }

    /// The whole bandit (configuration, evidence, generator state, EXP3 weights, the window's
    /// rewards) as JSON. Loading it with [`Bandit::load_json`] gives a bandit that makes
    /// exactly the same choices. A Thompson-sampling bandit without a window is saved as
    /// version 1 (unchanged), any other as version 2 ([`STATE_VERSION`]).
    pub fn save_json(&self) -> String {
        let version = if self.rule == Rule::Thompson && self.window.is_none() {
            1
        } else {
            STATE_VERSION
        };
        let state = State {
            format: STATE_FORMAT.to_owned(),
            version,
            model: self.model,
            policy: self.rule.policy(),
            ucb_c: self.rule.ucb_c(),
            gamma: self.rule.gamma(),
            discount: self.discount,
            window: self.window.as_ref().map(|w| w.size),
            recent: self
                .window
                .as_ref()
                .map(|w| w.ring.iter().copied().collect()),
            prior: self.hyper.to_prior(self.model),
            rng: self.rng.to_hex(),
            total_pulls: self.total_pulls,
            arms: self.arms.clone(),
        };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// Restores a bandit saved by [`Bandit::save_json`] (format version 1 or 2), checking
    /// every field.
    pub fn load_json(json: &str) -> Result<Bandit, Error> {
        let what = STATE;
        let corrupt = |reason: String| Error::Corrupt { what, reason };
        // Version 1 is read as itself; anything else is checked against the newest version.
        let version = match serde_json::from_str::<Peek>(json)
            .ok()
            .and_then(|p| p.version)
        {
            Some(1) => 1,
            _ => STATE_VERSION,
        };
        let mut state: State = super::parse_saved(json, what, STATE_FORMAT, version)?;
        if state.version == 1
            && (state.policy != Policy::Thompson
                || state.ucb_c.is_some()
                || state.gamma.is_some()
                || state.window.is_some()
                || state.recent.is_some()
                || state.arms.iter().any(|a| a.log_weight.is_some()))
        {
            return Err(corrupt(
                "version 1 has no policy, ucb_c, gamma, window, recent or log_weight".into(),
            ));
        }
        check_discount(state.discount, what).map_err(|e| corrupt(e.to_string()))?;
        check_window(state.window, state.discount, what).map_err(|e| corrupt(e.to_string()))?;
        let hyper =
            Hyper::resolve(state.model, &state.prior, what).map_err(|e| corrupt(e.to_string()))?;
        let rule = Rule::resolve(state.policy, state.model, state.ucb_c, state.gamma, what)
            .map_err(|e| corrupt(e.to_string()))?;
        let rng = Rng::from_hex(&state.rng)
            .ok_or_else(|| corrupt("\"rng\" is not a valid generator state".into()))?;
        let exp3 = matches!(rule, Rule::Exp3 { .. });
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
            match arm.log_weight {
                Some(l) if exp3 && l.is_finite() => {}
                None if !exp3 => {}
                _ => {
                    return Err(corrupt(format!(
                        "arms[{i}] (\"{}\"): log_weight must be finite under exp3 and absent \
                         otherwise",
                        arm.name
                    )))
                }
            }
            pulls = pulls.saturating_add(arm.pulls);
        }
        if pulls > state.total_pulls {
            return Err(corrupt(format!(
                "total_pulls {} is less than the arms' pulls {pulls}",
                state.total_pulls
            )));
        }
        let window = match (state.window, state.recent.take()) {
            (None, None) => None,
            (Some(size), Some(recent)) => {
                check_recent(&recent, size, &state, exp3).map_err(corrupt)?;
                Some(Window {
                    size,
                    ring: recent.into(),
                })
            }
            _ => return Err(corrupt("\"window\" and \"recent\" go together".into())),
        };
        log::debug!(target: "gaia::tune", "bandit loaded: {} arms", state.arms.len());
        Ok(Bandit {
            model: state.model,
            rule,
            discount: state.discount,
            window,
            hyper,
            rng,
            total_pulls: state.total_pulls,
            arms: state.arms,
        })
    }
}

/// Checks a saved window against the arms: its length, every entry, and that each arm's
/// weight and sum are its rewards in the window.
fn check_recent(recent: &[Entry], size: u64, state: &State, exp3: bool) -> Result<(), String> {
    let expected_len = state.total_pulls.min(size);
    if recent.len() as u64 != expected_len {
        return Err(format!(
            "recent holds {} rewards, expected {expected_len} (window {size}, total_pulls {})",
            recent.len(),
            state.total_pulls
        ));
    }
    let mut count = vec![0u64; state.arms.len()];
    let mut sum = vec![0.0f64; state.arms.len()];
    let mut magnitude = vec![0.0f64; state.arms.len()];
    for (k, &Entry(arm, reward, gain)) in recent.iter().enumerate() {
        if reward_requirement(state.model, reward).is_some()
            || !(gain.is_finite() && gain >= 0.0 && (exp3 || gain == 0.0))
        {
            return Err(format!("recent[{k}]: invalid reward or gain"));
        }
        if let Some(j) = arm {
            if j >= state.arms.len() {
                return Err(format!("recent[{k}]: no arm {j}"));
            }
            count[j] += 1;
            sum[j] += reward;
            magnitude[j] += reward.abs();
        }
    }
    for (j, arm) in state.arms.iter().enumerate() {
        let slack = 1e-6 * (1.0 + magnitude[j]);
        if arm.weight != count[j] as f64 || (arm.sum - sum[j]).abs() > slack {
            return Err(format!(
                "arms[{j}] (\"{}\"): statistics disagree with the window",
                arm.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
