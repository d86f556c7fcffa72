//! The sync engine against the real MariaDB and Solr started by `scripts/services.sh`.
//! Each test uses its own tables and cores (unique names), so they run in parallel.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use gaia_core::sync::{Error, Mode, Sync};
use mysql_async::prelude::Queryable;
use mysql_async::Value;
use serde_json::{json, Value as Json};

/// Held shared by tests that run incremental passes, exclusively by the test that keeps a
/// transaction open on purpose (it caps every incremental pass on the server).
static OPEN_TRX: RwLock<()> = RwLock::new(());

const HINT: &str = "start them with scripts/services.sh start all";

/// Every test holds this shared; the tests that stop and restart a server hold it
/// exclusively, so no other test sees the outage.
static SERVERS: RwLock<()> = RwLock::new(());

/// A test's hold on the servers.
#[allow(dead_code, reason = "held for its Drop")]
enum ServersGuard {
    Shared(std::sync::RwLockReadGuard<'static, ()>),
    Exclusive(std::sync::RwLockWriteGuard<'static, ()>),
}

fn db_url() -> String {
    std::env::var("GAIA_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://gaia:gaia-pass@127.0.0.1:3307/gaia".into())
}
fn solr_url() -> String {
    std::env::var("GAIA_SOLR_URL").unwrap_or_else(|_| "http://127.0.0.1:8983/solr".into())
}

struct Fx {
    name: String,
    /// The Solr this fixture's syncs write to: the standalone one, or the SolrCloud cluster.
    solr: String,
    cloud: bool,
    /// Released after Drop has cleaned up (fields drop after `drop`).
    _servers: ServersGuard,
    rt: tokio::runtime::Runtime,
    conn: std::sync::Mutex<Option<mysql_async::Conn>>,
    http: reqwest::Client,
    state_dir: std::path::PathBuf,
    tables: std::sync::Mutex<Vec<String>>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl Fx {
    fn new(tag: &str) -> Fx {
        let g = SERVERS.read().unwrap_or_else(|e| e.into_inner());
        Fx::with_guard(tag, ServersGuard::Shared(g))
    }

    /// A fixture for a test that stops and restarts servers: no other test runs meanwhile.
    fn exclusive(tag: &str) -> Fx {
        let g = SERVERS.write().unwrap_or_else(|e| e.into_inner());
        Fx::with_guard(tag, ServersGuard::Exclusive(g))
    }

    /// A fixture whose syncs write to the two-node SolrCloud of `scripts/services.sh`
    /// (`GAIA_SOLRCLOUD_URL`): the live name is an alias, each rebuild a collection.
    fn cloud(tag: &str) -> Fx {
        let g = SERVERS.read().unwrap_or_else(|e| e.into_inner());
        let url = std::env::var("GAIA_SOLRCLOUD_URL").unwrap_or_else(|_| {
            panic!("GAIA_SOLRCLOUD_URL is not set; {HINT} (the solrcloud service)")
        });
        let mut fx = Fx::with_guard(tag, ServersGuard::Shared(g));
        fx.solr = url;
        fx.cloud = true;
        fx
    }

    fn with_guard(tag: &str, servers: ServersGuard) -> Fx {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let name = format!(
            "t{}_{}_{}",
            std::process::id() % 100_000,
            SEQ.fetch_add(1, Ordering::Relaxed),
            tag
        );
        let conn = Fx::connect(&rt);
        let http = reqwest::Client::new();
        let ping = rt.block_on(
            http.get(format!("{}/admin/cores?action=STATUS&wt=json", solr_url()))
                .send(),
        );
        if let Err(e) = ping {
            panic!("Solr at {} is unreachable ({e}); {HINT}", solr_url());
        }
        let state_dir = std::env::temp_dir().join(format!("gaia-sync-test-{name}"));
        let _ = std::fs::remove_dir_all(&state_dir);
        Fx {
            name,
            solr: solr_url(),
            cloud: false,
            _servers: servers,
            rt,
            conn: std::sync::Mutex::new(Some(conn)),
            http,
            state_dir,
            tables: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn connect(rt: &tokio::runtime::Runtime) -> mysql_async::Conn {
        rt.block_on(async {
            let opts = mysql_async::OptsBuilder::from_opts(
                mysql_async::Opts::from_url(&db_url()).unwrap(),
            )
            .init(vec!["SET time_zone = '+00:00'"]);
            tokio::time::timeout(Duration::from_secs(10), mysql_async::Conn::new(opts)).await
        })
        .unwrap_or_else(|_| panic!("MariaDB at {} does not answer; {HINT}", db_url()))
        .unwrap_or_else(|e| panic!("MariaDB at {} is unreachable ({e}); {HINT}", db_url()))
    }

    /// A new connection, after a MariaDB restart broke the old one.
    fn reconnect(&self) {
        *self.conn.lock().unwrap() = Some(Fx::connect(&self.rt));
    }

    fn t(&self, s: &str) -> String {
        let t = format!("{}_{s}", self.name);
        let mut tables = self.tables.lock().unwrap();
        if !tables.contains(&t) {
            tables.push(t.clone());
        }
        t
    }

    fn core(&self) -> String {
        format!("{}_core", self.name)
    }

    fn exec(&self, sql: &str) {
        let mut g = self.conn.lock().unwrap();
        let c = g.as_mut().unwrap();
        self.rt
            .block_on(c.query_drop(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        self.try_rows(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The rows of `sql`, or the server's error (e.g. a table another process creates
    /// later).
    fn try_rows(&self, sql: &str) -> Result<Vec<Vec<Value>>, mysql_async::Error> {
        let mut g = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let c = g.as_mut().unwrap();
        let rows: Vec<mysql_async::Row> = self.rt.block_on(c.query(sql))?;
        Ok(rows.into_iter().map(|r| r.unwrap()).collect())
    }

    fn solr_get(&self, path: &str) -> Json {
        let url = format!("{}/{path}", self.solr);
        self.rt.block_on(async {
            let r = self.http.get(&url).send().await.unwrap();
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
        })
    }

    fn solr_post(&self, path: &str, body: &Json) -> u16 {
        let url = format!("{}/{path}", self.solr);
        self.rt.block_on(async {
            self.http
                .post(&url)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    /// Every live document of the core, by id, without Solr's own fields.
    fn docs(&self, core: &str) -> BTreeMap<String, Json> {
        let j = self.solr_get(&format!(
            "{core}/select?q=*:*&rows=1000000&fl=*&sort=id+asc&wt=json"
        ));
        let mut out = BTreeMap::new();
        for d in j["response"]["docs"]
            .as_array()
            .unwrap_or_else(|| panic!("bad answer {j}"))
        {
            let mut d = d.as_object().unwrap().clone();
            d.remove("_version_");
            out.insert(d["id"].as_str().unwrap().to_string(), Json::Object(d));
        }
        out
    }

    /// This fixture's cores (SolrCloud: its collections and its alias).
    fn cores_like(&self) -> Vec<String> {
        let names: Vec<String> = if self.cloud {
            let c = self.solr_get("admin/collections?action=LIST&wt=json");
            let a = self.solr_get("admin/collections?action=LISTALIASES&wt=json");
            let mut n: Vec<String> = c["collections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            n.extend(a["aliases"].as_object().unwrap().keys().cloned());
            n
        } else {
            let j = self.solr_get("admin/cores?action=STATUS&indexInfo=false&wt=json");
            j["status"].as_object().unwrap().keys().cloned().collect()
        };
        let mut out: Vec<String> = names
            .into_iter()
            .filter(|k| k.starts_with(&self.name))
            .collect();
        out.sort();
        out
    }

    /// The collection the cloud fixture's alias points at.
    fn alias_target(&self) -> Option<String> {
        let a = self.solr_get("admin/collections?action=LISTALIASES&wt=json");
        a["aliases"][self.core()].as_str().map(str::to_string)
    }

    fn config(&self, mapping: Json, tuning: Json) -> String {
        json!({
            "mariadb_url": db_url(),
            "solr_url": self.solr,
            "core": self.core(),
            "state_dir": self.state_dir.display().to_string(),
            "mapping": mapping,
            "tuning": tuning,
        })
        .to_string()
    }
}

impl Drop for Fx {
    fn drop(&mut self) {
        let tables = self.tables.lock().map(|t| t.clone()).unwrap_or_default();
        for t in tables {
            // A test that failed inside `rows` poisoned the lock: still clean up.
            let mut g = self.conn.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = g.as_mut() {
                let _ = self
                    .rt
                    .block_on(c.query_drop(format!("DROP TABLE IF EXISTS `{t}`")));
            }
        }
        if self.cloud {
            let _ = self.solr_get(&format!(
                "admin/collections?action=DELETEALIAS&name={}&wt=json",
                self.core()
            ));
        }
        for core in self.cores_like() {
            let _ = self.solr_get(&if self.cloud {
                format!("admin/collections?action=DELETE&name={core}&wt=json")
            } else {
                format!("admin/cores?action=UNLOAD&core={core}&deleteInstanceDir=true&wt=json")
            });
        }
        if let Some(c) = self.conn.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = self.rt.block_on(c.disconnect());
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

fn s(v: &Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8(b.clone()).unwrap()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// The products schema used by most tests: root, tags (child), tombstones.
fn products_schema(fx: &Fx) -> (String, String, String, String) {
    let (p, tg, tomb, ttomb) = (fx.t("p"), fx.t("tags"), fx.t("p_del"), fx.t("tags_del"));
    fx.exec(&format!(
        "CREATE TABLE `{p}` (
           id BIGINT PRIMARY KEY,
           title VARCHAR(200) NOT NULL,
           body TEXT,
           price DECIMAL(20,4),
           status ENUM('draft','live','gone') NOT NULL DEFAULT 'live',
           attrs JSON,
           in_stock TINYINT(1) NOT NULL DEFAULT 1,
           published DATETIME(6),
           created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
           deleted TINYINT(1) NOT NULL DEFAULT 0,
           updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
           KEY (updated_at, id)
         ) DEFAULT CHARSET=utf8mb4"
    ));
    fx.exec(&format!(
        "CREATE TABLE `{tg}` (
           id BIGINT AUTO_INCREMENT PRIMARY KEY,
           product_id BIGINT NOT NULL,
           tag VARCHAR(50) NOT NULL,
           updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
           KEY (product_id), KEY (updated_at, product_id)
         ) DEFAULT CHARSET=utf8mb4"
    ));
    for t in [&tomb, &ttomb] {
        fx.exec(&format!(
            "CREATE TABLE `{t}` (
               seq BIGINT AUTO_INCREMENT PRIMARY KEY,
               key_id BIGINT NOT NULL,
               deleted_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
               KEY (deleted_at, key_id)
             )"
        ));
    }
    (p, tg, tomb, ttomb)
}

/// Mapping with the session time zone of the writer (the tests write in UTC).
fn products_mapping(p: &str, tg: &str, tomb: &str, ttomb: &str, tz: &str) -> Json {
    json!({
        "table": p, "primary_key": "id", "id_prefix": "p-", "version_column": "updated_at",
        "source_time_zone": tz,
        "fields": [
            {"column": "title", "field": "title_s"},
            {"column": "title", "field": "title_t", "type": "text"},
            {"column": "body", "field": "body_t"},
            {"column": "price", "field": "price_s", "type": "decimal", "double_field": "price_d"},
            {"column": "status", "field": "status_s", "type": "enum"},
            {"column": "in_stock", "field": "in_stock_b", "type": "bool"},
            {"column": "published", "field": "published_dt"},
            {"column": "created", "field": "created_dt"},
            {"column": "attrs", "type": "json", "paths": [
                {"path": "$.color", "field": "color_s", "type": "string"},
                {"path": "$.size.w", "field": "width_i", "type": "int"},
                {"path": "$.labels", "field": "labels_ss", "type": "string"}
            ]}
        ],
        "children": [{"table": tg, "foreign_key": "product_id", "order_by": "tag",
                      "version_column": "updated_at",
                      "fields": [{"column": "tag", "field": "tags_ss"}],
                      "tombstones": {"table": ttomb, "key_column": "key_id", "time_column": "deleted_at"}}],
        "soft_delete": {"column": "deleted", "deleted_values": [1]},
        "tombstones": {"table": tomb, "key_column": "key_id", "time_column": "deleted_at"}
    })
}

/// The projection of the database the index must equal: id -> (title, price, tags).
fn projection(
    fx: &Fx,
    p: &str,
    tg: &str,
) -> BTreeMap<String, (String, Option<String>, Vec<String>)> {
    let mut out = BTreeMap::new();
    for r in fx.rows(&format!(
        "SELECT p.id, p.title, CAST(p.price AS CHAR), \
         (SELECT GROUP_CONCAT(t.tag ORDER BY t.tag SEPARATOR '\\n') FROM `{tg}` t WHERE t.product_id = p.id) \
         FROM `{p}` p WHERE p.deleted = 0 ORDER BY p.id"
    )) {
        let tags = s(&r[3]).map(|t| t.split('\n').map(str::to_string).collect()).unwrap_or_default();
        out.insert(format!("p-{}", s(&r[0]).unwrap()), (s(&r[1]).unwrap(), s(&r[2]), tags));
    }
    out
}

fn index_view(fx: &Fx) -> BTreeMap<String, (String, Option<String>, Vec<String>)> {
    fx.docs(&fx.core())
        .into_iter()
        .map(|(id, d)| {
            let mut tags: Vec<String> = d
                .get("tags_ss")
                .and_then(Json::as_array)
                .map(|a| a.iter().map(|t| t.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            tags.sort();
            (
                id,
                (
                    d["title_s"].as_str().unwrap().to_string(),
                    d.get("price_s").and_then(Json::as_str).map(str::to_string),
                    tags,
                ),
            )
        })
        .collect()
}

fn assert_equal(fx: &Fx, p: &str, tg: &str) {
    let want = projection(fx, p, tg);
    let got = index_view(fx);
    if want != got {
        let missing: Vec<_> = want
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<_> = got
            .keys()
            .filter(|k| !want.contains_key(*k))
            .take(5)
            .collect();
        let differ: Vec<_> = want
            .iter()
            .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
            .take(3)
            .map(|(k, v)| (k.clone(), v.clone(), got[k].clone()))
            .collect();
        panic!(
            "index != database: {} vs {} docs; missing {missing:?}; extra {extra:?}; differ {differ:?}",
            want.len(),
            got.len()
        );
    }
}

fn fill(fx: &Fx, p: &str, tg: &str, n: usize) {
    let mut i = 1usize;
    while i <= n {
        let end = (i + 999).min(n);
        let vals: Vec<String> = (i..=end)
            .map(|k| {
                format!(
                    "({k}, 'Product {k} 製品 🚀', 'body of {k}', {k}.{:04}, '{}', '{{\"color\": \"c{}\", \"size\": {{\"w\": {k}}}}}', {}, '2024-03-01 10:00:00.5', 0)",
                    k % 10_000,
                    ["draft", "live", "gone"][k % 3],
                    k % 7,
                    k % 2
                )
            })
            .collect();
        fx.exec(&format!(
            "INSERT INTO `{p}` (id, title, body, price, status, attrs, in_stock, published, deleted) VALUES {}",
            vals.join(",")
        ));
        let tags: Vec<String> = (i..=end)
            .flat_map(|k| (0..(k % 4)).map(move |j| format!("({k}, 'tag{}')", (k + j) % 11)))
            .collect();
        if !tags.is_empty() {
            fx.exec(&format!(
                "INSERT INTO `{tg}` (product_id, tag) VALUES {}",
                tags.join(",")
            ));
        }
        i = end + 1;
    }
}

/// An incremental pass once the writes are older than the lag (200 ms in these tests).
fn inc_now(sync: &Sync) -> Result<gaia_core::sync::Report, Error> {
    std::thread::sleep(Duration::from_millis(300));
    sync.run(Mode::Incremental)
}

/// Incremental passes until one has covered every write made so far. Each pass stops one
/// second below the oldest open transaction on the server, and other tests (in this process
/// or another) open short ones, so a pass may legitimately stop early; the counters of all
/// passes are added up.
fn inc(fx: &Fx, sync: &Sync) -> Result<gaia_core::sync::Report, Error> {
    let now = fx.rows("SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)");
    let now: i64 = s(&now[0][0]).unwrap().parse().unwrap();
    let mut total: Option<gaia_core::sync::Report> = None;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(250));
        let r = sync.run(Mode::Incremental)?;
        let covered = r.up_to_us.unwrap_or(i64::MIN) >= now;
        total = Some(match total {
            None => r,
            Some(mut t) => {
                t.rows_read += r.rows_read;
                t.docs_written += r.docs_written;
                t.docs_deleted += r.docs_deleted;
                t.dead_lettered += r.dead_lettered;
                t.retries += r.retries;
                t.up_to_us = r.up_to_us;
                t
            }
        });
        if covered {
            break;
        }
    }
    Ok(total.unwrap())
}

fn fast_tuning() -> Json {
    json!({"chunk_rows": 500, "batch_docs": 200, "writers": 3, "lag_ms": 200, "retry_base_ms": 20})
}

#[test]
fn sync_full_rebuild_equals_the_database_with_exact_values() {
    let fx = Fx::new("full");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 2600);
    // Special rows: emoji/CJK, big exact DECIMAL, a time in Paris summer time, a JSON array.
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title, body, price, status, attrs, in_stock, published, created, deleted) VALUES \
         (900001, '東京 👩‍💻 Ünïcödé', '中文 検索 テスト 😀', 1234567890123456.7891, 'gone', \
          '{{\"color\": \"紅\", \"labels\": [\"a\", \"b\"], \"size\": {{\"w\": 7}}}}', 0, \
          '2024-07-01 14:00:00.250', '2024-01-02 03:04:05.678', 0), \
         (900002, 'deleted one', NULL, NULL, 'draft', NULL, 1, NULL, '2024-01-01 00:00:00', 1)"
    ));
    let cfg = fx.config(
        products_mapping(&p, &tg, &tomb, &ttomb, "Europe/Paris"),
        fast_tuning(),
    );
    let sync = Sync::new(&cfg).unwrap();
    let report = sync.run(Mode::Full).unwrap();
    assert!(report.swapped);
    assert_eq!(report.verified_count, Some(2601));
    assert_eq!(report.docs_written, 2601);
    assert_eq!(report.dead_lettered, 0);
    assert!(report.chunks >= 6, "{report:?}");
    let docs = fx.docs(&fx.core());
    assert_eq!(docs.len(), 2601);
    let d = &docs["p-900001"];
    assert_eq!(d["title_s"], "東京 👩‍💻 Ünïcödé");
    assert_eq!(d["price_s"], "1234567890123456.7891");
    assert_eq!(
        d["price_d"].as_f64(),
        "1234567890123456.7891".parse::<f64>().ok()
    );
    assert_eq!(d["status_s"], "gone");
    assert_eq!(d["in_stock_b"], false);
    // 14:00 in Paris in July (UTC+2) is 12:00 UTC; TIMESTAMP columns are UTC already.
    assert_eq!(d["published_dt"], "2024-07-01T12:00:00.250Z");
    assert_eq!(d["created_dt"], "2024-01-02T03:04:05.678Z");
    assert_eq!(d["color_s"], "紅");
    assert_eq!(d["labels_ss"], json!(["a", "b"]));
    assert_eq!(d["width_i"], 7);
    assert!(
        !docs.contains_key("p-900002"),
        "a soft-deleted row is not indexed"
    );
    // Full-text search finds CJK and the emoji row.
    let hits = fx.solr_get(&format!("{}/select?q=body_t:検索&wt=json", fx.core()));
    assert_eq!(hits["response"]["numFound"], 1);
    assert_equal(&fx, &p, &tg);
    // Every document carries its version; no build core is left behind.
    assert!(docs
        .values()
        .all(|d| d["gaia_version_l"].as_i64().unwrap() > 1_600_000_000_000_000));
    assert_eq!(fx.cores_like(), vec![fx.core()]);
    let pr = sync.progress();
    assert_eq!(pr.rows_read, 2602);
    let pj: Json = serde_json::from_str(&pr.to_json()).unwrap();
    assert_eq!(pj["phase"], "done");
    let m = sync.metrics();
    assert!(
        m.contains("gaia_sync_docs_written{core=") && m.contains("phase=\"done\""),
        "{m}"
    );
    // A second full rebuild swaps again and stays equal.
    let r2 = sync.run(Mode::Full).unwrap();
    assert!(r2.swapped);
    assert_equal(&fx, &p, &tg);
    assert_eq!(fx.cores_like(), vec![fx.core()]);
    let json: Json = serde_json::from_str(&r2.to_json()).unwrap();
    assert_eq!(json["mode"], "full");
}

#[test]
fn sync_incremental_follows_inserts_updates_deletes_and_children() {
    let fx = Fx::new("inc");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 300);
    let mut tuning = fast_tuning();
    tuning["chunk_rows"] = json!(4); // pages smaller than the group of equal timestamps
    tuning["commit_every_pages"] = json!(3); // checkpoints in the middle of a pass
    let cfg = fx.config(products_mapping(&p, &tg, &tomb, &ttomb, "UTC"), tuning);
    let sync = Sync::new(&cfg).unwrap();
    let _g = OPEN_TRX.read().unwrap_or_else(|e| e.into_inner());
    assert!(matches!(
        sync.run(Mode::Incremental),
        Err(Error::NoCheckpoint { .. })
    ));
    sync.run(Mode::Auto).unwrap();
    assert_equal(&fx, &p, &tg);

    // Inserts, updates, a soft delete, a hard delete with its tombstone.
    fx.exec(&format!("INSERT INTO `{p}` (id, title, price) VALUES (1001, 'new 新', 9.99), (1002, 'new two', 0.0001)"));
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'renamed ✓', price = 42.4200 WHERE id IN (5, 6, 7)"
    ));
    fx.exec(&format!("UPDATE `{p}` SET deleted = 1 WHERE id = 8"));
    fx.exec("START TRANSACTION");
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 9"));
    fx.exec(&format!("INSERT INTO `{tomb}` (key_id) VALUES (9)"));
    fx.exec("COMMIT");
    // Nine rows sharing one timestamp (one statement), across several pages of 4.
    let nine: Vec<String> = (2001..=2009)
        .map(|k| format!("({k}, 'same ts {k}', 1.5)"))
        .collect();
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title, price) VALUES {}",
        nine.join(",")
    ));
    let r = inc(&fx, &sync).unwrap();
    assert_eq!(r.mode, Mode::Incremental);
    assert!(r.docs_written >= 14, "{r:?}");
    assert_eq!(r.docs_deleted, 2, "{r:?}");
    assert_equal(&fx, &p, &tg);
    let same = fx.rows(&format!(
        "SELECT COUNT(DISTINCT updated_at) FROM `{p}` WHERE id BETWEEN 2001 AND 2009"
    ));
    assert_eq!(s(&same[0][0]).as_deref(), Some("1"));

    // Child-table changes re-index the parent: insert, update, delete (with tombstone).
    fx.exec(&format!(
        "INSERT INTO `{tg}` (product_id, tag) VALUES (10, 'fresh'), (2001, 'x')"
    ));
    fx.exec(&format!(
        "UPDATE `{tg}` SET tag = 'changed' WHERE product_id = 11 LIMIT 1"
    ));
    let victim = fx.rows(&format!(
        "SELECT product_id FROM `{tg}` WHERE product_id BETWEEN 12 AND 40 LIMIT 1"
    ));
    let victim = s(&victim[0][0]).unwrap();
    fx.exec("START TRANSACTION");
    fx.exec(&format!("DELETE FROM `{tg}` WHERE product_id = {victim}"));
    fx.exec(&format!("INSERT INTO `{ttomb}` (key_id) VALUES ({victim})"));
    fx.exec("COMMIT");
    inc(&fx, &sync).unwrap();
    assert_equal(&fx, &p, &tg);
    assert!(index_view(&fx)[&format!("p-{victim}")].2.is_empty());

    // A row deleted and re-inserted with the same key comes back.
    fx.exec("START TRANSACTION");
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 20"));
    fx.exec(&format!("INSERT INTO `{tomb}` (key_id) VALUES (20)"));
    fx.exec("COMMIT");
    inc(&fx, &sync).unwrap();
    assert_equal(&fx, &p, &tg);
    std::thread::sleep(Duration::from_millis(5));
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title) VALUES (20, 'back again')"
    ));
    let r = sync.run(Mode::Auto).unwrap();
    assert_eq!(r.mode, Mode::Incremental);
    inc(&fx, &sync).unwrap();
    assert_equal(&fx, &p, &tg);

    // Nothing changed: an empty pass.
    let r = inc(&fx, &sync).unwrap();
    assert_eq!(r.docs_written + r.docs_deleted, 0, "{r:?}");
}

#[test]
fn sync_a_transaction_committing_late_is_not_skipped() {
    let fx = Fx::new("late");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 20);
    let cfg = fx.config(
        products_mapping(&p, &tg, &tomb, &ttomb, "UTC"),
        fast_tuning(),
    );
    let sync = Sync::new(&cfg).unwrap();
    let _g = OPEN_TRX.write().unwrap_or_else(|e| e.into_inner());
    sync.run(Mode::Full).unwrap();

    // A second connection opens a transaction and writes a row (earlier timestamp) ...
    let late = Fx::new("late2");
    let late_id = s(&late.rows("SELECT CONNECTION_ID()")[0][0]);
    late.exec("START TRANSACTION");
    late.exec(&format!(
        "INSERT INTO `{p}` (id, title) VALUES (501, 'late writer')"
    ));
    std::thread::sleep(Duration::from_millis(1100));
    // ... then another row is written and committed (later timestamp).
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title) VALUES (502, 'early committer')"
    ));
    let r = inc_now(&sync).unwrap();
    // The pass stops below the open transaction: 502 waits, nothing is skipped.
    assert!(!index_view(&fx).contains_key("p-502"), "{r:?}");
    late.exec("COMMIT");
    let r2 = inc(&fx, &sync).unwrap();
    let view = index_view(&fx);
    assert!(
        view.contains_key("p-501") && view.contains_key("p-502"),
        "connection {late_id:?}: {r:?} {r2:?}"
    );
    assert_equal(&fx, &p, &tg);
}

#[test]
fn sync_a_cancelled_rebuild_resumes_by_chunk() {
    let fx = Fx::new("resume");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 20_000);
    let tuning = json!({"chunk_rows": 500, "batch_docs": 100, "writers": 1, "queue_batches": 1, "lag_ms": 200});
    let cfg = fx.config(products_mapping(&p, &tg, &tomb, &ttomb, "UTC"), tuning);
    let sync = std::sync::Arc::new(Sync::new(&cfg).unwrap());
    let s2 = sync.clone();
    let watcher = std::thread::spawn(move || {
        for _ in 0..20_000 {
            if s2.progress().docs_written >= 3000 {
                // One run at a time per handle.
                let busy = matches!(s2.run(Mode::Full), Err(Error::Busy));
                s2.cancel(); // a crash at a random point, as far as the checkpoint goes
                return busy;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    });
    let first = sync.run(Mode::Full);
    assert!(watcher.join().unwrap());
    assert!(matches!(first, Err(Error::Cancelled)), "{first:?}");
    assert_eq!(sync.progress().phase, gaia_core::sync::Phase::Cancelled);
    // The live core does not exist yet: readers never saw the half-built one.
    assert!(!fx.cores_like().contains(&fx.core()));
    let cp: Json = serde_json::from_slice(
        &std::fs::read(fx.state_dir.join(format!("{}.checkpoint.json", fx.core()))).unwrap(),
    )
    .unwrap();
    let done = cp["full"]["chunks_done"].as_u64().unwrap();
    assert!(done >= 5, "{cp}");
    // A fresh handle (a new process) resumes from the checkpoint.
    let again = Sync::new(&cfg).unwrap();
    let r = again.run(Mode::Full).unwrap();
    assert_eq!(r.resumed_from_chunk, Some(done));
    assert!(r.rows_read <= 20_000 - done * 500, "{r:?}");
    assert_eq!(r.verified_count, Some(20_000));
    assert_equal(&fx, &p, &tg);
    assert_eq!(fx.cores_like(), vec![fx.core()]);
}

#[test]
fn sync_an_older_version_never_regresses_a_document() {
    let fx = Fx::new("ver");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 50);
    let cfg = fx.config(
        products_mapping(&p, &tg, &tomb, &ttomb, "UTC"),
        fast_tuning(),
    );
    let sync = Sync::new(&cfg).unwrap();
    let _g = OPEN_TRX.read().unwrap_or_else(|e| e.into_inner());
    sync.run(Mode::Full).unwrap();
    let cp_path = fx.state_dir.join(format!("{}.checkpoint.json", fx.core()));
    let old_cp = std::fs::read(&cp_path).unwrap();
    fx.exec(&format!("UPDATE `{p}` SET title = 'newest' WHERE id = 3"));
    inc(&fx, &sync).unwrap();
    let doc = fx.docs(&fx.core())["p-3"].clone();
    assert_eq!(doc["title_s"], "newest");
    // A stale writer posts an older version: dropped.
    let mut stale = doc.clone();
    stale["title_s"] = json!("stale");
    stale["gaia_version_l"] = json!(doc["gaia_version_l"].as_i64().unwrap() - 1);
    assert_eq!(
        fx.solr_post(
            &format!("{}/update?commit=true", fx.core()),
            &json!([stale])
        ),
        200
    );
    assert_eq!(fx.docs(&fx.core())["p-3"]["title_s"], "newest");
    // Replaying from an old checkpoint (a crash before it was saved) changes nothing.
    std::fs::write(&cp_path, old_cp).unwrap();
    inc(&fx, &sync).unwrap();
    assert_eq!(fx.docs(&fx.core())["p-3"], doc);
    assert_equal(&fx, &p, &tg);
}

#[test]
fn sync_a_rejected_document_is_dead_lettered_and_the_run_goes_on() {
    let fx = Fx::new("dead");
    let t = fx.t("codes");
    fx.exec(&format!(
        "CREATE TABLE `{t}` (id INT PRIMARY KEY, code VARCHAR(20), updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
    ));
    fx.exec(&format!(
        "ALTER TABLE `{t}` ADD COLUMN doc LONGTEXT, ADD COLUMN legacy VARBINARY(20)"
    ));
    let vals: Vec<String> = (1..=300)
        .map(|k| match k {
            77 | 201 => format!("({k}, 'not-a-number', NULL)"),
            150 => format!("({k}, '{k}', '{{broken json')"),
            _ => format!("({k}, '{k}', '{{\"n\": {k}}}')"),
        })
        .collect();
    fx.exec(&format!(
        "INSERT INTO `{t}` (id, code, doc) VALUES {}",
        vals.join(",")
    ));
    // Text kept in a bytes column: one row holds bytes that are not UTF-8.
    fx.exec(&format!(
        "UPDATE `{t}` SET legacy = CONCAT('caf', 0xC3A9) WHERE id <> 260"
    ));
    fx.exec(&format!(
        "UPDATE `{t}` SET legacy = 0x41FF42 WHERE id = 260"
    ));
    // A string column into an int field: Solr refuses the two non-numeric rows (400).
    // A JSON text that does not parse is dead-lettered by the engine itself.
    let mapping = json!({"table": t, "primary_key": "id", "version_column": "updated_at",
                         "fields": [{"column": "code", "field": "code_i", "type": "string"},
                                    {"column": "doc", "type": "json",
                                     "paths": [{"path": "$.n", "field": "n_l", "type": "long"}]},
                                    {"column": "legacy", "field": "legacy_s", "type": "string"}]});
    let sync = Sync::new(&fx.config(mapping, fast_tuning())).unwrap();
    let r = sync.run(Mode::Full).unwrap();
    assert_eq!(r.dead_lettered, 4, "{r:?}");
    assert_eq!(r.docs_written, 296);
    assert_eq!(r.verified_count, Some(296));
    let dl = std::fs::read_to_string(&r.dead_letter_file).unwrap();
    let lines: Vec<Json> = dl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["150", "201", "260", "77"], "{dl}");
    let reason = |id: &str| {
        let l = lines.iter().find(|l| l["id"] == id).unwrap();
        l["reason"].as_str().unwrap().to_string()
    };
    assert!(reason("77").contains("not-a-number"), "{dl}");
    assert!(
        reason("150").contains("column \"doc\": invalid JSON"),
        "{dl}"
    );
    assert!(
        reason("260").contains("column \"legacy\": invalid UTF-8 at byte 1"),
        "{dl}"
    );
    let docs = fx.docs(&fx.core());
    assert_eq!(docs.len(), 296);
    assert_eq!(docs["42"]["n_l"], 42);
    assert_eq!(docs["42"]["legacy_s"], "café");
}

fn expect_err(cfg: &str, mode: Mode, needle: &str) -> Error {
    let e = match Sync::new(cfg) {
        Err(e) => e,
        Ok(sync) => match sync.run(mode) {
            Err(e) => e,
            Ok(r) => panic!("expected an error containing {needle:?}, got {r:?}"),
        },
    };
    assert!(
        e.to_string().contains(needle),
        "{e} does not contain {needle:?}"
    );
    e
}

#[test]
fn sync_bad_mappings_and_servers_fail_clearly_before_any_write() {
    let fx = Fx::new("bad");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 10);
    let nopk = fx.t("nopk");
    fx.exec(&format!(
        "CREATE TABLE `{nopk}` (a INT, updated_at DATETIME(6))"
    ));
    let good = products_mapping(&p, &tg, &tomb, &ttomb, "UTC");
    let tun = fast_tuning();

    let mut m = good.clone();
    m["table"] = json!(format!("{p}_missing"));
    let e = expect_err(&fx.config(m, tun.clone()), Mode::Full, "does not exist");
    assert_eq!(e.kind(), gaia_core::ErrorKind::InvalidConfig);

    let mut m = good.clone();
    m["fields"][2]["column"] = json!("nope");
    expect_err(
        &fx.config(m, tun.clone()),
        Mode::Full,
        "column \"nope\": no such column",
    );

    let mut m = good.clone();
    m["children"][0]["foreign_key"] = json!("product");
    expect_err(
        &fx.config(m, tun.clone()),
        Mode::Full,
        "mapping.children[0].foreign_key",
    );

    let m = json!({"table": nopk, "primary_key": "a", "version_column": "updated_at",
                   "fields": [{"column": "a", "field": "a_i"}]});
    expect_err(&fx.config(m, tun.clone()), Mode::Full, "has no primary key");

    let mut m = good.clone();
    m["fields"][0]["field"] = json!("title_nosuchsuffix");
    expect_err(
        &fx.config(m, tun.clone()),
        Mode::Full,
        "matches no field or dynamic field",
    );

    let mut m = good.clone();
    m["children"][0]["fields"][0]["field"] = json!("tag_s");
    expect_err(&fx.config(m, tun.clone()), Mode::Full, "single-valued");

    let mut m = good.clone();
    m["fields"][0]["type"] = json!("datetime");
    expect_err(
        &fx.config(m, tun.clone()),
        Mode::Full,
        "cannot feed a field of type",
    );

    let mut m = good.clone();
    m["fields"][0]["colour"] = json!("x");
    let e = expect_err(
        &fx.config(m, tun.clone()),
        Mode::Full,
        "unknown field `colour`",
    );
    assert_eq!(e.kind(), gaia_core::ErrorKind::InvalidJson);

    let mut m = good.clone();
    m["source_time_zone"] = json!("Mars/Olympus");
    expect_err(
        &fx.config(m, tun.clone()),
        Mode::Full,
        "mapping.source_time_zone",
    );

    // Wrong credentials, unreachable servers.
    let mut c: Json = serde_json::from_str(&fx.config(good.clone(), tun.clone())).unwrap();
    c["mariadb_url"] = json!(db_url().replace("gaia-pass", "wrong-pass"));
    expect_err(&c.to_string(), Mode::Full, "access denied");
    c["mariadb_url"] = json!("mysql://gaia:gaia-pass@127.0.0.1:1/gaia");
    let e = expect_err(&c.to_string(), Mode::Full, "unreachable");
    assert_eq!(e.kind(), gaia_core::ErrorKind::Io);
    c["mariadb_url"] = json!(db_url());
    c["solr_url"] = json!("http://127.0.0.1:1/solr");
    c["tuning"]["max_retries"] = json!(1);
    expect_err(&c.to_string(), Mode::Full, "unreachable");

    // check() validates the good mapping against both servers and writes nothing either.
    Sync::new(&fx.config(good.clone(), tun.clone()))
        .unwrap()
        .check()
        .unwrap();
    // None of that wrote anything.
    assert!(fx.cores_like().is_empty(), "{:?}", fx.cores_like());
    assert!(!fx
        .state_dir
        .join(format!("{}.checkpoint.json", fx.core()))
        .exists());

    // A checkpoint from another mapping is refused.
    let sync = Sync::new(&fx.config(good.clone(), tun.clone())).unwrap();
    sync.run(Mode::Full).unwrap();
    let mut m = good.clone();
    m["fields"].as_array_mut().unwrap().pop();
    let e = expect_err(
        &fx.config(m, tun.clone()),
        Mode::Incremental,
        "written for another mapping",
    );
    assert_eq!(e.kind(), gaia_core::ErrorKind::InvalidState);
}

#[test]
fn sync_the_handle_is_send_and_sync_and_refuses_concurrent_runs() {
    fn assert_send_sync<T: Send + std::marker::Sync>() {}
    assert_send_sync::<Sync>();
    assert!(matches!(
        "sideways".parse::<Mode>(),
        Err(Error::Config { .. })
    ));
    let e = Sync::new("{\"mariadb_url\": 1}").unwrap_err();
    assert_eq!(e.kind(), gaia_core::ErrorKind::InvalidJson);
}

/// A fault-injecting TCP proxy: every `reset_every`-th connection is closed right after
/// its first bytes, every connection is cut once it has carried `kill_after` bytes in one
/// direction (mid-request or mid-answer), and each chunk forwarded waits `delay_ms`.
struct Proxy {
    port: u16,
    /// While set, every new connection is refused (closed at once): the server looks down.
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cuts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    fn start(target: &str, reset_every: usize, kill_after: usize, delay_ms: u64) -> Proxy {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let down = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (stop2, down2, cuts2, target) =
            (stop.clone(), down.clone(), cuts.clone(), target.to_string());
        std::thread::spawn(move || {
            for (i, client) in listener.incoming().enumerate() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut client) = client else { continue };
                if down2.load(Ordering::Relaxed) {
                    let _ = client.shutdown(Shutdown::Both);
                    cuts2.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if reset_every > 0 && i % reset_every == reset_every - 1 {
                    let mut buf = [0u8; 64];
                    let _ = client.set_read_timeout(Some(Duration::from_millis(500)));
                    let _ = client.read(&mut buf);
                    let _ = client.shutdown(Shutdown::Both);
                    cuts2.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let pump = |mut from: TcpStream,
                            mut to: TcpStream,
                            limit: usize,
                            cuts: Arc<AtomicUsize>| {
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 16 * 1024];
                        let mut total = 0usize;
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if delay_ms > 0 {
                                std::thread::sleep(Duration::from_millis(delay_ms));
                            }
                            total += n;
                            if limit > 0 && total > limit {
                                cuts.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                pump(client, server, kill_after, cuts2.clone());
                pump(s2, c2, kill_after, cuts2.clone());
            }
        });
        Proxy {
            port,
            down,
            stop,
            cuts,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

#[test]
fn sync_connections_reset_by_a_proxy_are_retried_and_nothing_is_lost() {
    let fx = Fx::new("proxy");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 4000);
    let solr_host = solr_url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let proxy = Proxy::start(&solr_host, 3, 150_000, 1);
    let mut c: Json = serde_json::from_str(&fx.config(
        products_mapping(&p, &tg, &tomb, &ttomb, "UTC"),
        json!({"chunk_rows": 500, "batch_docs": 250, "writers": 3, "lag_ms": 200,
               "retry_base_ms": 10, "retry_max_ms": 400, "max_retries": 30}),
    ))
    .unwrap();
    c["solr_url"] = json!(format!("http://127.0.0.1:{}/solr", proxy.port));
    let sync = Sync::new(&c.to_string()).unwrap();
    let _g = OPEN_TRX.read().unwrap_or_else(|e| e.into_inner());
    let r = sync.run(Mode::Full).unwrap();
    assert!(r.retries > 0, "the proxy cut nothing? {r:?}");
    assert!(proxy.cuts.load(Ordering::Relaxed) > 0);
    assert_equal(&fx, &p, &tg);
    fx.exec(&format!(
        "UPDATE `{p}` SET title = CONCAT(title, ' v2') WHERE id % 5 = 0"
    ));
    fx.exec(&format!("UPDATE `{p}` SET deleted = 1 WHERE id % 97 = 0"));
    let r = inc(&fx, &sync).unwrap();
    assert!(r.docs_written >= 700, "{r:?}");
    assert_equal(&fx, &p, &tg);
    // The database behind a proxy that cuts every connection after 200 kB (mid-answer):
    // the reader reconnects and re-reads the page, nothing is lost.
    let db_host = db_url()
        .rsplit('@')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let dbproxy = Proxy::start(&db_host, 0, 200_000, 0);
    let mut c2 = c.clone();
    c2["mariadb_url"] = json!(format!(
        "{}?prefer_socket=false",
        db_url().replace(&db_host, &format!("127.0.0.1:{}", dbproxy.port))
    ));
    let via_proxy = Sync::new(&c2.to_string()).unwrap();
    fx.exec(&format!(
        "UPDATE `{p}` SET title = CONCAT(title, ' v3') WHERE id % 2 = 0"
    ));
    let r = inc(&fx, &via_proxy).unwrap();
    assert!(
        dbproxy.cuts.load(Ordering::Relaxed) > 0 && r.retries > 0,
        "{r:?}"
    );
    assert_equal(&fx, &p, &tg);
    // The database down: a clear error, and the checkpoint stays where it was.
    dbproxy.down.store(true, Ordering::Relaxed);
    fx.exec(&format!(
        "UPDATE `{p}` SET title = CONCAT(title, ' v4') WHERE id % 7 = 0"
    ));
    let e = via_proxy.run(Mode::Incremental).unwrap_err();
    assert_eq!(e.kind(), gaia_core::ErrorKind::Io, "{e}");
    assert!(
        e.to_string().starts_with("MariaDB connect to 127.0.0.1:"),
        "{e}"
    );
    dbproxy.down.store(false, Ordering::Relaxed);
    inc(&fx, &via_proxy).unwrap();
    assert_equal(&fx, &p, &tg);
}

/// The child process of `sync_a_killed_process_resumes_from_its_checkpoint`.
#[test]
#[ignore = "run as a child process by sync_a_killed_process_resumes_from_its_checkpoint"]
fn sync_child_process_runner() {
    let Ok(cfg) = std::env::var("GAIA_SYNC_CHILD_CONFIG") else {
        return;
    };
    let mode = std::env::var("GAIA_SYNC_CHILD_MODE").unwrap_or_else(|_| "full".into());
    let sync = Sync::new(&cfg).unwrap();
    match sync.run(mode.parse().unwrap()) {
        Ok(r) => println!("child report: {}", r.to_json()),
        Err(e) => println!("child failed: {e}"),
    }
}

#[test]
fn sync_a_killed_process_resumes_from_its_checkpoint() {
    let fx = Fx::new("kill");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 20_000);
    let tuning = json!({"chunk_rows": 500, "batch_docs": 100, "writers": 1, "queue_batches": 1, "lag_ms": 200});
    let cfg = fx.config(products_mapping(&p, &tg, &tomb, &ttomb, "UTC"), tuning);
    let cp_path = fx.state_dir.join(format!("{}.checkpoint.json", fx.core()));
    let chunks_done = || -> u64 {
        std::fs::read(&cp_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Json>(&b).ok())
            .and_then(|j| j["full"]["chunks_done"].as_u64())
            .unwrap_or(0)
    };
    let mut seen = 0;
    for round in 1..=3u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sync_child_process_runner",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("GAIA_SYNC_CHILD_CONFIG", &cfg)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while chunks_done() < seen + 3 && t0.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        // SIGKILL at a point that varies with the round, mid-chunk.
        std::thread::sleep(Duration::from_millis(37 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        let now = chunks_done();
        assert!(
            now >= seen + 3,
            "round {round}: the child made no progress ({now} chunks)"
        );
        seen = now;
    }
    assert!(
        !fx.cores_like().contains(&fx.core()),
        "the half-built core was never live"
    );
    let sync = Sync::new(&cfg).unwrap();
    let r = sync.run(Mode::Full).unwrap();
    assert_eq!(r.resumed_from_chunk, Some(seen), "{r:?}");
    assert_eq!(r.verified_count, Some(20_000));
    assert_equal(&fx, &p, &tg);
    assert_eq!(fx.cores_like(), vec![fx.core()]);
}

#[test]
fn sync_a_long_incremental_pass_checkpoints_as_it_goes() {
    let fx = Fx::new("longinc");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 60);
    let tuning = json!({"chunk_rows": 4, "batch_docs": 1, "writers": 1, "queue_batches": 1,
                        "lag_ms": 200, "commit_every_pages": 2});
    let cfg = fx.config(products_mapping(&p, &tg, &tomb, &ttomb, "UTC"), tuning);
    let sync = std::sync::Arc::new(Sync::new(&cfg).unwrap());
    let _g = OPEN_TRX.read().unwrap_or_else(|e| e.into_inner());
    sync.run(Mode::Full).unwrap();
    let cp_path = fx.state_dir.join(format!("{}.checkpoint.json", fx.core()));
    let root_key = || -> i64 {
        let j: Json = serde_json::from_slice(&std::fs::read(&cp_path).unwrap()).unwrap();
        j["cursors"]["root"]["key"].as_i64().unwrap()
    };
    assert_eq!(
        root_key(),
        i64::MAX,
        "after a rebuild: everything up to its start"
    );
    fx.exec(&format!("UPDATE `{p}` SET title = CONCAT(title, ' x')"));
    std::thread::sleep(Duration::from_millis(1300));
    let s2 = sync.clone();
    let watcher = std::thread::spawn(move || {
        for _ in 0..20_000 {
            if s2.progress().docs_written >= 25 {
                s2.cancel();
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let first = sync.run(Mode::Incremental);
    watcher.join().unwrap();
    assert!(matches!(first, Err(Error::Cancelled)), "{first:?}");
    // The cursor moved on with the committed pages, not back to the start.
    let key = root_key();
    assert!(key != i64::MAX && key > 0, "{key}");
    inc(&fx, &sync).unwrap();
    assert_equal(&fx, &p, &tg);
}

/// `scripts/services.sh ACTION SERVICE` (stop / start), failing the test if it fails.
fn services(action: &str, service: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/services.sh");
    let mut args = vec![script, action];
    args.extend(service.split(' '));
    let out = std::process::Command::new("bash")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "services.sh {action} {service}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a full rebuild in a thread, and once `rows` rows are read stops `service`, waits,
/// and starts it again. The run rides the outage out on its retries (or, if the outage
/// outlasts them, fails cleanly and the next run resumes); either way nothing is lost.
fn rebuild_across_a_restart(fx: &Fx, service: &str, rows: u64) {
    let (p, tg, tomb, ttomb) = products_schema(fx);
    fill(fx, &p, &tg, 20_000);
    // Small chunks and batches through one writer: the rebuild takes several seconds, so the
    // outage (a graceful stop takes a second or two) lands in the middle of it.
    let tuning = json!({"chunk_rows": 200, "batch_docs": 25, "writers": 1, "queue_batches": 1,
                        "lag_ms": 200, "max_retries": 30, "retry_base_ms": 100,
                        "retry_max_ms": 2000, "http_timeout_ms": 20000});
    let cfg = fx.config(products_mapping(&p, &tg, &tomb, &ttomb, "UTC"), tuning);
    let sync = std::sync::Arc::new(Sync::new(&cfg).unwrap());
    let s2 = sync.clone();
    let run = std::thread::spawn(move || s2.run(Mode::Full));
    let t0 = std::time::Instant::now();
    while sync.progress().rows_read < rows {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{:?}",
            sync.progress()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    services("stop", service);
    std::thread::sleep(Duration::from_secs(2));
    services("start", service);
    eprintln!("[{service}] restarted at {:?}", t0.elapsed());
    let first = run.join().unwrap();
    eprintln!(
        "[{service}] first run ended at {:?}: {:?}",
        t0.elapsed(),
        first.as_ref().map(|r| r.retries)
    );
    if service == "mariadb" {
        fx.reconnect();
        // Fresh tables whose statistics the restart cut short make the optimiser choose a
        // full scan for the test's own projection query; the sync's keyset reads are not
        // affected.
        fx.exec(&format!("ANALYZE TABLE `{p}`, `{tg}`"));
    }
    match first {
        Ok(r) => {
            assert!(r.retries > 0 || service == "mariadb", "{r:?}");
            assert_eq!(r.verified_count, Some(20_000));
        }
        Err(e) => {
            // Only a server error may end the run, and the next run resumes.
            assert_eq!(e.kind(), gaia_core::ErrorKind::Io, "{e}");
            let r = Sync::new(&cfg).unwrap().run(Mode::Full).unwrap();
            assert!(r.resumed_from_chunk.is_some(), "{r:?}");
            assert_eq!(r.verified_count, Some(20_000));
        }
    }
    assert_equal(fx, &p, &tg);
    eprintln!("[{service}] equal at {:?}", t0.elapsed());
    // The incremental pass after the outage starts from a consistent checkpoint.
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'after the restart' WHERE id = 7"
    ));
    inc(fx, &sync).unwrap();
    assert_equal(fx, &p, &tg);
}

#[test]
fn sync_solr_stopped_mid_run_then_restarted_loses_nothing() {
    let fx = Fx::exclusive("solr_restart");
    rebuild_across_a_restart(&fx, "solr", 3000);
}

#[test]
fn sync_mariadb_restarted_mid_run_loses_nothing() {
    let fx = Fx::exclusive("db_restart");
    rebuild_across_a_restart(&fx, "mariadb", 3000);
}

fn model_dir() -> String {
    std::env::var("GAIA_MODEL_DIR").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/models/all-MiniLM-L6-v2"
        )
        .to_string()
    })
}

#[test]
fn sync_semantic_field_gives_knn_search_that_follows_the_database() {
    use gaia_core::infer::{Embedder, EmbedderOptions};
    let fx = Fx::new("embed");
    let p = fx.t("docs");
    fx.exec(&format!(
        "CREATE TABLE `{p}` (id BIGINT PRIMARY KEY, title VARCHAR(200), body TEXT, \
         updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), \
         KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4"
    ));
    let texts = [
        (
            "How to bake sourdough bread",
            "Flour, water, salt and a starter; a long cold proof.",
        ),
        (
            "Fixing a flat bicycle tyre",
            "Find the puncture, patch the inner tube, pump it up.",
        ),
        (
            "Learning to play the violin",
            "Scales, bowing and patience with a good teacher.",
        ),
        (
            "Growing tomatoes on a balcony",
            "Large pots, full sun and regular watering.",
        ),
        (
            "The history of the Roman empire",
            "From Augustus to the fall of the West.",
        ),
        ("Untitled", ""),
    ];
    let vals: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, (t, b))| {
            format!(
                "({}, '{t}', {})",
                i + 1,
                if b.is_empty() {
                    "NULL".into()
                } else {
                    format!("'{b}'")
                }
            )
        })
        .collect();
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title, body) VALUES {}",
        vals.join(",")
    ));
    // A row with only an empty title and NULL body gets no vector.
    fx.exec(&format!("UPDATE `{p}` SET title = '' WHERE id = 6"));
    let mapping = json!({"table": p, "primary_key": "id", "version_column": "updated_at",
        "fields": [{"column": "title", "field": "title_t"}],
        "embed": {"columns": ["title", "body"], "field": "text_v384", "model_dir": model_dir()}});
    let cfg = fx.config(mapping.clone(), fast_tuning());
    let sync = Sync::new(&cfg).unwrap();
    let r = sync.run(Mode::Full).unwrap();
    assert_eq!(r.docs_written, 6, "{r:?}");
    assert_eq!(r.dead_lettered, 0, "{r:?}");

    // The stored vectors are the embedder's, of the joined columns.
    let e = Embedder::open(model_dir(), &EmbedderOptions::default()).unwrap();
    let embed = |t: &str| {
        let mut v = vec![0.0f32; e.dim()];
        e.embed(&[t.as_bytes()], true, &mut v).unwrap();
        v
    };
    let docs = fx.docs(&fx.core());
    let stored: Vec<f32> = docs["1"]["text_v384"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    let want = embed(&format!("{}\n{}", texts[0].0, texts[0].1));
    let cos: f32 = stored.iter().zip(&want).map(|(a, b)| a * b).sum();
    assert!(cos > 0.9999, "cosine {cos}");
    assert!(docs["6"].get("text_v384").is_none(), "{:?}", docs["6"]);
    for id in ["1", "2", "3", "4", "5"] {
        assert!(docs[id].get("text_v384").is_some(), "{id}: {:?}", docs[id]);
    }

    // kNN queries find the document by meaning. (topK covers the whole tiny index: HNSW is
    // approximate, and with topK=2 over 6 documents Lucene's greedy search can miss the best.)
    let knn = |query: &str| -> Vec<String> {
        let v = embed(query);
        let vs: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        let body = json!({"query": format!("{{!knn f=text_v384 topK=6}}[{}]", vs.join(",")),
                          "fields": "id,score", "limit": 6});
        let url = format!("{}/{}/select", fx.solr, fx.core());
        let j: Json = fx.rt.block_on(async {
            let r = fx
                .http
                .post(&url)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
        });
        j["response"]["docs"]
            .as_array()
            .unwrap_or_else(|| panic!("{j}"))
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(knn("my bike has a puncture")[0], "2");
    assert_eq!(knn("vegetables in the garden")[0], "4");

    // An update re-embeds: the index follows the database.
    let _g = OPEN_TRX.read().unwrap_or_else(|e| e.into_inner());
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'Caring for a puppy', body = 'Walks, food and vet visits for a young dog.' WHERE id = 5"
    ));
    inc(&fx, &sync).unwrap();
    assert_eq!(knn("training my new dog")[0], "5");

    // Bad input, before any write: a missing embed column, a missing model folder.
    for (m, needle) in [
        (
            json!({"columns": ["title", "nope"], "field": "text_v384", "model_dir": model_dir()}),
            "nope",
        ),
        (
            json!({"columns": ["title"], "field": "text_v384", "model_dir": "/nonexistent/model"}),
            "mapping.embed.model_dir",
        ),
        (
            json!({"columns": ["title"], "field": "nofield", "model_dir": model_dir()}),
            "nofield",
        ),
    ] {
        let mut mm = mapping.clone();
        mm["embed"] = m;
        // Another state folder: this folder's checkpoint belongs to the good mapping.
        let mut c: Json = serde_json::from_str(&fx.config(mm, fast_tuning())).unwrap();
        c["state_dir"] = json!(fx.state_dir.join("bad").display().to_string());
        let s2 = Sync::new(&c.to_string()).unwrap();
        let err = s2.check().unwrap_err();
        assert_eq!(err.kind(), gaia_core::ErrorKind::InvalidConfig, "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    let mut mm = mapping;
    mm["embed"]["threads"] = json!(0);
    let err = Sync::new(&fx.config(mm, fast_tuning())).unwrap_err();
    assert!(err.to_string().contains("mapping.embed.threads"), "{err}");
}

/// Waits (up to `secs`) until `ok` holds; false when it never did.
fn wait_for(secs: u64, mut ok: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    ok()
}

/// The products tables with 300 rows, mapped without tombstone tables: change data capture
/// sees hard deletes in the binlog itself.
fn cdc_products(fx: &Fx) -> (String, String, Json) {
    let (p, tg, tomb, ttomb) = products_schema(fx);
    fill(fx, &p, &tg, 300);
    let mut mapping = products_mapping(&p, &tg, &tomb, &ttomb, "UTC");
    mapping.as_object_mut().unwrap().remove("tombstones");
    mapping["children"][0]
        .as_object_mut()
        .unwrap()
        .remove("tombstones");
    (p, tg, mapping)
}

/// Waits (up to `secs`) until the index equals the projection; otherwise panics with the
/// difference, or with `what`.
fn wait_equal(fx: &Fx, p: &str, tg: &str, secs: u64, what: &str) {
    if !wait_for(secs, || projection(fx, p, tg) == index_view(fx)) {
        assert_equal(fx, p, tg);
        panic!("{what}");
    }
}

/// Runs `sync` in CDC mode on a thread until the returned handle is cancelled.
fn start_cdc(
    sync: &std::sync::Arc<Sync>,
) -> std::thread::JoinHandle<Result<gaia_core::sync::Report, Error>> {
    let s = sync.clone();
    let h = std::thread::spawn(move || s.run(Mode::Cdc));
    let following = wait_for(120, || {
        sync.progress().phase == gaia_core::sync::Phase::Following || h.is_finished()
    });
    assert!(
        following && !h.is_finished(),
        "the follower did not start: {:?}",
        sync.progress()
    );
    h
}

fn checkpoint_gtid(fx: &Fx) -> Option<String> {
    let path = fx.state_dir.join(format!("{}.checkpoint.json", fx.core()));
    let j: Json = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    j["gtid"].as_str().map(str::to_string)
}

#[test]
fn sync_cdc_follows_the_binlog_with_hard_deletes_children_key_changes_and_new_columns() {
    let fx = Fx::new("cdc");
    let (p, tg, mapping) = cdc_products(&fx);
    let mut tuning = fast_tuning();
    tuning["cdc_flush_ms"] = json!(100);
    let cfg = fx.config(mapping, tuning);
    let sync = std::sync::Arc::new(Sync::new(&cfg).unwrap());

    // No checkpoint: a full rebuild first, which records the binlog position.
    let h = start_cdc(&sync);
    assert_equal(&fx, &p, &tg);

    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title, price) VALUES (1001, 'new 新', 9.99)"
    ));
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'renamed ✓', price = 42.42 WHERE id IN (5, 6)"
    ));
    fx.exec(&format!("UPDATE `{p}` SET deleted = 1 WHERE id = 8"));
    fx.exec(&format!("DELETE FROM `{p}` WHERE id IN (9, 10)"));
    fx.exec(&format!("UPDATE `{p}` SET id = 5000 WHERE id = 11"));
    fx.exec(&format!(
        "INSERT INTO `{tg}` (product_id, tag) VALUES (12, 'fresh')"
    ));
    fx.exec(&format!("DELETE FROM `{tg}` WHERE product_id = 13"));
    fx.exec(&format!(
        "UPDATE `{tg}` SET tag = 'changed' WHERE product_id = 14"
    ));
    // Deleted and inserted again in one transaction.
    fx.exec("START TRANSACTION");
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 20"));
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, title) VALUES (20, 'back again')"
    ));
    fx.exec("COMMIT");
    // A rolled-back transaction never reaches the binlog or the index.
    fx.exec("START TRANSACTION");
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 30"));
    fx.exec("ROLLBACK");
    wait_equal(&fx, &p, &tg, 20, "CDC did not catch up");
    let view = index_view(&fx);
    assert!(!view.contains_key("p-9") && !view.contains_key("p-11") && view.contains_key("p-5000"));
    assert_eq!(view["p-20"].0, "back again");
    assert!(view.contains_key("p-30"));

    // A column added while following changes nothing; rows keep flowing.
    fx.exec(&format!(
        "ALTER TABLE `{p}` ADD COLUMN extra INT NULL AFTER id"
    ));
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'after alter', extra = 7 WHERE id = 40"
    ));
    fx.exec(&format!(
        "INSERT INTO `{p}` (id, extra, title) VALUES (1002, 1, 'inserted after alter')"
    ));
    wait_equal(&fx, &p, &tg, 20, "CDC stopped after ALTER TABLE");
    assert_eq!(index_view(&fx)["p-40"].0, "after alter");

    // Cancelling ends the follow with a report; the checkpoint holds a GTID position.
    sync.cancel();
    let r = h.join().unwrap().unwrap();
    assert_eq!(r.mode, Mode::Cdc);
    assert!(r.docs_written >= 8 && r.docs_deleted >= 4, "{r:?}");
    let gtid = checkpoint_gtid(&fx).expect("a GTID in the checkpoint");
    assert!(gtid.split(',').all(|g| g.split('-').count() == 3), "{gtid}");

    // Changes made while stopped are applied from that position on restart.
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'while stopped' WHERE id = 41"
    ));
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 42"));
    let h = start_cdc(&sync);
    wait_equal(&fx, &p, &tg, 20, "CDC did not resume from its checkpoint");
    sync.cancel();
    let r = h.join().unwrap().unwrap();
    assert!(!r.swapped, "resumed without a rebuild: {r:?}");

    // The binlog after the checkpoint's position purged while the follower was stopped
    // (the test account has BINLOG ADMIN): a full rebuild, then following from there.
    let before_purge = checkpoint_gtid(&fx);
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'before the purge' WHERE id = 43"
    ));
    fx.exec("FLUSH BINARY LOGS");
    // A file a replica connection still reads is kept: wait for the dump thread to end.
    assert!(wait_for(20, || fx
        .rows("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
        .first()
        .and_then(|r| s(&r[0]))
        .as_deref()
        == Some("0")));
    // MariaDB keeps a file until InnoDB has made its transactions durable (the binlog
    // checkpoint): purge until only the newest file is left.
    let logs = fx.rows("SHOW BINARY LOGS");
    let newest = s(&logs.last().unwrap()[0]).unwrap();
    let purged = wait_for(20, || {
        fx.exec(&format!("PURGE BINARY LOGS TO '{newest}'"));
        fx.rows("SHOW BINARY LOGS").len() == 1
    });
    assert!(purged, "the purge kept older files");
    let h = start_cdc(&sync);
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'after the rebuild' WHERE id = 44"
    ));
    wait_equal(&fx, &p, &tg, 20, "CDC did not follow after the rebuild");
    sync.cancel();
    let r = h.join().unwrap().unwrap();
    assert!(r.swapped, "a purged position rebuilds: {r:?}");
    assert_ne!(checkpoint_gtid(&fx), before_purge);
    assert_ne!(checkpoint_gtid(&fx), Some(gtid));
    let d = sync.run(Mode::Reconcile).unwrap().differences.unwrap();
    assert_eq!(d.total(), 0, "reconciliation after following: {d:?}");
}

#[test]
fn sync_cdc_killed_at_random_points_while_rows_change_loses_nothing() {
    let fx = Fx::new("cdckill");
    let (p, tg, mapping) = cdc_products(&fx);
    let mut tuning = fast_tuning();
    tuning["cdc_flush_ms"] = json!(50);
    let cfg = fx.config(mapping, tuning);
    let sync = std::sync::Arc::new(Sync::new(&cfg).unwrap());
    sync.run(Mode::Full).unwrap();
    let writing = std::sync::atomic::AtomicBool::new(true);
    let kills = std::thread::scope(|s| {
        // Inserts, updates, hard deletes and child changes, one statement each, meanwhile.
        s.spawn(|| {
            let mut i = 0u64;
            while writing.load(Ordering::Relaxed) {
                let k = i % 300 + 1;
                fx.exec(&format!(
                    "INSERT INTO `{p}` (id, title) VALUES ({}, 'ins {i}')",
                    2000 + i
                ));
                fx.exec(&format!(
                    "UPDATE `{p}` SET title = 'upd {i}' WHERE id = {k}"
                ));
                if i >= 5 {
                    fx.exec(&format!("DELETE FROM `{p}` WHERE id = {}", 2000 + i - 5));
                }
                fx.exec(&format!(
                    "INSERT INTO `{tg}` (product_id, tag) VALUES ({k}, 't{i}')"
                ));
                fx.exec(&format!(
                    "DELETE FROM `{tg}` WHERE product_id = {} LIMIT 1",
                    (k + 150) % 300 + 1
                ));
                i += 1;
                std::thread::sleep(Duration::from_millis(3));
            }
        });
        let mut kills = 0;
        for round in 0..4u64 {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "sync_child_process_runner",
                    "--ignored",
                    "--nocapture",
                ])
                .env("GAIA_SYNC_CHILD_CONFIG", &cfg)
                .env("GAIA_SYNC_CHILD_MODE", "cdc")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // SIGKILL at a point that varies with the round: starting, reading, writing.
            std::thread::sleep(Duration::from_millis(120 + 173 * round));
            if child.try_wait().unwrap().is_none() {
                kills += 1;
            }
            child.kill().unwrap();
            child.wait().unwrap();
        }
        writing.store(false, Ordering::Relaxed);
        kills
    });
    assert_eq!(kills, 4, "every child was still following when killed");
    // A last follower catches up from the checkpoint the killed ones left.
    let h = start_cdc(&sync);
    wait_equal(&fx, &p, &tg, 30, "CDC did not catch up after the kills");
    sync.cancel();
    let r = h.join().unwrap().unwrap();
    assert!(!r.swapped, "resumed from the binlog, no rebuild: {r:?}");
    let d = sync.run(Mode::Reconcile).unwrap().differences.unwrap();
    assert_eq!(d.total(), 0, "reconciliation after the kills: {d:?}");
}

#[test]
fn sync_scan_binlog_counts_the_row_changes_between_two_positions() {
    let fx = Fx::new("scan");
    let t = fx.t("s");
    fx.exec(&format!(
        "CREATE TABLE `{t}` (id BIGINT PRIMARY KEY, v INT NOT NULL)"
    ));
    let pos = |fx: &Fx| s(&fx.rows("SELECT @@gtid_binlog_pos")[0][0]).unwrap();
    let from = pos(&fx);
    fx.exec(&format!(
        "INSERT INTO `{t}` SELECT seq, seq FROM seq_1_to_500"
    ));
    fx.exec(&format!("UPDATE `{t}` SET v = v + 1 WHERE id <= 200"));
    fx.exec(&format!("DELETE FROM `{t}` WHERE id > 450"));
    let to = pos(&fx);
    let scan = gaia_core::sync::scan_binlog(&db_url(), &from, &to, 0x3fff_0001).unwrap();
    // Other tests write to the same server meanwhile: at least this test's changes.
    assert!(scan.row_changes >= 750, "{scan:?}");
    assert!(scan.transactions >= 3, "{scan:?}");
    assert!(scan.seconds > 0.0);
    let e = gaia_core::sync::scan_binlog(&db_url(), "0-1", &to, 0x3fff_0001).unwrap_err();
    assert!(e.to_string().contains("not a GTID"), "{e}");
    // A position the server has not reached: an error after 10 s without progress.
    let e =
        gaia_core::sync::scan_binlog(&db_url(), &to, "0-1-999999999999", 0x3fff_0001).unwrap_err();
    assert!(e.to_string().contains("before reaching"), "{e}");
}

#[test]
fn sync_reconcile_reports_and_repairs_every_kind_of_drift() {
    let fx = Fx::new("recon");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 300);
    // Small chunks and pages: the differences fall on every side of their boundaries.
    let mut tuning = fast_tuning();
    tuning["chunk_rows"] = json!(7);
    let cfg = fx.config(products_mapping(&p, &tg, &tomb, &ttomb, "UTC"), tuning);
    let sync = Sync::new(&cfg).unwrap();
    sync.run(Mode::Full).unwrap();
    let r = sync.run(Mode::Reconcile).unwrap();
    assert_eq!(r.mode, Mode::Reconcile);
    let d = r.differences.unwrap();
    assert_eq!(
        (d.rows_checked, d.docs_in_solr, d.total()),
        (300, 300, 0),
        "{d:?}"
    );

    // Drift behind the sync's back, in Solr and in the database.
    let core = fx.core();
    let st = fx.solr_post(
        &format!("{core}/update?commit=true"),
        &json!({"delete": {"query": "id:p-3"}}),
    );
    assert_eq!(st, 200);
    let st = fx.solr_post(
        &format!("{core}/update?commit=true"),
        &json!([{"id": "p-999999", "gaia_version_l": 1, "title_s": "ghost"}]),
    );
    assert_eq!(st, 200);
    std::thread::sleep(Duration::from_millis(5));
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'changed behind its back' WHERE id = 4"
    ));
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 5"));
    fx.exec(&format!("UPDATE `{p}` SET deleted = 1 WHERE id = 6"));
    fx.exec(&format!(
        "INSERT INTO `{tg}` (product_id, tag) VALUES (7, 'late tag')"
    ));
    // A document as an older version wrote it, without gaia_key_l: matched to its row by id.
    let mut d10 = fx.docs(&core)["p-10"].clone();
    let o = d10.as_object_mut().unwrap();
    assert!(
        o.remove("gaia_key_l").is_some(),
        "documents carry their key"
    );
    let v = o["gaia_version_l"].as_i64().unwrap();
    o.insert("gaia_version_l".into(), json!(v + 1));
    let st = fx.solr_post(&format!("{core}/update?commit=true"), &json!([d10]));
    assert_eq!(st, 200);

    let r = sync.run(Mode::Reconcile).unwrap();
    let d = r.differences.unwrap();
    assert_eq!(
        (d.rows_checked, d.docs_in_solr, d.missing, d.stale, d.extra),
        (299, 300, 1, 2, 3),
        "{d:?}"
    );
    assert_eq!(r.docs_deleted, 3, "{r:?}");
    assert_equal(&fx, &p, &tg);
    assert_eq!(index_view(&fx)["p-4"].0, "changed behind its back");
    assert!(index_view(&fx)["p-7"].2.contains(&"late tag".to_string()));

    // Repaired: nothing differs any more.
    let d = sync.run(Mode::Reconcile).unwrap().differences.unwrap();
    assert_eq!(d.total(), 0, "{d:?}");
}

#[test]
fn sync_cdc_follows_across_a_mariadb_restart() {
    let fx = Fx::exclusive("cdc_restart");
    let (p, tg, mapping) = cdc_products(&fx);
    let mut tuning = fast_tuning();
    tuning["cdc_flush_ms"] = json!(100);
    tuning["max_retries"] = json!(30);
    tuning["retry_base_ms"] = json!(100);
    tuning["retry_max_ms"] = json!(1000);
    let cfg = fx.config(mapping, tuning);
    let sync = std::sync::Arc::new(Sync::new(&cfg).unwrap());
    // The rebuild first, so the follower's report is the follower's alone.
    sync.run(Mode::Full).unwrap();
    let h = start_cdc(&sync);
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'before the restart' WHERE id = 1"
    ));
    wait_equal(&fx, &p, &tg, 20, "CDC did not follow before the restart");

    services("stop", "mariadb");
    std::thread::sleep(Duration::from_secs(2));
    services("start", "mariadb");
    fx.reconnect();
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'after the restart' WHERE id = 2"
    ));
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 3"));
    fx.exec(&format!(
        "INSERT INTO `{tg}` (product_id, tag) VALUES (4, 'after')"
    ));
    let what = format!(
        "CDC did not follow after the restart: {:?}",
        sync.progress()
    );
    wait_equal(&fx, &p, &tg, 60, &what);
    sync.cancel();
    let r = h.join().unwrap().unwrap();
    assert!(
        r.retries > 0 && !r.swapped,
        "reconnected, no rebuild: {r:?}"
    );
    let d = sync.run(Mode::Reconcile).unwrap().differences.unwrap();
    assert_eq!(d.total(), 0, "reconciliation after the restart: {d:?}");
}

/// Worker processes, killed if the test fails before they end.
struct Children(Vec<std::process::Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The `gaia_sync_chunk` rows of a core: (chunk, state, done_by, attempts, rows_read).
fn chunk_rows(fx: &Fx) -> Vec<(u64, String, String, u64, u64)> {
    fx.rows(&format!(
        "SELECT chunk, state, COALESCE(done_by, ''), attempts, COALESCE(rows_read, 0) \
         FROM gaia_sync_chunk WHERE core = '{}' ORDER BY chunk",
        fx.core()
    ))
    .iter()
    .map(|r| {
        (
            s(&r[0]).unwrap().parse().unwrap(),
            s(&r[1]).unwrap(),
            s(&r[2]).unwrap(),
            s(&r[3]).unwrap().parse().unwrap(),
            s(&r[4]).unwrap().parse().unwrap(),
        )
    })
    .collect()
}

#[test]
fn sync_three_workers_share_a_rebuild_and_one_killed_mid_chunk_loses_nothing() {
    three_workers_one_killed(Fx::new("share"));
}

#[test]
fn sync_three_workers_share_a_solrcloud_rebuild_and_one_killed_mid_chunk_loses_nothing() {
    three_workers_one_killed(Fx::cloud("cshare"));
}

/// Three worker processes share a rebuild; one is SIGKILLed while it holds a lease.
fn three_workers_one_killed(fx: Fx) {
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    let rows = 9_000u64;
    fill(&fx, &p, &tg, rows as usize);
    let chunk = 300u64;
    let tuning = json!({"chunk_rows": chunk, "batch_docs": 50, "writers": 1, "queue_batches": 1,
                        "lag_ms": 200, "shared_rebuild": true, "lease_ms": 1500});
    let mapping = products_mapping(&p, &tg, &tomb, &ttomb, "UTC");
    // Three workers, as on three hosts: each its own state folder.
    let configs: Vec<(String, std::path::PathBuf)> = (0..3)
        .map(|i| {
            let dir = fx.state_dir.join(format!("worker{i}"));
            let mut c: Json =
                serde_json::from_str(&fx.config(mapping.clone(), tuning.clone())).unwrap();
            c["state_dir"] = json!(dir.display().to_string());
            (c.to_string(), dir)
        })
        .collect();
    let mut children = Children(
        configs
            .iter()
            .map(|(cfg, _)| {
                std::process::Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "sync_child_process_runner",
                        "--ignored",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("GAIA_SYNC_CHILD_CONFIG", cfg)
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let children = &mut children.0;
    // SIGKILL worker 1 while it holds a lease, once it has finished two chunks.
    let victim = children[1].id();
    let tag = format!(":{victim}:");
    let core = fx.core();
    // The workers create the chunk table on a fresh server: until then, nothing to count.
    let count = |cond: &str| -> u64 {
        fx.try_rows(&format!(
            "SELECT COUNT(*) FROM gaia_sync_chunk WHERE core = '{core}' AND {cond}"
        ))
        .map_or(0, |r| s(&r[0][0]).unwrap().parse().unwrap())
    };
    let held = || {
        fx.try_rows(&format!(
            "SELECT chunk FROM gaia_sync_chunk WHERE core = '{core}' AND state = 'leased' \
             AND owner LIKE '%{tag}%'"
        ))
        .unwrap_or_default()
    };
    let ok = wait_for(120, || {
        count(&format!("done_by LIKE '%{tag}%'")) >= 2 && !held().is_empty()
    });
    assert!(
        ok,
        "worker 1 never finished two chunks: {:?}",
        chunk_rows(&fx)
    );
    let killed_chunks: Vec<u64> = held()
        .iter()
        .map(|r| s(&r[0]).unwrap().parse().unwrap())
        .collect();
    children[1].kill().unwrap();
    children[1].wait().unwrap();
    assert!(!killed_chunks.is_empty());

    let mut reports = Vec::new();
    for (i, child) in children.iter_mut().enumerate() {
        if i == 1 {
            continue;
        }
        let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
        child.wait().unwrap();
        let line = out
            .lines()
            .find_map(|l| l.split_once("child report: ").map(|(_, r)| r))
            .unwrap_or_else(|| panic!("worker {i} did not finish: {out}"));
        let r: Json = serde_json::from_str(line).unwrap();
        reports.push(r);
    }
    // Both survivors return once the rebuild is live, with the same generation.
    let sh: Vec<&Json> = reports.iter().map(|r| &r["shared"]).collect();
    assert_eq!(sh[0]["generation"], sh[1]["generation"], "{reports:?}");
    assert_eq!(
        sh.iter().filter(|s| s["finished_here"] == true).count(),
        1,
        "exactly one worker swaps the build in: {reports:?}"
    );
    let total = rows / chunk + 1;
    assert_eq!(sh[0]["chunks_total"], total);
    assert!(
        sh[0]["chunks_retaken"].as_u64().unwrap() >= 1,
        "{reports:?}"
    );

    // Every chunk done exactly once: all marked done, the rows they read add up to the
    // table, and the killed worker's chunk was finished by another worker.
    let chunks = chunk_rows(&fx);
    assert_eq!(chunks.len() as u64, total);
    assert!(chunks.iter().all(|c| c.1 == "done"), "{chunks:?}");
    assert_eq!(chunks.iter().map(|c| c.4).sum::<u64>(), rows, "{chunks:?}");
    for k in &killed_chunks {
        let c = &chunks[*k as usize];
        assert!(
            !c.2.contains(&tag) && c.3 >= 2,
            "chunk {k} after the kill: {c:?}"
        );
    }
    let here: u64 = sh.iter().map(|s| s["chunks_here"].as_u64().unwrap()).sum();
    let by_victim = chunks.iter().filter(|c| c.2.contains(&tag)).count() as u64;
    assert_eq!(here + by_victim, total, "{reports:?}");
    // Only the live index is left (SolrCloud: the alias and one collection).
    let gen = sh[0]["generation"].as_str().unwrap().to_string();
    let left = fx.cores_like();
    if fx.cloud {
        assert_eq!(left, vec![fx.core(), gen], "{left:?}");
    } else {
        assert_eq!(left, vec![fx.core()], "{left:?}");
    }

    // The index equals the projection, and reconciliation finds nothing to repair.
    assert_equal(&fx, &p, &tg);
    let sync = Sync::new(&configs[0].0).unwrap();
    let d = sync.run(Mode::Reconcile).unwrap().differences.unwrap();
    assert_eq!(d.total(), 0, "{d:?}");
    // Each survivor's checkpoint continues with incremental passes.
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'after the shared rebuild' WHERE id = 8"
    ));
    let r = inc(&fx, &Sync::new(&configs[2].0).unwrap()).unwrap();
    assert!(r.docs_written >= 1, "{r:?}");
    assert_equal(&fx, &p, &tg);
    fx.exec(&format!(
        "DELETE FROM gaia_sync_chunk WHERE core = '{core}'"
    ));
    fx.exec(&format!(
        "DELETE FROM gaia_sync_rebuild WHERE core = '{core}'"
    ));
}

#[test]
fn sync_solrcloud_rebuilds_into_a_collection_per_generation_behind_an_alias() {
    let fx = Fx::cloud("cloud");
    let (p, tg, tomb, ttomb) = products_schema(&fx);
    fill(&fx, &p, &tg, 2_000);
    let cfg = fx.config(
        products_mapping(&p, &tg, &tomb, &ttomb, "UTC"),
        fast_tuning(),
    );
    let sync = Sync::new(&cfg).unwrap();
    sync.check().unwrap();
    let r = sync.run(Mode::Full).unwrap();
    assert!(r.swapped, "{r:?}");
    let gen1 = fx.alias_target().expect("the live name is an alias");
    assert_eq!(r.build_core.as_deref(), Some(gen1.as_str()));
    assert_equal(&fx, &p, &tg);
    assert_eq!(fx.cores_like(), vec![fx.core(), gen1.clone()]);
    // One replica on each node.
    let st = fx.solr_get(&format!(
        "admin/collections?action=CLUSTERSTATUS&collection={gen1}&wt=json"
    ));
    let replicas = st["cluster"]["collections"][&gen1]["shards"]["shard1"]["replicas"]
        .as_object()
        .unwrap_or_else(|| panic!("{st}"));
    let nodes: BTreeSet<&str> = replicas
        .values()
        .map(|r| r["node_name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes.len(), 2, "{st}");

    // Incremental passes write through the alias, with node 1 stopped too.
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'cloud one' WHERE id = 3"
    ));
    inc(&fx, &sync).unwrap();
    assert_eq!(index_view(&fx)["p-3"].0, "cloud one");
    services("cloud-node", "stop 1");
    let restart = Restart;
    fx.exec(&format!(
        "UPDATE `{p}` SET title = 'cloud two' WHERE id = 4"
    ));
    fx.exec(&format!("DELETE FROM `{p}` WHERE id = 5"));
    fx.exec(&format!("INSERT INTO `{tomb}` (key_id) VALUES (5)"));
    inc(&fx, &sync).unwrap();
    // A rebuild with a node down: a new generation, the alias moved, the old one gone.
    let r = sync.run(Mode::Full).unwrap();
    let gen2 = fx.alias_target().unwrap();
    assert_ne!(gen1, gen2);
    assert_eq!(r.build_core.as_deref(), Some(gen2.as_str()));
    assert_eq!(fx.cores_like(), vec![fx.core(), gen2.clone()]);
    assert_equal(&fx, &p, &tg);
    drop(restart);
    // Node 1 back: reconciliation finds nothing to repair.
    let d = sync.run(Mode::Reconcile).unwrap().differences.unwrap();
    assert_eq!((d.rows_checked, d.total()), (1_999, 0), "{d:?}");

    // Three workers share the next rebuild into the cloud.
    let mut tuning = fast_tuning();
    tuning["chunk_rows"] = json!(200);
    tuning["shared_rebuild"] = json!(true);
    tuning["lease_ms"] = json!(2000);
    let mapping = products_mapping(&p, &tg, &tomb, &ttomb, "UTC");
    let reports: Vec<gaia_core::sync::Report> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let mut c: Json =
                    serde_json::from_str(&fx.config(mapping.clone(), tuning.clone())).unwrap();
                c["state_dir"] = json!(fx.state_dir.join(format!("w{i}")).display().to_string());
                sc.spawn(move || Sync::new(&c.to_string()).unwrap().run(Mode::Full))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    let shared: Vec<_> = reports.iter().map(|r| r.shared.clone().unwrap()).collect();
    assert_eq!(
        shared.iter().filter(|s| s.finished_here).count(),
        1,
        "{shared:?}"
    );
    assert_eq!(
        shared.iter().map(|s| s.chunks_here).sum::<u64>(),
        10,
        "{shared:?}"
    );
    let gen3 = fx.alias_target().unwrap();
    assert_eq!(gen3, shared[0].generation);
    assert_eq!(fx.cores_like(), vec![fx.core(), gen3]);
    assert_equal(&fx, &p, &tg);
    fx.exec(&format!(
        "DELETE FROM gaia_sync_chunk WHERE core = '{0}'; DELETE FROM gaia_sync_rebuild WHERE core = '{0}'",
        fx.core()
    ));
}

/// Starts SolrCloud node 1 again when dropped (also when the test fails half-way).
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        services("cloud-node", "start 1");
    }
}
