//! Validation of the mapping against the live database, producing the resolved [`Plan`]
//! every reader works from. Runs before any write.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use mysql_async::Value;

use super::config::{ChildMap, FieldMap, FieldType, Mapping, Tombstones};
use super::convert::{self, PathSeg, TimeKind};
use super::db::{q, Db};
use super::error::{Error, Result};

/// A column as `information_schema` describes it.
#[derive(Debug, Clone)]
struct Col {
    data_type: String,
    column_type: String,
}

/// How a mapped value is produced from a row.
#[derive(Debug, Clone)]
pub(crate) struct ColPlan {
    /// Index in the selected row.
    pub idx: usize,
    /// The column (for messages).
    pub column: String,
    pub kind: FieldType,
    pub field: String,
    pub double_field: Option<String>,
    pub paths: Vec<(Vec<PathSeg>, String, FieldType)>,
    pub time: TimeKind,
}

/// A version (or tombstone time) column.
#[derive(Debug, Clone)]
pub(crate) enum VerPlan {
    /// DATETIME/TIMESTAMP: `gaia_version_l` = UTC microseconds.
    Time(TimeKind),
    /// An integer column used as is.
    Int,
}

impl VerPlan {
    /// The Solr version of a value.
    pub(crate) fn version(&self, v: &Value) -> std::result::Result<Option<i64>, String> {
        match self {
            VerPlan::Time(k) => convert::utc_micros(v, k),
            VerPlan::Int => convert::int(v),
        }
    }
    /// The cursor (column-naive) representation of a value.
    pub(crate) fn cursor(&self, v: &Value) -> std::result::Result<Option<i64>, String> {
        match self {
            VerPlan::Time(_) => convert::naive_micros(v),
            VerPlan::Int => convert::int(v),
        }
    }
    /// A cursor value as a statement parameter.
    pub(crate) fn param(&self, c: i64) -> Value {
        match self {
            VerPlan::Time(_) => convert::naive_value(c),
            VerPlan::Int => Value::Int(c),
        }
    }
}

/// A tombstone table.
#[derive(Debug, Clone)]
pub(crate) struct TombPlan {
    pub table: String,
    pub key: String,
    pub time_col: String,
    pub time: VerPlan,
}

/// A child table.
#[derive(Debug, Clone)]
pub(crate) struct ChildPlan {
    pub table: String,
    pub fk: String,
    /// `ORDER BY` list after the foreign key.
    pub order: String,
    /// Selected columns: fk first, then the version (if any), then the fields.
    pub select: String,
    pub version: Option<(String, VerPlan)>,
    pub fields: Vec<ColPlan>,
    pub tomb: Option<TombPlan>,
}

/// The semantic field: where its text columns are in the selected row, and the model.
#[derive(Debug, Clone)]
pub(crate) struct EmbedPlan {
    pub idx: Vec<usize>,
    pub columns: Vec<String>,
    pub field: String,
    pub embedder: crate::infer::Embedder,
}

/// The mapping resolved against the live schema.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub table: String,
    pub pk: String,
    pub id_prefix: String,
    /// Root columns selected: pk, version, soft-delete column (if any), fields.
    pub select: String,
    pub version_col: String,
    pub version: VerPlan,
    /// Index of the soft-delete column and the values meaning deleted.
    pub soft: Option<(usize, Vec<String>)>,
    pub fields: Vec<ColPlan>,
    pub children: Vec<ChildPlan>,
    pub tomb: Option<TombPlan>,
    /// The Solr fields written, with whether they are multi-valued (for the Solr check).
    pub solr_fields: Vec<(String, bool)>,
    /// Columns embedded into a dense-vector field.
    pub embed: Option<EmbedPlan>,
}

async fn columns(db: &mut Db, table: &str) -> Result<HashMap<String, Col>> {
    let rows = db
        .rows(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            vec![Value::from(table)],
        )
        .await?;
    if rows.is_empty() {
        return Err(Error::schema(
            format!("table {table:?}"),
            format!("does not exist in database {}", db.addr),
        ));
    }
    let s = |v: &Value| match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).to_lowercase(),
        other => format!("{other:?}"),
    };
    Ok(rows
        .iter()
        .filter(|r| r.len() == 3)
        .map(|r| {
            (
                match &r[0] {
                    Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    other => format!("{other:?}"),
                },
                Col {
                    data_type: s(&r[1]),
                    column_type: s(&r[2]),
                },
            )
        })
        .collect())
}

async fn primary_key(db: &mut Db, table: &str) -> Result<Vec<String>> {
    let rows = db
        .rows(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = \
             DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            vec![Value::from(table)],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| match r.first() {
            Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect())
}

fn is_int(c: &Col) -> bool {
    matches!(
        c.data_type.as_str(),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year"
    )
}
fn is_time(c: &Col) -> bool {
    matches!(c.data_type.as_str(), "datetime" | "timestamp" | "date")
}
fn is_char(c: &Col) -> bool {
    matches!(c.data_type.as_str(), "char" | "varchar")
}
fn is_text(c: &Col) -> bool {
    matches!(
        c.data_type.as_str(),
        "tinytext" | "text" | "mediumtext" | "longtext" | "json"
    )
}
fn is_enum(c: &Col) -> bool {
    matches!(c.data_type.as_str(), "enum" | "set")
}
fn is_float(c: &Col) -> bool {
    matches!(c.data_type.as_str(), "float" | "double" | "real")
}

/// Bytes columns: legacy schemas keep UTF-8 text in them; invalid UTF-8 is dead-lettered.
fn is_binary(c: &Col) -> bool {
    matches!(
        c.data_type.as_str(),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
    )
}

fn infer(c: &Col) -> Option<FieldType> {
    if c.column_type.starts_with("tinyint(1)") || c.data_type == "bit" || c.data_type == "boolean" {
        Some(FieldType::Bool)
    } else if c.data_type == "int"
        || c.data_type == "mediumint"
        || c.data_type == "smallint"
        || c.data_type == "tinyint"
    {
        Some(FieldType::Int)
    } else if is_int(c) {
        Some(FieldType::Long)
    } else if c.data_type == "decimal" {
        Some(FieldType::Decimal)
    } else if is_float(c) {
        Some(FieldType::Double)
    } else if is_char(c) {
        Some(FieldType::String)
    } else if is_text(c) {
        Some(FieldType::Text)
    } else if is_time(c) {
        Some(FieldType::Datetime)
    } else if is_enum(c) {
        Some(FieldType::Enum)
    } else {
        None
    }
}

fn compatible(c: &Col, k: FieldType) -> bool {
    match k {
        FieldType::String => c.data_type != "geometry",
        FieldType::Text => is_char(c) || is_text(c) || is_enum(c) || is_binary(c),
        FieldType::Int | FieldType::Long => is_int(c),
        FieldType::Double => is_int(c) || is_float(c) || c.data_type == "decimal",
        FieldType::Decimal => c.data_type == "decimal" || is_int(c),
        FieldType::Bool => is_int(c) || c.data_type == "bit",
        FieldType::Datetime => is_time(c),
        FieldType::Enum => is_enum(c) || is_char(c),
        FieldType::Json => is_text(c) || is_char(c) || is_binary(c),
    }
}

fn col<'a>(
    cols: &'a HashMap<String, Col>,
    table: &str,
    name: &str,
    field: &str,
) -> Result<&'a Col> {
    cols.get(name).ok_or_else(|| {
        Error::schema(
            format!("{field}: table {table:?} column {name:?}"),
            "no such column",
        )
    })
}

fn time_kind(c: &Col, tz: &TimeZone) -> TimeKind {
    if c.data_type == "timestamp" {
        TimeKind::Utc
    } else {
        TimeKind::Zoned(tz.clone())
    }
}

fn ver_plan(c: &Col, tz: &TimeZone, what: String) -> Result<VerPlan> {
    if is_time(c) {
        Ok(VerPlan::Time(time_kind(c, tz)))
    } else if is_int(c) {
        Ok(VerPlan::Int)
    } else {
        Err(Error::schema(
            what,
            format!(
                "is {}; a version must be DATETIME(6)/TIMESTAMP(6) (or an integer)",
                c.column_type
            ),
        ))
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one resolved field needs its whole context"
)]
fn plan_field(
    p: &str,
    f: &FieldMap,
    table: &str,
    cols: &HashMap<String, Col>,
    idx: usize,
    tz: &TimeZone,
    multi: bool,
    solr_fields: &mut Vec<(String, bool)>,
) -> Result<ColPlan> {
    let c = col(cols, table, &f.column, &format!("{p}.column"))?;
    let kind = match f.kind {
        Some(k) => k,
        None => infer(c).ok_or_else(|| {
            Error::schema(
                format!("{p}: table {table:?} column {:?}", f.column),
                format!(
                    "type {} has no default mapping; give \"type\"",
                    c.column_type
                ),
            )
        })?,
    };
    if !compatible(c, kind) {
        return Err(Error::schema(
            format!("{p}: table {table:?} column {:?}", f.column),
            format!(
                "a {} column cannot feed a field of type {kind:?}",
                c.column_type
            ),
        ));
    }
    let mut paths = Vec::new();
    for jp in &f.paths {
        let segs = convert::parse_json_path(&jp.path)
            .map_err(|r| Error::config(format!("{p}.paths"), r))?;
        solr_fields.push((jp.field.clone(), false));
        paths.push((segs, jp.field.clone(), jp.kind));
    }
    let field = f.field.clone().unwrap_or_default();
    if !field.is_empty() {
        solr_fields.push((field.clone(), multi));
    }
    if let Some(d) = &f.double_field {
        solr_fields.push((d.clone(), multi));
    }
    Ok(ColPlan {
        idx,
        column: f.column.clone(),
        kind,
        field,
        double_field: f.double_field.clone(),
        paths,
        time: time_kind(c, tz),
    })
}

async fn plan_tomb(db: &mut Db, p: &str, t: &Tombstones, tz: &TimeZone) -> Result<TombPlan> {
    let cols = columns(db, &t.table).await.map_err(|e| match e {
        Error::Schema { what, reason } => Error::schema(format!("{p}: {what}"), reason),
        other => other,
    })?;
    let k = col(&cols, &t.table, &t.key_column, &format!("{p}.key_column"))?;
    if !is_int(k) {
        return Err(Error::schema(
            format!("{p}: table {:?} column {:?}", t.table, t.key_column),
            "a tombstone key must be an integer column",
        ));
    }
    let tc = col(&cols, &t.table, &t.time_column, &format!("{p}.time_column"))?;
    let time = ver_plan(
        tc,
        tz,
        format!("{p}: table {:?} column {:?}", t.table, t.time_column),
    )?;
    Ok(TombPlan {
        table: t.table.clone(),
        key: t.key_column.clone(),
        time_col: t.time_column.clone(),
        time,
    })
}

async fn plan_child(
    db: &mut Db,
    ci: usize,
    c: &ChildMap,
    tz: &TimeZone,
    solr_fields: &mut Vec<(String, bool)>,
) -> Result<ChildPlan> {
    let p = format!("mapping.children[{ci}]");
    let cols = columns(db, &c.table).await.map_err(|e| match e {
        Error::Schema { what, reason } => Error::schema(format!("{p}: {what}"), reason),
        other => other,
    })?;
    let fk = col(&cols, &c.table, &c.foreign_key, &format!("{p}.foreign_key"))?;
    if !is_int(fk) {
        return Err(Error::schema(
            format!("{p}: table {:?} column {:?}", c.table, c.foreign_key),
            "the foreign key must be an integer column (like the root primary key)",
        ));
    }
    let mut order = Vec::new();
    match &c.order_by {
        Some(o) => {
            col(&cols, &c.table, o, &format!("{p}.order_by"))?;
            order.push(q(o));
        }
        None => {
            for k in primary_key(db, &c.table).await? {
                order.push(q(&k));
            }
        }
    }
    let mut sel = vec![q(&c.foreign_key)];
    let version = match &c.version_column {
        Some(v) => {
            let vc = col(&cols, &c.table, v, &format!("{p}.version_column"))?;
            let vp = ver_plan(vc, tz, format!("{p}: table {:?} column {v:?}", c.table))?;
            sel.push(q(v));
            Some((v.clone(), vp))
        }
        None => None,
    };
    let mut fields = Vec::new();
    for (i, f) in c.fields.iter().enumerate() {
        let idx = sel.len();
        sel.push(q(&f.column));
        fields.push(plan_field(
            &format!("{p}.fields[{i}]"),
            f,
            &c.table,
            &cols,
            idx,
            tz,
            true,
            solr_fields,
        )?);
    }
    let tomb = match &c.tombstones {
        Some(t) => Some(plan_tomb(db, &format!("{p}.tombstones"), t, tz).await?),
        None => None,
    };
    let mut order_s = q(&c.foreign_key);
    for o in order {
        order_s.push_str(", ");
        order_s.push_str(&o);
    }
    Ok(ChildPlan {
        table: c.table.clone(),
        fk: c.foreign_key.clone(),
        order: order_s,
        select: sel.join(", "),
        version,
        fields,
        tomb,
    })
}

/// Warns (log only) when `column` does not lead any index of `table`: the keyset queries
/// on it would scan the table.
async fn advise_index(db: &mut Db, table: &str, column: &str, why: &str) -> Result<()> {
    let rows = db
        .rows(
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1",
            vec![Value::from(table), Value::from(column)],
        )
        .await?;
    let n = rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| convert::int(v).ok().flatten())
        .unwrap_or(0);
    if n == 0 {
        log::warn!(
            "sync: table {table:?} has no index starting with {column:?}; {why} will scan the \
             table (add e.g. KEY ({column}))"
        );
    }
    Ok(())
}

/// Checks the mapping against the live schema and resolves it.
pub(crate) async fn plan(db: &mut Db, m: &Mapping) -> Result<Plan> {
    let tz = convert::parse_tz(&m.source_time_zone)
        .map_err(|r| Error::config("mapping.source_time_zone", r))?;
    let cols = columns(db, &m.table).await.map_err(|e| match e {
        Error::Schema { what, reason } => Error::schema(format!("mapping.table: {what}"), reason),
        other => other,
    })?;
    let pk = primary_key(db, &m.table).await?;
    match pk.as_slice() {
        [] => return Err(Error::schema(
            format!("mapping.table: table {:?}", m.table),
            "has no primary key; the sync needs one integer primary key to page and to form ids",
        )),
        [one] if *one == m.primary_key => {}
        [one] => {
            return Err(Error::schema(
                format!("mapping.primary_key: table {:?}", m.table),
                format!("the primary key is {one:?}, not {:?}", m.primary_key),
            ))
        }
        many => {
            return Err(Error::schema(
                format!("mapping.primary_key: table {:?}", m.table),
                format!(
                "has a composite primary key {many:?}; only a one-column integer key is supported"
            ),
            ))
        }
    }
    let pkc = col(&cols, &m.table, &m.primary_key, "mapping.primary_key")?;
    if !is_int(pkc) {
        return Err(Error::schema(
            format!(
                "mapping.primary_key: table {:?} column {:?}",
                m.table, m.primary_key
            ),
            format!(
                "is {}; the primary key must be an integer column",
                pkc.column_type
            ),
        ));
    }
    if pkc.data_type == "bigint" && pkc.column_type.contains("unsigned") {
        // Keys are paged as signed 64-bit integers.
        let sql = format!("SELECT MAX({}) FROM {}", q(&m.primary_key), q(&m.table));
        let max = db.rows(&sql, vec![]).await?;
        if let Some(Value::UInt(u)) = max.first().and_then(|r| r.first()) {
            if *u > i64::MAX as u64 {
                return Err(Error::schema(
                    format!(
                        "mapping.primary_key: table {:?} column {:?}",
                        m.table, m.primary_key
                    ),
                    format!("holds {u}; keys above {} are not supported", i64::MAX),
                ));
            }
        }
    }
    let vc = col(&cols, &m.table, &m.version_column, "mapping.version_column")?;
    let version = ver_plan(
        vc,
        &tz,
        format!(
            "mapping.version_column: table {:?} column {:?}",
            m.table, m.version_column
        ),
    )?;
    let mut sel = vec![q(&m.primary_key), q(&m.version_column)];
    let soft = match &m.soft_delete {
        Some(s) => {
            col(&cols, &m.table, &s.column, "mapping.soft_delete.column")?;
            sel.push(q(&s.column));
            let vals = s
                .deleted_values
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(b) => {
                        if *b {
                            "1".into()
                        } else {
                            "0".into()
                        }
                    }
                    other => other.to_string(),
                })
                .collect();
            Some((sel.len() - 1, vals))
        }
        None => None,
    };
    // Every document carries its key as a long, so reconciliation can stream the core in
    // key order beside the table.
    let mut solr_fields = vec![(super::docs::KEY_FIELD.to_string(), false)];
    let mut fields = Vec::new();
    for (i, f) in m.fields.iter().enumerate() {
        let idx = sel.len();
        sel.push(q(&f.column));
        fields.push(plan_field(
            &format!("mapping.fields[{i}]"),
            f,
            &m.table,
            &cols,
            idx,
            &tz,
            false,
            &mut solr_fields,
        )?);
    }
    let mut children = Vec::new();
    for (ci, c) in m.children.iter().enumerate() {
        children.push(plan_child(db, ci, c, &tz, &mut solr_fields).await?);
    }
    let tomb = match &m.tombstones {
        Some(t) => Some(plan_tomb(db, "mapping.tombstones", t, &tz).await?),
        None => None,
    };
    let embed = match &m.embed {
        Some(e) => {
            let mut idx = Vec::new();
            for (i, c) in e.columns.iter().enumerate() {
                col(&cols, &m.table, c, &format!("mapping.embed.columns[{i}]"))?;
                idx.push(sel.len());
                sel.push(q(c));
            }
            let opts = crate::infer::EmbedderOptions {
                threads: e.threads,
                ..Default::default()
            };
            let embedder = crate::infer::Embedder::open(&e.model_dir, &opts).map_err(|err| {
                Error::config(
                    "mapping.embed.model_dir",
                    format!("{:?}: {err}", e.model_dir),
                )
            })?;
            solr_fields.push((e.field.clone(), false));
            Some(EmbedPlan {
                idx,
                columns: e.columns.clone(),
                field: e.field.clone(),
                embedder,
            })
        }
        None => None,
    };
    advise_index(db, &m.table, &m.version_column, "incremental passes").await?;
    for c in &children {
        advise_index(db, &c.table, &c.fk, "joining children").await?;
        if let Some((v, _)) = &c.version {
            advise_index(db, &c.table, v, "incremental passes").await?;
        }
    }
    Ok(Plan {
        table: m.table.clone(),
        pk: m.primary_key.clone(),
        id_prefix: m.id_prefix.clone(),
        select: sel.join(", "),
        version_col: m.version_column.clone(),
        version,
        soft,
        fields,
        children,
        tomb,
        solr_fields,
        embed,
    })
}
