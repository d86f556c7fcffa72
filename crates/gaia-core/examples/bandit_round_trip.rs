//! ns per choose + update on a 3-arm beta bandit, and per mcts ask + tell, straight in Rust
//! (no FFI): the baselines that `bench/ffi_overhead` compares every binding with.
//!
//! `cargo run --release -p gaia-core --example bandit_round_trip [iterations]`

use std::time::Instant;

use gaia_core::tune::Bandit;

fn main() -> Result<(), gaia_core::Error> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let mut b = Bandit::from_json(r#"{"arms": ["a", "b", "c"], "seed": 1}"#)?;
    for k in 0..n / 10 {
        let i = b.choose_index()?;
        b.update_index(i, (k & 1) as f64)?;
    }
    let start = Instant::now();
    for k in 0..n {
        let i = b.choose_index()?;
        b.update_index(i, (k & 1) as f64)?;
    }
    println!("rust {:.0}", start.elapsed().as_nanos() as f64 / n as f64);

    // mcts ask + tell (repeated sampling: the engine's own work stays constant).
    let m = n / 10;
    let mut s = gaia_core::mcts::Search::from_json(
        r#"{"algorithm": "repeated_sampling", "actions": ["a", "b"], "seed": 1}"#,
    )?;
    let start = Instant::now();
    for k in 0..m {
        let t = s.ask(1)?[0];
        s.tell(t.id, (k & 7) as f64 / 8.0, gaia_core::mcts::Payload::None)?;
    }
    println!(
        "rust-mcts {:.0}",
        start.elapsed().as_nanos() as f64 / m as f64
    );
    Ok(())
}
