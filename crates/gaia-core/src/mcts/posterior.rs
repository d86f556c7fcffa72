//! Posteriors over a node's (or an action's) score, kept as sufficient statistics so an
//! observation is O(1): the count, the mean and the sum of squared deviations (Welford).
//!
//! * Gaussian: a Normal-Inverse-chi-squared prior (m0, kappa0, nu0, tau0^2) on the mean and
//!   variance of the scores; a draw is of the posterior *mean* (sigma^2 from its scaled
//!   inverse-chi-squared posterior, then mu ~ N(m, sigma^2 / kappa)), as in treequest's
//!   AB-MCTS-A (Murphy, "Probabilistic Machine Learning: Advanced Topics", 3.4.3.3).
//! * Beta: Beta(a0, b0) updated with fractional successes (a += score, b += 1 - score).

use serde::{Deserialize, Serialize};

use crate::stats::{Beta, Gamma, Rng};

/// The prior of every posterior in a search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Prior {
    /// Normal-Inverse-chi-squared; treequest's default is m = 0, kappa = 1, nu = 1,
    /// tau_square = 0.1.
    Gaussian {
        /// Prior mean.
        #[serde(default)]
        m: f64,
        /// Pseudo-count of the mean.
        #[serde(default = "one")]
        kappa: f64,
        /// Pseudo-count of the variance.
        #[serde(default = "one")]
        nu: f64,
        /// Prior variance scale.
        #[serde(default = "tenth")]
        tau_square: f64,
    },
    /// Beta(a, b); treequest's default is Jeffreys' Beta(0.5, 0.5).
    Beta {
        /// Prior successes.
        #[serde(default = "half")]
        a: f64,
        /// Prior failures.
        #[serde(default = "half")]
        b: f64,
    },
}

fn one() -> f64 {
    1.0
}
fn tenth() -> f64 {
    0.1
}
fn half() -> f64 {
    0.5
}

impl Prior {
    /// treequest's default Gaussian prior.
    pub const GAUSSIAN: Prior = Prior::Gaussian {
        m: 0.0,
        kappa: 1.0,
        nu: 1.0,
        tau_square: 0.1,
    };
    /// treequest's default Beta prior (Jeffreys).
    pub const BETA: Prior = Prior::Beta { a: 0.5, b: 0.5 };

    /// Checks the parameters; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("prior.{name} must be finite and > 0, got {v}"))
            }
        };
        match *self {
            Prior::Gaussian {
                m,
                kappa,
                nu,
                tau_square,
            } => {
                if !m.is_finite() {
                    return Err(format!("prior.m must be finite, got {m}"));
                }
                pos("kappa", kappa)?;
                pos("nu", nu)?;
                pos("tau_square", tau_square)
            }
            Prior::Beta { a, b } => {
                pos("a", a)?;
                pos("b", b)
            }
        }
    }

    /// This prior with its mean moved to `average` (treequest's `reward_average_priors`:
    /// m for the Gaussian, a = average and b = 1 - average for the Beta).
    pub fn with_average(self, average: f64) -> Prior {
        match self {
            Prior::Gaussian {
                kappa,
                nu,
                tau_square,
                ..
            } => Prior::Gaussian {
                m: average,
                kappa,
                nu,
                tau_square,
            },
            Prior::Beta { .. } => Prior::Beta {
                a: average,
                b: 1.0 - average,
            },
        }
    }
}

/// Sufficient statistics of the scores seen: 24 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// How many scores.
    pub n: f64,
    /// Their mean.
    pub mean: f64,
    /// The sum of squared deviations from the mean.
    pub m2: f64,
}

impl Stats {
    /// Adds one score.
    pub fn observe(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }

    /// A draw of the next score itself (posterior predictive) rather than of the mean:
    /// the mean's draw plus the observation noise (Gaussian: N(0, sigma^2) with the drawn
    /// sigma^2; Beta: normal noise of the scores' sample variance around the drawn mean).
    pub fn draw_predictive(&self, prior: &Prior, rng: &mut Rng) -> f64 {
        match *prior {
            Prior::Gaussian { .. } => {
                let (mu, sigma2) = self.draw_mean_and_variance(prior, rng);
                mu + sigma2.sqrt() * crate::stats::standard_normal(rng)
            }
            Prior::Beta { .. } => {
                // The drawn mean plus the scores' own spread (their sample variance; the
                // Bernoulli variance p (1 - p) before two scores), kept in [0, 1].
                let p = self.draw(prior, rng);
                let var = if self.n >= 2.0 {
                    self.m2 / self.n
                } else {
                    p * (1.0 - p)
                };
                (p + var.sqrt() * crate::stats::standard_normal(rng)).clamp(0.0, 1.0)
            }
        }
    }

    /// Gaussian prior: a joint draw of (mu, sigma^2) from the posterior.
    fn draw_mean_and_variance(&self, prior: &Prior, rng: &mut Rng) -> (f64, f64) {
        let Prior::Gaussian {
            m,
            kappa,
            nu,
            tau_square,
        } = *prior
        else {
            return (self.draw(prior, rng), 0.0);
        };
        let n = self.n;
        let kappa_n = kappa + n;
        let nu_n = nu + n;
        let m_n = (kappa * m + n * self.mean) / kappa_n;
        let dm = m - self.mean;
        let tau_n = (nu * tau_square + self.m2 + n * kappa * dm * dm / kappa_n) / nu_n;
        let shape = nu_n / 2.0;
        let g = if shape == 1.0 {
            -rng.next_f64_open().ln()
        } else {
            Gamma::new(shape, 1.0).map_or(1.0, |g| g.sample(rng))
        };
        let sigma2 = (nu_n * tau_n / 2.0) / g.max(1e-300);
        let mu = m_n + (sigma2 / kappa_n).sqrt() * crate::stats::standard_normal(rng);
        (mu, sigma2)
    }

    /// These statistics with `k` more scores of 0 (a virtual loss per pending expansion).
    pub fn with_losses(&self, k: u32) -> Stats {
        if k == 0 {
            return *self;
        }
        let k = f64::from(k);
        let n = self.n + k;
        Stats {
            n,
            mean: self.n * self.mean / n,
            m2: self.m2 + self.mean * self.mean * self.n * k / n,
        }
    }

    /// A posterior draw under `prior`.
    pub fn draw(&self, prior: &Prior, rng: &mut Rng) -> f64 {
        match *prior {
            Prior::Gaussian { .. } => self.draw_mean_and_variance(prior, rng).0,
            Prior::Beta { a, b } => {
                let sum = self.n * self.mean;
                Beta::new(a + sum, b + self.n - sum).map_or(0.5, |d| d.sample(rng))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_the_two_pass_formulas() {
        let xs = [0.1, 0.9, 0.35, 0.35, 0.7];
        let mut s = Stats::default();
        xs.iter().for_each(|x| s.observe(*x));
        let mean = xs.iter().sum::<f64>() / 5.0;
        let m2: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
        assert!((s.mean - mean).abs() < 1e-15 && (s.m2 - m2).abs() < 1e-15);
    }

    #[test]
    fn draws_follow_the_posterior() {
        let mut rng = Rng::seed_from_u64(3);
        // Gaussian: 50 scores near 0.8 -> draws of the mean concentrate there.
        let mut s = Stats::default();
        for i in 0..50 {
            s.observe(0.8 + if i % 2 == 0 { 0.05 } else { -0.05 });
        }
        let draws: Vec<f64> = (0..4000)
            .map(|_| s.draw(&Prior::GAUSSIAN, &mut rng))
            .collect();
        let mean = draws.iter().sum::<f64>() / 4000.0;
        // Posterior mean m = (0 * 1 + 50 * 0.8) / 51.
        assert!((mean - 40.0 / 51.0).abs() < 0.01, "{mean}");
        // No data: the prior mean's spread, tau^2 = 0.1 with nu = 1 has heavy tails.
        let empty = Stats::default();
        let d: Vec<f64> = (0..4000)
            .map(|_| empty.draw(&Prior::GAUSSIAN, &mut rng))
            .collect();
        let mut sorted = d.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(sorted[2000].abs() < 0.05, "median {}", sorted[2000]);
        assert!(sorted[3600] > 0.2, "90th percentile {}", sorted[3600]);
        // Beta: 10 scores of 0.9 under Beta(0.5, 0.5) -> mean (0.5 + 9) / 11.
        let mut b = Stats::default();
        (0..10).for_each(|_| b.observe(0.9));
        let m = (0..4000)
            .map(|_| b.draw(&Prior::BETA, &mut rng))
            .sum::<f64>()
            / 4000.0;
        assert!((m - 9.5 / 11.0).abs() < 0.01, "{m}");
    }

    #[test]
    fn losses_merge_like_observed_zeros() {
        let mut a = Stats::default();
        [0.4, 0.9, 0.7].iter().for_each(|x| a.observe(*x));
        let mut b = a;
        b.observe(0.0);
        b.observe(0.0);
        let c = a.with_losses(2);
        assert!((c.n - b.n).abs() < 1e-12 && (c.mean - b.mean).abs() < 1e-12);
        assert!((c.m2 - b.m2).abs() < 1e-12, "{} vs {}", c.m2, b.m2);
        assert_eq!(a.with_losses(0), a);
    }

    #[test]
    fn priors_are_validated_and_moved() {
        assert!(Prior::GAUSSIAN.validate().is_ok());
        let bad = Prior::Beta { a: 0.0, b: 1.0 };
        assert!(bad.validate().unwrap_err().contains("prior.a"));
        assert_eq!(
            Prior::BETA.with_average(0.7),
            Prior::Beta {
                a: 0.7,
                b: 1.0 - 0.7
            }
        );
    }
}
