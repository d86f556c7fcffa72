//! The hierarchical model of AB-MCTS-M, fitted by deterministic quadrature instead of NUTS.
//!
//! Scores y_ij of group j (a child's subtree, or an action) are N(alpha_j, sigma_y^2); the
//! group means alpha_j are N(mu, sigma_alpha^2); mu ~ N(m0, s_mu^2) (m0 = 0.5 unless a
//! reward-average prior says otherwise, s_mu = 0.2), sigma_alpha ~ HalfNormal(0.2),
//! sigma_y ~ HalfNormal(0.3): treequest's model. Given the two scales, mu and every alpha_j
//! integrate out in closed form (a group enters only through its count, mean and sum of
//! squared deviations), so the posterior of (sigma_alpha, sigma_y) is computed exactly on a
//! 32 x 32 grid (log-spaced, with the log Jacobian), and posterior-predictive draws of a
//! group's next score (or of a new group's) sample a cell, then mu, alpha, y. A fit costs
//! O(32^2 x groups) arithmetic and no iterations: well under a millisecond for the trees
//! AB-MCTS-M builds, where NUTS takes seconds.

use super::posterior::Stats;
use crate::stats::Rng;

const GRID: usize = 32;

/// The model's prior scales (treequest's defaults 0.2, 0.2, 0.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixedPrior {
    /// Prior mean of mu.
    pub mu_mean: f64,
    /// Prior sd of mu.
    pub mu_sd: f64,
    /// HalfNormal scale of sigma_alpha.
    pub sigma_alpha: f64,
    /// HalfNormal scale of sigma_y.
    pub sigma_y: f64,
}

impl Default for MixedPrior {
    fn default() -> Self {
        MixedPrior {
            mu_mean: 0.5,
            mu_sd: 0.2,
            sigma_alpha: 0.2,
            sigma_y: 0.3,
        }
    }
}

/// One grid cell of the fitted posterior.
#[derive(Debug, Clone, Copy)]
struct Cell {
    sa2: f64,
    sy2: f64,
    /// Posterior of mu given the scales: mean and variance.
    mu_mean: f64,
    mu_var: f64,
}

/// A fitted model over some groups.
#[derive(Debug, Clone)]
pub struct Fit {
    groups: Vec<Stats>,
    cells: Vec<Cell>,
    /// Cumulative normalised weights of the cells.
    cdf: Vec<f64>,
}

fn half_normal_log(x: f64, scale: f64) -> f64 {
    -0.5 * (x / scale).powi(2)
}

impl Fit {
    /// Fits the model to `groups` (each group's score statistics).
    pub fn new(groups: &[Stats], prior: &MixedPrior) -> Fit {
        let axis = |scale: f64| -> Vec<f64> {
            // Log-spaced from scale/200 to 4 scale: the HalfNormal's mass and a long tail.
            let (lo, hi) = ((scale / 200.0).ln(), (4.0 * scale).ln());
            (0..GRID)
                .map(|i| (lo + (hi - lo) * (i as f64 + 0.5) / GRID as f64).exp())
                .collect()
        };
        let (sa_axis, sy_axis) = (axis(prior.sigma_alpha), axis(prior.sigma_y));
        let mut cells = Vec::with_capacity(GRID * GRID);
        let mut logw = Vec::with_capacity(GRID * GRID);
        let prior_prec = 1.0 / (prior.mu_sd * prior.mu_sd);
        let sy_terms: Vec<(f64, f64)> = sy_axis
            .iter()
            .map(|&sy| {
                let sy2 = sy * sy;
                // Within-group spread, the same for every sigma_alpha:
                // sigma_y^-(n-1) exp(-SS / (2 sigma_y^2)).
                let within: f64 = groups
                    .iter()
                    .filter(|g| g.n > 0.0)
                    .map(|g| -(g.n - 1.0) * 0.5 * sy2.ln() - g.m2 / (2.0 * sy2))
                    .sum();
                (sy2, half_normal_log(sy, prior.sigma_y) + sy.ln() + within)
            })
            .collect();
        for &sa in &sa_axis {
            for &(sy2, sy_term) in &sy_terms {
                let sa2 = sa * sa;
                // log prior of the scales (HalfNormal) plus the log Jacobian of log spacing.
                let mut lw = half_normal_log(sa, prior.sigma_alpha) + sa.ln() + sy_term;
                // Within-group spread: sigma_y^-(n-1) exp(-SS / (2 sigma_y^2)).
                // Group means: ybar_j ~ N(mu, v_j), v_j = sa2 + sy2 / n_j, then mu integrated.
                let mut prec = prior_prec;
                let mut num = prior.mu_mean * prior_prec;
                let mut quad = prior.mu_mean * prior.mu_mean * prior_prec;
                // One log for the product of the group variances (kept in range by
                // construction: each v is within the grid's scales).
                let mut vprod = 1.0;
                for g in groups {
                    if g.n <= 0.0 {
                        continue;
                    }
                    let v = sa2 + sy2 / g.n;
                    vprod *= v;
                    if !(1e-250..=1e250).contains(&vprod) {
                        lw += -0.5 * vprod.ln();
                        vprod = 1.0;
                    }
                    prec += 1.0 / v;
                    num += g.mean / v;
                    quad += g.mean * g.mean / v;
                }
                lw += -0.5 * vprod.ln();
                let mu_mean = num / prec;
                // log of the Gaussian integral over mu (constants that do not depend on the
                // scales dropped).
                lw += -0.5 * prec.ln() - 0.5 * (quad - num * num / prec);
                cells.push(Cell {
                    sa2,
                    sy2,
                    mu_mean,
                    mu_var: 1.0 / prec,
                });
                logw.push(lw);
            }
        }
        let max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = logw
            .iter()
            .map(|l| {
                acc += (l - max).exp();
                acc
            })
            .collect();
        cdf.iter_mut().for_each(|c| *c /= acc);
        Fit {
            groups: groups.to_vec(),
            cells,
            cdf,
        }
    }

    fn cell(&self, rng: &mut Rng) -> &Cell {
        let u = rng.next_f64();
        let i = self
            .cdf
            .partition_point(|c| *c < u)
            .min(self.cells.len() - 1);
        &self.cells[i]
    }

    /// The conditional posterior of alpha_j given mu and the cell: (mean, variance).
    fn alpha(g: &Stats, c: &Cell, mu: f64) -> (f64, f64) {
        let prec = g.n / c.sy2 + 1.0 / c.sa2;
        ((g.n * g.mean / c.sy2 + mu / c.sa2) / prec, 1.0 / prec)
    }

    /// A posterior-predictive draw of group `j`'s next score, or of a new group's first
    /// score when `j` is `None`.
    pub fn draw(&self, j: Option<usize>, rng: &mut Rng) -> f64 {
        let n = |rng: &mut Rng| crate::stats::standard_normal(rng);
        let c = self.cell(rng);
        let mu = c.mu_mean + c.mu_var.sqrt() * n(rng);
        let alpha = match j.and_then(|j| self.groups.get(j)) {
            Some(g) if g.n > 0.0 => {
                let (m, v) = Self::alpha(g, c, mu);
                m + v.sqrt() * n(rng)
            }
            _ => mu + c.sa2.sqrt() * n(rng),
        };
        alpha + c.sy2.sqrt() * n(rng)
    }

    /// The posterior-predictive mean of group `j`'s next score (`None`: a new group).
    pub fn predictive_mean(&self, j: Option<usize>) -> f64 {
        let mut prev = 0.0;
        let mut total = 0.0;
        for (c, cum) in self.cells.iter().zip(&self.cdf) {
            let w = cum - prev;
            prev = *cum;
            let m = match j.and_then(|j| self.groups.get(j)) {
                Some(g) if g.n > 0.0 => Self::alpha(g, c, c.mu_mean).0,
                _ => c.mu_mean,
            };
            total += w * m;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(xs: &[f64]) -> Stats {
        let mut s = Stats::default();
        xs.iter().for_each(|x| s.observe(*x));
        s
    }

    /// An independent check: sample everything from the prior and weight by the
    /// likelihood of every score (no marginalisation), then the weighted mean of alpha_j.
    fn monte_carlo(groups: &[Vec<f64>], prior: &MixedPrior, samples: usize) -> Vec<f64> {
        let mut rng = Rng::seed_from_u64(99);
        let n = |rng: &mut Rng| crate::stats::standard_normal(rng);
        let mut wsum = 0.0;
        let mut acc = vec![0.0; groups.len() + 1];
        let mut logws = Vec::with_capacity(samples);
        let mut draws = Vec::with_capacity(samples);
        for _ in 0..samples {
            let mu = prior.mu_mean + prior.mu_sd * n(&mut rng);
            let sa = (prior.sigma_alpha * n(&mut rng)).abs();
            let sy = (prior.sigma_y * n(&mut rng)).abs();
            let alphas: Vec<f64> = groups.iter().map(|_| mu + sa * n(&mut rng)).collect();
            let mut lw = 0.0;
            for (g, a) in groups.iter().zip(&alphas) {
                for y in g {
                    lw += -sy.ln() - 0.5 * ((y - a) / sy).powi(2);
                }
            }
            logws.push(lw);
            let mut d = alphas;
            d.push(mu);
            draws.push(d);
        }
        let max = logws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (lw, d) in logws.iter().zip(&draws) {
            let w = (lw - max).exp();
            wsum += w;
            for (a, x) in acc.iter_mut().zip(d) {
                *a += w * x;
            }
        }
        acc.iter().map(|a| a / wsum).collect()
    }

    #[test]
    fn predictive_means_match_an_independent_monte_carlo() {
        let prior = MixedPrior::default();
        for groups in [
            vec![vec![0.2, 0.3], vec![0.8]],
            vec![vec![0.9, 0.85, 0.95], vec![0.1, 0.2], vec![0.5]],
            vec![vec![0.4]],
        ] {
            let st: Vec<Stats> = groups.iter().map(|g| stats(g)).collect();
            let fit = Fit::new(&st, &prior);
            let mc = monte_carlo(&groups, &prior, 400_000);
            for (j, want) in mc.iter().enumerate().take(groups.len()) {
                let q = fit.predictive_mean(Some(j));
                assert!(
                    (q - want).abs() < 0.02,
                    "group {j} of {groups:?}: {q} vs {want}"
                );
            }
            let q = fit.predictive_mean(None);
            let m = mc[groups.len()];
            assert!((q - m).abs() < 0.02, "new group of {groups:?}: {q} vs {m}");
        }
    }

    #[test]
    fn draws_average_to_the_predictive_mean() {
        let st = vec![stats(&[0.9, 0.8]), stats(&[0.2])];
        let fit = Fit::new(&st, &MixedPrior::default());
        let mut rng = Rng::seed_from_u64(5);
        for j in [Some(0), Some(1), None] {
            let mean = (0..20_000).map(|_| fit.draw(j, &mut rng)).sum::<f64>() / 20_000.0;
            assert!(
                (mean - fit.predictive_mean(j)).abs() < 0.01,
                "{j:?}: {mean}"
            );
        }
        // The better group predicts higher than the worse one and than a new group.
        assert!(fit.predictive_mean(Some(0)) > fit.predictive_mean(None));
        assert!(fit.predictive_mean(Some(0)) > fit.predictive_mean(Some(1)));
    }
}
