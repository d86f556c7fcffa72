//! The Tree-structured Parzen Estimator (Bergstra et al. 2011; Watanabe 2023's survey of
//! its design choices), following Optuna's documented defaults: 10 random start-up trials,
//! gamma(n) = min(ceil(0.1 n), 25) good trials, 24 candidates drawn from the good model
//! l(x) and ranked by log l(x) - log g(x), a prior kernel of weight 1 at the centre of each
//! range, weights ramping down for old trials beyond the newest 25, Optuna 5's bandwidths
//! (the gap to the neighbouring observations, for univariate and multivariate kernels alike)
//! with its "magic clip", multivariate kernels (one kernel index across all dimensions) and
//! the constant liar for running trials (they count as bad, so parallel asks spread out).
//! gamma counts the finished trials the model sees (complete and pruned, not failed).
//!
//! Conditional parameters: the unconditional parameters form one multivariate group; each
//! conditional parameter is modelled on its own, from the trials where it was active.
//!
//! Constraints: as Optuna's constrained TPE, feasible trials rank before infeasible ones
//! (which rank by their total violation) when the good trials are chosen.

use serde::{Deserialize, Serialize};

use super::sampler::Sampler;
use super::space::Distribution;
use super::study::{Direction, Trial, TrialState};
use super::Space;
use crate::stats::Rng;

/// TPE settings; every field has Optuna's default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TpeConfig {
    /// Random trials before the model is used.
    pub n_startup_trials: usize,
    /// Candidates drawn from l(x) per ask.
    pub n_ei_candidates: usize,
    /// Weight of the prior kernel.
    pub prior_weight: f64,
    /// Joint kernels over the unconditional parameters (else one model per parameter).
    pub multivariate: bool,
    /// Count running trials as bad ones.
    pub constant_liar: bool,
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            prior_weight: 1.0,
            multivariate: true,
            constant_liar: true,
        }
    }
}

impl TpeConfig {
    /// Checks the settings; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.n_ei_candidates == 0 {
            return Err("n_ei_candidates must be >= 1".into());
        }
        if !(self.prior_weight.is_finite() && self.prior_weight > 0.0) {
            return Err(format!(
                "prior_weight must be finite and > 0, got {}",
                self.prior_weight
            ));
        }
        Ok(())
    }
}

/// The TPE sampler.
#[derive(Debug, Clone)]
pub struct TpeSampler {
    config: TpeConfig,
}

impl TpeSampler {
    /// A sampler with these (validated) settings.
    pub fn new(config: TpeConfig) -> TpeSampler {
        TpeSampler { config }
    }
}

/// gamma(n): how many of n trials count as good.
fn n_below(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

/// Weights of n observations in trial order: 1 for the newest 25, a ramp before them.
fn observation_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp = n - 25;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| {
            if ramp == 1 {
                1.0 / n as f64
            } else {
                1.0 / n as f64 + (1.0 - 1.0 / n as f64) * i as f64 / (ramp - 1) as f64
            }
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

/// Complementary error function, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// ln(sqrt(2 pi)).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// One dimension of a Parzen estimator.
#[derive(Debug)]
enum Dim {
    /// Truncated normal kernels on `[low, high]` (internal, widened by half a step on grids).
    Numeric {
        low: f64,
        high: f64,
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        log_norm: Vec<f64>,
    },
    /// Per-kernel log probabilities of each choice.
    Categorical { log_probs: Vec<Vec<f64>> },
}

/// A mixture of product kernels: one per observation plus the prior.
#[derive(Debug)]
struct Parzen {
    log_weights: Vec<f64>,
    weights: Vec<f64>,
    dims: Vec<Dim>,
}

impl Parzen {
    /// `obs[k][d]`: observation k's internal value in dimension d of `params`.
    fn new(space: &Space, params: &[usize], obs: &[Vec<f64>], cfg: &TpeConfig) -> Parzen {
        let n = obs.len();
        let mut weights = observation_weights(n);
        weights.push(cfg.prior_weight);
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        let n_kernels = n + 1;
        let dims = params
            .iter()
            .enumerate()
            .map(|(d, &p)| match &space.params()[p].distribution {
                Distribution::Categorical { choices } => {
                    let c = choices.len();
                    let mut log_probs = Vec::with_capacity(n_kernels);
                    for o in obs {
                        let mut row = vec![cfg.prior_weight / n_kernels as f64; c];
                        row[(o[d].round() as usize).min(c - 1)] += 1.0;
                        let s: f64 = row.iter().sum();
                        log_probs.push(row.iter().map(|v| (v / s).ln()).collect());
                    }
                    log_probs.push(vec![-(c as f64).ln(); c]);
                    Dim::Categorical { log_probs }
                }
                dist => {
                    let (low, high) = widened_bounds(space, p, dist);
                    let range = high - low;
                    let min_sigma = range / (1.0 + n_kernels as f64).min(100.0);
                    let mut mus: Vec<f64> = obs.iter().map(|o| o[d]).collect();
                    let mut sigmas = neighbour_sigmas(&mus, low, high);
                    sigmas
                        .iter_mut()
                        .for_each(|s| *s = s.clamp(min_sigma, range));
                    mus.push(0.5 * (low + high));
                    sigmas.push(range);
                    let log_norm = mus
                        .iter()
                        .zip(&sigmas)
                        .map(|(m, s)| {
                            let mass = normal_cdf((high - m) / s) - normal_cdf((low - m) / s);
                            // log(sigma * sqrt(2 pi) * mass): the kernel's normaliser.
                            mass.max(1e-300).ln() + s.ln() + LN_SQRT_2PI
                        })
                        .collect();
                    Dim::Numeric {
                        low,
                        high,
                        mus,
                        sigmas,
                        log_norm,
                    }
                }
            })
            .collect();
        Parzen {
            log_weights: weights.iter().map(|w| w.ln()).collect(),
            weights,
            dims,
        }
    }

    fn sample(&self, rng: &mut Rng) -> Vec<f64> {
        let mut u = rng.next_f64();
        let mut k = self.weights.len() - 1;
        for (i, w) in self.weights.iter().enumerate() {
            if u < *w {
                k = i;
                break;
            }
            u -= w;
        }
        self.dims
            .iter()
            .map(|dim| match dim {
                Dim::Numeric {
                    low,
                    high,
                    mus,
                    sigmas,
                    ..
                } => {
                    for _ in 0..64 {
                        let x = mus[k] + sigmas[k] * crate::stats::standard_normal(rng);
                        if x >= *low && x <= *high {
                            return x;
                        }
                    }
                    low + (high - low) * rng.next_f64()
                }
                Dim::Categorical { log_probs } => {
                    let mut u = rng.next_f64();
                    let row = &log_probs[k];
                    for (c, lp) in row.iter().enumerate() {
                        let p = lp.exp();
                        if u < p {
                            return c as f64;
                        }
                        u -= p;
                    }
                    (row.len() - 1) as f64
                }
            })
            .collect()
    }

    /// log of the mixture density at `x`. Dimension by dimension over all kernels (so the
    /// inner loops run over contiguous arrays), then a streaming log-sum-exp. `terms` is
    /// scratch space reused across calls. This runs 2 x n_ei_candidates times per ask.
    fn log_pdf(&self, x: &[f64], terms: &mut Vec<f64>) -> f64 {
        terms.clear();
        terms.extend_from_slice(&self.log_weights);
        for (d, dim) in self.dims.iter().enumerate() {
            match dim {
                Dim::Numeric {
                    mus,
                    sigmas,
                    log_norm,
                    ..
                } => {
                    for (((t, mu), sigma), norm) in
                        terms.iter_mut().zip(mus).zip(sigmas).zip(log_norm)
                    {
                        let z = (x[d] - mu) / sigma;
                        *t += -0.5 * z * z - norm;
                    }
                }
                Dim::Categorical { log_probs } => {
                    for (t, row) in terms.iter_mut().zip(log_probs) {
                        *t += row[(x[d].round() as usize).min(row.len() - 1)];
                    }
                }
            }
        }
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Kernels more than e^-40 below the largest change the sum by < n * 4e-18 of it:
        // skipping their exp is most of the saving on the many far kernels of g.
        let acc: f64 = terms
            .iter()
            .filter(|&&t| t - max > -40.0)
            .map(|&t| (t - max).exp())
            .sum();
        max + acc.ln()
    }
}

/// Optuna 5's bandwidths (the same for univariate and multivariate TPE): each kernel's
/// sigma is the larger gap to its neighbour among the sorted observations with the range's
/// ends added; with two or more observations the outermost kernels use their inner gap.
fn neighbour_sigmas(mus: &[f64], low: f64, high: f64) -> Vec<f64> {
    let n = mus.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| mus[a].total_cmp(&mus[b]));
    let at = |j: isize| -> f64 {
        if j < 0 {
            low
        } else if j as usize >= n {
            high
        } else {
            mus[order[j as usize]]
        }
    };
    let mut out = vec![0.0; n];
    for (j, &idx) in order.iter().enumerate() {
        let ji = j as isize;
        let mut s = (at(ji) - at(ji - 1)).max(at(ji + 1) - at(ji));
        if n >= 2 {
            if j == 0 {
                s = at(1) - at(0);
            } else if j == n - 1 {
                s = at(ji) - at(ji - 1);
            }
        }
        out[idx] = s;
    }
    out
}

/// Internal bounds of a numeric parameter, widened by half a grid step so the end values
/// get their fair share.
fn widened_bounds(space: &Space, p: usize, dist: &Distribution) -> (f64, f64) {
    match dist {
        Distribution::Float {
            low,
            high,
            step: Some(s),
            ..
        } => (low - s / 2.0, high + s / 2.0),
        Distribution::Int {
            low,
            high,
            log: false,
            step,
        } => (
            *low as f64 - *step as f64 / 2.0,
            *high as f64 + *step as f64 / 2.0,
        ),
        Distribution::Int {
            low,
            high,
            log: true,
            ..
        } => ((*low as f64 - 0.5).max(0.5).ln(), (*high as f64 + 0.5).ln()),
        _ => space.internal_bounds(p),
    }
}

impl Sampler for TpeSampler {
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        direction: Direction,
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let mut complete: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.state == TrialState::Complete && t.value.is_some())
            .collect();
        if complete.len() < self.config.n_startup_trials.max(1) {
            return super::sampler::RandomSampler.sample(space, trials, direction, rng);
        }
        // With constraints (as Optuna's constrained TPE): feasible trials first, by value,
        // then infeasible ones by their total violation.
        complete.sort_by(|a, b| {
            let (x, y) = (a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN));
            let by_value = match direction {
                Direction::Minimize => x.total_cmp(&y),
                Direction::Maximize => y.total_cmp(&x),
            };
            let (va, vb) = (a.violation(), b.violation());
            match (va > 0.0, vb > 0.0) {
                (false, false) => by_value,
                (true, true) => va.total_cmp(&vb),
                (fa, _) => fa.cmp(&!fa),
            }
            .then(a.id.cmp(&b.id))
        });
        let n_pruned = trials
            .iter()
            .filter(|t| t.state == TrialState::Pruned)
            .count();
        let n_good = n_below(complete.len() + n_pruned).min(complete.len());
        let mut below: Vec<&Trial> = complete[..n_good].to_vec();
        let mut above: Vec<&Trial> = complete[n_good..].to_vec();
        above.extend(trials.iter().filter(|t| {
            t.state == TrialState::Pruned
                || (self.config.constant_liar && t.state == TrialState::Running)
        }));
        below.sort_by_key(|t| t.id);
        above.sort_by_key(|t| t.id);

        let n = space.params().len();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let unconditional: Vec<usize> = (0..n)
            .filter(|&i| space.params()[i].condition.is_none())
            .collect();
        if self.config.multivariate && !unconditional.is_empty() {
            groups.push(unconditional);
            groups.extend(
                (0..n)
                    .filter(|&i| space.params()[i].condition.is_some())
                    .map(|i| vec![i]),
            );
        } else {
            groups.extend((0..n).map(|i| vec![i]));
        }
        // Groups come in parameter order for singletons; the unconditional group is first and
        // holds every parent, so conditions can be resolved as groups are sampled.
        let mut out: Vec<Option<f64>> = vec![None; n];
        for group in groups {
            if !group.iter().all(|&i| space.is_active(i, &out)) {
                continue;
            }
            let rows = |ts: &[&Trial]| -> Vec<Vec<f64>> {
                ts.iter()
                    .filter_map(|t| {
                        group
                            .iter()
                            .map(|&i| t.internal.get(i).copied().flatten())
                            .collect()
                    })
                    .collect()
            };
            let l = Parzen::new(space, &group, &rows(&below), &self.config);
            let g = Parzen::new(space, &group, &rows(&above), &self.config);
            let mut best: Option<(f64, Vec<f64>)> = None;
            let mut scratch = Vec::with_capacity(l.weights.len().max(g.weights.len()));
            for _ in 0..self.config.n_ei_candidates {
                let x = l.sample(rng);
                let score = l.log_pdf(&x, &mut scratch) - g.log_pdf(&x, &mut scratch);
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, x));
                }
            }
            if let Some((_, x)) = best {
                for (d, &i) in group.iter().enumerate() {
                    let (lo, hi) = space.internal_bounds(i);
                    out[i] = Some(x[d].clamp(lo, hi));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
