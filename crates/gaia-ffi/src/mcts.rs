//! `gaia_mcts`: AB-MCTS tree search (and its baselines) driven by ask/tell.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use gaia_core::mcts::{Payload, Search};

use crate::boundary::{check_out, guard, string_out, write_out};
use crate::handle::{self, Castable};
use crate::status::{gaia_status, Failure};
use crate::strings;

/// A tree search over LLM answers. Created by `gaia_mcts_new` or `gaia_mcts_load`, freed
/// by `gaia_mcts_free`.
///
/// Thread safety: a handle may be used from several threads at once (internally locked);
/// trials may be told from any thread, in any order.
#[derive(Debug)]
pub struct gaia_mcts {
    _private: [u8; 0],
}

impl Castable for gaia_mcts {
    type Inner = Mutex<Search>;
    const TAG: u64 = 0x6761_6961_0003_0001;
    const NAME: &'static str = "gaia_mcts";
}

/// One expansion to perform: produce a new answer from node `node` (0: the root, i.e. a
/// first answer; otherwise refine that answer) with action `action` (an index into the
/// configured actions), then tell the result with `trial_id`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct gaia_mcts_trial {
    /// The trial, for `gaia_mcts_tell` / `gaia_mcts_abandon`.
    pub trial_id: u64,
    /// The node to expand (0 is the root).
    pub node: u32,
    /// The action's index (see `gaia_mcts_action_name`).
    pub action: u32,
}

/// Borrows and locks a search handle.
///
/// # Safety
/// See [`handle::borrow`].
unsafe fn lock<'a>(m: *const gaia_mcts) -> Result<MutexGuard<'a, Search>, Failure> {
    // SAFETY: forwarded contract.
    let s = unsafe { handle::borrow(m) }?;
    s.lock().map_err(|_| {
        Failure::new(
            gaia_status::GAIA_ERR_PANIC,
            "gaia_mcts is unusable: an earlier call panicked while holding it",
        )
    })
}

/// Creates a search from JSON: `{"algorithm": "ab_mcts_a", "actions": ["gpt", "claude"],
/// "prior": {"type": "gaussian"}, "selection": "thompson", "seed": 42}`. Every field is
/// optional: `algorithm` is `ab_mcts_a` (default), `ab_mcts_m`, `standard_mcts`,
/// `best_first` or `repeated_sampling`; `actions` defaults to `["generate"]`; `prior` is
/// `{"type": "gaussian", "m", "kappa", "nu", "tau_square"}` (treequest's defaults) or
/// `{"type": "beta", "a", "b"}`; `selection` (several actions) is `thompson`, `ucb` or
/// `stack`; `reward_average_priors` a number or an object by action; `samples_per_action`
/// and `exploration_weight` for the baselines; `max_width`, `max_depth` caps; opt-in
/// `"widening": "predictive"` (GEN/CONT by draws of the next score: keeps widening) and
/// `"pending": "virtual_loss"` (pending expansions count as scores of 0, so a batch from
/// `gaia_mcts_ask` spreads out).
///
/// Errors: `GAIA_ERR_INVALID_JSON`, `GAIA_ERR_INVALID_CONFIG` (naming the field), pointer
/// and UTF-8 errors. Ownership: `*out` is the caller's, freed with `gaia_mcts_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_new(
    config_json: *const c_char,
    out: *mut *mut gaia_mcts,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(config_json, "config_json") }?;
        let search = Search::from_json(json)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_mcts>(Mutex::new(search))) };
        Ok(())
    })
}

/// Restores a search from a snapshot of `len` bytes written by `gaia_mcts_save`; it
/// continues with identical draws. Errors: `GAIA_ERR_CORRUPT_STATE` (truncated, edited),
/// `GAIA_ERR_UNSUPPORTED_VERSION`, `GAIA_ERR_NULL_POINTER`. Ownership as for
/// `gaia_mcts_new`; `bytes` is not retained.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut gaia_mcts,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let data = unsafe { bytes_in(bytes, len, "bytes") }?;
        let search = Search::load(data)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_mcts>(Mutex::new(search))) };
        Ok(())
    })
}

/// Frees a search. NULL is a no-op; a pointer that is not a live `gaia_mcts` is refused.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_free(search: *mut gaia_mcts) {
    let _ = guard(|| {
        // SAFETY: C caller's contract.
        unsafe { handle::free(search) }
    });
}

/// Starts up to `capacity` trials and writes them to `out_trials` (an array of at least
/// `capacity`), their number to `*out_count` (at least 1 on success). AB-MCTS-A chooses
/// each from the tree as it stands (pending trials do not change it, as treequest).
/// Errors: `GAIA_ERR_INVALID_ARGUMENT` (capacity 0 or over 10,000), `GAIA_ERR_INVALID_STATE` (the caps
/// leave nothing to expand).
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_ask(
    search: *mut gaia_mcts,
    capacity: usize,
    out_trials: *mut gaia_mcts_trial,
    out_count: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_trials, "out_trials")?;
        check_out(out_count, "out_count")?;
        // SAFETY: C caller's contract.
        let trials = unsafe { lock(search) }?.ask(capacity)?;
        for (i, t) in trials.iter().enumerate() {
            let c = gaia_mcts_trial {
                trial_id: t.id,
                node: t.node,
                action: u32::from(t.action),
            };
            // SAFETY: the caller's array holds `capacity` >= trials.len() entries.
            unsafe { write_out(out_trials.add(i), c) };
        }
        // SAFETY: checked above.
        unsafe { write_out(out_count, trials.len()) };
        Ok(())
    })
}

/// Adds the answer of a trial with its `score` in [0, 1] and `payload_len` bytes of
/// payload (the answer text; NULL and 0 for none), and writes the new node's id to
/// `*out_node` (may be NULL). Idempotent: telling a trial again writes the same node and
/// changes nothing. Errors: `GAIA_ERR_INVALID_ARGUMENT` (score NaN or outside [0, 1]),
/// `GAIA_ERR_NOT_FOUND` (unknown trial), `GAIA_ERR_INVALID_STATE` (abandoned trial).
/// Ownership: the payload is copied.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_tell(
    search: *mut gaia_mcts,
    trial_id: u64,
    score: f64,
    payload: *const u8,
    payload_len: usize,
    out_node: *mut u32,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let data = unsafe { bytes_in(payload, payload_len, "payload") }?;
        let payload = if payload.is_null() {
            Payload::None
        } else {
            Payload::Bytes(data.to_vec().into_boxed_slice())
        };
        // SAFETY: C caller's contract.
        let node = unsafe { lock(search) }?.tell(trial_id, score, payload)?;
        if !out_node.is_null() {
            // SAFETY: non-NULL; validity is the caller's contract.
            unsafe { write_out(out_node, node) };
        }
        Ok(())
    })
}

/// As `gaia_mcts_tell`, with an opaque 64-bit id as payload (a row id in the host's own
/// storage) instead of bytes.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_tell_id(
    search: *mut gaia_mcts,
    trial_id: u64,
    score: f64,
    payload_id: u64,
    out_node: *mut u32,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let node = unsafe { lock(search) }?.tell(trial_id, score, Payload::Id(payload_id))?;
        if !out_node.is_null() {
            // SAFETY: non-NULL; validity is the caller's contract.
            unsafe { write_out(out_node, node) };
        }
        Ok(())
    })
}

/// Gives up a trial whose call failed or timed out: nothing is added (queued baselines
/// hand the expansion out again). Twice is a no-op. Errors: `GAIA_ERR_NOT_FOUND`,
/// `GAIA_ERR_INVALID_STATE` (already told).
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_abandon(search: *mut gaia_mcts, trial_id: u64) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        unsafe { lock(search) }?.abandon(trial_id)?;
        Ok(())
    })
}

/// Writes the number of nodes (the root included) to `*out_count`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_node_count(
    search: *const gaia_mcts,
    out_count: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_count, "out_count")?;
        // SAFETY: C caller's contract.
        let n = unsafe { lock(search) }?.len();
        // SAFETY: checked above.
        unsafe { write_out(out_count, n) };
        Ok(())
    })
}

/// Writes the name of action `index` (as in `gaia_mcts_trial.action`). Errors:
/// `GAIA_ERR_NOT_FOUND`. Ownership: `*out_name` is the caller's (`gaia_string_free`).
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_action_name(
    search: *const gaia_mcts,
    index: u32,
    out_name: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out_name, "out_name", || {
            let s = lock(search)?;
            let actions = &s.config().actions;
            actions.get(index as usize).cloned().ok_or_else(|| {
                Failure::new(
                    gaia_status::GAIA_ERR_NOT_FOUND,
                    format!(
                        "unknown action index {index} (the search has {} actions)",
                        actions.len()
                    ),
                )
            })
        })
    }
}

/// Writes node `node` as JSON: `{"id", "parent", "depth", "action", "score", "children",
/// "payload_id", "payload_len"}` (null parent/action/score for the root). Errors:
/// `GAIA_ERR_NOT_FOUND`. Ownership: `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_node_json(
    search: *const gaia_mcts,
    node: u32,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe {
        string_out(out_json, "out_json", || {
            Ok(lock(search)?.node_json(node)?.to_string())
        })
    }
}

/// Copies node `node`'s payload bytes to `*out_bytes` / `*out_len` (NULL and 0 when it
/// has none or an id). Ownership: free with `gaia_bytes_free(ptr, len)`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_node_payload(
    search: *const gaia_mcts,
    node: u32,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_bytes, "out_bytes")?;
        check_out(out_len, "out_len")?;
        // SAFETY: C caller's contract.
        let s = unsafe { lock(search) }?;
        let (ptr, len) = match s.node(node)?.payload {
            Payload::Bytes(b) => bytes_out(b.to_vec()),
            _ => (std::ptr::null_mut(), 0),
        };
        // SAFETY: checked above.
        unsafe {
            write_out(out_bytes, ptr);
            write_out(out_len, len);
        }
        Ok(())
    })
}

/// Writes the `k` best answers as a JSON array of node objects (as `gaia_mcts_node_json`),
/// best first. Ownership: `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_top_k_json(
    search: *const gaia_mcts,
    k: usize,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(search)?.top_k_json(k))) }
}

/// Writes the whole tree for visualisation: `{"actions", "nodes": [...], "trials": [...]}`.
/// Ownership: `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_export_json(
    search: *const gaia_mcts,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(search)?.export_json())) }
}

/// Writes the whole search (config, nodes, payloads, pending trials, generator) as a
/// versioned binary snapshot for `gaia_mcts_load`. Ownership: free `*out_bytes` with
/// `gaia_bytes_free(*out_bytes, *out_len)`.
#[no_mangle]
pub unsafe extern "C" fn gaia_mcts_save(
    search: *const gaia_mcts,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> gaia_status {
    guard(|| {
        check_out(out_bytes, "out_bytes")?;
        check_out(out_len, "out_len")?;
        // SAFETY: C caller's contract.
        let data = unsafe { lock(search) }?.save();
        let (ptr, len) = bytes_out(data);
        // SAFETY: checked above.
        unsafe {
            write_out(out_bytes, ptr);
            write_out(out_len, len);
        }
        Ok(())
    })
}

/// Frees bytes a gaia function returned (`gaia_mcts_save`, `gaia_mcts_node_payload`);
/// `len` must be the length it reported. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gaia_bytes_free(bytes: *mut u8, len: usize) {
    if !bytes.is_null() {
        let _ = guard(|| {
            // SAFETY: the contract: (bytes, len) came from `bytes_out`.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)) });
            Ok(())
        });
    }
}

fn bytes_out(data: Vec<u8>) -> (*mut u8, usize) {
    let len = data.len();
    let b: Box<[u8]> = data.into_boxed_slice();
    (Box::into_raw(b).cast::<u8>(), len)
}

/// Borrows `len` bytes at `ptr` (NULL is allowed only with `len` 0).
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads of `len` bytes for the call.
unsafe fn bytes_in<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Failure::new(
            gaia_status::GAIA_ERR_NULL_POINTER,
            format!("{what} is NULL with length {len}"),
        ));
    }
    // SAFETY: the contract above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}
