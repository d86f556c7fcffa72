//! Multi-armed bandits: Thompson sampling, UCB1, EXP3 and contextual linear Thompson sampling
//! (LinTS), with delayed feedback through tickets.
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
//!   Deterministic: it uses no random draws (ties go to the first arm; with tickets pending,
//!   an arm waiting for its first reward counts as tried, so concurrent asks spread over the
//!   untried arms). The bonus assumes
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
//! # Contextual bandits: `"lints"`
//!
//! `"policy": "lints"` is linear Thompson sampling (Agrawal & Goyal 2013; Chapelle & Li 2011)
//! over a context of `"features": d` numbers (1 to 1024) given with every ask: each arm `a`
//! models the reward as `x^T theta_a` plus noise, with the ridge posterior
//! `theta_a ~ N(mu_a, v^2 B_a^-1)`, `B_a = lambda I + sum x x^T`, `mu_a = B_a^-1 sum r x`.
//! An ask draws, per arm, the score `x^T theta_a`; since only that scalar matters it draws it
//! directly, `N(x^T mu_a, v^2 x^T B_a^-1 x)`, and picks the largest. `lambda` (default 1, in
//! `[1e-6, 1e6]`) is the ridge prior's precision; `v` (default 1, finite and > 0) scales the
//! posterior: it is the reward noise's standard deviation under which the posterior is exact,
//! so set it near that (about 0.5 for success/failure rewards; smaller explores less).
//! Rewards are real numbers (the model is always `"gaussian"`; `"beta"` is refused); a
//! discount below 1, a window, and the `prior` fields do not apply and are refused. Features
//! must be finite with `|x| <= 1e9` (scale them: the posterior assumes comparable scales).
//! Costs: O(d^2) per reward, O(K d^2) per ask for K arms. The posterior is kept as the
//! Cholesky factor of `B_a`, updated by a rank-one update per reward: backward stable, so
//! long runs do not drift, and saved exactly. New arms start at the prior.
//!
//! # Delayed feedback: tickets
//!
//! [`Bandit::ask`] chooses an arm (for `"lints"`, given the context) and returns a
//! [`Ticket`]: an id counting up from 1 and the arm. [`Bandit::tell`] gives the reward of a
//! ticket, minutes later and in any order; the bandit remembers what it needs (the arm, the
//! context, EXP3's probability at the time of the ask). Pending asks expire after
//! `pending_ttl_s` seconds (default 3600): an expired ask is dropped, or, with
//! `"expired_reward": r`, counts as reward `r` (e.g. 0: a call that timed out failed). Expiry
//! happens at the start of every ask, tell and stats call; telling an expired ticket is an
//! error that says so, as is telling a ticket twice, telling the ticket of a removed arm
//! (removing an arm drops its pending asks) or telling a ticket no ask returned. Pending
//! tickets are part of the saved state, so one process can tell what another asked. The
//! `*_at` methods take the time (unix seconds) as an argument; the others read the clock.
//! Pending asks live in memory and in the saved state until told or expired: a bandit asked
//! `n` times a second and never told holds up to `n * pending_ttl_s` of them (each with its
//! context), so pick the ttl to match how late a reward can usefully arrive.
//! `choose` and `update` keep working as before for the non-contextual policies.
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
//!
//! // Delayed feedback, contextual: ask with a context, tell the ticket later.
//! let mut lin = Bandit::from_json(
//!     r#"{"arms": ["small", "large"], "policy": "lints", "features": 2, "seed": 1}"#,
//! )?;
//! let t = lin.ask_at(&[1.0, 0.3], 1_700_000_000.0)?;
//! lin.tell_at(t.id, 0.8, 1_700_000_042.0)?;
//! assert_eq!(lin.stats().pending, 0);
//! # Ok::<(), gaia_core::Error>(())
//! ```

use std::collections::VecDeque;
use std::fmt::Write as _;

use serde::{Deserialize, Deserializer, Serialize};

use super::Error;
use crate::stats::{standard_normal, Beta, NormalInverseGamma, Rng};

mod linear;
mod tickets;

use linear::Linear;
use tickets::{Closed, SavedPending, Tickets};
pub use tickets::{DEFAULT_TTL_S, MAX_CLOSED};

/// Longest accepted arm name, in bytes.
pub const MAX_ARM_NAME_BYTES: usize = 256;
/// The newest format version [`Bandit::save_json`] writes; [`Bandit::load_json`] reads it and
/// every older one.
///
/// Version 1 holds Thompson-sampling bandits without a window; version 2 adds the policy
/// fields (`policy`, `ucb_c`, `gamma`, EXP3 `log_weight` per arm) and the sliding window
/// (`window`, `recent`); version 3 adds tickets (`pending_ttl_s`, `expired_reward`,
/// `next_ticket`, `pending`, `closed`, `closed_horizon`, `expired`) and LinTS (`features`,
/// `lambda`, `v`, `lin` per arm). A bandit is saved as the lowest version that holds it, so
/// older builds keep reading what they can.
pub const STATE_VERSION: u64 = 3;
const STATE_FORMAT: &str = "gaia.bandit";
const CONFIG: &str = "bandit config";
const STATE: &str = "bandit state";
/// The default EXP3 exploration rate.
pub const DEFAULT_GAMMA: f64 = 0.1;
/// The default UCB1 exploration constant (Auer et al.'s `sqrt(2 ln n / n_i)` bonus).
pub const DEFAULT_UCB_C: f64 = 1.0;
/// The most features a `"lints"` context may have.
pub const MAX_FEATURES: usize = 1024;
/// The default LinTS ridge precision `lambda`.
pub const DEFAULT_LAMBDA: f64 = 1.0;
/// The default LinTS posterior scale `v`.
pub const DEFAULT_V: f64 = 1.0;
/// The largest magnitude of a LinTS feature (and of a LinTS reward: 1e12), so that sums of
/// squares over any number of rewards stay finite.
pub const MAX_FEATURE_ABS: f64 = 1e9;
const MAX_LINTS_REWARD_ABS: f64 = 1e12;
const LAMBDA_RANGE: (f64, f64) = (1e-6, 1e6);
/// Tickets above this are refused in saved state (they stay exact as doubles everywhere).
const MAX_TICKET: u64 = 1 << 53;

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
    /// Contextual linear Thompson sampling over `features` numbers per ask.
    #[serde(rename = "lints")]
    LinTs,
}

impl Policy {
    /// The policy's name in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Thompson => "thompson",
            Policy::Ucb1 => "ucb1",
            Policy::Exp3 => "exp3",
            Policy::LinTs => "lints",
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
            "lints" => Ok(Policy::LinTs),
            other => Err(serde::de::Error::custom(format!(
                "policy: unknown policy {other:?}, expected \"thompson\", \"ucb1\", \"exp3\" or \
                 \"lints\""
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
/// {"arms": ["a", "b"], "policy": "lints", "features": 8, "lambda": 1.0, "v": 0.5,
///  "pending_ttl_s": 600, "expired_reward": 0}
/// ```
///
/// Only `arms` is required (it may be empty; arms can be added later). Without `seed`, the
/// generator is seeded from the operating system's randomness. `ucb_c` applies only to
/// `"ucb1"`, `gamma` only to `"exp3"`, `features` (required there), `lambda` and `v` only to
/// `"lints"`; `window` and a `discount` below 1 are exclusive. `pending_ttl_s` and
/// `expired_reward` apply to every policy (the tickets of [`Bandit::ask`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditConfig {
    /// The arms' names, unique, 1 to 256 bytes, no NUL.
    pub arms: Vec<String>,
    /// The reward model: `None` for the default (beta; gaussian for `"lints"`, which
    /// accepts nothing else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
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
    /// Prior hyper-parameters; defaults per model. Not for `"lints"`.
    #[serde(default)]
    pub prior: Prior,
    /// LinTS only, and required there: the number of features of a context, 1 to 1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<usize>,
    /// LinTS only: the ridge prior's precision, in `[1e-6, 1e6]` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// LinTS only: the posterior scale, finite and > 0 (default 1; about the rewards' noise
    /// standard deviation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<f64>,
    /// Seconds after which an ask that was not told expires; finite and > 0 (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_ttl_s: Option<f64>,
    /// The reward an expired ask counts as (valid for the model); `None` (the default)
    /// drops expired asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_reward: Option<f64>,
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
    LinTs { d: usize, lambda: f64, v: f64 },
}

/// The policy-specific fields of a configuration or a saved state, before validation.
#[derive(Debug, Clone, Copy, Default)]
struct PolicyFields {
    ucb_c: Option<f64>,
    gamma: Option<f64>,
    features: Option<usize>,
    lambda: Option<f64>,
    v: Option<f64>,
}

impl Rule {
    fn resolve(
        policy: Policy,
        model: Model,
        fields: PolicyFields,
        what: &'static str,
    ) -> Result<Rule, Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what,
            field: field.into(),
            reason,
        };
        let only = |field: &str, set: bool, owner: Policy| {
            if set && policy != owner {
                Err(bad(
                    field,
                    format!(
                        "applies only to policy \"{}\", not \"{}\"",
                        owner.name(),
                        policy.name()
                    ),
                ))
            } else {
                Ok(())
            }
        };
        only("ucb_c", fields.ucb_c.is_some(), Policy::Ucb1)?;
        only("gamma", fields.gamma.is_some(), Policy::Exp3)?;
        only("features", fields.features.is_some(), Policy::LinTs)?;
        only("lambda", fields.lambda.is_some(), Policy::LinTs)?;
        only("v", fields.v.is_some(), Policy::LinTs)?;
        match policy {
            Policy::Thompson => Ok(Rule::Thompson),
            Policy::Ucb1 => {
                let c = fields.ucb_c.unwrap_or(DEFAULT_UCB_C);
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
                let gamma = fields.gamma.unwrap_or(DEFAULT_GAMMA);
                if gamma.is_finite() && gamma > 0.0 && gamma <= 1.0 {
                    Ok(Rule::Exp3 { gamma })
                } else {
                    Err(bad("gamma", format!("must be in (0, 1], got {gamma}")))
                }
            }
            Policy::LinTs => {
                if model != Model::Gaussian {
                    return Err(bad(
                        "model",
                        "policy \"lints\" models real-valued rewards: use \"gaussian\" or leave \
                         model out, not \"beta\""
                            .into(),
                    ));
                }
                let d = match fields.features {
                    None => {
                        return Err(bad(
                            "features",
                            format!(
                                "policy \"lints\" needs the number of features of a context \
                                 (1 to {MAX_FEATURES})"
                            ),
                        ))
                    }
                    Some(d) if (1..=MAX_FEATURES).contains(&d) => d,
                    Some(d) => {
                        return Err(bad(
                            "features",
                            format!("must be 1 to {MAX_FEATURES}, got {d}"),
                        ))
                    }
                };
                let lambda = fields.lambda.unwrap_or(DEFAULT_LAMBDA);
                if !(lambda >= LAMBDA_RANGE.0 && lambda <= LAMBDA_RANGE.1) {
                    return Err(bad(
                        "lambda",
                        format!(
                            "must be in [{:e}, {:e}], got {lambda}",
                            LAMBDA_RANGE.0, LAMBDA_RANGE.1
                        ),
                    ));
                }
                let v = fields.v.unwrap_or(DEFAULT_V);
                if !(v.is_finite() && v > 0.0) {
                    return Err(bad("v", format!("must be finite and > 0, got {v}")));
                }
                Ok(Rule::LinTs { d, lambda, v })
            }
        }
    }

    fn policy(self) -> Policy {
        match self {
            Rule::Thompson => Policy::Thompson,
            Rule::Ucb1 { .. } => Policy::Ucb1,
            Rule::Exp3 { .. } => Policy::Exp3,
            Rule::LinTs { .. } => Policy::LinTs,
        }
    }

    /// The policy-specific fields, as configured (defaults filled in).
    fn fields(self) -> PolicyFields {
        match self {
            Rule::Thompson => PolicyFields::default(),
            Rule::Ucb1 { c } => PolicyFields {
                ucb_c: Some(c),
                ..PolicyFields::default()
            },
            Rule::Exp3 { gamma } => PolicyFields {
                gamma: Some(gamma),
                ..PolicyFields::default()
            },
            Rule::LinTs { d, lambda, v } => PolicyFields {
                features: Some(d),
                lambda: Some(lambda),
                v: Some(v),
                ..PolicyFields::default()
            },
        }
    }

    /// LinTS: the number of features; 0 for the policies without context.
    fn features(self) -> usize {
        match self {
            Rule::LinTs { d, .. } => d,
            _ => 0,
        }
    }
}

/// Resolves the model: the configured one, else beta (gaussian for `"lints"`).
fn resolve_model(model: Option<Model>, policy: Policy) -> Model {
    match (model, policy) {
        (Some(m), _) => m,
        (None, Policy::LinTs) => Model::Gaussian,
        (None, _) => Model::Beta,
    }
}

/// Checks the fields that `"lints"` refuses: a discount below 1, a window, a prior.
fn check_lints_extras(
    policy: Policy,
    discount: f64,
    window: Option<u64>,
    prior: &Prior,
    what: &'static str,
) -> Result<(), Error> {
    if policy != Policy::LinTs {
        return Ok(());
    }
    let bad = |field: &str, reason: &str| {
        Err(Error::Config {
            what,
            field: field.into(),
            reason: reason.into(),
        })
    };
    if discount < 1.0 {
        return bad(
            "discount",
            "policy \"lints\" keeps every reward in its ridge posterior: a discount below 1 is \
             not supported",
        );
    }
    if window.is_some() {
        return bad(
            "window",
            "policy \"lints\" keeps every reward in its ridge posterior: a window is not supported",
        );
    }
    if *prior != Prior::default() {
        return bad(
            "prior",
            "does not apply to policy \"lints\" (its prior is set by lambda and v)",
        );
    }
    Ok(())
}

/// Checks the ticket settings: the ttl and the reward of expired asks.
fn check_tickets(
    ttl: Option<f64>,
    expired_reward: Option<f64>,
    model: Model,
    policy: Policy,
    what: &'static str,
) -> Result<f64, Error> {
    let ttl = ttl.unwrap_or(DEFAULT_TTL_S);
    if !(ttl.is_finite() && ttl > 0.0) {
        return Err(Error::Config {
            what,
            field: "pending_ttl_s".into(),
            reason: format!("must be finite and > 0, got {ttl}"),
        });
    }
    if let Some(r) = expired_reward {
        if let Some(requirement) = reward_requirement(model, policy, r) {
            return Err(Error::Config {
                what,
                field: "expired_reward".into(),
                reason: format!("must be {requirement}, got {r}"),
            });
        }
    }
    Ok(ttl)
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
    /// LinTS only: the arm's linear model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lin: Option<Linear>,
}

impl Arm {
    fn new(name: String, log_weight: Option<f64>, lin: Option<Linear>) -> Arm {
        Arm {
            name,
            pulls: 0,
            chosen: 0,
            weight: 0.0,
            sum: 0.0,
            m2: 0.0,
            log_weight,
            lin,
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
    /// Posterior mean of the arm's expected reward (LinTS: the mean of its rewards, whatever
    /// their contexts).
    pub mean: f64,
    /// Posterior `alpha` (Beta: successes + prior; Gaussian: inverse-gamma shape); not for
    /// LinTS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Posterior `beta` (Beta: failures + prior; Gaussian: inverse-gamma scale); not for
    /// LinTS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Gaussian only: posterior `kappa`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
    /// EXP3 only: the probability that `choose` picks this arm now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// LinTS only: the posterior mean `mu` of the arm's coefficients, one per feature (its
    /// expected reward at context `x` is `x . theta`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theta: Option<Vec<f64>>,
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
    /// LinTS only: the number of features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<usize>,
    /// LinTS only: the ridge precision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// LinTS only: the posterior scale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<f64>,
    /// Rewards received by all arms, including arms removed since.
    pub total_pulls: u64,
    /// Asks waiting for their reward (after expiring those past the ttl).
    pub pending: u64,
    /// Asks that expired so far.
    pub expired: u64,
    /// The reward expired asks count as, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_reward: Option<f64>,
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
    /// Version 3, LinTS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    features: Option<usize>,
    /// Version 3, LinTS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lambda: Option<f64>,
    /// Version 3, LinTS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<f64>,
    /// Version 3 (absent: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_ttl_s: Option<f64>,
    /// Version 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expired_reward: Option<f64>,
    /// Version 3 (absent: 1, no ticket issued yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_ticket: Option<u64>,
    /// Version 3: the pending asks, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<SavedPending>,
    /// Version 3: the latest expired (`[ticket, null]`) and dropped (`[ticket, "arm"]`)
    /// tickets.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    closed: VecDeque<Closed>,
    /// Version 3: tickets below this may have left `closed`.
    #[serde(default, skip_serializing_if = "is_zero")]
    closed_horizon: u64,
    /// Version 3: asks expired so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    expired: u64,
    /// The generator's state, 64 hex digits (u64 would lose precision in PHP/JS JSON).
    rng: String,
    total_pulls: u64,
    arms: Vec<Arm>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Only the version of saved state, read first to pick the format.
#[derive(Deserialize)]
struct Peek {
    version: Option<u64>,
}

/// A multi-armed bandit over named arms (Thompson sampling, UCB1, EXP3, or contextual
/// LinTS), with delayed feedback through tickets. See the [module docs](self).
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
    tickets: Tickets,
}

/// What [`Bandit::ask`] returns: the ticket to tell the reward with, and the chosen arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// The ticket's id, counting up from 1 over the bandit's life (saves included).
    pub id: u64,
    /// The chosen arm's index (in the order of [`Bandit::arm_names`] at the time of the ask).
    pub arm: usize,
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

/// The reason `reward` is refused by `model` (and `policy`), if it is.
fn reward_requirement(model: Model, policy: Policy, reward: f64) -> Option<&'static str> {
    match model {
        Model::Beta if !(0.0..=1.0).contains(&reward) => Some("in [0, 1] for the beta model"),
        Model::Gaussian if !reward.is_finite() => Some("finite"),
        Model::Gaussian if policy == Policy::LinTs && reward.abs() > MAX_LINTS_REWARD_ABS => {
            Some("at most 1e12 in magnitude for policy \"lints\"")
        }
        _ => None,
    }
}

/// The current time in unix seconds, as the methods without `_at` read it.
pub fn unix_now() -> f64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        // A clock before 1970: negative seconds.
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Refuses a context longer than any bandit takes ([`MAX_FEATURES`]). Adapters that receive a
/// pointer and a length (the C ABI) call it before reading the numbers, so a wrong length
/// never reads past a buffer; [`Bandit::ask_at`] calls it too, so every front end gives the
/// same message.
pub fn check_context_len(len: usize) -> Result<(), Error> {
    if len > MAX_FEATURES {
        Err(Error::InvalidContext {
            reason: format!(
                "got {len} numbers, more than the {MAX_FEATURES} features a bandit takes"
            ),
        })
    } else {
        Ok(())
    }
}

fn check_time(now_s: f64) -> Result<(), Error> {
    if now_s.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidTime(now_s))
    }
}

/// LinTS: a new arm's model, its prior (`None` for the other policies).
fn prior_model(rule: Rule) -> Option<Linear> {
    match rule {
        Rule::LinTs { d, lambda, .. } => Some(Linear::new(d, lambda)),
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
        let model = resolve_model(config.model, config.policy);
        check_discount(config.discount, CONFIG)?;
        check_window(config.window, config.discount, CONFIG)?;
        let hyper = Hyper::resolve(model, &config.prior, CONFIG)?;
        let rule = Rule::resolve(
            config.policy,
            model,
            PolicyFields {
                ucb_c: config.ucb_c,
                gamma: config.gamma,
                features: config.features,
                lambda: config.lambda,
                v: config.v,
            },
            CONFIG,
        )?;
        check_lints_extras(
            config.policy,
            config.discount,
            config.window,
            &config.prior,
            CONFIG,
        )?;
        let ttl = check_tickets(
            config.pending_ttl_s,
            config.expired_reward,
            model,
            config.policy,
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
            arms.push(Arm::new(name, log_weight, prior_model(rule)));
        }
        let seed = config.seed.unwrap_or_else(crate::stats::random_seed);
        log::debug!(
            target: "gaia::tune",
            "bandit created: {} arms, model {:?}, policy {}",
            arms.len(),
            model,
            config.policy.name()
        );
        Ok(Bandit {
            model,
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
            tickets: Tickets::new(ttl, config.expired_reward),
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

    /// UCB1: the first arm without evidence (with asks pending: the one with the fewest),
    /// else the largest upper confidence bound (the first on ties). No random draws.
    fn choose_ucb1(&self, c: f64) -> usize {
        if self.arms.iter().any(|a| a.weight <= 0.0) {
            // Untried arms first. An arm waiting for the reward of a pending ask counts as
            // tried: among arms without evidence, the one with the fewest pending asks (the
            // first on ties), so concurrent asks spread over the untried arms.
            let mut waiting = vec![0u64; self.arms.len()];
            for p in self.tickets.pending.values() {
                waiting[p.arm] += 1;
            }
            let mut best: Option<usize> = None;
            for (i, a) in self.arms.iter().enumerate() {
                if a.weight <= 0.0 && best.is_none_or(|b| waiting[i] < waiting[b]) {
                    best = Some(i);
                }
            }
            if let Some(i) = best {
                return i;
            }
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

    /// EXP3: one draw from the arms' probabilities; the arm and its probability.
    fn choose_exp3(&mut self, gamma: f64) -> (usize, f64) {
        let p = exp3_probabilities(self.arms.iter().map(|a| a.log_weight.unwrap_or(0.0)), gamma);
        let u = self.rng.next_f64();
        let mut cumulative = 0.0;
        for (i, pi) in p.iter().enumerate() {
            cumulative += pi;
            if u < cumulative {
                return (i, *pi);
            }
        }
        // Rounding left the probabilities summing to just under u.
        let last = p.len() - 1;
        (last, p[last])
    }

    /// LinTS: per arm one draw of the score `x^T theta` from its posterior,
    /// `N(x^T mu, v^2 x^T B^-1 x)`; the largest wins (the first on ties).
    fn choose_lints(&mut self, x: &[f64], v: f64) -> usize {
        let mut work = vec![0.0; x.len()];
        let mut best = 0;
        let mut best_draw = f64::NEG_INFINITY;
        for (i, arm) in self.arms.iter().enumerate() {
            let draw = match &arm.lin {
                Some(lin) => {
                    let (mean, var) = lin.predict(x, &mut work);
                    mean + v * var.sqrt() * standard_normal(&mut self.rng)
                }
                None => f64::NEG_INFINITY,
            };
            if draw > best_draw {
                best = i;
                best_draw = draw;
            }
        }
        best
    }

    /// Chooses an arm by the policy: its index and, under EXP3, the probability it was
    /// drawn with. `context` is checked already.
    fn pick(&mut self, context: &[f64]) -> Result<(usize, Option<f64>), Error> {
        if self.arms.is_empty() {
            return Err(Error::NoArms);
        }
        Ok(match self.rule {
            Rule::Thompson => (self.choose_thompson()?, None),
            Rule::Ucb1 { c } => (self.choose_ucb1(c), None),
            Rule::Exp3 { gamma } => {
                let (i, p) = self.choose_exp3(gamma);
                (i, Some(p))
            }
            Rule::LinTs { v, .. } => (self.choose_lints(context, v), None),
        })
    }

    /// Chooses an arm by the bandit's policy and returns its index, counting it as chosen.
    ///
    /// Thompson: one draw from each arm's posterior, the largest (the first on ties). UCB1:
    /// the first arm without evidence, else the largest upper confidence bound. EXP3: a draw
    /// from the arms' probabilities ([`Bandit::probabilities`]). LinTS needs a context:
    /// [`Error::NeedsContext`] (use [`Bandit::ask`]).
    pub fn choose_index(&mut self) -> Result<usize, Error> {
        if matches!(self.rule, Rule::LinTs { .. }) {
            return Err(Error::NeedsContext { call: "choose" });
        }
        let (best, _) = self.pick(&[])?;
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
    /// On error nothing changes. LinTS learns only from [`Bandit::tell`] (a reward needs the
    /// context it was earned in): [`Error::NeedsContext`].
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
        if matches!(self.rule, Rule::LinTs { .. }) {
            return Err(Error::NeedsContext { call: "update" });
        }
        let len = self.arms.len();
        let arm = self.arms.get(index).ok_or(Error::ArmIndex { index, len })?;
        self.check_reward(&arm.name, reward)?;
        self.apply(index, reward, None, &[]);
        Ok(())
    }

    fn check_reward(&self, arm: &str, reward: f64) -> Result<(), Error> {
        match reward_requirement(self.model, self.rule.policy(), reward) {
            Some(requirement) => Err(Error::InvalidReward {
                arm: arm.to_owned(),
                value: reward,
                requirement,
            }),
            None => Ok(()),
        }
    }

    /// Records a checked `reward` for arm `index`. EXP3 weighs it by `p` (the probability the
    /// arm was drawn with) or, without one, by the arm's current probability; LinTS learns it
    /// at `context`.
    fn apply(&mut self, index: usize, reward: f64, p: Option<f64>, context: &[f64]) {
        let len = self.arms.len();
        // EXP3's importance-weighted gain, at a probability >= gamma / K.
        let gain = match self.rule {
            Rule::Exp3 { gamma } => {
                let p = match p {
                    Some(p) => p,
                    None => self.probabilities().map_or(1.0, |all| all[index]),
                };
                gamma * reward / (p * len as f64)
            }
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
        if let Some(lin) = &mut arm.lin {
            let mut work = vec![0.0; context.len()];
            lin.update(context, reward, &mut work);
        }
        self.total_pulls += 1;
    }

    /// Checks that `context` fits the policy: empty for the policies without context; `d`
    /// finite numbers with `|x| <= 1e9` for LinTS.
    fn check_context(&self, context: &[f64]) -> Result<(), Error> {
        check_context_len(context.len())?;
        let reason = match self.rule {
            Rule::LinTs { d, .. } if context.is_empty() => {
                format!("policy \"lints\" needs a context of {d} features with every ask, got none")
            }
            Rule::LinTs { d, .. } if context.len() != d => {
                format!("expected {d} features, got {}", context.len())
            }
            Rule::LinTs { .. } => match context
                .iter()
                .position(|x| !(x.is_finite() && x.abs() <= MAX_FEATURE_ABS))
            {
                Some(i) => format!(
                    "context[{i}] must be finite and at most 1e9 in magnitude, got {}",
                    context[i]
                ),
                None => return Ok(()),
            },
            rule if !context.is_empty() => format!(
                "policy \"{}\" takes no context, got {} features (only \"lints\" is contextual)",
                rule.policy().name(),
                context.len()
            ),
            _ => return Ok(()),
        };
        Err(Error::InvalidContext { reason })
    }

    /// Expires the pending asks older than `pending_ttl_s` at `now_s` (unix seconds) and
    /// returns how many expired. With `expired_reward`, each counts as that reward for its arm
    /// (at its context, under EXP3 with its probability); without, it is dropped. Runs by
    /// itself at the start of every ask and tell; call it before [`Bandit::stats`] for
    /// up-to-date pending counts.
    pub fn expire_at(&mut self, now_s: f64) -> Result<u64, Error> {
        check_time(now_s)?;
        Ok(self.expire_due(now_s))
    }

    /// [`Bandit::expire_at`] at the current time.
    pub fn expire(&mut self) -> u64 {
        self.expire_due(unix_now())
    }

    fn expire_due(&mut self, now_s: f64) -> u64 {
        let mut n = 0;
        while let Some((ticket, p)) = self.tickets.pop_expired(now_s) {
            n += 1;
            if let Some(r) = self.tickets.expired_reward {
                // The reward was checked against the model at configuration, the context and
                // the arm at the ask (removing an arm drops its pending asks).
                self.apply(p.arm, r, p.p, &p.context);
            }
            log::debug!(
                target: "gaia::tune",
                "bandit: ticket {ticket} expired after {} s",
                self.tickets.ttl
            );
        }
        n
    }

    /// Chooses an arm for a reward that will come later: the arm (counted as chosen) and a
    /// ticket to give that reward to [`Bandit::tell_at`]. `context` is the LinTS context
    /// (`features` finite numbers, `|x| <= 1e9`), empty for the other policies. `now_s` is
    /// the time in unix seconds; asks past their ttl expire first.
    ///
    /// Errors: [`Error::InvalidTime`], [`Error::InvalidContext`] (a context of the wrong
    /// length, NaN or infinite values, a context for a policy without one, none for LinTS),
    /// [`Error::NoArms`]. On error nothing changes.
    pub fn ask_at(&mut self, context: &[f64], now_s: f64) -> Result<Ticket, Error> {
        check_time(now_s)?;
        self.check_context(context)?;
        if self.arms.is_empty() {
            return Err(Error::NoArms);
        }
        self.expire_due(now_s);
        let (arm, p) = self.pick(context)?;
        self.arms[arm].chosen += 1;
        let id = self.tickets.open(arm, now_s, context, p);
        Ok(Ticket { id, arm })
    }

    /// [`Bandit::ask_at`] at the current time.
    pub fn ask(&mut self, context: &[f64]) -> Result<Ticket, Error> {
        self.ask_at(context, unix_now())
    }

    /// Records `reward` for the ask that returned `ticket` and returns the index of its arm.
    /// `now_s` is the time in unix seconds; asks past their ttl expire first. The reward must
    /// suit the model as for [`Bandit::update`] (LinTS: finite, at most 1e12 in magnitude).
    ///
    /// Errors: [`Error::UnknownTicket`] for a ticket no ask returned; [`Error::TicketClosed`]
    /// for one told already, expired ("ticket 17 expired after 600 s"), or dropped when its
    /// arm was removed; [`Error::InvalidReward`]; [`Error::InvalidTime`]. Apart from the
    /// expiry, nothing changes on error (a refused reward leaves the ticket pending).
    pub fn tell_at(&mut self, ticket: u64, reward: f64, now_s: f64) -> Result<usize, Error> {
        check_time(now_s)?;
        self.expire_due(now_s);
        let Some(arm) = self.tickets.pending.get(&ticket).map(|p| p.arm) else {
            return Err(match self.tickets.why_closed(ticket) {
                Ok(reason) => Error::TicketClosed { ticket, reason },
                Err(reason) => Error::UnknownTicket { ticket, reason },
            });
        };
        self.check_reward(&self.arms[arm].name, reward)?;
        if let Some(p) = self.tickets.pending.remove(&ticket) {
            self.apply(p.arm, reward, p.p, &p.context);
        }
        Ok(arm)
    }

    /// [`Bandit::tell_at`] at the current time.
    pub fn tell(&mut self, ticket: u64, reward: f64) -> Result<usize, Error> {
        self.tell_at(ticket, reward, unix_now())
    }

    /// How many asks wait for their reward (as of the last expiry).
    pub fn pending_count(&self) -> usize {
        self.tickets.pending.len()
    }

    /// Adds an arm with no evidence (its prior only) at the end. Under EXP3 it starts with
    /// the largest weight of the other arms; under LinTS with the prior model.
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
        self.arms.push(Arm::new(
            name.to_owned(),
            log_weight,
            prior_model(self.rule),
        ));
        log::debug!(target: "gaia::tune", "bandit: added arm \"{name}\"");
        Ok(())
    }

    /// Removes the arm called `name` and its evidence; later arms move down one index. Its
    /// rewards in a sliding window stay there (counting towards the window) until they leave.
    /// Its pending asks are dropped: telling their tickets is an error that says why.
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
        self.tickets.remove_arm(i, name);
        log::debug!(target: "gaia::tune", "bandit: removed arm \"{name}\"");
        Ok(())
    }

    fn arm_stats(&self, arm: &Arm, probability: Option<f64>) -> ArmStats {
        let (mean, alpha, beta, kappa) = match (self.model, &arm.lin) {
            (_, Some(_)) => (arm.mean(), None, None, None),
            (Model::Beta, None) => {
                let (a, b) = arm.beta_posterior(&self.hyper);
                (a / (a + b), Some(a), Some(b), None)
            }
            (Model::Gaussian, None) => {
                let (mu, kappa, alpha, beta) = arm.nig_posterior(&self.hyper);
                (mu, Some(alpha), Some(beta), Some(kappa))
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
            theta: arm.lin.as_ref().map(|l| l.mean().to_vec()),
        }
    }

    /// Per-arm statistics and posteriors, and the pending and expired asks as of the last
    /// expiry (the C ABI and the bindings call [`Bandit::expire`] first).
    pub fn stats(&self) -> BanditStats {
        let p = self.probabilities();
        let fields = self.rule.fields();
        BanditStats {
            model: self.model,
            policy: self.rule.policy(),
            ucb_c: fields.ucb_c,
            gamma: fields.gamma,
            discount: self.discount,
            window: self.window.as_ref().map(|w| w.size),
            features: fields.features,
            lambda: fields.lambda,
            v: fields.v,
            total_pulls: self.total_pulls,
            pending: self.tickets.pending.len() as u64,
            expired: self.tickets.expired,
            expired_reward: self.tickets.expired_reward,
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
    /// rewards, LinTS models, pending tickets) as JSON. Loading it with [`Bandit::load_json`]
    /// gives a bandit that makes exactly the same choices and accepts the same tickets. It is
    /// saved as the lowest format version that holds it: 1 for a Thompson-sampling bandit
    /// without a window and without tickets, 2 for the other policies and windows, 3
    /// ([`STATE_VERSION`]) once tickets were used or configured, and for LinTS.
    pub fn save_json(&self) -> String {
        let lints = matches!(self.rule, Rule::LinTs { .. });
        let version = if lints || !self.tickets.is_default() {
            3
        } else if self.rule != Rule::Thompson || self.window.is_some() {
            2
        } else {
            1
        };
        let fields = self.rule.fields();
        let t = &self.tickets;
        let state = State {
            format: STATE_FORMAT.to_owned(),
            version,
            model: self.model,
            policy: self.rule.policy(),
            ucb_c: fields.ucb_c,
            gamma: fields.gamma,
            discount: self.discount,
            window: self.window.as_ref().map(|w| w.size),
            recent: self
                .window
                .as_ref()
                .map(|w| w.ring.iter().copied().collect()),
            prior: if lints {
                Prior::default()
            } else {
                self.hyper.to_prior(self.model)
            },
            features: fields.features,
            lambda: fields.lambda,
            v: fields.v,
            pending_ttl_s: (t.ttl != DEFAULT_TTL_S).then_some(t.ttl),
            expired_reward: t.expired_reward,
            next_ticket: (t.next != 1).then_some(t.next),
            pending: t.saved_pending(),
            closed: t.closed.clone(),
            closed_horizon: t.horizon,
            expired: t.expired,
            rng: self.rng.to_hex(),
            total_pulls: self.total_pulls,
            arms: self.arms.clone(),
        };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// Restores a bandit saved by [`Bandit::save_json`] (format version 1, 2 or 3), checking
    /// every field.
    pub fn load_json(json: &str) -> Result<Bandit, Error> {
        let what = STATE;
        let corrupt = |reason: String| Error::Corrupt { what, reason };
        // Versions 1 and 2 are read as themselves; anything else is checked against the
        // newest version.
        let version = match serde_json::from_str::<Peek>(json)
            .ok()
            .and_then(|p| p.version)
        {
            Some(v @ (1 | 2)) => v,
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
        if state.version < 3 && has_v3_fields(&state) {
            return Err(corrupt(format!(
                "version {} has no tickets (pending_ttl_s, expired_reward, next_ticket, pending, \
                 closed, closed_horizon, expired) and no policy \"lints\" (features, lambda, v, \
                 lin)",
                state.version
            )));
        }
        check_discount(state.discount, what).map_err(|e| corrupt(e.to_string()))?;
        check_window(state.window, state.discount, what).map_err(|e| corrupt(e.to_string()))?;
        check_lints_extras(
            state.policy,
            state.discount,
            state.window,
            &state.prior,
            what,
        )
        .map_err(|e| corrupt(e.to_string()))?;
        let hyper =
            Hyper::resolve(state.model, &state.prior, what).map_err(|e| corrupt(e.to_string()))?;
        let rule = Rule::resolve(
            state.policy,
            state.model,
            PolicyFields {
                ucb_c: state.ucb_c,
                gamma: state.gamma,
                features: state.features,
                lambda: state.lambda,
                v: state.v,
            },
            what,
        )
        .map_err(|e| corrupt(e.to_string()))?;
        let ttl = check_tickets(
            state.pending_ttl_s,
            state.expired_reward,
            state.model,
            state.policy,
            what,
        )
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
            match (&arm.lin, rule) {
                (Some(lin), Rule::LinTs { d, lambda, .. })
                    if lin.dim() == d && lin.min_diag() >= lambda.sqrt() * (1.0 - 1e-12) => {}
                (None, Rule::LinTs { .. }) | (Some(_), _) => {
                    return Err(corrupt(format!(
                        "arms[{i}] (\"{}\"): lin must be a model of the configured features \
                         under lints, and absent otherwise",
                        arm.name
                    )))
                }
                (None, _) => {}
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
        let tickets = load_tickets(&mut state, rule, ttl).map_err(corrupt)?;
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
            tickets,
        })
    }
}

/// Whether saved state holds anything that only version 3 has.
fn has_v3_fields(s: &State) -> bool {
    s.policy == Policy::LinTs
        || s.features.is_some()
        || s.lambda.is_some()
        || s.v.is_some()
        || s.pending_ttl_s.is_some()
        || s.expired_reward.is_some()
        || s.next_ticket.is_some()
        || !s.pending.is_empty()
        || !s.closed.is_empty()
        || s.closed_horizon != 0
        || s.expired != 0
        || s.arms.iter().any(|a| a.lin.is_some())
}

/// Checks and rebuilds the saved tickets: ids below `next_ticket`, pending asks in ticket
/// order with non-decreasing times, on existing arms, with contexts that fit the policy.
fn load_tickets(state: &mut State, rule: Rule, ttl: f64) -> Result<Tickets, String> {
    let next = state.next_ticket.unwrap_or(1);
    if !(1..=MAX_TICKET).contains(&next) {
        return Err(format!("next_ticket must be 1 to 2^53, got {next}"));
    }
    let d = rule.features();
    let exp3 = matches!(rule, Rule::Exp3 { .. });
    let mut tickets = Tickets::new(ttl, state.expired_reward);
    tickets.next = next;
    let mut last: Option<(u64, f64)> = None;
    for (k, p) in std::mem::take(&mut state.pending).into_iter().enumerate() {
        let ordered = match last {
            None => true,
            Some((t, at)) => p.ticket > t && p.at >= at,
        };
        let fits = p.context.len() == d
            && p.context
                .iter()
                .all(|x| x.is_finite() && x.abs() <= MAX_FEATURE_ABS);
        let p_ok = match p.p {
            Some(q) => exp3 && q > 0.0 && q <= 1.0,
            None => !exp3,
        };
        if !(ordered
            && p.ticket >= 1
            && p.ticket < next
            && p.arm < state.arms.len()
            && p.at.is_finite()
            && fits
            && p_ok)
        {
            return Err(format!(
                "pending[{k}] (ticket {}): inconsistent with the bandit",
                p.ticket
            ));
        }
        last = Some((p.ticket, p.at));
        tickets.pending.insert(
            p.ticket,
            tickets::Pending {
                arm: p.arm,
                at: p.at,
                context: p.context,
                p: p.p,
            },
        );
    }
    if state.closed.len() > MAX_CLOSED {
        return Err(format!(
            "closed holds {} tickets, at most {MAX_CLOSED}",
            state.closed.len()
        ));
    }
    for (k, (t, arm)) in state.closed.iter().enumerate() {
        let valid_name = arm.as_deref().is_none_or(|n| check_name(n).is_ok());
        if !(*t >= 1
            && *t < next
            && valid_name
            && !tickets.pending.contains_key(t)
            && !state.closed.iter().take(k).any(|(u, _)| u == t))
        {
            return Err(format!("closed[{k}] (ticket {t}): inconsistent"));
        }
    }
    if state.closed_horizon > next {
        return Err(format!(
            "closed_horizon {} is beyond next_ticket {next}",
            state.closed_horizon
        ));
    }
    tickets.closed = std::mem::take(&mut state.closed);
    tickets.horizon = state.closed_horizon;
    tickets.expired = state.expired;
    Ok(tickets)
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
        if reward_requirement(state.model, state.policy, reward).is_some()
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
