//! Reconciliation: a merge-diff of the database's rows against the live core's documents
//! by (id, version), repairing what differs.
//!
//! The core's live documents are listed with `cursorMark` (id and `gaia_version_l`), then
//! the root table is read in primary-key chunks with its children, each row's document
//! version computed exactly as a document is built. A row without a document is
//! *missing*, a document older than its row (or one of its children) is *stale*: both are
//! indexed again. A document without a live row (hard-deleted without a tombstone,
//! soft-deleted, or never a row) is *extra*: deleted. Repairs carry a version from the
//! server's clock, read before any row, so they win over whatever the core held. Rows the
//! mapping cannot convert are dead letters of every run and are not counted.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::config::Tuning;
use super::db::{db_retry, Db};
use super::docs::{self, Out};
use super::error::{Error, Result};
use super::incremental;
use super::pipeline::{self, Batcher, Ctx};
use super::progress::Phase;
use super::schema::Plan;
use super::{check_solr_fields, full, Differences, Mode, Report, Run};

/// Documents listed per Solr request.
const PAGE: usize = 10_000;

/// Compares and repairs; the report's `differences` says what was fixed.
pub(crate) async fn run(r: &Run, mut db: Db) -> Result<Report> {
    let core = r.config.core.clone();
    if r.solr.core_dir(&core).await?.is_none() {
        db.close().await;
        return Err(Error::Solr {
            context: format!("core {core:?}"),
            status: None,
            message: "does not exist; run a full rebuild first".into(),
        });
    }
    check_solr_fields(&r.solr, &core, &r.plan).await?;
    r.shared.set_phase(Phase::Reconciling);
    let ctx = r.ctx(&core);
    let t = r.config.tuning.clone();
    let now = db_retry!(db, t, ctx, db.now_us());
    let mut solr: HashMap<String, i64> = r.solr.versions(&core, PAGE).await?.into_iter().collect();
    let mut diff = Differences {
        docs_in_solr: solr.len() as u64,
        ..Differences::default()
    };
    let plan = r.plan.clone();
    let mut repair = Vec::new();
    let mut extra = Vec::new();
    let mut last = None;
    loop {
        ctx.stop()?;
        let rows = db_retry!(
            db,
            t,
            ctx,
            full::read_chunk(&mut db, &plan, last, None, t.chunk_rows)
        );
        for row in &rows {
            let id = docs::doc_id(&plan, row.pk);
            let have = solr.remove(&id);
            match (docs::state(&plan, row), have) {
                (Err(_), _) => {}
                (Ok((_, true)), Some(v)) => extra.push((id, v)),
                (Ok((_, true)), None) => {}
                (Ok((_, false)), None) => {
                    diff.missing += 1;
                    repair.push(row.pk);
                }
                (Ok((version, false)), Some(v)) if v < version => {
                    diff.stale += 1;
                    repair.push(row.pk);
                }
                (Ok(_), Some(_)) => {}
            }
        }
        diff.rows_checked += rows.len() as u64;
        ctx.shared
            .rows_read
            .fetch_add(rows.len() as u64, Ordering::Relaxed);
        if rows.len() < t.chunk_rows {
            break;
        }
        last = rows.last().map(|r| r.pk);
    }
    extra.extend(solr.drain());
    extra.sort();
    diff.extra = extra.len() as u64;
    let mut report = Report::new(Mode::Reconcile, &core, &r.files);
    if diff.total() > 0 {
        log::warn!(
            "sync: core {core} differed from the database: {} missing, {} stale, {} extra; repairing",
            diff.missing,
            diff.stale,
            diff.extra
        );
        let mut units = 0u64;
        let (tuning, rctx) = (t.clone(), ctx.clone());
        pipeline::run(
            &ctx,
            &t,
            0,
            move |b| repair_all(db, plan, repair, extra, now, tuning, b, rctx),
            |_| {
                units += 1;
                Ok(())
            },
        )
        .await??;
        r.solr.commit(&core).await?;
        report.chunks = units;
    } else {
        db.close().await;
    }
    report.differences = Some(diff);
    Ok(report)
}

#[allow(
    clippy::too_many_arguments,
    reason = "the reader task owns its whole context"
)]
async fn repair_all(
    mut db: Db,
    plan: Arc<Plan>,
    keys: Vec<i64>,
    extra: Vec<(String, i64)>,
    now: i64,
    tuning: Tuning,
    mut b: Batcher,
    ctx: Ctx,
) -> Result<()> {
    let res = repair_inner(&mut db, &plan, &keys, extra, now, &tuning, &mut b, &ctx).await;
    db.close().await;
    res
}

#[allow(
    clippy::too_many_arguments,
    reason = "internal helper of the reader task"
)]
async fn repair_inner(
    db: &mut Db,
    plan: &Plan,
    keys: &[i64],
    extra: Vec<(String, i64)>,
    now: i64,
    tuning: &Tuning,
    b: &mut Batcher,
    ctx: &Ctx,
) -> Result<()> {
    let floors: HashMap<i64, i64> = keys.iter().map(|k| (*k, now)).collect();
    for chunk in keys.chunks(tuning.chunk_rows.max(1)) {
        ctx.stop()?;
        incremental::reindex(db, plan, tuning, ctx, b, chunk, &floors).await?;
        b.end_unit(None, chunk.len() as u64, None).await?;
    }
    for (id, v) in extra {
        b.push(Out::Delete {
            id,
            version: v.saturating_add(1).max(now),
        })
        .await?;
    }
    b.end_unit(None, 0, None).await
}
