//! Reconciliation: a merge-diff of the database's rows against the live core's documents
//! by (id, version), repairing what differs.
//!
//! The root table is read in primary-key chunks with its children, each row's document
//! version computed exactly as a document is built, and beside it the core's live
//! documents are listed page by page with `cursorMark`, sorted on `gaia_key_l` (each
//! document's key), so both sides stream in the same order and memory holds one chunk and
//! one page (plus the differences found). Documents without `gaia_key_l` (indexed by a
//! version that did not write it, or by hand) are listed first and kept by key in memory;
//! a full rebuild adds the field to all. A row without a document is
//! *missing*, a document older than its row (or one of its children) is *stale*: both are
//! indexed again. A document without a live row (hard-deleted without a tombstone,
//! soft-deleted, or never a row) is *extra*: deleted. Repairs carry a version from the
//! server's clock, read before any row, so they win over whatever the core held. Rows the
//! mapping cannot convert are dead letters of every run and are not counted.

use std::collections::{HashMap, VecDeque};
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
use super::solr::Solr;
use super::{check_solr_fields, full, Differences, Mode, Report, Run};

/// The core's keyed live documents in key order, a page at a time.
struct Listing<'a> {
    solr: &'a Solr,
    core: &'a str,
    /// Documents per request (`tuning.chunk_rows`).
    page_size: usize,
    /// The next page's cursor; None once the listing is complete.
    cursor: Option<String>,
    /// (id, version, key) of the current page, not yet consumed.
    page: VecDeque<(String, i64, i64)>,
    /// Documents listed so far.
    seen: u64,
}

impl Listing<'_> {
    /// The key of the next document, fetching the next page when needed.
    async fn peek(&mut self) -> Result<Option<i64>> {
        while self.page.is_empty() {
            let Some(cursor) = self.cursor.take() else {
                return Ok(None);
            };
            let (docs, next) = self
                .solr
                .versions_page(
                    self.core,
                    &format!("{}:[* TO *]", docs::KEY_FIELD),
                    &format!("{} asc,id asc", docs::KEY_FIELD),
                    self.page_size,
                    &cursor,
                )
                .await?;
            self.seen += docs.len() as u64;
            self.page
                .extend(docs.into_iter().filter_map(|(id, v, k)| Some((id, v, k?))));
            self.cursor = next;
        }
        Ok(self.page.front().map(|d| d.2))
    }

    /// Takes the next document (after [`Listing::peek`] said there is one).
    fn take(&mut self) -> Option<(String, i64)> {
        self.page.pop_front().map(|(id, v, _)| (id, v))
    }
}

/// The documents without a key field: by the key their id names, the others apart.
async fn keyless(
    solr: &Solr,
    core: &str,
    plan: &Plan,
    page: usize,
) -> Result<(HashMap<i64, i64>, Vec<(String, i64)>, u64)> {
    let (mut by_key, mut other, mut n) = (HashMap::new(), Vec::new(), 0u64);
    let mut cursor = Some("*".to_string());
    while let Some(c) = cursor {
        let (docs, next) = solr
            .versions_page(
                core,
                &format!("-{}:[* TO *]", docs::KEY_FIELD),
                "id asc",
                page,
                &c,
            )
            .await?;
        n += docs.len() as u64;
        for (id, v, _) in docs {
            let key = id
                .strip_prefix(plan.id_prefix.as_str())
                .and_then(|k| k.parse::<i64>().ok())
                .filter(|k| docs::doc_id(plan, *k) == id);
            match key {
                Some(k) => {
                    by_key.insert(k, v);
                }
                None => other.push((id, v)),
            }
        }
        cursor = next;
    }
    Ok((by_key, other, n))
}

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
    let (mut loose, mut extra, loose_n) = keyless(&r.solr, &core, &r.plan, t.chunk_rows).await?;
    if loose_n > 0 {
        log::warn!(
            "sync: {loose_n} documents of core {core} have no {}; they are compared from \
             memory (a full rebuild adds the field)",
            docs::KEY_FIELD
        );
    }
    let mut listing = Listing {
        solr: &r.solr,
        core: &core,
        page_size: t.chunk_rows,
        cursor: Some("*".to_string()),
        page: VecDeque::new(),
        seen: 0,
    };
    let mut diff = Differences::default();
    let plan = r.plan.clone();
    let mut repair = Vec::new();
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
            // Documents of keys before this row have no row.
            let mut have = None;
            while let Some(k) = listing.peek().await? {
                if k > row.pk {
                    break;
                }
                let Some((doc, v)) = listing.take() else {
                    break;
                };
                if k == row.pk && doc == id {
                    have = Some(v);
                } else {
                    extra.push((doc, v));
                }
            }
            if let Some(v) = loose.remove(&row.pk) {
                have = have.or(Some(v));
            }
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
    // Documents after the last row, and keyless ones no row claimed.
    while listing.peek().await?.is_some() {
        if let Some(d) = listing.take() {
            extra.push(d);
        }
    }
    extra.extend(loose.drain().map(|(k, v)| (docs::doc_id(&plan, k), v)));
    extra.sort();
    diff.docs_in_solr = listing.seen + loose_n;
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
