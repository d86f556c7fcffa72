//! `gaia_sync`: keeps a Solr core equal to MariaDB tables.

use std::ffi::{c_char, c_void, CString};
use std::time::Duration;

use gaia_core::sync::{Mode, Sync};

use crate::boundary::{check_out, guard, string_out, write_out};
use crate::handle::{self, Castable};
use crate::status::{gaia_status, Failure};
use crate::strings;

/// A configured MariaDB -> Solr sync. Created by `gaia_sync_new`, freed by `gaia_sync_free`.
///
/// Thread safety: one run at a time per handle (a second concurrent `gaia_sync_run` fails
/// with `GAIA_ERR_INVALID_STATE`); `gaia_sync_progress`, `gaia_sync_cancel` and
/// `gaia_sync_metrics` may be called from any thread while another thread is inside
/// `gaia_sync_run`. Never free the handle while a run is in progress.
#[derive(Debug)]
pub struct gaia_sync {
    _private: [u8; 0],
}

impl Castable for gaia_sync {
    type Inner = Sync;
    const TAG: u64 = 0x6761_6961_0005_0001;
    const NAME: &'static str = "gaia_sync";
}

/// `gaia_sync_run` mode: incremental when a checkpoint and the live core exist, else a
/// full rebuild (what a cron job wants).
pub const GAIA_SYNC_AUTO: u32 = 0;
/// `gaia_sync_run` mode: rebuild everything into a fresh core, verify the count and swap
/// it in; resumes a rebuild that crashed.
pub const GAIA_SYNC_FULL: u32 = 1;
/// `gaia_sync_run` mode: apply the changes since the checkpoint to the live core.
pub const GAIA_SYNC_INCREMENTAL: u32 = 2;
/// `gaia_sync_run` mode: change data capture. Follows the binlog from the checkpoint's GTID
/// position (a full rebuild first when there is none, or when that binlog was purged) and
/// returns its report once cancelled (`gaia_sync_cancel`, or non-zero from the progress
/// callback).
pub const GAIA_SYNC_CDC: u32 = 3;
/// `gaia_sync_run` mode: compare every live document's (id, version) with the database
/// and repair the differences; the report's `"differences"` (rows_checked, docs_in_solr,
/// missing, stale, extra) says what was fixed.
pub const GAIA_SYNC_RECONCILE: u32 = 4;

/// Called by `gaia_sync_run_with_progress` on the calling thread with a progress snapshot
/// as JSON (valid only during the call). Return 0 to go on, non-zero to cancel the run.
pub type gaia_sync_progress_callback =
    Option<unsafe extern "C" fn(progress_json: *const c_char, userdata: *mut c_void) -> i32>;

fn parse_mode(m: u32) -> Result<Mode, Failure> {
    match m {
        GAIA_SYNC_AUTO => Ok(Mode::Auto),
        GAIA_SYNC_FULL => Ok(Mode::Full),
        GAIA_SYNC_INCREMENTAL => Ok(Mode::Incremental),
        GAIA_SYNC_CDC => Ok(Mode::Cdc),
        GAIA_SYNC_RECONCILE => Ok(Mode::Reconcile),
        other => Err(Failure::new(
            gaia_status::GAIA_ERR_INVALID_ARGUMENT,
            format!(
                "mode {other} is not GAIA_SYNC_AUTO (0), GAIA_SYNC_FULL (1), \
                 GAIA_SYNC_INCREMENTAL (2), GAIA_SYNC_CDC (3) or GAIA_SYNC_RECONCILE (4)"
            ),
        )),
    }
}

/// Parses and checks a sync configuration (JSON; see docs/sync.md) without contacting any
/// server, and returns a new handle through `out`.
///
/// Errors: `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_UTF8`, `GAIA_ERR_INVALID_JSON` (not
/// JSON, an unknown field, a wrong type), `GAIA_ERR_INVALID_CONFIG` (the message names the
/// field, e.g. `mapping.fields[2].type`). On failure `*out` is left untouched.
///
/// Ownership: `*out` belongs to the caller; free it with `gaia_sync_free`.
/// Thread safety: safe from any thread.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_new(
    config_json: *const c_char,
    out: *mut *mut gaia_sync,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(config_json, "config_json") }?;
        let sync = Sync::new(json)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_sync>(sync)) };
        Ok(())
    })
}

/// Frees a handle. NULL is a no-op; a pointer that is not a live `gaia_sync` is left alone.
///
/// Ownership: takes back `sync`. Thread safety: no run may be in progress on it.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_free(sync: *mut gaia_sync) {
    let _ = guard(|| {
        // SAFETY: C caller's contract.
        unsafe { handle::free(sync) }
    });
}

/// Connects to MariaDB and Solr and checks the mapping against the live schemas (tables,
/// columns, primary key, Solr fields), writing nothing anywhere.
///
/// Errors: `GAIA_ERR_INVALID_CONFIG` (the mapping does not fit: the message names the
/// table, column or field), `GAIA_ERR_IO` (a server is unreachable or refuses the
/// credentials), `GAIA_ERR_INVALID_HANDLE`, `GAIA_ERR_NULL_POINTER`.
///
/// Thread safety: safe from any thread, also while a run is in progress.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_check(sync: *const gaia_sync) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let s = unsafe { handle::borrow(sync) }?;
        s.check()?;
        Ok(())
    })
}

/// Runs a sync (`GAIA_SYNC_AUTO`, `GAIA_SYNC_FULL` or `GAIA_SYNC_INCREMENTAL`) and blocks
/// until it ends. On success `*report_json` receives the run's report (mode, core,
/// rows_read, docs_written, docs_deleted, dead_lettered, retries, chunks, verified_count,
/// swapped, up_to_us, elapsed_s, rows_per_s, checkpoint_file, dead_letter_file). Pass NULL
/// for `report_json` when the report is not wanted.
///
/// Validation (configuration, database schema, Solr schema, checkpoint) happens before any
/// write. Documents Solr rejects go to the dead-letter file and do not fail the run.
///
/// Errors: `GAIA_ERR_CANCELLED` (`gaia_sync_cancel` was called; every acknowledged chunk
/// is checkpointed and the next run resumes), `GAIA_ERR_INVALID_STATE` (another run is in
/// progress on this handle, a checkpoint of another mapping, a failed count
/// verification), `GAIA_ERR_NOT_FOUND` (an incremental run without checkpoint),
/// `GAIA_ERR_INVALID_CONFIG`, `GAIA_ERR_IO` (a server failed after the retries),
/// `GAIA_ERR_CORRUPT_STATE` (an unreadable checkpoint), `GAIA_ERR_INVALID_ARGUMENT` (an
/// unknown mode). On failure `*report_json` is left untouched.
///
/// Ownership: `*report_json` belongs to the caller (`gaia_string_free`).
/// Thread safety: blocks the calling thread; see `gaia_sync`.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_run(
    sync: *const gaia_sync,
    mode: u32,
    report_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: forwarded C caller's contract; without a callback this is a plain run.
    unsafe { gaia_sync_run_with_progress(sync, mode, 0, None, std::ptr::null_mut(), report_json) }
}

/// Like `gaia_sync_run`, and calls `callback(progress_json, userdata)` on the calling
/// thread every `interval_ms` milliseconds (at least 10) and once when the run ends. A
/// non-zero return from the callback cancels the run, which then fails with
/// `GAIA_ERR_CANCELLED`. The callback must not call `gaia_sync_run` on the same handle.
/// A NULL `callback` makes this `gaia_sync_run`.
///
/// Errors, ownership and thread safety: as `gaia_sync_run`.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_run_with_progress(
    sync: *const gaia_sync,
    mode: u32,
    interval_ms: u32,
    callback: gaia_sync_progress_callback,
    userdata: *mut c_void,
    report_json: *mut *mut c_char,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let s = unsafe { handle::borrow(sync) }?;
        let m = parse_mode(mode)?;
        let report = match callback {
            None => s.run(m)?,
            Some(cb) => {
                s.run_with_progress(m, Duration::from_millis(u64::from(interval_ms)), |p| {
                    let json = CString::new(p.to_json()).unwrap_or_default();
                    // SAFETY: the caller's callback and userdata; the string outlives
                    // the call.
                    unsafe { cb(json.as_ptr(), userdata) == 0 }
                })?
            }
        };
        if !report_json.is_null() {
            let out = strings::output(report.to_json(), "report_json")?;
            // SAFETY: checked non-NULL; the caller's contract.
            unsafe { write_out(report_json, out) };
        }
        Ok(())
    })
}

/// Writes the current (or last) run's progress as JSON to `*out`: phase (`idle`,
/// `validating`, `building`, `verifying`, `swapping`, `incremental`, `done`, `failed`,
/// `cancelled`), rows_read, rows_total (null when unknown), docs_written, docs_deleted,
/// dead_lettered, retries, bytes_sent, elapsed_s, rows_per_s, eta_s (null when unknown).
///
/// Ownership: `*out` belongs to the caller (`gaia_string_free`).
/// Thread safety: safe from any thread, also during a run.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_progress(
    sync: *const gaia_sync,
    out: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out, "out", || {
            let s = handle::borrow(sync)?;
            Ok(s.progress().to_json())
        })
    }
}

/// Asks the run in progress to stop at its next chunk or page; `gaia_sync_run` then fails
/// with `GAIA_ERR_CANCELLED`, with every acknowledged chunk checkpointed. Without a run in
/// progress this has no effect (the next run starts normally).
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_cancel(sync: *const gaia_sync) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let s = unsafe { handle::borrow(sync) }?;
        s.cancel();
        Ok(())
    })
}

/// Writes this handle's metrics in the Prometheus text format (0.0.4) to `*out`:
/// `gaia_sync_rows_read`, `gaia_sync_docs_written`, `gaia_sync_runs_ok_total`, ... each
/// labelled with the core.
///
/// Ownership: `*out` belongs to the caller (`gaia_string_free`).
/// Thread safety: safe from any thread, also during a run.
#[no_mangle]
pub unsafe extern "C" fn gaia_sync_metrics(
    sync: *const gaia_sync,
    out: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out, "out", || {
            let s = handle::borrow(sync)?;
            Ok(s.metrics())
        })
    }
}
