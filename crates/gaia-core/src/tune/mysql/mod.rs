//! A study shared by many processes and hosts through MariaDB (10.6+) or MySQL 8.
//!
//! The study lives in Optuna's RDB tables (see `schema.rs`), so Optuna's `load_study` and
//! optuna-dashboard read it as it is, plus a change log that gives every worker a local
//! replica: each call brings the replica up to date with one indexed read of the log rows
//! after its cursor, and the sampler proposes from the replica, with other workers' running
//! trials included (so constant liar spreads concurrent proposals).
//!
//! Per trial a worker sends three statements: an indexed read of the changes it has not
//! seen (so it proposes from the study as it is now, other workers' running trials
//! included), then two calls, each one transaction and one round trip: the ask procedure
//! (the trial row, its parameters, RUNNING state and the log record) and the
//! tell procedure (the value, the final state and the log record). Both take the study's
//! row lock for the few rows they write, so trial numbers are dense and unique, and both
//! return the log rows the worker has not seen.
//!
//! A background task refreshes the heartbeats of this handle's running trials every
//! `heartbeat_interval_s`; any worker marks a running trial whose heartbeat is older than
//! `grace_period_s` as failed (checked at most once per half grace period, in `ask`).

mod optuna;
pub(crate) mod schema;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row, TxOpts};
use serde::Deserialize;

use super::{Error, Space};

/// How a study reaches its MariaDB/MySQL database: `"mysql://user:pass@host:port/db"`, or
/// `{"type": "mysql", "url": "...", "heartbeat_interval_s": 10, "grace_period_s": 60}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlConfig {
    /// `mysql://user:password@host:port/database` (the database must exist; the tables
    /// are created on first use).
    pub url: String,
    /// Seconds between heartbeats of this handle's running trials (default 10; 0 turns
    /// heartbeats and the failing of abandoned trials off).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval_s: u64,
    /// Seconds without a heartbeat after which any worker marks a running trial as failed
    /// (default 60; more than the heartbeat interval).
    #[serde(default = "default_grace")]
    pub grace_period_s: u64,
}

fn default_heartbeat() -> u64 {
    10
}

fn default_grace() -> u64 {
    60
}

impl MysqlConfig {
    /// A configuration with the default heartbeat for `url`.
    pub fn from_url(url: &str) -> MysqlConfig {
        MysqlConfig {
            url: url.to_owned(),
            heartbeat_interval_s: default_heartbeat(),
            grace_period_s: default_grace(),
        }
    }

    /// Checks the URL and the heartbeat settings; the error text never holds the password.
    pub(crate) fn validate(&self) -> Result<Opts, String> {
        let opts = Opts::from_url(&self.url)
            .map_err(|e| format!("{e} (expected mysql://user:password@host:port/database)"))?;
        if opts.db_name().is_none_or(str::is_empty) {
            return Err(
                "the URL names no database (mysql://user:password@host:port/DATABASE)".into(),
            );
        }
        if self.heartbeat_interval_s > 3600 {
            return Err(format!(
                "heartbeat_interval_s must be 0..=3600, got {}",
                self.heartbeat_interval_s
            ));
        }
        if self.heartbeat_interval_s > 0
            && (self.grace_period_s <= self.heartbeat_interval_s || self.grace_period_s > 86_400)
        {
            return Err(format!(
                "grace_period_s must be more than heartbeat_interval_s ({}) and at most 86400, got {}",
                self.heartbeat_interval_s, self.grace_period_s
            ));
        }
        Ok(opts)
    }
}

/// One change record: its sequence number and its JSON text.
pub(crate) type LogRow = (i64, String);

/// What opening a study found.
pub(crate) struct Opened {
    /// The store, its cursor at 0.
    pub store: MysqlStore,
    /// The stored definition (JSON), or `None` when this call created the study.
    pub definition: Option<String>,
    /// Every change record so far.
    pub log: Vec<LogRow>,
}

/// What the tell procedure answered.
pub(crate) struct Told {
    /// 0 done, 1 no such trial, 2 already finished.
    pub status: i64,
    /// The sequence of the last change committed when the call ran (its own when done).
    pub seq: i64,
    /// Change records after the cursor.
    pub log: Vec<LogRow>,
}

/// The running trials of this handle whose heartbeats it keeps: number -> trial_id.
type Beating = Arc<Mutex<HashMap<i64, i64>>>;

/// An open study in a database: a private runtime, one connection (reopened after an
/// error), the study's id and the replica's cursor.
pub(crate) struct MysqlStore {
    rt: tokio::runtime::Runtime,
    opts: Opts,
    conn: Option<Conn>,
    /// `user@host:port/db study "name"`, for messages (never the password).
    place: String,
    config: MysqlConfig,
    study_id: i64,
    /// The sequence of the last change record applied to the replica.
    pub cursor: i64,
    dists: Vec<String>,
    beating: Beating,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// When this handle last looked for abandoned trials (`None`: not yet, so a fresh
    /// handle looks at its first ask).
    last_reap: Option<Instant>,
}

impl std::fmt::Debug for MysqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlStore")
            .field("place", &self.place)
            .field("study_id", &self.study_id)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

/// Bounds every database call, so a frozen server gives an error instead of a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn db_error(place: &str, context: &str, e: &mysql_async::Error) -> Error {
    let message = match e {
        mysql_async::Error::Server(s) if s.code == 1045 => {
            format!("access denied (wrong user or password): {}", s.message)
        }
        mysql_async::Error::Server(s) if s.code == 1049 => {
            format!("unknown database: {}", s.message)
        }
        mysql_async::Error::Server(s) if s.code == 1370 || s.code == 1142 || s.code == 1044 => {
            format!(
                "{} (the user needs SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, \
                 REFERENCES, CREATE ROUTINE, ALTER ROUTINE and EXECUTE on the database)",
                s.message
            )
        }
        mysql_async::Error::Io(io) => format!("server unreachable or connection lost: {io}"),
        other => other.to_string(),
    };
    Error::Database {
        context: format!("{context} ({place})"),
        message,
    }
}

async fn connect(opts: &Opts, place: &str) -> Result<Conn, Error> {
    let opts = OptsBuilder::from_opts(opts.clone())
        .init(vec![
            "SET time_zone = '+00:00'",
            "SET NAMES utf8mb4",
            "SET SESSION innodb_lock_wait_timeout = 20",
        ])
        .stmt_cache_size(16);
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(db_error(place, "connect", &e)),
        Err(_) => Err(Error::Database {
            context: format!("connect ({place})"),
            message: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        }),
    }
}

/// Runs `f` on the connection (opened when missing) within [`CALL_TIMEOUT`]; any error
/// drops the connection so the next call starts on a fresh one.
async fn with_conn<T, F, Fut>(
    conn: &mut Option<Conn>,
    opts: &Opts,
    place: &str,
    context: &str,
    f: F,
) -> Result<T, Error>
where
    F: FnOnce(Conn) -> Fut,
    Fut: Future<Output = Result<(Conn, T), (mysql_async::Error, Option<Conn>)>>,
{
    let c = match conn.take() {
        Some(c) => c,
        None => connect(opts, place).await?,
    };
    match tokio::time::timeout(CALL_TIMEOUT, f(c)).await {
        Ok(Ok((c, out))) => {
            *conn = Some(c);
            Ok(out)
        }
        Ok(Err((e, c))) => {
            if let (Some(c), mysql_async::Error::Server(_)) = (c, &e) {
                // A server-side refusal leaves the session usable once rolled back.
                let mut c = c;
                if c.query_drop("ROLLBACK").await.is_ok() {
                    *conn = Some(c);
                }
            }
            Err(db_error(place, context, &e))
        }
        Err(_) => Err(Error::Database {
            context: format!("{context} ({place})"),
            message: format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
        }),
    }
}

/// A deadlock (1213), a lock-wait timeout (1205), or "failed to read auto-increment value
/// from storage engine" (1467: with `innodb_autoinc_lock_mode=1`, MariaDB's default, the
/// `INSERT ... SELECT` of a trial's parameters takes the table's AUTO-INC lock, and a
/// deadlock met while waiting for it is reported this way; seen once in the 16-worker
/// stress test): the procedure rolled its transaction back, so running it again is safe.
fn retryable(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if matches!(s.code, 1205 | 1213 | 1467))
}

/// How many times a [`retryable`] refusal is run again before it is reported.
const RETRIES: u32 = 8;

/// The pause before retry `attempt` (1-based): a random time between half and all of
/// 2^attempt ms, at most 250 ms, so that workers refused together do not meet again.
fn backoff(attempt: u32) -> Duration {
    let full = (1u64 << attempt.min(16)).min(250) * 1000;
    Duration::from_micros(full / 2 + crate::stats::random_seed() % (full / 2 + 1))
}

/// [`with_conn`] for one transaction that may be run again: a [`retryable`] refusal is
/// retried (up to [`RETRIES`] times, after a growing random [`backoff`]) before it is
/// reported.
async fn with_conn_retry<T, F, Fut>(
    conn: &mut Option<Conn>,
    opts: &Opts,
    place: &str,
    context: &str,
    mut f: F,
) -> Result<T, Error>
where
    F: FnMut(Conn) -> Fut,
    Fut: Future<Output = Result<(Conn, T), (mysql_async::Error, Option<Conn>)>>,
{
    let mut attempt = 0u32;
    loop {
        let c = match conn.take() {
            Some(c) => c,
            None => connect(opts, place).await?,
        };
        match tokio::time::timeout(CALL_TIMEOUT, f(c)).await {
            Ok(Err((e, Some(mut c)))) if retryable(&e) && attempt < RETRIES => {
                if c.query_drop("ROLLBACK").await.is_ok() {
                    *conn = Some(c);
                }
                attempt += 1;
                log::debug!("{context} ({place}): {e}; running it again (attempt {attempt})");
                tokio::time::sleep(backoff(attempt)).await;
            }
            Ok(Ok((c, out))) => {
                *conn = Some(c);
                return Ok(out);
            }
            Ok(Err((e, c))) => {
                if let (Some(mut c), mysql_async::Error::Server(_)) = (c, &e) {
                    if c.query_drop("ROLLBACK").await.is_ok() {
                        *conn = Some(c);
                    }
                }
                return Err(db_error(place, context, &e));
            }
            Err(_) => {
                return Err(Error::Database {
                    context: format!("{context} ({place})"),
                    message: format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
                })
            }
        }
    }
}

fn log_rows(rows: Vec<Row>) -> Result<Vec<LogRow>, mysql_async::Error> {
    rows.into_iter()
        .map(|r| {
            mysql_async::from_row_opt::<(i64, String)>(r)
                .map_err(|e| mysql_async::Error::Other(format!("gaia_log row: {e}").into()))
        })
        .collect()
}

impl MysqlStore {
    /// Connects, creates or checks the schema, then opens the study `name`: finds it, or
    /// creates it with `definition` (JSON) and `direction` (Optuna's `MINIMIZE`/`MAXIMIZE`).
    pub(crate) fn open(
        config: &MysqlConfig,
        name: &str,
        definition: impl FnOnce() -> Result<(String, Vec<&'static str>), Error>,
    ) -> Result<Opened, Error> {
        let opts = config.validate().map_err(|reason| Error::Config {
            what: "study config",
            field: "storage".into(),
            reason,
        })?;
        let place = format!(
            "{}@{}:{}/{} study \"{name}\"",
            opts.user().unwrap_or(""),
            opts.ip_or_hostname(),
            opts.tcp_port(),
            opts.db_name().unwrap_or("")
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gaia-tune-db")
            .enable_all()
            .build()
            .map_err(|e| Error::Database {
                context: "tokio runtime".into(),
                message: e.to_string(),
            })?;
        let mut store = MysqlStore {
            rt,
            opts,
            conn: None,
            place,
            config: config.clone(),
            study_id: 0,
            cursor: 0,
            dists: Vec::new(),
            beating: Arc::new(Mutex::new(HashMap::new())),
            stop: None,
            last_reap: None,
        };
        store.migrate()?;
        let (study_id, definition) = match store.find(name)? {
            Some(found) => (found.0, Some(found.1)),
            None => {
                let (def, direction) = definition()?;
                match store.create(name, &def, &direction)? {
                    Some(id) => (id, None),
                    // Another worker created it between our look and our insert.
                    None => {
                        let found = store.find(name)?.ok_or_else(|| Error::Database {
                            context: format!("open ({})", store.place),
                            message: "the study vanished while it was being opened".into(),
                        })?;
                        (found.0, Some(found.1))
                    }
                }
            }
        };
        store.study_id = study_id;
        let log = store.refresh()?;
        store.start_heartbeat();
        Ok(Opened {
            store,
            definition,
            log,
        })
    }

    /// Sets the study's space (for the Optuna rows of its parameters).
    pub(crate) fn set_space(&mut self, space: &Space) {
        self.dists = optuna::distributions(space);
    }

    /// Where the study is, for messages.
    pub(crate) fn place(&self) -> &str {
        &self.place
    }

    /// The grace period, for messages.
    pub(crate) fn grace_s(&self) -> u64 {
        self.config.grace_period_s
    }

    /// Runs a future on the private runtime (from a helper thread when the caller is
    /// inside a tokio runtime of its own, where blocking is not allowed).
    fn block_on<T: Send>(rt: &tokio::runtime::Runtime, fut: impl Future<Output = T> + Send) -> T {
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                let h = s.spawn(|| rt.block_on(fut));
                match h.join() {
                    Ok(v) => v,
                    Err(p) => std::panic::resume_unwind(p),
                }
            })
        } else {
            rt.block_on(fut)
        }
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let (opts, place) = (&self.opts, self.place.as_str());
        let conn = &mut self.conn;
        Self::block_on(&self.rt, async move {
            let current = with_conn(conn, opts, place, "read schema version", |mut c| async {
                let v: Result<Option<i64>, _> = c
                    .query_first("SELECT version FROM gaia_schema WHERE id = 1")
                    .await;
                match v {
                    Ok(v) => Ok((c, v)),
                    // No table yet (1146): a fresh database.
                    Err(mysql_async::Error::Server(s)) if s.code == 1146 => Ok((c, None)),
                    Err(e) => Err((e, Some(c))),
                }
            })
            .await?;
            match current {
                Some(v) if v == schema::GAIA_SCHEMA_VERSION => return Ok(()),
                Some(v) if v > schema::GAIA_SCHEMA_VERSION => {
                    return Err(Error::UnsupportedVersion {
                        what: "study database schema",
                        found: v as u64,
                        supported: schema::GAIA_SCHEMA_VERSION as u64,
                    })
                }
                _ => {}
            }
            with_conn(conn, opts, place, "create the schema", |mut c| async {
                let r: Result<(), mysql_async::Error> = async {
                    let got: Option<i64> = c
                        .query_first("SELECT GET_LOCK('gaia_tune_schema', 60)")
                        .await?;
                    if got != Some(1) {
                        return Err(mysql_async::Error::Other(
                            "another process held the schema lock for 60 s".into(),
                        ));
                    }
                    let done: Result<Option<i64>, _> = c
                        .query_first("SELECT version FROM gaia_schema WHERE id = 1")
                        .await;
                    if !matches!(done, Ok(Some(v)) if v == schema::GAIA_SCHEMA_VERSION) {
                        for stmt in schema::migration() {
                            c.query_drop(stmt).await?;
                        }
                        c.query_drop(format!(
                            "INSERT INTO alembic_version (version_num) SELECT '{}' FROM DUAL \
                             WHERE NOT EXISTS (SELECT 1 FROM alembic_version)",
                            schema::OPTUNA_ALEMBIC
                        ))
                        .await?;
                        c.query_drop(format!(
                            "INSERT INTO gaia_schema (id, version) VALUES (1, {0}) \
                             ON DUPLICATE KEY UPDATE version = {0}",
                            schema::GAIA_SCHEMA_VERSION
                        ))
                        .await?;
                    }
                    let alembic: Option<String> = c
                        .query_first("SELECT version_num FROM alembic_version LIMIT 1")
                        .await?;
                    c.query_drop("DO RELEASE_LOCK('gaia_tune_schema')").await?;
                    if alembic.as_deref() != Some(schema::OPTUNA_ALEMBIC) {
                        return Err(mysql_async::Error::Other(
                            format!(
                                "the database holds Optuna schema {alembic:?}; Gaia writes {}",
                                schema::OPTUNA_ALEMBIC
                            )
                            .into(),
                        ));
                    }
                    Ok(())
                }
                .await;
                match r {
                    Ok(()) => Ok((c, ())),
                    Err(e) => Err((e, None)),
                }
            })
            .await
        })
    }

    /// The study's id and stored definition, if a study of this name exists.
    fn find(&mut self, name: &str) -> Result<Option<(i64, String)>, Error> {
        let (opts, place) = (&self.opts, self.place.as_str());
        let conn = &mut self.conn;
        let found: Option<(i64, Option<String>)> = Self::block_on(&self.rt, async move {
            with_conn(conn, opts, place, "find the study", |mut c| async move {
                match c
                    .exec_first(
                        "SELECT s.study_id, g.definition FROM studies s \
                         LEFT JOIN gaia_studies g ON g.study_id = s.study_id \
                         WHERE s.study_name = ?",
                        (name,),
                    )
                    .await
                {
                    Ok(v) => Ok((c, v)),
                    Err(e) => Err((e, Some(c))),
                }
            })
            .await
        })?;
        match found {
            None => Ok(None),
            Some((id, Some(def))) => Ok(Some((id, def))),
            Some((_, None)) => Err(Error::StudyMismatch {
                study: self.place.clone(),
                reason: "a study of this name exists but was not created by Gaia \
                         (Gaia reads only its own studies)"
                    .into(),
            }),
        }
    }

    /// Creates the study; `None` when another process created one of this name first.
    fn create(
        &mut self,
        name: &str,
        def: &str,
        directions: &[&'static str],
    ) -> Result<Option<i64>, Error> {
        let (opts, place) = (&self.opts, self.place.as_str());
        let conn = &mut self.conn;
        Self::block_on(&self.rt, async move {
            with_conn(conn, opts, place, "create the study", |mut c| async move {
                let r: Result<Option<i64>, mysql_async::Error> = async {
                    let mut tx = c.start_transaction(TxOpts::default()).await?;
                    match tx
                        .exec_drop("INSERT INTO studies (study_name) VALUES (?)", (name,))
                        .await
                    {
                        Ok(()) => {}
                        Err(mysql_async::Error::Server(s)) if s.code == 1062 => {
                            tx.rollback().await?;
                            return Ok(None);
                        }
                        Err(e) => return Err(e),
                    }
                    let id = tx.last_insert_id().unwrap_or(0) as i64;
                    for (k, direction) in directions.iter().enumerate() {
                        tx.exec_drop(
                            "INSERT INTO study_directions (direction, study_id, objective) \
                             VALUES (?, ?, ?)",
                            (*direction, id, k as i64),
                        )
                        .await?;
                    }
                    tx.exec_drop(
                        "INSERT INTO gaia_studies (study_id, definition) VALUES (?, ?)",
                        (id, def),
                    )
                    .await?;
                    tx.commit().await?;
                    Ok(Some(id))
                }
                .await;
                match r {
                    Ok(v) => Ok((c, v)),
                    Err(e) => Err((e, None)),
                }
            })
            .await
        })
    }

    /// The change records after the cursor (the caller applies them and moves the cursor).
    pub(crate) fn refresh(&mut self) -> Result<Vec<LogRow>, Error> {
        let (opts, place, study, cursor) =
            (&self.opts, self.place.as_str(), self.study_id, self.cursor);
        let conn = &mut self.conn;
        Self::block_on(&self.rt, async move {
            with_conn(
                conn,
                opts,
                place,
                "read the study's changes",
                |mut c| async move {
                    match c
                    .exec(
                        "SELECT seq, op FROM gaia_log WHERE study_id = ? AND seq > ? ORDER BY seq",
                        (study, cursor),
                    )
                    .await
                {
                    Ok(rows) => match log_rows(rows) {
                        Ok(v) => Ok((c, v)),
                        Err(e) => Err((e, Some(c))),
                    },
                    Err(e) => Err((e, Some(c))),
                }
                },
            )
            .await
        })
    }

    /// Starts a trial with `internal` (JSON array) unless a configuration is enqueued.
    /// Returns the trial's number and the change records after the cursor (its own among
    /// them).
    pub(crate) fn ask(
        &mut self,
        space: &Space,
        internal: &[Option<f64>],
    ) -> Result<(i64, i64, Vec<LogRow>), Error> {
        let internal_json = serde_json::to_string(internal).unwrap_or_default();
        let params = optuna::param_rows(space, &self.dists, internal);
        let (opts, place, study, cursor) =
            (&self.opts, self.place.as_str(), self.study_id, self.cursor);
        let conn = &mut self.conn;
        let (number, trial_id, seq, log) = Self::block_on(&self.rt, async move {
            with_conn_retry(conn, opts, place, "ask", |mut c| {
                let args = (study, cursor, internal_json.clone(), params.clone());
                async move {
                    let r: Result<(i64, i64, i64, Vec<LogRow>), mysql_async::Error> = async {
                        let mut res = c.exec_iter("CALL gaia_ask_v3(?, ?, ?, ?)", args).await?;
                        let head: Vec<(i64, i64, i64)> = res.collect().await?;
                        let log: Vec<Row> = res.collect().await?;
                        res.drop_result().await?;
                        let (number, trial_id, seq) = head.first().copied().ok_or_else(|| {
                            mysql_async::Error::Other("gaia_ask_v3 returned no trial".into())
                        })?;
                        Ok((number, trial_id, seq, log_rows(log)?))
                    }
                    .await;
                    match r {
                        Ok(v) => Ok((c, v)),
                        Err(e) => Err((e, Some(c))),
                    }
                }
            })
            .await
        })?;
        if self.config.heartbeat_interval_s > 0 {
            if let Ok(mut b) = self.beating.lock() {
                b.insert(number, trial_id);
            }
        }
        Ok((number, seq, log))
    }

    /// Finishes trial `number` (Optuna state name, one value per objective for COMPLETE,
    /// constraint values as a JSON array) with the change record `op`.
    pub(crate) fn tell(
        &mut self,
        number: i64,
        state: &'static str,
        values: &[f64],
        constraints: Option<String>,
        op: String,
    ) -> Result<Told, Error> {
        let values = serde_json::to_string(values).unwrap_or_default();
        let (opts, place, study, cursor) =
            (&self.opts, self.place.as_str(), self.study_id, self.cursor);
        let conn = &mut self.conn;
        let told = Self::block_on(&self.rt, async move {
            with_conn_retry(conn, opts, place, "tell", |mut c| {
                let args = (
                    study,
                    cursor,
                    number,
                    state,
                    values.clone(),
                    constraints.clone(),
                    op.clone(),
                );
                async move {
                    let r: Result<Told, mysql_async::Error> = async {
                        let mut res = c
                            .exec_iter("CALL gaia_tell_v3(?, ?, ?, ?, ?, ?, ?)", args)
                            .await?;
                        let head: Vec<TellHead> = res.collect().await?;
                        let log: Vec<Row> = res.collect().await?;
                        res.drop_result().await?;
                        let (status, _state, _value, seq) =
                            head.into_iter().next().ok_or_else(|| {
                                mysql_async::Error::Other("gaia_tell_v3 returned no status".into())
                            })?;
                        // Not done: nothing was written; every change before the call is in.
                        let seq = seq.unwrap_or(1) - i64::from(status != 0);
                        Ok(Told {
                            status,
                            seq,
                            log: log_rows(log)?,
                        })
                    }
                    .await;
                    match r {
                        Ok(v) => Ok((c, v)),
                        Err(e) => Err((e, Some(c))),
                    }
                }
            })
            .await
        })?;
        if told.status != 1 {
            if let Ok(mut b) = self.beating.lock() {
                b.remove(&number);
            }
        }
        Ok(told)
    }

    /// Writes one change that is not an ask or a tell, in one transaction under the
    /// study's lock: `build(next_number)` returns the change record and, for an added
    /// trial, its Optuna rows; for an enqueue, `queue` holds the configuration.
    pub(crate) fn write(
        &mut self,
        space: &Space,
        change: Change,
    ) -> Result<(Option<i64>, i64, Vec<LogRow>), Error> {
        let dists = self.dists.clone();
        let (opts, place, study, cursor) =
            (&self.opts, self.place.as_str(), self.study_id, self.cursor);
        let conn = &mut self.conn;
        Self::block_on(&self.rt, async move {
            with_conn(conn, opts, place, "write", |mut c| async move {
                let r: Result<(Option<i64>, i64, Vec<LogRow>), mysql_async::Error> = async {
                    let mut tx = c.start_transaction(TxOpts::default()).await?;
                    let head: Option<(i64, i64)> = tx
                        .exec_first(
                            "SELECT next_number, next_seq FROM gaia_studies \
                             WHERE study_id = ? FOR UPDATE",
                            (study,),
                        )
                        .await?;
                    let (number, seq) = head.ok_or_else(|| {
                        mysql_async::Error::Other("the study no longer exists".into())
                    })?;
                    let (op, added) = match change {
                        Change::Enqueue { internal, op } => {
                            let params = optuna::param_rows(space, &dists, &internal);
                            let internal = serde_json::to_string(&internal).unwrap_or_default();
                            tx.exec_drop(
                                "INSERT INTO gaia_queue (study_id, seq, internal, params) \
                                 VALUES (?, ?, ?, ?)",
                                (study, seq, internal, params),
                            )
                            .await?;
                            (op, None)
                        }
                        Change::Add { build } => {
                            let (op, internal, state, values, constraints) = build(number as u64);
                            tx.exec_drop(
                                "INSERT INTO trials (number, study_id, state, datetime_start, \
                                 datetime_complete) VALUES (?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
                                (number, study, state),
                            )
                            .await?;
                            let tid = tx.last_insert_id().unwrap_or(0) as i64;
                            let params = optuna::param_rows(space, &dists, &internal);
                            tx.exec_drop(
                                "INSERT INTO trial_params (trial_id, param_name, param_value, \
                                 distribution_json) SELECT ?, j.n, j.v, j.d FROM JSON_TABLE(?, \
                                 '$[*]' COLUMNS (n VARCHAR(512) PATH '$.n', v DOUBLE PATH '$.v', \
                                 d TEXT PATH '$.d')) AS j",
                                (tid, params),
                            )
                            .await?;
                            for (k, v) in values.iter().enumerate() {
                                tx.exec_drop(
                                    "INSERT INTO trial_values (trial_id, objective, value, \
                                     value_type) VALUES (?, ?, ?, 'FINITE')",
                                    (tid, k as i64, *v),
                                )
                                .await?;
                            }
                            if let Some(cs) = constraints {
                                tx.exec_drop(
                                    "INSERT INTO trial_system_attributes (trial_id, `key`, \
                                     value_json) VALUES (?, 'constraints', ?)",
                                    (tid, cs),
                                )
                                .await?;
                            }
                            (op, Some(number))
                        }
                        Change::Report {
                            number,
                            step,
                            value,
                            op,
                        } => {
                            // INSERT IGNORE: a step reported twice keeps its first value.
                            tx.exec_drop(
                                "INSERT IGNORE INTO trial_intermediate_values (trial_id, step, \
                                 intermediate_value, intermediate_value_type) SELECT trial_id, \
                                 ?, ?, 'FINITE' FROM trials WHERE study_id = ? AND number = ?",
                                (step, value, study, number),
                            )
                            .await?;
                            (op, None)
                        }
                    };
                    tx.exec_drop(
                        "INSERT INTO gaia_log (study_id, seq, op) VALUES (?, ?, ?)",
                        (study, seq, op),
                    )
                    .await?;
                    tx.exec_drop(
                        "UPDATE gaia_studies SET next_seq = next_seq + 1, \
                         next_number = next_number + ? WHERE study_id = ?",
                        (i64::from(added.is_some()), study),
                    )
                    .await?;
                    tx.commit().await?;
                    let log = c
                        .exec(
                            "SELECT seq, op FROM gaia_log WHERE study_id = ? AND seq > ? \
                             ORDER BY seq",
                            (study, cursor),
                        )
                        .await?;
                    Ok((added, seq, log_rows(log)?))
                }
                .await;
                match r {
                    Ok(v) => Ok((c, v)),
                    Err(e) => Err((e, None)),
                }
            })
            .await
        })
    }

    /// Whether it is time to look for abandoned trials (at most once per half grace).
    pub(crate) fn reap_due(&mut self) -> bool {
        let every = Duration::from_secs(self.config.grace_period_s.max(2) / 2);
        if self.config.heartbeat_interval_s == 0
            || self.last_reap.is_some_and(|t| t.elapsed() < every)
        {
            return false;
        }
        self.last_reap = Some(Instant::now());
        true
    }

    /// Of the running trials `numbers`, those whose heartbeat is older than the grace
    /// period (or that never had one and started longer ago than it).
    pub(crate) fn stale(&mut self, numbers: &[u64]) -> Result<Vec<i64>, Error> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = numbers.iter().take(1000).map(u64::to_string).collect();
        let sql = format!(
            "SELECT t.number FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id \
             WHERE t.study_id = ? AND t.number IN ({}) AND t.state = 'RUNNING' \
             AND COALESCE(h.heartbeat, t.datetime_start) < UTC_TIMESTAMP() - INTERVAL ? SECOND",
            list.join(",")
        );
        let (opts, place, study, grace) = (
            &self.opts,
            self.place.as_str(),
            self.study_id,
            self.config.grace_period_s,
        );
        let conn = &mut self.conn;
        Self::block_on(&self.rt, async move {
            with_conn(
                conn,
                opts,
                place,
                "find abandoned trials",
                |mut c| async move {
                    match c.exec::<i64, _, _>(sql, (study, grace)).await {
                        Ok(v) => Ok((c, v)),
                        Err(e) => Err((e, Some(c))),
                    }
                },
            )
            .await
        })
    }

    fn start_heartbeat(&mut self) {
        if self.config.heartbeat_interval_s == 0 {
            return;
        }
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let beating = Arc::clone(&self.beating);
        let opts = self.opts.clone();
        let place = self.place.clone();
        let every = Duration::from_secs(self.config.heartbeat_interval_s);
        self.rt.spawn(async move {
            let mut conn: Option<Conn> = None;
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = tokio::time::sleep(every) => {}
                }
                let ids: Vec<String> = match beating.lock() {
                    Ok(b) => b.values().map(i64::to_string).collect(),
                    Err(_) => break,
                };
                if ids.is_empty() {
                    continue;
                }
                let rows: Vec<String> = ids
                    .iter()
                    .map(|id| format!("({id}, UTC_TIMESTAMP())"))
                    .collect();
                let sql = format!(
                    "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES {} \
                     ON DUPLICATE KEY UPDATE heartbeat = VALUES(heartbeat)",
                    rows.join(",")
                );
                let r = with_conn(&mut conn, &opts, &place, "heartbeat", |mut c| async move {
                    match c.query_drop(sql).await {
                        Ok(()) => Ok((c, ())),
                        Err(e) => Err((e, Some(c))),
                    }
                })
                .await;
                if let Err(e) = r {
                    log::warn!("{e}");
                }
            }
            if let Some(c) = conn {
                let _ = tokio::time::timeout(Duration::from_secs(2), c.disconnect()).await;
            }
        });
        self.stop = Some(tx);
    }
}

/// An added trial: its change record, internal values, Optuna state name, value and
/// constraint values (JSON array).
pub(crate) type AddedTrial = (
    String,
    Vec<Option<f64>>,
    &'static str,
    Vec<f64>,
    Option<String>,
);

/// The tell procedure's first row: status, state, value, sequence.
type TellHead = (i64, Option<String>, Option<f64>, Option<i64>);

/// A change written by [`MysqlStore::write`].
pub(crate) enum Change {
    /// Queue a configuration; `op` is its change record.
    Enqueue {
        /// The configuration's internal values.
        internal: Vec<Option<f64>>,
        /// The change record.
        op: String,
    },
    /// Record a finished trial; `build(number)` returns its change record, internal values,
    /// Optuna state name, value and constraint values (JSON array).
    Add {
        /// Builds the trial once its number is known.
        build: Box<dyn FnOnce(u64) -> AddedTrial + Send>,
    },
    /// Record an intermediate value of a running trial; `op` is its change record.
    Report {
        /// The trial's number.
        number: i64,
        /// The step.
        step: i64,
        /// The finite value.
        value: f64,
        /// The change record.
        op: String,
    },
}

impl Drop for MysqlStore {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let conn = self.conn.take();
        Self::block_on(&self.rt, async move {
            if let Some(c) = conn {
                let _ = tokio::time::timeout(Duration::from_secs(2), c.disconnect()).await;
            }
            // Let the heartbeat task see the stop and close its connection.
            tokio::time::sleep(Duration::from_millis(1)).await;
        });
    }
}
