//! Library and ABI versions.

use std::ffi::c_char;

/// The ABI version this library implements; equals `GAIA_ABI_VERSION` in the header it was
/// built with and the number in its soname (`libgaia.so.1`).
pub(crate) const ABI_VERSION: u32 = 1;

/// A symbol whose name carries the ABI major version: programs that reference it (the Go
/// binding does) fail to link against a library of another ABI instead of misbehaving.
#[no_mangle]
pub static gaia_abi_v1: u32 = ABI_VERSION;

/// The library's semantic version, e.g. "0.1.0".
///
/// Ownership: static; never free it. Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn gaia_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the loaded library. A binding compares it with the
/// `GAIA_ABI_VERSION` it was written for and refuses to run on a mismatch.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn gaia_abi_version() -> u32 {
    ABI_VERSION
}
