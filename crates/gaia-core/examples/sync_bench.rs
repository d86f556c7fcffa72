//! Measures the sync engine against the real servers (`scripts/services.sh start all`) on
//! realistic rows (text body, DECIMAL, ENUM, JSON, DATETIME(6), 1-5 tags per row from a join
//! table): a full rebuild, then an incremental pass over M changed rows. The steps are
//! subcommands, each printing one JSON line, so that `bench/sync/run.sh` can put the same data
//! through gaia, curl (Solr's ceiling) and a Python script:
//!
//! ```sh
//! eval "$(scripts/services.sh env)"
//! B=target/release/examples/sync_bench
//! $B load --rows 1000000               # (re)creates bench_items + bench_tags
//! $B gaia-full --core bench_items --state /tmp/gaia-sync-bench/state
//! $B export-json --out DIR             # the documents gaia writes, as JSON files of batch_docs
//! $B change --rows 1000000 --changes 10000
//! $B gaia-incremental --core bench_items --state /tmp/gaia-sync-bench/state
//! $B export-json --out DIR --changed --rows 1000000 --changes 10000
//! $B drop                              # drops both tables
//! ```
//!
//! `sync_bench N M` (two numbers) does load, full, change, incremental and drop in one process
//! and prints a summary, as it always did:
//! `cargo run --release -p gaia-core --example sync_bench -- 100000 10000`.
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
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use gaia_core::sync::{Mode, Phase, Sync, Tuning};
    use mysql_async::prelude::Queryable;
    use serde_json::{json, Value as Json};

    /// Rows per INSERT while loading.
    const LOAD_BATCH: usize = 2000;

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

    fn db_url() -> String {
        std::env::var("GAIA_MARIADB_URL")
            .unwrap_or_else(|_| "mysql://gaia:gaia-pass@127.0.0.1:3307/gaia".into())
    }

    fn solr_url() -> String {
        std::env::var("GAIA_SOLR_URL").unwrap_or_else(|_| "http://127.0.0.1:8983/solr".into())
    }

    /// `--name value` options after the subcommand.
    struct Args(Vec<String>);

    impl Args {
        fn get(&self, name: &str) -> Option<&str> {
            let flag = format!("--{name}");
            self.0
                .iter()
                .position(|a| *a == flag)
                .and_then(|i| self.0.get(i + 1))
                .map(String::as_str)
        }
        fn num(&self, name: &str, default: usize) -> usize {
            self.get(name).map_or(default, |v| {
                v.replace(['_', ','], "")
                    .parse()
                    .unwrap_or_else(|_| panic!("--{name}: not a number: {v}"))
            })
        }
        fn flag(&self, name: &str) -> bool {
            self.0.iter().any(|a| *a == format!("--{name}"))
        }
        fn core(&self) -> String {
            self.get("core").unwrap_or("bench_items").to_string()
        }
        fn state(&self) -> PathBuf {
            self.get("state").map_or_else(
                || std::env::temp_dir().join("gaia-sync-bench").join("state"),
                PathBuf::from,
            )
        }
    }

    /// A blocking MariaDB connection for the bench's own SQL.
    struct Db {
        rt: tokio::runtime::Runtime,
        conn: mysql_async::Conn,
    }

    impl Db {
        fn connect() -> Db {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let opts = mysql_async::Opts::from_url(&db_url()).unwrap();
            let conn = rt
                .block_on(mysql_async::Conn::new(opts))
                .expect("MariaDB unreachable: start it with scripts/services.sh start all");
            let mut db = Db { rt, conn };
            db.exec("SET time_zone = '+00:00', NAMES utf8mb4");
            db
        }
        fn exec(&mut self, sql: &str) {
            self.rt
                .block_on(self.conn.query_drop(sql))
                .unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(200)]));
        }
        /// Every row as text (the text protocol), NULL as None.
        fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
            let rows: Vec<mysql_async::Row> = self
                .rt
                .block_on(self.conn.query(sql))
                .unwrap_or_else(|e| panic!("{e}: {sql}"));
            rows.into_iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.get::<Option<String>, _>(i).flatten())
                        .collect()
                })
                .collect()
        }
        fn count(&mut self, sql: &str) -> u64 {
            self.rows(sql)[0][0].as_deref().unwrap().parse().unwrap()
        }
    }

    /// The rows: `n` items with a 40-word body in several scripts, a DECIMAL price, an ENUM
    /// status, a JSON object, a DATETIME(6), and 1-5 tags each in `bench_tags`.
    fn load(db: &mut Db, n: usize) -> Json {
        db.exec("DROP TABLE IF EXISTS bench_items, bench_tags");
        db.exec(
            "CREATE TABLE bench_items (id BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL, body TEXT, \
             price DECIMAL(12,2), status ENUM('draft','live','archived') NOT NULL, attrs JSON, \
             published DATETIME(6), updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) \
             ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4",
        );
        db.exec(
            "CREATE TABLE bench_tags (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id BIGINT NOT NULL, \
             tag VARCHAR(40) NOT NULL, updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) \
             ON UPDATE CURRENT_TIMESTAMP(6), KEY (item_id), KEY (updated_at, item_id)) DEFAULT CHARSET=utf8mb4",
        );
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
            let end = (i + LOAD_BATCH - 1).min(n);
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
            db.exec(&format!(
                "INSERT INTO bench_items (id, title, body, price, status, attrs, published) VALUES {}",
                rows.join(",")
            ));
            let tags: Vec<String> = (i..=end)
                .flat_map(|k| {
                    (0..(1 + k % 5)).map(move |j| format!("({k}, 'tag{}')", (k + j) % 50))
                })
                .collect();
            db.exec(&format!(
                "INSERT INTO bench_tags (item_id, tag) VALUES {}",
                tags.join(",")
            ));
            i = end + 1;
        }
        let seconds = t0.elapsed().as_secs_f64();
        let tag_rows = db.count("SELECT COUNT(*) FROM bench_tags");
        json!({"step": "load", "rows": n, "tag_rows": tag_rows, "seconds": seconds})
    }

    /// The changed rows: every `step`-th id, `changes` of them (deterministic, so the curl
    /// side can export exactly these).
    fn changed_pred(n: usize, changes: usize) -> String {
        let changes = changes.clamp(1, n.max(1));
        let step = (n / changes).max(1);
        format!("id % {step} = 0 AND id <= {}", step * changes)
    }

    fn change(db: &mut Db, n: usize, changes: usize) -> Json {
        let t = Instant::now();
        db.exec(&format!(
            "UPDATE bench_items SET title = CONCAT(title, ' changed'), price = price + 1 WHERE {}",
            changed_pred(n, changes)
        ));
        let seconds = t.elapsed().as_secs_f64();
        let changed = db.count("SELECT ROW_COUNT()");
        let at = db.rows("SELECT MAX(updated_at) FROM bench_items")[0][0].clone();
        json!({"step": "change", "changed": changed, "updated_at": at, "seconds": seconds})
    }

    /// The mapping every tool follows (gaia's default tuning).
    fn config(core: &str, state: &Path) -> String {
        json!({
            "mariadb_url": db_url(), "solr_url": solr_url(), "core": core,
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
            }
        })
        .to_string()
    }

    fn solr_get(path: &str) -> Json {
        let out = std::process::Command::new("curl")
            .args(["-s", &format!("{}/{path}", solr_url())])
            .output()
            .expect("curl");
        serde_json::from_slice(&out.stdout).unwrap_or(Json::Null)
    }

    /// Unloads a core left by an earlier run (and its folder).
    fn unload(core: &str) {
        let _ = solr_get(&format!(
            "admin/cores?action=UNLOAD&core={core}&deleteInstanceDir=true&wt=json"
        ));
    }

    /// Runs `f` while a thread records when the run enters each phase (seconds from start).
    fn with_phases<T>(sync: &Sync, f: impl FnOnce() -> T) -> (T, Vec<(Phase, f64)>) {
        let done = AtomicBool::new(false);
        let t0 = Instant::now();
        std::thread::scope(|s| {
            let watcher = s.spawn(|| {
                let mut seen: Vec<(Phase, f64)> = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let p = sync.progress().phase;
                    if seen.last().is_none_or(|(last, _)| *last != p) {
                        seen.push((p, t0.elapsed().as_secs_f64()));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                seen
            });
            let out = f();
            done.store(true, Ordering::Relaxed);
            (out, watcher.join().unwrap())
        })
    }

    fn phase_seconds(phases: &[(Phase, f64)], total: f64, which: Phase) -> Option<f64> {
        let i = phases.iter().position(|(p, _)| *p == which)?;
        let end = phases.get(i + 1).map_or(total, |(_, t)| *t);
        Some(end - phases[i].1)
    }

    fn metric(sync: &Sync, name: &str) -> f64 {
        sync.metrics()
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    fn gaia_full(core: &str, state: &Path) -> Json {
        let _ = std::fs::remove_dir_all(state);
        unload(core);
        let sync = Sync::new(&config(core, state)).unwrap();
        let t = Instant::now();
        let (r, phases) = with_phases(&sync, || sync.run(Mode::Full));
        let seconds = t.elapsed().as_secs_f64();
        let r = r.unwrap();
        json!({
            "tool": "gaia", "phase": "full", "core": core,
            "rows": r.rows_read, "docs": r.docs_written, "seconds": seconds,
            "rows_per_s": r.rows_read as f64 / seconds,
            "peak_rss_mb": rss_peak_mb(),
            "chunks": r.chunks, "verified_count": r.verified_count, "retries": r.retries,
            "bytes_sent": metric(&sync, "gaia_sync_bytes_sent"),
            // Validating: connect, schema checks, create the build core; building: read and
            // post; verifying: Solr's commit + a count; swapping: the rename.
            "phase_s": phases.iter().map(|(p, _)| {
                (format!("{p:?}").to_lowercase(), json!(phase_seconds(&phases, seconds, *p)))
            }).collect::<serde_json::Map<_, _>>(),
            "tuning": {"chunk_rows": Tuning::default().chunk_rows, "batch_docs": Tuning::default().batch_docs,
                       "writers": Tuning::default().writers, "lag_ms": Tuning::default().lag_ms},
        })
    }

    fn gaia_incremental(core: &str, state: &Path) -> Json {
        let sync = Sync::new(&config(core, state)).unwrap();
        let t = Instant::now();
        let r = sync.run(Mode::Incremental).unwrap();
        let seconds = t.elapsed().as_secs_f64();
        json!({
            "tool": "gaia", "phase": "incremental", "core": core,
            "rows": r.rows_read, "docs": r.docs_written, "seconds": seconds,
            "rows_per_s": r.rows_read as f64 / seconds,
            "peak_rss_mb": rss_peak_mb(), "pages": r.chunks, "retries": r.retries,
        })
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` (a DATETIME read as UTC) -> microseconds since the epoch.
    fn micros(text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.replace(' ', "T").parse().unwrap();
        dt.to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_microsecond()
    }

    /// Solr's date form: UTC, milliseconds only when not whole.
    fn iso(text: &str) -> String {
        let us = micros(text);
        let ts = jiff::Timestamp::from_microsecond(us.div_euclid(1000) * 1000).unwrap();
        let s = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        match us.div_euclid(1000).rem_euclid(1000) {
            0 => format!("{s}Z"),
            ms => format!("{s}.{ms:03}Z"),
        }
    }

    /// The documents gaia writes for these rows, built here independently of the engine
    /// (text protocol, own conversions), so that comparing the cores checks both.
    fn build_docs(db: &mut Db, where_: &str, last: i64, chunk: usize) -> Vec<(i64, Json)> {
        let rows = db.rows(&format!(
            "SELECT id, updated_at, title, body, price, status, published, attrs FROM bench_items \
             WHERE id > {last} AND {where_} ORDER BY id LIMIT {chunk}"
        ));
        let (Some(first), Some(end)) = (rows.first(), rows.last()) else {
            return Vec::new();
        };
        let (lo, hi) = (first[0].clone().unwrap(), end[0].clone().unwrap());
        let tags = db.rows(&format!(
            "SELECT item_id, tag, updated_at FROM bench_tags WHERE item_id BETWEEN {lo} AND {hi} \
             ORDER BY item_id, id"
        ));
        let mut t = 0usize;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r[0].as_deref().unwrap().parse().unwrap();
            let mut version = micros(r[1].as_deref().unwrap());
            let mut doc = serde_json::Map::new();
            doc.insert("id".into(), json!(id.to_string()));
            doc.insert("title_t".into(), json!(r[2]));
            if let Some(body) = &r[3] {
                doc.insert("body_t".into(), json!(body));
            }
            if let Some(price) = &r[4] {
                doc.insert("price_s".into(), json!(price));
                doc.insert("price_d".into(), json!(price.parse::<f64>().unwrap()));
            }
            doc.insert("status_s".into(), json!(r[5]));
            if let Some(p) = &r[6] {
                doc.insert("published_dt".into(), json!(iso(p)));
            }
            if let Some(a) = &r[7] {
                let a: Json = serde_json::from_str(a).unwrap();
                if let Some(c) = a.get("color").filter(|c| !c.is_null()) {
                    doc.insert("color_s".into(), json!(c.as_str().unwrap()));
                }
                if let Some(w) = a.get("w").and_then(Json::as_i64) {
                    doc.insert("w_i".into(), json!(w));
                }
            }
            let mut tag_vals = Vec::new();
            while t < tags.len() {
                let fk: i64 = tags[t][0].as_deref().unwrap().parse().unwrap();
                if fk > id {
                    break;
                }
                if fk == id {
                    tag_vals.push(json!(tags[t][1]));
                    // A child's version counts too: the document is as new as its newest part.
                    version = version.max(micros(tags[t][2].as_deref().unwrap()));
                }
                t += 1;
            }
            if !tag_vals.is_empty() {
                doc.insert("tags_ss".into(), Json::Array(tag_vals));
            }
            doc.insert("gaia_version_l".into(), json!(version));
            out.push((id, Json::Object(doc)));
        }
        out
    }

    /// Writes the documents as `batch-NNNNNN.json` files of `batch_docs` documents each (a JSON
    /// array, the body gaia posts to /update).
    fn export_json(db: &mut Db, out: &Path, where_: &str) -> Json {
        let t0 = Instant::now();
        let _ = std::fs::remove_dir_all(out);
        std::fs::create_dir_all(out).unwrap();
        let tuning = Tuning::default();
        let (mut files, mut docs, mut bytes) = (0usize, 0usize, 0u64);
        let mut batch: Vec<u8> = Vec::new();
        let mut in_batch = 0usize;
        let flush = |batch: &mut Vec<u8>, in_batch: &mut usize, files: &mut usize| {
            if *in_batch == 0 {
                return 0u64;
            }
            batch.push(b']');
            *files += 1;
            let path = out.join(format!("batch-{:06}.json", *files));
            std::fs::File::create(path)
                .unwrap()
                .write_all(batch)
                .unwrap();
            let n = batch.len() as u64;
            batch.clear();
            *in_batch = 0;
            n
        };
        let mut last = i64::MIN;
        loop {
            let chunk = build_docs(db, where_, last, tuning.chunk_rows);
            let Some((pk, _)) = chunk.last() else { break };
            last = *pk;
            for (_, d) in &chunk {
                let s = serde_json::to_vec(d).unwrap();
                let full = in_batch >= tuning.batch_docs
                    || (in_batch > 0 && batch.len() + s.len() + 2 > tuning.batch_bytes);
                if full {
                    bytes += flush(&mut batch, &mut in_batch, &mut files);
                }
                batch.push(if in_batch == 0 { b'[' } else { b',' });
                batch.extend_from_slice(&s);
                in_batch += 1;
                docs += 1;
            }
            // gaia cuts its batches at chunk ends too.
            bytes += flush(&mut batch, &mut in_batch, &mut files);
        }
        let line = json!({"step": "export-json", "dir": out.display().to_string(), "docs": docs,
               "files": files, "bytes": bytes, "seconds": t0.elapsed().as_secs_f64(),
               "batch_docs": tuning.batch_docs, "writers": tuning.writers});
        std::fs::write(out.join("manifest.json"), line.to_string()).unwrap();
        line
    }

    fn print(j: &Json) {
        println!("{j}");
    }

    /// The original one-process run: load, full, change, incremental, drop.
    fn legacy(n: usize, changes: usize) {
        let mut db = Db::connect();
        let l = load(&mut db, n);
        println!("loaded {n} rows in {:.1} s", l["seconds"].as_f64().unwrap());
        // Rows newer than the lag would be read again by the first incremental pass.
        std::thread::sleep(Duration::from_millis(Tuning::default().lag_ms + 200));
        let state = std::env::temp_dir().join("gaia-sync-bench").join("state");
        let f = gaia_full("bench_items", &state);
        println!(
            "full rebuild: {} rows in {:.2} s = {:.0} rows/s ({} chunks, verified {}), peak RSS {:.0} MB",
            f["rows"], f["seconds"].as_f64().unwrap(), f["rows_per_s"].as_f64().unwrap(),
            f["chunks"], f["verified_count"], f["peak_rss_mb"].as_f64().unwrap()
        );
        let c = change(&mut db, n, changes);
        std::thread::sleep(Duration::from_millis(Tuning::default().lag_ms + 200));
        let i = gaia_incremental("bench_items", &state);
        println!(
            "incremental: {} changed rows ({} updated), {} docs in {:.3} s (including Solr commit), peak RSS {:.0} MB",
            i["rows"], c["changed"], i["docs"], i["seconds"].as_f64().unwrap(),
            i["peak_rss_mb"].as_f64().unwrap()
        );
        let e = gaia_incremental("bench_items", &state);
        println!(
            "empty incremental pass: {} rows in {:.3} s",
            e["rows"],
            e["seconds"].as_f64().unwrap()
        );
        unload("bench_items");
        db.exec("DROP TABLE bench_items, bench_tags");
    }

    pub fn main() {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let cmd = argv.first().cloned().unwrap_or_default();
        if cmd.is_empty() || cmd.parse::<usize>().is_ok() {
            let n = argv.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
            let m = argv.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
            return legacy(n, m);
        }
        let a = Args(argv[1..].to_vec());
        let (n, m) = (a.num("rows", 1_000_000), a.num("changes", 10_000));
        match cmd.as_str() {
            "load" => print(&load(&mut Db::connect(), n)),
            "gaia-full" => print(&gaia_full(&a.core(), &a.state())),
            "gaia-incremental" => print(&gaia_incremental(&a.core(), &a.state())),
            "change" => print(&change(&mut Db::connect(), n, m)),
            "export-json" => {
                let out = PathBuf::from(a.get("out").expect("--out DIR"));
                let where_ = if a.flag("changed") {
                    changed_pred(n, m)
                } else {
                    "TRUE".into()
                };
                print(&export_json(&mut Db::connect(), &out, &where_));
            }
            "drop" => Db::connect().exec("DROP TABLE IF EXISTS bench_items, bench_tags"),
            other => {
                eprintln!(
                    "unknown subcommand {other:?}: load, gaia-full, export-json, change, \
                     gaia-incremental, drop (or: sync_bench ROWS CHANGES)"
                );
                std::process::exit(2);
            }
        }
    }
}
