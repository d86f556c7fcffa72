//! Full rebuild: primary-key chunks streamed into a fresh core, checkpointed per chunk,
//! verified by count, then swapped in so readers never see a half-built index.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use mysql_async::Value;

use super::checkpoint::{Checkpoint, FullState};
use super::config::Tuning;
use super::db::{db_retry, q, Db};
use super::docs::{self, Out, RootRow};
use super::error::{Error, Result};
use super::pipeline::{self, Batcher, Ctx};
use super::progress::Phase;
use super::schema::Plan;
use super::{incremental, Report, Run};

/// Reads the root table chunk by chunk after `after`, merge-joins the children, queues docs.
async fn reader(
    mut db: Db,
    plan: Arc<Plan>,
    after: Option<i64>,
    tuning: Tuning,
    mut b: Batcher,
    ctx: Ctx,
) -> Result<()> {
    let res = reader_inner(&mut db, &plan, after, &tuning, &mut b, &ctx).await;
    db.close().await;
    res
}

/// One chunk: at most `chunk` root rows after `last` (and up to `upto`, inclusive, when
/// given) in key order, with their children.
pub(crate) async fn read_chunk(
    db: &mut Db,
    plan: &Plan,
    last: Option<i64>,
    upto: Option<i64>,
    chunk: usize,
) -> Result<Vec<RootRow>> {
    let (t, pk) = (q(&plan.table), q(&plan.pk));
    let mut conds = Vec::new();
    let mut params = Vec::new();
    if let Some(k) = last {
        conds.push(format!("{pk} > ?"));
        params.push(Value::Int(k));
    }
    if let Some(k) = upto {
        conds.push(format!("{pk} <= ?"));
        params.push(Value::Int(k));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let sql = format!(
        "SELECT {} FROM {t}{filter} ORDER BY {pk} LIMIT {chunk}",
        plan.select
    );
    let n_children = plan.children.len();
    let mut rows = Vec::with_capacity(chunk);
    db.each(&sql, params, |vals| {
        if let Ok(r) = RootRow::new(vals, n_children) {
            rows.push(r);
        }
        Ok(())
    })
    .await?;
    for (ci, c) in plan.children.iter().enumerate() {
        docs::join_child(db, c, ci, &mut rows, true).await?;
    }
    Ok(rows)
}

async fn reader_inner(
    db: &mut Db,
    plan: &Plan,
    after: Option<i64>,
    tuning: &Tuning,
    b: &mut Batcher,
    ctx: &Ctx,
) -> Result<()> {
    let chunk = tuning.chunk_rows;
    let mut last = after;
    loop {
        ctx.stop()?;
        let rows = db_retry!(db, tuning, ctx, read_chunk(db, plan, last, None, chunk));
        let n = rows.len();
        if n == 0 {
            break;
        }
        for out in docs::build_rows(plan, &rows) {
            match out {
                // A fresh core holds nothing to delete: soft-deleted rows are just skipped.
                Out::Delete { .. } => {}
                out => b.push(out).await?,
            }
        }
        last = rows.last().map(|r| r.pk);
        ctx.shared.rows_read.fetch_add(n as u64, Ordering::Relaxed);
        b.end_unit(last, n as u64, None).await?;
        if n < chunk {
            break;
        }
    }
    Ok(())
}

fn unique_suffix() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("{now:x}{:04x}", crate::stats::random_seed() & 0xffff)
}

/// Starts a rebuild: notes the binlog position and the incremental cursors it will leave
/// off at, then creates the build core (checked against the mapping; removed again when the
/// mapping does not fit the configset).
pub(crate) async fn begin(r: &Run, db: &mut Db) -> Result<FullState> {
    // The binlog position first: every change after it is replayed by change data
    // capture, every change before it is in the rows read afterwards.
    let gtid = super::binlog::position(db).await?;
    let cap = incremental::cap_utc(db, r.config.tuning.lag_ms).await?;
    let suffix = unique_suffix();
    let core = &r.config.core;
    let instance_dir = format!("{core}_{suffix}");
    let fs = FullState {
        // SolrCloud: the generation's collection, named like the folder it stands for.
        build_core: if r.solr.is_cloud() {
            instance_dir.clone()
        } else {
            format!("{core}_build_{suffix}")
        },
        instance_dir,
        last_pk: None,
        chunks_done: 0,
        docs_ok: 0,
        dead_lettered: 0,
        rows_read: 0,
        start: incremental::cursors_at(&r.plan, cap),
        start_utc: Some(cap),
        gtid,
    };
    let solr = &r.solr;
    solr.create_core(&fs.build_core, &fs.instance_dir, &r.config.configset)
        .await?;
    // Without a live core the configset's schema is first seen here: a mapping that does
    // not fit it removes the core again, leaving nothing behind.
    if let Err(e) = super::check_solr_fields(solr, &fs.build_core, &r.plan).await {
        let _ = solr.unload(&fs.build_core).await;
        return Err(e);
    }
    Ok(fs)
}

/// Where a rebuild stands in Solr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The build core is there, not yet live.
    Building,
    /// The build is already the live core (swapped before a crash).
    Live,
    /// Neither: the build core is gone.
    Gone,
}

/// Where `fs`'s build stands (its instance dir tells it apart from any other core).
pub(crate) async fn stage(r: &Run, fs: &FullState) -> Result<Stage> {
    let ours = |d: &Option<String>| {
        d.as_deref()
            .is_some_and(|d| d.trim_end_matches('/').ends_with(&fs.instance_dir))
    };
    if ours(&r.solr.core_dir(&r.config.core).await?) {
        return Ok(Stage::Live);
    }
    if ours(&r.solr.core_dir(&fs.build_core).await?) {
        return Ok(Stage::Building);
    }
    Ok(Stage::Gone)
}

/// Commits the build core, checks it holds `expected` documents and swaps it in (the old
/// live core is unloaded). A count that differs unloads the build and is
/// [`Error::Verify`]. Returns the count.
pub(crate) async fn finish(r: &Run, fs: &FullState, expected: u64) -> Result<u64> {
    let (solr, core) = (&r.solr, &r.config.core);
    r.shared.set_phase(Phase::Verifying);
    solr.commit(&fs.build_core).await?;
    let found = solr.count(&fs.build_core).await?;
    if found != expected {
        let _ = solr.unload(&fs.build_core).await;
        return Err(Error::Verify {
            core: fs.build_core.clone(),
            found,
            expected,
        });
    }
    r.shared.set_phase(Phase::Swapping);
    if solr.is_cloud() {
        // Re-point the alias (atomic for readers), then drop the previous generation.
        let old = solr.alias_target(core).await?;
        solr.set_alias(core, &fs.build_core).await?;
        if let Some(old) = old.filter(|o| *o != fs.build_core) {
            if let Err(e) = solr.delete_collection(&old).await {
                log::warn!("sync: could not delete the previous collection {old}: {e}");
            }
        }
    } else if solr.core_dir(core).await?.is_some() {
        solr.swap(core, &fs.build_core).await?;
        // After the swap the build name holds the old index.
        if let Err(e) = solr.unload(&fs.build_core).await {
            log::warn!(
                "sync: could not unload the old core (now {}): {e}",
                fs.build_core
            );
        }
    } else {
        solr.rename(&fs.build_core, core).await?;
    }
    Ok(found)
}

/// Runs a full rebuild: shared with other workers through chunk leases in MariaDB when
/// `tuning.shared_rebuild` is set, else alone (resuming its own crashed rebuild).
pub(crate) async fn rebuild(r: &Run, db: Db, cp: Option<Checkpoint>) -> Result<Report> {
    if r.config.tuning.shared_rebuild {
        super::shared::run(r, db, cp).await
    } else {
        run(r, db, cp).await
    }
}

/// Runs (or resumes) a full rebuild alone.
pub(crate) async fn run(r: &Run, mut db: Db, cp: Option<Checkpoint>) -> Result<Report> {
    let solr = &r.solr;
    let core = &r.config.core;
    let mut cp = cp.unwrap_or_else(|| Checkpoint::new(&r.hash));
    // Check the mapping against the live core's schema before any write.
    if solr.core_dir(core).await?.is_some() {
        super::check_solr_fields(solr, core, &r.plan).await?;
    }
    let mut report = Report::new(super::Mode::Full, core, &r.files);

    // Resume a rebuild in progress if its core is still there.
    let mut state: Option<FullState> = None;
    if let Some(fs) = cp.full.clone() {
        match stage(r, &fs).await? {
            Stage::Live => {
                // Crashed after the swap: finish the bookkeeping (the build name, if still
                // there, holds the old index).
                if fs.build_core != *core && solr.core_dir(&fs.build_core).await?.is_some() {
                    let _ = solr.unload(&fs.build_core).await;
                }
                cp.cursors = Some(fs.start.clone());
                cp.gtid = fs.gtid.clone();
                cp.full = None;
                r.files.save(&cp)?;
                report.swapped = true;
                report.build_core = Some(fs.build_core);
                db.close().await;
                return Ok(report);
            }
            Stage::Building => {
                report.resumed_from_chunk = Some(fs.chunks_done);
                state = Some(fs);
            }
            Stage::Gone => {
                if solr.core_dir(&fs.build_core).await?.is_some() {
                    // The name now holds something else (e.g. an old live core after a
                    // manual swap).
                    log::warn!(
                        "sync: core {} is not the rebuild in {}; starting over",
                        fs.build_core,
                        fs.instance_dir
                    );
                }
            }
        }
    }
    let fs = match state {
        Some(fs) => fs,
        None => {
            let fs = begin(r, &mut db).await?;
            // The core exists now: record it before writing, so a crash can resume.
            cp.full = Some(fs.clone());
            r.files.save(&cp)?;
            fs
        }
    };
    report.build_core = Some(fs.build_core.clone());
    report.up_to_us = fs.start_utc;

    // Rows still to read, for the ETA.
    let total = {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {} > ?",
            q(&r.plan.table),
            q(&r.plan.pk)
        );
        let rows = db
            .rows(&sql, vec![Value::Int(fs.last_pk.unwrap_or(i64::MIN))])
            .await?;
        rows.first()
            .and_then(|row| row.first())
            .and_then(|v| super::convert::int(v).ok().flatten())
            .unwrap_or(0)
    };
    r.shared
        .rows_total
        .store(total.max(0) as u64, Ordering::Relaxed);
    r.shared.set_phase(Phase::Building);

    let ctx = r.ctx(&fs.build_core);
    let t = &r.config.tuning;
    let plan = r.plan.clone();
    let (after, tuning) = (fs.last_pk, t.clone());
    let rctx = ctx.clone();
    let files = r.files.clone();
    let cp_base = cp.clone();
    let mut fs = fs;
    let mut chunks = 0u64;
    let result = pipeline::run(
        &ctx,
        t,
        0,
        move |b| reader(db, plan, after, tuning, b, rctx),
        |done| {
            fs.last_pk = done.end.last_pk.or(fs.last_pk);
            fs.chunks_done += 1;
            fs.docs_ok += done.ok;
            fs.dead_lettered += done.dead;
            fs.rows_read += done.end.rows;
            chunks += 1;
            let mut c = cp_base.clone();
            c.full = Some(fs.clone());
            files.save(&c)
        },
    )
    .await;
    report.chunks = chunks;
    result??;

    match finish(r, &fs, fs.docs_ok).await {
        Ok(found) => report.verified_count = Some(found),
        Err(e) => {
            if matches!(e, Error::Verify { .. }) {
                // A broken build must not be resumed: it is gone.
                cp.full = None;
                r.files.save(&cp)?;
            }
            return Err(e);
        }
    }
    cp.full = None;
    cp.cursors = Some(fs.start.clone());
    cp.gtid = fs.gtid.clone();
    r.files.save(&cp)?;
    report.swapped = true;
    Ok(report)
}
