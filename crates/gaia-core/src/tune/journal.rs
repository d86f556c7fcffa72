//! An append-only journal file that several processes on one host share.
//!
//! Each record is one line: the CRC-32 of the JSON text as 8 hex digits, a space, the JSON
//! text (compact, so it holds no newline) and `\n`. Writers hold an exclusive `flock` while
//! they catch up with the records other processes appended and write their own with a
//! single `write`; readers hold a shared lock. So a reader never sees a live writer's half
//! record, and a record cut short by a crash (no final newline) is ignored by readers and
//! cut off by the next writer before it appends: a crash loses at most the record being
//! written and never damages the ones before it. A complete line whose checksum fails is
//! corruption and is reported with its line number, never skipped.
//!
//! Durability (`sync`): `"group"` (the default) lets a background thread `fdatasync` the
//! file at most once per `sync_interval_ms` after writes, so many calls share one flush
//! (group commit); `"always"` flushes before each write call returns; `"none"` leaves it to
//! the OS. Every mode keeps the file consistent for other processes at once (they read the
//! page cache); the modes differ only in what a power failure can take: up to one interval
//! of records with `"group"`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Error;
use crate::checksum::crc32;

/// When the journal's writes reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// A background flush at most once per interval after writes (group commit).
    #[default]
    Group,
    /// A flush before every write call returns.
    Always,
    /// No explicit flush; the OS writes back when it likes.
    None,
}

/// Where a study keeps its trials: `"memory"` (the default), a journal file given as
/// `{"type": "journal", "path": "...", "sync": "group", "sync_interval_ms": 100}` or as the
/// string `"journal:/path/to/file"`, or a MariaDB/MySQL database given as
/// `"mysql://user:password@host:port/database"` or as
/// `{"type": "mysql", "url": "...", "heartbeat_interval_s": 10, "grace_period_s": 60}`
/// (see [`super::mysql`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StorageConfig {
    /// In this process only.
    #[default]
    Memory,
    /// An append-only journal file shared by processes on this host.
    Journal(JournalConfig),
    /// A database shared by processes on any host, in Optuna's RDB schema.
    #[cfg(feature = "tune-mysql")]
    Mysql(super::mysql::MysqlConfig),
}

/// A journal's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// The file; created when missing.
    pub path: PathBuf,
    /// When writes reach the disk.
    #[serde(default)]
    pub sync: SyncMode,
    /// The group-commit interval in milliseconds (1..=10000, default 100).
    #[serde(default = "default_interval")]
    pub sync_interval_ms: u64,
}

fn default_interval() -> u64 {
    100
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum StorageObject {
    Memory,
    Journal(JournalConfig),
    #[cfg(feature = "tune-mysql")]
    Mysql(super::mysql::MysqlConfig),
}

impl StorageConfig {
    /// Reads the `storage` field of a study configuration.
    pub fn from_value(value: &serde_json::Value) -> Result<StorageConfig, Error> {
        let bad = |reason: String| Error::Config {
            what: "study config",
            field: "storage".into(),
            reason,
        };
        let config = match value {
            serde_json::Value::String(s) if s == "memory" => StorageConfig::Memory,
            #[cfg(feature = "tune-mysql")]
            serde_json::Value::String(s) if s.starts_with("mysql://") => {
                StorageConfig::Mysql(super::mysql::MysqlConfig::from_url(s))
            }
            serde_json::Value::String(s) => match s.strip_prefix("journal:") {
                Some(path) => StorageConfig::Journal(JournalConfig {
                    path: PathBuf::from(path),
                    sync: SyncMode::default(),
                    sync_interval_ms: default_interval(),
                }),
                None => {
                    return Err(bad(format!(
                        "{} is not \"memory\", \"journal:<path>\" or \"mysql://user:password@host:port/database\"{}",
                        redact(s),
                        if cfg!(feature = "tune-mysql") || !s.starts_with("mysql://") {
                            ""
                        } else {
                            " (this build has no database storage: feature tune-mysql)"
                        }
                    )))
                }
            },
            other => match serde_json::from_value::<StorageObject>(other.clone()) {
                Ok(StorageObject::Memory) => StorageConfig::Memory,
                Ok(StorageObject::Journal(j)) => StorageConfig::Journal(j),
                #[cfg(feature = "tune-mysql")]
                Ok(StorageObject::Mysql(m)) => StorageConfig::Mysql(m),
                Err(e) => return Err(bad(e.to_string())),
            },
        };
        if let StorageConfig::Journal(j) = &config {
            if j.path.as_os_str().is_empty() {
                return Err(bad("the journal path is empty".into()));
            }
            if !(1..=10_000).contains(&j.sync_interval_ms) {
                return Err(bad(format!(
                    "sync_interval_ms must be 1..=10000, got {}",
                    j.sync_interval_ms
                )));
            }
        }
        #[cfg(feature = "tune-mysql")]
        if let StorageConfig::Mysql(m) = &config {
            m.validate().map_err(bad)?;
        }
        Ok(config)
    }
}

/// A storage string for an error message, without a password (`user:****@`).
fn redact(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &s[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{:?}",
                    format!("{}{user}:****{}", &s[..scheme + 3], &s[at..])
                ),
                None => format!("{s:?}"),
            }
        }
        _ => format!("{s:?}"),
    }
}

/// Encodes one record line (with its newline).
pub(crate) fn encode_record(json: &str) -> String {
    format!("{:08x} {json}\n", crc32(json.as_bytes()))
}

/// The group-commit flusher: a thread that `fdatasync`s after writes, once per interval.
#[derive(Debug)]
struct Flusher {
    shared: Arc<(Mutex<FlushState>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct FlushState {
    dirty: bool,
    stop: bool,
}

impl Flusher {
    fn start(file: Arc<File>, interval: Duration, path: PathBuf) -> Flusher {
        let shared = Arc::new((Mutex::new(FlushState::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("gaia-journal-sync".into())
            .spawn(move || {
                let (lock, cv) = &*theirs;
                loop {
                    let Ok(mut st) = lock.lock() else { return };
                    while !st.dirty && !st.stop {
                        st = match cv.wait(st) {
                            Ok(s) => s,
                            Err(_) => return,
                        };
                    }
                    if !st.dirty {
                        return; // stopping with nothing to flush
                    }
                    let stopping = st.stop;
                    drop(st);
                    if !stopping {
                        // Let more writes join this flush.
                        std::thread::sleep(interval);
                    }
                    if let Ok(mut st) = lock.lock() {
                        st.dirty = false;
                    }
                    if let Err(e) = file.sync_data() {
                        log::warn!("journal {}: fdatasync failed: {e}", path.display());
                    }
                    if stopping {
                        return;
                    }
                }
            })
            .ok();
        Flusher { shared, thread }
    }

    fn mark_dirty(&self) {
        let (lock, cv) = &*self.shared;
        if let Ok(mut st) = lock.lock() {
            st.dirty = true;
            cv.notify_one();
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        if let Ok(mut st) = lock.lock() {
            st.stop = true;
            cv.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An open journal: the file, how far this process has read, and the flusher.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Arc<File>,
    /// Bytes of complete records consumed.
    offset: u64,
    /// Records consumed (for error messages).
    records: u64,
    /// Bytes after the last complete record at the last read: a torn write.
    torn: u64,
    sync: SyncMode,
    flusher: Option<Flusher>,
}

/// Holds the file's lock; unlocks when dropped.
pub(crate) struct Locked(Arc<File>);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Journal {
    /// Opens (creating when missing) the journal file.
    pub(crate) fn open(config: &JournalConfig) -> Result<Journal, Error> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&config.path)
            .map_err(|e| io_error(&config.path, "open", e))?;
        let file = Arc::new(file);
        let flusher = (config.sync == SyncMode::Group).then(|| {
            Flusher::start(
                Arc::clone(&file),
                Duration::from_millis(config.sync_interval_ms),
                config.path.clone(),
            )
        });
        Ok(Journal {
            path: config.path.clone(),
            file,
            offset: 0,
            records: 0,
            torn: 0,
            sync: config.sync,
            flusher,
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// How many records this process has consumed.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// Takes the exclusive lock (for a write) or the shared one (for a read).
    pub(crate) fn lock(&self, exclusive: bool) -> Result<Locked, Error> {
        let r = if exclusive {
            self.file.lock()
        } else {
            self.file.lock_shared()
        };
        r.map_err(|e| io_error(&self.path, "lock", e))?;
        Ok(Locked(Arc::clone(&self.file)))
    }

    /// Reads the records appended since the last call (the caller holds a lock). Returns
    /// their JSON texts; a checksum failure is an error naming the record.
    pub(crate) fn read_new(&mut self, _lock: &Locked) -> Result<Vec<String>, Error> {
        let mut f = &*self.file;
        f.seek(SeekFrom::Start(self.offset))
            .map_err(|e| io_error(&self.path, "seek", e))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| io_error(&self.path, "read", e))?;
        let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.torn = (buf.len() - complete) as u64;
        let mut out = Vec::new();
        let mut consumed = 0usize;
        for line in buf[..complete].split(|&b| b == b'\n') {
            if consumed >= complete {
                break;
            }
            let record = self.records + out.len() as u64 + 1;
            let corrupt = |reason: &str| Error::Corrupt {
                what: "study journal",
                reason: format!(
                    "{}: record {record} (byte {}): {reason}",
                    self.path.display(),
                    self.offset + consumed as u64
                ),
            };
            let text = std::str::from_utf8(line).map_err(|_| corrupt("not UTF-8"))?;
            let (crc, json) = text
                .split_once(' ')
                .filter(|(c, _)| c.len() == 8)
                .ok_or_else(|| corrupt("not a journal record"))?;
            let crc = u32::from_str_radix(crc, 16).map_err(|_| corrupt("bad checksum field"))?;
            if crc != crc32(json.as_bytes()) {
                return Err(corrupt("checksum mismatch"));
            }
            out.push(json.to_owned());
            consumed += line.len() + 1;
        }
        Ok(out)
    }

    /// Marks `n` records read by [`Journal::read_new`] as applied.
    pub(crate) fn consume(&mut self, texts: &[String], n: usize) {
        for t in &texts[..n] {
            self.offset += encode_record(t).len() as u64;
        }
        self.records += n as u64;
    }

    /// Appends records (the caller holds the exclusive lock and has read every record
    /// before them). A torn tail left by a crashed writer is cut off first.
    pub(crate) fn append(&mut self, _lock: &Locked, texts: &[String]) -> Result<(), Error> {
        if self.torn > 0 {
            log::warn!(
                "journal {}: dropping {} bytes of a record cut short by a crash",
                self.path.display(),
                self.torn
            );
            self.file
                .set_len(self.offset)
                .map_err(|e| io_error(&self.path, "truncate", e))?;
            self.torn = 0;
        }
        let lines: String = texts.iter().map(|t| encode_record(t)).collect();
        let mut f = &*self.file;
        if let Err(e) = f.write_all(lines.as_bytes()) {
            // Undo a partial write so the file ends on a record boundary.
            let _ = self.file.set_len(self.offset);
            return Err(io_error(&self.path, "write", e));
        }
        self.offset += lines.len() as u64;
        self.records += texts.len() as u64;
        match self.sync {
            SyncMode::Always => self
                .file
                .sync_data()
                .map_err(|e| io_error(&self.path, "fdatasync", e))?,
            SyncMode::Group => {
                if let Some(f) = &self.flusher {
                    f.mark_dirty();
                }
            }
            SyncMode::None => {}
        }
        Ok(())
    }

    /// Flushes written records to the disk now.
    pub(crate) fn flush(&self) -> Result<(), Error> {
        self.file
            .sync_data()
            .map_err(|e| io_error(&self.path, "fdatasync", e))
    }
}

fn io_error(path: &Path, op: &'static str, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        op,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_strings_and_objects() {
        let j = |v: serde_json::Value| StorageConfig::from_value(&v);
        assert_eq!(
            j(serde_json::json!("memory")).unwrap(),
            StorageConfig::Memory
        );
        match j(serde_json::json!("journal:/tmp/x")).unwrap() {
            StorageConfig::Journal(c) => {
                assert_eq!(c.path, PathBuf::from("/tmp/x"));
                assert_eq!(c.sync, SyncMode::Group);
            }
            other => panic!("expected a journal, got {other:?}"),
        }
        let e = j(serde_json::json!({"type": "journal", "path": "/x", "sync": "never"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("storage"), "{e}");
        let e = j(serde_json::json!("redis://u:secret@x/db"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("journal:<path>"), "{e}");
        assert!(
            !e.contains("secret"),
            "the password must not reach messages: {e}"
        );
        let e = j(serde_json::json!({"type": "journal", "path": "/x", "sync_interval_ms": 0}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sync_interval_ms"), "{e}");
    }
}
