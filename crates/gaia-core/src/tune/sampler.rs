//! Samplers: what a study proposes next.
//!
//! A [`Sampler`] sees the space, every trial so far (running ones included, so it can
//! treat pending work as it sees fit) and the direction, and returns one internal value per
//! parameter (`None` for parameters inactive under their condition). TPE, CMA-ES and GP
//! samplers implement the same trait.

use serde::{Deserialize, Serialize};

use super::study::{Direction, Trial};
use super::{Error, Space};
use crate::stats::Rng;

/// Proposes the parameters of the next trial.
pub trait Sampler: std::fmt::Debug + Send + Sync {
    /// Internal values for every parameter of `space`, `None` where inactive.
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        direction: Direction,
        rng: &mut Rng,
    ) -> Vec<Option<f64>>;
}

/// The sampler named in a study's configuration: `{"type": "random"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SamplerConfig {
    /// Independent uniform draws (log-uniform for `log` parameters).
    #[default]
    Random,
}

impl SamplerConfig {
    /// Builds the sampler.
    pub fn build(&self) -> Result<Box<dyn Sampler>, Error> {
        match self {
            SamplerConfig::Random => Ok(Box::new(RandomSampler)),
        }
    }
}

/// Independent uniform sampling of every active parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSampler;

impl Sampler for RandomSampler {
    fn sample(
        &mut self,
        space: &Space,
        _trials: &[Trial],
        _direction: Direction,
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let mut internal = vec![None; space.params().len()];
        for i in 0..internal.len() {
            if space.is_active(i, &internal) {
                internal[i] = Some(space.sample_uniform(i, rng));
            }
        }
        internal
    }
}
