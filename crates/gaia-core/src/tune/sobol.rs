//! Quasi-Monte Carlo sampling with an Owen-scrambled Sobol' sequence (Burley 2020's hash
//! scrambling with Joe and Kuo's direction numbers, from the `sobol_burley` crate).
//!
//! Trial `n` of the study takes point `n` of the sequence, parameter `i` its coordinate
//! `i`, mapped onto the parameter's internal range (log scale for `log` parameters, equal
//! shares for the values of ints and categoricals). Points of a study spread evenly
//! (low discrepancy) where independent random draws clump. Like Optuna's `QMCSampler` with
//! its default `scramble=True`, the scramble comes from a seed, which the study fixes once
//! (the configuration's `seed`, else drawn from the study's generator) so that every
//! process sharing the study walks the same sequence.
//!
//! The sequence has 256 dimensions and 2^16 points per scramble; beyond either, further
//! parameters or points continue on an independently scrambled sequence (Burley's
//! padding by seed), which keeps the points uniform but not jointly low-discrepancy.

use serde::{Deserialize, Serialize};

use super::sampler::Sampler;
use super::study::{Direction, Trial};
use super::Space;
use crate::stats::Rng;

/// Sobol' settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SobolConfig {
    /// The scramble seed; drawn from the study's generator when left out (and then kept in
    /// the saved study and the journal).
    #[serde(default)]
    pub seed: Option<u32>,
}

/// The Sobol' sampler.
#[derive(Debug, Clone, Copy)]
pub struct SobolSampler {
    seed: u32,
}

const DIMS: u64 = sobol_burley::NUM_DIMENSIONS as u64;
const POINTS: u64 = 1 << 16;

impl SobolSampler {
    /// A sampler with this configuration (seed 0 when the configuration has none).
    pub fn new(config: SobolConfig) -> SobolSampler {
        SobolSampler {
            seed: config.seed.unwrap_or(0),
        }
    }

    /// Coordinate `dim` of point `index`, in [0, 1).
    pub fn coordinate(&self, index: u64, dim: u64) -> f64 {
        let block = (index / POINTS) * 0x9E37_79B9 + (dim / DIMS) * 0x85EB_CA6B;
        let seed = self.seed.wrapping_add(block as u32);
        f64::from(sobol_burley::sample(
            (index % POINTS) as u32,
            (dim % DIMS) as u32,
            seed,
        ))
    }
}

impl Sampler for SobolSampler {
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        _directions: &[Direction],
        _rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let index = trials.len() as u64;
        let mut internal = vec![None; space.params().len()];
        for i in 0..internal.len() {
            if space.is_active(i, &internal) {
                internal[i] = Some(space.from_unit(i, self.coordinate(index, i as u64)));
            }
        }
        internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Star discrepancy proxy: the worst gap between the fraction of points in [0, t)^2 and
    /// its area, over a grid of t.
    fn box_error(points: &[(f64, f64)]) -> f64 {
        let mut worst: f64 = 0.0;
        for a in 1..=16 {
            for b in 1..=16 {
                let (ta, tb) = (a as f64 / 16.0, b as f64 / 16.0);
                let inside = points.iter().filter(|(x, y)| *x < ta && *y < tb).count();
                worst = worst.max((inside as f64 / points.len() as f64 - ta * tb).abs());
            }
        }
        worst
    }

    #[test]
    fn points_spread_more_evenly_than_random_ones() {
        let s = SobolSampler::new(SobolConfig { seed: Some(3) });
        let sobol: Vec<(f64, f64)> = (0..256)
            .map(|i| (s.coordinate(i, 0), s.coordinate(i, 1)))
            .collect();
        let mut rng = Rng::seed_from_u64(3);
        let random: Vec<(f64, f64)> = (0..256).map(|_| (rng.next_f64(), rng.next_f64())).collect();
        let (q, r) = (box_error(&sobol), box_error(&random));
        assert!(q < 0.02, "sobol box error {q}");
        assert!(q < r / 2.0, "sobol {q} vs random {r}");
        // Every coordinate is in [0, 1), also past the sequence's limits.
        for (i, d) in [(0, 0), (70_000, 3), (5, 300), (1 << 20, 1000)] {
            let x = s.coordinate(i, d);
            assert!((0.0..1.0).contains(&x), "{x}");
        }
    }

    #[test]
    fn seeds_give_different_scrambles() {
        let a = SobolSampler::new(SobolConfig { seed: Some(1) });
        let b = SobolSampler::new(SobolConfig { seed: Some(2) });
        assert_ne!(a.coordinate(1, 0), b.coordinate(1, 0));
        assert_eq!(a.coordinate(9, 4), a.coordinate(9, 4));
    }
}
