//! Progress readable from any thread while a run goes on, cancellation, Prometheus metrics.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What a run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No run yet.
    Idle,
    /// Checking the mapping against MariaDB and Solr (no write yet).
    Validating,
    /// Full rebuild: streaming rows into the build core.
    Building,
    /// Full rebuild: committing and counting the build core.
    Verifying,
    /// Full rebuild: swapping the build core in.
    Swapping,
    /// Incremental pass.
    Incremental,
    /// Change data capture: following the binlog.
    Following,
    /// Reconciliation: comparing the index with the database and repairing it.
    Reconciling,
    /// The last run finished.
    Done,
    /// The last run failed.
    Failed,
    /// The last run was cancelled.
    Cancelled,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            1 => Phase::Validating,
            2 => Phase::Building,
            3 => Phase::Verifying,
            4 => Phase::Swapping,
            5 => Phase::Incremental,
            6 => Phase::Done,
            7 => Phase::Failed,
            8 => Phase::Cancelled,
            9 => Phase::Following,
            10 => Phase::Reconciling,
            _ => Phase::Idle,
        }
    }
    fn as_u8(self) -> u8 {
        match self {
            Phase::Idle => 0,
            Phase::Validating => 1,
            Phase::Building => 2,
            Phase::Verifying => 3,
            Phase::Swapping => 4,
            Phase::Incremental => 5,
            Phase::Done => 6,
            Phase::Failed => 7,
            Phase::Cancelled => 8,
            Phase::Following => 9,
            Phase::Reconciling => 10,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Validating => "validating",
            Phase::Building => "building",
            Phase::Verifying => "verifying",
            Phase::Swapping => "swapping",
            Phase::Incremental => "incremental",
            Phase::Following => "following",
            Phase::Reconciling => "reconciling",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }
}

/// A snapshot of a run's progress (counters of the current or last run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// What the run is doing.
    pub phase: Phase,
    /// Source rows read (root rows and tombstones).
    pub rows_read: u64,
    /// Rows expected in this run, when known (a full rebuild counts them first).
    pub rows_total: Option<u64>,
    /// Documents Solr accepted.
    pub docs_written: u64,
    /// Versioned deletes Solr accepted.
    pub docs_deleted: u64,
    /// Rows or documents written to the dead-letter file.
    pub dead_lettered: u64,
    /// Request retries after 5xx or connection errors.
    pub retries: u64,
    /// Bytes of update requests sent.
    pub bytes_sent: u64,
    /// Seconds since the run started.
    pub elapsed_s: f64,
    /// Rows read per second so far.
    pub rows_per_s: f64,
    /// Estimated seconds left, when the total is known.
    pub eta_s: Option<f64>,
}

impl Progress {
    /// The snapshot as JSON (what the C ABI hands out).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// State shared between the handle, the run and any thread reading progress.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub cancel: AtomicBool,
    phase: AtomicU8,
    pub rows_read: AtomicU64,
    /// `u64::MAX` = unknown.
    pub rows_total: AtomicU64,
    pub docs_written: AtomicU64,
    pub docs_deleted: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub retries: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub runs_ok: AtomicU64,
    pub runs_failed: AtomicU64,
    /// Run start, and the duration of the finished run (frozen for the snapshot).
    pub clock: Mutex<(Option<Instant>, Option<f64>)>,
    /// Held for the duration of a run.
    pub running: Mutex<()>,
    pub last_run_unix: AtomicU64,
}

impl Shared {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub(crate) fn set_phase(&self, p: Phase) {
        self.phase.store(p.as_u8(), Ordering::Relaxed);
    }

    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Relaxed))
    }

    /// Resets the counters for a new run.
    pub(crate) fn start(&self) {
        for c in [
            &self.rows_read,
            &self.docs_written,
            &self.docs_deleted,
            &self.dead_lettered,
            &self.retries,
            &self.bytes_sent,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.rows_total.store(u64::MAX, Ordering::Relaxed);
        self.cancel.store(false, Ordering::Relaxed);
        if let Ok(mut c) = self.clock.lock() {
            *c = (Some(Instant::now()), None);
        }
    }

    /// Freezes the clock at the end of a run.
    pub(crate) fn finish(&self, phase: Phase) {
        self.set_phase(phase);
        if let Ok(mut c) = self.clock.lock() {
            c.1 = c.0.map(|t| t.elapsed().as_secs_f64());
        }
        if phase == Phase::Done {
            self.runs_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.runs_failed.fetch_add(1, Ordering::Relaxed);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.last_run_unix.store(now, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Progress {
        let elapsed = match self.clock.lock() {
            Ok(c) => {
                c.1.or_else(|| c.0.map(|t| t.elapsed().as_secs_f64()))
                    .unwrap_or(0.0)
            }
            Err(_) => 0.0,
        };
        let rows = self.rows_read.load(Ordering::Relaxed);
        let total = match self.rows_total.load(Ordering::Relaxed) {
            u64::MAX => None,
            t => Some(t),
        };
        let rate = if elapsed > 0.0 {
            rows as f64 / elapsed
        } else {
            0.0
        };
        let eta = match (total, rate > 0.0) {
            (Some(t), true) => Some(t.saturating_sub(rows) as f64 / rate),
            _ => None,
        };
        Progress {
            phase: self.phase(),
            rows_read: rows,
            rows_total: total,
            docs_written: self.docs_written.load(Ordering::Relaxed),
            docs_deleted: self.docs_deleted.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            elapsed_s: elapsed,
            rows_per_s: rate,
            eta_s: eta,
        }
    }

    /// Prometheus text exposition format (version 0.0.4).
    pub(crate) fn metrics(&self, core: &str) -> String {
        let p = self.snapshot();
        let l = format!("core=\"{core}\"");
        let mut s = String::new();
        let mut m = |name: &str, kind: &str, help: &str, v: String| {
            s.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{{l}}} {v}\n"
            ));
        };
        m(
            "gaia_sync_rows_read",
            "gauge",
            "Source rows read by the current or last run.",
            p.rows_read.to_string(),
        );
        m(
            "gaia_sync_docs_written",
            "gauge",
            "Documents Solr accepted in the current or last run.",
            p.docs_written.to_string(),
        );
        m(
            "gaia_sync_docs_deleted",
            "gauge",
            "Versioned deletes Solr accepted in the current or last run.",
            p.docs_deleted.to_string(),
        );
        m(
            "gaia_sync_dead_lettered",
            "gauge",
            "Rows dead-lettered in the current or last run.",
            p.dead_lettered.to_string(),
        );
        m(
            "gaia_sync_retries",
            "gauge",
            "Request retries in the current or last run.",
            p.retries.to_string(),
        );
        m(
            "gaia_sync_bytes_sent",
            "gauge",
            "Update bytes sent in the current or last run.",
            p.bytes_sent.to_string(),
        );
        m(
            "gaia_sync_rows_per_second",
            "gauge",
            "Rows read per second in the current or last run.",
            format!("{:.3}", p.rows_per_s),
        );
        m(
            "gaia_sync_elapsed_seconds",
            "gauge",
            "Duration of the current or last run.",
            format!("{:.3}", p.elapsed_s),
        );
        m(
            "gaia_sync_runs_ok_total",
            "counter",
            "Runs that finished.",
            self.runs_ok.load(Ordering::Relaxed).to_string(),
        );
        m(
            "gaia_sync_runs_failed_total",
            "counter",
            "Runs that failed or were cancelled.",
            self.runs_failed.load(Ordering::Relaxed).to_string(),
        );
        m(
            "gaia_sync_last_run_timestamp_seconds",
            "gauge",
            "Unix time the last run ended.",
            self.last_run_unix.load(Ordering::Relaxed).to_string(),
        );
        s.push_str(&format!(
            "# HELP gaia_sync_phase The current phase (1 for the active one).\n# TYPE gaia_sync_phase gauge\ngaia_sync_phase{{{l},phase=\"{}\"}} 1\n",
            p.phase.name()
        ));
        s
    }
}
