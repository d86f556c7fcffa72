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
//!
//! Several objectives (MOTPE: Ozaki et al. 2020, 2022; Optuna 5's split): gamma(n) =
//! ceil(0.1 n) without the cap of 25; the good trials are whole non-domination fronts of the
//! feasible complete trials while they fit, then a greedy hypervolume subset of the next
//! front (reference point from its worst values), then infeasible trials by violation if
//! feasible ones run short. The good model weights each kernel by its trial's hypervolume
//! contribution among the good feasible trials (relative to the largest, at least 1e-12;
//! Optuna 4's weighting, `"mo_weights": "uniform"` gives Optuna 5's equal weights); the bad
//! model keeps the usual weights. The single-objective path is unchanged.

use serde::{Deserialize, Serialize};

use super::pareto;
use super::sampler::Sampler;
use super::space::Distribution;
use super::study::{Direction, Trial, TrialState};
use super::Space;
use crate::stats::{normal_cdf, Rng};

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
    /// Bounded-cost mode for long online studies: when set, the model sees the best trials
    /// of the whole study (gamma(window) of them) and the newest `window` trials besides,
    /// so an ask costs the same at a million trials as at `window`. `None` (the default, as
    /// Optuna) models every trial. One objective only: with several, every trial is
    /// modelled (and a warning logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<usize>,
    /// With several objectives: how the good trials' kernels are weighted,
    /// `"hypervolume"` (each by its hypervolume contribution among them, as Optuna 4 and
    /// the MOTPE paper) or `"uniform"` (all alike, as Optuna 5).
    #[serde(skip_serializing_if = "MoWeights::is_default")]
    pub mo_weights: MoWeights,
}

/// How multi-objective TPE weights the kernels of its good trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MoWeights {
    /// By hypervolume contribution (Ozaki et al. 2020; Optuna 4).
    #[default]
    Hypervolume,
    /// All 1 (Optuna 5).
    Uniform,
}

impl MoWeights {
    fn is_default(&self) -> bool {
        *self == MoWeights::default()
    }
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            prior_weight: 1.0,
            multivariate: true,
            constant_liar: true,
            window: None,
            mo_weights: MoWeights::default(),
        }
    }
}

impl TpeConfig {
    /// Checks the settings; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.n_ei_candidates == 0 {
            return Err("n_ei_candidates must be >= 1".into());
        }
        if let Some(w) = self.window {
            if w < 20 || w < self.n_startup_trials {
                return Err(format!(
                    "window must be >= 20 and >= n_startup_trials, got {w}"
                ));
            }
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

/// The TPE sampler. It keeps, per parameter, every trial's value in sorted order (trials
/// only ever append and their parameters never change), so the bandwidths of an ask need a
/// linear pass instead of a sort.
#[derive(Debug, Clone)]
pub struct TpeSampler {
    config: TpeConfig,
    /// Per parameter: (internal value, trial index) of each trial where it is set, by value.
    sorted: Vec<Vec<(f64, u32)>>,
    /// How many trials `sorted` holds.
    seen: usize,
    /// Every indexed trial's internal values, trial-major (`seen` rows of one entry per
    /// parameter): a contiguous copy, faster to gather than the trials' own vectors.
    values: Vec<Option<f64>>,
    /// Bounded-cost mode: the best complete trials so far (indices, best first), the
    /// trials examined, and those that were running when examined.
    elite: Vec<usize>,
    cursor: usize,
    pending: Vec<usize>,
    /// Whether the warning that `window` is ignored with several objectives was logged.
    warned_window: bool,
    /// Buffers reused across asks (so a large study does not allocate and free its models'
    /// arrays on every ask).
    pool: Pool,
    picked: Vec<(f64, u32)>,
    members: Vec<u32>,
    scratch: Scratch,
}

/// Spare `f64` buffers, reused by the models of successive asks.
#[derive(Debug, Clone, Default)]
struct Pool(Vec<Vec<f64>>);

impl Pool {
    /// An empty buffer with room for `cap` values.
    fn take(&mut self, cap: usize) -> Vec<f64> {
        let mut v = self.0.pop().unwrap_or_default();
        v.clear();
        v.reserve(cap);
        v
    }

    fn give(&mut self, v: Vec<f64>) {
        if v.capacity() > 0 {
            self.0.push(v);
        }
    }
}

impl TpeSampler {
    /// A sampler with these (validated) settings.
    pub fn new(config: TpeConfig) -> TpeSampler {
        TpeSampler {
            config,
            sorted: Vec::new(),
            seen: 0,
            values: Vec::new(),
            elite: Vec::new(),
            cursor: 0,
            pending: Vec::new(),
            warned_window: false,
            pool: Pool::default(),
            picked: Vec::new(),
            members: Vec::new(),
            scratch: Scratch::default(),
        }
    }

    /// Adds the trials not indexed yet to `sorted`.
    fn index(&mut self, n_params: usize, trials: &[Trial]) {
        if self.sorted.len() != n_params || trials.len() < self.seen {
            self.sorted = vec![Vec::new(); n_params];
            self.seen = 0;
        }
        self.values.truncate(self.seen * n_params);
        for (k, t) in trials.iter().enumerate().skip(self.seen) {
            self.values
                .extend((0..n_params).map(|i| t.internal.get(i).copied().flatten()));
            for (i, list) in self.sorted.iter_mut().enumerate() {
                if let Some(x) = t.internal.get(i).copied().flatten() {
                    let at = list.partition_point(|p| p.0 <= x);
                    list.insert(at, (x, k as u32));
                }
            }
        }
        self.seen = trials.len();
    }

    /// Optuna 5's bandwidths (the same for univariate and multivariate TPE) of the trials in
    /// `members` (trial index -> column, `u32::MAX` when out) for parameter `i`, in column
    /// order: each kernel's sigma is the larger gap to its neighbour among the observations
    /// with the range's ends added; with two or more observations the outermost kernels use
    /// their inner gap.
    /// `picked` is scratch space; the result is written into `out`.
    fn sigmas(
        &self,
        i: usize,
        members: &[u32],
        n: usize,
        (low, high): (f64, f64),
        picked: &mut Vec<(f64, u32)>,
        out: Vec<f64>,
    ) -> Vec<f64> {
        // fill_gaps, streamed: each observation's gap is known once its right neighbour
        // comes by.
        let _ = picked;
        let mut out = out;
        out.clear();
        out.resize(n, 0.0);
        let mut it = self.sorted[i].iter().filter_map(|&(x, k)| {
            let col = members[k as usize];
            (col != u32::MAX).then_some((x, col as usize))
        });
        match (it.next(), it.next()) {
            (None, _) => {}
            (Some((x0, c0)), None) => out[c0] = (x0 - low).max(high - x0),
            (Some((x0, c0)), Some((x1, c1))) => {
                // The ends use their inner gap; inner kernels the larger of their two gaps.
                out[c0] = x1 - x0;
                let (mut last_x, mut last_col, mut left) = (x1, c1, x1 - x0);
                for (x, col) in it {
                    let right = x - last_x;
                    out[last_col] = left.max(right);
                    (last_x, last_col, left) = (x, col, right);
                }
                out[last_col] = left;
            }
        }
        out
    }

    /// Bounded mode: brings `elite` (the `k` best complete trials) up to date with the
    /// trials added or finished since the last ask; the work is proportional to those.
    fn update_elite(
        &mut self,
        trials: &[Trial],
        k: usize,
        rank: &dyn Fn(&usize, &usize) -> std::cmp::Ordering,
    ) {
        if self.cursor > trials.len() {
            (self.elite, self.cursor, self.pending) = (Vec::new(), 0, Vec::new());
        }
        let mut offer: Vec<usize> = Vec::new();
        let fresh = self.cursor..trials.len();
        let pending = std::mem::take(&mut self.pending);
        for i in pending.into_iter().chain(fresh) {
            match trials[i].state {
                TrialState::Running => self.pending.push(i),
                TrialState::Complete if trials[i].value.is_some() => offer.push(i),
                _ => {}
            }
        }
        self.cursor = trials.len();
        if offer.is_empty() && self.elite.len() <= k {
            return;
        }
        self.elite.extend(offer);
        self.elite.sort_by(rank);
        self.elite.truncate(k);
    }
}

/// Optuna's neighbour gaps for `picked` = (value, column) in ascending value order, written
/// by column into a vector of `n` (`out`, cleared first).
fn fill_gaps(picked: &[(f64, u32)], n: usize, low: f64, high: f64, mut out: Vec<f64>) -> Vec<f64> {
    let m = picked.len();
    out.clear();
    out.resize(n, 0.0);
    match m {
        0 => {}
        1 => out[picked[0].1 as usize] = (picked[0].0 - low).max(high - picked[0].0),
        _ => {
            // The ends use their inner gap; inner kernels the larger of their two gaps.
            out[picked[0].1 as usize] = picked[1].0 - picked[0].0;
            out[picked[m - 1].1 as usize] = picked[m - 1].0 - picked[m - 2].0;
            for w in picked.windows(3) {
                out[w[1].1 as usize] = (w[1].0 - w[0].0).max(w[2].0 - w[1].0);
            }
        }
    }
    out
}

/// What ranks a trial for the single-objective split.
#[derive(Debug, Clone, Copy)]
struct RankKey {
    value: f64,
    violation: f64,
    id: u64,
    /// The trial's index.
    index: usize,
}

impl RankKey {
    fn of(t: &Trial, index: usize) -> RankKey {
        RankKey {
            value: t.value.unwrap_or(f64::NAN),
            violation: t.violation(),
            id: t.id,
            index,
        }
    }
}

/// With constraints (as Optuna's constrained TPE): feasible trials first, by value, then
/// infeasible ones by their total violation; ties by id.
fn rank_by(direction: Direction, a: &RankKey, b: &RankKey) -> std::cmp::Ordering {
    let (x, y) = (a.value, b.value);
    let by_value = direction.best_first(x, y);
    let (va, vb) = (a.violation, b.violation);
    match (va > 0.0, vb > 0.0) {
        (false, false) => by_value,
        (true, true) => va.total_cmp(&vb),
        (fa, _) => fa.cmp(&!fa),
    }
    .then(a.id.cmp(&b.id))
}

/// The `k` first of `keys` in the total order `cmp`, first first: one comparison with the
/// worst kept for most keys, an insertion into at most `k` for the others.
fn best_k<T: Copy>(keys: &[T], k: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut top: Vec<T> = Vec::with_capacity(k + 1);
    if k == 0 {
        return top;
    }
    for key in keys {
        if top.len() == k && top.last().is_some_and(|w| cmp(key, w).is_ge()) {
            continue;
        }
        let at = top.partition_point(|t| cmp(t, key).is_lt());
        top.insert(at, *key);
        top.truncate(k);
    }
    top
}

/// gamma(n): how many of n trials count as good.
fn n_below(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

/// gamma(n) with several objectives: Optuna's ceil(0.1 n), without the cap of 25.
fn n_below_multi(n: usize) -> usize {
    n.div_ceil(10)
}

/// The split of a study with several objectives into good (below) and other (above)
/// trials, and the good trials' kernel weights (by trial index; only the below entries are
/// meaningful); `None` before `n_startup_trials` trials completed. gamma(n) of the
/// complete and pruned trials are good: the feasible complete trials by non-domination rank
/// ([`split_fronts`]), then, if those are too few, infeasible ones by violation (ties by
/// id). Pruned trials, and running ones with the constant liar, are always above.
fn split_multi(
    trials: &[Trial],
    directions: &[Direction],
    cfg: &TpeConfig,
) -> Option<(Vec<usize>, Vec<usize>, Vec<f64>)> {
    let has_values = |t: &Trial| t.objectives().is_some_and(|v| v.len() == directions.len());
    let complete: Vec<usize> = (0..trials.len())
        .filter(|&i| trials[i].state == TrialState::Complete && has_values(&trials[i]))
        .collect();
    if complete.len() < cfg.n_startup_trials.max(1) {
        return None;
    }
    let n_pruned = trials
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .count();
    let n_good = n_below_multi(complete.len() + n_pruned).min(complete.len());
    let (feasible, mut infeasible): (Vec<usize>, Vec<usize>) = complete
        .iter()
        .partition(|&&i| trials[i].violation() <= 0.0);
    let points: Vec<Vec<f64>> = feasible
        .iter()
        .map(|&i| pareto::to_minimize(trials[i].objectives().unwrap_or_default(), directions))
        .collect();
    let good = split_fronts(&points, n_good.min(feasible.len()));
    let mut is_below = vec![false; trials.len()];
    for &k in &good {
        is_below[feasible[k]] = true;
    }
    let rest = n_good - good.len();
    if rest > 0 {
        infeasible.sort_by(|&a, &b| {
            trials[a]
                .violation()
                .total_cmp(&trials[b].violation())
                .then(a.cmp(&b))
        });
        for &i in &infeasible[..rest.min(infeasible.len())] {
            is_below[i] = true;
        }
    }
    let below: Vec<usize> = (0..trials.len()).filter(|&i| is_below[i]).collect();
    let liar = cfg.constant_liar;
    let above: Vec<usize> = (0..trials.len())
        .filter(|&i| match trials[i].state {
            TrialState::Complete => has_values(&trials[i]) && !is_below[i],
            TrialState::Pruned => true,
            TrialState::Running => liar,
            TrialState::Failed => false,
        })
        .collect();
    let mut weights = vec![0.0; trials.len()];
    let good_points: Vec<Vec<f64>> = good.iter().map(|&k| points[k].clone()).collect();
    let good_weights = match cfg.mo_weights {
        MoWeights::Hypervolume => hypervolume_weights(&good_points),
        MoWeights::Uniform => vec![1.0; good.len()],
    };
    for &i in &below {
        weights[i] = pareto::EPS;
    }
    for (&k, w) in good.iter().zip(good_weights) {
        weights[feasible[k]] = w;
    }
    Some((below, above, weights))
}

/// The `k` best of `points` (to minimise) as Optuna 5 splits a multi-objective TPE study:
/// whole non-domination fronts while they fit, then the greedy hypervolume subset of the
/// next front (reference point from that front's worst values). Positions into `points`.
fn split_fronts(points: &[Vec<f64>], k: usize) -> Vec<usize> {
    if k >= points.len() {
        return (0..points.len()).collect();
    }
    if k == 0 {
        return Vec::new();
    }
    let ranks = pareto::non_dominated_sort(points, &[], k);
    let mut per_rank: Vec<usize> = Vec::new();
    for &r in &ranks {
        if per_rank.len() <= r {
            per_rank.resize(r + 1, 0);
        }
        per_rank[r] += 1;
    }
    // Whole fronts 0..full fit.
    let mut full = 0;
    let mut taken = 0;
    while full < per_rank.len() && taken + per_rank[full] <= k {
        taken += per_rank[full];
        full += 1;
    }
    let mut good: Vec<usize> = (0..points.len()).filter(|&i| ranks[i] < full).collect();
    if good.len() < k {
        let tie: Vec<usize> = (0..points.len()).filter(|&i| ranks[i] == full).collect();
        let tie_points: Vec<Vec<f64>> = tie.iter().map(|&i| points[i].clone()).collect();
        let reference = pareto::reference_point(&tie_points);
        for j in pareto::hssp_greedy(&tie_points, k - good.len(), &reference) {
            good.push(tie[j]);
        }
        good.sort_unstable();
    }
    good
}

/// The kernel weights of good trials with several objectives (Optuna's
/// `_calculate_weights_below_for_multi_objective`): each point's hypervolume contribution
/// within the set, with the reference point from the set's worst values, over the largest
/// contribution, at least [`pareto::EPS`] (points off the set's front contribute nothing).
/// All 1 for one point.
fn hypervolume_weights(points: &[Vec<f64>]) -> Vec<f64> {
    if points.len() <= 1 {
        return vec![1.0; points.len()];
    }
    let reference = pareto::reference_point(points);
    let contributions = pareto::hypervolume_contributions(points, &reference);
    if contributions.iter().any(|c| !c.is_finite()) {
        return vec![1.0; points.len()];
    }
    let max = contributions
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(pareto::EPS);
    contributions
        .iter()
        .map(|c| (c / max).max(pareto::EPS))
        .collect()
}

/// Weights of n observations in trial order: 1 for the newest 25, a ramp before them.
#[cfg(test)]
fn observation_weights(n: usize) -> Vec<f64> {
    let mut w = Vec::new();
    observation_weights_into(n, &mut w);
    w
}

/// [`observation_weights`] appended to `w`.
fn observation_weights_into(n: usize, w: &mut Vec<f64>) {
    if n < 25 {
        w.extend(std::iter::repeat_n(1.0, n));
        return;
    }
    let ramp = n - 25;
    w.extend((0..ramp).map(|i| {
        if ramp == 1 {
            1.0 / n as f64
        } else {
            1.0 / n as f64 + (1.0 - 1.0 / n as f64) * i as f64 / (ramp - 1) as f64
        }
    }));
    w.extend(std::iter::repeat_n(1.0, 25));
}

/// ln(sqrt(2 pi)).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// One dimension of a Parzen estimator.
#[derive(Debug)]
enum Dim {
    /// Truncated normal kernels on `[low, high]` (internal, widened by half a step on
    /// grids). Their centres and 1/(2 sigma^2) are row `row` of the model's `mus` and
    /// `half`.
    Numeric {
        low: f64,
        high: f64,
        row: usize,
        sigmas: Vec<f64>,
        /// A linear grid (float `step`, int): candidates snap to it, and kernels whose sigma
        /// is under two steps score by their exact mass over the candidate's cell, as
        /// Optuna's discrete truncated normals do.
        grid: Option<Grid>,
    },
    /// Per-kernel log probabilities of each choice.
    Categorical { log_probs: Vec<Vec<f64>> },
}

/// The grid of a discrete numeric dimension, in internal units.
#[derive(Debug, Clone, Copy)]
struct Grid {
    /// The first grid value (the unwidened low).
    first: f64,
    /// The last grid value.
    last: f64,
    step: f64,
}

impl Grid {
    fn snap(&self, x: f64) -> f64 {
        (self.first + ((x - self.first) / self.step).round() * self.step)
            .clamp(self.first, self.last)
    }
}

/// A mixture of product kernels: one per observation plus the prior.
#[derive(Debug)]
struct Parzen {
    weights: Vec<f64>,
    /// Per kernel: log weight minus the log normalisers of its continuous dimensions.
    base: Vec<f64>,
    /// The numeric dimensions' kernel centres and 1/(2 sigma^2), a row of one value per
    /// kernel for each (dimension-major, as `gaia_kernels::mixture` reads them). Kernels
    /// scored by exact cell mass have 0 in `half`.
    mus: Vec<f64>,
    half: Vec<f64>,
    dims: Vec<Dim>,
}

/// Scratch buffers of [`Parzen::log_pdfs`], reused across calls.
#[derive(Debug, Clone, Default)]
struct Scratch {
    numeric: Vec<f64>,
    terms: Vec<f64>,
}

impl Parzen {
    /// `cols[d][k]`: observation k's internal value in dimension d of `params`;
    /// `gaps[d][k]` its neighbour bandwidth (numeric dimensions) before clipping.
    /// `fixed`: the observations' weights (multi-objective below model), else the usual
    /// ramp by age. The buffers become the model's (give them back with [`Parzen::recycle`]);
    /// new ones come from `pool`.
    fn new(
        space: &Space,
        params: &[usize],
        cols: Vec<Vec<f64>>,
        gaps: Vec<Vec<f64>>,
        cfg: &TpeConfig,
        fixed: Option<Vec<f64>>,
        pool: &mut Pool,
    ) -> Parzen {
        let n = cols.first().map_or(0, Vec::len);
        let mut weights = match fixed {
            Some(w) => w,
            None => {
                let mut w = pool.take(n + 1);
                observation_weights_into(n, &mut w);
                w
            }
        };
        weights.push(cfg.prior_weight);
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        let n_kernels = n + 1;
        // Per kernel: the product of its normalisers' factors and the sum of their logs.
        let mut factors = pool.take(n_kernels);
        factors.resize(n_kernels, 1.0);
        let mut corr = pool.take(n_kernels);
        corr.resize(n_kernels, 0.0);
        let mut dims = Vec::with_capacity(params.len());
        let n_numeric = params
            .iter()
            .filter(|&&p| {
                !matches!(
                    space.params()[p].distribution,
                    Distribution::Categorical { .. }
                )
            })
            .count();
        // Scratch for the kernels near an end of their range.
        let mut near: Vec<usize> = Vec::new();
        let (mut near_mu, mut near_sigma, mut near_mass) =
            (pool.take(0), pool.take(0), pool.take(0));
        let mut all_mus = pool.take(n_numeric * n_kernels);
        let mut all_half = pool.take(n_numeric * n_kernels);
        for (&p, (col, gap)) in params.iter().zip(cols.into_iter().zip(gaps)) {
            let dim = match &space.params()[p].distribution {
                Distribution::Categorical { choices } => {
                    let c = choices.len();
                    let mut log_probs = Vec::with_capacity(n_kernels);
                    let floor = cfg.prior_weight / n_kernels as f64;
                    let norm = (floor * c as f64 + 1.0).ln();
                    for &o in &col {
                        let mut row = vec![floor.ln() - norm; c];
                        row[(o.round() as usize).min(c - 1)] = (floor + 1.0).ln() - norm;
                        log_probs.push(row);
                    }
                    log_probs.push(vec![-(c as f64).ln(); c]);
                    pool.give(col);
                    pool.give(gap);
                    Dim::Categorical { log_probs }
                }
                dist => {
                    let (low, high) = widened_bounds(space, p, dist);
                    let grid = grid_of(dist);
                    let range = high - low;
                    let min_sigma = range / (1.0 + n_kernels as f64).min(100.0);
                    let row = all_mus.len() / n_kernels;
                    all_mus.extend_from_slice(&col);
                    all_mus.push(0.5 * (low + high));
                    let mus = &all_mus[row * n_kernels..];
                    pool.give(col);
                    let mut sigmas = gap;
                    sigmas
                        .iter_mut()
                        .for_each(|s| *s = s.clamp(min_sigma, range));
                    sigmas.push(range);
                    // The normaliser sigma sqrt(2 pi) mass with sigma in units of the range
                    // (products over dimensions stay in range; one log per kernel at the
                    // end), and ln(range sqrt(2 pi)) added without a log call. Kernels scored
                    // by exact cell mass have only the mass.
                    let ln_range = range.ln() + LN_SQRT_2PI;
                    let inv_range = 1.0 / range;
                    // Kernels on a grid narrower than two steps score by exact cell mass.
                    let narrow_below = grid.map_or(0.0, |g| 2.0 * g.step);
                    let start = all_half.len();
                    all_half.resize(start + n_kernels, 0.0);
                    gaia_kernels::mixture::kernel_scales(
                        &sigmas,
                        inv_range,
                        ln_range,
                        narrow_below,
                        &mut factors,
                        &mut corr,
                        &mut all_half[start..],
                    );
                    // The truncation masses: below 1 only for kernels within 8 sigma of an
                    // end. Those are gathered and computed together (vectorised).
                    near.clear();
                    for (k, (&m, &s)) in mus.iter().zip(&sigmas).enumerate() {
                        let far = 8.0 * s;
                        if !(low - m < -far && high - m > far) {
                            near.push(k);
                        }
                    }
                    if !near.is_empty() {
                        near_mu.clear();
                        near_mu.extend(near.iter().map(|&k| mus[k]));
                        near_sigma.clear();
                        near_sigma.extend(near.iter().map(|&k| sigmas[k]));
                        near_mass.clear();
                        near_mass.resize(near.len(), 1.0);
                        gaia_kernels::mixture::kernel_masses(
                            &near_mu,
                            &near_sigma,
                            low,
                            high,
                            &mut near_mass,
                        );
                        for (&k, &mass) in near.iter().zip(&near_mass) {
                            factors[k] *= mass;
                        }
                    }
                    for (f, c) in factors.iter_mut().zip(corr.iter_mut()) {
                        if *f < 1e-200 {
                            *c += f.ln();
                            *f = 1.0;
                        }
                    }
                    Dim::Numeric {
                        low,
                        high,
                        row,
                        sigmas,
                        grid,
                    }
                }
            };
            dims.push(dim);
        }
        let mut base = pool.take(n_kernels);
        base.extend(weights.iter().zip(&factors).map(|(w, f)| w / f));
        gaia_kernels::mixture::ln_in_place(&mut base);
        base.iter_mut().zip(&corr).for_each(|(b, c)| *b -= c);
        pool.give(factors);
        pool.give(corr);
        pool.give(near_mu);
        pool.give(near_sigma);
        pool.give(near_mass);
        Parzen {
            weights,
            base,
            mus: all_mus,
            half: all_half,
            dims,
        }
    }

    /// Gives the model's buffers to `pool`.
    fn recycle(self, pool: &mut Pool) {
        pool.give(self.weights);
        pool.give(self.base);
        pool.give(self.mus);
        pool.give(self.half);
        for dim in self.dims {
            if let Dim::Numeric { sigmas, .. } = dim {
                pool.give(sigmas);
            }
        }
    }

    /// One draw from the mixture, its value in each dimension appended to `out`.
    fn sample_into(&self, rng: &mut Rng, out: &mut Vec<f64>) {
        let mut u = rng.next_f64();
        let mut k = self.weights.len() - 1;
        for (i, w) in self.weights.iter().enumerate() {
            if u < *w {
                k = i;
                break;
            }
            u -= w;
        }
        out.extend(self.dims.iter().map(|dim| match dim {
            Dim::Numeric {
                low,
                high,
                row,
                sigmas,
                grid,
            } => {
                let mu = self.mus[row * self.weights.len() + k];
                let mut x = None;
                for _ in 0..64 {
                    let y = mu + sigmas[k] * crate::stats::standard_normal(rng);
                    if y >= *low && y <= *high {
                        x = Some(y);
                        break;
                    }
                }
                // 64 draws outside a kernel's range: its truncated part is negligible.
                let x = x.unwrap_or_else(|| low + (high - low) * rng.next_f64());
                grid.map_or(x, |g| g.snap(x))
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
        }));
    }

    /// log of the mixture density (mass, on grids) at each of `points` points (`xs`, one
    /// row of every dimension per point), into `out`. Every (point, kernel) term is
    /// computed by `gaia_kernels::mixture` (the model read once for the whole batch), the
    /// categorical and exact-cell-mass terms are added, then each point's log-sum-exp leaves
    /// out the kernels e^-40 below its largest. This runs twice per ask.
    fn log_pdfs(&self, xs: &[f64], points: usize, scratch: &mut Scratch, out: &mut Vec<f64>) {
        let k = self.weights.len();
        let n_dims = self.dims.len();
        let numeric: Vec<usize> = (0..n_dims)
            .filter(|&d| matches!(self.dims[d], Dim::Numeric { .. }))
            .collect();
        scratch.numeric.clear();
        for x in xs.chunks_exact(n_dims.max(1)).take(points) {
            scratch.numeric.extend(numeric.iter().map(|&d| x[d]));
        }
        // Every term is written before it is read: no need to clear.
        scratch.terms.resize(points * k, 0.0);
        out.clear();
        let shaped = gaia_kernels::mixture::quadratic_terms(
            &self.base,
            &self.mus,
            &self.half,
            &scratch.numeric,
            numeric.len(),
            points,
            &mut scratch.terms,
        );
        if shaped.is_err() {
            // Not reachable: the model's arrays are built together. No candidate wins.
            out.resize(points, f64::NAN);
            return;
        }
        // The terms are kernel-major: kernel j's row holds every point.
        for (d, dim) in self.dims.iter().enumerate() {
            match dim {
                Dim::Categorical { log_probs } => {
                    for (terms, probs) in
                        scratch.terms.chunks_exact_mut(points.max(1)).zip(log_probs)
                    {
                        for (c, t) in terms.iter_mut().enumerate() {
                            let choice = xs[c * n_dims + d].round() as usize;
                            *t += probs[choice.min(probs.len() - 1)];
                        }
                    }
                }
                Dim::Numeric {
                    row,
                    sigmas,
                    grid: Some(g),
                    ..
                } => {
                    // Narrow kernels: the exact mass of each point's cell.
                    let mus = &self.mus[row * k..(row + 1) * k];
                    let rows = scratch.terms.chunks_exact_mut(points.max(1));
                    for ((terms, &s), &m) in rows.zip(sigmas).zip(mus) {
                        if s < 2.0 * g.step {
                            for (c, t) in terms.iter_mut().enumerate() {
                                let xd = xs[c * n_dims + d];
                                let hi = normal_cdf((xd + 0.5 * g.step - m) / s);
                                let lo = normal_cdf((xd - 0.5 * g.step - m) / s);
                                *t += (hi - lo).max(1e-300).ln() - g.step.ln();
                            }
                        }
                    }
                }
                Dim::Numeric { grid: None, .. } => {}
            }
        }
        out.resize(points, f64::NEG_INFINITY);
        gaia_kernels::mixture::log_sum_exp_columns(&scratch.terms, points, out);
    }
}

/// The grid of a linear stepped parameter (float with `step`, int without `log`).
fn grid_of(dist: &Distribution) -> Option<Grid> {
    match dist {
        Distribution::Float {
            low,
            high,
            step: Some(s),
            log: false,
        } => Some(Grid {
            first: *low,
            last: *high,
            step: *s,
        }),
        Distribution::Int {
            low,
            high,
            log: false,
            step,
        } => Some(Grid {
            first: *low as f64,
            last: *high as f64,
            step: *step as f64,
        }),
        _ => None,
    }
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
        directions: &[Direction],
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let direction = directions.first().copied().unwrap_or(Direction::Minimize);
        // With constraints (as Optuna's constrained TPE): feasible trials first, by value,
        // then infeasible ones by their total violation; ties by id.
        let rank = |a: &usize, b: &usize| {
            rank_by(
                direction,
                &RankKey::of(&trials[*a], *a),
                &RankKey::of(&trials[*b], *b),
            )
        };
        let liar = self.config.constant_liar;
        let modelled = move |t: &Trial, is_below: bool| match t.state {
            TrialState::Complete => t.value.is_some() && !is_below,
            TrialState::Pruned => true,
            TrialState::Running => liar,
            TrialState::Failed => false,
        };
        if directions.len() > 1 && self.config.window.is_some() && !self.warned_window {
            log::warn!("tpe: \"window\" applies to one objective; this study has several, so every trial is modelled");
            self.warned_window = true;
        }
        let (below, above, indexed, below_weights) = match self.config.window {
            _ if directions.len() > 1 => {
                let Some((below, above, weights)) = split_multi(trials, directions, &self.config)
                else {
                    return super::sampler::RandomSampler.sample(space, trials, directions, rng);
                };
                self.index(space.params().len(), trials);
                (below, above, true, Some(weights))
            }
            Some(w) if trials.len() > w => {
                // Bounded cost: the all-time best, and the newest `w` trials besides.
                let k = n_below(w);
                self.update_elite(trials, k, &rank);
                if self.elite.is_empty() {
                    return super::sampler::RandomSampler.sample(space, trials, directions, rng);
                }
                let mut below = self.elite.clone();
                below.sort_unstable();
                let recent = trials.len() - w;
                let above: Vec<usize> = (recent..trials.len())
                    .filter(|i| modelled(&trials[*i], below.binary_search(i).is_ok()))
                    .collect();
                (below, above, false, None)
            }
            _ => {
                // One pass: the complete trials' ranking keys and the pruned count.
                let mut keys: Vec<RankKey> = Vec::new();
                let mut n_pruned = 0;
                for (i, t) in trials.iter().enumerate() {
                    match t.state {
                        TrialState::Complete if t.value.is_some() => keys.push(RankKey::of(t, i)),
                        TrialState::Pruned => n_pruned += 1,
                        _ => {}
                    }
                }
                if keys.len() < self.config.n_startup_trials.max(1) {
                    return super::sampler::RandomSampler.sample(space, trials, directions, rng);
                }
                let n_good = n_below(keys.len() + n_pruned).min(keys.len());
                // Only the n_good (<= 25) best are needed: kept in order while the keys
                // stream by, most of them rejected by one comparison with the worst kept.
                // `rank_by` is a total order (ties by id), so the set is the one a sort
                // would give.
                let order = best_k(&keys, n_good, |a, b| rank_by(direction, a, b));
                let mut is_below = vec![false; trials.len()];
                for key in &order[..n_good] {
                    is_below[key.index] = true;
                }
                let below: Vec<usize> = (0..trials.len()).filter(|&i| is_below[i]).collect();
                let above: Vec<usize> = (0..trials.len())
                    .filter(|&i| modelled(&trials[i], is_below[i]))
                    .collect();
                self.index(space.params().len(), trials);
                (below, above, true, None)
            }
        };

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
        let mut pool = std::mem::take(&mut self.pool);
        let mut picked = std::mem::take(&mut self.picked);
        let mut members = std::mem::take(&mut self.members);
        let mut scratch = std::mem::take(&mut self.scratch);
        let (mut lower, mut upper) = (Vec::new(), Vec::new());
        for group in groups {
            if !group.iter().all(|&i| space.is_active(i, &out)) {
                continue;
            }
            // Column-major observations of the trials where every group parameter is set,
            // and their bandwidths from the sorted index.
            // `weight_of`: per trial index, the kernel weight (multi-objective below model).
            let mut model = |set: &[usize], weight_of: Option<&[f64]>| -> Parzen {
                let mut cols: Vec<Vec<f64>> =
                    (0..group.len()).map(|_| pool.take(set.len() + 1)).collect();
                let mut fixed: Option<Vec<f64>> = weight_of.map(|_| pool.take(set.len() + 1));
                // Trial index -> column, for the sorted index (exact mode only: it is O(n)).
                members.clear();
                members.resize(if indexed { trials.len() } else { 0 }, u32::MAX);
                // The trial's values: from the contiguous copy when indexed.
                let value = |k: usize, i: usize| -> Option<f64> {
                    if indexed {
                        self.values[k * n + i]
                    } else {
                        trials[k].internal.get(i).copied().flatten()
                    }
                };
                // The trials where every group parameter is set, then one tight loop per
                // column.
                let rows: Vec<usize> = if indexed {
                    set.iter()
                        .copied()
                        .filter(|&k| {
                            let row = &self.values[k * n..(k + 1) * n];
                            group.iter().all(|&i| row[i].is_some())
                        })
                        .collect()
                } else {
                    set.iter()
                        .copied()
                        .filter(|&k| group.iter().all(|&i| value(k, i).is_some()))
                        .collect()
                };
                for (c, &i) in cols.iter_mut().zip(&group) {
                    if indexed {
                        c.extend(rows.iter().map(|&k| self.values[k * n + i].unwrap_or(0.0)));
                    } else {
                        c.extend(rows.iter().map(|&k| value(k, i).unwrap_or(0.0)));
                    }
                }
                if let (Some(f), Some(w)) = (fixed.as_mut(), weight_of) {
                    f.extend(rows.iter().map(|&k| w[k]));
                }
                if indexed {
                    for (col, &k) in rows.iter().enumerate() {
                        members[k] = col as u32;
                    }
                }
                let m = cols[0].len();
                let gaps: Vec<Vec<f64>> = group
                    .iter()
                    .zip(&cols)
                    .map(|(&i, col)| match &space.params()[i].distribution {
                        Distribution::Categorical { .. } => Vec::new(),
                        dist => {
                            let (low, high) = widened_bounds(space, i, dist);
                            let buf = pool.take(m + 1);
                            // The sorted index costs a pass over every trial: worth it
                            // unless the model holds few of them (the good one), which
                            // sorts its own. Ties go by column either way.
                            if indexed && m * 16 >= trials.len() {
                                self.sigmas(i, &members, m, (low, high), &mut picked, buf)
                            } else {
                                picked.clear();
                                picked.extend(col.iter().copied().zip(0..));
                                picked.sort_unstable_by(|a, b| {
                                    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
                                });
                                fill_gaps(&picked, m, low, high, buf)
                            }
                        }
                    })
                    .collect();
                Parzen::new(space, &group, cols, gaps, &self.config, fixed, &mut pool)
            };
            let l = model(&below, below_weights.as_deref());
            let g = model(&above, None);
            // The candidates, drawn from l, then scored together under both models.
            let n_cand = self.config.n_ei_candidates;
            let mut xs: Vec<f64> = Vec::with_capacity(n_cand * group.len());
            for _ in 0..n_cand {
                l.sample_into(rng, &mut xs);
            }
            l.log_pdfs(&xs, n_cand, &mut scratch, &mut lower);
            g.log_pdfs(&xs, n_cand, &mut scratch, &mut upper);
            let mut best: Option<(f64, &[f64])> = None;
            for ((x, lo), up) in xs.chunks_exact(group.len()).zip(&lower).zip(&upper) {
                let score = lo - up;
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, x));
                }
            }
            l.recycle(&mut pool);
            g.recycle(&mut pool);
            if let Some((_, x)) = best {
                for (d, &i) in group.iter().enumerate() {
                    let (lo, hi) = space.internal_bounds(i);
                    out[i] = Some(x[d].clamp(lo, hi));
                }
            }
        }
        self.pool = pool;
        self.picked = picked;
        self.members = members;
        self.scratch = scratch;
        out
    }
}

#[cfg(test)]
mod tests;
