//! TPE's cost per ask+tell as a study grows, exact (every trial modelled, as Optuna) and in
//! bounded-cost mode (`"window": 1000`: the best trials ever plus the newest 1000), on a 5-D
//! sphere with the objective not timed. The side-by-side with Optuna is `bench/tune`.
//!
//! `cargo run --release -p gaia-core --example tpe_overhead [-- --max 100000] [--only exact|window]`

use std::time::Instant;

use gaia_core::tune::{Study, TrialState};

fn study(sampler: &str) -> Result<Study, gaia_core::Error> {
    let params: Vec<String> = (0..5)
        .map(|d| format!(r#"{{"name": "x{d}", "type": "float", "low": -5, "high": 5}}"#))
        .collect();
    Ok(Study::from_json(&format!(
        r#"{{"space": {{"params": [{}]}}, "sampler": {sampler}, "seed": 1}}"#,
        params.join(",")
    ))?)
}

/// One trial; returns the seconds spent in ask and tell.
fn step(s: &mut Study) -> Result<f64, gaia_core::Error> {
    let start = Instant::now();
    let a = s.ask()?;
    let mut spent = start.elapsed().as_secs_f64();
    let v: f64 = (0..5)
        .map(|d| a.params[&format!("x{d}")].as_f64().unwrap_or(0.0) - 1.0)
        .map(|x| x * x)
        .sum();
    let start = Instant::now();
    s.tell(a.id, v, TrialState::Complete)?;
    spent += start.elapsed().as_secs_f64();
    Ok(spent)
}

fn main() -> Result<(), gaia_core::Error> {
    let args: Vec<String> = std::env::args().collect();
    let max: usize = args
        .iter()
        .position(|a| a == "--max")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // `--only exact` or `--only window` runs one mode (for profiling).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    println!("| mode | trials | us per ask+tell (mean of the 50 before) |");
    println!("| --- | ---: | ---: |");
    for (name, sampler, limit) in [
        ("exact", r#"{"type": "tpe"}"#, max.min(2000)),
        ("window 1000", r#"{"type": "tpe", "window": 1000}"#, max),
    ] {
        if only.as_ref().is_some_and(|o| !name.starts_with(o.as_str())) {
            continue;
        }
        let mut s = study(sampler)?;
        let mut marks: Vec<usize> = [100, 1000, 2000, 10_000, 100_000, 1_000_000]
            .into_iter()
            .filter(|m| *m <= limit)
            .collect();
        marks.reverse();
        let mut window = 0.0;
        for n in 1..=limit {
            let spent = step(&mut s)?;
            if marks.last().is_some_and(|m| n + 50 > *m) {
                window += spent;
            }
            if marks.last() == Some(&n) {
                println!("| {name} | {n} | {:.1} |", window / 50.0 * 1e6);
                window = 0.0;
                marks.pop();
            }
        }
    }
    Ok(())
}
