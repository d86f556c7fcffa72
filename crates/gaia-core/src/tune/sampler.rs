//! Samplers: what a study proposes next.
//!
//! A [`Sampler`] sees the space, every trial so far (running ones included, so it can
//! treat pending work as it sees fit) and the direction, and returns one internal value per
//! parameter (`None` for parameters inactive under their condition). The samplers: random,
//! [`super::tpe`], [`super::cmaes`], [`super::gp`] (Gaussian-process Bayesian optimisation),
//! [`super::nsga2`] (the NSGA-II genetic algorithm, for several objectives), [`super::sobol`]
//! and [`super::grid`].

use serde::{Deserialize, Serialize};

use super::cmaes::{CmaesConfig, CmaesSampler};
use super::gp::{GpConfig, GpSampler};
use super::grid::{GridConfig, GridSampler};
use super::nsga2::{Nsga2Config, Nsga2Sampler};
use super::sobol::{SobolConfig, SobolSampler};
use super::study::{Direction, Trial};
use super::tpe::{TpeConfig, TpeSampler};
use super::{Error, Space};
use crate::stats::Rng;

/// Proposes the parameters of the next trial.
pub trait Sampler: std::fmt::Debug + Send + Sync {
    /// Internal values for every parameter of `space`, `None` where inactive. `directions`
    /// holds one direction per objective (one unless the sampler was built for several).
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        directions: &[Direction],
        rng: &mut Rng,
    ) -> Vec<Option<f64>>;
}

/// The sampler named in a study's configuration: `{"type": "random"}`,
/// `{"type": "tpe", ...}` with any [`TpeConfig`] field, `{"type": "cmaes", ...}` with any
/// [`CmaesConfig`] field, `{"type": "gp", ...}` with any [`GpConfig`] field,
/// `{"type": "nsga2", ...}` with any [`Nsga2Config`] field,
/// `{"type": "sobol", "seed": 7}` (see [`SobolConfig`]) or
/// `{"type": "grid", "grid": {"x": [0, 1], ...}}` (see [`GridConfig`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SamplerConfig {
    /// Independent uniform draws (log-uniform for `log` parameters).
    #[default]
    Random,
    /// Tree-structured Parzen Estimator with Optuna's defaults.
    Tpe(TpeConfig),
    /// CMA-ES with Optuna's defaults, margin for integers, IPOP restarts and warm start.
    Cmaes(CmaesConfig),
    /// Gaussian-process Bayesian optimisation (Matern-5/2, log EI) after Optuna's GPSampler.
    Gp(GpConfig),
    /// Owen-scrambled Sobol' points (quasi-Monte Carlo).
    Sobol(SobolConfig),
    /// Every combination of the listed values, in random order.
    Grid(GridConfig),
    /// NSGA-II with Optuna's defaults (generations derived from trial ids, so processes
    /// sharing a study agree on the parents).
    Nsga2(Nsga2Config),
}

impl SamplerConfig {
    /// Fixes what must not differ between the processes sharing a study (the Sobol
    /// scramble seed, drawn from `rng` when the configuration leaves it out).
    pub fn resolved(self, rng: &mut Rng) -> SamplerConfig {
        match self {
            SamplerConfig::Sobol(SobolConfig { seed: None }) => SamplerConfig::Sobol(SobolConfig {
                seed: Some((rng.next_u64() >> 32) as u32),
            }),
            other => other,
        }
    }

    /// Builds the sampler for `space` and `n_objectives` objectives, checking the settings
    /// against them (CMA-ES and the GP sampler optimise one objective).
    pub fn build(&self, space: &Space, n_objectives: usize) -> Result<Box<dyn Sampler>, Error> {
        if n_objectives > 1 {
            if let SamplerConfig::Tpe(TpeConfig {
                window: Some(_), ..
            }) = self
            {
                return Err(Error::Config {
                    what: "study config",
                    field: "sampler.window".into(),
                    reason:
                        "the bounded-cost window models one objective; leave it out for several"
                            .into(),
                });
            }
            if let SamplerConfig::Cmaes(_) | SamplerConfig::Gp(_) = self {
                return Err(Error::Config {
                    what: "study config",
                    field: "sampler".into(),
                    reason: format!(
                        "the {} sampler optimises one objective; with several use \"tpe\", \"nsga2\", \"random\", \"sobol\" or \"grid\"",
                        if matches!(self, SamplerConfig::Cmaes(_)) { "cmaes" } else { "gp" }
                    ),
                });
            }
        }
        match self {
            SamplerConfig::Random => Ok(Box::new(RandomSampler)),
            SamplerConfig::Sobol(cfg) => Ok(Box::new(SobolSampler::new(*cfg))),
            SamplerConfig::Grid(cfg) => Ok(Box::new(GridSampler::new(cfg, space)?)),
            SamplerConfig::Tpe(cfg) => {
                cfg.validate().map_err(|reason| Error::Config {
                    what: "study config",
                    field: "sampler".into(),
                    reason,
                })?;
                Ok(Box::new(TpeSampler::new(*cfg)))
            }
            SamplerConfig::Cmaes(cfg) => {
                cfg.validate()?;
                Ok(Box::new(CmaesSampler::new(*cfg, space)))
            }
            SamplerConfig::Gp(cfg) => {
                cfg.validate()?;
                Ok(Box::new(GpSampler::new(*cfg)))
            }
            SamplerConfig::Nsga2(cfg) => {
                cfg.validate()?;
                Ok(Box::new(Nsga2Sampler::new(*cfg)))
            }
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
        _directions: &[Direction],
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
