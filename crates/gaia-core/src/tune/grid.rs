//! Grid search: every combination of listed values, each tried once, in random order.
//!
//! As Optuna's `GridSampler`, the grid lists values for every parameter of the space
//! (`{"type": "grid", "grid": {"x": [0, 0.5, 1], "kind": ["a", "b"]}}`), and each ask
//! draws a combination that no trial of the study (running ones included, and those added
//! or enqueued) has taken yet. A parameter inactive under its condition makes the
//! combinations that differ only in it the same point. Once every point is taken, asks
//! draw points of the grid again at random (with a warning in the log).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::sampler::Sampler;
use super::study::{Direction, Trial};
use super::{Error, Space};
use crate::stats::Rng;

/// The values to combine, by parameter name (external values, as `enqueue` takes them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridConfig {
    /// Parameter name -> its values.
    pub grid: BTreeMap<String, Vec<Value>>,
}

/// The grid sampler: per parameter (in space order) its internal grid values.
#[derive(Debug, Clone)]
pub struct GridSampler {
    values: Vec<Vec<f64>>,
    total: u64,
    warned: bool,
}

impl GridSampler {
    /// Checks the grid against the space: every parameter listed, each value in its range,
    /// no empty list, no unknown name.
    pub fn new(config: &GridConfig, space: &Space) -> Result<GridSampler, Error> {
        let bad = |param: &str, reason: String| Error::Space {
            param: param.to_owned(),
            reason: format!("grid sampler: {reason}"),
        };
        if let Some(extra) = config.grid.keys().find(|k| space.index(k).is_none()) {
            return Err(bad(extra, "not in the space".into()));
        }
        let mut values = Vec::new();
        let mut total: u64 = 1;
        for (i, p) in space.params().iter().enumerate() {
            let list = config
                .grid
                .get(&p.name)
                .ok_or_else(|| bad(&p.name, "has no grid values".into()))?;
            if list.is_empty() {
                return Err(bad(&p.name, "the list of grid values is empty".into()));
            }
            let mut internal = Vec::with_capacity(list.len());
            for v in list {
                let x = space.to_internal(i, v)?;
                if internal.contains(&x) {
                    return Err(bad(&p.name, format!("value {v} is listed twice")));
                }
                internal.push(x);
            }
            total = total
                .checked_mul(internal.len() as u64)
                .filter(|t| *t <= 1 << 53)
                .ok_or_else(|| bad(&p.name, "the grid has more than 2^53 points".into()))?;
            values.push(internal);
        }
        Ok(GridSampler {
            values,
            total,
            warned: false,
        })
    }

    /// The number of combinations (counting those that differ only in inactive parameters).
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Always false: a grid has at least one point.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Combination `index` as grid positions, with inactive parameters at position 0.
    fn canonical(&self, space: &Space, mut index: u64) -> (Vec<usize>, Vec<Option<f64>>) {
        let mut pos = vec![0usize; self.values.len()];
        let mut internal = vec![None; self.values.len()];
        for (i, vals) in self.values.iter().enumerate() {
            let k = (index % vals.len() as u64) as usize;
            index /= vals.len() as u64;
            if space.is_active(i, &internal) {
                pos[i] = k;
                internal[i] = Some(vals[k]);
            }
        }
        (pos, internal)
    }

    /// The grid positions of a trial, if it lies on the grid.
    fn positions(&self, space: &Space, trial: &Trial) -> Option<Vec<usize>> {
        let mut pos = vec![0usize; self.values.len()];
        for (i, vals) in self.values.iter().enumerate() {
            if let Some(x) = trial.internal.get(i).copied().flatten() {
                let tol = 1e-9 * x.abs().max(1.0);
                pos[i] = vals.iter().position(|v| (v - x).abs() <= tol)?;
            } else if space.is_active(i, &trial.internal) {
                return None;
            }
        }
        Some(pos)
    }
}

impl Sampler for GridSampler {
    fn sample(
        &mut self,
        space: &Space,
        trials: &[Trial],
        _directions: &[Direction],
        rng: &mut Rng,
    ) -> Vec<Option<f64>> {
        let taken: HashSet<Vec<usize>> = trials
            .iter()
            .filter_map(|t| self.positions(space, t))
            .collect();
        // Random probes find a free point fast while most are free; a scan finds the last.
        for _ in 0..64 {
            let (pos, internal) = self.canonical(space, rng.below(self.total));
            if !taken.contains(&pos) {
                return internal;
            }
        }
        let start = rng.below(self.total);
        for k in 0..self.total {
            let (pos, internal) = self.canonical(space, (start + k) % self.total);
            if !taken.contains(&pos) {
                return internal;
            }
        }
        if !self.warned {
            log::warn!("grid sampler: all grid points are taken; sampling them again");
            self.warned = true;
        }
        self.canonical(space, rng.below(self.total)).1
    }
}
