//! Every handle-taking entry point of the study and mcts APIs refuses a NULL handle and a
//! handle of another type with a status, never a crash.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::ptr;

use gaia::bandit::*;
use gaia::mcts::*;
use gaia::status::gaia_status;
use gaia::study::*;

/// Runs every study entry point on `s` and returns the statuses.
unsafe fn study_calls(s: *mut gaia_study) -> Vec<gaia_status> {
    let (mut id, mut out) = (0u64, ptr::null_mut());
    unsafe {
        vec![
            gaia_study_ask(s, &mut id, &mut out),
            gaia_study_tell(s, 0, 1.0, 1),
            gaia_study_tell_constraints(s, 0, 1.0, 1, c"[]".as_ptr()),
            gaia_study_enqueue(s, c"{}".as_ptr()),
            gaia_study_add_trial(s, c"{}".as_ptr(), 1.0, 1, &mut id),
            gaia_study_best_json(s, &mut out),
            gaia_study_trials_json(s, &mut out),
            gaia_study_importance_json(s, &mut out),
            gaia_study_save(s, &mut out),
            gaia_study_flush(s),
        ]
    }
}

/// Runs every mcts entry point on `m` and returns the statuses.
unsafe fn mcts_calls(m: *mut gaia_mcts) -> Vec<gaia_status> {
    let mut trials = [gaia_mcts_trial::default(); 1];
    let (mut n, mut node, mut out, mut bytes) = (0usize, 0u32, ptr::null_mut(), ptr::null_mut());
    unsafe {
        vec![
            gaia_mcts_ask(m, 1, trials.as_mut_ptr(), &mut n),
            gaia_mcts_tell(m, 0, 0.5, ptr::null(), 0, &mut node),
            gaia_mcts_tell_id(m, 0, 0.5, 1, &mut node),
            gaia_mcts_abandon(m, 0),
            gaia_mcts_node_count(m, &mut n),
            gaia_mcts_action_name(m, 0, &mut out),
            gaia_mcts_node_json(m, 0, &mut out),
            gaia_mcts_node_payload(m, 0, &mut bytes, &mut n),
            gaia_mcts_top_k_json(m, 1, &mut out),
            gaia_mcts_export_json(m, &mut out),
            gaia_mcts_save(m, &mut bytes, &mut n),
        ]
    }
}

#[test]
fn null_and_foreign_handles_are_refused_everywhere() {
    unsafe {
        for st in study_calls(ptr::null_mut()) {
            assert_eq!(st, gaia_status::GAIA_ERR_NULL_POINTER);
        }
        for st in mcts_calls(ptr::null_mut()) {
            assert_eq!(st, gaia_status::GAIA_ERR_NULL_POINTER);
        }
        // A live bandit handle passed where a study or a search is expected.
        let mut b = ptr::null_mut();
        assert_eq!(
            gaia_bandit_new(c"{\"arms\": [\"a\"]}".as_ptr(), &mut b),
            gaia_status::GAIA_OK
        );
        for st in study_calls(b.cast()) {
            assert_eq!(st, gaia_status::GAIA_ERR_INVALID_HANDLE);
        }
        for st in mcts_calls(b.cast()) {
            assert_eq!(st, gaia_status::GAIA_ERR_INVALID_HANDLE);
        }
        // Freeing it as the wrong type is refused; the bandit still works.
        gaia_study_free(b.cast());
        gaia_mcts_free(b.cast());
        let mut i = 9usize;
        assert_eq!(gaia_bandit_choose(b, &mut i), gaia_status::GAIA_OK);
        assert_eq!(i, 0);
        gaia_bandit_free(b);
        // A search handle passed as a study.
        let mut m = ptr::null_mut();
        assert_eq!(gaia_mcts_new(c"{}".as_ptr(), &mut m), gaia_status::GAIA_OK);
        for st in study_calls(m.cast()) {
            assert_eq!(st, gaia_status::GAIA_ERR_INVALID_HANDLE);
        }
        gaia_mcts_free(m);
    }
}
