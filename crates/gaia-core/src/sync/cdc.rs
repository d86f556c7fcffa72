//! Change data capture: follows MariaDB's binlog as a replica and keeps the live core equal
//! to the projection with a lag of one flush interval.
//!
//! * The follower reads event groups (transactions) from the checkpoint's GTID position;
//!   a group counts only once its commit event has been read, so a half-read transaction
//!   is never applied.
//! * Rows of the root table give the keys to re-read (both images of an update, so a key
//!   change re-reads both); rows of a child table give their parents' keys. Deleted root
//!   rows give a versioned delete (the deleted row's version + 1).
//! * Every `cdc_flush_ms` (or `chunk_rows` keys) the pending keys are re-read in batches by
//!   primary key with their children, exactly as an incremental pass builds documents, and
//!   written; Solr commits and only then the checkpoint moves to the GTID position of the
//!   last complete group. A crash replays from there: documents carry versions, so a replay
//!   changes nothing.
//! * A lost connection reconnects from the last complete group read. A position whose
//!   binlog has been purged falls back to a full rebuild, which records the server's
//!   position before it reads a row, and following continues from there.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::binlog::{self, Change, Follower, Groups, GtidPos};
use super::checkpoint::Checkpoint;
use super::config::Tuning;
use super::convert;
use super::db::{db_retry, Db};
use super::docs::{self, Out};
use super::error::{Error, Result};
use super::incremental;
use super::pipeline::{self, Batcher, Ctx};
use super::progress::Phase;
use super::schema::{Plan, VerPlan};
use super::{check_solr_fields, full, Mode, Report, Run};

/// An idle follower still moves its checkpoint this often when the server's position
/// moved for tables it does not follow.
const IDLE_CHECKPOINT: Duration = Duration::from_secs(2);

/// Root keys to re-read, each with a version floor (a deleted row's version + 1, else
/// `i64::MIN`), and those whose document needs a version newer than any it had.
#[derive(Debug, Default)]
struct Keys {
    floors: BTreeMap<i64, i64>,
    bump: BTreeSet<i64>,
    /// Row changes seen (for the progress counters).
    rows: u64,
}

impl Keys {
    fn touch(&mut self, key: i64, floor: i64, bump: bool) {
        let e = self.floors.entry(key).or_insert(i64::MIN);
        *e = (*e).max(floor);
        if bump {
            self.bump.insert(key);
        }
    }

    fn merge(&mut self, other: &mut Keys) {
        for (k, f) in std::mem::take(&mut other.floors) {
            let bump = other.bump.contains(&k);
            self.touch(k, f, bump);
        }
        other.bump.clear();
        self.rows += std::mem::take(&mut other.rows);
    }

    fn clear(&mut self) {
        self.floors.clear();
        self.bump.clear();
        self.rows = 0;
    }
}

/// The replica server id: the configured one, else one derived from the core's name.
fn server_id(tuning: &Tuning, core: &str) -> u32 {
    tuning.server_id.unwrap_or_else(|| {
        let h = core.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        0x4000_0000 | (h & 0x3fff_ffff)
    })
}

/// Follows the binlog until cancelled; a full rebuild first when there is no position to
/// start from or its binlog is gone. Returns the report when cancelled.
pub(crate) async fn follow(r: &Run, mut db: Db, mut cp: Option<Checkpoint>) -> Result<Report> {
    let core = r.config.core.clone();
    binlog::check_server(&mut db).await?;
    let mut report = Report::new(Mode::Cdc, &core, &r.files);
    loop {
        let live = r.solr.core_dir(&core).await?.is_some();
        // The checkpoint to follow from: a live core, no rebuild pending, a GTID position.
        let ready = cp
            .clone()
            .filter(|c| live && c.full.is_none() && c.gtid.is_some());
        let Some(base) = ready else {
            let built = full::rebuild(r, db, cp.take()).await?;
            report.build_core = built.build_core;
            report.swapped |= built.swapped;
            report.verified_count = built.verified_count;
            report.chunks += built.chunks;
            cp = r.files.load(&r.hash)?;
            if cp.as_ref().and_then(|c| c.gtid.as_ref()).is_none() {
                return Err(Error::Checkpoint {
                    path: r.files.checkpoint.display().to_string(),
                    reason: "the full rebuild recorded no binlog position".into(),
                });
            }
            db = Db::connect(&r.config.mariadb_url).await?;
            continue;
        };
        let start = base.gtid.as_deref().unwrap_or_default();
        let pos = GtidPos::parse(start).map_err(|reason| Error::Checkpoint {
            path: r.files.checkpoint.display().to_string(),
            reason,
        })?;
        check_solr_fields(&r.solr, &core, &r.plan).await?;
        r.shared.set_phase(Phase::Following);
        match stream(r, db, base, pos, &mut report).await {
            Ok(()) | Err(Error::Cancelled) if r.shared.cancelled() => return Ok(report),
            Ok(()) => return Ok(report),
            Err(Error::BinlogGone { position, message }) => {
                log::warn!(
                    "sync: the binlog from {position:?} is gone ({message}); rebuilding {core} \
                     in full, then following from the rebuild's position"
                );
                cp = r.files.load(&r.hash)?.map(|mut c| {
                    c.gtid = None;
                    c
                });
                db = Db::connect(&r.config.mariadb_url).await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One follower session: the reader task follows the binlog, the pipeline writes, and each
/// committed unit moves the checkpoint to its GTID position.
async fn stream(
    r: &Run,
    db: Db,
    base: Checkpoint,
    pos: GtidPos,
    report: &mut Report,
) -> Result<()> {
    let core = r.config.core.clone();
    let t = r.config.tuning.clone();
    let tables: Vec<String> = std::iter::once(r.plan.table.clone())
        .chain(r.plan.children.iter().map(|c| c.table.clone()))
        .collect();
    let id = server_id(&t, &core);
    let url = r.config.mariadb_url.clone();
    // Opened here, so a purged position is known before anything starts.
    let follower = Follower::open(&url, &pos, id, tables.clone()).await?;
    // Keyed: the changes of one row reach Solr in commit order, whatever the writers.
    let ctx = Ctx {
        keyed: true,
        ..r.ctx(&core)
    };
    let files = r.files.clone();
    let (plan, tuning, rctx) = (r.plan.clone(), t.clone(), ctx.clone());
    let source = Source {
        url,
        server_id: id,
        tables,
    };
    let mut units = 0u64;
    let res = pipeline::run(
        &ctx,
        &t,
        1,
        move |b| reader(follower, source, db, plan, pos, tuning, b, rctx),
        |done| {
            units += 1;
            match (&done.end.gtid, done.committed) {
                (Some(g), true) => {
                    let mut cp = base.clone();
                    cp.gtid = Some(g.clone());
                    files.save(&cp)
                }
                _ => Ok(()),
            }
        },
    )
    .await;
    report.chunks += units;
    res?
}

/// Where the follower reconnects.
struct Source {
    url: String,
    server_id: u32,
    tables: Vec<String>,
}

#[allow(
    clippy::too_many_arguments,
    reason = "the reader task owns its whole context"
)]
async fn reader(
    follower: Follower,
    source: Source,
    mut db: Db,
    plan: Arc<Plan>,
    pos: GtidPos,
    tuning: Tuning,
    mut b: Batcher,
    ctx: Ctx,
) -> Result<()> {
    let mut f = Some(follower);
    let res = read_loop(&mut f, &source, &mut db, &plan, pos, &tuning, &mut b, &ctx).await;
    if let Some(f) = f {
        f.close().await;
    }
    db.close().await;
    res
}

#[allow(
    clippy::too_many_arguments,
    reason = "internal helper of the reader task"
)]
async fn read_loop(
    follower: &mut Option<Follower>,
    source: &Source,
    db: &mut Db,
    plan: &Plan,
    start: GtidPos,
    tuning: &Tuning,
    b: &mut Batcher,
    ctx: &Ctx,
) -> Result<()> {
    let flush_after = Duration::from_millis(tuning.cdc_flush_ms.max(1));
    // After the last group read completely, and after the last one handed to the writers.
    let mut read_pos = start.clone();
    let mut sent_pos = start;
    let mut groups = Groups::default();
    let mut in_group = Keys::default();
    let mut batch = Keys::default();
    let mut batch_since: Option<Instant> = None;
    let mut last_unit = Instant::now();
    let mut attempt = 0u32;
    loop {
        if ctx.shared.cancelled() {
            return Ok(());
        }
        ctx.stop()?;
        let due = batch_since.map(|t| flush_after.saturating_sub(t.elapsed()));
        let wait = due.unwrap_or(flush_after).min(Duration::from_millis(250));
        let next = match follower.as_mut() {
            Some(f) => f.next(wait, &read_pos).await,
            // Reopened after a broken connection, from the last complete group.
            None => Follower::open(
                &source.url,
                &read_pos,
                source.server_id,
                source.tables.clone(),
            )
            .await
            .map(|nf| {
                *follower = Some(nf);
                None
            }),
        };
        match next {
            Ok(Some(change)) => {
                attempt = 0;
                log::trace!("sync: binlog {change:?}");
                match &change {
                    Change::Begin { .. } => in_group.clear(),
                    Change::Rows {
                        table,
                        rows,
                        timestamp,
                    } if groups.is_open() => {
                        keys_of(plan, *table, rows, *timestamp, &mut in_group)?;
                    }
                    _ => {}
                }
                if let Some(gtid) = groups.on(&change) {
                    read_pos.apply(gtid);
                    if !in_group.floors.is_empty() {
                        batch_since.get_or_insert_with(Instant::now);
                    }
                    batch.merge(&mut in_group);
                }
            }
            Ok(None) => {}
            Err(e @ Error::BinlogGone { .. }) => return Err(e),
            Err(e) => {
                // The connection broke: the half-read group is read again from the start.
                attempt += 1;
                if attempt > tuning.max_retries {
                    return Err(e);
                }
                groups.reset();
                in_group.clear();
                let wait = tuning.backoff_ms(attempt);
                log::warn!("sync: {e}; reconnecting the binlog (retry {attempt}) in {wait} ms");
                ctx.shared.retries.fetch_add(1, Ordering::Relaxed);
                *follower = None;
                tokio::time::sleep(Duration::from_millis(wait)).await;
                continue;
            }
        }
        let full = batch.floors.len() >= tuning.chunk_rows.max(1);
        let due = batch_since.is_some_and(|t| t.elapsed() >= flush_after);
        if !batch.floors.is_empty() && (full || due) {
            log::debug!(
                "sync: applying {} keys up to {read_pos}",
                batch.floors.len()
            );
            apply(db, plan, tuning, ctx, b, &mut batch).await?;
            b.end_gtid_unit(batch.rows, read_pos.to_string()).await?;
            batch.clear();
            batch_since = None;
            sent_pos = read_pos.clone();
            last_unit = Instant::now();
        } else if batch.floors.is_empty()
            && read_pos != sent_pos
            && last_unit.elapsed() >= IDLE_CHECKPOINT
        {
            b.end_gtid_unit(0, read_pos.to_string()).await?;
            sent_pos = read_pos.clone();
            last_unit = Instant::now();
        }
    }
}

/// The root keys (with version floors) that one rows event touches.
///
/// A document's version is the largest of its row's and its children's versions, so a
/// delete (of a root row, or of a row under a key that changed) and any child change must
/// be written with a version above every one the document had: those keys are marked to be
/// versioned at the server's clock when they are applied (with an integer version column,
/// a deleted row's version + 1).
fn keys_of(
    plan: &Plan,
    table: usize,
    rows: &[(
        Option<mysql_async::binlog::row::BinlogRow>,
        Option<mysql_async::binlog::row::BinlogRow>,
    )],
    timestamp: u32,
    out: &mut Keys,
) -> Result<()> {
    let key_col = if table == 0 {
        plan.pk.as_str()
    } else {
        match plan.children.get(table - 1) {
            Some(c) => c.fk.as_str(),
            None => return Ok(()),
        }
    };
    let key = |img: &mysql_async::binlog::row::BinlogRow| -> Result<Option<i64>> {
        if !binlog::named(img) {
            return Err(Error::Db {
                context: "binlog".into(),
                message: "row events carry no column names: set binlog_row_metadata=FULL".into(),
            });
        }
        Ok(binlog::column(img, key_col).and_then(|v| convert::int(v).ok().flatten()))
    };
    for (before, after) in rows {
        out.rows += 1;
        let old = before.as_ref().map(&key).transpose()?.flatten();
        let new = after.as_ref().map(&key).transpose()?.flatten();
        if let Some(k) = new {
            out.touch(k, i64::MIN, table != 0);
        }
        if let Some(k) = old {
            if table != 0 {
                out.touch(k, i64::MIN, true);
            } else if new != Some(k) {
                // The row is gone from under this key.
                let floor = before
                    .as_ref()
                    .and_then(|b| binlog::column(b, &plan.version_col))
                    .and_then(|v| plan.version.version(v).ok().flatten())
                    .map_or(i64::from(timestamp) * 1_000_000, |v| v.saturating_add(1));
                out.touch(k, floor, true);
            } else {
                out.touch(k, i64::MIN, false);
            }
        }
    }
    Ok(())
}

/// Re-reads the pending keys (with their children) and queues their documents; keys whose
/// row is gone become versioned deletes.
async fn apply(
    db: &mut Db,
    plan: &Plan,
    tuning: &Tuning,
    ctx: &Ctx,
    b: &mut Batcher,
    batch: &mut Keys,
) -> Result<()> {
    // Read before the rows: every version the documents had is at most this.
    let now = match plan.version {
        VerPlan::Time(_) => Some(db_retry!(db, tuning, ctx, db.now_us())),
        VerPlan::Int => None,
    };
    let floor_of = |k: &i64| -> i64 {
        let f = batch.floors.get(k).copied().unwrap_or(i64::MIN);
        match now {
            Some(now) if batch.bump.contains(k) => f.max(now),
            _ => f,
        }
    };
    let keys: Vec<i64> = batch.floors.keys().copied().collect();
    let floors: HashMap<i64, i64> = keys.iter().map(|k| (*k, floor_of(k))).collect();
    for chunk in keys.chunks(tuning.chunk_rows.max(1)) {
        let found = incremental::reindex(db, plan, tuning, ctx, b, chunk, &floors).await?;
        for k in chunk {
            let floor = floors.get(k).copied().unwrap_or(i64::MIN);
            if floor != i64::MIN && found.binary_search(k).is_err() {
                b.push(Out::Delete {
                    id: docs::doc_id(plan, *k),
                    version: floor,
                })
                .await?;
            }
        }
        ctx.shared
            .rows_read
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_server_ids_are_stable_distinct_and_in_the_upper_range() {
        let t = Tuning::default();
        let a = server_id(&t, "products");
        assert_eq!(a, server_id(&t, "products"));
        assert_ne!(a, server_id(&t, "orders"));
        assert!((0x4000_0000..=0x7fff_ffff).contains(&a));
        let fixed = Tuning {
            server_id: Some(42),
            ..Tuning::default()
        };
        assert_eq!(server_id(&fixed, "products"), 42);
    }

    #[test]
    fn keys_keep_the_highest_floor() {
        let mut k = Keys::default();
        k.touch(5, i64::MIN, false);
        k.touch(5, 100, false);
        k.touch(5, 50, false);
        let mut g = Keys::default();
        g.touch(7, 3, true);
        g.touch(8, i64::MIN, false);
        g.rows = 2;
        k.merge(&mut g);
        assert_eq!(k.floors.get(&5), Some(&100));
        assert_eq!(k.floors.get(&7), Some(&3));
        assert_eq!(k.bump.iter().copied().collect::<Vec<_>>(), vec![7]);
        assert_eq!(k.rows, 2);
        assert!(g.floors.is_empty() && g.bump.is_empty());
        k.clear();
        assert!(k.floors.is_empty() && k.bump.is_empty() && k.rows == 0);
    }
}
