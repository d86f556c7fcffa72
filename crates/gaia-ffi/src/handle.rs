//! Handles: typed boxes behind opaque C pointers, with a per-type tag so that a pointer of
//! the wrong type (or a handle already freed, in most cases) is refused instead of used.

use crate::status::{gaia_status, Failure};

/// Maps an opaque C handle type to the Rust value behind it.
pub(crate) trait Castable {
    /// What the handle points to.
    type Inner;
    /// A per-type tag, different for every handle type.
    const TAG: u64;
    /// The handle's C name, for messages.
    const NAME: &'static str;
}

/// The allocation behind every handle.
#[repr(C)]
struct Tagged<T> {
    tag: u64,
    inner: T,
}

const DEAD: u64 = 0xDEAD_DEAD_DEAD_DEAD;

/// Boxes `inner` and returns it as an opaque handle owned by the C caller.
pub(crate) fn into_handle<C: Castable>(inner: C::Inner) -> *mut C {
    Box::into_raw(Box::new(Tagged { tag: C::TAG, inner })).cast()
}

/// Borrows the value behind a handle, refusing NULL, misaligned and mistagged pointers.
///
/// # Safety
/// A non-NULL `ptr` must point to readable memory of at least 8 bytes (any pointer a C
/// caller got from libgaia does; use after free is undefined behaviour the tag only
/// usually catches).
pub(crate) unsafe fn borrow<'a, C: Castable>(ptr: *const C) -> Result<&'a C::Inner, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            gaia_status::GAIA_ERR_NULL_POINTER,
            format!("{} is NULL", C::NAME),
        ));
    }
    let tagged = ptr.cast::<Tagged<C::Inner>>();
    if !tagged.is_aligned() {
        return Err(invalid::<C>());
    }
    // SAFETY: non-NULL, aligned, and readable per this function's contract.
    let tagged = unsafe { &*tagged };
    if tagged.tag != C::TAG {
        return Err(invalid::<C>());
    }
    Ok(&tagged.inner)
}

fn invalid<C: Castable>() -> Failure {
    Failure::new(
        gaia_status::GAIA_ERR_INVALID_HANDLE,
        format!(
            "pointer is not a live {} (wrong type, or already freed)",
            C::NAME
        ),
    )
}

/// Frees a handle made by [`into_handle`]. NULL is a no-op; a mistagged pointer is left alone.
///
/// # Safety
/// As for [`borrow`]; afterwards the pointer is dangling.
pub(crate) unsafe fn free<C: Castable>(ptr: *mut C) -> Result<(), Failure> {
    if ptr.is_null() {
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { borrow(ptr) }?;
    let tagged = ptr.cast::<Tagged<C::Inner>>();
    // SAFETY: the tag proves it came from into_handle::<C>; mark it dead before freeing so
    // a double free is usually caught by the tag check instead of corrupting the heap.
    unsafe {
        (*tagged).tag = DEAD;
        drop(Box::from_raw(tagged));
    }
    Ok(())
}
