//! The shared study vectors (`tests/vectors/tune_study.json`), replayed through the C ABI.
//! Seeded random and TPE studies: every front end must propose exactly these parameters.
//! `GAIA_WRITE_VECTORS=1 cargo test -p gaia-ffi --test study_vectors` regenerates the file.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::ptr;

use common::{assert_status, code_of, cstr, sync_vectors, take};
use gaia::status::gaia_status;
use gaia::study::*;
use gaia_core::tune::{Study, TrialState};
use serde_json::{json, Map, Value};

fn objective(p: &Map<String, Value>) -> f64 {
    let x = p.get("x").and_then(Value::as_f64).unwrap_or(0.0);
    let n = p.get("n").and_then(Value::as_f64).unwrap_or(1.0);
    let bonus = if p.get("kind") == Some(&json!("b")) {
        -0.5
    } else {
        0.0
    };
    let v = (x - 0.7).powi(2) + (n.ln() - 1.0).abs() * 0.1 + bonus;
    (v * 1e6).round() / 1e6
}

fn generate() -> Value {
    let space = json!({"params": [
        {"name": "kind", "type": "categorical", "choices": ["a", "b"]},
        {"name": "x", "type": "float", "low": -2, "high": 2},
        {"name": "n", "type": "int", "low": 1, "high": 32, "log": true},
        {"name": "w", "type": "float", "low": 0, "high": 1, "step": 0.1,
         "condition": {"param": "kind", "in": ["b"]}}
    ]});
    let mut cases = vec![];
    for (name, sampler, rounds) in [
        ("random", json!({"type": "random"}), 12),
        (
            "tpe_multivariate",
            json!({"type": "tpe", "n_startup_trials": 5}),
            25,
        ),
        (
            "tpe_univariate",
            json!({"type": "tpe", "n_startup_trials": 5, "multivariate": false}),
            20,
        ),
        ("sobol", json!({"type": "sobol", "seed": 5}), 12),
        (
            "grid",
            json!({"type": "grid", "grid": {"kind": ["a", "b"], "x": [-1, 0, 0.5],
                    "n": [1, 8], "w": [0.1, 0.3]}}),
            10,
        ),
        (
            "tpe_constrained",
            json!({"type": "tpe", "n_startup_trials": 5}),
            20,
        ),
    ] {
        let constrained = name == "tpe_constrained";
        let mut config =
            json!({"space": space, "direction": "minimize", "sampler": sampler, "seed": 11});
        if constrained {
            config["constraints"] = json!(["x_at_most_half"]);
        }
        // Feasible when x <= 0.5 (the unconstrained optimum is x = 0.7).
        let cons = |p: &Map<String, Value>| p.get("x").and_then(Value::as_f64).unwrap_or(0.0) - 0.5;
        let mut s = Study::from_json(&config.to_string()).unwrap();
        let mut steps = vec![];
        s.enqueue(
            &json!({"kind": "b", "x": 0.5, "n": 4, "w": 0.3})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        steps.push(json!({"op": "enqueue", "params": {"kind": "b", "x": 0.5, "n": 4, "w": 0.3}}));
        let mut pending = None;
        for round in 0..rounds {
            let a = s.ask().unwrap();
            steps.push(json!({"op": "ask", "expect_id": a.id, "expect": a.params,
                              "expect_json": Value::Object(a.params.clone()).to_string()}));
            if round % 7 == 3 {
                // Left running for a while: the constant liar sees it.
                pending = Some((a.id, objective(&a.params)));
                continue;
            }
            let (state, value) = if round % 9 == 8 {
                ("failed", 0.0)
            } else {
                ("complete", objective(&a.params))
            };
            let st = if state == "failed" {
                TrialState::Failed
            } else {
                TrialState::Complete
            };
            if constrained {
                let c = cons(&a.params);
                s.tell_with(a.id, value, st, &[c]).unwrap();
                steps.push(
                    json!({"op": "tell", "id": a.id, "value": value, "state": state,
                                  "constraints": {"x_at_most_half": c}}),
                );
            } else {
                s.tell(a.id, value, st).unwrap();
                steps.push(json!({"op": "tell", "id": a.id, "value": value, "state": state}));
            }
            if round == rounds / 2 {
                steps.push(json!({"op": "save_load"}));
                s = Study::load_json(&s.save_json()).unwrap();
                let e = s.tell(a.id, 1.0, TrialState::Complete).unwrap_err();
                let (err, code) = code_of(e.kind());
                steps.push(json!({"op": "tell", "id": a.id, "value": 1.0, "state": "complete", "error": err, "code": code}));
                let e = s.tell(999, 1.0, TrialState::Complete).unwrap_err();
                let (err, code) = code_of(e.kind());
                steps.push(json!({"op": "tell", "id": 999, "value": 1.0, "state": "complete", "error": err, "code": code}));
            }
            if let Some((id, v)) = pending.take() {
                if constrained {
                    // Told by name: a missing constraint is refused first.
                    let e = s.parse_constraints(id, "{}").unwrap_err();
                    let (err, code) = code_of(e.kind());
                    steps.push(
                        json!({"op": "tell", "id": id, "value": v, "state": "complete",
                                      "constraints": {}, "error": err, "code": code}),
                    );
                    let c = -0.25;
                    s.tell_with(id, v, TrialState::Complete, &[c]).unwrap();
                    steps.push(
                        json!({"op": "tell", "id": id, "value": v, "state": "complete",
                                      "constraints": {"x_at_most_half": c}}),
                    );
                } else {
                    s.tell(id, v, TrialState::Complete).unwrap();
                    steps.push(json!({"op": "tell", "id": id, "value": v, "state": "complete"}));
                }
            }
        }
        let best = s.best_json().unwrap();
        steps.push(
            json!({"op": "best", "expect": serde_json::from_str::<Value>(&best).unwrap(),
                          "expect_json": best}),
        );
        let importance = s.importance_json().unwrap();
        steps.push(
            json!({"op": "importance", "expect": serde_json::from_str::<Value>(&importance).unwrap(),
                   "expect_json": importance}),
        );
        if constrained {
            let trials = s.trials_json().unwrap();
            steps.push(
                json!({"op": "trials", "expect": serde_json::from_str::<Value>(&trials).unwrap(),
                       "expect_json": trials}),
            );
        }
        cases.push(json!({"name": name, "config": config, "steps": steps}));
    }
    for (name, sampler) in MULTI_SAMPLERS {
        cases.push(multi_case(
            name,
            serde_json::from_str(sampler).unwrap(),
            &space,
        ));
    }
    cases.push(pruned_case(&space));
    json!({"format": "gaia.vectors.study", "version": 1, "cases": cases})
}

/// The samplers of the cases with two objectives.
const MULTI_SAMPLERS: [(&str, &str); 3] = [
    ("multi_random", r#"{"type": "random"}"#),
    ("multi_tpe", r#"{"type": "tpe", "n_startup_trials": 5}"#),
    ("nsga2", r#"{"type": "nsga2", "population_size": 6}"#),
];

/// Two objectives (maximise closeness of x to 0.7, minimise n): values told as vectors,
/// a wrong count refused, the Pareto front as `best`.
fn multi_case(name: &str, sampler: Value, space: &Value) -> Value {
    let config = json!({"space": space, "directions": ["maximize", "minimize"],
                        "sampler": sampler, "seed": 13});
    let mut s = Study::from_json(&config.to_string()).unwrap();
    let mut steps = vec![];
    for round in 0..20 {
        let a = s.ask().unwrap();
        steps.push(json!({"op": "ask", "expect_id": a.id, "expect": a.params,
                          "expect_json": Value::Object(a.params.clone()).to_string()}));
        if round == 4 {
            let e = s
                .tell_values(a.id, &[1.0], TrialState::Complete, &[])
                .unwrap_err();
            let (err, code) = code_of(e.kind());
            steps.push(
                json!({"op": "tell", "id": a.id, "values": [1.0], "state": "complete",
                              "error": err, "code": code}),
            );
        }
        if round % 8 == 7 {
            s.tell_values(a.id, &[], TrialState::Failed, &[]).unwrap();
            steps.push(json!({"op": "tell", "id": a.id, "values": [], "state": "failed"}));
            continue;
        }
        let x = a.params["x"].as_f64().unwrap();
        let n = a.params["n"].as_f64().unwrap();
        let v = [((1.0 - (x - 0.7).abs()) * 1e6).round() / 1e6, n];
        s.tell_values(a.id, &v, TrialState::Complete, &[]).unwrap();
        steps.push(json!({"op": "tell", "id": a.id, "values": v, "state": "complete"}));
        if round == 10 {
            steps.push(json!({"op": "save_load"}));
            s = Study::load_json(&s.save_json()).unwrap();
        }
    }
    let best = s.best_json().unwrap();
    steps.push(
        json!({"op": "best", "expect": serde_json::from_str::<Value>(&best).unwrap(),
                      "expect_json": best}),
    );
    json!({"name": name, "config": config, "steps": steps})
}

/// TPE with a median pruner: each trial reports a learning curve and asks after each report
/// whether to stop.
fn pruned_case(space: &Value) -> Value {
    let config = json!({"space": space, "sampler": {"type": "tpe", "n_startup_trials": 5},
                        "pruner": {"type": "median", "n_startup_trials": 3}, "seed": 17});
    let mut s = Study::from_json(&config.to_string()).unwrap();
    let mut steps = vec![];
    for round in 0..14 {
        let a = s.ask().unwrap();
        steps.push(json!({"op": "ask", "expect_id": a.id, "expect": a.params,
                          "expect_json": Value::Object(a.params.clone()).to_string()}));
        let target = objective(&a.params);
        let mut pruned = false;
        for step in 0..6u64 {
            let v = ((target + 1.0 / (step + 1) as f64) * 1e6).round() / 1e6;
            s.report(a.id, step, v).unwrap();
            steps.push(json!({"op": "report", "id": a.id, "step": step, "value": v}));
            pruned = s.should_prune(a.id).unwrap();
            steps
                .push(json!({"op": "should_prune", "id": a.id, "expect_json": pruned.to_string()}));
            if pruned {
                break;
            }
        }
        if round == 6 {
            let e = s.report(a.id, 9, f64::NAN).unwrap_err();
            let (err, code) = code_of(e.kind());
            steps.push(
                json!({"op": "report", "id": a.id, "step": 9, "value": "NaN",
                              "error": err, "code": code}),
            );
        }
        let state = if pruned { "pruned" } else { "complete" };
        let st = if pruned {
            TrialState::Pruned
        } else {
            TrialState::Complete
        };
        s.tell(a.id, target, st).unwrap();
        steps.push(json!({"op": "tell", "id": a.id, "value": target, "state": state}));
        if round == 7 {
            let e = s.report(a.id, 7, 1.0).unwrap_err();
            let (err, code) = code_of(e.kind());
            steps.push(json!({"op": "report", "id": a.id, "step": 7, "value": 1.0,
                              "error": err, "code": code}));
        }
    }
    let trials = s.trials_json().unwrap();
    steps.push(
        json!({"op": "trials", "expect": serde_json::from_str::<Value>(&trials).unwrap(),
                      "expect_json": trials}),
    );
    json!({"name": "median_pruner", "config": config, "steps": steps})
}

/// A step's number, where JSON cannot hold NaN: the string "NaN" stands for it.
fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn state_code(s: &str) -> i32 {
    match s {
        "complete" => gaia_trial_state::GAIA_TRIAL_COMPLETE as i32,
        "failed" => gaia_trial_state::GAIA_TRIAL_FAILED as i32,
        _ => gaia_trial_state::GAIA_TRIAL_PRUNED as i32,
    }
}

fn replay(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let mut s = ptr::null_mut();
    unsafe {
        let cfg = cstr(&case["config"].to_string());
        assert_eq!(gaia_study_new(cfg.as_ptr(), &mut s), gaia_status::GAIA_OK);
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name} step {i}: {step}");
            let status = match step["op"].as_str().unwrap() {
                "enqueue" => gaia_study_enqueue(s, cstr(&step["params"].to_string()).as_ptr()),
                "ask" => {
                    let (mut id, mut p) = (0u64, ptr::null_mut());
                    let st = gaia_study_ask(s, &mut id, &mut p);
                    assert_eq!(st, gaia_status::GAIA_OK, "{at}");
                    let text = take(p);
                    assert_eq!(Value::from(text.as_str()), step["expect_json"], "{at}");
                    let params: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(id, step["expect_id"].as_u64().unwrap(), "{at}");
                    assert_eq!(params, step["expect"], "{at}");
                    st
                }
                "tell" if step.get("values").is_some() => {
                    let values: Vec<f64> = step["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(number)
                        .collect();
                    gaia_study_tell_values(
                        s,
                        step["id"].as_u64().unwrap(),
                        values.as_ptr(),
                        values.len(),
                        state_code(step["state"].as_str().unwrap()),
                        ptr::null(),
                    )
                }
                "report" => gaia_study_report(
                    s,
                    step["id"].as_u64().unwrap(),
                    step["step"].as_u64().unwrap(),
                    number(&step["value"]),
                ),
                "should_prune" => {
                    let mut prune = false;
                    let st = gaia_study_should_prune(s, step["id"].as_u64().unwrap(), &mut prune);
                    assert_eq!(
                        prune.to_string(),
                        step["expect_json"].as_str().unwrap(),
                        "{at}"
                    );
                    st
                }
                "tell" => match step.get("constraints") {
                    None => gaia_study_tell(
                        s,
                        step["id"].as_u64().unwrap(),
                        step["value"].as_f64().unwrap(),
                        state_code(step["state"].as_str().unwrap()),
                    ),
                    Some(c) => gaia_study_tell_constraints(
                        s,
                        step["id"].as_u64().unwrap(),
                        step["value"].as_f64().unwrap(),
                        state_code(step["state"].as_str().unwrap()),
                        cstr(&c.to_string()).as_ptr(),
                    ),
                },
                op @ ("importance" | "trials") => {
                    let mut out = ptr::null_mut();
                    let st = if op == "importance" {
                        gaia_study_importance_json(s, &mut out)
                    } else {
                        gaia_study_trials_json(s, &mut out)
                    };
                    let v: Value = serde_json::from_str(&take(out)).unwrap();
                    assert_eq!(v, step["expect"], "{at}");
                    st
                }
                "save_load" => {
                    let mut out = ptr::null_mut();
                    assert_eq!(gaia_study_save(s, &mut out), gaia_status::GAIA_OK);
                    gaia_study_free(s);
                    s = ptr::null_mut();
                    gaia_study_load(cstr(&take(out)).as_ptr(), &mut s)
                }
                "best" => {
                    let mut out = ptr::null_mut();
                    let st = gaia_study_best_json(s, &mut out);
                    let v: Value = serde_json::from_str(&take(out)).unwrap();
                    assert_eq!(v, step["expect"], "{at}");
                    st
                }
                op => panic!("unknown op {op}"),
            };
            assert_status(status, step, &at);
        }
        gaia_study_free(s);
    }
}

#[test]
fn shared_study_vectors_replay_through_the_c_abi() {
    let fresh = generate();
    let stored = sync_vectors("tune_study.json", &fresh);
    for case in stored["cases"].as_array().unwrap() {
        replay(case);
    }
    assert_eq!(
        stored, fresh,
        "gaia-core no longer reproduces tests/vectors/tune_study.json"
    );
    // The model must have learnt something: leaving out the enqueued configuration (the
    // first trial of every case, near the optimum), TPE's best beats the random case's.
    let best = |k: usize| {
        stored["cases"][k]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|st| st["op"] == "tell" && st["state"] == "complete")
            .skip(1)
            .filter_map(|st| st["value"].as_f64())
            .fold(f64::INFINITY, f64::min)
    };
    assert!(best(1) < best(0), "tpe {} vs random {}", best(1), best(0));
}
