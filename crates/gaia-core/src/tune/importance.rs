//! Parameter importance by PED-ANOVA (Watanabe et al., IJCAI 2023, "PED-ANOVA: Efficiently
//! Quantifying Hyperparameter Importance in Arbitrary Subspaces"), the estimator Optuna
//! offers as `PedAnovaImportanceEvaluator`.
//!
//! A parameter matters for reaching good values when the values it takes in the best
//! trials are distributed unlike the values it takes overall. For each parameter, a 1-D
//! Parzen estimator of the top 10% of complete trials (at least two) and one of all
//! complete trials are compared by their Pearson divergence,
//! `D = sum_x p_all(x) (p_top(x) / p_all(x) - 1)^2`, on a grid of 50 points of the
//! internal range (the values themselves for categoricals and small integer ranges).
//! Shares are the divergences over their sum. Cost: O(trials x parameters x 50), no model
//! fitting, so it is cheap enough to call after every trial.

use super::space::Distribution;
use super::study::{Direction, Trial, TrialState};
use super::{Error, Space};

/// Grid points per numeric parameter.
const GRID: usize = 50;

/// Importance shares by parameter name, largest first (ties in space order).
pub fn ped_anova(
    space: &Space,
    trials: &[Trial],
    direction: Direction,
) -> Result<Vec<(String, f64)>, Error> {
    let mut complete: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete && t.value.is_some())
        .collect();
    if complete.len() < 2 {
        return Err(Error::NotEnoughTrials {
            what: "parameter importance",
            needed: 2,
            have: complete.len(),
        });
    }
    complete.sort_by(|a, b| direction.best_first(a.value.unwrap_or(0.0), b.value.unwrap_or(0.0)));
    let n_top = complete.len().div_ceil(10).max(2).min(complete.len());
    let top = &complete[..n_top];
    let mut out: Vec<(String, f64)> = space
        .params()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let values = |ts: &[&Trial]| -> Vec<f64> {
                ts.iter()
                    .filter_map(|t| t.internal.get(i).copied().flatten())
                    .collect()
            };
            let (all, best) = (values(&complete), values(top));
            let d = if all.len() < 2 || best.is_empty() {
                0.0
            } else {
                divergence(space, i, &best, &all)
            };
            (p.name.clone(), d)
        })
        .collect();
    let total: f64 = out.iter().map(|(_, d)| d).sum();
    let n = out.len() as f64;
    for (_, d) in &mut out {
        *d = if total > 0.0 { *d / total } else { 1.0 / n };
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}

/// Pearson divergence of the top values' distribution from all values' distribution.
fn divergence(space: &Space, i: usize, top: &[f64], all: &[f64]) -> f64 {
    let points: Vec<f64> = match &space.params()[i].distribution {
        Distribution::Categorical { choices } => (0..choices.len()).map(|c| c as f64).collect(),
        Distribution::Int {
            low,
            high,
            step,
            log: false,
        } if (high - low) / step < GRID as i64 => (0..=(high - low) / step)
            .map(|k| (low + k * step) as f64)
            .collect(),
        _ => {
            let (lo, hi) = space.internal_bounds(i);
            (0..GRID)
                .map(|k| lo + (hi - lo) * (k as f64 + 0.5) / GRID as f64)
                .collect()
        }
    };
    let discrete = matches!(
        space.params()[i].distribution,
        Distribution::Categorical { .. }
    );
    let (lo, hi) = space.internal_bounds(i);
    let p_top = density(top, &points, discrete, hi - lo);
    let p_all = density(all, &points, discrete, hi - lo);
    p_top
        .iter()
        .zip(&p_all)
        .map(|(t, a)| t * t / a)
        .sum::<f64>()
        - 1.0
}

/// A Parzen estimate on `points`, normalised to sum 1, with a prior of one observation's
/// weight spread uniformly (so no point has zero mass). Categoricals count exact matches;
/// numbers use Gaussian kernels with Scott's bandwidth, at least 1/50 of the range.
fn density(values: &[f64], points: &[f64], discrete: bool, range: f64) -> Vec<f64> {
    let m = values.len() as f64;
    let mut p: Vec<f64> = if discrete {
        points
            .iter()
            .map(|x| values.iter().filter(|v| (*v - x).abs() < 0.5).count() as f64)
            .collect()
    } else {
        let mean = values.iter().sum::<f64>() / m;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        let h = (1.06 * var.sqrt() * m.powf(-0.2)).max(range / GRID as f64);
        let raw: Vec<f64> = points
            .iter()
            .map(|x| {
                values
                    .iter()
                    .map(|v| (-0.5 * ((x - v) / h).powi(2)).exp())
                    .sum::<f64>()
            })
            .collect();
        let s: f64 = raw.iter().sum();
        // Rescale so the kernels carry m observations' worth of mass on the grid.
        raw.iter()
            .map(|r| if s > 0.0 { r / s * m } else { 0.0 })
            .collect()
    };
    let prior = 1.0 / points.len() as f64;
    p.iter_mut().for_each(|x| *x += prior);
    let s: f64 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= s);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::Study;

    #[test]
    fn the_parameter_that_drives_the_value_ranks_first() {
        let mut s = Study::from_json(
            r#"{"space": {"params": [
              {"name": "noise", "type": "float", "low": 0, "high": 1},
              {"name": "x", "type": "float", "low": -5, "high": 5},
              {"name": "kind", "type": "categorical", "choices": ["a", "b", "c"]},
              {"name": "n", "type": "int", "low": 1, "high": 8}
            ]}, "sampler": {"type": "random"}, "seed": 4}"#,
        )
        .unwrap();
        for _ in 0..300 {
            let a = s.ask().unwrap();
            let x = a.params["x"].as_f64().unwrap();
            let kind = if a.params["kind"] == "b" { 0.0 } else { 4.0 };
            let n = a.params["n"].as_f64().unwrap();
            let v = 3.0 * (x - 1.0).powi(2) + kind + 0.05 * n;
            s.tell(a.id, v, TrialState::Complete).unwrap();
        }
        let imp = s.importance().unwrap();
        let names: Vec<&str> = imp.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "x", "{imp:?}");
        assert_eq!(names[1], "kind", "{imp:?}");
        let total: f64 = imp.iter().map(|(_, v)| v).sum();
        assert!((total - 1.0).abs() < 1e-9);
        let share = |name: &str| imp.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(share("noise") < 0.1 && share("n") < 0.1, "{imp:?}");
        // The JSON keeps the ranking order.
        let json: serde_json::Value = serde_json::from_str(&s.importance_json().unwrap()).unwrap();
        assert_eq!(json[0]["param"], "x", "{json}");
        assert_eq!(json[1]["param"], "kind", "{json}");
    }

    #[test]
    fn needs_two_complete_trials() {
        let mut s = Study::from_json(
            r#"{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
                "sampler": {"type": "random"}, "seed": 1}"#,
        )
        .unwrap();
        let e = s.importance().unwrap_err();
        assert!(e.to_string().contains("at least 2"), "{e}");
        let a = s.ask().unwrap();
        s.tell(a.id, 1.0, TrialState::Complete).unwrap();
        assert!(s.importance().is_err());
        let b = s.ask().unwrap();
        s.tell(b.id, 2.0, TrialState::Complete).unwrap();
        assert_eq!(s.importance().unwrap()[0].0, "x");
    }
}
