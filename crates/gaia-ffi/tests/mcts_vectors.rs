//! The shared mcts vectors (`tests/vectors/mcts_ab.json`), replayed through the C ABI.
//! Seeded searches of every algorithm: every front end must hand out exactly these trials
//! and build exactly these trees. `GAIA_WRITE_VECTORS=1 cargo test -p gaia-ffi --test
//! mcts_vectors` regenerates the file from gaia-core.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::ffi::CString;
use std::ptr;

use common::{assert_status, code_of, sync_vectors, take};
use gaia::mcts::*;
use gaia::status::gaia_status;
use gaia_core::mcts::{Payload, Search};
use serde_json::{json, Value};

/// A deterministic score in [0, 1] for an answer from `node` in trial `id`.
fn score(id: u64, node: u32) -> f64 {
    ((id * 7919 + u64::from(node) * 104_729) % 1000) as f64 / 1000.0
}

fn generate() -> Value {
    let mut cases = vec![];
    for (name, config, rounds) in [
        ("ab_gaussian", json!({"seed": 3}), 30),
        (
            "ab_beta_two_actions",
            json!({"seed": 4, "prior": {"type": "beta"}, "actions": ["small", "large"]}),
            30,
        ),
        (
            "ab_stack",
            json!({"seed": 5, "selection": "stack", "actions": ["a", "b"],
                   "reward_average_priors": {"a": 0.6, "b": 0.4}}),
            30,
        ),
        (
            "ab_ucb_capped",
            json!({"seed": 6, "selection": "ucb", "actions": ["a", "b"],
                                  "max_width": 3, "max_depth": 3}),
            30,
        ),
        (
            "ab_predictive",
            json!({"seed": 10, "widening": "predictive", "actions": ["a", "b"]}),
            30,
        ),
        (
            "ab_mcts_m",
            json!({"seed": 12, "algorithm": "ab_mcts_m", "actions": ["a", "b"]}),
            20,
        ),
        (
            "ab_virtual_loss",
            json!({"seed": 11, "pending": "virtual_loss"}),
            30,
        ),
        (
            "standard_mcts",
            json!({"seed": 7, "algorithm": "standard_mcts", "actions": ["a", "b"]}),
            20,
        ),
        (
            "best_first",
            json!({"seed": 8, "algorithm": "best_first"}),
            20,
        ),
        (
            "repeated_sampling",
            json!({"seed": 9, "algorithm": "repeated_sampling", "actions": ["a", "b"]}),
            10,
        ),
    ] {
        let mut s = Search::from_json(&config.to_string()).unwrap();
        let mut steps = vec![];
        for round in 0..rounds {
            let n = if round % 5 == 4 { 3 } else { 1 };
            let trials = s.ask(n).unwrap();
            let expect: Vec<Value> = trials
                .iter()
                .map(|t| json!([t.id, t.node, s.config().actions[t.action as usize]]))
                .collect();
            steps.push(json!({"op": "ask", "n": n, "expect": expect}));
            // Told in reverse order; the middle one of a batch of 3 is abandoned.
            for (k, t) in trials.iter().enumerate().rev() {
                if trials.len() == 3 && k == 1 {
                    s.abandon(t.id).unwrap();
                    steps.push(json!({"op": "abandon", "trial": t.id}));
                    continue;
                }
                let sc = score(t.id, t.node);
                let (payload, p) = if t.id % 2 == 0 {
                    (Payload::Id(t.id * 10), json!({"id": t.id * 10}))
                } else {
                    let text = format!("answer {} \u{e9}", t.id);
                    (
                        Payload::Bytes(text.clone().into_bytes().into()),
                        json!({"text": text}),
                    )
                };
                let node = s.tell(t.id, sc, payload).unwrap();
                steps.push(
                    json!({"op": "tell", "trial": t.id, "score": sc, "payload": p, "expect": node}),
                );
            }
            if round == rounds / 2 {
                steps.push(json!({"op": "save_load"}));
                s = Search::load(&s.save()).unwrap();
                // Errors every binding must map to the same codes.
                let last = s.trials().len() as u64 - 1;
                for (trial, sc) in [(last, 0.5), (999, 0.5)] {
                    // A repeated tell is idempotent (no error) unless abandoned/unknown.
                    match s.tell(trial, sc, Payload::None) {
                        Ok(node) => steps.push(json!({"op": "tell", "trial": trial, "score": sc, "payload": null, "expect": node})),
                        Err(e) => {
                            let (err, code) = code_of(e.kind());
                            steps.push(json!({"op": "tell", "trial": trial, "score": sc, "payload": null, "error": err, "code": code}));
                        }
                    }
                }
                let t = s.ask(1).unwrap()[0];
                steps.push(json!({"op": "ask", "n": 1, "expect": [[t.id, t.node, s.config().actions[t.action as usize]]]}));
                let e = s.tell(t.id, 1.5, Payload::None).unwrap_err();
                let (err, code) = code_of(e.kind());
                steps.push(json!({"op": "tell", "trial": t.id, "score": 1.5, "payload": null, "error": err, "code": code}));
                let node = s.tell(t.id, 1.0, Payload::None).unwrap();
                steps.push(json!({"op": "tell", "trial": t.id, "score": 1.0, "payload": null, "expect": node}));
            }
        }
        let top = s.top_k_json(5);
        steps.push(
            json!({"op": "top_k", "k": 5, "expect": serde_json::from_str::<Value>(&top).unwrap()}),
        );
        let node = s.node_json(1).unwrap();
        steps.push(json!({"op": "node", "node": 1, "expect": node}));
        steps.push(json!({"op": "node_count", "expect": s.len()}));
        cases.push(json!({"name": name, "config": config, "steps": steps}));
    }
    json!({"format": "gaia.vectors.mcts", "version": 1, "cases": cases})
}

fn replay(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let mut m = ptr::null_mut();
    unsafe {
        let cfg = CString::new(case["config"].to_string()).unwrap();
        assert_eq!(gaia_mcts_new(cfg.as_ptr(), &mut m), gaia_status::GAIA_OK);
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name} step {i}: {step}");
            let status = match step["op"].as_str().unwrap() {
                "ask" => {
                    let n = step["n"].as_u64().unwrap() as usize;
                    let mut out = vec![gaia_mcts_trial::default(); n];
                    let mut count = 0usize;
                    let st = gaia_mcts_ask(m, n, out.as_mut_ptr(), &mut count);
                    let got: Vec<Value> = out[..count]
                        .iter()
                        .map(|t| {
                            let mut name = ptr::null_mut();
                            assert_eq!(
                                gaia_mcts_action_name(m, t.action, &mut name),
                                gaia_status::GAIA_OK
                            );
                            json!([t.trial_id, t.node, take(name)])
                        })
                        .collect();
                    assert_eq!(Value::Array(got), step["expect"], "{at}");
                    st
                }
                "tell" => {
                    let trial = step["trial"].as_u64().unwrap();
                    let sc = step["score"].as_f64().unwrap();
                    let mut node = u32::MAX;
                    let p = &step["payload"];
                    let st = if let Some(id) = p.get("id").and_then(Value::as_u64) {
                        gaia_mcts_tell_id(m, trial, sc, id, &mut node)
                    } else if let Some(text) = p.get("text").and_then(Value::as_str) {
                        gaia_mcts_tell(m, trial, sc, text.as_ptr(), text.len(), &mut node)
                    } else {
                        gaia_mcts_tell(m, trial, sc, ptr::null(), 0, &mut node)
                    };
                    if let Some(want) = step.get("expect") {
                        assert_eq!(Value::from(node), *want, "{at}");
                    }
                    st
                }
                "abandon" => gaia_mcts_abandon(m, step["trial"].as_u64().unwrap()),
                "save_load" => {
                    let (mut bytes, mut len) = (ptr::null_mut(), 0usize);
                    assert_eq!(
                        gaia_mcts_save(m, &mut bytes, &mut len),
                        gaia_status::GAIA_OK
                    );
                    gaia_mcts_free(m);
                    m = ptr::null_mut();
                    let st = gaia_mcts_load(bytes, len, &mut m);
                    gaia_bytes_free(bytes, len);
                    st
                }
                "top_k" => {
                    let mut out = ptr::null_mut();
                    let st =
                        gaia_mcts_top_k_json(m, step["k"].as_u64().unwrap() as usize, &mut out);
                    let v: Value = serde_json::from_str(&take(out)).unwrap();
                    assert_eq!(v, step["expect"], "{at}");
                    st
                }
                "node" => {
                    let mut out = ptr::null_mut();
                    let st =
                        gaia_mcts_node_json(m, step["node"].as_u64().unwrap() as u32, &mut out);
                    let v: Value = serde_json::from_str(&take(out)).unwrap();
                    assert_eq!(v, step["expect"], "{at}");
                    st
                }
                "node_count" => {
                    let mut n = 0usize;
                    let st = gaia_mcts_node_count(m, &mut n);
                    assert_eq!(Value::from(n), step["expect"], "{at}");
                    st
                }
                op => panic!("unknown op {op}"),
            };
            assert_status(status, step, &at);
        }
        gaia_mcts_free(m);
    }
}

#[test]
fn shared_mcts_vectors_replay_through_the_c_abi() {
    let fresh = generate();
    let stored = sync_vectors("mcts_ab.json", &fresh);
    for case in stored["cases"].as_array().unwrap() {
        replay(case);
    }
    assert_eq!(
        stored, fresh,
        "gaia-core no longer reproduces tests/vectors/mcts_ab.json"
    );
}

#[test]
fn bad_arguments_are_refused_with_codes() {
    unsafe {
        let mut m = ptr::null_mut();
        let cfg = CString::new(r#"{"actions": []}"#).unwrap();
        assert_eq!(
            gaia_mcts_new(cfg.as_ptr(), &mut m),
            gaia_status::GAIA_ERR_INVALID_CONFIG
        );
        assert!(m.is_null());
        assert_eq!(
            gaia_mcts_new(ptr::null(), &mut m),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        let cfg = CString::new(r#"{"seed": 1}"#).unwrap();
        assert_eq!(gaia_mcts_new(cfg.as_ptr(), &mut m), gaia_status::GAIA_OK);
        let mut out = [gaia_mcts_trial::default(); 2];
        let mut n = 0usize;
        assert_eq!(
            gaia_mcts_ask(m, 0, out.as_mut_ptr(), &mut n),
            gaia_status::GAIA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            gaia_mcts_ask(m, 2, ptr::null_mut(), &mut n),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(
            gaia_mcts_ask(m, 2, out.as_mut_ptr(), &mut n),
            gaia_status::GAIA_OK
        );
        assert_eq!(n, 2);
        assert_eq!(
            gaia_mcts_tell(
                m,
                out[0].trial_id,
                f64::NAN,
                ptr::null(),
                0,
                ptr::null_mut()
            ),
            gaia_status::GAIA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            gaia_mcts_tell(m, out[0].trial_id, 0.5, ptr::null(), 5, ptr::null_mut()),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(
            gaia_mcts_tell(m, 99, 0.5, ptr::null(), 0, ptr::null_mut()),
            gaia_status::GAIA_ERR_NOT_FOUND
        );
        let bogus = &mut n as *mut usize as *mut gaia_mcts;
        assert_eq!(
            gaia_mcts_abandon(bogus, 0),
            gaia_status::GAIA_ERR_INVALID_HANDLE
        );
        let junk = b"GAIAMCTS\x01\x00\x00\x00junk";
        let mut l = ptr::null_mut();
        assert_eq!(
            gaia_mcts_load(junk.as_ptr(), junk.len(), &mut l),
            gaia_status::GAIA_ERR_CORRUPT_STATE
        );
        assert_eq!(
            gaia_mcts_load(ptr::null(), 3, &mut l),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        let mut name = ptr::null_mut();
        assert_eq!(
            gaia_mcts_action_name(m, 3, &mut name),
            gaia_status::GAIA_ERR_NOT_FOUND
        );
        let mut b = ptr::null_mut();
        let mut bl = 7usize;
        assert_eq!(
            gaia_mcts_node_payload(m, 0, &mut b, &mut bl),
            gaia_status::GAIA_OK
        );
        assert!(b.is_null() && bl == 0);
        gaia_mcts_free(m);
    }
}
