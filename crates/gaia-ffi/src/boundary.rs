//! The panic barrier every exported function runs inside.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::{gaia_status, set_last_error, Failure};

/// Runs `f`, turning its error into a status plus last-error message and a panic into
/// `GAIA_ERR_PANIC`. Nothing unwinds past this function.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Failure>) -> gaia_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => gaia_status::GAIA_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown payload".to_owned());
            set_last_error(&format!(
                "internal error (panic caught at the C boundary): {what}"
            ));
            gaia_status::GAIA_ERR_PANIC
        }
    }
}

/// Writes `value` through the out-parameter `out`, which the caller checked for NULL with
/// [`check_out`] before doing any work.
///
/// # Safety
/// `out` must be valid for writes of `T` (guaranteed by the caller of the C function).
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: checked non-NULL up front; validity is the C caller's contract.
    unsafe { out.write(value) }
}

/// Fails with `GAIA_ERR_NULL_POINTER` naming `what` when `out` is NULL.
pub(crate) fn check_out<T>(out: *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::new(
            gaia_status::GAIA_ERR_NULL_POINTER,
            format!("{what} is NULL"),
        ))
    } else {
        Ok(())
    }
}

/// The shape of every function that returns a string: inside the barrier, check `out`,
/// run `f`, and hand its string to the caller through `out` (freed with
/// `gaia_string_free`). `what` names the string in errors.
///
/// # Safety
/// `out` must be NULL or valid for writes (the C caller's contract).
pub(crate) unsafe fn string_out(
    out: *mut *mut c_char,
    what: &str,
    f: impl FnOnce() -> Result<String, Failure>,
) -> gaia_status {
    guard(|| {
        check_out(out, what)?;
        let s = crate::strings::output(f()?, what)?;
        // SAFETY: checked non-NULL above; validity is the caller's contract.
        unsafe { write_out(out, s) };
        Ok(())
    })
}

/// A `GAIA_ERR_NULL_POINTER` failure naming `what`.
pub(crate) fn null(what: &str) -> Failure {
    Failure::new(
        gaia_status::GAIA_ERR_NULL_POINTER,
        format!("{what} is NULL"),
    )
}

/// Borrows `len` items at `ptr` (NULL only with `len` 0).
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads of `len` items for the call.
pub(crate) unsafe fn slice_in<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(null(what)) };
    }
    if !ptr.is_aligned() {
        return Err(Failure::new(
            gaia_status::GAIA_ERR_INVALID_ARGUMENT,
            format!("{what} is misaligned"),
        ));
    }
    // SAFETY: the contract above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Mutable twin of [`slice_in`].
///
/// # Safety
/// A non-NULL `ptr` must be valid for writes of `len` items for the call.
pub(crate) unsafe fn slice_out<'a, T>(
    ptr: *mut T,
    len: usize,
    what: &str,
) -> Result<&'a mut [T], Failure> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&mut [])
        } else {
            Err(null(what))
        };
    }
    if !ptr.is_aligned() {
        return Err(Failure::new(
            gaia_status::GAIA_ERR_INVALID_ARGUMENT,
            format!("{what} is misaligned"),
        ));
    }
    // SAFETY: the contract above.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// Deliberately panics inside the barrier, so C, PHP and Go harnesses can check that a
/// panic becomes `GAIA_ERR_PANIC` with a message instead of aborting the process.
/// Always returns `GAIA_ERR_PANIC`. Has no other effect.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn gaia_test_panic() -> gaia_status {
    guard(|| panic!("gaia_test_panic was called"))
}
