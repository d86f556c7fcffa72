//! One arm's Bayesian linear model for contextual linear Thompson sampling (`"lints"`).
//!
//! The model of Agrawal & Goyal (2013): the reward of the arm for context `x` is
//! `x^T theta + noise`, with the ridge posterior
//! `theta ~ N(mu, v^2 B^-1)`, `B = lambda I + sum x x^T`, `f = sum r x`, `mu = B^-1 f`.
//!
//! `B` is kept as its Cholesky factor `L` (`B = L L^T`), updated by a rank-one update per
//! reward (Golub & Van Loan, "Matrix Computations", section 6.5.4) instead of keeping
//! `B^-1` by Sherman-Morrison:
//!
//! * the same costs: O(d^2) per update, O(d^2) per arm to score a context
//!   (`x^T B^-1 x = |L^-1 x|^2`, one forward substitution);
//! * no drift: the rank-one Cholesky update is backward stable and keeps `B` positive definite
//!   by construction (every diagonal entry of `L` only grows, from `sqrt(lambda)`), where a
//!   Sherman-Morrison inverse loses symmetry and definiteness over long runs and needs
//!   periodic re-inversion;
//! * exact persistence with half the numbers: the saved state is `L` (packed, `d(d+1)/2`
//!   values) and `f`; `mu` is a deterministic function of them, so a loaded bandit continues
//!   with bit-identical draws.
//!
//! `L` is stored packed by columns (column `k` holds rows `k..d`), so the update, the forward
//! and the backward substitution all walk contiguous memory.

use serde::{Deserialize, Serialize};

/// Offset of column `k` (its diagonal entry) in a packed lower triangle of order `d`.
fn col(d: usize, k: usize) -> usize {
    k * d - k * k.saturating_sub(1) / 2
}

/// One arm's posterior: the Cholesky factor of `B`, `f`, and what follows from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Saved", into = "Saved")]
pub(super) struct Linear {
    /// `L`, lower triangular, packed by columns.
    l: Vec<f64>,
    /// `f = sum r x`.
    f: Vec<f64>,
    /// `1 / L_kk` (derived).
    inv_diag: Vec<f64>,
    /// `mu = B^-1 f` (derived).
    mu: Vec<f64>,
}

/// The persisted form: `{"l": [...], "f": [...]}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    l: Vec<f64>,
    f: Vec<f64>,
}

impl From<Linear> for Saved {
    fn from(m: Linear) -> Saved {
        Saved { l: m.l, f: m.f }
    }
}

impl TryFrom<Saved> for Linear {
    type Error = String;

    fn try_from(s: Saved) -> Result<Linear, String> {
        let d = s.f.len();
        if d == 0 || s.l.len() != d * (d + 1) / 2 {
            return Err(format!(
                "lin: l has {} values, f {}: expected d(d+1)/2 and d with d >= 1",
                s.l.len(),
                d
            ));
        }
        if !s.l.iter().chain(&s.f).all(|v| v.is_finite()) {
            return Err("lin: values must be finite".into());
        }
        if (0..d).any(|k| s.l[col(d, k)] <= 0.0) {
            return Err("lin: the diagonal of l must be > 0".into());
        }
        let mut m = Linear {
            inv_diag: vec![0.0; d],
            mu: vec![0.0; d],
            l: s.l,
            f: s.f,
        };
        m.refresh();
        Ok(m)
    }
}

impl Linear {
    /// The prior: `B = lambda I`, `f = 0`.
    pub(super) fn new(d: usize, lambda: f64) -> Linear {
        let mut l = vec![0.0; d * (d + 1) / 2];
        let root = lambda.sqrt();
        for k in 0..d {
            l[col(d, k)] = root;
        }
        let mut m = Linear {
            l,
            f: vec![0.0; d],
            inv_diag: vec![0.0; d],
            mu: vec![0.0; d],
        };
        m.refresh();
        m
    }

    /// The number of features.
    pub(super) fn dim(&self) -> usize {
        self.f.len()
    }

    /// The smallest diagonal entry of `L` (at least `sqrt(lambda)` for a consistent model).
    pub(super) fn min_diag(&self) -> f64 {
        let d = self.dim();
        (0..d)
            .map(|k| self.l[col(d, k)])
            .fold(f64::INFINITY, f64::min)
    }

    /// The posterior mean `mu` of `theta`.
    pub(super) fn mean(&self) -> &[f64] {
        &self.mu
    }

    /// Recomputes the derived `1 / L_kk` and `mu = L^-T L^-1 f`.
    fn refresh(&mut self) {
        let d = self.dim();
        for k in 0..d {
            self.inv_diag[k] = 1.0 / self.l[col(d, k)];
        }
        // Forward: L y = f (y in mu).
        self.mu.copy_from_slice(&self.f);
        self.forward_in_place_mu();
        // Backward: L^T mu = y.
        for k in (0..d).rev() {
            let c = col(d, k);
            let below = &self.l[c + 1..c + (d - k)];
            let tail = &self.mu[k + 1..];
            let s: f64 = below.iter().zip(tail).map(|(a, b)| a * b).sum();
            self.mu[k] = (self.mu[k] - s) * self.inv_diag[k];
        }
    }

    fn forward_in_place_mu(&mut self) {
        let d = self.dim();
        for k in 0..d {
            let zk = self.mu[k] * self.inv_diag[k];
            self.mu[k] = zk;
            let c = col(d, k);
            for (z, lik) in self.mu[k + 1..].iter_mut().zip(&self.l[c + 1..c + (d - k)]) {
                *z -= lik * zk;
            }
        }
    }

    /// The posterior of the expected reward at context `x`: `(x^T mu, x^T B^-1 x)`. `work`
    /// is scratch space of at least `d` values.
    pub(super) fn predict(&self, x: &[f64], work: &mut [f64]) -> (f64, f64) {
        let d = self.dim();
        let mean: f64 = x.iter().zip(&self.mu).map(|(a, b)| a * b).sum();
        let z = &mut work[..d];
        z.copy_from_slice(x);
        let mut var = 0.0;
        for k in 0..d {
            let zk = z[k] * self.inv_diag[k];
            var += zk * zk;
            if zk != 0.0 {
                let c = col(d, k);
                for (zi, lik) in z[k + 1..].iter_mut().zip(&self.l[c + 1..c + (d - k)]) {
                    *zi -= lik * zk;
                }
            }
        }
        (mean, var)
    }

    /// Adds one observation: `B += x x^T` (a rank-one update of `L`), `f += r x`. `work` is
    /// scratch space of at least `d` values.
    pub(super) fn update(&mut self, x: &[f64], r: f64, work: &mut [f64]) {
        let d = self.dim();
        let w = &mut work[..d];
        w.copy_from_slice(x);
        for k in 0..d {
            let wk = w[k];
            if wk == 0.0 {
                // c = 1, s = 0: column k and the rest of w stay as they are.
                continue;
            }
            let c0 = col(d, k);
            let lkk = self.l[c0];
            let r_kk = lkk.hypot(wk);
            let c = r_kk / lkk;
            let s = wk / lkk;
            self.l[c0] = r_kk;
            for (lik, wi) in self.l[c0 + 1..c0 + (d - k)].iter_mut().zip(&mut w[k + 1..]) {
                let new = (*lik + s * *wi) / c;
                *wi = c * *wi - s * new;
                *lik = new;
            }
        }
        for (fi, xi) in self.f.iter_mut().zip(x) {
            *fi += r * xi;
        }
        self.refresh();
    }

    /// `B = L L^T` as a dense row-major matrix (tests compare it with a direct sum).
    #[cfg(test)]
    pub(super) fn gram(&self) -> Vec<f64> {
        let d = self.dim();
        let mut b = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                let mut s = 0.0;
                for k in 0..=i.min(j) {
                    s += self.l[col(d, k) + (i - k)] * self.l[col(d, k) + (j - k)];
                }
                b[i * d + j] = s;
            }
        }
        b
    }
}
