//! Gaia's half of the tune benchmark (`bench/tune`), which runs the same suite through Optuna
//! (`bench/tune/optuna_suite.py`) and compares the two with `bench/tune/report.py`.
//!
//! Three modes, each printing one JSON object per line on stdout:
//!
//! * `quality`: every task of the suite (Branin 2-D, Hartmann 6-D, Rosenbrock, Ackley and
//!   Styblinski-Tang 10-D, and a mixed space with a categorical, three floats, an int and a
//!   log-scaled float), minimised with TPE (`--sampler tpe`, the default), CMA-ES
//!   (`--sampler cmaes`), the GP sampler (`--sampler gp`) or random search
//!   (`--sampler random`, for reference) for each seed; one line per task and seed with the
//!   best value found after 50, 100 and 200 trials (those within `--trials`).
//! * `overhead`: the cost of `ask` + `tell` alone (the objective is not timed) on a sphere
//!   (5-D, or `--dims`) with each sampler of `--samplers` (default `random,tpe,cmaes,gp`),
//!   one seed; one line per checkpoint with the mean microseconds per trial over the `window`
//!   trials just before it (e.g. trials 91..=100). The GP's ask grows as O(n^3): keep `--max`
//!   at 500 for it.
//! * `check`: each task's objective at its known minimiser and at a fixed probe point, so
//!   `report.py` can confirm both sides compute the same functions.
//!
//! ```sh
//! cargo run --release -p gaia-core --example tune_suite -- quality [--seeds 10] [--trials 200]
//!     [--sampler tpe|cmaes|gp|random]
//! cargo run --release -p gaia-core --example tune_suite -- overhead [--max 2000] [--window 10] [--repeat 5]
//!     [--samplers random,tpe,cmaes,gp] [--dims 5]
//! cargo run --release -p gaia-core --example tune_suite -- check
//! ```
//!
//! The task definitions must stay identical to the ones in `bench/tune/optuna_suite.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark example")]

use std::f64::consts::{E, PI};
use std::time::Instant;

use gaia_core::tune::{Study, TrialState};
use serde_json::{json, Map, Value};

type Params = Map<String, Value>;
type BoxError = Box<dyn std::error::Error>;

/// Checkpoints (trial counts) at which the best value so far is recorded.
const QUALITY_CHECKPOINTS: [usize; 3] = [50, 100, 200];
/// Checkpoints (trial counts) at which the ask+tell cost is measured.
const OVERHEAD_CHECKPOINTS: [usize; 4] = [100, 500, 1000, 2000];

/// One benchmark problem: its search space, its known optimum and the objective.
struct Task {
    name: &'static str,
    dims: usize,
    optimum: f64,
    space: String,
    /// A known minimiser, for the `check` mode.
    argmin: Params,
    objective: fn(&Params) -> f64,
}

fn float(p: &Params, name: &str) -> f64 {
    p[name]
        .as_f64()
        .unwrap_or_else(|| panic!("param {name} is not a number: {}", p[name]))
}

/// `x1..x{d}` as a vector.
fn xs(p: &Params, d: usize) -> Vec<f64> {
    (1..=d).map(|i| float(p, &format!("x{i}"))).collect()
}

/// A JSON object as parameters.
fn params(v: Value) -> Params {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// `x1..x{d}` all equal to `v`.
fn uniform(d: usize, v: f64) -> Params {
    (1..=d).map(|i| (format!("x{i}"), json!(v))).collect()
}

/// A box space of floats named `x1..x{d}`.
fn box_space(d: usize, low: f64, high: f64) -> String {
    let params: Vec<String> = (1..=d)
        .map(|i| format!(r#"{{"name": "x{i}", "type": "float", "low": {low}, "high": {high}}}"#))
        .collect();
    format!(r#"{{"params": [{}]}}"#, params.join(", "))
}

fn branin(p: &Params) -> f64 {
    let (x1, x2) = (float(p, "x1"), float(p, "x2"));
    let b = 5.1 / (4.0 * PI * PI);
    let c = 5.0 / PI;
    let t = 1.0 / (8.0 * PI);
    (x2 - b * x1 * x1 + c * x1 - 6.0).powi(2) + 10.0 * (1.0 - t) * x1.cos() + 10.0
}

const HARTMANN_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const HARTMANN_A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const HARTMANN_P: [[f64; 6]; 4] = [
    [1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0],
    [2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0],
    [2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0],
    [4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0],
];

fn hartmann6(p: &Params) -> f64 {
    let x = xs(p, 6);
    -(0..4)
        .map(|i| {
            let inner: f64 = (0..6)
                .map(|j| HARTMANN_A[i][j] * (x[j] - 1e-4 * HARTMANN_P[i][j]).powi(2))
                .sum();
            HARTMANN_ALPHA[i] * (-inner).exp()
        })
        .sum::<f64>()
}

fn rosenbrock10(p: &Params) -> f64 {
    let x = xs(p, 10);
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

fn ackley10(p: &Params) -> f64 {
    let x = xs(p, 10);
    let n = x.len() as f64;
    let squares = x.iter().map(|v| v * v).sum::<f64>() / n;
    let cosines = x.iter().map(|v| (2.0 * PI * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * squares.sqrt()).exp() - cosines.exp() + 20.0 + E
}

fn styblinski_tang10(p: &Params) -> f64 {
    xs(p, 10)
        .iter()
        .map(|v| (v.powi(4) - 16.0 * v * v + 5.0 * v) / 2.0)
        .sum()
}

fn mixed(p: &Params) -> f64 {
    let offset = match p["c"].as_str() {
        Some("a") => 0.0,
        Some("b") => 0.5,
        Some("c") => 1.0,
        other => panic!("unexpected choice for c: {other:?}"),
    };
    let n = p["n"]
        .as_i64()
        .unwrap_or_else(|| panic!("n is not an integer: {}", p["n"])) as f64;
    let lr = float(p, "lr");
    offset
        + xs(p, 3).iter().map(|v| (v - 1.0).powi(2)).sum::<f64>()
        + (n - 3.0).powi(2) / 10.0
        + (lr.log10() + 3.0).powi(2) / 10.0
}

fn sphere(p: &Params, dims: usize) -> f64 {
    xs(p, dims).iter().map(|v| v * v).sum()
}

fn tasks() -> Vec<Task> {
    vec![
        Task {
            name: "branin",
            dims: 2,
            optimum: 0.397887,
            space: r#"{"params": [
                {"name": "x1", "type": "float", "low": -5, "high": 10},
                {"name": "x2", "type": "float", "low": 0, "high": 15}]}"#
                .to_string(),
            argmin: params(json!({"x1": PI, "x2": 2.275})),
            objective: branin,
        },
        Task {
            name: "hartmann6",
            dims: 6,
            optimum: -3.32237,
            space: box_space(6, 0.0, 1.0),
            argmin: params(json!({
                "x1": 0.20169, "x2": 0.150011, "x3": 0.476874,
                "x4": 0.275332, "x5": 0.311652, "x6": 0.6573})),
            objective: hartmann6,
        },
        Task {
            name: "rosenbrock10",
            dims: 10,
            optimum: 0.0,
            space: box_space(10, -5.0, 10.0),
            argmin: uniform(10, 1.0),
            objective: rosenbrock10,
        },
        Task {
            name: "ackley10",
            dims: 10,
            optimum: 0.0,
            space: box_space(10, -32.768, 32.768),
            argmin: uniform(10, 0.0),
            objective: ackley10,
        },
        Task {
            name: "styblinski_tang10",
            dims: 10,
            optimum: -39.16617 * 10.0,
            space: box_space(10, -5.0, 5.0),
            argmin: uniform(10, -2.903534),
            objective: styblinski_tang10,
        },
        Task {
            name: "mixed",
            dims: 6,
            optimum: 0.0,
            space: r#"{"params": [
                {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]},
                {"name": "x1", "type": "float", "low": -5, "high": 5},
                {"name": "x2", "type": "float", "low": -5, "high": 5},
                {"name": "x3", "type": "float", "low": -5, "high": 5},
                {"name": "n", "type": "int", "low": 1, "high": 10},
                {"name": "lr", "type": "float", "low": 1e-5, "high": 1, "log": true}]}"#
                .to_string(),
            argmin: params(json!({"c": "a", "x1": 1.0, "x2": 1.0, "x3": 1.0, "n": 3, "lr": 1e-3})),
            objective: mixed,
        },
    ]
}

fn study(space: &str, sampler: &str, seed: u64) -> Result<Study, gaia_core::Error> {
    Ok(Study::from_json(&format!(
        r#"{{"space": {space}, "direction": "minimize", "sampler": {{"type": "{sampler}"}},
            "seed": {seed}}}"#
    ))?)
}

fn quality(sampler: &str, seeds: u64, trials: usize) -> Result<(), BoxError> {
    for task in tasks() {
        for seed in 0..seeds {
            let start = Instant::now();
            let mut s = study(&task.space, sampler, seed)?;
            let mut best = f64::INFINITY;
            let mut best_at = Map::new();
            for n in 1..=trials {
                let t = s.ask()?;
                let value = (task.objective)(&t.params);
                s.tell(t.id, value, TrialState::Complete)?;
                best = best.min(value);
                if QUALITY_CHECKPOINTS.contains(&n) || n == trials {
                    best_at.insert(n.to_string(), json!(best));
                }
            }
            let line = json!({
                "side": "gaia", "mode": "quality", "task": task.name, "dims": task.dims,
                "optimum": task.optimum, "sampler": sampler, "seed": seed, "trials": trials,
                "best_at": best_at, "seconds": start.elapsed().as_secs_f64(),
            });
            println!("{line}");
        }
    }
    Ok(())
}

/// `repeat` identical seeded runs per sampler; each trial's cost is its fastest run's (the
/// runs do the same work, so the minimum strips the machine's interruptions).
fn overhead(
    samplers: &[&str],
    dims: usize,
    max: usize,
    window: usize,
    repeat: usize,
) -> Result<(), BoxError> {
    let space = box_space(dims, -5.0, 5.0);
    let task = format!("sphere{dims}");
    for &sampler in samplers {
        let mut costs = vec![f64::INFINITY; max];
        let mut total = f64::INFINITY;
        for _ in 0..repeat.max(1) {
            let mut s = study(&space, sampler, 0)?;
            let start = Instant::now();
            for cost in costs.iter_mut() {
                let t0 = Instant::now();
                let t = s.ask()?;
                let asked = t0.elapsed();
                let value = sphere(&t.params, dims);
                let t1 = Instant::now();
                s.tell(t.id, value, TrialState::Complete)?;
                *cost = cost.min((asked + t1.elapsed()).as_secs_f64() * 1e6);
            }
            total = total.min(start.elapsed().as_secs_f64());
        }
        for at in OVERHEAD_CHECKPOINTS.into_iter().filter(|&at| at <= max) {
            let slice = &costs[at.saturating_sub(window)..at];
            let mean = slice.iter().sum::<f64>() / slice.len() as f64;
            let max = slice.iter().copied().fold(0.0, f64::max);
            let line = json!({
                "side": "gaia", "mode": "overhead", "task": task, "sampler": sampler,
                "seed": 0, "at": at, "window": slice.len(), "us_per_trial": mean,
                "max_us": max, "total_seconds": total, "repeat": repeat.max(1),
            });
            println!("{line}");
        }
    }
    Ok(())
}

/// A fixed, arbitrary point of a space (parameter `k`, counting from 0, sits at the fraction
/// `frac(0.37 (k + 1))` of its range; categoricals take choice `k % len`), computed the same
/// way by `optuna_suite.py` so the two sides' objectives can be compared.
fn probe(space: &str) -> Result<Params, BoxError> {
    let space: Value = serde_json::from_str(space)?;
    let list = space["params"].as_array().ok_or("space without params")?;
    let mut p = Params::new();
    for (k, param) in list.iter().enumerate() {
        let f = (0.37 * (k + 1) as f64).fract();
        let name = param["name"]
            .as_str()
            .ok_or("param without name")?
            .to_string();
        let low = param["low"].as_f64().unwrap_or(0.0);
        let high = param["high"].as_f64().unwrap_or(0.0);
        let v = match param["type"].as_str() {
            Some("categorical") => {
                let choices = param["choices"].as_array().ok_or("no choices")?;
                choices[k % choices.len()].clone()
            }
            Some("int") => json!((low + (high - low) * f).floor() as i64),
            _ if param["log"].as_bool() == Some(true) => {
                json!((low.ln() + (high.ln() - low.ln()) * f).exp())
            }
            _ => json!(low + (high - low) * f),
        };
        p.insert(name, v);
    }
    Ok(p)
}

/// Each task's objective at its known minimiser and at [`probe`], to check both sides agree.
fn check() -> Result<(), BoxError> {
    for task in tasks() {
        let line = json!({
            "side": "gaia", "mode": "check", "version": gaia_core::VERSION, "task": task.name,
            "optimum": task.optimum,
            "at_argmin": (task.objective)(&task.argmin),
            "at_probe": (task.objective)(&probe(&task.space)?),
        });
        println!("{line}");
    }
    Ok(())
}

/// The value after `--flag`, or `default`.
fn flag(args: &[String], name: &str, default: usize) -> Result<usize, BoxError> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => {
            let v = args.get(i + 1).ok_or(format!("{name} needs a value"))?;
            Ok(v.parse().map_err(|e| format!("{name} {v}: {e}"))?)
        }
    }
}

/// The samplers this benchmark knows.
const SAMPLERS: [&str; 4] = ["random", "tpe", "cmaes", "gp"];

fn known_sampler(name: &str) -> Result<&'static str, BoxError> {
    SAMPLERS
        .into_iter()
        .find(|s| *s == name)
        .ok_or_else(|| format!("unknown sampler {name:?} (known: tpe, cmaes, gp, random)").into())
}

/// The sampler after `--sampler` (`tpe`, the default, `cmaes`, `gp` or `random`).
fn sampler_flag(args: &[String]) -> Result<&'static str, BoxError> {
    match args.iter().position(|a| a == "--sampler") {
        None => Ok("tpe"),
        Some(i) => known_sampler(args.get(i + 1).ok_or("--sampler needs a value")?),
    }
}

/// The comma-separated samplers after `--samplers` (default: all of them).
fn samplers_flag(args: &[String]) -> Result<Vec<&'static str>, BoxError> {
    match args.iter().position(|a| a == "--samplers") {
        None => Ok(SAMPLERS.to_vec()),
        Some(i) => args
            .get(i + 1)
            .ok_or("--samplers needs a value")?
            .split(',')
            .map(known_sampler)
            .collect(),
    }
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("quality") => quality(
            sampler_flag(&args)?,
            flag(&args, "--seeds", 10)? as u64,
            flag(&args, "--trials", 200)?,
        ),
        Some("overhead") => overhead(
            &samplers_flag(&args)?,
            flag(&args, "--dims", 5)?,
            flag(&args, "--max", 2000)?,
            flag(&args, "--window", 10)?,
            flag(&args, "--repeat", 1)?,
        ),
        Some("check") => check(),
        _ => Err(
            "usage: tune_suite quality [--sampler tpe|cmaes|gp|random] [--seeds N] [--trials N] | \
                  overhead [--samplers random,tpe,cmaes,gp] [--dims N] [--max N] [--window N] [--repeat N] \
                  | check"
                .into(),
        ),
    }
}
