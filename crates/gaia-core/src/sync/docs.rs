//! Rows -> Solr documents: the per-chunk merge join of root rows with child rows, and the
//! document builder.

use mysql_async::Value;
use serde_json::{Map, Value as Json};

use super::convert;
use super::db::{q, Db};
use super::error::Result;
use super::schema::{ChildPlan, ColPlan, EmbedPlan, Plan};

/// What one root row becomes.
#[derive(Debug)]
pub(crate) enum Out {
    /// A document (serialized JSON object).
    Add { id: String, json: Vec<u8> },
    /// A versioned delete (soft-deleted row or a tombstone).
    Delete { id: String, version: i64 },
    /// A row that cannot be converted: dead-lettered with its reason.
    Dead { id: String, reason: String },
}

/// A root row with its children (per child table, rows in order), ready to build.
#[derive(Debug)]
pub(crate) struct RootRow {
    pub pk: i64,
    pub values: Vec<Value>,
    pub kids: Vec<Vec<Vec<Value>>>,
    /// A version floor (e.g. the time of a child's delete), so the rebuilt document is newer.
    pub min_version: i64,
}

impl RootRow {
    /// Wraps a selected root row (pk first).
    pub(crate) fn new(
        values: Vec<Value>,
        n_children: usize,
    ) -> std::result::Result<RootRow, String> {
        let pk = values
            .first()
            .map(convert::int)
            .transpose()?
            .flatten()
            .ok_or_else(|| "NULL primary key".to_string())?;
        Ok(RootRow {
            pk,
            values,
            kids: vec![Vec::new(); n_children],
            min_version: i64::MIN,
        })
    }
}

/// Fills `rows[..].kids[ci]` (rows sorted by pk) from the child table, streaming its rows in
/// foreign-key order and merge-joining. `range`: the rows are every root row between the
/// first and the last key (a full-rebuild chunk), read with BETWEEN; else an IN list.
pub(crate) async fn join_child(
    db: &mut Db,
    c: &ChildPlan,
    ci: usize,
    rows: &mut [RootRow],
    range: bool,
) -> Result<()> {
    let (Some(first), Some(last)) = (rows.first().map(|r| r.pk), rows.last().map(|r| r.pk)) else {
        return Ok(());
    };
    let (cond, params) = if range {
        (
            format!("{} BETWEEN ? AND ?", q(&c.fk)),
            vec![Value::Int(first), Value::Int(last)],
        )
    } else {
        let marks = vec!["?"; rows.len()].join(",");
        (
            format!("{} IN ({marks})", q(&c.fk)),
            rows.iter().map(|r| Value::Int(r.pk)).collect(),
        )
    };
    let sql = format!(
        "SELECT {} FROM {} WHERE {cond} ORDER BY {}",
        c.select,
        q(&c.table),
        c.order
    );
    let mut i = 0usize;
    db.each(&sql, params, |vals| {
        let fk = match vals.first().map(convert::int) {
            Some(Ok(Some(fk))) => fk,
            _ => return Ok(()), // NULL foreign key: belongs to no parent
        };
        while i < rows.len() && rows[i].pk < fk {
            i += 1;
        }
        if i < rows.len() && rows[i].pk == fk {
            rows[i].kids[ci].push(vals);
        }
        Ok(())
    })
    .await
}

fn put(doc: &mut Map<String, Json>, field: &str, v: Json, multi: bool) {
    if multi {
        match doc.get_mut(field) {
            Some(Json::Array(a)) => a.push(v),
            _ => {
                doc.insert(field.to_string(), Json::Array(vec![v]));
            }
        }
    } else {
        doc.insert(field.to_string(), v);
    }
}

fn add_field(
    doc: &mut Map<String, Json>,
    f: &ColPlan,
    v: &Value,
    multi: bool,
) -> std::result::Result<(), String> {
    let at = |r: String| format!("column {:?}: {r}", f.column);
    if f.kind == super::config::FieldType::Json {
        let text = match v {
            Value::NULL => return Ok(()),
            Value::Bytes(b) => std::str::from_utf8(b).map_err(|_| at("invalid UTF-8".into()))?,
            other => return Err(at(format!("expected JSON text, got {other:?}"))),
        };
        let parsed: Json =
            serde_json::from_str(text).map_err(|e| at(format!("invalid JSON: {e}")))?;
        for (path, field, kind) in &f.paths {
            match convert::lookup(&parsed, path) {
                None | Some(Json::Null) => {}
                Some(Json::Array(items)) => {
                    for it in items {
                        if let Some(x) = convert::json_scalar(it, *kind)
                            .map_err(|r| at(format!("{field}: {r}")))?
                        {
                            put(doc, field, x, true);
                        }
                    }
                }
                Some(x) => {
                    if let Some(x) =
                        convert::json_scalar(x, *kind).map_err(|r| at(format!("{field}: {r}")))?
                    {
                        put(doc, field, x, false);
                    }
                }
            }
        }
        return Ok(());
    }
    if let Some(x) = convert::convert(v, f.kind, &f.time).map_err(at)? {
        put(doc, &f.field, x, multi);
    }
    if let Some(d) = &f.double_field {
        if let Some(x) = convert::decimal_double(v).map_err(at)? {
            put(doc, d, x, multi);
        }
    }
    Ok(())
}

/// The field holding each document's primary key as a long (reconciliation sorts on it).
pub(crate) const KEY_FIELD: &str = "gaia_key_l";

/// The Solr id of a primary key.
pub(crate) fn doc_id(plan: &Plan, pk: i64) -> String {
    format!("{}{pk}", plan.id_prefix)
}

/// Builds the document (or delete) for one root row.
pub(crate) fn build(plan: &Plan, row: &RootRow) -> Out {
    let id = doc_id(plan, row.pk);
    match build_inner(plan, row, &id) {
        Ok(o) => o,
        Err(reason) => Out::Dead { id, reason },
    }
}

/// A row's document version (its own, its floor's and its children's largest) and whether
/// the row is soft-deleted; an error names a value that cannot be converted.
pub(crate) fn state(plan: &Plan, row: &RootRow) -> std::result::Result<(i64, bool), String> {
    let vv = row.values.get(1).unwrap_or(&Value::NULL);
    let mut version = plan
        .version
        .version(vv)
        .map_err(|r| format!("version column {:?}: {r}", plan.version_col))?
        .ok_or_else(|| format!("version column {:?} is NULL", plan.version_col))?;
    version = version.max(row.min_version);
    for (c, kids) in plan.children.iter().zip(&row.kids) {
        if let Some((vcol, vp)) = &c.version {
            for k in kids {
                if let Some(v) = vp
                    .version(k.get(1).unwrap_or(&Value::NULL))
                    .map_err(|r| format!("child {:?} version column {vcol:?}: {r}", c.table))?
                {
                    version = version.max(v);
                }
            }
        }
    }
    let deleted = plan.soft.as_ref().is_some_and(|(idx, vals)| {
        convert::is_deleted(row.values.get(*idx).unwrap_or(&Value::NULL), vals)
    });
    Ok((version, deleted))
}

fn build_inner(plan: &Plan, row: &RootRow, id: &str) -> std::result::Result<Out, String> {
    let (version, deleted) = state(plan, row)?;
    if deleted {
        return Ok(Out::Delete {
            id: id.to_string(),
            version,
        });
    }
    let mut doc = Map::new();
    doc.insert("id".into(), Json::String(id.to_string()));
    doc.insert("gaia_version_l".into(), Json::from(version));
    doc.insert(KEY_FIELD.into(), Json::from(row.pk));
    for f in &plan.fields {
        add_field(
            &mut doc,
            f,
            row.values.get(f.idx).unwrap_or(&Value::NULL),
            false,
        )?;
    }
    for (c, kids) in plan.children.iter().zip(&row.kids) {
        for k in kids {
            for f in &c.fields {
                add_field(&mut doc, f, k.get(f.idx).unwrap_or(&Value::NULL), true)
                    .map_err(|r| format!("child {:?}: {r}", c.table))?;
            }
        }
    }
    let json = serde_json::to_vec(&Json::Object(doc)).map_err(|e| e.to_string())?;
    Ok(Out::Add {
        id: id.to_string(),
        json,
    })
}

/// Builds the documents (or deletes) of a page of root rows, embedding the semantic field
/// of the whole page in one batch when the mapping has one.
pub(crate) fn build_rows(plan: &Plan, rows: &[RootRow]) -> Vec<Out> {
    let mut outs: Vec<Out> = rows.iter().map(|r| build(plan, r)).collect();
    if let Some(e) = &plan.embed {
        // The model runs on this thread: tell the runtime, so its other tasks move on.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| add_vectors(e, rows, &mut outs))
            }
            _ => add_vectors(e, rows, &mut outs),
        }
    }
    outs
}

/// The text embedded for a row: its non-empty embed columns joined with a newline.
fn embed_text(e: &EmbedPlan, row: &RootRow) -> std::result::Result<String, String> {
    let mut parts = Vec::new();
    for (&i, c) in e.idx.iter().zip(&e.columns) {
        let s = match row.values.get(i).unwrap_or(&Value::NULL) {
            Value::NULL => continue,
            Value::Bytes(b) => std::str::from_utf8(b)
                .map_err(|err| {
                    format!(
                        "embed column {c:?}: invalid UTF-8 at byte {} (the column must be utf8mb4)",
                        err.valid_up_to()
                    )
                })?
                .to_string(),
            Value::Int(x) => x.to_string(),
            Value::UInt(x) => x.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Double(x) => x.to_string(),
            other => format!("{other:?}"),
        };
        if !s.trim().is_empty() {
            parts.push(s);
        }
    }
    Ok(parts.join("\n"))
}

/// Appends `"field": [vector]` to every built document with text to embed.
fn add_vectors(e: &EmbedPlan, rows: &[RootRow], outs: &mut [Out]) {
    let mut texts: Vec<String> = Vec::new();
    let mut at: Vec<usize> = Vec::new();
    for (i, (row, out)) in rows.iter().zip(outs.iter_mut()).enumerate() {
        let Out::Add { id, .. } = out else { continue };
        match embed_text(e, row) {
            Ok(t) if t.is_empty() => {}
            Ok(t) => {
                texts.push(t);
                at.push(i);
            }
            Err(reason) => {
                *out = Out::Dead {
                    id: id.clone(),
                    reason,
                }
            }
        }
    }
    if texts.is_empty() {
        return;
    }
    let dim = e.embedder.dim();
    let refs: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    let mut vecs = vec![0.0f32; texts.len() * dim];
    let res = e.embedder.embed(&refs, true, &mut vecs);
    for (k, &i) in at.iter().enumerate() {
        let Out::Add { id, json } = &mut outs[i] else {
            continue;
        };
        if let Err(err) = &res {
            outs[i] = Out::Dead {
                id: id.clone(),
                reason: format!("embed field {:?}: {err}", e.field),
            };
            continue;
        }
        // The document is a serialized JSON object: insert the field before its last `}`.
        if json.last() == Some(&b'}') {
            json.pop();
            let v = &vecs[k * dim..(k + 1) * dim];
            json.push(b',');
            json.extend(serde_json::to_vec(&e.field).unwrap_or_default());
            json.push(b':');
            json.extend(serde_json::to_vec(v).unwrap_or_default());
            json.push(b'}');
        }
    }
}
