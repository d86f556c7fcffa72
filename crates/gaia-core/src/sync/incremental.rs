//! Incremental passes: keyset on (version, key) in the OR-expanded form, capped below the
//! oldest open transaction; soft deletes, tombstones, child changes re-indexing parents.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use mysql_async::Value;

use super::checkpoint::Cursor;
use super::config::Tuning;
use super::convert;
use super::db::{db_retry, q, Db};
use super::docs::{self, Out, RootRow};
use super::error::{Error, Result};
use super::pipeline::{Batcher, Ctx};
use super::schema::{Plan, VerPlan};

/// The lowest possible cursor.
pub(crate) const START: Cursor = Cursor {
    version: i64::MIN,
    key: i64::MIN,
};

/// The newest instant (UTC microseconds) an incremental pass may read up to: behind the
/// server clock by `lag_ms`, and one second below the start of the oldest open InnoDB
/// transaction (whose rows may still commit with earlier versions).
pub(crate) async fn cap_utc(db: &mut Db, lag_ms: u64) -> Result<i64> {
    let rows = db
        .rows(
            "SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), \
             (SELECT CAST(UNIX_TIMESTAMP(MIN(trx_started)) * 1000000 AS SIGNED) \
              FROM information_schema.INNODB_TRX)",
            vec![],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| Error::db("reading the server clock", "no row"))?;
    let now = row
        .first()
        .and_then(|v| convert::int(v).ok().flatten())
        .ok_or_else(|| Error::db("reading the server clock", "no value"))?;
    let mut cap = now - (lag_ms as i64) * 1000;
    if let Some(oldest) = row.get(1).and_then(|v| convert::int(v).ok().flatten()) {
        // trx_started has whole seconds: stay a full second below it.
        cap = cap.min(oldest - 1_000_000);
    }
    Ok(cap)
}

/// The cap in a version column's own terms.
pub(crate) fn bound(v: &VerPlan, cap_utc: i64) -> i64 {
    match v {
        VerPlan::Time(kind) => convert::utc_to_naive(cap_utc, kind),
        VerPlan::Int => i64::MAX,
    }
}

/// The sources an incremental pass reads, each with its cursor name and version column.
pub(crate) fn sources(plan: &Plan) -> Vec<(String, VerPlan)> {
    let mut out = vec![("root".to_string(), plan.version.clone())];
    for c in &plan.children {
        if let Some((_, vp)) = &c.version {
            out.push((format!("child:{}", c.table), vp.clone()));
        }
        if let Some(t) = &c.tomb {
            out.push((format!("child_tomb:{}", t.table), t.time.clone()));
        }
    }
    if let Some(t) = &plan.tomb {
        out.push((format!("tomb:{}", t.table), t.time.clone()));
    }
    out
}

/// Cursors meaning "everything up to `cap_utc` is done" (where a full rebuild leaves off).
pub(crate) fn cursors_at(plan: &Plan, cap_utc: i64) -> BTreeMap<String, Cursor> {
    sources(plan)
        .into_iter()
        .map(|(name, vp)| {
            (
                name,
                Cursor {
                    version: bound(&vp, cap_utc),
                    key: i64::MAX,
                },
            )
        })
        .collect()
}

fn keyset_sql(cols: &str, table: &str, v: &str, k: &str, page: usize) -> String {
    let (v, k) = (q(v), q(k));
    format!(
        "SELECT {cols} FROM {} WHERE ({v} > ? OR ({v} = ? AND {k} > ?)) AND {v} <= ? \
         ORDER BY {v}, {k} LIMIT {page}",
        q(table)
    )
}

fn keyset_params(vp: &VerPlan, c: Cursor, bound: i64) -> Vec<Value> {
    vec![
        vp.param(c.version),
        vp.param(c.version),
        Value::Int(c.key),
        vp.param(bound),
    ]
}

/// Reads (version, key) pairs of a change source page; returns them and the new cursor.
async fn key_page(
    db: &mut Db,
    sql: &str,
    vp: &VerPlan,
    c: Cursor,
    bound: i64,
    what: &str,
) -> Result<(Vec<(Value, i64)>, Cursor)> {
    let mut out = Vec::new();
    let mut cur = c;
    db.each(sql, keyset_params(vp, c, bound), |vals| {
        let mut it = vals.into_iter();
        let v = it.next().unwrap_or(Value::NULL);
        let k = it.next().unwrap_or(Value::NULL);
        let key = convert::int(&k)
            .map_err(|r| Error::db(format!("reading {what}"), r))?
            .ok_or_else(|| Error::db(format!("reading {what}"), "NULL key"))?;
        let cv = vp
            .cursor(&v)
            .map_err(|r| Error::db(format!("reading {what}"), r))?
            .unwrap_or(cur.version);
        cur = Cursor { version: cv, key };
        out.push((v, key));
        Ok(())
    })
    .await?;
    Ok((out, cur))
}

/// Re-reads parent rows by key, with their children (a child changed).
pub(crate) async fn parents(
    db: &mut Db,
    plan: &Plan,
    ids: &[i64],
    floors: &HashMap<i64, i64>,
) -> Result<Vec<RootRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(",");
    let sql = format!(
        "SELECT {} FROM {} WHERE {} IN ({marks}) ORDER BY {}",
        plan.select,
        q(&plan.table),
        q(&plan.pk),
        q(&plan.pk)
    );
    let mut rows = Vec::new();
    let n_children = plan.children.len();
    db.each(&sql, ids.iter().map(|i| Value::Int(*i)).collect(), |vals| {
        if let Ok(mut r) = RootRow::new(vals, n_children) {
            r.min_version = floors.get(&r.pk).copied().unwrap_or(i64::MIN);
            rows.push(r);
        }
        Ok(())
    })
    .await?;
    for (ci, c) in plan.children.iter().enumerate() {
        docs::join_child(db, c, ci, &mut rows, false).await?;
    }
    Ok(rows)
}

/// Re-reads the root rows of `keys` (with their children and version `floors`) and queues
/// their documents; returns the keys whose row exists, sorted.
pub(crate) async fn reindex(
    db: &mut Db,
    plan: &Plan,
    tuning: &Tuning,
    ctx: &Ctx,
    b: &mut Batcher,
    keys: &[i64],
    floors: &HashMap<i64, i64>,
) -> Result<Vec<i64>> {
    let rows = db_retry!(db, tuning, ctx, parents(db, plan, keys, floors));
    let mut found: Vec<i64> = rows.iter().map(|r| r.pk).collect();
    found.sort_unstable();
    for out in docs::build_rows(plan, &rows) {
        b.push(out).await?;
    }
    Ok(found)
}

/// One page of changed root rows after `c`, with their children, and the next cursor.
async fn root_page(
    db: &mut Db,
    plan: &Plan,
    sql: &str,
    c: Cursor,
    bnd: i64,
) -> Result<(Vec<RootRow>, Cursor)> {
    let vp = &plan.version;
    let n_children = plan.children.len();
    let mut rows = Vec::new();
    db.each(sql, keyset_params(vp, c, bnd), |vals| {
        // A primary key is never NULL, so RootRow::new cannot fail here.
        if let Ok(r) = RootRow::new(vals, n_children) {
            rows.push(r);
        }
        Ok(())
    })
    .await?;
    let mut next = c;
    if let Some(last) = rows.last() {
        let v = vp
            .cursor(last.values.get(1).unwrap_or(&Value::NULL))
            .map_err(|r| Error::db(format!("table {:?} version", plan.table), r))?
            .unwrap_or(c.version);
        next = Cursor {
            version: v,
            key: last.pk,
        };
    }
    rows.sort_by_key(|r| r.pk);
    for (ci, ch) in plan.children.iter().enumerate() {
        docs::join_child(db, ch, ci, &mut rows, false).await?;
    }
    Ok((rows, next))
}

/// One page of a child change source: the parents to re-index, the keys read, the cursor.
#[allow(
    clippy::too_many_arguments,
    reason = "one page needs its whole context"
)]
async fn child_page(
    db: &mut Db,
    plan: &Plan,
    sql: &str,
    vp: &VerPlan,
    c: Cursor,
    bnd: i64,
    is_tomb: bool,
    what: &str,
) -> Result<(Vec<RootRow>, usize, Cursor)> {
    let (pairs, next) = key_page(db, sql, vp, c, bnd, what).await?;
    let mut floors: HashMap<i64, i64> = HashMap::new();
    for (v, k) in &pairs {
        let ver = if is_tomb {
            vp.version(v).ok().flatten().unwrap_or(i64::MIN)
        } else {
            i64::MIN
        };
        let e = floors.entry(*k).or_insert(i64::MIN);
        *e = (*e).max(ver);
    }
    let mut ids: Vec<i64> = floors.keys().copied().collect();
    ids.sort_unstable();
    let rows = parents(db, plan, &ids, &floors).await?;
    Ok((rows, pairs.len(), next))
}

/// The reader of an incremental pass. Returns the advanced cursors (to be saved only after
/// Solr has acknowledged and committed everything queued).
#[allow(
    clippy::too_many_arguments,
    reason = "the reader task owns its whole context"
)]
pub(crate) async fn reader(
    mut db: Db,
    plan: Arc<Plan>,
    mut cursors: BTreeMap<String, Cursor>,
    cap: i64,
    tuning: Tuning,
    mut b: Batcher,
    ctx: Ctx,
) -> Result<BTreeMap<String, Cursor>> {
    let res = reader_inner(&mut db, &plan, &mut cursors, cap, &tuning, &mut b, &ctx).await;
    db.close().await;
    res.map(|()| cursors)
}

#[allow(
    clippy::too_many_arguments,
    reason = "internal helper of the reader task"
)]
async fn reader_inner(
    db: &mut Db,
    plan: &Plan,
    cursors: &mut BTreeMap<String, Cursor>,
    cap: i64,
    tuning: &Tuning,
    b: &mut Batcher,
    ctx: &Ctx,
) -> Result<()> {
    let page = tuning.chunk_rows;
    // 1. Root rows changed (inserts, updates, soft deletes).
    {
        let bnd = bound(&plan.version, cap);
        let sql = keyset_sql(&plan.select, &plan.table, &plan.version_col, &plan.pk, page);
        let mut c = cursors.get("root").copied().unwrap_or(START);
        loop {
            ctx.stop()?;
            let (rows, next) = db_retry!(db, tuning, ctx, root_page(db, plan, &sql, c, bnd));
            c = next;
            let n = rows.len();
            for out in docs::build_rows(plan, &rows) {
                b.push(out).await?;
            }
            ctx.shared.rows_read.fetch_add(n as u64, Ordering::Relaxed);
            cursors.insert("root".into(), c);
            b.end_unit(None, n as u64, Some(cursors.clone())).await?;
            if n < page {
                break;
            }
        }
        cursors.insert("root".into(), c);
    }
    // 2. Child rows changed or deleted: re-index their parents.
    for ch in &plan.children {
        let mut srcs = Vec::new();
        if let Some((vcol, vp)) = &ch.version {
            srcs.push((
                format!("child:{}", ch.table),
                ch.table.clone(),
                vcol.clone(),
                ch.fk.clone(),
                vp.clone(),
                false,
            ));
        }
        if let Some(t) = &ch.tomb {
            srcs.push((
                format!("child_tomb:{}", t.table),
                t.table.clone(),
                t.time_col.clone(),
                t.key.clone(),
                t.time.clone(),
                true,
            ));
        }
        for (name, table, vcol, kcol, vp, is_tomb) in srcs {
            let bnd = bound(&vp, cap);
            let cols = format!("DISTINCT {}, {}", q(&vcol), q(&kcol));
            let sql = keyset_sql(&cols, &table, &vcol, &kcol, page);
            let what = format!("table {table:?}");
            let mut c = cursors.get(&name).copied().unwrap_or(START);
            loop {
                ctx.stop()?;
                let (rows, n, next) = db_retry!(
                    db,
                    tuning,
                    ctx,
                    child_page(db, plan, &sql, &vp, c, bnd, is_tomb, &what)
                );
                c = next;
                for out in docs::build_rows(plan, &rows) {
                    b.push(out).await?;
                }
                ctx.shared.rows_read.fetch_add(n as u64, Ordering::Relaxed);
                cursors.insert(name.clone(), c);
                b.end_unit(None, n as u64, Some(cursors.clone())).await?;
                if n < page {
                    break;
                }
            }
            cursors.insert(name, c);
        }
    }
    // 3. Hard deletes of root rows.
    if let Some(t) = &plan.tomb {
        let name = format!("tomb:{}", t.table);
        let bnd = bound(&t.time, cap);
        let cols = format!("{}, {}", q(&t.time_col), q(&t.key));
        let sql = keyset_sql(&cols, &t.table, &t.time_col, &t.key, page);
        let what = format!("table {:?}", t.table);
        let mut c = cursors.get(&name).copied().unwrap_or(START);
        loop {
            ctx.stop()?;
            let (pairs, next) =
                db_retry!(db, tuning, ctx, key_page(db, &sql, &t.time, c, bnd, &what));
            c = next;
            let n = pairs.len();
            for (v, k) in &pairs {
                let id = docs::doc_id(plan, *k);
                let out = match t.time.version(v) {
                    Ok(Some(version)) => Out::Delete { id, version },
                    Ok(None) => Out::Dead {
                        id,
                        reason: format!("tombstone in {:?}: NULL {:?}", t.table, t.time_col),
                    },
                    Err(r) => Out::Dead {
                        id,
                        reason: format!("tombstone in {:?}: {r}", t.table),
                    },
                };
                b.push(out).await?;
            }
            ctx.shared.rows_read.fetch_add(n as u64, Ordering::Relaxed);
            cursors.insert(name.clone(), c);
            b.end_unit(None, n as u64, Some(cursors.clone())).await?;
            if n < page {
                break;
            }
        }
        cursors.insert(name, c);
    }
    Ok(())
}
