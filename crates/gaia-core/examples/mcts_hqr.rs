//! Gaia's side of `bench/mcts`: the synthetic task HQR-1 (see bench/mcts/README.md) run by
//! Gaia's search engine, printing one JSON line per run (best score, seconds in the search
//! itself), per-step cost at large N, and bytes per node (a counting allocator).
//!
//! ```text
//! cargo run --release -p gaia-core --example mcts_hqr -- quality --algo ab_gaussian --n 1000 --seeds 50
//! cargo run --release -p gaia-core --example mcts_hqr -- speed --algo ab_gaussian --n 5000
//! cargo run --release -p gaia-core --example mcts_hqr -- memory --n 100000
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark example: fail loudly"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use gaia_core::mcts::{Payload, Search};
use gaia_core::stats::Rng;

/// Counts live heap bytes, for bytes per node.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// HQR-1's hidden answers and generator.
struct Task {
    rng: Rng,
    hidden: Vec<(f64, f64)>,
    best: f64,
}

impl Task {
    fn new(seed: u64) -> Task {
        Task {
            rng: Rng::seed_from_u64(seed ^ 0x5eed),
            hidden: vec![(0.0, 0.0)],
            best: 0.0,
        }
    }

    fn answer(&mut self, node: u32, action: u16) -> f64 {
        let (k, r) = if action == 0 { (2.0, 0.3) } else { (3.0, 0.15) };
        let (c, q) = if node == 0 {
            let (u, v) = (self.rng.next_f64(), self.rng.next_f64());
            let c: f64 = u.powf(k);
            (c, c * (0.3 + 0.5 * v))
        } else {
            let (c, q) = self.hidden[node as usize];
            let u1 = self.rng.next_f64_open();
            let u2 = self.rng.next_f64();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (c, (q + r * (c - q) + 0.05 * z).clamp(0.0, c))
        };
        self.hidden.push((c, q));
        self.best = self.best.max(q);
        q
    }
}

fn config(algo: &str, actions: usize, seed: u64) -> String {
    let names = if actions == 2 {
        r#"["A", "B"]"#
    } else {
        r#"["A"]"#
    };
    let base = match algo {
        "ab_gaussian" => r#""algorithm": "ab_mcts_a", "prior": {"type": "gaussian"}"#,
        "ab_beta" => r#""algorithm": "ab_mcts_a", "prior": {"type": "beta"}"#,
        "standard_mcts" => r#""algorithm": "standard_mcts""#,
        "best_first" => r#""algorithm": "best_first""#,
        "repeated_sampling" => r#""algorithm": "repeated_sampling""#,
        "ab_m" => r#""algorithm": "ab_mcts_m""#,
        "ab_gaussian_predictive" => {
            r#""algorithm": "ab_mcts_a", "prior": {"type": "gaussian"}, "widening": "predictive""#
        }
        "ab_beta_predictive" => {
            r#""algorithm": "ab_mcts_a", "prior": {"type": "beta"}, "widening": "predictive""#
        }
        other => panic!("unknown algorithm {other}"),
    };
    format!(r#"{{{base}, "actions": {names}, "seed": {seed}}}"#)
}

/// One run; returns (best, seconds in ask+tell).
fn run(algo: &str, actions: usize, n: usize, seed: u64) -> (f64, f64, Search) {
    let mut s = Search::from_json(&config(algo, actions, seed)).unwrap();
    let mut task = Task::new(seed);
    let mut spent = 0.0;
    for _ in 0..n {
        let t0 = Instant::now();
        let t = s.ask(1).unwrap()[0];
        spent += t0.elapsed().as_secs_f64();
        let q = task.answer(t.node, t.action);
        let t0 = Instant::now();
        s.tell(t.id, q, Payload::None).unwrap();
        spent += t0.elapsed().as_secs_f64();
    }
    (task.best, spent, s)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let algo = arg(&args, "--algo").unwrap_or_else(|| "ab_gaussian".into());
    let actions: usize = arg(&args, "--actions").map_or(1, |a| a.split(',').count());
    let n: usize = arg(&args, "--n").map_or(1000, |v| v.parse().unwrap());
    let seeds: u64 = arg(&args, "--seeds").map_or(10, |v| v.parse().unwrap());
    match args.first().map(String::as_str) {
        Some("quality") => {
            for seed in 0..seeds {
                let (best, seconds, _) = run(&algo, actions, n, seed);
                println!(
                    r#"{{"side": "gaia", "algo": "{algo}", "actions": {actions}, "n": {n}, "seed": {seed}, "best": {best}, "seconds": {seconds}}}"#
                );
            }
        }
        Some("speed") => {
            // Microseconds per ask+tell over the last 1000 steps before n (steady state).
            let mut s = Search::from_json(&config(&algo, actions, 1)).unwrap();
            let mut task = Task::new(1);
            let mut spent = 0.0;
            for i in 0..n {
                let t0 = Instant::now();
                let t = s.ask(1).unwrap()[0];
                let d1 = t0.elapsed().as_secs_f64();
                let q = task.answer(t.node, t.action);
                let t0 = Instant::now();
                s.tell(t.id, q, Payload::None).unwrap();
                if i + 1000 >= n {
                    spent += d1 + t0.elapsed().as_secs_f64();
                }
            }
            let last = n.min(1000) as f64;
            let depth = (0..s.len() as u32)
                .filter_map(|i| s.node(i).ok().map(|x| x.depth))
                .max()
                .unwrap_or(0);
            let width = s.node(0).map(|r| r.children).unwrap_or(0);
            let t0 = Instant::now();
            let snap = s.save();
            let save = t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            let back = Search::load(&snap).unwrap();
            let load = t0.elapsed().as_secs_f64();
            assert_eq!(back.len(), s.len());
            println!(
                r#"{{"side": "gaia", "mode": "speed", "algo": "{algo}", "actions": {actions}, "n": {n}, "us_per_step": {}, "save_ms": {}, "load_ms": {}, "snapshot_bytes": {}, "max_depth": {depth}, "root_width": {width}}}"#,
                spent / last * 1e6,
                save * 1e3,
                load * 1e3,
                snap.len()
            );
        }
        Some("memory") => {
            let before = LIVE.load(Ordering::Relaxed);
            let (_, _, s) = run(&algo, actions, n, 1);
            let after = LIVE.load(Ordering::Relaxed);
            println!(
                r#"{{"side": "gaia", "mode": "memory", "algo": "{algo}", "n": {n}, "bytes_per_node": {}}}"#,
                (after - before) as f64 / s.len() as f64
            );
        }
        _ => {
            eprintln!("usage: mcts_hqr quality|speed|memory [--algo A] [--actions A,B] [--n N] [--seeds S]");
            std::process::exit(2);
        }
    }
}
