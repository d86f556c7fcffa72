//! Time per bandit operation, straight in Rust (no FFI), for `bench/bandit`: Thompson sampling
//! ask + tell over 16 beta arms, and LinTS ask (and tell) over 32 features, printed as JSON
//! lines `{"impl": "gaia-rust", "case": ..., "arms": ..., "features": ..., "us": ...}`.
//!
//! `cargo run --release -p gaia-core --example bandit_bench [--quick]`

use std::time::Instant;

use gaia_core::stats::Rng;
use gaia_core::tune::Bandit;

fn arms(k: usize) -> String {
    let names: Vec<String> = (0..k).map(|i| format!("\"arm{i}\"")).collect();
    names.join(",")
}

fn line(case: &str, k: usize, d: usize, seconds: f64, n: u64) {
    println!(
        "{{\"impl\": \"gaia-rust\", \"case\": \"{case}\", \"arms\": {k}, \"features\": {d}, \"us\": {:.4}}}",
        seconds * 1e6 / n as f64
    );
}

fn main() -> Result<(), gaia_core::Error> {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: u64 = if quick { 20_000 } else { 200_000 };
    let mut env = Rng::seed_from_u64(1);

    // Thompson sampling, 16 beta arms: ask + tell (the ticket path, the system clock) and
    // choose + update (the plain path).
    let k = 16;
    let p: Vec<f64> = (0..k).map(|i| 0.2 + 0.6 * i as f64 / k as f64).collect();
    let mut b = Bandit::from_json(&format!(r#"{{"arms": [{}], "seed": 1}}"#, arms(k)))?;
    let mut rewards: Vec<f64> = (0..1024).map(|_| env.next_f64()).collect();
    let reward = |i: u64, arm: usize, u: &[f64]| f64::from(u8::from(u[i as usize % 1024] < p[arm]));
    for i in 0..n / 10 {
        let t = b.ask(&[])?;
        b.tell(t.id, reward(i, t.arm, &rewards))?;
    }
    let start = Instant::now();
    for i in 0..n {
        let t = b.ask(&[])?;
        b.tell(t.id, reward(i, t.arm, &rewards))?;
    }
    line("thompson_ask_tell", k, 0, start.elapsed().as_secs_f64(), n);
    let start = Instant::now();
    for i in 0..n {
        let a = b.choose_index()?;
        b.update_index(a, reward(i, a, &rewards))?;
    }
    line(
        "thompson_choose_update",
        k,
        0,
        start.elapsed().as_secs_f64(),
        n,
    );

    // LinTS, 32 features, 4 / 16 arms: ask alone, and ask + tell.
    let d = 32;
    for k in [4usize, 16] {
        let mut b = Bandit::from_json(&format!(
            r#"{{"arms": [{}], "policy": "lints", "features": {d}, "v": 0.5, "seed": 1}}"#,
            arms(k)
        ))?;
        let contexts: Vec<Vec<f64>> = (0..256)
            .map(|_| (0..d).map(|_| env.next_f64() - 0.5).collect())
            .collect();
        rewards = (0..256).map(|_| env.next_f64()).collect();
        let m = n / 10;
        // Warm up with rewards so the posteriors are not the prior.
        for i in 0..m {
            let t = b.ask(&contexts[i as usize % 256])?;
            b.tell(t.id, rewards[i as usize % 256])?;
        }
        let mut tickets = Vec::with_capacity(m as usize);
        let start = Instant::now();
        for i in 0..m {
            tickets.push(b.ask(&contexts[i as usize % 256])?.id);
        }
        line("lints_ask", k, d, start.elapsed().as_secs_f64(), m);
        let start = Instant::now();
        for (i, t) in tickets.iter().enumerate() {
            b.tell(*t, rewards[i % 256])?;
        }
        line("lints_tell", k, d, start.elapsed().as_secs_f64(), m);
        let start = Instant::now();
        for i in 0..m {
            let t = b.ask(&contexts[i as usize % 256])?;
            b.tell(t.id, rewards[i as usize % 256])?;
        }
        line("lints_ask_tell", k, d, start.elapsed().as_secs_f64(), m);
    }
    Ok(())
}
