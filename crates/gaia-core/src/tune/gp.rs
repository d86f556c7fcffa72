//! Gaussian-process Bayesian optimisation, after Optuna's `GPSampler` (Optuna 4/5): a
//! Matern-5/2 GP with automatic relevance determination, its hyper-parameters fitted by
//! maximum a posteriori under Optuna's priors, and the log expected improvement of Ament et
//! al. ("Unexpected Improvements to Expected Improvement for Bayesian Optimization",
//! NeurIPS 2023) maximised over the space. Pure Rust: the dense algebra is
//! [`crate::stats::linalg`].
//!
//! ```json
//! {"type": "gp", "n_startup_trials": 10, "deterministic_objective": false,
//!  "n_candidates": 2048, "n_local_search": 10}
//! ```
//!
//! **Space.** The model sees every unconditional parameter with more than one value. Float
//! and int parameters are mapped linearly from their internal range to `[0, 1]` (so `log`
//! parameters live in log space); categoricals use Optuna's categorical distance: two
//! points differ by the categorical's length scale when their choices differ and not at all
//! when they agree (no one-hot encoding, one length scale per categorical). Conditional
//! parameters are not modelled: when active they are drawn uniformly at random, as Optuna's
//! GP sampler does with its independent fallback sampler.
//!
//! **Model.** Objective values (negated when minimising) are standardised to mean 0 and
//! standard deviation 1. The kernel is `k(x, y) = s m(r)` with
//! `r^2 = sum_d l_d (x_d - y_d)^2` (categorical dimensions: `l_d [x_d != y_d]`),
//! `m(r) = (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)`, plus the noise variance `v` on the
//! diagonal. The inverse squared length scales `l_d`, the kernel scale `s` and the noise `v`
//! maximise the log marginal likelihood plus Optuna's log prior
//! `sum_d -(0.1 / l_d + 0.1 l_d) + log Gamma(s; 2, 1) + log Gamma(v; 1.1, 30)`, with
//! `v >= 1e-6` (`deterministic_objective` pins `v` there). They are fitted in log space by
//! L-BFGS with analytic gradients, warm-started from the previous ask's fit (the first fit
//! starts from `l_d = 1`, `s = 1`, `v = 0.01`). Above 100 observations the sampler refits
//! only when the data grew by 5 % since the last fit and caps the optimiser's iterations so
//! an ask stays cheap (between refits it reuses the hyper-parameters, refactoring the
//! kernel matrix with the new data).
//!
//! **Singular kernels.** Identical points (re-evaluated parameters, a running trial at the
//! same point as a complete one) make the kernel matrix singular when the noise is small. The
//! Cholesky factorisation then retries with a growing jitter on the diagonal (1e-10 to 1e-3
//! of its mean); if even that fails, the fit keeps the previous hyper-parameters, and if no
//! model can be built the ask falls back to a uniform random draw. It never panics.
//!
//! **Acquisition.** Log expected improvement over the best standardised value, computed
//! stably in the far tail (`log h(z)` with `erfcx`, as Ament et al.). It is maximised over
//! `n_candidates` scrambled-Sobol points (fewer above 150 observations, so the candidate
//! scan costs about the same as at 150; at least 256) plus the best complete trials'
//! points, followed by a local search from the `n_local_search` best: projected L-BFGS on
//! the continuous dimensions with analytic gradients, alternated with an exhaustive sweep of
//! each categorical's choices and each grid of at most 64 values (ints and stepped floats;
//! larger grids are searched as continuous and rounded). Proposals are rounded to their
//! parameter's grid.
//!
//! **Constraints.** With constraints (feasible when every value is `<= 0`), each constraint
//! gets its own GP, fitted the same way, and the acquisition is log EI over the best
//! *feasible* value plus `sum_c log P(c(x) <= 0)`; while no complete trial is feasible, the
//! sampler maximises the probability of feasibility alone (Optuna's constrained GP, after
//! Gardner et al. 2014).
//!
//! **Running trials (constant liar).** Trials still running enter the objective model as if
//! they had returned the best value seen so far, so the expected improvement near them
//! collapses and concurrent asks spread out; the constraint models ignore them.
//!
//! **Start-up.** Until `n_startup_trials` (default 10) trials are complete, parameters are
//! drawn uniformly at random. Failed and pruned trials are never modelled. The study's seed
//! and generator drive every draw; the warm start makes an ask depend on the asks before it
//! in the same process, so a restored study may propose slightly different points.

use serde::{Deserialize, Serialize};

use super::sampler::{RandomSampler, Sampler};
use super::sobol::{SobolConfig, SobolSampler};
use super::space::Distribution;
use super::study::{Direction, Trial, TrialState};
use super::{Error, Space};
use crate::stats::linalg::{
    cholesky_jittered, dot, inverse_from_lower_inverse, lower_inverse, solve_lower,
};
use crate::stats::{erfcx, log_ndtr, Rng};

/// GP sampler settings; the defaults follow Optuna's `GPSampler`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpConfig {
    /// Complete trials drawn at random before the model is used (at least 1).
    pub n_startup_trials: usize,
    /// Pin the noise variance to its minimum (1e-6), for objectives without noise.
    pub deterministic_objective: bool,
    /// Quasi-random candidates scanned per ask before the local search (16 to 65536).
    pub n_candidates: usize,
    /// Starting points of the local search (1 to 100).
    pub n_local_search: usize,
}

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig {
            n_startup_trials: 10,
            deterministic_objective: false,
            n_candidates: 2048,
            n_local_search: 10,
        }
    }
}

impl GpConfig {
    /// Checks the settings; the error names the field (`sampler.n_candidates`, ...).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, reason: String| Error::Config {
            what: "study config",
            field: format!("sampler.{field}"),
            reason,
        };
        if self.n_startup_trials == 0 {
            return Err(bad(
                "n_startup_trials",
                "must be >= 1 (the model needs an observation)".into(),
            ));
        }
        if !(16..=65_536).contains(&self.n_candidates) {
            return Err(bad(
                "n_candidates",
                format!("must be between 16 and 65536, got {}", self.n_candidates),
            ));
        }
        if !(1..=100).contains(&self.n_local_search) {
            return Err(bad(
                "n_local_search",
                format!("must be between 1 and 100, got {}", self.n_local_search),
            ));
        }
        Ok(())
    }
}

/// Optuna's smallest noise variance.
const MIN_NOISE: f64 = 1e-6;
/// Smallest predictive variance (Optuna's clamp), in standardised units.
const MIN_VAR: f64 = 1e-10;
/// Cholesky attempts: none, then jitter 1e-10 .. 1e-3 of the mean diagonal.
const JITTER_TRIES: usize = 9;
/// Grids up to this many values are swept exhaustively by the local search.
const MAX_SWEEP: usize = 64;
/// Log-space box of the fitted hyper-parameters (keeps exp() finite).
const LOG_BOUND: f64 = 15.0;
/// sqrt(5).
const SQRT5: f64 = 2.236_067_977_499_79;
/// ln(2 pi) / 2.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// How a modelled parameter is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A real in `[0, 1]`.
    Continuous,
    /// `count` grid values `low_ext + k step` (external), mapped to `[0, 1]` through the
    /// internal range.
    Grid {
        count: usize,
        log: bool,
        low_ext: f64,
        step: f64,
    },
    /// A choice index in `0..n`.
    Categorical { n: usize },
}

/// A modelled parameter.
#[derive(Debug, Clone, Copy)]
struct Dim {
    param: usize,
    low: f64,
    high: f64,
    kind: Kind,
}

impl Dim {
    fn is_categorical(&self) -> bool {
        matches!(self.kind, Kind::Categorical { .. })
    }

    /// The model coordinate of internal value `x` (snapped to the grid).
    fn encode(&self, x: f64) -> f64 {
        match self.kind {
            Kind::Categorical { n } => x.round().clamp(0.0, (n - 1) as f64),
            _ => self.snap(((x - self.low) / (self.high - self.low)).clamp(0.0, 1.0)),
        }
    }

    /// The internal value of model coordinate `u`.
    fn decode(&self, u: f64) -> f64 {
        match self.kind {
            Kind::Categorical { n } => u.round().clamp(0.0, (n - 1) as f64),
            _ => (self.low + self.snap(u) * (self.high - self.low)).clamp(self.low, self.high),
        }
    }

    /// Rounds `u` in `[0, 1]` to the nearest grid value (identity when continuous).
    fn snap(&self, u: f64) -> f64 {
        let Kind::Grid {
            count,
            log,
            low_ext,
            step,
        } = self.kind
        else {
            return u.clamp(0.0, 1.0);
        };
        let x = self.low + u.clamp(0.0, 1.0) * (self.high - self.low);
        let v = if log { x.exp() } else { x };
        let k = ((v - low_ext) / step)
            .round()
            .clamp(0.0, (count - 1) as f64);
        let v = low_ext + k * step;
        let x = if log { v.ln() } else { v };
        ((x - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
    }

    /// The coordinate at fraction `q` in [0, 1) with equal shares per grid value / choice.
    fn at_fraction(&self, q: f64) -> f64 {
        match self.kind {
            Kind::Continuous => q.clamp(0.0, 1.0),
            Kind::Categorical { n } => ((q * n as f64) as usize).min(n - 1) as f64,
            Kind::Grid {
                count,
                log,
                low_ext,
                step,
            } => {
                let k = ((q * count as f64) as usize).min(count - 1);
                let v = low_ext + k as f64 * step;
                let x = if log { v.ln() } else { v };
                ((x - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
            }
        }
    }

    /// Every value of a small grid or categorical, as model coordinates.
    fn sweep_values(&self) -> Option<Vec<f64>> {
        match self.kind {
            Kind::Continuous => None,
            Kind::Categorical { n } => Some((0..n).map(|k| k as f64).collect()),
            Kind::Grid { count, .. } if count <= MAX_SWEEP => Some(
                (0..count)
                    .map(|k| self.at_fraction((k as f64 + 0.5) / count as f64))
                    .collect(),
            ),
            Kind::Grid { .. } => None,
        }
    }

    /// Searched by gradient (continuous, or a grid too large to sweep).
    fn is_smooth(&self) -> bool {
        match self.kind {
            Kind::Continuous => true,
            Kind::Categorical { .. } => false,
            Kind::Grid { count, .. } => count > MAX_SWEEP,
        }
    }
}

/// The modelled dimensions of `space` (unconditional parameters with more than one value).
fn model_dims(space: &Space) -> Vec<Dim> {
    let mut dims = Vec::new();
    for (i, p) in space.params().iter().enumerate() {
        if p.condition.is_some() {
            continue;
        }
        let (low, high) = space.internal_bounds(i);
        if high <= low {
            continue;
        }
        let kind = match &p.distribution {
            Distribution::Categorical { choices } => Kind::Categorical { n: choices.len() },
            Distribution::Float { step: None, .. } => Kind::Continuous,
            Distribution::Float {
                low: l,
                high: h,
                step: Some(s),
                ..
            } => Kind::Grid {
                count: ((h - l) / s).round() as usize + 1,
                log: false,
                low_ext: *l,
                step: *s,
            },
            Distribution::Int {
                low: l,
                high: h,
                log,
                step,
            } => Kind::Grid {
                count: ((h - l) / step) as usize + 1,
                log: *log,
                low_ext: *l as f64,
                step: *step as f64,
            },
        };
        dims.push(Dim {
            param: i,
            low,
            high,
            kind,
        });
    }
    dims
}

/// Matern-5/2 as a function of the squared distance `u`, and its derivative in `u`.
#[inline]
fn matern52(u: f64) -> (f64, f64) {
    let r = u.max(0.0).sqrt();
    let e = (-SQRT5 * r).exp();
    let m = (1.0 + SQRT5 * r + 5.0 / 3.0 * u) * e;
    let dm = -5.0 / 6.0 * (1.0 + SQRT5 * r) * e;
    (m, dm)
}

/// Weighted squared distance between two encoded points.
#[inline]
fn sq_dist(a: &[f64], b: &[f64], lam: &[f64], cat: &[bool]) -> f64 {
    let mut u = 0.0;
    for d in 0..a.len() {
        let diff = a[d] - b[d];
        u += if cat[d] {
            if diff != 0.0 {
                lam[d]
            } else {
                0.0
            }
        } else {
            lam[d] * diff * diff
        };
    }
    u
}

/// Kernel hyper-parameters in log space: `ln l_1 .. ln l_D`, `ln s`, `ln (v - 1e-6)`.
type Theta = Vec<f64>;

fn default_theta(d: usize) -> Theta {
    let mut t = vec![0.0; d + 2];
    t[d + 1] = (0.01f64 - MIN_NOISE).ln();
    t
}

/// The training data of one GP: encoded points (row-major) and standardised targets.
struct Data<'a> {
    x: &'a [f64],
    y: &'a [f64],
    n: usize,
    d: usize,
    cat: &'a [bool],
    deterministic: bool,
}

impl Data<'_> {
    fn noise(&self, theta: &[f64]) -> f64 {
        if self.deterministic {
            MIN_NOISE
        } else {
            MIN_NOISE + theta[self.d + 1].exp()
        }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The kernel matrix (lower triangle and diagonal) and, when `dm` is given, the
    /// derivative of Matern in the squared distance for each pair.
    fn kernel(&self, theta: &[f64], mut dm: Option<&mut Vec<f64>>) -> Vec<f64> {
        let (n, d) = (self.n, self.d);
        let lam: Vec<f64> = theta[..d].iter().map(|t| t.exp()).collect();
        let s = theta[d].exp();
        let noise = self.noise(theta);
        let mut k = vec![0.0; n * n];
        if let Some(buf) = dm.as_deref_mut() {
            buf.clear();
            buf.resize(n * n, 0.0);
        }
        for i in 0..n {
            let xi = self.row(i);
            for j in 0..i {
                let (m, g) = matern52(sq_dist(xi, self.row(j), &lam, self.cat));
                k[i * n + j] = s * m;
                if let Some(buf) = dm.as_deref_mut() {
                    buf[i * n + j] = g;
                }
            }
            k[i * n + i] = s + noise;
        }
        k
    }

    /// Minus (log marginal likelihood + log prior) and its gradient in `theta`;
    /// `f64::INFINITY` when the kernel matrix cannot be factored.
    fn neg_log_posterior(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (n, d) = (self.n, self.d);
        let mut dm = Vec::new();
        let k = self.kernel(theta, Some(&mut dm));
        let Ok((l, _)) = cholesky_jittered(&k, n, JITTER_TRIES) else {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return f64::INFINITY;
        };
        let Ok(l_inv) = lower_inverse(&l, n) else {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return f64::INFINITY;
        };
        // alpha = K^-1 y = L^-T (L^-1 y).
        let z: Vec<f64> = (0..n)
            .map(|i| dot(&l_inv[i * n..i * n + i + 1], self.y))
            .collect();
        let mut alpha = vec![0.0; n];
        for (i, &zi) in z.iter().enumerate() {
            for (a, &li) in alpha[..=i].iter_mut().zip(&l_inv[i * n..i * n + i + 1]) {
                *a += zi * li;
            }
        }
        let Ok(k_inv) = inverse_from_lower_inverse(&l_inv, n) else {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return f64::INFINITY;
        };
        let log_det_half: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
        let log_ml = -0.5 * dot(&z, &z) - log_det_half - n as f64 * HALF_LN_2PI;

        let lam: Vec<f64> = theta[..d].iter().map(|t| t.exp()).collect();
        let s = theta[d].exp();
        // d log ML / d theta = 1/2 sum_ij W_ij dK_ij/dtheta, W = alpha alpha^T - K^-1.
        let mut g_lam = vec![0.0; d];
        let mut g_s = 0.0;
        let mut g_noise = 0.0;
        for i in 0..n {
            let xi = self.row(i);
            for j in 0..i {
                let w = alpha[i] * alpha[j] - k_inv[i * n + j];
                // Off-diagonal pairs count twice; the 1/2 cancels.
                g_s += w * k[i * n + j];
                let c = w * s * dm[i * n + j];
                let xj = self.row(j);
                for dd in 0..d {
                    let diff = xi[dd] - xj[dd];
                    let sq = if self.cat[dd] {
                        if diff != 0.0 {
                            1.0
                        } else {
                            0.0
                        }
                    } else {
                        diff * diff
                    };
                    g_lam[dd] += c * lam[dd] * sq;
                }
            }
            let w = alpha[i] * alpha[i] - k_inv[i * n + i];
            g_s += 0.5 * w * s;
            g_noise += 0.5 * w;
        }
        // Optuna's prior: -(0.1 / l + 0.1 l) per dimension, Gamma(2, 1) on s, Gamma(1.1, 30)
        // on the noise variance.
        let noise = self.noise(theta);
        let mut log_prior = 0.0;
        for dd in 0..d {
            log_prior -= 0.1 / lam[dd] + 0.1 * lam[dd];
            grad[dd] = -(g_lam[dd] + 0.1 / lam[dd] - 0.1 * lam[dd]);
        }
        log_prior += s.ln() - s;
        grad[d] = -(g_s + 1.0 - s);
        log_prior += 0.1 * noise.ln() - 30.0 * noise;
        grad[d + 1] = if self.deterministic {
            0.0
        } else {
            let dv = theta[d + 1].exp();
            -(g_noise * dv + (0.1 / noise - 30.0) * dv)
        };
        let value = -(log_ml + log_prior);
        if value.is_finite() {
            value
        } else {
            f64::INFINITY
        }
    }
}

/// A fitted GP, ready to predict.
#[derive(Debug, Clone)]
struct Gp {
    x: Vec<f64>,
    n: usize,
    d: usize,
    cat: Vec<bool>,
    lam: Vec<f64>,
    s: f64,
    alpha: Vec<f64>,
    /// Inverse of the Cholesky factor of the kernel matrix.
    l_inv: Vec<f64>,
}

/// Scratch space for predictions.
#[derive(Debug, Default)]
struct Work {
    k: Vec<f64>,
    dk: Vec<f64>,
    z: Vec<f64>,
    v: Vec<f64>,
}

impl Gp {
    /// Builds the posterior for `theta`; `None` when the kernel matrix cannot be factored.
    fn build(data: &Data, theta: &[f64]) -> Option<Gp> {
        let n = data.n;
        let k = data.kernel(theta, None);
        let (l, _) = cholesky_jittered(&k, n, JITTER_TRIES).ok()?;
        let l_inv = lower_inverse(&l, n).ok()?;
        let z = solve_lower(&l, n, data.y).ok()?;
        let mut alpha = vec![0.0; n];
        for (i, &zi) in z.iter().enumerate() {
            for (a, &li) in alpha[..=i].iter_mut().zip(&l_inv[i * n..i * n + i + 1]) {
                *a += zi * li;
            }
        }
        if alpha.iter().any(|a| !a.is_finite()) {
            return None;
        }
        Some(Gp {
            x: data.x.to_vec(),
            n,
            d: data.d,
            cat: data.cat.to_vec(),
            lam: theta[..data.d].iter().map(|t| t.exp()).collect(),
            s: theta[data.d].exp(),
            alpha,
            l_inv,
        })
    }

    /// Posterior mean and variance at `x`; with `grad`, also their gradients in `x`
    /// (written to `grad.0` and `grad.1`, zero for categorical dimensions).
    fn predict(
        &self,
        x: &[f64],
        work: &mut Work,
        grad: Option<(&mut [f64], &mut [f64])>,
    ) -> (f64, f64) {
        let (n, d) = (self.n, self.d);
        let want_grad = grad.is_some();
        work.k.clear();
        work.dk.clear();
        for i in 0..n {
            let (m, g) = matern52(sq_dist(
                x,
                &self.x[i * d..(i + 1) * d],
                &self.lam,
                &self.cat,
            ));
            work.k.push(self.s * m);
            if want_grad {
                work.dk.push(self.s * g);
            }
        }
        let mean = dot(&work.k, &self.alpha);
        work.z.clear();
        for i in 0..n {
            work.z.push(dot(&self.l_inv[i * n..i * n + i + 1], &work.k));
        }
        let raw_var = self.s - dot(&work.z, &work.z);
        let var = raw_var.max(MIN_VAR);
        if let Some((gm, gv)) = grad {
            // v = K^-1 k = L^-T z.
            work.v.clear();
            work.v.resize(n, 0.0);
            for i in 0..n {
                let zi = work.z[i];
                for (a, &li) in work.v[..=i]
                    .iter_mut()
                    .zip(&self.l_inv[i * n..i * n + i + 1])
                {
                    *a += zi * li;
                }
            }
            gm.iter_mut().for_each(|g| *g = 0.0);
            gv.iter_mut().for_each(|g| *g = 0.0);
            for i in 0..n {
                let xi = &self.x[i * d..(i + 1) * d];
                let a = work.dk[i] * self.alpha[i];
                let b = if raw_var > MIN_VAR {
                    -2.0 * work.dk[i] * work.v[i]
                } else {
                    0.0
                };
                for dd in 0..d {
                    if self.cat[dd] {
                        continue;
                    }
                    let dk_dx = 2.0 * self.lam[dd] * (x[dd] - xi[dd]);
                    gm[dd] += a * dk_dx;
                    gv[dd] += b * dk_dx;
                }
            }
        }
        (mean, var)
    }
}

/// ln(1 - exp(a)) for `a < 0`.
fn log1mexp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}

/// ln h(z) with h(z) = phi(z) + z Phi(z), stable for very negative `z` (Ament et al.).
fn log_h(z: f64) -> f64 {
    if z > -1.0 {
        let phi = (-0.5 * z * z - HALF_LN_2PI).exp();
        let cdf = log_ndtr(z).exp();
        (phi + z * cdf).ln()
    } else if z > -1e8 {
        let w = -z * std::f64::consts::FRAC_1_SQRT_2;
        let half_ln_pi_2 = 0.5 * std::f64::consts::FRAC_PI_2.ln();
        -0.5 * z * z - HALF_LN_2PI + log1mexp((-z * erfcx(w)).ln() + half_ln_pi_2)
    } else {
        -0.5 * z * z - HALF_LN_2PI - 2.0 * (-z).ln()
    }
}

/// Log EI of a maximisation at mean `mu`, standard deviation `sd`, over `best`, with its
/// derivatives in `mu` and `sd`.
fn log_ei(mu: f64, sd: f64, best: f64) -> (f64, f64, f64) {
    let z = (mu - best) / sd;
    let lh = log_h(z);
    // d ln h / dz = Phi(z) / h(z).
    let r = (log_ndtr(z) - lh).exp();
    (sd.ln() + lh, r / sd, (1.0 - r * z) / sd)
}

/// ln P(c <= threshold) under N(mu, sd^2), with derivatives in `mu` and `sd`.
fn log_pof(mu: f64, sd: f64, threshold: f64) -> (f64, f64, f64) {
    let w = (threshold - mu) / sd;
    let lp = log_ndtr(w);
    // d ln Phi / dw = phi(w) / Phi(w).
    let r = (-0.5 * w * w - HALF_LN_2PI - lp).exp();
    (lp, -r / sd, -r * w / sd)
}

/// Minimises `f` (value and gradient) in the box `[lo, hi]` by projected L-BFGS with a
/// backtracking line search. Returns the best point and value.
fn minimize(
    f: &mut dyn FnMut(&[f64], &mut [f64]) -> f64,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    max_iter: usize,
    gtol: f64,
) -> (Vec<f64>, f64) {
    const MEMORY: usize = 8;
    let n = x0.len();
    let project = |x: &mut [f64]| {
        for i in 0..n {
            x[i] = x[i].clamp(lo[i], hi[i]);
        }
    };
    let mut x = x0.to_vec();
    project(&mut x);
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    if !fx.is_finite() {
        return (x, fx);
    }
    let mut hist: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let mut g_new = vec![0.0; n];
    for _ in 0..max_iter {
        // Variables held at a bound by the gradient are fixed for this step.
        let free: Vec<bool> = (0..n)
            .map(|i| !((x[i] <= lo[i] && g[i] > 0.0) || (x[i] >= hi[i] && g[i] < 0.0)))
            .collect();
        let pg: f64 = (0..n)
            .filter(|&i| free[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        if pg < gtol {
            break;
        }
        // Two-loop recursion on the free variables.
        let mut q: Vec<f64> = (0..n).map(|i| if free[i] { g[i] } else { 0.0 }).collect();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            for i in 0..n {
                q[i] -= a * y[i];
            }
            alphas.push(a);
        }
        let gamma = match hist.last() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / pg.max(1.0),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            for i in 0..n {
                q[i] += (a - b) * s[i];
            }
        }
        let mut dir: Vec<f64> = (0..n).map(|i| if free[i] { -q[i] } else { 0.0 }).collect();
        if dot(&dir, &g) >= 0.0 {
            dir = (0..n).map(|i| if free[i] { -g[i] } else { 0.0 }).collect();
            hist.clear();
        }
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let mut xn: Vec<f64> = (0..n).map(|i| x[i] + t * dir[i]).collect();
            project(&mut xn);
            let decrease: f64 = (0..n).map(|i| g[i] * (xn[i] - x[i])).sum();
            let fn_ = f(&xn, &mut g_new);
            if fn_.is_finite() && fn_ <= fx + 1e-4 * decrease.min(0.0) {
                accepted = Some((xn, fn_));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fn_)) = accepted else {
            break;
        };
        let s: Vec<f64> = (0..n).map(|i| xn[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
        let sy = dot(&s, &y);
        let improvement = fx - fn_;
        x = xn;
        fx = fn_;
        g.copy_from_slice(&g_new);
        if sy > 1e-12 {
            if hist.len() == MEMORY {
                hist.remove(0);
            }
            hist.push((s, y, 1.0 / sy));
        }
        if improvement <= 1e-10 * fx.abs().max(1.0) {
            break;
        }
    }
    (x, fx)
}

/// A model's warm-start state.
#[derive(Debug, Clone, Default)]
struct Warm {
    theta: Option<Theta>,
    /// Observations at the last full fit.
    fitted_at: usize,
}

/// Fits (or reuses) the hyper-parameters of a GP on `data` and builds it.
fn fit(data: &Data, warm: &mut Warm) -> Option<Gp> {
    let dims = data.d + 2;
    let start = match &warm.theta {
        Some(t) if t.len() == dims => t.clone(),
        _ => default_theta(data.d),
    };
    let n = data.n;
    // Above 100 observations: refit on 5 % growth only, with fewer iterations.
    let refit =
        n <= 100 || warm.theta.is_none() || n * 20 >= warm.fitted_at * 21 || n < warm.fitted_at;
    let theta = if refit {
        let max_iter = if n <= 100 {
            60
        } else {
            (60.0 * (100.0 / n as f64).powi(3)).clamp(4.0, 60.0) as usize
        };
        let lo = vec![-LOG_BOUND; dims];
        let hi = vec![LOG_BOUND; dims];
        let mut f = |t: &[f64], g: &mut [f64]| data.neg_log_posterior(t, g);
        let (t, v) = minimize(&mut f, &start, &lo, &hi, max_iter, 1e-2);
        if v.is_finite() {
            warm.fitted_at = n;
            t
        } else {
            start
        }
    } else {
        start
    };
    let gp = Gp::build(data, &theta).or_else(|| Gp::build(data, &default_theta(data.d)))?;
    warm.theta = Some(theta);
    Some(gp)
}

/// The acquisition: log EI (when a feasible best exists) plus the constraints' log
/// probabilities of feasibility.
struct Acquisition<'a> {
    objective: &'a Gp,
    best: Option<f64>,
    constraints: &'a [(Gp, f64)],
}

impl Acquisition<'_> {
    /// The value at `x` and, with `grad`, its gradient.
    fn eval(&self, x: &[f64], work: &mut Work, grad: Option<&mut [f64]>) -> f64 {
        let d = x.len();
        let mut total = 0.0;
        match grad {
            None => {
                if let Some(best) = self.best {
                    let (mu, var) = self.objective.predict(x, work, None);
                    total += log_ei(mu, var.sqrt(), best).0;
                }
                for (gp, threshold) in self.constraints {
                    let (mu, var) = gp.predict(x, work, None);
                    total += log_pof(mu, var.sqrt(), *threshold).0;
                }
            }
            Some(out) => {
                out.iter_mut().for_each(|g| *g = 0.0);
                let mut gm = vec![0.0; d];
                let mut gv = vec![0.0; d];
                let mut add =
                    |gp: &Gp, f: &dyn Fn(f64, f64) -> (f64, f64, f64), out: &mut [f64]| {
                        let (mu, var) = gp.predict(x, work, Some((&mut gm, &mut gv)));
                        let sd = var.sqrt();
                        let (v, d_mu, d_sd) = f(mu, sd);
                        for k in 0..d {
                            out[k] += d_mu * gm[k] + d_sd * gv[k] / (2.0 * sd);
                        }
                        v
                    };
                if let Some(best) = self.best {
                    total += add(self.objective, &|mu, sd| log_ei(mu, sd, best), out);
                }
                for (gp, threshold) in self.constraints {
                    let t = *threshold;
                    total += add(gp, &|mu, sd| log_pof(mu, sd, t), out);
                }
            }
        }
        if total.is_nan() {
            f64::NEG_INFINITY
        } else {
            total
        }
    }
}

/// The GP sampler (see the module documentation).
#[derive(Debug, Clone)]
pub struct GpSampler {
    config: GpConfig,
    /// Warm starts: the objective's model, then one per constraint.
    warm: Vec<Warm>,
}

impl GpSampler {
    /// A sampler with these (validated) settings.
    pub fn new(config: GpConfig) -> GpSampler {
        GpSampler {
            config,
            warm: Vec::new(),
        }
    }

    /// The model's proposal, or `None` when there is too little data or no model.
    fn propose(
        &mut self,
        space: &Space,
        trials: &[Trial],
        direction: Direction,
        rng: &mut Rng,
    ) -> Option<Vec<Option<f64>>> {
        let dims = model_dims(space);
        if dims.is_empty() {
            return None;
        }
        let d = dims.len();
        let cat: Vec<bool> = dims.iter().map(Dim::is_categorical).collect();
        let encode = |t: &Trial| -> Option<Vec<f64>> {
            dims.iter()
                .map(|dim| {
                    t.internal
                        .get(dim.param)
                        .copied()
                        .flatten()
                        .map(|x| dim.encode(x))
                })
                .collect()
        };
        let sign = match direction {
            Direction::Minimize => -1.0,
            Direction::Maximize => 1.0,
        };
        let mut complete: Vec<(Vec<f64>, f64, &Trial)> = Vec::new();
        let mut running: Vec<Vec<f64>> = Vec::new();
        for t in trials {
            match (t.state, t.value) {
                (TrialState::Complete, Some(v)) if v.is_finite() => {
                    if let Some(x) = encode(t) {
                        complete.push((x, sign * v, t));
                    }
                }
                (TrialState::Running, _) => {
                    if let Some(x) = encode(t) {
                        running.push(x);
                    }
                }
                _ => {}
            }
        }
        if complete.len() < self.config.n_startup_trials {
            return None;
        }
        let n_cons = complete
            .iter()
            .map(|c| c.2.constraints.len())
            .max()
            .unwrap_or(0);
        if self.warm.len() != 1 + n_cons {
            self.warm = vec![Warm::default(); 1 + n_cons];
        }
        let (mean, sd) = standardise(complete.iter().map(|c| c.1));
        let mut y: Vec<f64> = complete.iter().map(|c| (c.1 - mean) / sd).collect();
        let feasible_best = complete
            .iter()
            .zip(&y)
            .filter(|(c, _)| c.2.constraints.len() == n_cons && c.2.is_feasible())
            .map(|(_, &v)| v)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        let liar = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut x: Vec<f64> = complete.iter().flat_map(|c| c.0.iter().copied()).collect();
        for r in &running {
            x.extend_from_slice(r);
            y.push(liar);
        }
        let data = Data {
            x: &x,
            y: &y,
            n: y.len(),
            d,
            cat: &cat,
            deterministic: self.config.deterministic_objective,
        };
        let objective = fit(&data, &mut self.warm[0])?;
        let mut constraints = Vec::with_capacity(n_cons);
        for c in 0..n_cons {
            let rows: Vec<&(Vec<f64>, f64, &Trial)> = complete
                .iter()
                .filter(|r| r.2.constraints.len() == n_cons)
                .collect();
            let (cm, cs) = standardise(rows.iter().map(|r| r.2.constraints[c]));
            let cy: Vec<f64> = rows
                .iter()
                .map(|r| (r.2.constraints[c] - cm) / cs)
                .collect();
            let cx: Vec<f64> = rows.iter().flat_map(|r| r.0.iter().copied()).collect();
            let cdata = Data {
                x: &cx,
                y: &cy,
                n: cy.len(),
                d,
                cat: &cat,
                deterministic: self.config.deterministic_objective,
            };
            let gp = fit(&cdata, &mut self.warm[1 + c])?;
            constraints.push((gp, -cm / cs));
        }
        let acq = Acquisition {
            objective: &objective,
            best: feasible_best,
            constraints: &constraints,
        };
        let seeds: Vec<&[f64]> = {
            // The best complete trials (feasible first) start a local search each.
            let mut order: Vec<usize> = (0..complete.len()).collect();
            order.sort_by(|&a, &b| {
                let fa = complete[a].2.is_feasible();
                let fb = complete[b].2.is_feasible();
                fb.cmp(&fa).then(complete[b].1.total_cmp(&complete[a].1))
            });
            order
                .iter()
                .take(3)
                .map(|&i| complete[i].0.as_slice())
                .collect()
        };
        let u = optimise(&acq, &dims, &seeds, &self.config, y.len(), rng);
        let mut internal = vec![None; space.params().len()];
        for (dim, &ui) in dims.iter().zip(&u) {
            internal[dim.param] = Some(dim.decode(ui));
        }
        // Unmodelled parameters (conditional, or with a single value): uniform when active.
        for i in 0..internal.len() {
            if internal[i].is_none() && space.is_active(i, &internal) {
                internal[i] = Some(space.sample_uniform(i, rng));
            }
        }
        Some(internal)
    }
}

/// Mean and standard deviation (at least 1e-10 relative, so constant data standardise).
fn standardise(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count().max(1) as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let sd = var.sqrt();
    (
        mean,
        if sd > 1e-10 * mean.abs().max(1.0) {
            sd
        } else {
            1.0
        },
    )
}

/// Maximises the acquisition: scrambled-Sobol candidates, then local searches from the best.
fn optimise(
    acq: &Acquisition,
    dims: &[Dim],
    seeds: &[&[f64]],
    config: &GpConfig,
    n_obs: usize,
    rng: &mut Rng,
) -> Vec<f64> {
    let d = dims.len();
    let mut work = Work::default();
    // Above 150 observations, scan fewer candidates (a prediction costs O(n^2)).
    let scale = (150.0 / n_obs.max(1) as f64).powi(2).min(1.0);
    let n_cand = ((config.n_candidates as f64 * scale) as usize).max(256.min(config.n_candidates));
    let sobol = SobolSampler::new(SobolConfig {
        seed: Some((rng.next_u64() >> 32) as u32),
    });
    let offset = rng.below(1 << 16);
    let mut scored: Vec<(f64, Vec<f64>)> = Vec::with_capacity(n_cand + seeds.len());
    for k in 0..n_cand {
        let u: Vec<f64> = dims
            .iter()
            .enumerate()
            .map(|(j, dim)| dim.at_fraction(sobol.coordinate(offset + k as u64, j as u64)))
            .collect();
        scored.push((acq.eval(&u, &mut work, None), u));
    }
    for s in seeds {
        scored.push((acq.eval(s, &mut work, None), s.to_vec()));
    }
    // Starts: the best seed trial, then the best candidates.
    let mut starts: Vec<(f64, Vec<f64>)> = Vec::new();
    if let Some(s) = seeds.first() {
        starts.push((acq.eval(s, &mut work, None), s.to_vec()));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    for c in scored.iter() {
        if starts.len() >= config.n_local_search {
            break;
        }
        if !starts.iter().any(|s| s.1 == c.1) {
            starts.push(c.clone());
        }
    }
    let mut best = scored
        .first()
        .cloned()
        .unwrap_or_else(|| (f64::NEG_INFINITY, vec![0.5; d]));
    for (v, u) in starts {
        let (v, u) = local_search(acq, dims, u, v, &mut work);
        if v > best.0 {
            best = (v, u);
        }
    }
    let mut u = best.1;
    for (dim, ui) in dims.iter().zip(u.iter_mut()) {
        *ui = if dim.is_categorical() {
            *ui
        } else {
            dim.snap(*ui)
        };
    }
    u
}

/// Alternates projected L-BFGS on the smooth dimensions with exhaustive sweeps of the
/// discrete ones, from `u` (value `v`), until neither improves.
fn local_search(
    acq: &Acquisition,
    dims: &[Dim],
    mut u: Vec<f64>,
    mut v: f64,
    work: &mut Work,
) -> (f64, Vec<f64>) {
    let smooth: Vec<usize> = (0..dims.len()).filter(|&j| dims[j].is_smooth()).collect();
    let sweeps: Vec<(usize, Vec<f64>)> = (0..dims.len())
        .filter_map(|j| dims[j].sweep_values().map(|vals| (j, vals)))
        .collect();
    let mut full_grad = vec![0.0; dims.len()];
    for _round in 0..3 {
        let before = v;
        if !smooth.is_empty() {
            let x0: Vec<f64> = smooth.iter().map(|&j| u[j]).collect();
            let lo = vec![0.0; smooth.len()];
            let hi = vec![1.0; smooth.len()];
            let base = u.clone();
            let mut f = |x: &[f64], g: &mut [f64]| {
                let mut point = base.clone();
                for (k, &j) in smooth.iter().enumerate() {
                    point[j] = x[k];
                }
                let val = acq.eval(&point, work, Some(&mut full_grad));
                for (k, &j) in smooth.iter().enumerate() {
                    g[k] = -full_grad[j];
                }
                if val.is_finite() {
                    -val
                } else {
                    f64::INFINITY
                }
            };
            let (x, fx) = minimize(&mut f, &x0, &lo, &hi, 30, 1e-5);
            let mut point = u.clone();
            for (k, &j) in smooth.iter().enumerate() {
                point[j] = dims[j].snap(x[k]);
            }
            let snapped = if smooth.iter().all(|&j| dims[j].kind == Kind::Continuous) {
                -fx
            } else {
                acq.eval(&point, work, None)
            };
            if snapped > v {
                v = snapped;
                u = point;
            }
        }
        for (j, vals) in &sweeps {
            let keep = u[*j];
            let mut best = (v, keep);
            for &val in vals {
                if val == keep {
                    continue;
                }
                u[*j] = val;
                let a = acq.eval(&u, work, None);
                if a > best.0 {
                    best = (a, val);
                }
            }
            u[*j] = best.1;
            v = best.0;
        }
        if v <= before + 1e-12 * before.abs().max(1.0) {
            break;
        }
    }
    (v, u)
}

impl Sampler for GpSampler {
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        directions: &[Direction],
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        match self.propose(space, trials, directions[0], rng) {
            Some(internal) => internal,
            None => RandomSampler.sample(space, trials, directions, rng),
        }
    }
}

#[cfg(test)]
mod tests;
