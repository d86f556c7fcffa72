//! Status codes and the thread-local last error.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use gaia_core::ErrorKind;

/// The result of every fallible gaia function. `GAIA_OK` (0) is success; every other value
/// is a failure whose description `gaia_last_error()` returns on the same thread.
///
/// Values are stable: they are never renumbered or reused. Ranges 100-199 (mcts),
/// 200-299 (tune), 300-399 (infer) and 400-499 (sync) are reserved for engine-specific codes.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gaia_status {
    /// Success.
    GAIA_OK = 0,
    /// A required pointer argument (handle, string or out-parameter) was NULL.
    GAIA_ERR_NULL_POINTER = 1,
    /// A string argument was not valid UTF-8.
    GAIA_ERR_INVALID_UTF8 = 2,
    /// A bug inside libgaia panicked; the panic was caught and the call had no effect.
    GAIA_ERR_PANIC = 3,
    /// The operation was cancelled through its cancel token.
    GAIA_ERR_CANCELLED = 4,
    /// A caller-provided buffer is too small; the needed length was reported.
    GAIA_ERR_BUFFER_TOO_SMALL = 5,
    /// A handle argument is not a live handle of the expected type.
    GAIA_ERR_INVALID_HANDLE = 6,
    /// A JSON argument is malformed or of the wrong shape (unknown field, wrong type).
    GAIA_ERR_INVALID_JSON = 7,
    /// A configuration is well-formed but not acceptable; the message names the field.
    GAIA_ERR_INVALID_CONFIG = 8,
    /// An argument is out of its domain (NaN, infinity, out of range, bad name).
    GAIA_ERR_INVALID_ARGUMENT = 9,
    /// A named thing (arm, trial, node) does not exist.
    GAIA_ERR_NOT_FOUND = 10,
    /// A named thing exists already.
    GAIA_ERR_ALREADY_EXISTS = 11,
    /// The object's state does not allow this call now (wrong call order, nothing to choose).
    GAIA_ERR_INVALID_STATE = 12,
    /// Saved state is truncated, edited or inconsistent.
    GAIA_ERR_CORRUPT_STATE = 13,
    /// Saved state has a format version this library does not read.
    GAIA_ERR_UNSUPPORTED_VERSION = 14,
    /// An operating-system I/O operation failed (a file or a connection); the message names
    /// the path and the system's error.
    GAIA_ERR_IO = 15,
}

impl From<ErrorKind> for gaia_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidUtf8 => gaia_status::GAIA_ERR_INVALID_UTF8,
            ErrorKind::InvalidJson => gaia_status::GAIA_ERR_INVALID_JSON,
            ErrorKind::InvalidConfig => gaia_status::GAIA_ERR_INVALID_CONFIG,
            ErrorKind::InvalidArgument => gaia_status::GAIA_ERR_INVALID_ARGUMENT,
            ErrorKind::NotFound => gaia_status::GAIA_ERR_NOT_FOUND,
            ErrorKind::AlreadyExists => gaia_status::GAIA_ERR_ALREADY_EXISTS,
            ErrorKind::InvalidState => gaia_status::GAIA_ERR_INVALID_STATE,
            ErrorKind::CorruptState => gaia_status::GAIA_ERR_CORRUPT_STATE,
            ErrorKind::UnsupportedVersion => gaia_status::GAIA_ERR_UNSUPPORTED_VERSION,
            ErrorKind::Io => gaia_status::GAIA_ERR_IO,
            ErrorKind::BufferTooSmall => gaia_status::GAIA_ERR_BUFFER_TOO_SMALL,
            ErrorKind::Cancelled => gaia_status::GAIA_ERR_CANCELLED,
            // A kind added to gaia-core before this mapping learns it: still an error.
            _ => gaia_status::GAIA_ERR_INVALID_ARGUMENT,
        }
    }
}

/// A failed call: the status to return and the message for `gaia_last_error()`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: gaia_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: gaia_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}

impl<E: Into<gaia_core::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        let e: gaia_core::Error = e.into();
        Failure::new(e.kind().into(), e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Stores `message` as this thread's last error (NUL bytes in it are replaced).
pub(crate) fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
    // try_with: during thread teardown the slot may be gone; the status still tells.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = c);
}

/// The message of the last failed gaia call on the calling thread, as NUL-terminated UTF-8;
/// an empty string if no call has failed on this thread.
///
/// Ownership: the string belongs to libgaia; never free it. It stays valid until the next
/// gaia call on the same thread, so copy it before calling again.
///
/// Thread safety: each thread has its own last error. Go callers must read it inside the
/// same cgo call as the failing function (a goroutine may move between threads).
#[no_mangle]
pub extern "C" fn gaia_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// A static English name for a status code, such as "GAIA_ERR_NOT_FOUND"; "GAIA_UNKNOWN"
/// for a value that is not a status.
///
/// Ownership: static; never free it. Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn gaia_status_name(status: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"GAIA_OK",
        1 => c"GAIA_ERR_NULL_POINTER",
        2 => c"GAIA_ERR_INVALID_UTF8",
        3 => c"GAIA_ERR_PANIC",
        4 => c"GAIA_ERR_CANCELLED",
        5 => c"GAIA_ERR_BUFFER_TOO_SMALL",
        6 => c"GAIA_ERR_INVALID_HANDLE",
        7 => c"GAIA_ERR_INVALID_JSON",
        8 => c"GAIA_ERR_INVALID_CONFIG",
        9 => c"GAIA_ERR_INVALID_ARGUMENT",
        10 => c"GAIA_ERR_NOT_FOUND",
        11 => c"GAIA_ERR_ALREADY_EXISTS",
        12 => c"GAIA_ERR_INVALID_STATE",
        13 => c"GAIA_ERR_CORRUPT_STATE",
        14 => c"GAIA_ERR_UNSUPPORTED_VERSION",
        15 => c"GAIA_ERR_IO",
        _ => c"GAIA_UNKNOWN",
    };
    name.as_ptr()
}
