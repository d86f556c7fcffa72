//! Measures the sync engine against the real servers (`scripts/services.sh start all`):
//! a full rebuild of N realistic rows (text body, DECIMAL, ENUM, JSON, DATETIME(6), 1-5 tags
//! per row from a join table), then an incremental pass over M changed rows.
//!
//! ```sh
//! eval "$(scripts/services.sh env)"
//! cargo run --release -p gaia-core --example sync_bench -- 100000 10000
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program"
)]

#[cfg(not(feature = "sync"))]
fn main() {
    eprintln!("build with the `sync` feature");
}

#[cfg(feature = "sync")]
fn main() {
    bench::main();
}

#[cfg(feature = "sync")]
mod bench {
    use std::time::Instant;

    use gaia_core::sync::{Mode, Sync};
    use mysql_async::prelude::Queryable;
    use serde_json::json;

    fn rss_peak_mb() -> f64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
            })
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    pub fn main() {
        let mut args = std::env::args().skip(1);
        let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
        let changes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let db = std::env::var("GAIA_MARIADB_URL")
            .unwrap_or_else(|_| "mysql://gaia:gaia-pass@127.0.0.1:3307/gaia".into());
        let solr =
            std::env::var("GAIA_SOLR_URL").unwrap_or_else(|_| "http://127.0.0.1:8983/solr".into());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut conn = rt
            .block_on(mysql_async::Conn::new(
                mysql_async::Opts::from_url(&db).unwrap(),
            ))
            .expect("MariaDB unreachable: start it with scripts/services.sh start all");
        let mut q = |sql: String| rt.block_on(conn.query_drop(sql)).unwrap();
        q("DROP TABLE IF EXISTS bench_items, bench_tags".into());
        q("CREATE TABLE bench_items (id BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL, body TEXT, \
           price DECIMAL(12,2), status ENUM('draft','live','archived') NOT NULL, attrs JSON, \
           published DATETIME(6), updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) \
           ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4"
            .into());
        q("CREATE TABLE bench_tags (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id BIGINT NOT NULL, \
           tag VARCHAR(40) NOT NULL, updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) \
           ON UPDATE CURRENT_TIMESTAMP(6), KEY (item_id), KEY (updated_at, item_id)) DEFAULT CHARSET=utf8mb4"
            .into());
        let t0 = Instant::now();
        let words = [
            "alpha",
            "Bravo",
            "チャーリー",
            "delta",
            "écho",
            "foxtrot",
            "高尔夫",
            "hotel",
            "india",
            "🚀",
        ];
        let mut i = 1usize;
        while i <= n {
            let end = (i + 1999).min(n);
            let rows: Vec<String> = (i..=end)
                .map(|k| {
                    let body: Vec<&str> = (0..40).map(|j| words[(k * 7 + j * 3) % words.len()]).collect();
                    format!(
                        "({k}, 'Item {k} {}', '{}', {}.{:02}, '{}', '{{\"color\": \"c{}\", \"w\": {}}}', '2024-01-01 00:00:00' + INTERVAL {k} SECOND)",
                        words[k % words.len()],
                        body.join(" "),
                        k % 1000,
                        k % 100,
                        ["draft", "live", "archived"][k % 3],
                        k % 17,
                        k % 100
                    )
                })
                .collect();
            q(format!(
                "INSERT INTO bench_items (id, title, body, price, status, attrs, published) VALUES {}",
                rows.join(",")
            ));
            let tags: Vec<String> = (i..=end)
                .flat_map(|k| {
                    (0..(1 + k % 5)).map(move |j| format!("({k}, 'tag{}')", (k + j) % 50))
                })
                .collect();
            q(format!(
                "INSERT INTO bench_tags (item_id, tag) VALUES {}",
                tags.join(",")
            ));
            i = end + 1;
        }
        println!("loaded {n} rows in {:.1} s", t0.elapsed().as_secs_f64());

        let state = std::env::temp_dir().join("gaia-sync-bench");
        let _ = std::fs::remove_dir_all(&state);
        let config = json!({
            "mariadb_url": db, "solr_url": solr, "core": "bench_items",
            "state_dir": state.display().to_string(),
            "mapping": {
                "table": "bench_items", "primary_key": "id", "version_column": "updated_at",
                "fields": [
                    {"column": "title", "field": "title_t"},
                    {"column": "body", "field": "body_t"},
                    {"column": "price", "field": "price_s", "type": "decimal", "double_field": "price_d"},
                    {"column": "status", "field": "status_s"},
                    {"column": "published", "field": "published_dt"},
                    {"column": "attrs", "type": "json", "paths": [
                        {"path": "$.color", "field": "color_s", "type": "string"},
                        {"path": "$.w", "field": "w_i", "type": "int"}]}
                ],
                "children": [{"table": "bench_tags", "foreign_key": "item_id", "version_column": "updated_at",
                              "fields": [{"column": "tag", "field": "tags_ss"}]}]
            },
            "tuning": {"lag_ms": 200}
        });
        let sync = Sync::new(&config.to_string()).unwrap();
        // Unload a core left by an earlier run, so the rebuild is timed from scratch.
        let _ = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                &format!(
                    "{solr}/admin/cores?action=UNLOAD&core=bench_items&deleteInstanceDir=true"
                ),
            ])
            .status();
        let r = sync.run(Mode::Full).unwrap();
        println!(
            "full rebuild: {} rows, {} docs in {:.2} s = {:.0} rows/s ({} chunks, verified {:?}), peak RSS {:.0} MB",
            r.rows_read,
            r.docs_written,
            r.elapsed_s,
            r.rows_per_s,
            r.chunks,
            r.verified_count,
            rss_peak_mb()
        );
        let changes = changes.min(n);
        let step = (n / changes.max(1)).max(1);
        q(format!(
            "UPDATE bench_items SET title = CONCAT(title, ' changed'), price = price + 1 WHERE id % {step} = 0 LIMIT {changes}"
        ));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let t = Instant::now();
        let r = sync.run(Mode::Incremental).unwrap();
        println!(
            "incremental: {} changed rows, {} docs in {:.3} s (including Solr commit), peak RSS {:.0} MB",
            r.rows_read,
            r.docs_written,
            t.elapsed().as_secs_f64(),
            rss_peak_mb()
        );
        let t = Instant::now();
        let r = sync.run(Mode::Incremental).unwrap();
        println!(
            "empty incremental pass: {} rows in {:.3} s",
            r.rows_read,
            t.elapsed().as_secs_f64()
        );
        println!(
            "{}",
            sync.metrics()
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
        );
        q("DROP TABLE bench_items, bench_tags".into());
    }
}
