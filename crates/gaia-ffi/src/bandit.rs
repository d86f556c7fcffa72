//! `gaia_bandit`: multi-armed bandits over named arms (Thompson sampling, UCB1, EXP3,
//! contextual LinTS), with delayed feedback through tickets.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use gaia_core::tune::bandit::check_context_len;
use gaia_core::tune::Bandit;

use crate::boundary::{check_out, guard, string_out, write_out};
use crate::handle::{self, Castable};
use crate::status::{gaia_status, Failure};
use crate::strings;

/// A multi-armed bandit: chooses among named arms and learns from rewards which pays best
/// (Thompson sampling, UCB1, EXP3, or contextual linear Thompson sampling). Created by
/// `gaia_bandit_new` or `gaia_bandit_load`, freed by `gaia_bandit_free`.
///
/// Thread safety: a handle may be used from several threads at once; calls on one handle are
/// serialised by an internal lock (`choose` and `ask` advance the shared random generator).
/// A ticket from `gaia_bandit_ask` may be told from any thread.
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
/// `"policy": "lints"` is contextual linear Thompson sampling: every `gaia_bandit_ask` gives
/// a context of `features` numbers (required, 1 to 1024); `lambda` (ridge precision, in
/// [1e-6, 1e6], default 1) and `v` (posterior scale, > 0, default 1: about the rewards' noise
/// standard deviation) tune it; rewards are real numbers (`model` is `"gaussian"`; `"beta"`,
/// a discount below 1, `window` and `prior` are refused for it).
/// Tickets (every policy): `pending_ttl_s` (> 0, default 3600) is how long an ask waits for
/// its `gaia_bandit_tell`; `expired_reward` (default none: an expired ask is dropped) is the
/// reward an expired ask counts as, e.g. 0 for "the call timed out".
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

/// Chooses an arm by the bandit's policy and writes its index (0-based, in the order of
/// `gaia_bandit_arm_name`) to `*out_index`. Counts the arm as chosen.
///
/// Errors: `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_HANDLE`, `GAIA_ERR_INVALID_STATE`
/// when the bandit has no arms, or has policy `"lints"` (it needs a context: use
/// `gaia_bandit_ask`).
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
/// range), `GAIA_ERR_INVALID_STATE` for policy `"lints"` (a reward needs its context: use
/// `gaia_bandit_ask` and `gaia_bandit_tell`). On error the bandit is unchanged.
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

/// Removes an arm and its evidence; later arms move down one index. Its pending asks are
/// dropped (`gaia_bandit_tell` of their tickets is then `GAIA_ERR_INVALID_STATE`, "ticket 7
/// was dropped when its arm "gpt" was removed").
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

/// Writes the bandit's statistics as JSON, after expiring the asks past their ttl:
/// `{"model":"beta","discount":1.0,"total_pulls":3,"pending":1,"expired":0,
///   "arms":[{"name":"a","pulls":2,"chosen":2,"weight":2.0,"mean":0.75,"alpha":3.0,
///   "beta":1.0}, ...]}`
/// (`mean` is the posterior mean reward; gaussian arms also carry `kappa`; `pending` counts
/// the asks waiting for their tell, `expired` those that expired). Policy fields appear when
/// they apply (`policy`, `ucb_c`, `gamma`, `window`, `expired_reward`; for `"lints"`
/// `features`, `lambda`, `v`, and per arm `theta`, the posterior mean coefficients, while
/// `mean` is then the mean of the arm's rewards and `alpha`/`beta` are absent).
///
/// Ownership: on success `*out_json` is owned by the caller; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_stats_json(
    bandit: *const gaia_bandit,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out_json, "out_json", || {
            let mut b = lock(bandit)?;
            b.expire();
            Ok(b.stats_json())
        })
    }
}

/// Serialises the whole bandit (configuration, evidence, generator state, pending tickets
/// with their contexts) as versioned JSON that `gaia_bandit_load` restores, in this or
/// another process, to a bandit that makes the same draws and accepts the same tickets (format
/// version 1, 2 or 3: the lowest that holds the bandit).
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
/// `GAIA_ERR_UNSUPPORTED_VERSION` (written by a newer libgaia: this one reads versions 1 to
/// 3), plus the pointer and UTF-8 errors.
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

/// Chooses an arm for a reward that will come later: writes a ticket for `gaia_bandit_tell`
/// to `*out_ticket` (ids count up from 1 over the bandit's life, saves included) and the
/// arm's index (the order of `gaia_bandit_arm_name`) to `*out_arm`, and counts the arm as
/// chosen. The ask waits, with its time (the system clock), its arm and its context, until
/// it is told or expires after `pending_ttl_s`; asks past their ttl expire first.
///
/// `context` points to `context_len` doubles: the `features` numbers (finite, at most 1e9 in
/// magnitude) for policy `"lints"`; for the other policies pass NULL and 0 (they take no
/// context).
///
/// Errors: `GAIA_ERR_NULL_POINTER` (`out_ticket`, `out_arm`, or `context` with a
/// `context_len` above 0), `GAIA_ERR_INVALID_HANDLE`, `GAIA_ERR_INVALID_ARGUMENT` (a context
/// of the wrong length, NaN or infinite values, a context for a policy without one, none for
/// `"lints"`; the message says which), `GAIA_ERR_INVALID_STATE` (no arms). On error the
/// bandit is unchanged.
///
/// Ownership: does not take `context` (read during the call only).
/// Thread safety: locks the handle. The index is only meaningful until arms are added or
/// removed; the ticket stays valid (removing its arm drops it, and telling it then says so).
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_ask(
    bandit: *mut gaia_bandit,
    context: *const f64,
    context_len: usize,
    out_ticket: *mut u64,
    out_arm: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_ticket, "out_ticket")?;
        check_out(out_arm, "out_arm")?;
        let x: &[f64] = if context_len == 0 {
            &[]
        } else if context.is_null() {
            return Err(Failure::new(
                gaia_status::GAIA_ERR_NULL_POINTER,
                format!("context is NULL but context_len is {context_len}"),
            ));
        } else {
            // Refused before the slice is made: a wrong length must not read past a buffer.
            check_context_len(context_len)?;
            // SAFETY: non-NULL, and `context_len` readable doubles per the C caller's contract.
            unsafe { std::slice::from_raw_parts(context, context_len) }
        };
        // SAFETY: C caller's contract.
        let t = unsafe { lock(bandit) }?.ask(x)?;
        // SAFETY: both checked above.
        unsafe {
            write_out(out_ticket, t.id);
            write_out(out_arm, t.arm);
        }
        Ok(())
    })
}

/// Records `reward` for the ask that returned `ticket`: any order, any thread, minutes
/// later (until `pending_ttl_s` after the ask). The reward must suit the model as for
/// `gaia_bandit_update` (beta: [0, 1]; gaussian: finite; `"lints"`: finite, at most 1e12 in
/// magnitude). Asks past their ttl expire first.
///
/// Errors: `GAIA_ERR_NOT_FOUND` for a ticket no ask returned ("unknown ticket 99: the asks
/// so far returned tickets 1 to 41"); `GAIA_ERR_INVALID_STATE` for a ticket told already,
/// expired ("ticket 17 expired after 600 s"), or dropped when its arm was removed;
/// `GAIA_ERR_INVALID_ARGUMENT` for a NaN, infinite or out-of-range reward (the ticket stays
/// pending); `GAIA_ERR_NULL_POINTER`, `GAIA_ERR_INVALID_HANDLE`. Apart from the expiry,
/// nothing changes on error.
///
/// Thread safety: locks the handle.
#[no_mangle]
pub unsafe extern "C" fn gaia_bandit_tell(
    bandit: *mut gaia_bandit,
    ticket: u64,
    reward: f64,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        unsafe { lock(bandit) }?.tell(ticket, reward)?;
        Ok(())
    })
}
