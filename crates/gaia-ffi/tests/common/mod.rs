//! Shared by the vector tests: the vector files, strings across the C ABI, status checks.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;

use gaia::status::{gaia_last_error, gaia_status, gaia_status_name};
use gaia_core::ErrorKind;
use serde_json::Value;

/// `tests/vectors/<name>`.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(name)
}

/// Writes `fresh` to the vector file when `GAIA_WRITE_VECTORS` is set, then reads the file
/// back: the stored vectors every front end replays.
pub fn sync_vectors(name: &str, fresh: &Value) -> Value {
    let path = vector_path(name);
    if std::env::var_os("GAIA_WRITE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(fresh).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("tests/vectors/{name} is missing: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The C name and code of the status an error kind maps to.
pub fn code_of(kind: ErrorKind) -> (String, i32) {
    let status = gaia_status::from(kind);
    let name = unsafe { CStr::from_ptr(gaia_status_name(status as i32)) };
    (name.to_str().unwrap().to_owned(), status as i32)
}

/// A C string for an argument.
pub fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Copies a library-owned string and frees it.
///
/// # Safety
/// `s` must come from libgaia and not be freed yet.
pub unsafe fn take(s: *mut c_char) -> String {
    let out = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_owned();
    unsafe { gaia::gaia_string_free(s) };
    out
}

/// This thread's last error message.
pub fn last_error() -> String {
    unsafe { CStr::from_ptr(gaia_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Asserts `status` is the step's expected `code` (0 when it has none).
pub fn assert_status(status: gaia_status, step: &Value, at: &str) {
    let want = step.get("code").and_then(Value::as_i64).unwrap_or(0);
    assert_eq!(status as i64, want, "{at}: {}", last_error());
}
