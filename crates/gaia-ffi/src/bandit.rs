//! `gaia_bandit`: Thompson-sampling bandits over named arms.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use gaia_core::tune::Bandit;

use crate::boundary::{check_out, guard, string_out, write_out};
use crate::handle::{self, Castable};
use crate::status::{gaia_status, Failure};
use crate::strings;

/// A Thompson-sampling multi-armed bandit: chooses among named arms and learns from rewards
/// which pays best. Created by `gaia_bandit_new` or `gaia_bandit_load`, freed by
/// `gaia_bandit_free`.
///
/// Thread safety: a handle may be used from several threads at once; calls on one handle are
/// serialised by an internal lock (`choose` advances the shared random generator).
#[derive(Debug)]
pub struct gaia_bandit {
    _private: [u8; 0],
}

impl Castable for gaia_bandit {
    type Inner = Mutex<Bandit>;
    const TAG: u64 = 0x6761_6961_0001_0001;
    const NAME: &'static str = "gaia_bandit";
}

/// Borrows and locks a bandit handle.
///
/// # Safety
/// See [`handle::borrow`].
unsafe fn lock<'a>(b: *const gaia_bandit) -> Result<MutexGuard<'a, Bandit>, Failure> {
    // SAFETY: forwarded contract.
    let m = unsafe { handle::borrow(b) }?;
    m.lock().map_err(|_| {
        Failure::new(
            gaia_status::GAIA_ERR_PANIC,
            "gaia_bandit is unusable: an earlier call panicked while holding it",
        )
    })
}

/// Creates a bandit from a JSON configuration, for example
/// `{"arms": ["gpt", "claude"], "model": "beta", "seed": 42, "discount": 1.0,
///   "prior": {"alpha": 1, "beta": 1}}`.
/// Only `arms` is required. `model` is `"beta"` (rewards in [0, 1]) or `"gaussian"` (any
/// finite reward; prior fields `mu`, `kappa`, `alpha`, `beta`). Without `seed` the generator
/// is seeded randomly. `discount` in (0, 1] fades old evidence on every update.
/// `policy` is `"thompson"` (Thompson sampling, the default), `"ucb1"` (every arm once, then
/// the largest `mean + ucb_c * sqrt(2 ln n / n_i)`; `ucb_c` >= 0, default 1, assumes rewards
/// in [0, 1]: scale it to the rewards' range for the gaussian model) or `"exp3"` (exponential
/// weights, beta model only; `gamma` in (0, 1], default 0.1, is the exploration rate).
/// `window` (an integer >= 1) keeps only the last `window` rewards over all arms (sliding
/// window); it cannot be combined with a `discount` below 1.
///
/// Errors: `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_UTF8`, `GAIA_ERR_INVALID_JSON`
/// (malformed, unknown field, wrong type), `GAIA_ERR_INVALID_CONFIG` (the message names the
/// field).
///
/// Ownership: does not take ownership of `config_json`. On success `*out` is a new handle
/// owned by the caller, to be freed with `gaia_bandit_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_new(
    config_json: *const c_char,
    out: *mut *mut gaia_bandit,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(config_json, "config_json") }?;
        let bandit = Bandit::from_json(json)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_bandit>(Mutex::new(bandit))) };
        Ok(())
    })
}

/// Frees a bandit. NULL is a no-op. Must not be called twice on the same handle, nor while
/// another thread still uses it.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_free(bandit: *mut gaia_bandit) {
    // A mistagged pointer is refused (and reported through gaia_last_error) but not freed.
    // SAFETY: C caller's contract.
    let _ = guard(|| unsafe { handle::free(bandit) });
}

/// Chooses an arm by Thompson sampling and writes its index (0-based, in the order of
/// `gaia_bandit_arm_name`) to `*out_index`. Counts the arm as chosen.
///
/// Errors: `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_HANDLE`, `GAIA_ERR_INVALID_STATE`
/// when the bandit has no arms.
///
/// Thread safety: locks the handle. An index is only meaningful until arms are added or
/// removed; hosts that change arms concurrently should use `gaia_bandit_choose_name`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_choose(
    bandit: *mut gaia_bandit,
    out_index: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_index, "out_index")?;
        // SAFETY: C caller's contract.
        let i = unsafe { lock(bandit) }?.choose_index()?;
        // SAFETY: checked above.
        unsafe { write_out(out_index, i) };
        Ok(())
    })
}

/// Like `gaia_bandit_choose`, but writes the chosen arm's name.
///
/// Ownership: on success `*out_name` is owned by the caller; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_choose_name(
    bandit: *mut gaia_bandit,
    out_name: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out_name, "out_name", || {
            Ok(lock(bandit)?.choose()?.to_owned())
        })
    }
}

/// Records `reward` for the arm called `arm`. Beta model: reward in [0, 1] (1 = success).
/// Gaussian model: any finite reward. With a discount below 1, all arms' evidence fades first.
///
/// Errors: `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_UTF8`, `GAIA_ERR_INVALID_HANDLE`,
/// `GAIA_ERR_NOT_FOUND` (unknown arm), `GAIA_ERR_INVALID_ARGUMENT` (NaN, infinite, out of
/// range). On error the bandit is unchanged.
///
/// Ownership: does not take ownership of `arm`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_update(
    bandit: *mut gaia_bandit,
    arm: *const c_char,
    reward: f64,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let arm = unsafe { strings::input(arm, "arm") }?;
        // SAFETY: C caller's contract.
        unsafe { lock(bandit) }?.update(arm, reward)?;
        Ok(())
    })
}

/// Records `reward` for arm number `index`; otherwise as `gaia_bandit_update`.
/// `GAIA_ERR_NOT_FOUND` for an index out of range.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_update_index(
    bandit: *mut gaia_bandit,
    index: usize,
    reward: f64,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        unsafe { lock(bandit) }?.update_index(index, reward)?;
        Ok(())
    })
}

/// Writes the number of arms to `*out_count`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_arm_count(
    bandit: *const gaia_bandit,
    out_count: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_count, "out_count")?;
        // SAFETY: C caller's contract.
        let n = unsafe { lock(bandit) }?.arm_count();
        // SAFETY: checked above.
        unsafe { write_out(out_count, n) };
        Ok(())
    })
}

/// Writes the name of arm number `index` to `*out_name`. `GAIA_ERR_NOT_FOUND` when `index`
/// is out of range.
///
/// Ownership: on success `*out_name` is owned by the caller; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_arm_name(
    bandit: *const gaia_bandit,
    index: usize,
    out_name: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out_name, "out_name", || {
            Ok(lock(bandit)?.arm_name(index)?.to_owned())
        })
    }
}

/// Adds an arm, with only its prior as evidence, after the existing ones.
///
/// Errors: `GAIA_ERR_ALREADY_EXISTS`, `GAIA_ERR_INVALID_ARGUMENT` (empty or longer than
/// 256 bytes), plus the pointer and UTF-8 errors. Ownership: does not take `name`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_add_arm(
    bandit: *mut gaia_bandit,
    name: *const c_char,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let name = unsafe { strings::input(name, "name") }?;
        // SAFETY: C caller's contract.
        unsafe { lock(bandit) }?.add_arm(name)?;
        Ok(())
    })
}

/// Removes an arm and its evidence; later arms move down one index.
/// `GAIA_ERR_NOT_FOUND` for an unknown name. Ownership: does not take `name`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_remove_arm(
    bandit: *mut gaia_bandit,
    name: *const c_char,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let name = unsafe { strings::input(name, "name") }?;
        // SAFETY: C caller's contract.
        unsafe { lock(bandit) }?.remove_arm(name)?;
        Ok(())
    })
}

/// Writes the bandit's statistics as JSON:
/// `{"model":"beta","discount":1.0,"total_pulls":3,"arms":[{"name":"a","pulls":2,
///   "chosen":2,"weight":2.0,"mean":0.75,"alpha":3.0,"beta":1.0}, ...]}`
/// (`mean` is the posterior mean reward; gaussian arms also carry `kappa`).
///
/// Ownership: on success `*out_json` is owned by the caller; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_stats_json(
    bandit: *const gaia_bandit,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(bandit)?.stats_json())) }
}

/// Serialises the whole bandit (configuration, evidence, generator state) as versioned JSON
/// that `gaia_bandit_load` restores, in this or another process, to a bandit that makes the
/// same draws.
///
/// Ownership: on success `*out_json` is owned by the caller; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_save(
    bandit: *const gaia_bandit,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(bandit)?.save_json())) }
}

/// Restores a bandit saved by `gaia_bandit_save`, checking every field.
///
/// Errors: `GAIA_ERR_CORRUPT_STATE` (not JSON, edited, inconsistent),
/// `GAIA_ERR_UNSUPPORTED_VERSION` (written by a newer libgaia), plus the pointer and UTF-8
/// errors.
///
/// Ownership: does not take `saved_json`. On success `*out` is a new handle owned by the
/// caller, to be freed with `gaia_bandit_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_load(
    saved_json: *const c_char,
    out: *mut *mut gaia_bandit,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(saved_json, "saved_json") }?;
        let bandit = Bandit::load_json(json)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_bandit>(Mutex::new(bandit))) };
        Ok(())
    })
}
