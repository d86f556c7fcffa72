//! `gaia sync` end to end: the built binary against the real MariaDB and Solr started by
//! `scripts/services.sh` (fixture tables through the `mariadb` client).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Held by each test that writes to the servers. An incremental pass reads up to one second
/// below the oldest open InnoDB transaction on the whole server, so another test's rebuild or
/// bulk insert running meanwhile would (rightly) widen the pass this file counts rows of.
static SERVERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn servers() -> std::sync::MutexGuard<'static, ()> {
    SERVERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const HINT: &str =
    "run `bash scripts/services.sh start all && eval \"$(bash scripts/services.sh env)\"` first";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set; {HINT}"))
}

fn gaia() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gaia"))
}

fn sql(statement: &str) {
    let mut child = Command::new("mariadb")
        .arg(format!(
            "--defaults-file={}",
            env("GAIA_MARIADB_CLIENT_CNF")
        ))
        .stdin(Stdio::piped())
        .spawn()
        .expect("the mariadb client");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), statement.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success(), "SQL failed: {statement}");
}

fn solr_count(core: &str) -> i64 {
    let out = Command::new("curl")
        .args([
            "-s",
            &format!(
                "{}/{core}/select?q=*:*&rows=0&wt=json",
                env("GAIA_SOLR_URL")
            ),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["response"]["numFound"].as_i64().unwrap_or(-1)
}

/// A table of `rows` rows, its core name, a state folder, and cleanup on drop.
struct Fixture {
    name: String,
    dir: PathBuf,
}

impl Fixture {
    fn new(tag: &str, rows: usize) -> Fixture {
        let name = format!("cli_{}_{tag}", std::process::id());
        let dir = std::env::temp_dir().join(format!("gaia-cli-test-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        sql(&format!(
            "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id BIGINT PRIMARY KEY, \
             title VARCHAR(200), updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) \
             ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4; \
             INSERT INTO {name} (id, title) SELECT seq, CONCAT('título ', seq) FROM seq_1_to_{rows};"
        ));
        Fixture { name, dir }
    }

    /// Writes a TOML configuration with the given tuning lines and returns its path.
    fn toml(&self, column: &str, tuning: &str) -> PathBuf {
        let path = self.dir.join("sync.toml");
        std::fs::write(
            &path,
            format!(
                "mariadb_url = \"{}\"\nsolr_url = \"{}\"\ncore = \"{}\"\nstate_dir = \"{}\"\n\n\
                 [mapping]\ntable = \"{}\"\nprimary_key = \"id\"\nversion_column = \"updated_at\"\n\
                 fields = [{{ column = \"{column}\", field = \"title_t\" }}]\n\n[tuning]\n{tuning}\n",
                env("GAIA_MARIADB_URL"),
                env("GAIA_SOLR_URL"),
                self.name,
                self.dir.join("state").display(),
                self.name
            ),
        )
        .unwrap();
        path
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                &format!(
                    "{}/admin/cores?action=UNLOAD&core={}&deleteInstanceDir=true",
                    env("GAIA_SOLR_URL"),
                    self.name
                ),
            ])
            .status();
        sql(&format!("DROP TABLE IF EXISTS {}", self.name));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn report(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "gaia sync failed: {:?}\n{}",
        o.status,
        text(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout)))
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    let o = gaia().args(["sync"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--config FILE is required"));
    let o = gaia()
        .args(["sync", "--config", "x.json", "--sideways"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown option \"--sideways\""));
    let o = gaia()
        .args(["sync", "--config", "x.json", "--mode", "sideways"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("\"sideways\""),
        "{}",
        text(&o.stderr)
    );
    let o = gaia()
        .args(["sync", "--config", "/nonexistent/sync.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/nonexistent/sync.json"));
    let dir = std::env::temp_dir().join(format!("gaia-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"mariadb_url\": ").unwrap();
    let o = gaia()
        .args(["sync", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("bad.json"), "{}", text(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    let o = gaia().args(["sync", "--help"]).output().unwrap();
    assert!(o.status.success() && text(&o.stdout).contains("exit status"));
}

#[test]
fn toml_config_full_then_incremental_with_metrics_and_check() {
    let _servers = servers();
    let fx = Fixture::new("toml", 3000);
    // Rows older than lag_ms, so the incremental pass starts after them.
    std::thread::sleep(Duration::from_millis(400));

    // A mapping naming a missing column: exit 2 before any write, naming the column.
    let cfg = fx.toml("tytle", "lag_ms = 200");
    let o = gaia()
        .args(["sync", "--check", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("tytle"), "{}", text(&o.stderr));
    assert_eq!(solr_count(&fx.name), -1, "no core was created");

    let cfg = fx.toml("title", "chunk_rows = 500\nlag_ms = 200");
    let o = gaia()
        .args(["sync", "--check", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));

    let metrics = fx.dir.join("gaia.prom");
    let o = gaia()
        .args(["sync", "--progress", "0", "--config"])
        .arg(&cfg)
        .arg("--metrics-file")
        .arg(&metrics)
        .output()
        .unwrap();
    let r = report(&o);
    assert_eq!(r["mode"], "full");
    assert_eq!(r["docs_written"], 3000);
    assert_eq!(r["verified_count"], 3000);
    assert_eq!(r["swapped"], true);
    assert_eq!(solr_count(&fx.name), 3000);
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains(&format!(
            "gaia_sync_docs_written{{core=\"{}\"}} 3000",
            fx.name
        )),
        "{prom}"
    );

    sql(&format!(
        "UPDATE {0} SET title = 'changed' WHERE id <= 5; INSERT INTO {0} (id, title) VALUES (9001, 'new');",
        fx.name
    ));
    std::thread::sleep(Duration::from_millis(400));
    let o = gaia()
        .args(["sync", "--progress", "0", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let r = report(&o);
    assert_eq!(r["mode"], "incremental", "auto picks incremental: {r}");
    assert_eq!(r["rows_read"], 6);
    assert_eq!(solr_count(&fx.name), 3001);
}

#[test]
fn sigterm_cancels_keeps_the_checkpoint_and_the_next_run_resumes() {
    let _servers = servers();
    let fx = Fixture::new("term", 30000);
    let cfg = fx.toml(
        "title",
        "chunk_rows = 200\nbatch_docs = 50\nwriters = 1\nqueue_batches = 1\nlag_ms = 200",
    );
    let mut child = gaia()
        .args(["sync", "--mode", "full", "--progress", "0.1", "--config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for a progress line showing rows read, then SIGTERM.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let t0 = Instant::now();
    let mut stderr = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        stderr.push_str(&line);
        stderr.push('\n');
        if line.starts_with("building:") && !line.starts_with("building: 0 ") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no progress: {stderr}"
        );
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    for line in lines {
        stderr.push_str(&line.unwrap());
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert_eq!(solr_count(&fx.name), -1, "the live core was not swapped in");

    let o = gaia()
        .args(["sync", "--mode", "full", "--progress", "0", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let r = report(&o);
    assert!(
        r["resumed_from_chunk"].as_u64().unwrap_or(0) > 0,
        "resumed: {r}"
    );
    assert_eq!(r["verified_count"], 30000);
    assert_eq!(solr_count(&fx.name), 30000);
}
