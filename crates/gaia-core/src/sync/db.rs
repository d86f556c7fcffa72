//! The MariaDB side: one connection per reader, session in UTC and utf8mb4.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Params, Value};

use super::error::{Error, Result};

/// One MariaDB connection.
pub(crate) struct Db {
    conn: Conn,
    /// `host:port/database`, for messages (never the password).
    pub(crate) addr: String,
    url: String,
    /// The last error broke the connection (I/O, server gone): worth a reconnect and retry.
    pub(crate) broken: bool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("addr", &self.addr).finish()
    }
}

fn params(p: Vec<Value>) -> Params {
    if p.is_empty() {
        Params::Empty
    } else {
        Params::Positional(p)
    }
}

impl Db {
    /// Connects (bounded by 10 s), with the session in UTC so TIMESTAMP columns and
    /// `information_schema` times read as UTC.
    pub(crate) async fn connect(url: &str) -> Result<Db> {
        let opts = Opts::from_url(url).map_err(|e| Error::config("mariadb_url", e.to_string()))?;
        let addr = format!(
            "{}:{}/{}",
            opts.ip_or_hostname(),
            opts.tcp_port(),
            opts.db_name().unwrap_or("")
        );
        if opts.db_name().unwrap_or("").is_empty() {
            return Err(Error::config(
                "mariadb_url",
                "names no database (mysql://user:pw@host:port/DATABASE)",
            ));
        }
        let opts = OptsBuilder::from_opts(opts)
            .init(vec!["SET time_zone = '+00:00'", "SET NAMES utf8mb4"])
            .stmt_cache_size(64);
        let ctx = format!("connect to {addr}");
        let conn = match tokio::time::timeout(Duration::from_secs(10), Conn::new(opts)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                let msg = match &e {
                    mysql_async::Error::Server(s) if s.code == 1045 => {
                        format!("access denied (wrong user or password): {}", s.message)
                    }
                    mysql_async::Error::Server(s) if s.code == 1049 => {
                        format!("unknown database: {}", s.message)
                    }
                    mysql_async::Error::Io(io) => format!("server unreachable: {io}"),
                    other => other.to_string(),
                };
                return Err(Error::Db {
                    context: ctx,
                    message: msg,
                });
            }
            Err(_) => {
                return Err(Error::Db {
                    context: ctx,
                    message: "server unreachable: no answer within 10 s".into(),
                })
            }
        };
        Ok(Db {
            conn,
            addr,
            url: url.to_string(),
            broken: false,
        })
    }

    /// Replaces a broken connection by a new one (stays broken when that fails too).
    pub(crate) async fn reconnect(&mut self) {
        match Db::connect(&self.url).await {
            Ok(new) => {
                let old = std::mem::replace(self, new);
                drop(old);
            }
            Err(e) => log::warn!("sync: reconnecting to MariaDB {}: {e}", self.addr),
        }
    }

    fn fail(&mut self, context: String, e: mysql_async::Error) -> Error {
        self.broken = matches!(e, mysql_async::Error::Io(_) | mysql_async::Error::Driver(_))
            || matches!(&e, mysql_async::Error::Server(s) if s.code == 1927 || s.code == 2006 || s.code == 2013);
        Error::db(context, e)
    }

    /// Runs a statement and collects all rows (for small results only).
    pub(crate) async fn rows(&mut self, sql: &str, p: Vec<Value>) -> Result<Vec<Vec<Value>>> {
        let res: std::result::Result<Vec<mysql_async::Row>, _> =
            self.conn.exec(sql, params(p)).await;
        match res {
            Ok(rows) => Ok(rows.into_iter().map(values).collect()),
            Err(e) => Err(self.fail(format!("query `{}`", short(sql)), e)),
        }
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    pub(crate) async fn exec(&mut self, sql: &str, p: Vec<Value>) -> Result<u64> {
        match self.conn.exec_drop(sql, params(p)).await {
            Ok(()) => Ok(self.conn.affected_rows()),
            Err(e) => Err(self.fail(format!("statement `{}`", short(sql)), e)),
        }
    }

    /// Runs statements in the text protocol (`START TRANSACTION`, `COMMIT`, DDL).
    pub(crate) async fn text(&mut self, sql: &str) -> Result<()> {
        match self.conn.query_drop(sql).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(format!("statement `{}`", short(sql)), e)),
        }
    }

    /// Ends the transaction a `START TRANSACTION` opened for `res`'s work: COMMIT when `res`
    /// is Ok, else ROLLBACK. Returns `res` (its error before the COMMIT's).
    pub(crate) async fn end_transaction<T>(&mut self, res: Result<T>) -> Result<T> {
        let ended = self
            .text(if res.is_ok() { "COMMIT" } else { "ROLLBACK" })
            .await;
        let out = res?;
        ended?;
        Ok(out)
    }

    /// Streams the rows of a statement into `f`, one at a time (bounded memory).
    pub(crate) async fn each<F>(&mut self, sql: &str, p: Vec<Value>, mut f: F) -> Result<()>
    where
        F: FnMut(Vec<Value>) -> Result<()>,
    {
        let ctx = || format!("query `{}`", short(sql));
        let err = {
            let mut res = match self.conn.exec_iter(sql, params(p)).await {
                Ok(r) => r,
                Err(e) => return Err(self.fail(ctx(), e)),
            };
            loop {
                match res.next().await {
                    Ok(Some(row)) => f(values(row))?,
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            }
        };
        match err {
            None => Ok(()),
            Some(e) => Err(self.fail(ctx(), e)),
        }
    }

    /// The server's clock in UTC microseconds (versions written from it win over every
    /// version a row already had).
    pub(crate) async fn now_us(&mut self) -> Result<i64> {
        let rows = self
            .rows(
                "SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)",
                vec![],
            )
            .await?;
        rows.first()
            .and_then(|r| r.first())
            .and_then(|v| super::convert::int(v).ok().flatten())
            .ok_or_else(|| Error::db("reading the server clock", "no value"))
    }

    /// Closes the connection politely.
    pub(crate) async fn close(self) {
        let _ = self.conn.disconnect().await;
    }
}

/// A row's values (never panics, unlike `Row::unwrap`, on a value taken before).
fn values(row: mysql_async::Row) -> Vec<Value> {
    row.unwrap_raw()
        .into_iter()
        .map(|v| v.unwrap_or(Value::NULL))
        .collect()
}

fn short(sql: &str) -> String {
    if sql.len() <= 160 {
        sql.to_string()
    } else {
        let mut end = 160;
        while !sql.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &sql[..end])
    }
}

/// Backtick-quotes an identifier already checked by `config::check_ident`.
pub(crate) fn q(name: &str) -> String {
    format!("`{name}`")
}

/// Evaluates `$body` (a future of `Result`) and, when it failed because the connection
/// broke, reconnects and evaluates it again, with exponential backoff, up to
/// `tuning.max_retries` times. `$body` must be idempotent (a read).
macro_rules! db_retry {
    ($db:expr, $tuning:expr, $ctx:expr, $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            match $body.await {
                Ok(v) => break v,
                Err(e) if $db.broken && attempt < $tuning.max_retries => {
                    $ctx.stop()?;
                    attempt += 1;
                    let wait = $tuning.backoff_ms(attempt);
                    log::warn!("sync: {e}; reconnecting (retry {attempt}) in {wait} ms");
                    $ctx.shared
                        .retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                    $db.reconnect().await;
                }
                Err(e) => return Err(e),
            }
        }
    }};
}
pub(crate) use db_retry;
