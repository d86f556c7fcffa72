//! The one callback: forwarding the engines' log records to the host.

use std::ffi::{c_char, c_void, CString};
use std::sync::{Once, RwLock};

use crate::boundary::guard;
use crate::status::gaia_status;

/// Severity of a log record. `GAIA_LOG_OFF` as the maximum level disables logging.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gaia_log_level {
    /// No records at all (only meaningful as a maximum).
    GAIA_LOG_OFF = 0,
    /// Failures the host should know about.
    GAIA_LOG_ERROR = 1,
    /// Suspicious but handled situations.
    GAIA_LOG_WARN = 2,
    /// Milestones: a model loaded, a sync finished.
    GAIA_LOG_INFO = 3,
    /// Details useful when debugging: handles created, arms added.
    GAIA_LOG_DEBUG = 4,
    /// Everything.
    GAIA_LOG_TRACE = 5,
}

/// The log callback: `userdata` as given to `gaia_set_logger`, the record's level, the
/// emitting module (e.g. "gaia::tune") and the message, both NUL-terminated UTF-8 valid only
/// during the call. It may be called from any thread, concurrently, and must not unwind
/// (no C++ exceptions, no longjmp) nor call `gaia_set_logger`.
pub type gaia_log_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        level: gaia_log_level,
        target: *const c_char,
        message: *const c_char,
    ),
>;

/// Releases `userdata` when the logger is replaced or removed.
pub type gaia_free_callback = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, gaia_log_level, *const c_char, *const c_char),
    userdata: *mut c_void,
    free_userdata: gaia_free_callback,
}

// SAFETY: the contract of gaia_set_logger requires callback and userdata to be usable
// from any thread.
unsafe impl Send for Sink {}
// SAFETY: as above.
unsafe impl Sync for Sink {}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(free) = self.free_userdata {
            // SAFETY: the host gave this function for exactly this userdata.
            unsafe { free(self.userdata) }
        }
    }
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALL: Once = Once::new();

struct Forwarder;

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("gaia")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Ok(sink) = SINK.read() else { return };
        let Some(sink) = sink.as_ref() else { return };
        let level = match record.level() {
            log::Level::Error => gaia_log_level::GAIA_LOG_ERROR,
            log::Level::Warn => gaia_log_level::GAIA_LOG_WARN,
            log::Level::Info => gaia_log_level::GAIA_LOG_INFO,
            log::Level::Debug => gaia_log_level::GAIA_LOG_DEBUG,
            log::Level::Trace => gaia_log_level::GAIA_LOG_TRACE,
        };
        let clean = |s: String| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default();
        let target = clean(record.target().to_owned());
        let message = clean(record.args().to_string());
        // SAFETY: the host's callback, called as its contract says.
        unsafe { (sink.callback)(sink.userdata, level, target.as_ptr(), message.as_ptr()) }
    }

    fn flush(&self) {}
}

static FORWARDER: Forwarder = Forwarder;

/// Sends libgaia's log records up to `max_level` to `callback`, replacing any previous
/// logger (whose `free_userdata`, if given, is then called with its `userdata`). A NULL
/// `callback`, or `GAIA_LOG_OFF`, removes the logger.
///
/// Ownership: does not take ownership of `userdata` unless `free_userdata` is non-NULL, in
/// which case libgaia calls it exactly once, when this logger is replaced or removed.
///
/// Thread safety: process-wide; safe to call from any thread, but records being logged
/// concurrently may still reach the previous callback until this call returns.
/// Returns `GAIA_ERR_INVALID_ARGUMENT` for a level outside 0..=5 (and frees nothing).
#[no_mangle]
pub unsafe extern "C" fn gaia_set_logger(
    callback: gaia_log_callback,
    userdata: *mut c_void,
    free_userdata: gaia_free_callback,
    max_level: i32,
) -> gaia_status {
    guard(|| {
        let filter = match max_level {
            0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            5 => log::LevelFilter::Trace,
            other => {
                return Err(crate::status::Failure::new(
                    gaia_status::GAIA_ERR_INVALID_ARGUMENT,
                    format!("max_level must be 0 (off) to 5 (trace), got {other}"),
                ))
            }
        };
        INSTALL.call_once(|| {
            // Fails only if the host process (a Rust program linking us) installed its own
            // `log` logger; then records go there, which is what that host wants.
            let _ = log::set_logger(&FORWARDER);
        });
        let new = match callback {
            Some(callback) if filter != log::LevelFilter::Off => Some(Sink {
                callback,
                userdata,
                free_userdata,
            }),
            _ => {
                if let Some(free) = free_userdata {
                    // SAFETY: the host asked us to own userdata; we will never use it.
                    unsafe { free(userdata) }
                }
                None
            }
        };
        let old = {
            let mut slot = SINK.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *slot, new)
        };
        log::set_max_level(filter);
        drop(old);
        Ok(())
    })
}
