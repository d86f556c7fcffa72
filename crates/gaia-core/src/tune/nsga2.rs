//! NSGA-II (Deb, Pratap, Agarwal and Meyarivan 2002, "A fast and elitist multiobjective
//! genetic algorithm"), with Optuna's `NSGAIISampler` defaults: populations of 50, crossover
//! with probability 0.9 (uniform, swapping each parameter with probability 0.5, or simulated
//! binary crossover), and mutation of each parameter with probability 1/(number of
//! parameters), a mutated parameter being drawn afresh at random. It works for one objective
//! too, and handles constraints by Deb's constrained domination (feasible before infeasible,
//! infeasible by total violation).
//!
//! # Generations without stored state
//!
//! A study shared by several processes (a journal, a database) gives each process its own
//! sampler, and they must agree on the population without talking to each other. So
//! everything is a function of the trials, which all processes see alike:
//!
//! * generation `g` is the trials with ids in `[g P, (g + 1) P)` (`P` the population size):
//!   the trial an ask creates has the id `trials.len()`, which fixes its generation;
//! * generation 0 is drawn at random;
//! * the parents of generation `g >= 1` are the elite `E(g)`: the best `P` of `E(g - 1)`
//!   together with the complete trials of generation `g - 1` (`E(0)` is empty), by
//!   non-domination rank and, within the last front that fits only in part, by crowding
//!   distance (larger first; ties by id). This is NSGA-II's (mu + lambda) survival.
//!
//! With one process asking and telling in turn this is exactly NSGA-II. With several, a trial
//! of generation `g - 1` still running when generation `g` is asked does not take part (as
//! in any asynchronous NSGA-II); once it completes, `E(g)` and every later elite include it,
//! so all processes converge to the same parents.
//!
//! The sampler caches each `E(g)` with the number of complete trials whose id is below
//! `g P`, the one thing it depends on (trials only ever move from running to finished, so
//! the count identifies the set); an ask recomputes the elites whose count changed, in
//! generation order, and nothing else.
//!
//! # Children
//!
//! With probability `crossover_prob`, two parents are drawn by binary tournaments (two
//! random members of `E(g)`, the first kept if it constrained-dominates the second, else the
//! second; the second parent is drawn among the members other than the first) and crossed;
//! otherwise one random member is copied. Categorical parameters always cross uniformly over
//! the choice index; numeric ones cross uniformly or by SBX in internal units (log space for
//! `log` parameters), and integer and stepped parameters snap to their grid. Then each
//! parameter mutates (is drawn uniformly afresh) with probability `mutation_prob`.
//!
//! Conditional parameters follow the child's own choices: a parameter inactive in the child
//! stays unset; one active in the child but unset in the parent it would come from is taken
//! from the other parent, or drawn at random when neither has it.

use serde::{Deserialize, Serialize};

use super::pareto;
use super::sampler::{RandomSampler, Sampler};
use super::space::Distribution;
use super::study::{Direction, Trial, TrialState};
use super::{Error, Space};
use crate::stats::Rng;

/// How two parents make a child's numeric parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crossover {
    /// Each parameter from one parent or the other (Syswerda 1989), the second with
    /// probability `1 - swapping_prob`.
    #[default]
    Uniform,
    /// Simulated binary crossover (Deb and Agrawal 1995) within the bounds, as Optuna's
    /// `SBXCrossover` with its defaults: each parameter is, with probability 1/2, one of the
    /// two SBX offspring values (else one of the parents' values), and `sbx_eta` sets how
    /// close the offspring stay to the parents.
    Sbx,
}

/// NSGA-II settings; every field has Optuna's default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nsga2Config {
    /// Trials per generation (at least 2).
    pub population_size: usize,
    /// Probability that each parameter of a child is drawn afresh at random; `None` (the
    /// default) means 1 / (number of parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_prob: Option<f64>,
    /// Probability that a child comes from crossing two parents rather than copying one.
    pub crossover_prob: f64,
    /// With uniform crossover, and for categorical parameters always: the probability of
    /// taking each parameter from the first parent.
    pub swapping_prob: f64,
    /// `"uniform"` (the default) or `"sbx"`.
    pub crossover: Crossover,
    /// SBX's distribution index (larger: children closer to their parents); `None` means
    /// Optuna's 20 with several objectives and 2 with one. Only with `"crossover": "sbx"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx_eta: Option<f64>,
}

impl Default for Nsga2Config {
    fn default() -> Self {
        Nsga2Config {
            population_size: 50,
            mutation_prob: None,
            crossover_prob: 0.9,
            swapping_prob: 0.5,
            crossover: Crossover::Uniform,
            sbx_eta: None,
        }
    }
}

/// The largest population accepted (a guard against typos such as 5e9).
const MAX_POPULATION: usize = 1_000_000;

impl Nsga2Config {
    /// Checks the settings; the error names the field (`sampler.population_size`, ...).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what: "study config",
            field: format!("sampler.{field}"),
            reason,
        };
        if !(2..=MAX_POPULATION).contains(&self.population_size) {
            return Err(bad(
                "population_size",
                format!(
                    "must be between 2 and {MAX_POPULATION} (two parents per child), got {}",
                    self.population_size
                ),
            ));
        }
        let probability = |field: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(bad(
                    field,
                    format!("must be a probability in [0, 1], got {p}"),
                ))
            }
        };
        if let Some(p) = self.mutation_prob {
            probability("mutation_prob", p)?;
        }
        probability("crossover_prob", self.crossover_prob)?;
        probability("swapping_prob", self.swapping_prob)?;
        if let Some(eta) = self.sbx_eta {
            if self.crossover != Crossover::Sbx {
                return Err(bad(
                    "sbx_eta",
                    "only applies with \"crossover\": \"sbx\"".into(),
                ));
            }
            if !(eta.is_finite() && eta >= 0.0) {
                return Err(bad(
                    "sbx_eta",
                    format!("must be finite and >= 0, got {eta}"),
                ));
            }
        }
        Ok(())
    }
}

/// One generation's parents, with what they were computed from.
#[derive(Debug, Clone)]
struct Elite {
    /// The number of complete trials with an id below the generation's first id.
    key: usize,
    /// Trial indices, ascending.
    members: Vec<usize>,
}

/// The NSGA-II sampler (see the module documentation for the design).
#[derive(Debug, Clone)]
pub struct Nsga2Sampler {
    config: Nsga2Config,
    /// `elites[g - 1]` holds the parents of generation `g`.
    elites: Vec<Elite>,
    /// How many trials the last ask saw (fewer now: another study; start over).
    seen: usize,
}

impl Nsga2Sampler {
    /// A sampler with these (validated) settings.
    pub fn new(config: Nsga2Config) -> Nsga2Sampler {
        Nsga2Sampler {
            config,
            elites: Vec::new(),
            seen: 0,
        }
    }

    /// The ids of the trials generation `generation` breeds from, as every process sharing
    /// the study computes them from `trials` (empty for generation 0, or while no trial
    /// before the generation completed).
    pub fn parent_ids(
        &mut self,
        generation: usize,
        trials: &[Trial],
        directions: &[Direction],
    ) -> Vec<u64> {
        if generation == 0 {
            return Vec::new();
        }
        // Past the last generation with trials, the elite stays as it is.
        let generation = generation.min(trials.len() / self.config.population_size + 1);
        self.parents(generation, trials, directions)
            .iter()
            .map(|&i| trials[i].id)
            .collect()
    }

    /// The parents of generation `g >= 1` (trial indices), recomputing the cached elites
    /// whose inputs changed.
    fn parents(&mut self, g: usize, trials: &[Trial], directions: &[Direction]) -> &[usize] {
        if trials.len() < self.seen {
            self.elites.clear();
        }
        self.seen = trials.len();
        let p = self.config.population_size;
        // key: the complete trials with id < h P.
        let mut key = 0;
        for h in 1..=g {
            let first = ((h - 1) * p).min(trials.len());
            let last = (h * p).min(trials.len());
            key += trials[first..last]
                .iter()
                .filter(|t| is_complete(t))
                .count();
            if self.elites.get(h - 1).is_some_and(|e| e.key == key) {
                continue;
            }
            self.elites.truncate(h - 1);
            let mut pool: Vec<usize> = match h {
                1 => Vec::new(),
                _ => self.elites[h - 2].members.clone(),
            };
            pool.extend((first..last).filter(|&i| is_complete(&trials[i])));
            let members = select_elite(&pool, trials, directions, p);
            self.elites.push(Elite { key, members });
        }
        &self.elites[g - 1].members
    }
}

/// A complete trial with objective values.
fn is_complete(t: &Trial) -> bool {
    t.state == TrialState::Complete && t.objectives().is_some()
}

/// The objective values of trial `t` to minimise (empty for a trial without values).
fn minimized(t: &Trial, directions: &[Direction]) -> Vec<f64> {
    t.objectives()
        .map(|v| pareto::to_minimize(v, directions))
        .unwrap_or_default()
}

/// NSGA-II survival: the best `size` of `pool` (trial indices) by constrained
/// non-domination rank, the last front that fits only in part cut by crowding distance
/// (larger first, ties by id). Returned ascending.
fn select_elite(
    pool: &[usize],
    trials: &[Trial],
    directions: &[Direction],
    size: usize,
) -> Vec<usize> {
    if pool.len() <= size {
        let mut all = pool.to_vec();
        all.sort_unstable();
        return all;
    }
    let points: Vec<Vec<f64>> = pool
        .iter()
        .map(|&i| minimized(&trials[i], directions))
        .collect();
    let violations: Vec<f64> = pool.iter().map(|&i| trials[i].violation()).collect();
    let ranks = pareto::non_dominated_sort(&points, &violations, size);
    let n_ranks = ranks.iter().max().map_or(0, |r| r + 1);
    let mut fronts: Vec<Vec<usize>> = vec![Vec::new(); n_ranks];
    for (k, r) in ranks.iter().enumerate() {
        fronts[*r].push(k);
    }
    let mut elite: Vec<usize> = Vec::with_capacity(size);
    for front in fronts {
        if elite.len() + front.len() <= size {
            elite.extend(front.iter().map(|&k| pool[k]));
            if elite.len() == size {
                break;
            }
            continue;
        }
        let front_points: Vec<Vec<f64>> = front.iter().map(|&k| points[k].clone()).collect();
        let distance = pareto::crowding_distance(&front_points);
        let mut order: Vec<usize> = (0..front.len()).collect();
        order.sort_by(|&a, &b| {
            distance[b]
                .total_cmp(&distance[a])
                .then(pool[front[a]].cmp(&pool[front[b]]))
        });
        let room = size - elite.len();
        elite.extend(order[..room].iter().map(|&k| pool[front[k]]));
        break;
    }
    elite.sort_unstable();
    elite
}

/// Binary tournament among `pool`: two random members, the first if it constrained-
/// dominates the second, else the second.
fn tournament(pool: &[usize], trials: &[Trial], directions: &[Direction], rng: &mut Rng) -> usize {
    let a = pool[rng.below(pool.len() as u64) as usize];
    let b = pool[rng.below(pool.len() as u64) as usize];
    let (ta, tb) = (&trials[a], &trials[b]);
    let wins = pareto::constrained_dominates(
        &minimized(ta, directions),
        ta.violation(),
        &minimized(tb, directions),
        tb.violation(),
    );
    if wins {
        a
    } else {
        b
    }
}

/// One SBX child value from parent values `x` and `y` within `[low, high]` (Deb and
/// Agrawal's bounded form, Optuna's single-child variant).
fn sbx(x: f64, y: f64, low: f64, high: f64, eta: f64, rng: &mut Rng) -> f64 {
    let (x1, x2) = (x.min(y), x.max(y));
    if rng.next_f64() >= 0.5 {
        // Keep a parent's value.
        return if rng.next_f64() < 0.5 { x } else { y };
    }
    let diff = (x2 - x1).max(1e-10);
    let u = rng.next_f64();
    let spread = |beta: f64| {
        let alpha = 2.0 - beta.powf(-(eta + 1.0));
        if u <= 1.0 / alpha {
            (u * alpha).powf(1.0 / (eta + 1.0))
        } else {
            (1.0 / (2.0 - u * alpha)).powf(1.0 / (eta + 1.0))
        }
    };
    let c = if rng.next_f64() < 0.5 {
        0.5 * ((x1 + x2) - spread(1.0 + 2.0 * (x1 - low) / diff) * diff)
    } else {
        0.5 * ((x1 + x2) + spread(1.0 + 2.0 * (high - x2) / diff) * diff)
    };
    if c.is_finite() {
        c.clamp(low, high)
    } else {
        x
    }
}

/// `x` moved onto parameter `i`'s grid (integers, stepped floats), else unchanged.
fn snap(space: &Space, i: usize, x: f64) -> f64 {
    match &space.params()[i].distribution {
        Distribution::Int { .. } | Distribution::Float { step: Some(_), .. } => {
            space.to_internal(i, &space.to_external(i, x)).unwrap_or(x)
        }
        _ => x,
    }
}

impl Sampler for Nsga2Sampler {
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        directions: &[Direction],
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let cfg = self.config;
        let g = trials.len() / cfg.population_size;
        if g == 0 {
            return RandomSampler.sample(space, trials, directions, rng);
        }
        let parents = self.parents(g, trials, directions).to_vec();
        if parents.is_empty() {
            return RandomSampler.sample(space, trials, directions, rng);
        }
        let n = space.params().len();
        let crossing = parents.len() >= 2 && rng.next_f64() < cfg.crossover_prob;
        let (a, b) = if crossing {
            let a = tournament(&parents, trials, directions, rng);
            let others: Vec<usize> = parents.iter().copied().filter(|&i| i != a).collect();
            (a, Some(tournament(&others, trials, directions, rng)))
        } else {
            (parents[rng.below(parents.len() as u64) as usize], None)
        };
        let eta = cfg
            .sbx_eta
            .unwrap_or(if directions.len() > 1 { 20.0 } else { 2.0 });
        let mutation = cfg.mutation_prob.unwrap_or(1.0 / n.max(1) as f64);
        let value = |t: usize, i: usize| trials[t].internal.get(i).copied().flatten();
        let mut child: Vec<Option<f64>> = vec![None; n];
        for i in 0..n {
            if !space.is_active(i, &child) {
                continue;
            }
            let categorical = matches!(
                space.params()[i].distribution,
                Distribution::Categorical { .. }
            );
            let inherited = match b {
                None => value(a, i),
                Some(b) => match (value(a, i), value(b, i)) {
                    (Some(x), Some(y)) if cfg.crossover == Crossover::Sbx && !categorical => {
                        let (low, high) = space.internal_bounds(i);
                        Some(snap(space, i, sbx(x, y, low, high, eta, rng)))
                    }
                    (x, y) => {
                        // Uniform: the first parent with probability swapping_prob; a
                        // parent without the parameter gives way to the other.
                        if rng.next_f64() < cfg.swapping_prob {
                            x.or(y)
                        } else {
                            y.or(x)
                        }
                    }
                },
            };
            let mutate = rng.next_f64() < mutation;
            child[i] = Some(match inherited {
                Some(x) if !mutate => x,
                _ => space.sample_uniform(i, rng),
            });
        }
        child
    }
}

#[cfg(test)]
mod tests;
