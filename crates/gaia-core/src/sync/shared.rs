//! Shared full rebuild (`tuning.shared_rebuild`): every worker running the same
//! configuration at the same time — threads, processes or hosts — builds one new core
//! together, coordinated through two MariaDB tables.
//!
//! * `gaia_sync_rebuild`: one row per live core, the rebuild in progress (its generation,
//!   mapping hash, phase `building` / `verifying` / `done` / `failed`, the build's
//!   [`FullState`] as JSON). Its row lock serialises planning and finishing.
//! * `gaia_sync_chunk`: the primary-key ranges `(lo, hi]` planned by the first worker, each
//!   `todo`, `leased` (by `owner` until `lease_until`) or `done` (by `done_by`).
//!
//! A worker leases the first free chunk with `SELECT ... FOR UPDATE SKIP LOCKED` (a chunk
//! is free when `todo`, or `leased` with its lease expired: its worker died or stalled),
//! writes its documents, and once Solr has acknowledged all of them marks it done — only if
//! it still holds the lease, so no chunk is counted twice. A ledger task renews the leases of
//! the chunks in flight every third of `lease_ms`. When no chunk is left, the worker that
//! takes the rebuild row's lock first verifies the count (the sum of the chunks' documents)
//! and swaps the build in; the others wait until the phase is `done`, and every worker
//! leaves with the same checkpoint (the cursors and GTID position the rebuild started at).
//! A finisher that dies holds the `verifying` phase only until its own lease expires.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::Value;
use tokio::sync::mpsc;

use super::checkpoint::{Checkpoint, FullState};
use super::config::Tuning;
use super::convert;
use super::db::{db_retry, q, Db};
use super::docs::{self, Out};
use super::error::{Error, Result};
use super::full::{self, Stage};
use super::pipeline::{self, Batcher, Ctx};
use super::progress::Phase;
use super::schema::Plan;
use super::{Report, Run, SharedRebuild};

const REBUILDS: &str = "gaia_sync_rebuild";
const CHUNKS: &str = "gaia_sync_chunk";

/// Chunk rows inserted per statement when planning.
const PLAN_BATCH: usize = 500;

/// How often a waiting worker looks again.
const POLL: Duration = Duration::from_millis(200);

/// This worker's name: host, process and a random tag (two handles in one process differ).
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}:{}:{:06x}",
        std::process::id(),
        crate::stats::random_seed() & 0xff_ffff
    )
}

async fn ensure_tables(db: &mut Db) -> Result<()> {
    db.text(&format!(
        "CREATE TABLE IF NOT EXISTS {REBUILDS} (\
           core VARCHAR(190) NOT NULL PRIMARY KEY, \
           generation VARCHAR(255) NOT NULL, \
           mapping_hash VARCHAR(64) NOT NULL, \
           phase ENUM('building','verifying','done','failed') NOT NULL, \
           state_json LONGTEXT NOT NULL, \
           chunks INT UNSIGNED NOT NULL DEFAULT 0, \
           finisher VARCHAR(255) NULL, \
           finish_until DATETIME(6) NULL, \
           finished_at DATETIME(6) NULL, \
           docs BIGINT UNSIGNED NULL, \
           message TEXT NULL, \
           created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    ))
    .await?;
    db.text(&format!(
        "CREATE TABLE IF NOT EXISTS {CHUNKS} (\
           core VARCHAR(190) NOT NULL, \
           generation VARCHAR(255) NOT NULL, \
           chunk INT UNSIGNED NOT NULL, \
           lo BIGINT NULL, \
           hi BIGINT NULL, \
           state ENUM('todo','leased','done') NOT NULL DEFAULT 'todo', \
           owner VARCHAR(255) NULL, \
           lease_until DATETIME(6) NULL, \
           attempts INT UNSIGNED NOT NULL DEFAULT 0, \
           done_by VARCHAR(255) NULL, \
           done_at DATETIME(6) NULL, \
           rows_read BIGINT UNSIGNED NULL, \
           docs_ok BIGINT UNSIGNED NULL, \
           dead BIGINT UNSIGNED NULL, \
           PRIMARY KEY (core, chunk)\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    ))
    .await
}

fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(|v| convert::int(v).ok().flatten())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::NULL => None,
        other => Some(other.as_sql(true)),
    }
}

/// The rebuild row as read under its lock.
struct Row {
    generation: String,
    mapping_hash: String,
    phase: String,
    state: Option<FullState>,
    /// The finisher's lease has run out.
    finish_expired: bool,
    message: Option<String>,
}

async fn lock_row(db: &mut Db, core: &str) -> Result<Row> {
    let rows = db
        .rows(
            &format!(
                "SELECT generation, mapping_hash, phase, state_json, \
                 COALESCE(finish_until < NOW(6), 1), message \
                 FROM {REBUILDS} WHERE core = ? FOR UPDATE"
            ),
            vec![Value::from(core)],
        )
        .await?;
    let r = rows
        .first()
        .ok_or_else(|| Error::db(format!("reading {REBUILDS}"), "the core's row is missing"))?;
    Ok(Row {
        generation: text(r.first()).unwrap_or_default(),
        mapping_hash: text(r.get(1)).unwrap_or_default(),
        phase: text(r.get(2)).unwrap_or_default(),
        state: text(r.get(3)).and_then(|j| serde_json::from_str(&j).ok()),
        finish_expired: int(r.get(4)).unwrap_or(1) != 0,
        message: text(r.get(5)),
    })
}

/// The chunk boundaries of the root table: every `chunk`-th primary key, in order.
async fn boundaries(db: &mut Db, plan: &Plan, chunk: usize) -> Result<Vec<i64>> {
    let (t, pk) = (q(&plan.table), q(&plan.pk));
    let rows = db
        .rows(
            &format!(
                "SELECT k FROM (SELECT {pk} AS k, ROW_NUMBER() OVER (ORDER BY {pk}) AS n \
                 FROM {t}) AS x WHERE MOD(n, ?) = 0 ORDER BY k"
            ),
            vec![Value::from(chunk as u64)],
        )
        .await?;
    Ok(rows.iter().filter_map(|r| int(r.first())).collect())
}

/// Joins the shared rebuild in progress, or plans a new one. Returns its state and whether
/// this worker planned it.
async fn join_or_plan(r: &Run, db: &mut Db) -> Result<(FullState, bool)> {
    let core = r.config.core.as_str();
    // A row to lock, so two workers starting together serialise on it.
    db.exec(
        &format!(
            "INSERT IGNORE INTO {REBUILDS} (core, generation, mapping_hash, phase, state_json) \
             VALUES (?, '', '', 'done', '')"
        ),
        vec![Value::from(core)],
    )
    .await?;
    db.text("START TRANSACTION").await?;
    let res = plan_locked(r, db).await;
    db.end_transaction(res).await
}

async fn plan_locked(r: &Run, db: &mut Db) -> Result<(FullState, bool)> {
    let core = r.config.core.as_str();
    let row = lock_row(db, core).await?;
    if row.phase == "building" || row.phase == "verifying" {
        if row.mapping_hash != r.hash {
            return Err(Error::Shared {
                core: core.into(),
                message: format!(
                    "rebuild {} of another mapping (hash {}) is in progress; let it finish, \
                     or delete its row from {REBUILDS} to abandon it",
                    row.generation, row.mapping_hash
                ),
            });
        }
        if let Some(fs) = row.state {
            if full::stage(r, &fs).await? != Stage::Gone {
                return Ok((fs, false));
            }
            log::warn!(
                "sync: shared rebuild {} lost its build core {}; planning a new one",
                row.generation,
                fs.build_core
            );
        }
    }
    // A new rebuild: its core, its chunks, then the row.
    let fs = full::begin(r, db).await?;
    let planned = async {
        let bounds = boundaries(db, &r.plan, r.config.tuning.chunk_rows).await?;
        db.exec(
            &format!("DELETE FROM {CHUNKS} WHERE core = ?"),
            vec![Value::from(core)],
        )
        .await?;
        // (lo, hi]: the first chunk has no lower bound, the last no upper bound.
        let mut ranges = Vec::with_capacity(bounds.len() + 1);
        let mut lo = None;
        for &b in &bounds {
            ranges.push((lo, Some(b)));
            lo = Some(b);
        }
        ranges.push((lo, None));
        for (i, part) in ranges.chunks(PLAN_BATCH).enumerate() {
            let marks = vec!["(?, ?, ?, ?, ?)"; part.len()].join(", ");
            let mut params = Vec::with_capacity(part.len() * 5);
            for (j, (lo, hi)) in part.iter().enumerate() {
                params.push(Value::from(core));
                params.push(Value::from(fs.instance_dir.as_str()));
                params.push(Value::from((i * PLAN_BATCH + j) as u64));
                params.push(lo.map_or(Value::NULL, Value::Int));
                params.push(hi.map_or(Value::NULL, Value::Int));
            }
            db.exec(
                &format!("INSERT INTO {CHUNKS} (core, generation, chunk, lo, hi) VALUES {marks}"),
                params,
            )
            .await?;
        }
        let state = serde_json::to_string(&fs).map_err(|e| Error::db("planning", e))?;
        db.exec(
            &format!(
                "UPDATE {REBUILDS} SET generation = ?, mapping_hash = ?, phase = 'building', \
                 state_json = ?, chunks = ?, finisher = NULL, finish_until = NULL, \
                 finished_at = NULL, docs = NULL, message = NULL, created_at = NOW(6) \
                 WHERE core = ?"
            ),
            vec![
                Value::from(fs.instance_dir.as_str()),
                Value::from(r.hash.as_str()),
                Value::from(state),
                Value::from(ranges.len() as u64),
                Value::from(core),
            ],
        )
        .await?;
        Ok::<_, Error>(())
    }
    .await;
    if let Err(e) = planned {
        let _ = r.solr.unload(&fs.build_core).await;
        return Err(e);
    }
    Ok((fs, true))
}

/// A leased chunk.
#[derive(Debug, Clone, Copy)]
struct Lease {
    chunk: u64,
    lo: Option<i64>,
    hi: Option<i64>,
}

/// Leases the first free chunk of `generation` (None: every chunk is done or held).
async fn lease_next(
    db: &mut Db,
    core: &str,
    generation: &str,
    me: &str,
    lease_ms: u64,
) -> Result<Option<Lease>> {
    db.text("START TRANSACTION").await?;
    let res = async {
        let rows = db
            .rows(
                &format!(
                    "SELECT chunk, lo, hi FROM {CHUNKS} WHERE core = ? AND generation = ? AND \
                     (state = 'todo' OR (state = 'leased' AND lease_until < NOW(6))) \
                     ORDER BY chunk LIMIT 1 FOR UPDATE SKIP LOCKED"
                ),
                vec![Value::from(core), Value::from(generation)],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let chunk = int(row.first()).unwrap_or(0).max(0) as u64;
        db.exec(
            &format!(
                "UPDATE {CHUNKS} SET state = 'leased', owner = ?, attempts = attempts + 1, \
                 lease_until = NOW(6) + INTERVAL ? MICROSECOND WHERE core = ? AND chunk = ?"
            ),
            vec![
                Value::from(me),
                Value::from(lease_ms * 1000),
                Value::from(core),
                Value::from(chunk),
            ],
        )
        .await?;
        Ok(Some(Lease {
            chunk,
            lo: int(row.get(1)),
            hi: int(row.get(2)),
        }))
    }
    .await;
    db.end_transaction(res).await
}

/// What the reader and the pipeline tell the ledger.
#[derive(Debug)]
enum Note {
    /// A chunk was leased and is being written.
    Leased(u64),
    /// A chunk's documents are all acknowledged by Solr.
    Done {
        chunk: u64,
        rows: u64,
        ok: u64,
        dead: u64,
    },
}

/// What one round of leasing and writing did.
#[derive(Debug, Default)]
struct Round {
    done: u64,
    lost: u64,
}

/// The ledger: renews the leases of the chunks in flight and marks chunks done, on its own
/// connection.
struct Ledger {
    db: Db,
    core: String,
    generation: String,
    me: String,
    tuning: Tuning,
    in_flight: BTreeSet<u64>,
    round: Round,
}

impl Ledger {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Note>) -> (Db, Result<Round>) {
        let every = Duration::from_millis((self.tuning.lease_ms / 3).max(100));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let res = loop {
            tokio::select! {
                note = rx.recv() => match note {
                    None => break self.release().await,
                    Some(Note::Leased(c)) => {
                        self.in_flight.insert(c);
                    }
                    Some(Note::Done { chunk, rows, ok, dead }) => {
                        if let Err(e) = self.mark_done(chunk, rows, ok, dead).await {
                            break Err(e);
                        }
                    }
                },
                _ = tick.tick() => {
                    if let Err(e) = self.renew().await {
                        break Err(e);
                    }
                }
            }
        };
        let Ledger { db, round, .. } = self;
        (db, res.map(|()| round))
    }

    /// Runs a statement, again after a reconnect when the connection broke (every
    /// statement here is idempotent). `rows`: collect its rows, else count the rows changed.
    async fn retrying(
        &mut self,
        what: &str,
        sql: &str,
        params: Vec<Value>,
        rows: bool,
    ) -> Result<(u64, Vec<Vec<Value>>)> {
        let mut attempt = 0u32;
        loop {
            let out = if rows {
                self.db.rows(sql, params.clone()).await.map(|r| (0, r))
            } else {
                self.db.exec(sql, params.clone()).await.map(|n| (n, vec![]))
            };
            match out {
                Ok(v) => return Ok(v),
                Err(e) if self.db.broken && attempt < self.tuning.max_retries => {
                    attempt += 1;
                    let wait = self.tuning.backoff_ms(attempt);
                    log::warn!("sync: {what}: {e}; reconnecting (retry {attempt}) in {wait} ms");
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    self.db.reconnect().await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands back the chunks still leased (a cancelled or failed round), so other workers
    /// take them at once instead of after their lease.
    async fn release(&mut self) -> Result<()> {
        self.update_in_flight(
            "releasing chunk leases",
            "state = 'todo', owner = NULL, lease_until = NULL",
            vec![],
        )
        .await
    }

    /// Extends the leases of the chunks in flight by `lease_ms`.
    async fn renew(&mut self) -> Result<()> {
        let lease_us = Value::from(self.tuning.lease_ms * 1000);
        self.update_in_flight(
            "renewing chunk leases",
            "lease_until = NOW(6) + INTERVAL ? MICROSECOND",
            vec![lease_us],
        )
        .await
    }

    /// `UPDATE ... SET {set}` on the chunks in flight that this worker still holds.
    async fn update_in_flight(
        &mut self,
        what: &str,
        set: &str,
        mut params: Vec<Value>,
    ) -> Result<()> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        let list = self
            .in_flight
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "UPDATE {CHUNKS} SET {set} WHERE core = ? AND generation = ? AND owner = ? \
             AND state = 'leased' AND chunk IN ({list})"
        );
        params.extend([
            Value::from(self.core.as_str()),
            Value::from(self.generation.as_str()),
            Value::from(self.me.as_str()),
        ]);
        self.retrying(what, &sql, params, false).await.map(|_| ())
    }

    async fn mark_done(&mut self, chunk: u64, rows: u64, ok: u64, dead: u64) -> Result<()> {
        self.in_flight.remove(&chunk);
        let sql = format!(
            "UPDATE {CHUNKS} SET state = 'done', done_by = owner, done_at = NOW(6), \
             lease_until = NULL, rows_read = ?, docs_ok = ?, dead = ? \
             WHERE core = ? AND generation = ? AND chunk = ? AND owner = ? AND state = 'leased'"
        );
        let params = vec![
            Value::from(rows),
            Value::from(ok),
            Value::from(dead),
            Value::from(self.core.as_str()),
            Value::from(self.generation.as_str()),
            Value::from(chunk),
            Value::from(self.me.as_str()),
        ];
        let changed = self
            .retrying("marking a chunk done", &sql, params, false)
            .await?
            .0;
        if changed == 1 {
            self.round.done += 1;
            return Ok(());
        }
        // Not ours any more, unless a retried statement had committed before the break.
        let check = format!(
            "SELECT done_by FROM {CHUNKS} WHERE core = ? AND generation = ? AND chunk = ? \
             AND state = 'done'"
        );
        let params = vec![
            Value::from(self.core.as_str()),
            Value::from(self.generation.as_str()),
            Value::from(chunk),
        ];
        let rows = self
            .retrying("checking a chunk", &check, params, true)
            .await?
            .1;
        if rows.first().and_then(|r| text(r.first())).as_deref() == Some(self.me.as_str()) {
            self.round.done += 1;
        } else {
            log::warn!(
                "sync: chunk {chunk} of shared rebuild {} was taken over after its lease \
                 expired; its documents were written twice (same ids, no loss)",
                self.generation
            );
            self.round.lost += 1;
        }
        Ok(())
    }
}

/// What the reader of one round works on.
struct Job {
    plan: Arc<Plan>,
    /// The live core (the chunk table's key).
    core: String,
    generation: String,
    /// This worker.
    me: String,
    tuning: Tuning,
}

/// Leases and reads chunks until none is free, pushing their documents.
async fn reader(
    mut db: Db,
    job: Job,
    notes: mpsc::UnboundedSender<Note>,
    mut b: Batcher,
    ctx: Ctx,
) -> Result<()> {
    let Job {
        plan,
        core,
        generation,
        me,
        tuning,
    } = job;
    let res = async {
        loop {
            ctx.stop()?;
            let lease = db_retry!(
                db,
                tuning,
                ctx,
                lease_next(&mut db, &core, &generation, &me, tuning.lease_ms)
            );
            let Some(lease) = lease else {
                return Ok(());
            };
            notes
                .send(Note::Leased(lease.chunk))
                .map_err(|_| Error::Cancelled)?;
            // The range is read in pages: rows inserted since planning make it longer.
            let mut last = lease.lo;
            let mut rows_total = 0u64;
            loop {
                ctx.stop()?;
                let rows = db_retry!(
                    db,
                    tuning,
                    ctx,
                    full::read_chunk(&mut db, &plan, last, lease.hi, tuning.chunk_rows)
                );
                let n = rows.len();
                for out in docs::build_rows(&plan, &rows) {
                    match out {
                        // A fresh core holds nothing to delete.
                        Out::Delete { .. } => {}
                        out => b.push(out).await?,
                    }
                }
                rows_total += n as u64;
                ctx.shared.rows_read.fetch_add(n as u64, Ordering::Relaxed);
                last = rows.last().map(|r| r.pk).or(last);
                if n < tuning.chunk_rows {
                    break;
                }
            }
            b.end_chunk(lease.chunk, rows_total).await?;
        }
    }
    .await;
    db.close().await;
    res
}

/// One round: a reader leasing chunks, the writers, the ledger; ends when no chunk is free
/// and every leased one is marked (or found taken over). Hands the connection back.
async fn round(r: &Run, db: Db, fs: &FullState, me: &str) -> Result<(Db, Round)> {
    let t = &r.config.tuning;
    let reader_db = Db::connect(&r.config.mariadb_url).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let ledger = Ledger {
        db,
        core: r.config.core.clone(),
        generation: fs.instance_dir.clone(),
        me: me.to_string(),
        tuning: t.clone(),
        in_flight: BTreeSet::new(),
        round: Round::default(),
    };
    let ledger = tokio::spawn(ledger.run(rx));
    let ctx = r.ctx(&fs.build_core);
    let job = Job {
        plan: r.plan.clone(),
        core: r.config.core.clone(),
        generation: fs.instance_dir.clone(),
        me: me.to_string(),
        tuning: t.clone(),
    };
    let (rctx, notes) = (ctx.clone(), tx.clone());
    let written = pipeline::run(
        &ctx,
        t,
        0,
        move |b| reader(reader_db, job, notes, b, rctx),
        move |done| {
            let chunk = done.end.chunk.unwrap_or(u64::MAX);
            tx.send(Note::Done {
                chunk,
                rows: done.end.rows,
                ok: done.ok,
                dead: done.dead,
            })
            .map_err(|_| Error::Cancelled)
        },
    )
    .await;
    // Both senders are gone with the reader and the pipeline: the ledger drains and stops.
    let (db, kept) = ledger
        .await
        .map_err(|e| Error::db("shared rebuild ledger", e))?;
    written??;
    Ok((db, kept?))
}

/// What the rebuild row says once this worker has no chunk left to lease.
enum Next {
    /// Chunks still held by others: wait.
    Wait,
    /// This worker finishes (verifies and swaps).
    Finish,
    /// Live: every worker is done.
    Done,
}

async fn next_step(db: &mut Db, r: &Run, generation: &str, me: &str) -> Result<Next> {
    let core = r.config.core.as_str();
    db.text("START TRANSACTION").await?;
    let res = async {
        let row = lock_row(db, core).await?;
        if row.generation != generation {
            return Err(Error::Shared {
                core: core.into(),
                message: format!(
                    "rebuild {generation} was replaced by rebuild {} before this worker saw it                      finish",
                    row.generation
                ),
            });
        }
        match row.phase.as_str() {
            "done" => return Ok(Next::Done),
            "failed" => {
                return Err(Error::Shared {
                    core: core.into(),
                    message: format!(
                        "rebuild {generation} failed: {}",
                        row.message.unwrap_or_default()
                    ),
                })
            }
            "verifying" if !row.finish_expired => return Ok(Next::Wait),
            _ => {}
        }
        let left = db
            .rows(
                &format!(
                    "SELECT COUNT(*) FROM {CHUNKS} WHERE core = ? AND generation = ?                      AND state <> 'done'"
                ),
                vec![Value::from(core), Value::from(generation)],
            )
            .await?;
        if int(left.first().and_then(|r| r.first())).unwrap_or(1) > 0 {
            return Ok(Next::Wait);
        }
        db.exec(
            &format!(
                "UPDATE {REBUILDS} SET phase = 'verifying', finisher = ?,                  finish_until = NOW(6) + INTERVAL ? MICROSECOND WHERE core = ?"
            ),
            vec![
                Value::from(me),
                Value::from(r.config.tuning.lease_ms * 1000),
                Value::from(core),
            ],
        )
        .await?;
        Ok(Next::Finish)
    }
    .await;
    db.end_transaction(res).await
}

/// Verifies and swaps the build in (or finds it already live), then records the outcome.
async fn finish(db: &mut Db, r: &Run, fs: &FullState, me: &str) -> Result<u64> {
    let core = r.config.core.as_str();
    let sums = db
        .rows(
            &format!(
                "SELECT CAST(COALESCE(SUM(docs_ok), 0) AS SIGNED) FROM {CHUNKS}                  WHERE core = ? AND generation = ?"
            ),
            vec![Value::from(core), Value::from(fs.instance_dir.as_str())],
        )
        .await?;
    let expected = int(sums.first().and_then(|r| r.first()))
        .unwrap_or(0)
        .max(0) as u64;
    let outcome = match full::stage(r, fs).await? {
        // A finisher before this one swapped, then died.
        Stage::Live => Ok(expected),
        Stage::Building => full::finish(r, fs, expected).await,
        Stage::Gone => Err(Error::Shared {
            core: core.into(),
            message: format!("the build core {} is gone", fs.build_core),
        }),
    };
    let (phase, docs, message) = match &outcome {
        Ok(n) => ("done", Value::from(*n), Value::NULL),
        Err(e @ (Error::Verify { .. } | Error::Shared { .. })) => {
            ("failed", Value::NULL, Value::from(e.to_string()))
        }
        // Solr or MariaDB trouble: the phase stays `verifying`; this worker's lease on it
        // runs out and the next worker to look finishes instead.
        Err(_) => return outcome,
    };
    db.exec(
        &format!(
            "UPDATE {REBUILDS} SET phase = ?, docs = ?, message = ?, finished_at = NOW(6)              WHERE core = ? AND generation = ? AND finisher = ?"
        ),
        vec![
            Value::from(phase),
            docs,
            message,
            Value::from(core),
            Value::from(fs.instance_dir.as_str()),
            Value::from(me),
        ],
    )
    .await?;
    outcome
}

/// How the chunks were shared, from the chunk table.
async fn summary(db: &mut Db, r: &Run, generation: &str, me: &str) -> Result<SharedRebuild> {
    let rows = db
        .rows(
            &format!(
                "SELECT COUNT(*), CAST(COALESCE(SUM(done_by = ?), 0) AS SIGNED),                  CAST(COALESCE(SUM(attempts > 1), 0) AS SIGNED), COUNT(DISTINCT done_by)                  FROM {CHUNKS} WHERE core = ? AND generation = ?"
            ),
            vec![
                Value::from(me),
                Value::from(r.config.core.as_str()),
                Value::from(generation),
            ],
        )
        .await?;
    let row = rows.first();
    let n = |i: usize| int(row.and_then(|r| r.get(i))).unwrap_or(0).max(0) as u64;
    Ok(SharedRebuild {
        generation: generation.to_string(),
        worker: me.to_string(),
        chunks_total: n(0),
        chunks_here: n(1),
        chunks_retaken: n(2),
        workers: n(3),
        leases_lost: 0,
        finished_here: false,
    })
}

/// Runs this worker's part of a shared rebuild and returns once the rebuild is live.
pub(crate) async fn run(r: &Run, mut db: Db, cp: Option<Checkpoint>) -> Result<Report> {
    let core = r.config.core.as_str();
    // Check the mapping against the live core's schema before any write.
    if r.solr.core_dir(core).await?.is_some() {
        super::check_solr_fields(&r.solr, core, &r.plan).await?;
    }
    let mut cp = cp.unwrap_or_else(|| Checkpoint::new(&r.hash));
    let me = worker_name();
    ensure_tables(&mut db).await?;
    let (fs, planned) = join_or_plan(r, &mut db).await?;
    log::info!(
        "sync: {} shared rebuild {} as {me}",
        if planned { "planned" } else { "joined" },
        fs.instance_dir
    );
    let mut report = Report::new(super::Mode::Full, core, &r.files);
    report.build_core = Some(fs.build_core.clone());
    report.up_to_us = fs.start_utc;
    r.shared.set_phase(Phase::Building);

    let mut done = Round::default();
    let mut finished_here = false;
    loop {
        if r.shared.cancelled() {
            db.close().await;
            return Err(Error::Cancelled);
        }
        let (back, round) = round(r, db, &fs, &me).await?;
        db = back;
        done.done += round.done;
        done.lost += round.lost;
        match next_step(&mut db, r, &fs.instance_dir, &me).await? {
            Next::Wait => tokio::time::sleep(POLL).await,
            Next::Done => break,
            Next::Finish => {
                let found = finish(&mut db, r, &fs, &me).await?;
                report.verified_count = Some(found);
                report.swapped = true;
                finished_here = true;
                break;
            }
        }
    }
    let mut shared = summary(&mut db, r, &fs.instance_dir, &me).await?;
    db.close().await;
    shared.leases_lost = done.lost;
    shared.finished_here = finished_here;
    report.chunks = done.done;
    report.shared = Some(shared);
    // Every worker leaves with the checkpoint the rebuild starts the incremental sync from.
    cp.full = None;
    cp.cursors = Some(fs.start.clone());
    cp.gtid = fs.gtid.clone();
    r.files.save(&cp)?;
    Ok(report)
}
