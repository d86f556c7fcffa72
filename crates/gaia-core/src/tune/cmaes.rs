//! CMA-ES, the covariance matrix adaptation evolution strategy (Hansen, "The CMA Evolution
//! Strategy: A Tutorial", 2016), with Optuna's `CmaEsSampler` defaults, the margin
//! correction for integer and stepped parameters (Hamano et al., "CMA-ES with Margin", GECCO
//! 2022), IPOP restarts (Auger and Hansen, CEC 2005) and a warm start in the spirit of
//! WS-CMA-ES (Nomura et al., AAAI 2021).
//!
//! ```json
//! {"type": "cmaes", "sigma0": 0.1666, "popsize": 10, "n_startup_trials": 1,
//!  "with_margin": true, "restart_strategy": "ipop", "inc_popsize": 2, "warm_start": false}
//! ```
//!
//! **Space.** CMA-ES models the float and int parameters that have no condition and more
//! than one value, each mapped to `[0, 1]`: linearly from its internal range (so `log`
//! parameters are searched in log space), and for int and stepped float parameters so that
//! every grid value owns an equal share of `[0, 1]` (Optuna's half-step widening). Categorical
//! and conditional parameters are drawn independently and uniformly, as Optuna's CMA-ES does
//! with its random fallback sampler; a space with no modelled parameter is random search.
//! Continuous parameters stay inside their bounds by resampling (up to 10 n draws), then
//! clipping, as the reference implementation (the `cmaes` library Optuna uses) does.
//!
//! **Defaults (Optuna's).** Mean at the centre of the box, `sigma0` = 1/6 of the normalised
//! range, population `popsize` = 4 + floor(3 ln n) for n modelled parameters, Hansen's
//! recombination weights (negative ones included) and learning rates, `n_startup_trials` = 1
//! random trial first. The study's `seed` and generator drive every draw; this sampler has no
//! seed of its own.
//!
//! **Integers (margin).** With `with_margin` (default: on when an int or stepped float
//! parameter is modelled), each discrete dimension gets Hamano et al.'s affine scaling and
//! mean correction after every update, so at least a marginal probability
//! `1 / (n popsize)` remains of leaving the current value: the distribution cannot collapse
//! onto one integer while the continuous parameters converge. A trial records the sample's
//! position inside its value's rounding cell as its internal value (the reported value is the
//! grid value), so the update learns from what was sampled rather than from the rounding.
//!
//! **Restarts.** `"restart_strategy": "ipop"` restarts from a random mean with `sigma0` and a
//! population `inc_popsize` (default 2) times larger whenever the run has converged or
//! stalled (the `cmaes` library's criteria: function values flat over the last
//! 10 + ceil(30 n / popsize) generations, steps below 1e-12 sigma0, no effect of a step on
//! the mean, divergence, or a condition number above 1e14). `"none"` (the default, as
//! Optuna) keeps sampling the converged distribution.
//!
//! **Warm start.** With `"warm_start": true` the first run starts from the best tenth (at
//! least one) of the `n_startup_trials` complete trials that precede it, as WS-CMA-ES does:
//! their mean, their covariance plus 0.1^2 I, that matrix's determinant^(1/2n) as the step
//! size. `n_startup_trials` must then be given: the study cannot tell trials added with
//! `add_trial` from asked ones, so it says how many complete trials form the history (e.g. the
//! number added before the first ask); the sampler proposes random trials until the study has
//! that many.
//!
//! **State.** The distribution is a function of the trials alone, so processes sharing a
//! journal or database study, and a study restored by `save_json`/`load_json`, evolve it
//! identically. Trials are read in id order: the first `n_startup_trials` complete trials are
//! the start-up phase, every later complete trial is a member of the current generation, and
//! each `popsize` members update the distribution once (one eigendecomposition per
//! generation). Failed and pruned trials are skipped. Reading stops at the first trial still
//! running: a long-running trial delays the updates that follow it (asks meanwhile sample the
//! distribution as it is), and trials asked from an older distribution count in the
//! generation in which they complete. The state is kept between asks, so an ask costs O(n^2)
//! and a generation O(popsize n^2 + n^3).
//!
//! **Constraints.** Feasible trials rank before infeasible ones, which rank by their total
//! violation (Optuna's CMA-ES ignores constraints).

use serde::{Deserialize, Serialize};

use super::sampler::{RandomSampler, Sampler};
use super::space::Distribution;
use super::study::{Direction, Trial, TrialState};
use super::{Error, Space};
use crate::stats::linalg::{cholesky, cholesky_log_det, symmetric_eigen};
use crate::stats::{standard_normal, Rng};

/// What CMA-ES does once a run has converged or stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartStrategy {
    /// Keep sampling the converged distribution (Optuna's default).
    #[default]
    None,
    /// Restart from a random mean with a population `inc_popsize` times larger (IPOP).
    Ipop,
}

/// CMA-ES settings; every field has Optuna's default (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CmaesConfig {
    /// Initial step size as a fraction of each parameter's normalised range, in (0, 1];
    /// `None`: 1/6. Not with `warm_start`, which estimates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma0: Option<f64>,
    /// Trials per generation (2 to 100000); `None`: 4 + floor(3 ln n).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub popsize: Option<usize>,
    /// Complete trials sampled at random before CMA-ES starts; `None`: 1. Required with
    /// `warm_start`, where these trials are the history it starts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_startup_trials: Option<usize>,
    /// The margin correction for int and stepped float parameters; `None`: on when the
    /// space models such a parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_margin: Option<bool>,
    /// `none` (default) or `ipop`.
    pub restart_strategy: RestartStrategy,
    /// Population growth factor of each IPOP restart (2 to 100; default 2).
    pub inc_popsize: usize,
    /// Start from the best of the start-up trials (WS-CMA-ES) instead of the centre.
    pub warm_start: bool,
}

impl Default for CmaesConfig {
    fn default() -> Self {
        CmaesConfig {
            sigma0: None,
            popsize: None,
            n_startup_trials: None,
            with_margin: None,
            restart_strategy: RestartStrategy::None,
            inc_popsize: 2,
            warm_start: false,
        }
    }
}

/// Largest population, given or reached by IPOP restarts.
const MAX_POPSIZE: usize = 100_000;
/// Largest IPOP growth factor.
const MAX_INC_POPSIZE: usize = 100;
/// Default initial step size (Optuna's: 1/6 of the normalised range).
const DEFAULT_SIGMA0: f64 = 1.0 / 6.0;
/// Step sizes are capped here (the `cmaes` library's bound).
const SIGMA_MAX: f64 = 1e32;
/// WS-CMA-ES: the share of the source trials used, and the prior standard deviation added.
const WARM_GAMMA: f64 = 0.1;
const WARM_ALPHA: f64 = 0.1;

impl CmaesConfig {
    /// Checks the settings; the error names the field (`sampler.popsize`, ...).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what: "study config",
            field: format!("sampler.{field}"),
            reason,
        };
        if let Some(s) = self.sigma0 {
            if !(s.is_finite() && s > 0.0 && s <= 1.0) {
                return Err(bad(
                    "sigma0",
                    format!("must be in (0, 1] (a fraction of each parameter's range), got {s}"),
                ));
            }
            if self.warm_start {
                return Err(bad(
                    "sigma0",
                    "cannot be combined with warm_start, which estimates the step size".into(),
                ));
            }
        }
        if let Some(p) = self.popsize {
            if !(2..=MAX_POPSIZE).contains(&p) {
                return Err(bad(
                    "popsize",
                    format!("must be between 2 and {MAX_POPSIZE}, got {p}"),
                ));
            }
        }
        if !(2..=MAX_INC_POPSIZE).contains(&self.inc_popsize) {
            return Err(bad(
                "inc_popsize",
                format!(
                    "must be between 2 and {MAX_INC_POPSIZE}, got {}",
                    self.inc_popsize
                ),
            ));
        }
        if self.warm_start && self.n_startup_trials.unwrap_or(0) == 0 {
            return Err(bad(
                "n_startup_trials",
                "warm_start needs n_startup_trials >= 1: the number of complete trials \
                 (e.g. added with add_trial) it starts from"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A modelled parameter and its map to `[0, 1]`.
#[derive(Debug, Clone, Copy)]
struct Dim {
    /// The parameter's index in the space.
    param: usize,
    /// Its internal bounds.
    low: f64,
    high: f64,
    /// For int and stepped float parameters: the grid.
    grid: Option<Grid>,
}

/// The values of a discrete parameter: `first + k step` for `k` in `0..count`, internally.
#[derive(Debug, Clone, Copy)]
struct Grid {
    first: f64,
    step: f64,
    count: usize,
}

impl Grid {
    /// The internal interval that rounds to value `k`, cut at the bounds.
    fn cell(&self, k: usize) -> (f64, f64) {
        let last = self.first + (self.count - 1) as f64 * self.step;
        let centre = self.first + k as f64 * self.step;
        (
            (centre - 0.5 * self.step).max(self.first),
            (centre + 0.5 * self.step).min(last),
        )
    }
}

/// Keeps a stored position strictly inside its rounding cell, so rounding the internal value
/// gives the cell's value whatever the floating-point error.
const CELL_INSET: f64 = 1e-7;

impl Dim {
    /// The normalised coordinate of internal value `v`.
    fn unit_of_internal(&self, v: f64) -> f64 {
        match self.grid {
            None => ((v - self.low) / (self.high - self.low)).clamp(0.0, 1.0),
            Some(g) => {
                // The value `v` reports (as `Space::to_external` rounds it), then where in that
                // value's cell `v` sits.
                let k = ((v - g.first) / g.step).round().max(0.0) as usize;
                let k = k.min(g.count - 1);
                let (lo, hi) = g.cell(k);
                let t = ((v - lo) / (hi - lo)).clamp(CELL_INSET, 1.0 - CELL_INSET);
                let t = (t - CELL_INSET) / (1.0 - 2.0 * CELL_INSET);
                (k as f64 + t) / g.count as f64
            }
        }
    }

    /// The internal value at normalised coordinate `u` (clamped to `[0, 1]`).
    fn internal_at(&self, u: f64) -> f64 {
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        match self.grid {
            None => (self.low + (self.high - self.low) * u).clamp(self.low, self.high),
            Some(g) => {
                let scaled = u * g.count as f64;
                let k = (scaled.floor().max(0.0) as usize).min(g.count - 1);
                let t = (scaled - k as f64).clamp(0.0, 1.0);
                let t = CELL_INSET + t * (1.0 - 2.0 * CELL_INSET);
                let (lo, hi) = g.cell(k);
                // Clamped: a float step may divide the range only to within rounding.
                (lo + (hi - lo) * t).clamp(self.low, self.high)
            }
        }
    }
}

/// How a finished trial ranks: feasible before infeasible, then by violation, then by value
/// (sign-adjusted so that smaller is better).
#[derive(Debug, Clone, Copy)]
struct Key {
    violation: f64,
    value: f64,
}

impl Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        (self.violation > 0.0)
            .cmp(&(other.violation > 0.0))
            .then(self.violation.total_cmp(&other.violation))
            .then(self.value.total_cmp(&other.value))
    }
}

/// A complete trial as CMA-ES sees it.
#[derive(Debug, Clone)]
struct Solution {
    /// The point in normalised coordinates (the raw sample, for margin dimensions).
    x: Vec<f64>,
    key: Key,
    id: u64,
}

/// One CMA-ES run: the strategy parameters, the distribution and its eigendecomposition.
#[derive(Debug, Clone)]
struct Run {
    n: usize,
    lambda: usize,
    mu: usize,
    /// Recombination weights, best first (the last ones negative).
    weights: Vec<f64>,
    mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    chi_n: f64,
    mean: Vec<f64>,
    sigma: f64,
    /// The covariance matrix, row-major.
    cov: Vec<f64>,
    p_sigma: Vec<f64>,
    p_c: Vec<f64>,
    /// Eigenvectors (columns, row-major) and square roots of the eigenvalues of `cov`.
    b: Vec<f64>,
    d: Vec<f64>,
    generation: u64,
    /// Per dimension: the number of grid values when the margin correction applies.
    cells: Vec<Option<usize>>,
    /// The margin's diagonal scaling of discrete dimensions (1 elsewhere).
    a: Vec<f64>,
    /// The marginal probability the margin keeps, 1 / (n lambda).
    margin: f64,
    tolx: f64,
    /// Best and worst value of the last `funhist_term` generations.
    funhist: Vec<f64>,
    funhist_term: usize,
}

impl Run {
    /// A run with population `lambda` from `mean`, step size `sigma` and covariance `cov`
    /// (the identity when `None`).
    fn new(
        lambda: usize,
        mean: Vec<f64>,
        sigma: f64,
        cov: Option<Vec<f64>>,
        cells: Vec<Option<usize>>,
    ) -> Run {
        let n = mean.len();
        let nf = n as f64;
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=lambda)
            .map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - (i as f64).ln())
            .collect();
        let eff = |w: &[f64]| {
            let s: f64 = w.iter().sum();
            let s2: f64 = w.iter().map(|x| x * x).sum();
            if s2 > 0.0 {
                s * s / s2
            } else {
                0.0
            }
        };
        let mu_eff = eff(&raw[..mu]);
        let mu_eff_minus = eff(&raw[mu..]);
        let alpha_cov = 2.0;
        let c_1 = alpha_cov / ((nf + 1.3).powi(2) + mu_eff);
        let c_mu = (1.0 - c_1 - 1e-8).min(
            alpha_cov * (mu_eff - 2.0 + 1.0 / mu_eff)
                / ((nf + 2.0).powi(2) + alpha_cov * mu_eff / 2.0),
        );
        let min_alpha = (1.0 + c_1 / c_mu)
            .min(1.0 + 2.0 * mu_eff_minus / (mu_eff + 2.0))
            .min((1.0 - c_1 - c_mu) / (nf * c_mu));
        let positive: f64 = raw.iter().filter(|w| **w > 0.0).sum();
        let negative: f64 = raw.iter().filter(|w| **w < 0.0).map(|w| -w).sum();
        let weights = raw
            .iter()
            .map(|&w| {
                if w >= 0.0 {
                    w / positive
                } else {
                    min_alpha * w / negative
                }
            })
            .collect();
        let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        let funhist_term = 10 + (30.0 * nf / lambda as f64).ceil() as usize;
        let mut identity = vec![0.0; n * n];
        for i in 0..n {
            identity[i * n + i] = 1.0;
        }
        let mut run = Run {
            n,
            lambda,
            mu,
            weights,
            mu_eff,
            c_sigma,
            d_sigma,
            c_c,
            c_1,
            c_mu,
            chi_n,
            mean,
            sigma: sigma.clamp(1e-300, SIGMA_MAX),
            cov: cov.unwrap_or_else(|| identity.clone()),
            p_sigma: vec![0.0; n],
            p_c: vec![0.0; n],
            b: identity,
            d: vec![1.0; n],
            generation: 0,
            cells,
            a: vec![1.0; n],
            margin: 1.0 / (nf * lambda as f64),
            tolx: 1e-12 * sigma,
            funhist: vec![0.0; 2 * funhist_term],
            funhist_term,
        };
        if !run.decompose() {
            run.cov = run.b.clone();
        }
        run.correct_margin();
        run
    }

    /// Eigendecomposition of `cov` into `b` and `d`; false (leaving them) when `cov` is not
    /// finite.
    fn decompose(&mut self) -> bool {
        let Ok(e) = symmetric_eigen(&self.cov, self.n) else {
            return false;
        };
        let top = e.values.iter().copied().fold(0.0, f64::max);
        if !(top > 0.0 && top.is_finite()) {
            return false;
        }
        // Eigenvalues that rounding made tiny or negative: floored 1e14 below the largest.
        self.d = e.values.iter().map(|v| v.max(top * 1e-14).sqrt()).collect();
        self.b = e.vectors;
        true
    }

    /// One draw of the distribution, in normalised coordinates (unbounded).
    fn draw(&self, rng: &mut Rng, z: &mut [f64], x: &mut [f64]) {
        let n = self.n;
        for (zj, dj) in z.iter_mut().zip(&self.d) {
            *zj = dj * standard_normal(rng);
        }
        for ((xi, row), m) in x.iter_mut().zip(self.b.chunks_exact(n)).zip(&self.mean) {
            let y: f64 = row.iter().zip(z.iter()).map(|(b, z)| b * z).sum();
            *xi = m + self.sigma * y;
        }
    }

    /// A sample inside the box for every dimension without margin (up to 10 n draws, then
    /// the last one clipped), returned as the point to store: discrete margin dimensions
    /// scaled by `a` about the mean.
    fn ask(&self, rng: &mut Rng) -> Vec<f64> {
        let mut z = vec![0.0; self.n];
        let mut x = vec![0.0; self.n];
        let bounded = |x: &[f64]| {
            x.iter()
                .zip(&self.cells)
                .all(|(v, c)| c.is_some() || (0.0..=1.0).contains(v))
        };
        for _ in 0..10 * self.n {
            self.draw(rng, &mut z, &mut x);
            if bounded(&x) {
                return self.encode(x);
            }
        }
        self.draw(rng, &mut z, &mut x);
        for (v, c) in x.iter_mut().zip(&self.cells) {
            if c.is_none() {
                *v = v.clamp(0.0, 1.0);
            }
        }
        self.encode(x)
    }

    /// The raw sample `x` as the point its trial evaluates (margin dimensions scaled).
    fn encode(&self, mut x: Vec<f64>) -> Vec<f64> {
        for (i, v) in x.iter_mut().enumerate() {
            if self.cells[i].is_some() {
                *v = self.mean[i] + self.a[i] * (*v - self.mean[i]);
            }
        }
        x
    }

    /// The raw sample behind a stored point (the inverse of [`Run::encode`] under the
    /// current mean and scaling).
    fn decode(&self, mut u: Vec<f64>) -> Vec<f64> {
        for (i, v) in u.iter_mut().enumerate() {
            if self.cells[i].is_some() {
                *v = self.mean[i] + (*v - self.mean[i]) / self.a[i];
            }
        }
        u
    }

    /// `C^-1/2 v = B D^-1 B^T v`.
    fn whiten(&self, v: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut t = vec![0.0; n];
        for (j, tj) in t.iter_mut().enumerate() {
            let mut s = 0.0;
            for (i, vi) in v.iter().enumerate() {
                s += self.b[i * n + j] * vi;
            }
            *tj = s / self.d[j];
        }
        (0..n)
            .map(|i| {
                self.b[i * n..(i + 1) * n]
                    .iter()
                    .zip(&t)
                    .map(|(b, t)| b * t)
                    .sum()
            })
            .collect()
    }

    /// The update from one generation of `lambda` solutions (any order). False when the
    /// distribution became unusable (non-finite), which the caller answers with a fresh run.
    fn tell(&mut self, solutions: &mut [Solution]) -> bool {
        let n = self.n;
        solutions.sort_by(|a, b| a.key.cmp(&b.key));
        self.generation += 1;
        let y: Vec<Vec<f64>> = solutions
            .iter()
            .map(|s| {
                s.x.iter()
                    .zip(&self.mean)
                    .map(|(x, m)| (x - m) / self.sigma)
                    .collect()
            })
            .collect();
        let mut y_w = vec![0.0; n];
        for (yk, w) in y.iter().zip(&self.weights).take(self.mu) {
            for (acc, v) in y_w.iter_mut().zip(yk) {
                *acc += w * v;
            }
        }
        for (m, v) in self.mean.iter_mut().zip(&y_w) {
            *m += self.sigma * v;
        }
        // Step-size control.
        let c_y = self.whiten(&y_w);
        let k_sigma = (self.c_sigma * (2.0 - self.c_sigma) * self.mu_eff).sqrt();
        for (p, c) in self.p_sigma.iter_mut().zip(&c_y) {
            *p = (1.0 - self.c_sigma) * *p + k_sigma * c;
        }
        let norm_p_sigma = self.p_sigma.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.sigma *= ((self.c_sigma / self.d_sigma) * (norm_p_sigma / self.chi_n - 1.0)).exp();
        self.sigma = self.sigma.min(SIGMA_MAX);
        // Covariance adaptation.
        let left = norm_p_sigma
            / (1.0 - (1.0 - self.c_sigma).powf(2.0 * (self.generation as f64 + 1.0))).sqrt();
        let right = (1.4 + 2.0 / (n as f64 + 1.0)) * self.chi_n;
        let h_sigma = if left < right { 1.0 } else { 0.0 };
        let k_c = h_sigma * (self.c_c * (2.0 - self.c_c) * self.mu_eff).sqrt();
        for (p, v) in self.p_c.iter_mut().zip(&y_w) {
            *p = (1.0 - self.c_c) * *p + k_c * v;
        }
        let w_io: Vec<f64> = self
            .weights
            .iter()
            .zip(&y)
            .map(|(&w, yk)| {
                if w >= 0.0 {
                    w
                } else {
                    let c = self.whiten(yk);
                    w * n as f64 / (c.iter().map(|v| v * v).sum::<f64>() + 1e-8)
                }
            })
            .collect();
        let delta_h = (1.0 - h_sigma) * self.c_c * (2.0 - self.c_c);
        let weight_sum: f64 = self.weights.iter().sum();
        let keep = 1.0 + self.c_1 * delta_h - self.c_1 - self.c_mu * weight_sum;
        for i in 0..n {
            for j in 0..=i {
                let mut rank_mu = 0.0;
                for (w, yk) in w_io.iter().zip(&y) {
                    rank_mu += w * yk[i] * yk[j];
                }
                let v = keep * self.cov[i * n + j]
                    + self.c_1 * self.p_c[i] * self.p_c[j]
                    + self.c_mu * rank_mu;
                self.cov[i * n + j] = v;
                self.cov[j * n + i] = v;
            }
        }
        let term = 2 * (self.generation as usize % self.funhist_term);
        self.funhist[term] = solutions[0].key.value;
        self.funhist[term + 1] = solutions[solutions.len() - 1].key.value;
        let finite = self.sigma.is_finite()
            && self.mean.iter().all(|v| v.is_finite())
            && self.p_c.iter().all(|v| v.is_finite());
        if !(finite && self.decompose()) {
            return false;
        }
        self.correct_margin();
        true
    }

    /// Hamano et al.'s margin: for each discrete dimension, move the mean and set the scaling
    /// `a` so that the probability of leaving the mean's value stays at least `margin` (half
    /// of it on each side of an inner value).
    fn correct_margin(&mut self) {
        let n = self.n;
        let alpha = self.margin;
        for i in 0..n {
            let Some(k) = self.cells[i] else { continue };
            if k < 2 {
                continue;
            }
            let kf = k as f64;
            let m = self.mean[i];
            // Cell limits j / k for j in 1..k; the ones around the mean (the same one twice
            // when the mean is in an end cell).
            let below = ((m * kf).ceil() as i64 - 1).clamp(0, k as i64 - 1) as usize;
            let low_idx = below.saturating_sub(1).min(k - 2);
            let up_idx = below.min(k - 2);
            let (lim_low, lim_up) = ((low_idx + 1) as f64 / kf, (up_idx + 1) as f64 / kf);
            let sd_c = self.cov[i * n + i].sqrt();
            let scale = self.sigma * self.a[i] * sd_c;
            if !(scale > 0.0 && scale.is_finite()) {
                continue;
            }
            let low_cdf = normal_cdf((lim_low - m) / scale);
            let up_cdf = 1.0 - normal_cdf((lim_up - m) / scale);
            let mid_cdf = 1.0 - low_cdf - up_cdf;
            if low_cdf.max(up_cdf) > 0.5 || low_idx == up_idx {
                if low_cdf.min(up_cdf) < alpha {
                    let sign = if m >= lim_up { 1.0 } else { -1.0 };
                    self.mean[i] = lim_up + sign * scale * normal_quantile(1.0 - alpha);
                }
                continue;
            }
            let low = low_cdf.max(alpha / 2.0);
            let up = up_cdf.max(alpha / 2.0);
            let spare = 1.0 - low - up - mid_cdf;
            let denom = low + mid_cdf + up - 1.5 * alpha;
            let new_low = (low + spare * (low - alpha / 2.0) / denom).clamp(1e-10, 0.5 - 1e-10);
            let new_up = (up + spare * (up - alpha / 2.0) / denom).clamp(1e-10, 0.5 - 1e-10);
            let chi_low = normal_quantile(1.0 - new_low);
            let chi_up = normal_quantile(1.0 - new_up);
            let a = (lim_up - lim_low) / ((chi_low + chi_up) * self.sigma * sd_c);
            if a.is_finite() && a > 0.0 {
                self.a[i] = a;
                self.mean[i] = (lim_low * chi_up + lim_up * chi_low) / (chi_low + chi_up);
            }
        }
    }

    /// The `cmaes` library's stopping criteria (see the module documentation).
    fn should_stop(&self) -> bool {
        let n = self.n;
        let g = self.generation as usize;
        if g > self.funhist_term {
            let (lo, hi) = self
                .funhist
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(*v), hi.max(*v))
                });
            if hi - lo < 1e-12 {
                return true;
            }
        }
        let diag: Vec<f64> = (0..n).map(|i| self.cov[i * n + i]).collect();
        if diag.iter().all(|c| self.sigma * c < self.tolx)
            && self.p_c.iter().all(|p| self.sigma * p < self.tolx)
        {
            return true;
        }
        let d_max = self.d.iter().copied().fold(0.0, f64::max);
        let d_min = self.d.iter().copied().fold(f64::INFINITY, f64::min);
        if self.sigma * d_max > 1e4 {
            return true;
        }
        if self
            .mean
            .iter()
            .zip(&diag)
            .any(|(m, c)| *m == m + 0.2 * self.sigma * c.sqrt())
        {
            return true;
        }
        let axis = g % n;
        if (0..n).all(|i| {
            self.mean[i] == self.mean[i] + 0.1 * self.sigma * self.d[axis] * self.b[i * n + axis]
        }) {
            return true;
        }
        d_max / d_min > 1e14
    }
}

/// The CMA-ES sampler (see the module documentation).
#[derive(Debug, Clone)]
pub struct CmaesSampler {
    config: CmaesConfig,
    /// The modelled parameters, in space order.
    dims: Vec<Dim>,
    /// Per space parameter: modelled by CMA-ES.
    modelled: Vec<bool>,
    margin: bool,
    /// Trials read so far: every one before it is finished.
    cursor: usize,
    /// Complete trials of the start-up phase.
    startup: usize,
    /// The start-up trials, kept for the warm start.
    source: Vec<Solution>,
    /// The current run, once CMA-ES has started.
    run: Option<Run>,
    /// Complete trials of the current generation.
    generation: Vec<Solution>,
    /// IPOP restarts so far.
    restarts: u64,
}

impl CmaesSampler {
    /// A sampler with these (validated) settings for `space`.
    pub fn new(config: CmaesConfig, space: &Space) -> CmaesSampler {
        let mut dims = Vec::new();
        let mut modelled = vec![false; space.params().len()];
        for (i, p) in space.params().iter().enumerate() {
            if p.condition.is_some() {
                continue;
            }
            let (low, high) = space.internal_bounds(i);
            let grid = match &p.distribution {
                Distribution::Categorical { .. } => continue,
                Distribution::Float {
                    low, high, step, ..
                } => step.map(|s| Grid {
                    first: *low,
                    step: s,
                    count: ((high - low) / s).round() as usize + 1,
                }),
                Distribution::Int {
                    low,
                    high,
                    log: false,
                    step,
                } => Some(Grid {
                    first: *low as f64,
                    step: *step as f64,
                    count: ((high - low) / step) as usize + 1,
                }),
                Distribution::Int { log: true, .. } => None,
            };
            let single = match grid {
                Some(g) => g.count < 2,
                None => high <= low || high.is_nan() || low.is_nan(),
            };
            if single {
                continue;
            }
            modelled[i] = true;
            dims.push(Dim {
                param: i,
                low,
                high,
                grid,
            });
        }
        let margin = config
            .with_margin
            .unwrap_or_else(|| dims.iter().any(|d| d.grid.is_some()));
        CmaesSampler {
            config,
            dims,
            modelled,
            margin,
            cursor: 0,
            startup: 0,
            source: Vec::new(),
            run: None,
            generation: Vec::new(),
            restarts: 0,
        }
    }

    fn n_startup(&self) -> usize {
        self.config.n_startup_trials.unwrap_or(1)
    }

    fn cells(&self) -> Vec<Option<usize>> {
        self.dims
            .iter()
            .map(|d| d.grid.filter(|_| self.margin).map(|g| g.count))
            .collect()
    }

    fn sigma0(&self) -> f64 {
        self.config.sigma0.unwrap_or(DEFAULT_SIGMA0)
    }

    fn default_popsize(&self) -> usize {
        4 + (3.0 * (self.dims.len() as f64).ln()).floor() as usize
    }

    /// The first run: from the warm start when configured and possible, else from the centre.
    fn start(&mut self) {
        let n = self.dims.len();
        let lambda = self
            .config
            .popsize
            .unwrap_or_else(|| self.default_popsize());
        let cells = self.cells();
        if self.config.warm_start && !self.source.is_empty() {
            if let Some((mean, sigma, cov)) = warm_start(&mut self.source, n) {
                self.run = Some(Run::new(lambda, mean, sigma, Some(cov), cells));
                self.source = Vec::new();
                return;
            }
        }
        self.source = Vec::new();
        self.run = Some(Run::new(lambda, vec![0.5; n], self.sigma0(), None, cells));
    }

    /// A new run after `generation` ended the last one (IPOP, or a numerical breakdown):
    /// population `lambda`, a mean drawn from a generator seeded by the generation's trials
    /// (so every process draws the same), `sigma0` and the identity.
    fn restart(&mut self, lambda: usize, generation: &[Solution]) {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ self.restarts;
        for s in generation {
            seed = seed.rotate_left(17) ^ s.id ^ s.key.value.to_bits().rotate_left(29);
            seed = seed.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        }
        let mut rng = Rng::seed_from_u64(seed);
        let mean = (0..self.dims.len()).map(|_| rng.next_f64()).collect();
        self.run = Some(Run::new(lambda, mean, self.sigma0(), None, self.cells()));
    }

    /// The normalised point of a trial, `None` when a modelled parameter is missing or not
    /// finite.
    fn unit_of(&self, t: &Trial) -> Option<Vec<f64>> {
        self.dims
            .iter()
            .map(|d| {
                t.internal
                    .get(d.param)
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite())
                    .map(|v| d.unit_of_internal(v))
            })
            .collect()
    }

    /// Reads the trials finished since the last call, up to the first one still running,
    /// advancing the start-up phase and the generations.
    fn consume(&mut self, trials: &[Trial], direction: Direction) {
        if trials.len() < self.cursor {
            // Not the trials this state was built from: start over.
            self.cursor = 0;
            self.startup = 0;
            self.source.clear();
            self.run = None;
            self.generation.clear();
            self.restarts = 0;
        }
        let n_startup = self.n_startup();
        while self.cursor < trials.len() {
            if self.run.is_none() && self.startup >= n_startup {
                self.start();
            }
            let t = &trials[self.cursor];
            if t.state == TrialState::Running {
                break;
            }
            self.cursor += 1;
            let (TrialState::Complete, Some(value)) = (t.state, t.value) else {
                continue;
            };
            let Some(u) = self.unit_of(t) else { continue };
            let key = Key {
                violation: t.violation(),
                value: direction.minimized(value),
            };
            let Some(run) = &self.run else {
                self.startup += 1;
                if self.config.warm_start {
                    self.source.push(Solution {
                        x: u,
                        key,
                        id: t.id,
                    });
                }
                continue;
            };
            self.generation.push(Solution {
                x: run.decode(u),
                key,
                id: t.id,
            });
            if self.generation.len() >= run.lambda {
                self.end_generation();
            }
        }
        if self.run.is_none() && self.startup >= n_startup {
            self.start();
        }
    }

    /// Updates the run with the full generation, restarting it when IPOP says so.
    fn end_generation(&mut self) {
        let mut generation = std::mem::take(&mut self.generation);
        let Some(run) = self.run.as_mut() else { return };
        let lambda = run.lambda;
        if !run.tell(&mut generation) {
            self.restart(lambda, &generation);
        } else if self.config.restart_strategy == RestartStrategy::Ipop && run.should_stop() {
            self.restarts += 1;
            let bigger = (lambda * self.config.inc_popsize).min(MAX_POPSIZE);
            self.restart(bigger, &generation);
        }
        generation.clear();
        self.generation = generation;
    }
}

/// WS-CMA-ES's initial distribution from the best `WARM_GAMMA` share (at least one) of
/// `source`: mean, step size and covariance (determinant 1).
fn warm_start(source: &mut [Solution], n: usize) -> Option<(Vec<f64>, f64, Vec<f64>)> {
    source.sort_by(|a, b| a.key.cmp(&b.key));
    let top = ((source.len() as f64 * WARM_GAMMA).floor() as usize).max(1);
    let best = &source[..top];
    let mut mean = vec![0.0; n];
    for s in best {
        for (m, x) in mean.iter_mut().zip(&s.x) {
            *m += x / top as f64;
        }
    }
    let mut cov = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let second: f64 = best.iter().map(|s| s.x[i] * s.x[j]).sum::<f64>() / top as f64;
            cov[i * n + j] = second - mean[i] * mean[j];
        }
        cov[i * n + i] += WARM_ALPHA * WARM_ALPHA;
    }
    let l = cholesky(&cov, n).ok()?;
    let log_det = cholesky_log_det(&l, n).ok()?;
    let sigma = (log_det / (2.0 * n as f64)).exp();
    let scale = (-log_det / n as f64).exp();
    cov.iter_mut().for_each(|c| *c *= scale);
    (sigma.is_finite() && sigma > 0.0).then_some((mean, sigma, cov))
}

/// The standard normal CDF from [`stats::erfc`](crate::stats::erfc): `1 - erfc(x / sqrt 2) / 2`
/// above 0, `erfc(-x / sqrt 2) / 2` below (the form CMA-ES's margin has always used).
fn normal_cdf(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 - 0.5 * crate::stats::erfc(x / std::f64::consts::SQRT_2)
    } else {
        0.5 * crate::stats::erfc(-x / std::f64::consts::SQRT_2)
    }
}

/// The standard normal quantile for `p` in (0, 1), by Acklam's rational approximation
/// (relative error below 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

impl Sampler for CmaesSampler {
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        directions: &[Direction],
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let direction = directions[0];
        if self.dims.is_empty() || self.modelled.len() != space.params().len() {
            return RandomSampler.sample(space, trials, directions, rng);
        }
        self.consume(trials, direction);
        let Some(run) = &self.run else {
            return RandomSampler.sample(space, trials, directions, rng);
        };
        let point = run.ask(rng);
        let mut out: Vec<Option<f64>> = vec![None; space.params().len()];
        for (d, u) in self.dims.iter().zip(&point) {
            out[d.param] = Some(d.internal_at(*u));
        }
        for i in 0..out.len() {
            if !self.modelled[i] && space.is_active(i, &out) {
                out[i] = Some(space.sample_uniform(i, rng));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
