//! MariaDB -> Solr sync: keeps a Solr core equal to MariaDB tables, fast, without losing a row.
//!
//! * **Mapping** ([`Config`], JSON): a root table keyed by an integer primary key, columns ->
//!   Solr fields with types (DECIMAL exact as a string plus a double, DATETIME -> UTC from a
//!   declared source zone, ENUM, JSON columns split by path), multi-valued fields from child
//!   tables (streamed in key order and merge-joined per chunk), soft-delete and tombstone
//!   rules, and a version column whose UTC microseconds become `gaia_version_l`. It is checked
//!   against the live MariaDB schema and the Solr schema **before any write**.
//! * **Full rebuild** ([`Mode::Full`]): primary-key chunks (keyset pagination, bounded memory)
//!   into a fresh core created from the configset, several concurrent writers behind a
//!   bounded queue, batches capped by documents and bytes, retries with exponential backoff
//!   and jitter on 5xx and connection errors, documents Solr rejects (400) dead-lettered to a
//!   JSON-lines file; a checkpoint per acknowledged chunk (written atomically) lets a crashed
//!   rebuild resume; the count is verified and the core swapped in (CoreAdmin SWAP). With
//!   SolrCloud the live name is an alias, re-pointed at each rebuild's own collection.
//!   With `tuning.shared_rebuild` several workers (hosts) share one rebuild through chunk
//!   leases in MariaDB.
//! * **Incremental** ([`Mode::Incremental`]): keyset on (version, key) in the OR-expanded form,
//!   capped below the oldest open transaction so late commits are not skipped; soft deletes
//!   and tombstones become versioned deletes; changed child rows re-index their parents. The
//!   checkpoint advances only after Solr has committed.
//! * Every document carries its version and the configset drops older ones, so replays
//!   never regress a document.
//!
//! The API is blocking and FFI-friendly: each [`Sync::run`] drives a private tokio runtime.
//! A [`Sync`] may be shared between threads: [`Sync::progress`], [`Sync::cancel`] and
//! [`Sync::metrics`] work while another thread is inside [`Sync::run`].

mod binlog;
mod cdc;
mod checkpoint;
#[doc(hidden)] // public only for its CloudTestHook (tests/solr_cloud.rs); the rest is pub(crate)
pub mod cloud;
mod config;
mod convert;
mod db;
mod docs;
mod error;
mod full;
mod incremental;
mod pipeline;
mod progress;
mod reconcile;
mod schema;
mod shared;
mod solr;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use binlog::BinlogScan;
pub use config::{
    ChildMap, Config, EmbedMap, FieldMap, FieldType, JsonPath, Mapping, SoftDelete, Tombstones,
    Tuning,
};
pub use error::{Error, Result};
pub use progress::{Phase, Progress};

use checkpoint::Files;
use db::Db;
use pipeline::Ctx;
use progress::Shared;
use schema::Plan;
use solr::Solr;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Rebuild everything into a fresh core and swap it in (resumes a crashed rebuild).
    Full,
    /// Apply the changes since the checkpoint to the live core.
    Incremental,
    /// Incremental when a checkpoint and the live core exist, else full.
    Auto,
    /// Change data capture: follow the binlog from the checkpoint's GTID position until
    /// cancelled (a full rebuild first when there is no position, or when its binlog has
    /// been purged).
    Cdc,
    /// Compare every live document's (id, version) with the database's rows and repair the
    /// differences: missing and stale documents re-indexed, documents of deleted rows
    /// deleted ([`Report::differences`] says what was fixed).
    Reconcile,
}

impl std::str::FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Mode> {
        match s {
            "full" => Ok(Mode::Full),
            "incremental" => Ok(Mode::Incremental),
            "auto" => Ok(Mode::Auto),
            "cdc" => Ok(Mode::Cdc),
            "reconcile" => Ok(Mode::Reconcile),
            other => Err(Error::config(
                "mode",
                format!(
                    "{other:?} is not one of \"full\", \"incremental\", \"auto\", \"cdc\", \
                     \"reconcile\""
                ),
            )),
        }
    }
}

/// What a finished run did (serialisable: [`Report::to_json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The mode that ran (never `auto`).
    pub mode: Mode,
    /// The live core.
    pub core: String,
    /// The core a full rebuild wrote to.
    pub build_core: Option<String>,
    /// Source rows read (root rows, changed child keys, tombstones).
    pub rows_read: u64,
    /// Documents Solr accepted.
    pub docs_written: u64,
    /// Versioned deletes Solr accepted.
    pub docs_deleted: u64,
    /// Rows dead-lettered (see `dead_letter_file`).
    pub dead_lettered: u64,
    /// Request retries after 5xx or connection errors.
    pub retries: u64,
    /// Units (chunks or pages) acknowledged in this run.
    pub chunks: u64,
    /// A resumed full rebuild: the chunks done before this run.
    pub resumed_from_chunk: Option<u64>,
    /// Documents counted in the build core before the swap.
    pub verified_count: Option<u64>,
    /// Whether a full rebuild was swapped in.
    pub swapped: bool,
    /// Changes up to this instant (UTC microseconds since the epoch) are in the index after
    /// an incremental pass: the server clock less the lag, capped below the oldest open
    /// transaction. For a full rebuild: where the next incremental pass starts.
    pub up_to_us: Option<i64>,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Rows read per second.
    pub rows_per_s: f64,
    /// The checkpoint file.
    pub checkpoint_file: String,
    /// The dead-letter file (JSON lines: id, core, reason, unix_time).
    pub dead_letter_file: String,
    /// Reconciliation: what differed between the index and the database (and was fixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Differences>,
    /// A shared rebuild (`tuning.shared_rebuild`): how the work was shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedRebuild>,
}

/// How a shared rebuild's chunks were shared between workers (as this worker saw it once
/// the rebuild was live).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SharedRebuild {
    /// The rebuild's generation (its core's instance folder).
    pub generation: String,
    /// This worker's name (`host:pid:random`), as recorded in `gaia_sync_chunk.owner`.
    pub worker: String,
    /// Chunks the rebuild was planned in.
    pub chunks_total: u64,
    /// Chunks this worker wrote and marked done.
    pub chunks_here: u64,
    /// Chunks leased more than once (their worker died or stalled past its lease).
    pub chunks_retaken: u64,
    /// Workers that marked at least one chunk done.
    pub workers: u64,
    /// Chunks this worker wrote but could not mark done: its lease had expired and another
    /// worker had taken the chunk over (their documents are the same, so nothing is lost).
    pub leases_lost: u64,
    /// Whether this worker verified the build and swapped it in.
    pub finished_here: bool,
}

/// What a reconciliation found (each difference is repaired in the same run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Differences {
    /// Root rows read from the database.
    pub rows_checked: u64,
    /// Live documents in the core before the repair.
    pub docs_in_solr: u64,
    /// Rows (not soft-deleted) without a document: indexed.
    pub missing: u64,
    /// Documents older than their row (or its children): indexed again.
    pub stale: u64,
    /// Documents without a live row (hard-deleted, soft-deleted, or never a row): deleted.
    pub extra: u64,
}

impl Differences {
    /// Missing, stale and extra documents together (0: the index equals the database).
    pub fn total(&self) -> u64 {
        self.missing + self.stale + self.extra
    }
}

impl Report {
    fn new(mode: Mode, core: &str, files: &Files) -> Report {
        Report {
            mode,
            core: core.to_string(),
            build_core: None,
            rows_read: 0,
            docs_written: 0,
            docs_deleted: 0,
            dead_lettered: 0,
            retries: 0,
            chunks: 0,
            resumed_from_chunk: None,
            verified_count: None,
            swapped: false,
            up_to_us: None,
            elapsed_s: 0.0,
            rows_per_s: 0.0,
            checkpoint_file: files.checkpoint.display().to_string(),
            dead_letter_file: files.dead_letter.display().to_string(),
            differences: None,
            shared: None,
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One run's resolved context.
#[derive(Debug)]
pub(crate) struct Run {
    config: Config,
    hash: String,
    files: Files,
    shared: Arc<Shared>,
    plan: Arc<Plan>,
    solr: Solr,
}

impl Run {
    fn ctx(&self, core: &str) -> Ctx {
        Ctx {
            solr: self.solr.clone(),
            core: core.to_string(),
            files: self.files.clone(),
            shared: self.shared.clone(),
            abort: Arc::new(AtomicBool::new(false)),
            keyed: false,
        }
    }
}

/// Checks that every mapped field exists in the core's schema (as a field or a dynamic
/// field) and is multi-valued where child rows give several values.
pub(crate) async fn check_solr_fields(solr: &Solr, core: &str, plan: &Plan) -> Result<()> {
    let schema = solr.schema_fields(core).await?;
    for (name, need_multi) in &plan.solr_fields {
        let exact = schema.iter().find(|(n, _)| n == name);
        let found = exact.or_else(|| {
            schema
                .iter()
                .filter(|(p, _)| p.contains('*') && solr::matches(p, name))
                .max_by_key(|(p, _)| p.len())
        });
        match found {
            None => {
                return Err(Error::schema(
                    format!("Solr field {name:?}"),
                    format!(
                        "matches no field or dynamic field of core {core:?} (use a suffix such \
                         as _s, _t, _i, _l, _d, _dt, _b, _ss, _txt)"
                    ),
                ))
            }
            Some((_, multi)) if *need_multi && !multi => {
                return Err(Error::schema(
                    format!("Solr field {name:?}"),
                    format!(
                        "is single-valued in core {core:?} but is filled from child rows (use a \
                         multi-valued suffix such as _ss, _txt, _ls)"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A configured sync between MariaDB tables and a Solr core.
///
/// Thread safety: `Sync` is `Send + Sync`. One [`run`](Sync::run) at a time per handle (a
/// second concurrent one gets [`Error::Busy`]); [`progress`](Sync::progress),
/// [`cancel`](Sync::cancel) and [`metrics`](Sync::metrics) may be called from any thread
/// at any time.
#[derive(Debug)]
pub struct Sync {
    config: Config,
    hash: String,
    files: Files,
    shared: Arc<Shared>,
}

impl Sync {
    /// Parses and checks a JSON configuration (no server is contacted).
    pub fn new(config_json: &str) -> Result<Sync> {
        Sync::from_config(Config::from_json(config_json)?)
    }

    /// Wraps an already built configuration, after checking it.
    pub fn from_config(config: Config) -> Result<Sync> {
        config.check()?;
        Ok(Sync {
            hash: checkpoint::mapping_hash(&config.mapping),
            files: Files::new(&config.state_dir, &config.core),
            config,
            shared: Arc::new(Shared::default()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The mapping's hash, recorded in checkpoints.
    pub fn mapping_hash(&self) -> &str {
        &self.hash
    }

    /// Connects to both servers and checks the mapping against the live schemas, writing
    /// nothing.
    pub fn check(&self) -> Result<()> {
        self.block_on(async {
            let (run, db, _) = self.prepare().await?;
            db.close().await;
            if run.solr.core_dir(&self.config.core).await?.is_some() {
                check_solr_fields(&run.solr, &self.config.core, &run.plan).await?;
            }
            Ok(())
        })
    }

    /// Runs a sync and blocks until it ends. Validation (config, database schema, Solr,
    /// checkpoint) happens before any write.
    pub fn run(&self, mode: Mode) -> Result<Report> {
        let _guard = match self.shared.running.try_lock() {
            Ok(g) => g,
            // A run that panicked released the lock; its state is on disk, not in the lock.
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(Error::Busy),
        };
        self.shared.start();
        self.shared.set_phase(Phase::Validating);
        let res = self.block_on(self.run_async(mode));
        let phase = match &res {
            Ok(_) => Phase::Done,
            Err(Error::Cancelled) => Phase::Cancelled,
            Err(_) => Phase::Failed,
        };
        self.shared.finish(phase);
        res.map(|mut r| {
            let p = self.shared.snapshot();
            r.rows_read = p.rows_read;
            r.docs_written = p.docs_written;
            r.docs_deleted = p.docs_deleted;
            r.dead_lettered = p.dead_lettered;
            r.retries = p.retries;
            r.elapsed_s = p.elapsed_s;
            r.rows_per_s = p.rows_per_s;
            r
        })
    }

    /// Runs a sync like [`run`](Sync::run), calling `on_progress` **on the calling thread**
    /// every `interval` (and once more at the end) with a progress snapshot. Returning
    /// `false` from it cancels the run, which then ends with [`Error::Cancelled`].
    ///
    /// This is how single-threaded hosts (PHP, a C main loop) show progress: the run
    /// itself goes on in a helper thread, so the callback never races the host's runtime.
    pub fn run_with_progress(
        &self,
        mode: Mode,
        interval: std::time::Duration,
        mut on_progress: impl FnMut(&Progress) -> bool,
    ) -> Result<Report> {
        let interval = interval.max(std::time::Duration::from_millis(10));
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let worker = s.spawn(move || {
                let r = self.run(mode);
                let _ = tx.send(());
                r
            });
            let mut asked_cancel = false;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                if !on_progress(&self.progress()) && !asked_cancel {
                    asked_cancel = true;
                    self.cancel();
                }
            }
            let out = match worker.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            };
            on_progress(&self.progress());
            out
        })
    }

    /// A snapshot of the current (or last) run's progress.
    pub fn progress(&self) -> Progress {
        self.shared.snapshot()
    }

    /// Asks the current run to stop at the next chunk or page; it returns
    /// [`Error::Cancelled`] with every acknowledged chunk checkpointed.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
    }

    /// Prometheus text-format metrics of this handle.
    pub fn metrics(&self) -> String {
        self.shared.metrics(&self.config.core)
    }

    /// Runs a future on a private runtime (on a helper thread when the caller is already
    /// inside a tokio runtime, where blocking on another one is not allowed).
    fn block_on<T: Send>(
        &self,
        fut: impl std::future::Future<Output = Result<T>> + Send,
    ) -> Result<T> {
        let go = move || -> Result<T> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("gaia-sync")
                .enable_all()
                .build()
                .map_err(|e| Error::io("tokio runtime", e))?;
            let out = rt.block_on(fut);
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
            out
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| match s.spawn(go).join() {
                Ok(r) => r,
                Err(_) => Err(Error::Cancelled),
            })
        } else {
            go()
        }
    }

    async fn prepare(&self) -> Result<(Run, Db, Option<checkpoint::Checkpoint>)> {
        self.files.prepare()?;
        let cp = self.files.load(&self.hash)?;
        let mut db = Db::connect(&self.config.mariadb_url).await?;
        let plan = schema::plan(&mut db, &self.config.mapping).await?;
        let mut solr = Solr::new(
            &self.config.solr_url,
            &self.config.tuning,
            self.shared.clone(),
        )?;
        solr.ping().await?;
        solr.detect_mode().await?;
        let run = Run {
            config: self.config.clone(),
            hash: self.hash.clone(),
            files: self.files.clone(),
            shared: self.shared.clone(),
            plan: Arc::new(plan),
            solr,
        };
        Ok((run, db, cp))
    }

    async fn run_async(&self, mode: Mode) -> Result<Report> {
        let (run, mut db, cp) = self.prepare().await?;
        let core = &self.config.core;
        let live = run.solr.core_dir(core).await?.is_some();
        let has_cursors = cp.as_ref().is_some_and(|c| c.cursors.is_some());
        let mode = match mode {
            Mode::Auto if live && has_cursors && cp.as_ref().is_some_and(|c| c.full.is_none()) => {
                Mode::Incremental
            }
            Mode::Auto => Mode::Full,
            m => m,
        };
        if mode == Mode::Full {
            return full::rebuild(&run, db, cp).await;
        }
        if mode == Mode::Cdc {
            return cdc::follow(&run, db, cp).await;
        }
        if mode == Mode::Reconcile {
            return reconcile::run(&run, db).await;
        }
        // Incremental.
        let Some(mut cp) = cp.filter(|c| c.cursors.is_some()) else {
            db.close().await;
            return Err(Error::NoCheckpoint {
                path: self.files.checkpoint.display().to_string(),
            });
        };
        if !live {
            db.close().await;
            return Err(Error::Solr {
                context: format!("core {core:?}"),
                status: None,
                message: "does not exist; run a full rebuild first".into(),
            });
        }
        check_solr_fields(&run.solr, core, &run.plan).await?;
        run.shared.set_phase(Phase::Incremental);
        let cap = incremental::cap_utc(&mut db, self.config.tuning.lag_ms).await?;
        let cursors = cp.cursors.clone().unwrap_or_default();
        let ctx = run.ctx(core);
        let t = &self.config.tuning;
        let (plan, tuning, rctx) = (run.plan.clone(), t.clone(), ctx.clone());
        let mut report = Report::new(Mode::Incremental, core, &self.files);
        let mut units = 0u64;
        let files = self.files.clone();
        let cp_base = cp.clone();
        let cursors = pipeline::run(
            &ctx,
            t,
            t.commit_every_pages as u64,
            move |b| incremental::reader(db, plan, cursors, cap, tuning, b, rctx),
            |done| {
                units += 1;
                // A long backlog checkpoints as it goes, each time after a Solr commit.
                match (&done.end.cursors, done.committed) {
                    (Some(c), true) => {
                        let mut cp = cp_base.clone();
                        cp.cursors = Some(c.clone());
                        files.save(&cp)
                    }
                    _ => Ok(()),
                }
            },
        )
        .await??;
        report.chunks = units;
        report.up_to_us = Some(cap);
        // The checkpoint moves only once Solr has made everything durable.
        run.solr.commit(core).await?;
        cp.cursors = Some(cursors);
        self.files.save(&cp)?;
        Ok(report)
    }
}

/// Reads and decodes MariaDB's binlog from GTID position `from` up to `to` (e.g. two reads
/// of `@@gtid_binlog_pos`) on one replica connection (`server_id`), decoding every row of
/// every table of `mariadb_url`'s database, and counts what it read: how fast change data
/// capture can read a server's changes (the CDC benchmark uses it). Needs the same server
/// settings and privilege as mode `cdc`.
pub fn scan_binlog(mariadb_url: &str, from: &str, to: &str, server_id: u32) -> Result<BinlogScan> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::db("tokio runtime", e))?;
    rt.block_on(binlog::scan(mariadb_url, from, to, server_id))
}
