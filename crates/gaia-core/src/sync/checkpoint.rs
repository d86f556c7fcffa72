//! Crash-safe state: the checkpoint (written to a temporary file, fsynced, renamed, folder
//! fsynced) and the dead-letter file (JSON lines, appended and fsynced).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::Mapping;
use super::error::{Error, Result};

/// Format version of the checkpoint file.
const FORMAT: u32 = 1;

/// A keyset position: everything up to (`version`, `key`) is done. `version` is in the
/// column's own terms (naive microseconds for DATETIME, the value for an integer column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    pub version: i64,
    pub key: i64,
}

/// A full rebuild in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FullState {
    /// The core being built.
    pub build_core: String,
    /// Its instance dir (unique per rebuild; tells a swapped core from an unswapped one).
    pub instance_dir: String,
    /// Last primary key of the last chunk Solr acknowledged.
    pub last_pk: Option<i64>,
    pub chunks_done: u64,
    /// Documents Solr accepted in those chunks.
    pub docs_ok: u64,
    pub dead_lettered: u64,
    pub rows_read: u64,
    /// Where the incremental sync starts once this rebuild is live.
    pub start: BTreeMap<String, Cursor>,
    /// The same point as a UTC instant (microseconds), for reports.
    #[serde(default)]
    pub start_utc: Option<i64>,
    /// The server's GTID position when the rebuild started (binlog on): where change data
    /// capture starts once this rebuild is live.
    #[serde(default)]
    pub gtid: Option<String>,
}

/// The checkpoint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Checkpoint {
    pub format: u32,
    pub mapping_hash: String,
    /// A full rebuild not yet swapped in.
    pub full: Option<FullState>,
    /// Incremental cursors per source (`root`, `child:<table>`, `tomb:<table>`).
    pub cursors: Option<BTreeMap<String, Cursor>>,
    /// Change data capture: the GTID position whose changes are all in the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid: Option<String>,
}

/// The mapping's identity: SHA-256 of its canonical JSON (first 16 bytes, hex).
pub(crate) fn mapping_hash(m: &Mapping) -> String {
    let bytes = serde_json::to_vec(m).unwrap_or_default();
    let d = Sha256::digest(&bytes);
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Where a core's checkpoint and dead letters live.
#[derive(Debug, Clone)]
pub(crate) struct Files {
    pub dir: PathBuf,
    pub checkpoint: PathBuf,
    pub dead_letter: PathBuf,
}

impl Files {
    pub(crate) fn new(state_dir: &str, core: &str) -> Files {
        let dir = PathBuf::from(state_dir);
        Files {
            checkpoint: dir.join(format!("{core}.checkpoint.json")),
            dead_letter: dir.join(format!("{core}.deadletter.jsonl")),
            dir,
        }
    }

    /// Makes sure the state folder exists and is writable (before any write to Solr).
    pub(crate) fn prepare(&self) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let probe = self.dir.join(".gaia-write-probe");
        fs::write(&probe, b"ok").map_err(|e| Error::io(&probe, e))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }

    /// Reads the checkpoint; refuses one from another mapping.
    pub(crate) fn load(&self, hash: &str) -> Result<Option<Checkpoint>> {
        let path = &self.checkpoint;
        let text = match fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let cp: Checkpoint = serde_json::from_slice(&text).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!("unreadable ({e}); delete it to start over with a full rebuild"),
        })?;
        if cp.format != FORMAT {
            return Err(Error::Checkpoint {
                path: path.display().to_string(),
                reason: format!("format {} is not supported (expected {FORMAT})", cp.format),
            });
        }
        if cp.mapping_hash != hash {
            return Err(Error::CheckpointMismatch {
                path: path.display().to_string(),
                found: cp.mapping_hash,
                expected: hash.to_string(),
            });
        }
        Ok(Some(cp))
    }

    /// Writes the checkpoint atomically: tmp file, fsync, rename, fsync of the folder.
    pub(crate) fn save(&self, cp: &Checkpoint) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(cp).map_err(|e| Error::Checkpoint {
            path: self.checkpoint.display().to_string(),
            reason: e.to_string(),
        })?;
        atomic_write(&self.checkpoint, &bytes)
    }

    /// Appends dead letters (one JSON object per line) and fsyncs.
    pub(crate) fn dead_letters(&self, core: &str, items: &[(String, String)]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let path = &self.dead_letter;
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut buf = Vec::new();
        for (id, reason) in items {
            let line =
                serde_json::json!({"id": id, "core": core, "reason": reason, "unix_time": now});
            buf.extend_from_slice(line.to_string().as_bytes());
            buf.push(b'\n');
        }
        f.write_all(&buf).map_err(|e| Error::io(path, e))?;
        f.sync_data().map_err(|e| Error::io(path, e))
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

impl Checkpoint {
    pub(crate) fn new(hash: &str) -> Checkpoint {
        Checkpoint {
            format: FORMAT,
            mapping_hash: hash.to_string(),
            full: None,
            cursors: None,
            gtid: None,
        }
    }
}
