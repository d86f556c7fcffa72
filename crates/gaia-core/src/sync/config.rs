//! The sync configuration: connections, the mapping, tuning knobs. Parsed from JSON with
//! unknown fields refused, then checked here for everything that needs no server.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

/// A whole sync configuration, as JSON (the same text the C ABI and the CLI take).
/// Unknown fields are refused everywhere.
///
/// ```json
/// {"mariadb_url": "mysql://gaia:gaia-pass@127.0.0.1:3307/gaia",
///  "solr_url": "http://127.0.0.1:8983/solr", "core": "products",
///  "state_dir": "/var/lib/gaia/products",
///  "mapping": {
///    "table": "products", "primary_key": "id", "id_prefix": "p-",
///    "version_column": "updated_at", "source_time_zone": "Europe/Paris",
///    "fields": [
///      {"column": "title", "field": "title_t"},
///      {"column": "price", "field": "price_s", "type": "decimal", "double_field": "price_d"},
///      {"column": "status", "field": "status_s", "type": "enum"},
///      {"column": "published", "field": "published_dt"},
///      {"column": "attrs", "type": "json",
///       "paths": [{"path": "$.color", "field": "color_s", "type": "string"}]}],
///    "children": [{"table": "product_tags", "foreign_key": "product_id",
///                  "version_column": "updated_at",
///                  "fields": [{"column": "tag", "field": "tags_ss"}],
///                  "tombstones": {"table": "product_tags_deleted",
///                                 "key_column": "product_id", "time_column": "deleted_at"}}],
///    "soft_delete": {"column": "is_deleted", "deleted_values": [1]},
///    "tombstones": {"table": "products_deleted", "key_column": "id",
///                   "time_column": "deleted_at"}},
///  "tuning": {"chunk_rows": 5000, "batch_docs": 1000, "writers": 4}}
/// ```
///
/// The version column must change on every write (e.g. `DATETIME(6) NOT NULL DEFAULT
/// CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)`, indexed with the key:
/// `KEY (updated_at, id)`); the writer of a hard delete inserts the key into the tombstone
/// table in the same transaction (or a trigger does). `Debug` hides the database password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `mysql://user:password@host:port/database`.
    pub mariadb_url: String,
    /// Solr's base URL, e.g. `http://127.0.0.1:8983/solr` (plain HTTP: this build has no TLS
    /// stack).
    pub solr_url: String,
    /// The live core readers query. A full rebuild builds a fresh core and swaps it in
    /// under this name.
    pub core: String,
    /// The configset new cores are created from.
    #[serde(default = "default_configset")]
    pub configset: String,
    /// Folder for the checkpoint and the dead-letter file (created if missing).
    pub state_dir: String,
    /// What to index and how.
    pub mapping: Mapping,
    /// Throughput and retry knobs.
    #[serde(default)]
    pub tuning: Tuning,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mariadb_url", &redact(&self.mariadb_url))
            .field("solr_url", &self.solr_url)
            .field("core", &self.core)
            .field("configset", &self.configset)
            .field("state_dir", &self.state_dir)
            .field("mapping", &self.mapping)
            .field("tuning", &self.tuning)
            .finish()
    }
}

/// `mysql://user:secret@host/db` -> `mysql://user:***@host/db`.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn default_configset() -> String {
    "gaia".into()
}

/// Which rows become which Solr documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The root table: one document per row.
    pub table: String,
    /// Its primary key: one integer column. The document id is `id_prefix` + its value.
    pub primary_key: String,
    /// Prepended to the primary key to form the Solr `id`.
    #[serde(default)]
    pub id_prefix: String,
    /// The row's version: a DATETIME(6)/TIMESTAMP(6) updated on every change (its UTC
    /// microseconds become `gaia_version_l`), or an integer column used as is.
    pub version_column: String,
    /// The time zone DATETIME values are written in: `UTC`, an IANA name
    /// (`Europe/Paris`) or a fixed offset (`+02:00`). TIMESTAMP columns are always read as UTC.
    /// Prefer a TIMESTAMP (or a UTC DATETIME) version column: in a zone with daylight saving
    /// time, the hour repeated each autumn makes civil times go backwards, and a version
    /// must only grow.
    #[serde(default = "default_tz")]
    pub source_time_zone: String,
    /// Columns of the root table.
    pub fields: Vec<FieldMap>,
    /// Child tables whose rows become multi-valued fields of their parent's document.
    #[serde(default)]
    pub children: Vec<ChildMap>,
    /// Rows flagged by this column are deleted from Solr instead of indexed.
    #[serde(default)]
    pub soft_delete: Option<SoftDelete>,
    /// A table that records hard deletes of root rows (usually filled by a trigger).
    #[serde(default)]
    pub tombstones: Option<Tombstones>,
    /// Semantic search: root columns embedded by the infer engine into a Solr dense-vector
    /// field, so kNN queries follow the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<EmbedMap>,
}

/// Root columns embedded into a Solr `DenseVectorField` (L2-normalised vectors of the
/// model's dimension; the configset's `*_v384` dynamic field fits all-MiniLM-L6-v2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbedMap {
    /// Root-table columns whose text is embedded, joined with a newline (NULLs skipped; a
    /// row whose columns are all NULL or empty gets no vector).
    pub columns: Vec<String>,
    /// The Solr dense-vector field.
    pub field: String,
    /// A sentence-transformers model folder (e.g. `all-MiniLM-L6-v2`; see
    /// `scripts/fetch-model.sh`).
    pub model_dir: String,
    /// Threads the embedder uses (1 to 256, default 1).
    #[serde(default = "default_embed_threads")]
    pub threads: usize,
}

fn default_embed_threads() -> usize {
    1
}

fn default_tz() -> String {
    "UTC".into()
}

/// One column -> one Solr field (or, for a JSON column, several by path).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// The column.
    pub column: String,
    /// The Solr field (required except for `json`, whose fields are in `paths`).
    #[serde(default)]
    pub field: Option<String>,
    /// How to convert; inferred from the column type when omitted.
    #[serde(rename = "type", default)]
    pub kind: Option<FieldType>,
    /// `decimal` only: an extra double field beside the exact string one.
    #[serde(default)]
    pub double_field: Option<String>,
    /// `json` only: the fields extracted by JSON path.
    #[serde(default)]
    pub paths: Vec<JsonPath>,
}

/// One field extracted from a JSON column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonPath {
    /// `$.a.b[0]` (or `a.b[0]`): object keys and array indices.
    pub path: String,
    /// The Solr field.
    pub field: String,
    /// The value's type (`string`, `text`, `int`, `long`, `double`, `bool`, `enum`); an
    /// array at the path gives a multi-valued field.
    #[serde(rename = "type")]
    pub kind: FieldType,
}

/// How a value becomes a Solr value.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Exact string (`*_s`, `*_ss`).
    String,
    /// Full text (`*_t`, `*_txt`).
    Text,
    /// 32-bit integer (`*_i`).
    Int,
    /// 64-bit integer (`*_l`).
    Long,
    /// Double (`*_d`).
    Double,
    /// DECIMAL kept exact as a string, plus an optional double field.
    Decimal,
    /// Boolean from 0/1 (`*_b`).
    Bool,
    /// DATETIME/TIMESTAMP/DATE as UTC ISO-8601 (`*_dt`).
    Datetime,
    /// ENUM/SET value as a string.
    Enum,
    /// A JSON column split into fields by path.
    Json,
}

/// A child table: its rows, joined on `foreign_key` = the root primary key, feed
/// multi-valued fields of the parent document. A changed child row (its `version_column`)
/// re-indexes its current parent; a deleted one needs `tombstones`. A child moved to another
/// parent must be recorded as a delete (tombstone with the old parent) plus a change, or
/// the old parent keeps the value until its next change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChildMap {
    /// The table.
    pub table: String,
    /// Its column holding the parent's primary key (an indexed integer column).
    pub foreign_key: String,
    /// Order of the values within one parent (default: the child's primary key).
    #[serde(default)]
    pub order_by: Option<String>,
    /// Updated on every change of a child row: changed children re-index their parent.
    #[serde(default)]
    pub version_column: Option<String>,
    /// Columns -> multi-valued fields (`*_ss`, `*_txt`, `*_ls`, ...).
    pub fields: Vec<FieldMap>,
    /// A table recording hard deletes of child rows (parent key + time): re-indexes parents.
    #[serde(default)]
    pub tombstones: Option<Tombstones>,
}

/// Soft delete: a row is deleted from Solr when `column` holds one of `deleted_values`
/// (or, when that list is empty, any value other than NULL, 0, false or "").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SoftDelete {
    /// The flag column (e.g. `deleted_at` or `is_deleted`).
    pub column: String,
    /// Values meaning deleted, compared as strings.
    #[serde(default)]
    pub deleted_values: Vec<serde_json::Value>,
}

/// A table recording hard deletes: one row per deleted key, with the time of the delete.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tombstones {
    /// The table.
    pub table: String,
    /// The deleted row's key (the root primary key, or for a child table the parent key).
    pub key_column: String,
    /// When the delete happened: DATETIME(6)/TIMESTAMP(6), later than the row's version.
    pub time_column: String,
}

/// Throughput and retry knobs; the defaults suit a small server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Tuning {
    /// Root rows per primary-key chunk (a full rebuild checkpoints per chunk).
    pub chunk_rows: usize,
    /// Most documents in one update request.
    pub batch_docs: usize,
    /// Most bytes in one update request.
    pub batch_bytes: usize,
    /// Concurrent Solr writers.
    pub writers: usize,
    /// Batches queued between the reader and the writers.
    pub queue_batches: usize,
    /// Retries of one request on 5xx or connection errors.
    pub max_retries: u32,
    /// First backoff (doubles per retry, with jitter).
    pub retry_base_ms: u64,
    /// Largest backoff.
    pub retry_max_ms: u64,
    /// Timeout of one HTTP request.
    pub http_timeout_ms: u64,
    /// Incremental passes commit and checkpoint every this many pages (of `chunk_rows`),
    /// so a long backlog interrupted half-way does not start over (0: only at the end).
    pub commit_every_pages: usize,
    /// Incremental upper bound stays this far behind the server's clock (>= 200: the list of
    /// open transactions is a cache refreshed every 100 ms).
    pub lag_ms: u64,
    /// Change data capture: the replica server id the follower registers with (default:
    /// derived from the core's name, in 1,073,741,824..2,147,483,647, so two followers of one
    /// core replace each other instead of both writing).
    pub server_id: Option<u32>,
    /// Change data capture: committed transactions are applied together at most this long
    /// after the first of them was read (or once `chunk_rows` keys are pending).
    pub cdc_flush_ms: u64,
    /// Full rebuilds are shared by every worker (process, host) running this configuration
    /// at the same time: the first one plans primary-key chunks into MariaDB tables
    /// (`gaia_sync_rebuild`, `gaia_sync_chunk`), each worker leases chunks (`SELECT ... FOR
    /// UPDATE SKIP LOCKED`) and renews its leases while it writes them, a chunk whose
    /// worker died is leased again once its lease expires, and the worker that sees the
    /// last chunk done verifies and swaps the build in. Every worker returns once the
    /// rebuild is live. The database user needs CREATE on its database (for the two tables).
    pub shared_rebuild: bool,
    /// Shared rebuilds: how long a chunk lease lasts without renewal (renewed every third of
    /// it), i.e. how soon the chunk of a dead worker is taken over.
    pub lease_ms: u64,
    /// SolrCloud: shards of each rebuild's collection.
    pub cloud_shards: u32,
    /// SolrCloud: replicas per shard of each rebuild's collection (0: one per live node).
    pub cloud_replicas: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            chunk_rows: 5000,
            batch_docs: 1000,
            batch_bytes: 4 << 20,
            writers: 4,
            queue_batches: 8,
            max_retries: 8,
            retry_base_ms: 100,
            retry_max_ms: 10_000,
            http_timeout_ms: 120_000,
            commit_every_pages: 20,
            lag_ms: 1000,
            server_id: None,
            cdc_flush_ms: 200,
            shared_rebuild: false,
            lease_ms: 30_000,
            cloud_shards: 1,
            cloud_replicas: 0,
        }
    }
}

impl Tuning {
    /// The pause before reconnect attempt `attempt` (1-based): `retry_base_ms` doubled per
    /// attempt, at most `retry_max_ms`.
    pub(crate) fn backoff_ms(&self, attempt: u32) -> u64 {
        self.retry_base_ms
            .saturating_mul(1u64 << attempt.min(16))
            .min(self.retry_max_ms)
    }
}

/// SQL identifiers are quoted with backticks; only plain names are accepted.
pub(crate) fn check_ident(field: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        return Err(Error::config(
            field,
            format!(
                "{name:?} is not a plain SQL identifier (letters, digits, _ and $, at most 64)"
            ),
        ));
    }
    Ok(())
}

fn check_solr_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::config(
            field,
            format!("{name:?} is not a valid Solr field/core name (letters, digits and _)"),
        ));
    }
    Ok(())
}

impl Config {
    /// Parses and checks a configuration (no server is contacted).
    pub fn from_json(text: &str) -> Result<Config> {
        let c: Config = serde_json::from_str(text).map_err(Error::Json)?;
        c.check()?;
        Ok(c)
    }

    /// Checks everything that needs no server.
    pub fn check(&self) -> Result<()> {
        if !self.mariadb_url.starts_with("mysql://") && !self.mariadb_url.starts_with("mariadb://")
        {
            return Err(Error::config(
                "mariadb_url",
                "must start with mysql:// (mysql://user:password@host:port/database)",
            ));
        }
        if self.solr_url.starts_with("https://") {
            return Err(Error::config(
                "solr_url",
                "https is not supported by this build (plain HTTP only, as Solr listens on a \
                 private network or loopback); put a TLS-terminating proxy in between",
            ));
        }
        if !self.solr_url.starts_with("http://") {
            return Err(Error::config("solr_url", "must start with http://"));
        }
        check_solr_name("core", &self.core)?;
        check_solr_name("configset", &self.configset)?;
        if self.state_dir.is_empty() {
            return Err(Error::config("state_dir", "must not be empty"));
        }
        let t = &self.tuning;
        for (name, v, lo) in [
            ("tuning.chunk_rows", t.chunk_rows, 1),
            ("tuning.batch_docs", t.batch_docs, 1),
            ("tuning.batch_bytes", t.batch_bytes, 1024),
            ("tuning.writers", t.writers, 1),
            ("tuning.queue_batches", t.queue_batches, 1),
        ] {
            if v < lo {
                return Err(Error::config(name, format!("must be >= {lo}, got {v}")));
            }
        }
        if t.lag_ms < 200 {
            return Err(Error::config(
                "tuning.lag_ms",
                format!(
                    "must be >= 200, got {} (information_schema.INNODB_TRX, which caps each pass \
                     below the oldest open transaction, is a cache refreshed every 100 ms)",
                    t.lag_ms
                ),
            ));
        }
        if !(500..=3_600_000).contains(&t.lease_ms) {
            return Err(Error::config(
                "tuning.lease_ms",
                format!("must be between 500 and 3600000, got {}", t.lease_ms),
            ));
        }
        if !(1..=64).contains(&t.cloud_shards) {
            return Err(Error::config(
                "tuning.cloud_shards",
                format!("must be between 1 and 64, got {}", t.cloud_shards),
            ));
        }
        if t.writers > 64 {
            return Err(Error::config("tuning.writers", "must be <= 64"));
        }
        if t.chunk_rows > 1_000_000 {
            return Err(Error::config("tuning.chunk_rows", "must be <= 1000000"));
        }
        self.mapping.check()
    }
}

impl Mapping {
    fn check(&self) -> Result<()> {
        check_ident("mapping.table", &self.table)?;
        check_ident("mapping.primary_key", &self.primary_key)?;
        check_ident("mapping.version_column", &self.version_column)?;
        if !self
            .id_prefix
            .chars()
            .all(|c| !c.is_control() && c != '*' && c != '"')
        {
            return Err(Error::config(
                "mapping.id_prefix",
                "must not hold control characters, * or \"",
            ));
        }
        super::convert::parse_tz(&self.source_time_zone)
            .map_err(|reason| Error::config("mapping.source_time_zone", reason))?;
        if self.fields.is_empty() && self.children.is_empty() {
            return Err(Error::config("mapping.fields", "maps no column at all"));
        }
        let mut seen = HashSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            check_field(&format!("mapping.fields[{i}]"), f, &mut seen)?;
        }
        for (ci, c) in self.children.iter().enumerate() {
            let p = format!("mapping.children[{ci}]");
            check_ident(&format!("{p}.table"), &c.table)?;
            check_ident(&format!("{p}.foreign_key"), &c.foreign_key)?;
            if let Some(o) = &c.order_by {
                check_ident(&format!("{p}.order_by"), o)?;
            }
            if let Some(v) = &c.version_column {
                check_ident(&format!("{p}.version_column"), v)?;
            }
            if c.fields.is_empty() {
                return Err(Error::config(format!("{p}.fields"), "maps no column"));
            }
            for (i, f) in c.fields.iter().enumerate() {
                let fp = format!("{p}.fields[{i}]");
                if f.kind == Some(FieldType::Json) {
                    return Err(Error::config(
                        format!("{fp}.type"),
                        "json columns are supported on the root table only",
                    ));
                }
                check_field(&fp, f, &mut seen)?;
            }
            if let Some(t) = &c.tombstones {
                check_tomb(&format!("{p}.tombstones"), t)?;
            }
        }
        if let Some(s) = &self.soft_delete {
            check_ident("mapping.soft_delete.column", &s.column)?;
        }
        if let Some(t) = &self.tombstones {
            check_tomb("mapping.tombstones", t)?;
        }
        if let Some(e) = &self.embed {
            if e.columns.is_empty() {
                return Err(Error::config("mapping.embed.columns", "names no column"));
            }
            for (i, c) in e.columns.iter().enumerate() {
                check_ident(&format!("mapping.embed.columns[{i}]"), c)?;
            }
            if e.field.is_empty() || e.field == "id" || e.field.starts_with("gaia_") {
                return Err(Error::config(
                    "mapping.embed.field",
                    format!("{:?} is not a field the sync may fill", e.field),
                ));
            }
            if e.model_dir.is_empty() {
                return Err(Error::config("mapping.embed.model_dir", "is empty"));
            }
            if !(1..=256).contains(&e.threads) {
                return Err(Error::config(
                    "mapping.embed.threads",
                    format!("{} is outside 1..=256", e.threads),
                ));
            }
        }
        Ok(())
    }
}

fn check_tomb(p: &str, t: &Tombstones) -> Result<()> {
    check_ident(&format!("{p}.table"), &t.table)?;
    check_ident(&format!("{p}.key_column"), &t.key_column)?;
    check_ident(&format!("{p}.time_column"), &t.time_column)
}

const RESERVED: [&str; 6] = [
    "id",
    "gaia_version_l",
    "gaia_key_l",
    "gaia_deleted_b",
    "_version_",
    "_root_",
];

fn check_target(p: &str, name: &str, seen: &mut HashSet<String>) -> Result<()> {
    check_solr_name(p, name)?;
    if RESERVED.contains(&name) || name == "_text_" {
        return Err(Error::config(
            p,
            format!("{name:?} is reserved by the sync engine"),
        ));
    }
    if !seen.insert(name.to_string()) {
        return Err(Error::config(
            p,
            format!("Solr field {name:?} is mapped twice"),
        ));
    }
    Ok(())
}

fn check_field(p: &str, f: &FieldMap, seen: &mut HashSet<String>) -> Result<()> {
    check_ident(&format!("{p}.column"), &f.column)?;
    if f.kind == Some(FieldType::Json) {
        if f.paths.is_empty() {
            return Err(Error::config(
                format!("{p}.paths"),
                "a json column needs at least one path",
            ));
        }
        if f.field.is_some() || f.double_field.is_some() {
            return Err(Error::config(
                format!("{p}.field"),
                "a json column maps its fields in \"paths\", not \"field\"",
            ));
        }
        for (i, jp) in f.paths.iter().enumerate() {
            let pp = format!("{p}.paths[{i}]");
            if matches!(
                jp.kind,
                FieldType::Json | FieldType::Decimal | FieldType::Datetime
            ) {
                return Err(Error::config(
                    format!("{pp}.type"),
                    "must be string, text, int, long, double, bool or enum",
                ));
            }
            super::convert::parse_json_path(&jp.path)
                .map_err(|r| Error::config(format!("{pp}.path"), r))?;
            check_target(&format!("{pp}.field"), &jp.field, seen)?;
        }
        return Ok(());
    }
    if !f.paths.is_empty() {
        return Err(Error::config(
            format!("{p}.paths"),
            "only a json column has paths",
        ));
    }
    match &f.field {
        Some(name) => check_target(&format!("{p}.field"), name, seen)?,
        None => {
            return Err(Error::config(
                format!("{p}.field"),
                "missing (the Solr field to fill)",
            ))
        }
    }
    if let Some(d) = &f.double_field {
        if f.kind != Some(FieldType::Decimal) {
            return Err(Error::config(
                format!("{p}.double_field"),
                "only a field of type \"decimal\" has a double_field",
            ));
        }
        check_target(&format!("{p}.double_field"), d, seen)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> serde_json::Value {
        serde_json::json!({
            "mariadb_url": "mysql://u:p@127.0.0.1:3307/db",
            "solr_url": "http://127.0.0.1:8983/solr",
            "core": "items",
            "state_dir": "/tmp/x",
            "mapping": {"table": "items", "primary_key": "id", "version_column": "updated_at",
                        "fields": [{"column": "title", "field": "title_t"}]}
        })
    }

    fn err(v: serde_json::Value) -> String {
        match Config::from_json(&v.to_string()) {
            Ok(_) => String::from("ok"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Config::from_json(&base().to_string());
        let text = format!("{c:?}");
        assert!(text.contains("mysql://u:***@127.0.0.1:3307/db"), "{text}");
        assert!(!text.contains(":p@"), "{text}");
    }

    #[test]
    fn a_good_config_parses_with_defaults() {
        let c = Config::from_json(&base().to_string());
        assert!(c.is_ok(), "{c:?}");
        if let Ok(c) = c {
            assert_eq!(c.configset, "gaia");
            assert_eq!(c.tuning, Tuning::default());
            assert_eq!(c.mapping.source_time_zone, "UTC");
        }
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut v = base();
        v["mapping"]["fields"][0]["colour"] = serde_json::json!(1);
        assert!(err(v).contains("unknown field `colour`"));
        let mut v = base();
        v["mapping"]["table"] = serde_json::json!("items`; DROP TABLE x");
        assert!(err(v).contains("mapping.table"));
        let mut v = base();
        v["mapping"]["fields"][0]["field"] = serde_json::json!("id");
        assert!(err(v).contains("reserved"));
        let mut v = base();
        if let Some(a) = v["mapping"]["fields"].as_array_mut() {
            a.push(serde_json::json!({"column": "body", "field": "title_t"}));
        }
        assert!(err(v).contains("mapping.fields[1].field: Solr field \"title_t\" is mapped twice"));
        let mut v = base();
        v["mapping"]["fields"][0]["type"] = serde_json::json!("json");
        assert!(err(v).contains("needs at least one path"));
        let mut v = base();
        v["mapping"]["fields"][0]["double_field"] = serde_json::json!("x_d");
        assert!(err(v).contains("only a field of type \"decimal\""));
        let mut v = base();
        v["tuning"] = serde_json::json!({"writers": 0});
        assert!(err(v).contains("tuning.writers: must be >= 1"));
        let mut v = base();
        v["tuning"] = serde_json::json!({"lag_ms": 0});
        assert!(err(v).contains("tuning.lag_ms"));
        for (tuning, field) in [
            (
                serde_json::json!({"lease_ms": 100}),
                "tuning.lease_ms: must be between 500",
            ),
            (
                serde_json::json!({"lease_ms": 3_600_001}),
                "tuning.lease_ms",
            ),
            (
                serde_json::json!({"cloud_shards": 0}),
                "tuning.cloud_shards: must be between 1",
            ),
            (
                serde_json::json!({"shared_rebuild": "yes"}),
                "expected a boolean",
            ),
        ] {
            let mut v = base();
            v["tuning"] = tuning;
            assert!(err(v).contains(field), "{field}");
        }
        // The key field every document carries is reserved.
        let mut v = base();
        v["mapping"]["fields"][0]["field"] = serde_json::json!("gaia_key_l");
        assert!(err(v).contains("gaia_key_l"));
        let mut v = base();
        v["solr_url"] = serde_json::json!("ftp://x");
        assert!(err(v).contains("solr_url"));
        let mut v = base();
        v["solr_url"] = serde_json::json!("https://solr.example/solr");
        assert!(err(v).contains("https is not supported"));
        let mut v = base();
        v["mapping"]["source_time_zone"] = serde_json::json!("+25:00");
        assert!(err(v).contains("mapping.source_time_zone"));
        let mut v = base();
        v["mapping"]["children"] = serde_json::json!([{"table": "t", "foreign_key": "item_id",
            "fields": [{"column": "j", "type": "json", "paths": [{"path": "$.a", "field": "a_s", "type": "string"}]}]}]);
        assert!(err(v).contains("root table only"));
        assert!(Config::from_json("{").is_err());
    }
}
