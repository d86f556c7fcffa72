//! How Gaia's parameters look in Optuna's `trial_params` table: the value Optuna stores
//! (the number itself for floats and integers, the choice's index for categoricals) and the
//! `distribution_json` Optuna's `json_to_distribution` reads back.

use serde_json::{json, Value};

use crate::tune::{Distribution, Space};

/// Optuna's `distribution_json` for each parameter of `space`, in space order.
pub(crate) fn distributions(space: &Space) -> Vec<String> {
    space
        .params()
        .iter()
        .map(|p| {
            let v = match &p.distribution {
                Distribution::Float {
                    low,
                    high,
                    log,
                    step,
                } => json!({"name": "FloatDistribution",
                    "attributes": {"step": step, "low": low, "high": high, "log": log}}),
                Distribution::Int {
                    low,
                    high,
                    log,
                    step,
                } => json!({"name": "IntDistribution",
                    "attributes": {"log": log, "step": step, "low": low, "high": high}}),
                Distribution::Categorical { choices } => {
                    json!({"name": "CategoricalDistribution", "attributes": {"choices": choices}})
                }
            };
            v.to_string()
        })
        .collect()
}

/// The rows of `trial_params` for one trial as the JSON array the ask procedure expands:
/// `[{"n": name, "v": value as Optuna stores it, "d": distribution_json}, ...]`, active
/// parameters only.
pub(crate) fn param_rows(space: &Space, dists: &[String], internal: &[Option<f64>]) -> String {
    let rows: Vec<Value> = space
        .params()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let x = internal.get(i).copied().flatten()?;
            let v = match &p.distribution {
                Distribution::Categorical { choices } => {
                    (x.round().max(0.0) as usize).min(choices.len() - 1) as f64
                }
                _ => space.to_external(i, x).as_f64().unwrap_or(x),
            };
            Some(json!({"n": p.name, "v": v, "d": dists[i]}))
        })
        .collect();
    Value::Array(rows).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hold_optuna_values_and_distributions() {
        let space = Space::from_json(
            r#"{"params": [
              {"name": "x", "type": "float", "low": -5, "high": 5},
              {"name": "lr", "type": "float", "low": 0.0001, "high": 1, "log": true},
              {"name": "k", "type": "int", "low": 1, "high": 9, "step": 2},
              {"name": "c", "type": "categorical", "choices": ["a", "b", 3]}]}"#,
        )
        .unwrap();
        let d = distributions(&space);
        let lr: Value = serde_json::from_str(&d[1]).unwrap();
        assert_eq!(lr["name"], "FloatDistribution");
        assert_eq!(lr["attributes"]["log"], true);
        assert_eq!(lr["attributes"]["step"], Value::Null);
        let k: Value = serde_json::from_str(&d[2]).unwrap();
        assert_eq!(k["attributes"]["step"], 2);
        // Optuna stores a log float as the value itself, an int as the int, a categorical as
        // the index of its choice.
        let rows: Value = serde_json::from_str(&param_rows(
            &space,
            &d,
            &[Some(0.5), Some(0.01f64.ln()), Some(7.0), Some(2.0)],
        ))
        .unwrap();
        assert_eq!(rows[0]["v"], 0.5);
        assert!((rows[1]["v"].as_f64().unwrap() - 0.01).abs() < 1e-15);
        assert_eq!(rows[2]["v"], 7.0);
        assert_eq!(rows[3]["v"], 2.0);
        assert_eq!(rows[3]["n"], "c");
        let inactive: Value =
            serde_json::from_str(&param_rows(&space, &d, &[Some(0.5), None, None, None])).unwrap();
        assert_eq!(inactive.as_array().unwrap().len(), 1);
    }
}
