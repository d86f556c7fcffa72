//! A search's configuration, as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::posterior::Prior;
use super::Error;

/// Which tree search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// AB-MCTS-A (node aggregation): at every node, Thompson sampling between a new child
    /// (GEN) and the existing ones (CONT), as treequest's `ABMCTSA`.
    #[default]
    AbMctsA,
    /// AB-MCTS-M (mixed model): at every node, one hierarchical Bayesian model over the
    /// children's subtrees (and a new child), fitted by quadrature; the option with the
    /// best posterior-predictive draw wins (see [`super::mixed`]).
    AbMctsM,
    /// UCT with softmax priors over the children's scores, expanding leaves only, each
    /// `samples_per_action` times per action (treequest's `StandardMCTS`).
    StandardMcts,
    /// Best-first: expand the best-scoring node (shallowest on ties) `samples_per_action`
    /// times per action (treequest's `BestFirstSearchAlgo`).
    BestFirst,
    /// Every trial a new answer from the root, actions in turn (the baseline of sampling N
    /// answers and keeping the best).
    RepeatedSampling,
}

/// How AB-MCTS-A chooses among several actions (LLMs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// GEN/CONT shared by all actions; the action of a GEN by a global Thompson bandit over
    /// every score each action produced (treequest's `multiarm_bandit_thompson`, default).
    #[default]
    Thompson,
    /// As `thompson`, the action by UCB1 (treequest's `multiarm_bandit_ucb`).
    Ucb,
    /// Per node: first an action by Thompson sampling, then GEN/CONT for that action
    /// (treequest's `stack`).
    Stack,
}

/// `reward_average_priors`: one prior mean for every action, or one per action name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RewardAverage {
    /// The same for all actions.
    All(f64),
    /// By action name (every action must be listed).
    PerAction(BTreeMap<String, f64>),
}

/// A search's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The algorithm (default `ab_mcts_a`).
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Names of the ways to produce an answer (e.g. one per LLM); default `["generate"]`.
    #[serde(default = "default_actions")]
    pub actions: Vec<String>,
    /// The prior of every posterior: `{"type": "gaussian"}` (default, treequest's
    /// parameters) or `{"type": "beta"}`, with optional parameters.
    #[serde(default = "default_prior")]
    pub prior: Prior,
    /// Action selection for AB-MCTS-A with several actions.
    #[serde(default)]
    pub selection: Selection,
    /// Prior mean of each action's reward (AB-MCTS-A's action posteriors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_average_priors: Option<RewardAverage>,
    /// Expansions per action of a selected node (standard MCTS, best-first; default 2).
    #[serde(default = "default_samples")]
    pub samples_per_action: u32,
    /// UCT's exploration weight (standard MCTS; default sqrt 2).
    #[serde(default = "default_exploration")]
    pub exploration_weight: f64,
    /// At most this many children per node (AB-MCTS-A); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
    /// No node deeper than this (the root is depth 0; AB-MCTS-A); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u32>,
    /// How AB-MCTS-A values GEN against CONT: `faithful` (default, treequest: a draw of
    /// each posterior's mean) or `predictive` (opt-in: a draw of the next score each would
    /// give, with the spread of the scores themselves, so a node keeps widening while a new
    /// answer has a real chance to beat the ones it has).
    #[serde(default)]
    pub widening: Widening,
    /// How AB-MCTS-A treats trials asked but not told yet: `ignore` (default, treequest:
    /// each selection sees only told scores, so a batch may repeat an expansion) or
    /// `virtual_loss` (opt-in: each pending expansion counts as a score of 0 where its
    /// answer will be counted, until it is told or abandoned, so a batch spreads out).
    #[serde(default)]
    pub pending: Pending,
    /// The seed; random when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// See [`Config::pending`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// treequest's behaviour.
    #[default]
    Ignore,
    /// Pending expansions count as scores of 0 until told or abandoned.
    VirtualLoss,
}

/// See [`Config::widening`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Widening {
    /// treequest's behaviour.
    #[default]
    Faithful,
    /// GEN and CONT by posterior-predictive draws.
    Predictive,
}

fn default_actions() -> Vec<String> {
    vec!["generate".into()]
}
fn default_prior() -> Prior {
    Prior::GAUSSIAN
}
fn default_samples() -> u32 {
    2
}
fn default_exploration() -> f64 {
    std::f64::consts::SQRT_2
}

/// The most actions a search may have.
pub const MAX_ACTIONS: usize = 256;

impl Config {
    /// Parses and validates a JSON configuration.
    pub fn from_json(json: &str) -> Result<Config, Error> {
        let config: Config = serde_json::from_str(json).map_err(|source| Error::Json {
            what: "mcts config",
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; the error names it.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, reason: String| Error::Config {
            field: field.into(),
            reason,
        };
        if self.actions.is_empty() {
            return Err(bad("actions", "at least one action is needed".into()));
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(bad(
                "actions",
                format!("at most {MAX_ACTIONS} actions, got {}", self.actions.len()),
            ));
        }
        for (i, a) in self.actions.iter().enumerate() {
            if a.is_empty() || a.len() > 256 || a.contains('\0') {
                return Err(bad(
                    "actions",
                    format!("action #{i} {a:?} must be 1-256 bytes without NUL"),
                ));
            }
            if self.actions[..i].contains(a) {
                return Err(bad("actions", format!("action \"{a}\" is listed twice")));
            }
        }
        self.prior.validate().map_err(|r| bad("prior", r))?;
        match &self.reward_average_priors {
            None => {}
            Some(RewardAverage::All(v)) => {
                check_average(*v).map_err(|r| bad("reward_average_priors", r))?
            }
            Some(RewardAverage::PerAction(map)) => {
                if let Some(extra) = map.keys().find(|k| !self.actions.contains(k)) {
                    return Err(bad(
                        "reward_average_priors",
                        format!("\"{extra}\" is not an action"),
                    ));
                }
                for a in &self.actions {
                    let v = map.get(a).ok_or_else(|| {
                        bad(
                            "reward_average_priors",
                            format!("action \"{a}\" is missing"),
                        )
                    })?;
                    check_average(*v).map_err(|r| bad("reward_average_priors", r))?;
                }
            }
        }
        if self.samples_per_action == 0 || self.samples_per_action > 1000 {
            return Err(bad(
                "samples_per_action",
                format!("must be 1..=1000, got {}", self.samples_per_action),
            ));
        }
        if !(self.exploration_weight.is_finite() && self.exploration_weight >= 0.0) {
            return Err(bad(
                "exploration_weight",
                format!("must be finite and >= 0, got {}", self.exploration_weight),
            ));
        }
        if self.max_width == Some(0) {
            return Err(bad("max_width", "must be >= 1".into()));
        }
        if self.max_depth == Some(0) {
            return Err(bad("max_depth", "must be >= 1".into()));
        }
        Ok(())
    }

    /// The prior of action `a`'s reward posterior.
    pub fn action_prior(&self, a: usize) -> Prior {
        match &self.reward_average_priors {
            None => self.prior,
            Some(RewardAverage::All(v)) => self.prior.with_average(*v),
            Some(RewardAverage::PerAction(map)) => map
                .get(&self.actions[a])
                .map_or(self.prior, |v| self.prior.with_average(*v)),
        }
    }
}

fn check_average(v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(format!("a prior reward average must be in (0, 1), got {v}"))
    }
}
