//! Gaia's half of the multi-objective part of the tune benchmark (`bench/tune`, `run.sh
//! --multi`), which runs the same tasks through Optuna (`bench/tune/optuna_suite.py
//! multi`) and compares the two with `bench/tune/report.py`.
//!
//! Two modes, each printing one JSON object per line on stdout:
//!
//! * `quality`: every task (ZDT1 with 2 objectives over 10 parameters, DTLZ2 with 3
//!   objectives over 7, and OSY: 2 objectives, 6 parameters and 6 constraints) with one
//!   sampler (`--sampler nsga2|tpe|random`, or `--config '{"type": ...}'` for any sampler
//!   configuration) for each seed; one line per task and seed with the objective values of
//!   every trial in id order (and whether it was feasible), so `report.py` computes every
//!   hypervolume with one implementation and one reference point, and the microseconds per
//!   `ask` + `tell` (the objective not timed).
//! * `check`: each task's objectives and constraints at a fixed probe point, and Gaia's
//!   hypervolume of fixed point sets, so `report.py` can confirm both sides compute the same
//!   functions and the same hypervolumes.
//!
//! ```sh
//! cargo run --release -p gaia-core --example tune_multi_suite -- quality --sampler nsga2 \
//!     [--seeds 10] [--trials 300] [--tasks zdt1,dtlz2,osy]
//! cargo run --release -p gaia-core --example tune_multi_suite -- check
//! ```
//!
//! The task definitions must stay identical to the ones in `bench/tune/optuna_suite.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark example")]

use std::f64::consts::FRAC_PI_2;
use std::time::Instant;

use gaia_core::tune::{pareto, Study, TrialState};
use serde_json::{json, Map, Value};

type Params = Map<String, Value>;
type BoxError = Box<dyn std::error::Error>;
/// Objective values and constraint values (feasible when all `<= 0`) of a point.
type Evaluation = (Vec<f64>, Vec<f64>);

/// One multi-objective problem (every objective minimised).
struct Task {
    name: &'static str,
    dims: usize,
    n_objectives: usize,
    constraints: usize,
    /// `(low, high)` of `x1..x{dims}`.
    bounds: fn(usize) -> (f64, f64),
    /// The objectives and constraints at a point.
    evaluate: fn(&[f64]) -> Evaluation,
}

const ZDT1_DIMS: usize = 10;
const DTLZ2_DIMS: usize = 7;

fn zdt1(x: &[f64]) -> Evaluation {
    let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (x.len() - 1) as f64;
    let f1 = x[0];
    (vec![f1, g * (1.0 - (f1 / g).sqrt())], Vec::new())
}

fn dtlz2(x: &[f64]) -> Evaluation {
    let g: f64 = x[2..].iter().map(|v| (v - 0.5).powi(2)).sum();
    let (a, b) = (x[0] * FRAC_PI_2, x[1] * FRAC_PI_2);
    (
        vec![
            (1.0 + g) * a.cos() * b.cos(),
            (1.0 + g) * a.cos() * b.sin(),
            (1.0 + g) * a.sin(),
        ],
        Vec::new(),
    )
}

/// Osyczka and Kundu (1995), as in the NSGA-II paper; constraints `g(x) >= 0` reported as
/// `-g(x) <= 0`.
fn osy(x: &[f64]) -> Evaluation {
    let f1 = -(25.0 * (x[0] - 2.0).powi(2)
        + (x[1] - 2.0).powi(2)
        + (x[2] - 1.0).powi(2)
        + (x[3] - 4.0).powi(2)
        + (x[4] - 1.0).powi(2));
    let f2: f64 = x.iter().map(|v| v * v).sum();
    let g = [
        x[0] + x[1] - 2.0,
        6.0 - x[0] - x[1],
        2.0 - x[1] + x[0],
        2.0 - x[0] + 3.0 * x[1],
        4.0 - (x[2] - 3.0).powi(2) - x[3],
        (x[4] - 3.0).powi(2) + x[5] - 4.0,
    ];
    (vec![f1, f2], g.iter().map(|v| -v).collect())
}

fn osy_bounds(i: usize) -> (f64, f64) {
    match i {
        2 | 4 => (1.0, 5.0),
        3 => (0.0, 6.0),
        _ => (0.0, 10.0),
    }
}

fn tasks() -> Vec<Task> {
    vec![
        Task {
            name: "zdt1",
            dims: ZDT1_DIMS,
            n_objectives: 2,
            constraints: 0,
            bounds: |_| (0.0, 1.0),
            evaluate: zdt1,
        },
        Task {
            name: "dtlz2",
            dims: DTLZ2_DIMS,
            n_objectives: 3,
            constraints: 0,
            bounds: |_| (0.0, 1.0),
            evaluate: dtlz2,
        },
        Task {
            name: "osy",
            dims: 6,
            n_objectives: 2,
            constraints: 6,
            bounds: osy_bounds,
            evaluate: osy,
        },
    ]
}

fn study_config(task: &Task, sampler: &Value, seed: u64) -> String {
    let params: Vec<Value> = (0..task.dims)
        .map(|i| {
            let (low, high) = (task.bounds)(i);
            json!({"name": format!("x{}", i + 1), "type": "float", "low": low, "high": high})
        })
        .collect();
    let mut cfg = json!({
        "space": {"params": params},
        "directions": vec!["minimize"; task.n_objectives],
        "sampler": sampler,
        "seed": seed,
    });
    if task.constraints > 0 {
        cfg["constraints"] = json!((1..=task.constraints)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>());
    }
    cfg.to_string()
}

fn xs(p: &Params, d: usize) -> Vec<f64> {
    (1..=d)
        .map(|i| p[&format!("x{i}")].as_f64().unwrap())
        .collect()
}

fn quality(
    name: &str,
    sampler: Value,
    seeds: u64,
    trials: usize,
    only: &[String],
) -> Result<(), BoxError> {
    for task in tasks()
        .iter()
        .filter(|t| only.is_empty() || only.iter().any(|o| o == t.name))
    {
        for seed in 0..seeds {
            let mut study = Study::from_json(&study_config(task, &sampler, seed))?;
            let mut values: Vec<Vec<f64>> = Vec::with_capacity(trials);
            let mut feasible: Vec<bool> = Vec::with_capacity(trials);
            let mut spent = 0.0;
            for _ in 0..trials {
                let t0 = Instant::now();
                let asked = study.ask()?;
                spent += t0.elapsed().as_secs_f64();
                let (v, c) = (task.evaluate)(&xs(&asked.params, task.dims));
                let t1 = Instant::now();
                study.tell_values(asked.id, &v, TrialState::Complete, &c)?;
                spent += t1.elapsed().as_secs_f64();
                feasible.push(c.iter().all(|c| *c <= 0.0));
                values.push(v);
            }
            let line = json!({
                "side": "gaia", "mode": "multi", "task": task.name, "sampler": name,
                "config": sampler, "seed": seed, "trials": trials,
                "n_objectives": task.n_objectives, "values": values, "feasible": feasible,
                "us_per_trial": spent * 1e6 / trials as f64,
            });
            println!("{line}");
        }
    }
    Ok(())
}

/// The fixed point of a task's space, computed exactly as `multi_probe` in
/// `optuna_suite.py`.
fn probe(task: &Task) -> Vec<f64> {
    (0..task.dims)
        .map(|k| {
            let (low, high) = (task.bounds)(k);
            low + (high - low) * (0.37 * (k + 1) as f64).fract()
        })
        .collect()
}

/// Point sets whose hypervolumes both sides compute (`hv_sets` in `optuna_suite.py`).
fn hv_sets() -> Vec<(Vec<Vec<f64>>, Vec<f64>)> {
    let mut sets = Vec::new();
    for (m, n) in [(2usize, 30usize), (3, 40), (4, 12)] {
        let points: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..m)
                    .map(|d| (0.61 * (i * m + d + 1) as f64).fract())
                    .collect()
            })
            .collect();
        sets.push((points, vec![1.1; m]));
    }
    sets
}

fn check() -> Result<(), BoxError> {
    for task in tasks() {
        let x = probe(&task);
        let (values, constraints) = (task.evaluate)(&x);
        let line = json!({
            "side": "gaia", "mode": "multi_check", "task": task.name,
            "at_probe": values, "constraints_at_probe": constraints,
        });
        println!("{line}");
    }
    for (k, (points, reference)) in hv_sets().into_iter().enumerate() {
        let line = json!({
            "side": "gaia", "mode": "hv_check", "set": k,
            "hypervolume": pareto::hypervolume(&points, &reference),
        });
        println!("{line}");
    }
    Ok(())
}

fn flag<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, BoxError> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a value").into()),
    }
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("quality") => {
            let name: String = flag(&args, "--sampler", "nsga2".to_string())?;
            let sampler: Value = match flag(&args, "--config", String::new())? {
                c if c.is_empty() => json!({"type": name}),
                c => serde_json::from_str(&c)?,
            };
            let tasks: String = flag(&args, "--tasks", String::new())?;
            let only: Vec<String> = tasks
                .split(',')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
            quality(
                &name,
                sampler,
                flag(&args, "--seeds", 10)?,
                flag(&args, "--trials", 300)?,
                &only,
            )
        }
        Some("check") => check(),
        _ => Err(
            "usage: tune_multi_suite quality [--sampler nsga2|tpe|random] \
                  [--config JSON] [--seeds N] [--trials N] [--tasks zdt1,dtlz2,osy] | check"
                .into(),
        ),
    }
}
