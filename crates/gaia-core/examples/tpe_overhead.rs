//! A first look at TPE: median best on a 5-D sphere after 100 trials over 10 seeds (TPE vs
//! random) and microseconds per ask+tell at a given number of trials. Not the Optuna
//! side-by-side benchmark of issue 7; a quick check while that is built.
//!
//! `cargo run --release -p gaia-core --example tpe_overhead`

use std::time::Instant;

use gaia_core::tune::{Study, TrialState};

fn study(sampler: &str, seed: u64, dims: usize) -> Result<Study, gaia_core::Error> {
    let params: Vec<String> = (0..dims)
        .map(|d| format!(r#"{{"name": "x{d}", "type": "float", "low": -5, "high": 5}}"#))
        .collect();
    Ok(Study::from_json(&format!(
        r#"{{"space": {{"params": [{}]}}, "sampler": {sampler}, "seed": {seed}}}"#,
        params.join(",")
    ))?)
}

fn step(s: &mut Study, dims: usize) -> Result<(), gaia_core::Error> {
    let a = s.ask()?;
    let v: f64 = (0..dims)
        .map(|d| a.params[&format!("x{d}")].as_f64().unwrap_or(0.0) - 1.0)
        .map(|x| x * x)
        .sum();
    s.tell(a.id, v, TrialState::Complete)?;
    Ok(())
}

fn main() -> Result<(), gaia_core::Error> {
    for sampler in [r#"{"type": "random"}"#, r#"{"type": "tpe"}"#] {
        let mut bests = Vec::new();
        for seed in 0..10 {
            let mut s = study(sampler, seed, 5)?;
            for _ in 0..100 {
                step(&mut s, 5)?;
            }
            bests.push(s.best().and_then(|t| t.value).unwrap_or(f64::NAN));
        }
        bests.sort_by(f64::total_cmp);
        println!("{sampler:22} median best after 100 trials: {:.4}", bests[5]);
    }
    for n in [100, 1000] {
        let mut s = study(r#"{"type": "tpe"}"#, 1, 5)?;
        for _ in 0..n {
            step(&mut s, 5)?;
        }
        let start = Instant::now();
        for _ in 0..20 {
            step(&mut s, 5)?;
        }
        println!(
            "tpe ask+tell at {n} trials: {:.0} us",
            start.elapsed().as_secs_f64() * 1e6 / 20.0
        );
    }
    Ok(())
}
