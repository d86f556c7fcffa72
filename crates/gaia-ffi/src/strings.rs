//! Strings across the boundary: checked input, caller-owned output.

use std::ffi::{c_char, CStr, CString};

use crate::boundary::guard;
use crate::status::{gaia_status, Failure};

/// Borrows a NUL-terminated UTF-8 string argument; `what` names it in errors.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn input<'a>(ptr: *const c_char, what: &'static str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            gaia_status::GAIA_ERR_NULL_POINTER,
            format!("{what} is NULL"),
        ));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    Ok(gaia_core::utf8_arg(bytes.to_bytes(), what)?)
}

/// Turns `s` into a string owned by the C caller (freed by `gaia_string_free`).
pub(crate) fn output(s: String, what: &str) -> Result<*mut c_char, Failure> {
    CString::new(s).map(CString::into_raw).map_err(|_| {
        Failure::new(
            gaia_status::GAIA_ERR_INVALID_STATE,
            format!("{what} contains a NUL byte"),
        )
    })
}

/// Frees a string that a gaia function returned to the caller. NULL is a no-op.
///
/// Ownership: takes back ownership of `s`; it must come from libgaia, must not be freed
/// twice, and must not be freed with free(3).
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub unsafe extern "C" fn gaia_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = guard(|| {
            // SAFETY: the contract: s came from CString::into_raw in `output`.
            drop(unsafe { CString::from_raw(s) });
            Ok(())
        });
    }
}
