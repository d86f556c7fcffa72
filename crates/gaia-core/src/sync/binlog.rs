//! MariaDB's binary log as a replica reads it: the server check, GTID positions, and the
//! event stream decoded into what the sync needs (transaction boundaries and the keys of
//! the changed rows of the mapped tables).
//!
//! The stream starts from a MariaDB GTID position (`@mariadb_slave_capability=4`,
//! `@slave_connect_state`), so it needs no file name or offset and survives a failover.
//! Rows are located by column *name* from the table-map events' metadata
//! (`binlog_row_metadata=FULL`), so `ALTER TABLE ... ADD COLUMN` while the stream runs
//! changes nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::binlog::events::{EventData, RowsEventData};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn, Opts, OptsBuilder, Value};

use super::db::Db;
use super::error::{Error, Result};

/// MariaDB's GTID event (not in MySQL's event numbering).
const MARIADB_GTID_EVENT: u8 = 162;
/// Its flag for an event group without BEGIN/COMMIT (DDL, non-transactional statements).
const FL_STANDALONE: u8 = 1;
/// The server error for a position whose binlog is gone (purged or never written).
pub(crate) const ER_MASTER_FATAL_READING_BINLOG: u16 = 1236;

/// A MariaDB GTID position: per replication domain, the last applied `server-seq`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GtidPos(BTreeMap<u32, (u32, u64)>);

impl GtidPos {
    /// Parses `domain-server-seq[,domain-server-seq...]` (empty: the beginning).
    pub(crate) fn parse(s: &str) -> std::result::Result<GtidPos, String> {
        let mut map = BTreeMap::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let nums: Vec<&str> = part.split('-').collect();
            let bad = || format!("{part:?} is not a GTID (domain-server-sequence)");
            if nums.len() != 3 {
                return Err(bad());
            }
            let d: u32 = nums[0].parse().map_err(|_| bad())?;
            let srv: u32 = nums[1].parse().map_err(|_| bad())?;
            let seq: u64 = nums[2].parse().map_err(|_| bad())?;
            if map.insert(d, (srv, seq)).is_some() {
                return Err(format!("domain {d} appears twice in {s:?}"));
            }
        }
        Ok(GtidPos(map))
    }

    /// Records one applied GTID.
    pub(crate) fn apply(&mut self, g: Gtid) {
        self.0.insert(g.domain, (g.server, g.seq));
    }

    /// Whether this position has reached `other` in every domain `other` names.
    pub(crate) fn reached(&self, other: &GtidPos) -> bool {
        other
            .0
            .iter()
            .all(|(d, (_, seq))| self.0.get(d).is_some_and(|(_, s)| s >= seq))
    }
}

impl fmt::Display for GtidPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (d, (s, n)) in &self.0 {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{d}-{s}-{n}")?;
        }
        Ok(())
    }
}

/// One GTID: domain, originating server, sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gtid {
    pub domain: u32,
    pub server: u32,
    pub seq: u64,
}

/// Checks that the server writes a binlog a replica can turn into rows by column name
/// (`log_bin`, `binlog_format=ROW`, `binlog_row_image=FULL`, `binlog_row_metadata=FULL`),
/// with a clear error naming what to change.
pub(crate) async fn check_server(db: &mut Db) -> Result<()> {
    let rows = db
        .rows(
            "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, \
             @@GLOBAL.binlog_row_metadata",
            vec![],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| Error::db("reading the binlog settings", "no row"))?;
    let text = |i: usize| match row.get(i) {
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).to_uppercase(),
        Some(Value::Int(n)) => n.to_string(),
        Some(Value::UInt(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut wrong = Vec::new();
    if text(0) != "1" {
        wrong.push("log_bin is OFF (start the server with log_bin)".to_string());
    }
    for (i, name, want) in [
        (1, "binlog_format", "ROW"),
        (2, "binlog_row_image", "FULL"),
        (3, "binlog_row_metadata", "FULL"),
    ] {
        let got = text(i);
        if got != want {
            wrong.push(format!(
                "{name} is {got:?}, change data capture needs {want}"
            ));
        }
    }
    if !wrong.is_empty() {
        return Err(Error::Db {
            context: format!("binlog of {}", db.addr),
            message: format!(
                "{} (set them in the server's config; see docs/sync.md)",
                wrong.join("; ")
            ),
        });
    }
    Ok(())
}

/// The server's GTID position when its binlog is on (`None` when it is off).
pub(crate) async fn position(db: &mut Db) -> Result<Option<String>> {
    let rows = db
        .rows("SELECT @@log_bin, @@gtid_binlog_pos", vec![])
        .await?;
    let row = rows.first();
    let on = matches!(
        row.and_then(|r| r.first()),
        Some(Value::Int(1)) | Some(Value::UInt(1))
    ) || matches!(row.and_then(|r| r.first()), Some(Value::Bytes(b)) if b == b"1");
    Ok(on.then(|| match row.and_then(|r| r.get(1)) {
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }))
}

/// What one event means for the sync.
#[derive(Debug)]
pub(crate) enum Change {
    /// An event group (transaction) starts.
    Begin { gtid: Gtid, standalone: bool },
    /// The current group committed.
    Commit,
    /// A statement (DDL, or BEGIN/COMMIT of a non-transactional group).
    Query { commit: bool },
    /// Changed rows of mapped table `table` (an index into the followed tables).
    Rows {
        table: usize,
        /// Per row: the image before (updates, deletes) and after (inserts, updates).
        rows: Vec<(Option<BinlogRow>, Option<BinlogRow>)>,
        /// The event's time (seconds since the epoch).
        timestamp: u32,
    },
    /// Anything else (rotations, heartbeats, other tables).
    Other,
}

/// Where event groups (transactions) start and end: a group is complete at its commit
/// (XID or COMMIT), or, for a standalone group (DDL), after its one statement.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    open: Option<(Gtid, bool)>,
}

impl Groups {
    /// Follows one event; returns the GTID of the group it completes.
    pub(crate) fn on(&mut self, change: &Change) -> Option<Gtid> {
        let done = match change {
            Change::Begin { gtid, standalone } => {
                self.open = Some((*gtid, *standalone));
                false
            }
            Change::Commit | Change::Query { commit: true } => true,
            Change::Query { commit: false } => self.open.is_some_and(|g| g.1),
            Change::Rows { .. } | Change::Other => false,
        };
        if done {
            self.open.take().map(|g| g.0)
        } else {
            None
        }
    }

    /// Whether a group is open (its rows count).
    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Forgets a half-read group (the stream is read again from the last complete one).
    pub(crate) fn reset(&mut self) {
        self.open = None;
    }
}

/// A binlog stream following some tables of one database.
pub(crate) struct Follower {
    stream: BinlogStream,
    database: String,
    tables: Vec<String>,
    addr: String,
}

/// How long a stream may stay silent: the server sends a heartbeat every second when idle.
const SILENCE: Duration = Duration::from_secs(10);

impl Follower {
    /// Connects as a replica with `server_id` and asks for the events after `pos`.
    pub(crate) async fn open(
        url: &str,
        pos: &GtidPos,
        server_id: u32,
        tables: Vec<String>,
    ) -> Result<Follower> {
        let opts = Opts::from_url(url).map_err(|e| Error::config("mariadb_url", e.to_string()))?;
        let database = opts.db_name().unwrap_or("").to_string();
        let addr = format!("{}:{}", opts.ip_or_hostname(), opts.tcp_port());
        let ctx = format!("binlog of {addr}");
        let opts = OptsBuilder::from_opts(opts);
        let mut conn = match tokio::time::timeout(Duration::from_secs(10), Conn::new(opts)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(Error::db(ctx, e)),
            Err(_) => return Err(Error::db(ctx, "server unreachable: no answer within 10 s")),
        };
        let setup = [
            "SET @mariadb_slave_capability = 4".to_string(),
            format!("SET @slave_connect_state = '{pos}'"),
            "SET @slave_gtid_strict_mode = 0".to_string(),
            "SET @slave_gtid_ignore_duplicates = 0".to_string(),
            "SET @master_heartbeat_period = 1000000000".to_string(),
        ];
        for s in setup {
            if let Err(e) = conn.query_drop(&s).await {
                return Err(Error::db(ctx, e));
            }
        }
        let stream = conn
            .get_binlog_stream(BinlogStreamRequest::new(server_id))
            .await
            .map_err(|e| binlog_error(&addr, pos, e))?;
        Ok(Follower {
            stream,
            database,
            tables,
            addr,
        })
    }

    /// The next event, decoded; `None` when nothing came within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration, pos: &GtidPos) -> Result<Option<Change>> {
        let ev = match tokio::time::timeout(wait.min(SILENCE), self.stream.next()).await {
            Err(_) => return Ok(None),
            Ok(None) => {
                return Err(Error::Db {
                    context: format!("binlog of {}", self.addr),
                    message: "the server ended the stream".into(),
                })
            }
            Ok(Some(Err(e))) => return Err(binlog_error(&self.addr, pos, e)),
            Ok(Some(Ok(ev))) => ev,
        };
        let header = ev.header();
        if header.event_type_raw() == MARIADB_GTID_EVENT {
            let d = ev.data();
            if d.len() < 13 {
                return Err(self.bad("a GTID event shorter than 13 bytes"));
            }
            let mut seq = [0u8; 8];
            seq.copy_from_slice(&d[0..8]);
            let mut dom = [0u8; 4];
            dom.copy_from_slice(&d[8..12]);
            return Ok(Some(Change::Begin {
                gtid: Gtid {
                    domain: u32::from_le_bytes(dom),
                    server: header.server_id(),
                    seq: u64::from_le_bytes(seq),
                },
                standalone: d[12] & FL_STANDALONE != 0,
            }));
        }
        let data = match ev.read_data() {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(Some(Change::Other)),
            Err(e) => return Err(self.bad(&format!("an undecodable event: {e}"))),
        };
        Ok(Some(match data {
            EventData::XidEvent(_) => Change::Commit,
            EventData::QueryEvent(q) => {
                let sql = q.query();
                let s = sql.trim();
                Change::Query {
                    commit: s.eq_ignore_ascii_case("COMMIT"),
                }
            }
            EventData::RowsEvent(r) => self.rows(&r, header.timestamp())?,
            _ => Change::Other,
        }))
    }

    fn rows(&self, r: &RowsEventData<'_>, timestamp: u32) -> Result<Change> {
        let Some(tme) = self.stream.get_tme(r.table_id()) else {
            return Err(self.bad("a rows event without its table map"));
        };
        if tme.database_name() != self.database.as_str() {
            return Ok(Change::Other);
        }
        let name = tme.table_name();
        // No table names: every table of the database (the scan).
        let table = if self.tables.is_empty() {
            0
        } else {
            match self.tables.iter().position(|t| *t == name) {
                Some(i) => i,
                None => return Ok(Change::Other),
            }
        };
        let mut rows = Vec::new();
        for row in r.rows(tme) {
            match row {
                Ok(pair) => rows.push(pair),
                Err(e) => return Err(self.bad(&format!("a row of {name:?}: {e}"))),
            }
        }
        Ok(Change::Rows {
            table,
            rows,
            timestamp,
        })
    }

    fn bad(&self, what: &str) -> Error {
        Error::Db {
            context: format!("binlog of {}", self.addr),
            message: what.to_string(),
        }
    }

    /// Closes the replica connection.
    pub(crate) async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.close()).await;
    }
}

/// What [`scan_binlog`](super::scan_binlog) read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinlogScan {
    /// Transactions (event groups) read completely.
    pub transactions: u64,
    /// Row changes decoded (each with its before and after images).
    pub row_changes: u64,
    /// Wall time of the scan in seconds, connection included.
    pub seconds: f64,
}

/// Reads and decodes the binlog of `url`'s database from GTID position `from` up to `to`
/// on one replica connection, every row of every table, and counts what it read.
pub(crate) async fn scan(url: &str, from: &str, to: &str, server_id: u32) -> Result<BinlogScan> {
    let bad = |reason: String| Error::config("gtid", reason);
    let (from, to) = (
        GtidPos::parse(from).map_err(bad)?,
        GtidPos::parse(to).map_err(bad)?,
    );
    let t0 = std::time::Instant::now();
    let mut f = Follower::open(url, &from, server_id, Vec::new()).await?;
    let mut pos = from;
    let mut out = BinlogScan {
        transactions: 0,
        row_changes: 0,
        seconds: 0.0,
    };
    let mut groups = Groups::default();
    let mut progress = std::time::Instant::now();
    while !pos.reached(&to) {
        // Heartbeats keep an idle stream alive: give up after SILENCE without a transaction.
        let change = match f.next(SILENCE, &pos).await? {
            Some(c) if progress.elapsed() < SILENCE => Some(c),
            _ => None,
        };
        let Some(change) = change else {
            let context = format!("binlog of {}", f.addr);
            f.close().await;
            return Err(Error::db(
                context,
                format!("nothing more after {pos} within 10 s, before reaching {to}"),
            ));
        };
        if let Change::Rows { rows, .. } = &change {
            out.row_changes += rows.len() as u64;
        }
        if let Some(g) = groups.on(&change) {
            pos.apply(g);
            out.transactions += 1;
            progress = std::time::Instant::now();
        }
    }
    out.seconds = t0.elapsed().as_secs_f64();
    f.close().await;
    Ok(out)
}

/// A stream error, with the purged-binlog case recognisable ([`Error::BinlogGone`]).
fn binlog_error(addr: &str, pos: &GtidPos, e: mysql_async::Error) -> Error {
    match &e {
        mysql_async::Error::Server(s) if s.code == ER_MASTER_FATAL_READING_BINLOG => {
            Error::BinlogGone {
                position: pos.to_string(),
                message: s.message.clone(),
            }
        }
        mysql_async::Error::Server(s) if s.code == 1227 || s.code == 1045 => Error::Db {
            context: format!("binlog of {addr}"),
            message: format!(
                "{} (the account needs REPLICATION SLAVE: GRANT REPLICATION SLAVE ON *.* TO ...)",
                s.message
            ),
        },
        _ => Error::db(format!("binlog of {addr}"), e),
    }
}

/// The value of column `name` in a row image (by the table map's column names).
pub(crate) fn column<'a>(row: &'a BinlogRow, name: &str) -> Option<&'a Value> {
    let i = row
        .columns_ref()
        .iter()
        .position(|c| c.name_str().eq_ignore_ascii_case(name))?;
    match row.as_ref(i) {
        Some(BinlogValue::Value(v)) => Some(v),
        _ => None,
    }
}

/// Whether the row images carry column names (`binlog_row_metadata=FULL`).
pub(crate) fn named(row: &BinlogRow) -> bool {
    row.columns_ref().iter().any(|c| !c.name_ref().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_positions_parse_print_and_advance() {
        let mut p = GtidPos::parse("0-1-100, 2-5-7").unwrap();
        assert_eq!(p.to_string(), "0-1-100,2-5-7");
        p.apply(Gtid {
            domain: 0,
            server: 3,
            seq: 101,
        });
        p.apply(Gtid {
            domain: 1,
            server: 1,
            seq: 1,
        });
        assert_eq!(p.to_string(), "0-3-101,1-1-1,2-5-7");
        assert_eq!(GtidPos::parse("").unwrap(), GtidPos::default());
        assert!(p.reached(&GtidPos::parse("0-1-101,2-5-7").unwrap()));
        assert!(!p.reached(&GtidPos::parse("0-1-102").unwrap()));
        assert!(!p.reached(&GtidPos::parse("9-1-1").unwrap()));
        assert!(p.reached(&GtidPos::default()));
        assert!(GtidPos::parse("0-1").unwrap_err().contains("not a GTID"));
        assert!(GtidPos::parse("0-1-x").is_err());
        assert!(GtidPos::parse("0-1-2,0-1-3").unwrap_err().contains("twice"));
    }
}
