//! Gaia's half of the infer benchmark (`bench/infer`): the same measurements as
//! `bench/infer/reference_bench.py` makes of sentence-transformers and ONNX Runtime, one
//! JSON object per line on stdout.
//!
//! ```sh
//! cargo run --release -p gaia-core --example infer_bench -- embed MODEL_DIR CORPUS --threads 1 [--quick]
//! cargo run --release -p gaia-core --example infer_bench -- index [--rows 100000] [--dim 384]
//! ```
//!
//! `embed`: model open time, RSS after open, sentences/s at batch 32 over the corpus in
//! file order (after one warm-up batch), batch-1 latency p50/p99 over the first 300
//! sentences. `index`: top-10 query time over random unit vectors for each storage, one
//! query at a time and in batches of 64.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark example")]

use std::time::Instant;

use gaia_core::infer::{Embedder, EmbedderOptions, Index, IndexOptions, Storage};
use serde_json::json;

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn embed(args: &[String]) {
    let model = &args[0];
    let corpus = std::fs::read_to_string(&args[1]).unwrap();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|s| s.parse::<usize>().unwrap())
    };
    let threads = flag("--threads").unwrap_or(1);
    let quick = args.iter().any(|a| a == "--quick");
    let latency_only = args.iter().any(|a| a == "--latency-only");
    let mut lines: Vec<&[u8]> = corpus.lines().map(str::as_bytes).collect();
    let (n_lat, n_tp) = if quick {
        (100, 256)
    } else {
        (300, lines.len())
    };
    lines.truncate(n_tp);

    let t = Instant::now();
    let e = Embedder::open(
        model,
        &EmbedderOptions {
            threads,
            cache: false,
            ..Default::default()
        },
    )
    .unwrap();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss = rss_mb();
    let dim = e.dim();
    let mut out = vec![0.0f32; 32 * dim];
    e.embed(&lines[..32], true, &mut out).unwrap();
    let t = Instant::now();
    for chunk in lines
        .chunks(32)
        .take(if latency_only { 0 } else { usize::MAX })
    {
        e.embed(chunk, true, &mut out[..chunk.len() * dim]).unwrap();
    }
    let tp = lines.len() as f64 / t.elapsed().as_secs_f64();
    for l in &lines[..5] {
        e.embed(&[l], true, &mut out[..dim]).unwrap();
    }
    let mut lat: Vec<f64> = lines[..n_lat.min(lines.len())]
        .iter()
        .map(|l| {
            let t = Instant::now();
            e.embed(&[l], true, &mut out[..dim]).unwrap();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"engine": "gaia", "threads": threads, "load_ms": load_ms, "rss_mb": rss,
               "batch32_sent_per_s": tp, "batch1_p50_ms": percentile(&lat, 0.5), "batch1_p99_ms": percentile(&lat, 0.99),
               "sentences": lines.len(), "rss_after_mb": rss_mb()})
    );
}

fn index(args: &[String]) {
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|s| s.parse::<usize>().unwrap())
    };
    let rows = flag("--rows").unwrap_or(100_000);
    let dim = flag("--dim").unwrap_or(384);
    let threads = flag("--threads").unwrap_or(1);
    let mut rng = gaia_core::stats::Rng::seed_from_u64(42);
    let data: Vec<f32> = (0..rows * dim)
        .map(|_| rng.next_f64() as f32 - 0.5)
        .collect();
    let queries: Vec<f32> = (0..64 * dim).map(|_| rng.next_f64() as f32 - 0.5).collect();
    let ids: Vec<u64> = (0..rows as u64).collect();
    for storage in [Storage::F32, Storage::F16, Storage::Int8] {
        let mut idx = Index::new(IndexOptions {
            dim,
            storage,
            threads,
            ..Default::default()
        })
        .unwrap();
        idx.add(&ids, &data).unwrap();
        let _ = idx.search(&queries[..dim], 10).unwrap();
        let t = Instant::now();
        let mut found = 0;
        for q in queries.chunks_exact(dim) {
            found += idx.search(q, 10).unwrap().len();
        }
        let single = t.elapsed().as_secs_f64() * 1e3 / 64.0;
        let t = Instant::now();
        let b = idx.search_batch(&queries, 10).unwrap();
        let batch = t.elapsed().as_secs_f64() * 1e3 / 64.0;
        assert_eq!(found, 640);
        assert_eq!(b.len(), 64);
        println!(
            "{}",
            json!({"engine": "gaia-index", "storage": format!("{storage:?}").to_lowercase(), "rows": rows, "dim": dim, "threads": threads,
                   "top10_ms_per_query": single, "top10_batch64_ms_per_query": batch})
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("embed") => embed(&args[1..]),
        Some("index") => index(&args[1..]),
        _ => {
            eprintln!("usage: infer_bench embed MODEL_DIR CORPUS [--threads N] [--quick] | index [--rows N] [--dim D] [--threads N]");
            std::process::exit(2);
        }
    }
}
