//! `gaia_study`: ask/tell parameter optimisation (random, Sobol, grid, TPE, CMA-ES, GP and
//! NSGA-II samplers), one or several objectives, constraints, pruning from intermediate
//! values, parameter importance, in memory, in a journal file shared by processes or in a
//! database shared by hosts.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use gaia_core::tune::{Study, TrialState};

use crate::boundary::{check_out, guard, slice_in, string_out, write_out};
use crate::handle::{self, Castable};
use crate::status::{gaia_status, Failure};
use crate::strings;

/// An optimisation study: asks for parameters to try, learns from the values told.
/// Created by `gaia_study_new` or `gaia_study_load`, freed by `gaia_study_free`.
///
/// Thread safety: a handle may be used from several threads at once (internally locked);
/// trials may be told from any thread, in any order, long after they were asked.
#[derive(Debug)]
pub struct gaia_study {
    _private: [u8; 0],
}

impl Castable for gaia_study {
    type Inner = Mutex<Study>;
    const TAG: u64 = 0x6761_6961_0002_0001;
    const NAME: &'static str = "gaia_study";
}

/// How a trial ended, for `gaia_study_tell` and `gaia_study_add_trial`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gaia_trial_state {
    /// The evaluation finished with a finite value.
    GAIA_TRIAL_COMPLETE = 1,
    /// The evaluation failed; the value is ignored.
    GAIA_TRIAL_FAILED = 2,
    /// The host stopped the evaluation early; the value is ignored.
    GAIA_TRIAL_PRUNED = 3,
}

fn trial_state(state: i32) -> Result<TrialState, Failure> {
    Ok(TrialState::from_code(i64::from(state))?)
}

/// Borrows and locks a study handle.
///
/// # Safety
/// See [`handle::borrow`].
unsafe fn lock<'a>(s: *const gaia_study) -> Result<MutexGuard<'a, Study>, Failure> {
    // SAFETY: forwarded contract.
    let m = unsafe { handle::borrow(s) }?;
    m.lock().map_err(|_| {
        Failure::new(
            gaia_status::GAIA_ERR_PANIC,
            "gaia_study is unusable: an earlier call panicked while holding it",
        )
    })
}

/// Creates a study from JSON: `{"space": {"params": [...]}, "direction": "minimize",
/// "constraints": ["latency"], "sampler": {"type": "tpe"}, "storage": "memory", "seed": 42}`.
/// `space` is required (float/int with `log` or `step`, categorical, conditional
/// parameters) unless `storage` names a journal that already holds a study; `direction` is
/// `minimize` (default) or `maximize`; `constraints` names values told with each complete
/// trial (feasible when every one is <= 0); `sampler` is `{"type": "random"}` (default),
/// `{"type": "tpe"}` with optional `n_startup_trials`, `n_ei_candidates`, `prior_weight`,
/// `multivariate`, `constant_liar`, `{"type": "cmaes"}` with optional `sigma0`, `popsize`,
/// `n_startup_trials`, `with_margin`, `restart_strategy` (`"none"` or `"ipop"`),
/// `inc_popsize`, `warm_start` (float and int parameters; categoricals drawn at random),
/// `{"type": "gp"}` (Gaussian-process Bayesian optimisation, Matern-5/2 with log EI) with
/// optional `n_startup_trials`, `deterministic_objective`, `n_candidates`, `n_local_search`,
/// `{"type": "sobol", "seed": 7}` or `{"type": "grid", "grid": {"x": [0, 1]}}`; `storage`
/// is `"memory"` (default), `"journal:/path"` or `{"type": "journal", "path": "...",
/// "sync": "group" | "always" | "none", "sync_interval_ms": 100}`: an append-only file that
/// processes on one host share (each opens its own handle on the same path), or
/// `"mysql://user:password@host:port/db"`
/// or `{"type": "mysql", "url": "...", "heartbeat_interval_s": 10, "grace_period_s": 60}`:
/// a MariaDB 10.6+ / MySQL 8 database that workers on any host share, in Optuna's RDB
/// schema (Optuna's `load_study` reads it), where `"name"` picks the study (required; the
/// study is created by the first worker, with `space` then optional for the others).
///
/// Errors: `GAIA_ERR_INVALID_JSON`, `GAIA_ERR_INVALID_CONFIG` (the message names the
/// parameter, e.g. `search space: param "top_p": low 1.5 > high 1.0`, or the journal or
/// database study that differs), `GAIA_ERR_IO` (the journal cannot be opened, the database
/// is unreachable or refuses: the message names user, host, database and study, never the
/// password), `GAIA_ERR_CORRUPT_STATE` (a damaged journal record, named), pointer and UTF-8
/// errors. Ownership: does not take
/// `config_json`; `*out` is the caller's, freed with `gaia_study_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_new(
    config_json: *const c_char,
    out: *mut *mut gaia_study,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(config_json, "config_json") }?;
        let study = Study::from_json(json)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_study>(Mutex::new(study))) };
        Ok(())
    })
}

/// Restores a study saved by `gaia_study_save`. Errors: `GAIA_ERR_CORRUPT_STATE`,
/// `GAIA_ERR_UNSUPPORTED_VERSION`. Ownership as for `gaia_study_new`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_load(
    saved_json: *const c_char,
    out: *mut *mut gaia_study,
) -> gaia_status {
    guard(|| {
        check_out(out, "out")?;
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(saved_json, "saved_json") }?;
        let study = Study::load_json(json)?;
        // SAFETY: checked above.
        unsafe { write_out(out, handle::into_handle::<gaia_study>(Mutex::new(study))) };
        Ok(())
    })
}

/// Frees a study. NULL is a no-op. Must not be called twice, nor while in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_free(study: *mut gaia_study) {
    // SAFETY: C caller's contract.
    let _ = guard(|| unsafe { handle::free(study) });
}

/// Starts a trial: writes its id to `*out_trial_id` and its active parameters as a JSON
/// object (`{"temperature": 0.7, "model": "large"}`) to `*out_params_json`.
///
/// Ownership: `*out_params_json` is the caller's; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_ask(
    study: *mut gaia_study,
    out_trial_id: *mut u64,
    out_params_json: *mut *mut c_char,
) -> gaia_status {
    guard(|| {
        check_out(out_trial_id, "out_trial_id")?;
        check_out(out_params_json, "out_params_json")?;
        // SAFETY: C caller's contract.
        let asked = unsafe { lock(study) }?.ask()?;
        let params = strings::output(
            serde_json::Value::Object(asked.params).to_string(),
            "params",
        )?;
        // SAFETY: both checked above.
        unsafe {
            write_out(out_trial_id, asked.id);
            write_out(out_params_json, params);
        }
        Ok(())
    })
}

/// Finishes a trial (of a study without constraints). `state` is a `gaia_trial_state`; a
/// complete trial whose `value` is NaN or infinite is recorded as failed, so it never
/// reaches the model. Errors: `GAIA_ERR_NOT_FOUND` (unknown id), `GAIA_ERR_INVALID_STATE`
/// (already finished), `GAIA_ERR_INVALID_ARGUMENT` (bad state; a study with constraints
/// needs `gaia_study_tell_constraints`), `GAIA_ERR_IO` (journal or database storage). With
/// database storage the same tell repeated (after an I/O error that lost the answer)
/// succeeds again instead of `GAIA_ERR_INVALID_STATE`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_tell(
    study: *mut gaia_study,
    trial_id: u64,
    value: f64,
    state: i32,
) -> gaia_status {
    guard(|| {
        let state = trial_state(state)?;
        // SAFETY: C caller's contract.
        unsafe { lock(study) }?.tell(trial_id, value, state)?;
        Ok(())
    })
}

/// Finishes a trial with constraint values: `constraints_json` is an object by name
/// (`{"latency": 120.5}`, every declared constraint, no other) or an array in declaration
/// order; the trial is feasible when every value is <= 0, and `best` is the best feasible
/// trial. NULL `constraints_json` is the same as `gaia_study_tell`. Failed and pruned trials
/// ignore the constraints. Errors as for `gaia_study_tell`, plus `GAIA_ERR_INVALID_JSON`
/// and `GAIA_ERR_INVALID_ARGUMENT` (a missing, unknown or non-finite constraint value).
/// Ownership: does not take `constraints_json`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_tell_constraints(
    study: *mut gaia_study,
    trial_id: u64,
    value: f64,
    state: i32,
    constraints_json: *const c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    guard(|| unsafe { tell(study, trial_id, &[value], state, constraints_json) })
}

/// The tell behind `gaia_study_tell_constraints` and `gaia_study_tell_values`: one value per
/// objective, constraints as JSON (NULL: none).
///
/// # Safety
/// `study` and a non-NULL `constraints_json` as for those functions.
unsafe fn tell(
    study: *mut gaia_study,
    trial_id: u64,
    values: &[f64],
    state: i32,
    constraints_json: *const c_char,
) -> Result<(), Failure> {
    let state = trial_state(state)?;
    // SAFETY: forwarded contract.
    let mut s = unsafe { lock(study) }?;
    let constraints = if constraints_json.is_null() {
        Vec::new()
    } else {
        // SAFETY: forwarded contract (non-NULL checked).
        let json = unsafe { strings::input(constraints_json, "constraints_json") }?;
        s.parse_constraints(trial_id, json)?
    };
    s.tell_values(trial_id, values, state, &constraints)?;
    Ok(())
}

/// Finishes a trial of a study with several objectives (`"directions"` in its
/// configuration): `values` points to `n_values` doubles, one per objective in the order of
/// the directions (NULL with 0 for a failed or pruned trial). A complete trial with any NaN
/// or infinite value is recorded as failed. `constraints_json` as for
/// `gaia_study_tell_constraints` (NULL without constraints). Works for single-objective
/// studies too, with one value. Errors as for `gaia_study_tell_constraints`, plus
/// `GAIA_ERR_INVALID_ARGUMENT` when `n_values` is not the number of objectives of a
/// complete trial, and `GAIA_ERR_NULL_POINTER` for NULL `values` with `n_values` > 0.
/// Ownership: borrows `values` and `constraints_json` for the call.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_tell_values(
    study: *mut gaia_study,
    trial_id: u64,
    values: *const f64,
    n_values: usize,
    state: i32,
    constraints_json: *const c_char,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let values = unsafe { slice_in(values, n_values, "values") }?;
        // SAFETY: C caller's contract.
        unsafe { tell(study, trial_id, values, state, constraints_json) }
    })
}

/// Records an intermediate value of a running trial at `step` (0 to 2^31 - 1: an epoch,
/// the number of evaluation samples so far) for the study's pruner (`"pruner"` in the
/// configuration); a step reported twice keeps its first value. Errors:
/// `GAIA_ERR_NOT_FOUND` (unknown id), `GAIA_ERR_INVALID_STATE` (the trial is finished, or
/// the study has several objectives), `GAIA_ERR_INVALID_ARGUMENT` (NaN or infinite
/// `value`, step too large), `GAIA_ERR_IO` (journal or database storage); nothing is
/// recorded on error.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_report(
    study: *mut gaia_study,
    trial_id: u64,
    step: u64,
    value: f64,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        unsafe { lock(study) }?.report(trial_id, step, value)?;
        Ok(())
    })
}

/// Writes to `*out_prune` whether the running trial should stop now (then tell it with
/// `GAIA_TRIAL_PRUNED`), by the study's pruner from the intermediate values every trial
/// reported: `"median"`, `"percentile"` or `"successive_halving"`; always false without a
/// pruner. Errors: `GAIA_ERR_NOT_FOUND` (unknown id), `GAIA_ERR_INVALID_STATE` (the trial
/// is finished), `GAIA_ERR_IO` (journal or database storage).
#[no_mangle]
pub unsafe extern "C" fn gaia_study_should_prune(
    study: *mut gaia_study,
    trial_id: u64,
    out_prune: *mut bool,
) -> gaia_status {
    guard(|| {
        check_out(out_prune, "out_prune")?;
        // SAFETY: C caller's contract.
        let prune = unsafe { lock(study) }?.should_prune(trial_id)?;
        // SAFETY: checked above.
        unsafe { write_out(out_prune, prune) };
        Ok(())
    })
}

/// Queues parameters (a JSON object of every active parameter) for the next ask.
/// Errors: `GAIA_ERR_INVALID_JSON`, `GAIA_ERR_INVALID_CONFIG` (a value outside its
/// parameter, a missing or inactive parameter). Ownership: does not take `params_json`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_enqueue(
    study: *mut gaia_study,
    params_json: *const c_char,
) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        let json = unsafe { strings::input(params_json, "params_json") }?;
        let params = Study::parse_params(json)?;
        // SAFETY: C caller's contract.
        unsafe { lock(study) }?.enqueue(&params)?;
        Ok(())
    })
}

/// Records a trial evaluated elsewhere and writes its id to `*out_trial_id`. Errors as for
/// `gaia_study_enqueue` and `gaia_study_tell`. For a study with several objectives, see
/// `gaia_study_add_trial_values`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_add_trial(
    study: *mut gaia_study,
    params_json: *const c_char,
    value: f64,
    state: i32,
    out_trial_id: *mut u64,
) -> gaia_status {
    // SAFETY: C caller's contract.
    guard(|| unsafe { add_trial(study, params_json, &[value], state, out_trial_id) })
}

/// The add behind `gaia_study_add_trial` and `gaia_study_add_trial_values`.
///
/// # Safety
/// Pointers as for those functions.
unsafe fn add_trial(
    study: *mut gaia_study,
    params_json: *const c_char,
    values: &[f64],
    state: i32,
    out_trial_id: *mut u64,
) -> Result<(), Failure> {
    check_out(out_trial_id, "out_trial_id")?;
    let state = trial_state(state)?;
    // SAFETY: forwarded contract.
    let json = unsafe { strings::input(params_json, "params_json") }?;
    let params = Study::parse_params(json)?;
    // SAFETY: forwarded contract.
    let id = unsafe { lock(study) }?.add_trial_values(&params, values, state, &[])?;
    // SAFETY: checked above.
    unsafe { write_out(out_trial_id, id) };
    Ok(())
}

/// `gaia_study_add_trial` with one value per objective (`values`, `n_values`, as for
/// `gaia_study_tell_values`): every value of a complete trial must be finite.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_add_trial_values(
    study: *mut gaia_study,
    params_json: *const c_char,
    values: *const f64,
    n_values: usize,
    state: i32,
    out_trial_id: *mut u64,
) -> gaia_status {
    guard(|| {
        check_out(out_trial_id, "out_trial_id")?;
        // SAFETY: C caller's contract.
        let values = unsafe { slice_in(values, n_values, "values") }?;
        // SAFETY: C caller's contract.
        unsafe { add_trial(study, params_json, values, state, out_trial_id) }
    })
}

/// Writes the best trial as JSON `{"id":3,"state":"complete","value":0.12,"params":{...}}`;
/// for a study with several objectives, the Pareto front: a JSON array of the feasible
/// complete trials no other one dominates, each with `"values"` instead of `"value"`.
/// `GAIA_ERR_INVALID_STATE` while no trial is complete (or feasible). Ownership:
/// `*out_json` is the caller's; free it with `gaia_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_best_json(
    study: *const gaia_study,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(study)?.best_json()?)) }
}

/// Writes how much each parameter matters for reaching good values (PED-ANOVA, as Optuna's
/// `PedAnovaImportanceEvaluator`) as a JSON array
/// `[{"param": "temperature", "importance": 0.71}, ...]`, largest first, summing to 1.
/// `GAIA_ERR_INVALID_STATE` with fewer than 2 complete trials. Ownership as for
/// `gaia_study_best_json`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_importance_json(
    study: *const gaia_study,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(study)?.importance_json()?)) }
}

/// Writes a journal study's records to the disk now (with `"sync": "group"` they are
/// otherwise flushed within `sync_interval_ms`); a no-op for studies in memory.
/// Errors: `GAIA_ERR_IO`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_flush(study: *const gaia_study) -> gaia_status {
    guard(|| {
        // SAFETY: C caller's contract.
        unsafe { lock(study) }?.flush()?;
        Ok(())
    })
}

/// Writes every trial as a JSON array of `{"id","state","value","params"}` objects
/// (`state` is running, complete, failed or pruned; with constraints also `"constraints"`
/// by name and `"feasible"`). With journal or database storage, best, trials and importance
/// first read what other processes wrote. Ownership as for `gaia_study_best_json`.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_trials_json(
    study: *const gaia_study,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(study)?.trials_json()?)) }
}

/// Serialises the whole study (config, trials, queue, generator) as versioned JSON for
/// `gaia_study_load`, which continues with the same proposals. Ownership as above.
#[no_mangle]
pub unsafe extern "C" fn gaia_study_save(
    study: *const gaia_study,
    out_json: *mut *mut c_char,
) -> gaia_status {
    // SAFETY: C caller's contract.
    unsafe { string_out(out_json, "out_json", || Ok(lock(study)?.save_json())) }
}
