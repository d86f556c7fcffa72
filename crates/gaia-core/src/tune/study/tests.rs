use super::*;
use crate::error::ErrorKind;
use serde_json::json;

const SPACE: &str = r#"{"params": [
  {"name": "kind", "type": "categorical", "choices": ["quad", "abs"]},
  {"name": "x", "type": "float", "low": -5, "high": 5},
  {"name": "k", "type": "int", "low": 1, "high": 4, "condition": {"param": "kind", "in": ["abs"]}}
]}"#;

fn study(direction: &str, seed: u64) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {SPACE}, "direction": "{direction}", "sampler": {{"type": "random"}}, "seed": {seed}}}"#
    ))
    .unwrap()
}

fn objective(p: &Map<String, Value>) -> f64 {
    let x = p["x"].as_f64().unwrap();
    match p["kind"].as_str().unwrap() {
        "quad" => (x - 1.0).powi(2),
        _ => (x - 1.0).abs() * p["k"].as_f64().unwrap(),
    }
}

fn params(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn ask_tell_finds_better_values_and_respects_conditions() {
    let mut s = study("minimize", 1);
    for _ in 0..200 {
        let a = s.ask().unwrap();
        assert_eq!(
            a.params.contains_key("k"),
            a.params["kind"] == "abs",
            "{:?}",
            a.params
        );
        s.tell(a.id, objective(&a.params), TrialState::Complete)
            .unwrap();
    }
    let best = s.best().unwrap();
    assert!(best.value.unwrap() < 0.1, "{best:?}");
    assert_eq!(objective(&s.params_of(best)), best.value.unwrap());

    let mut m = study("maximize", 1);
    for _ in 0..50 {
        let a = m.ask().unwrap();
        m.tell(a.id, objective(&a.params), TrialState::Complete)
            .unwrap();
    }
    let top = m.best().unwrap().value.unwrap();
    assert!(m.trials().iter().all(|t| t.value.unwrap() <= top));
}

#[test]
fn tells_in_any_order_and_refuses_bad_ones_without_change() {
    let mut s = study("minimize", 2);
    let a = s.ask().unwrap();
    let b = s.ask().unwrap();
    s.tell(b.id, 1.0, TrialState::Complete).unwrap();
    let before = s.save_json();
    let cases = [
        (
            s.tell(a.id, 1.0, TrialState::Running),
            ErrorKind::InvalidArgument,
            "finished state",
        ),
        (
            s.tell(b.id, 2.0, TrialState::Complete),
            ErrorKind::InvalidState,
            "already finished",
        ),
        (
            s.tell(9, 2.0, TrialState::Complete),
            ErrorKind::NotFound,
            "unknown trial 9 (the study has 2 trials)",
        ),
    ];
    for (r, kind, needle) in cases {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
    assert_eq!(s.save_json(), before, "refused tells change nothing");
    // NaN or infinity is recorded as a failure: it never reaches the model.
    assert_eq!(
        s.tell(a.id, f64::NAN, TrialState::Complete).unwrap(),
        TrialState::Failed
    );
    assert_eq!(s.trials()[0].state, TrialState::Failed);
    assert_eq!(s.trials()[0].value, None);
    assert_eq!(s.best().unwrap().id, b.id);
    let c = s.ask().unwrap();
    assert_eq!(
        s.tell(c.id, f64::NEG_INFINITY, TrialState::Complete)
            .unwrap(),
        TrialState::Failed
    );
    assert_eq!(s.best().unwrap().id, b.id);
}

fn constrained(sampler: &str) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {{"params": [{{"name": "x", "type": "float", "low": 0, "high": 10}}]}},
            "constraints": ["too_small", "cost"], "sampler": {sampler}, "seed": 9}}"#
    ))
    .unwrap()
}

#[test]
fn constraints_decide_the_best_trial_and_are_checked() {
    let mut s = constrained(r#"{"type": "random"}"#);
    // Minimise x subject to x >= 4 (4 - x <= 0).
    let a = s.ask().unwrap();
    let before = s.save_json();
    for (values, needle) in [
        (
            vec![1.0],
            "1 constraint values given; the study declares 2 (too_small, cost)",
        ),
        (
            vec![f64::NAN, 0.0],
            "constraint \"too_small\" NaN is not finite",
        ),
    ] {
        let e = s
            .tell_with(a.id, 1.0, TrialState::Complete, &values)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
    assert_eq!(s.save_json(), before, "refused tells change nothing");
    let e = s.tell(a.id, 1.0, TrialState::Complete).unwrap_err();
    assert!(e.to_string().contains("0 constraint values"), "{e}");
    s.tell_with(a.id, 1.0, TrialState::Complete, &[3.0, 0.0])
        .unwrap();
    // The only complete trial is infeasible: no best yet, and the error says why.
    assert!(s.best().is_none());
    let e = s.best_json().unwrap_err();
    assert!(e.to_string().contains("all infeasible"), "{e}");
    for _ in 0..60 {
        let t = s.ask().unwrap();
        let x = t.params["x"].as_f64().unwrap();
        s.tell_with(t.id, x, TrialState::Complete, &[4.0 - x, -1.0])
            .unwrap();
    }
    let best = s.best().unwrap();
    let x = best.value.unwrap();
    assert!((4.0..5.0).contains(&x), "best feasible x {x}");
    assert!(s
        .trials()
        .iter()
        .any(|t| t.state == TrialState::Complete && t.value.unwrap() < x));
    let json: Value = serde_json::from_str(&s.best_json().unwrap()).unwrap();
    assert_eq!(json["feasible"], true);
    assert_eq!(json["constraints"]["cost"], -1.0);
    // Constraints by name, as the bindings pass them.
    let t = s.ask().unwrap();
    for (m, needle) in [
        (json!({"cost": 1}), "\"too_small\" is missing"),
        (
            json!({"cost": 1, "too_small": 1, "x": 0}),
            "unknown constraint \"x\"",
        ),
        (
            json!({"cost": "high", "too_small": 1}),
            "\"cost\" is not a number",
        ),
    ] {
        let e = s.constraints_from_map(t.id, &params(m)).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
    let v = s
        .constraints_from_map(t.id, &params(json!({"cost": 2, "too_small": -1})))
        .unwrap();
    assert_eq!(v, vec![-1.0, 2.0]);
    // Saved and loaded with the constraints.
    let r = Study::load_json(&s.save_json()).unwrap();
    assert_eq!(r.best().unwrap().id, s.best().unwrap().id);
    assert_eq!(r.constraint_names(), s.constraint_names());
}

#[test]
fn constrained_tpe_moves_to_the_feasible_boundary() {
    // Minimise x on [0, 10]; with the constraint x >= 4 the optimum is the boundary.
    let run = |constrained_run: bool| {
        let mut s = constrained(r#"{"type": "tpe"}"#);
        let mut far_below = 0;
        for i in 0..80 {
            let t = s.ask().unwrap();
            let x = t.params["x"].as_f64().unwrap();
            if i >= 40 && x < 2.5 {
                far_below += 1;
            }
            let c = if constrained_run { 4.0 - x } else { -1.0 };
            s.tell_with(t.id, x, TrialState::Complete, &[c, 0.0])
                .unwrap();
        }
        (far_below, s.best().unwrap().value.unwrap())
    };
    let (free_below, free_best) = run(false);
    let (cons_below, cons_best) = run(true);
    assert!(
        free_below >= 25 && free_best < 0.5,
        "{free_below} {free_best}"
    );
    assert!(
        cons_below <= 6,
        "{cons_below} of 40 late trials far in the infeasible region"
    );
    assert!((4.0..4.5).contains(&cons_best), "{cons_best}");
}

#[test]
fn sobol_and_grid_samplers() {
    let mut s = Study::from_json(
        r#"{"space": {"params": [
            {"name": "x", "type": "float", "low": 0, "high": 1},
            {"name": "k", "type": "int", "low": 0, "high": 3}]},
            "sampler": {"type": "sobol"}, "seed": 2}"#,
    )
    .unwrap();
    let mut counts = [0; 4];
    let mut halves = [0; 2];
    for _ in 0..64 {
        let t = s.ask().unwrap();
        counts[t.params["k"].as_u64().unwrap() as usize] += 1;
        halves[usize::from(t.params["x"].as_f64().unwrap() >= 0.5)] += 1;
        s.tell(t.id, 0.0, TrialState::Complete).unwrap();
    }
    // A scrambled Sobol' net puts exactly equal shares in dyadic cells.
    assert_eq!(counts, [16; 4]);
    assert_eq!(halves, [32, 32]);
    // The drawn scramble seed is kept: a reload continues the same sequence.
    let mut r = Study::load_json(&s.save_json()).unwrap();
    assert_eq!(s.ask().unwrap(), r.ask().unwrap());

    let grid = r#"{"space": {"params": [
        {"name": "kind", "type": "categorical", "choices": ["quad", "abs"]},
        {"name": "x", "type": "float", "low": -5, "high": 5},
        {"name": "k", "type": "int", "low": 1, "high": 4, "condition": {"param": "kind", "in": ["abs"]}}]},
        "sampler": {"type": "grid", "grid": {"kind": ["quad", "abs"], "x": [-1, 0, 1], "k": [1, 2]}},
        "seed": 3}"#;
    let mut g = Study::from_json(grid).unwrap();
    // 3 points with kind=quad (k inactive) + 6 with kind=abs.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..9 {
        let t = g.ask().unwrap();
        assert!(
            seen.insert(Value::Object(t.params.clone()).to_string()),
            "{:?}",
            t.params
        );
    }
    assert_eq!(seen.len(), 9);
    // Exhausted: asks go on, drawing grid points again.
    let again = g.ask().unwrap();
    assert!(seen.contains(&Value::Object(again.params).to_string()));
    for (bad, needle) in [
        (
            r#"{"kind": ["quad"], "x": [0]}"#,
            "param \"k\": grid sampler: has no grid values",
        ),
        (
            r#"{"kind": ["quad"], "x": [0, 9], "k": [1]}"#,
            "param \"x\": 9",
        ),
        (r#"{"kind": ["quad"], "x": [], "k": [1]}"#, "empty"),
        (
            r#"{"kind": ["quad"], "x": [0], "k": [1], "y": [1]}"#,
            "param \"y\"",
        ),
        (
            r#"{"kind": ["quad"], "x": [0, 0], "k": [1]}"#,
            "listed twice",
        ),
    ] {
        let cfg = grid.replace(
            r#"{"kind": ["quad", "abs"], "x": [-1, 0, 1], "k": [1, 2]}"#,
            bad,
        );
        let e = Study::from_json(&cfg).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
}

#[test]
fn enqueue_and_add_trial_check_their_parameters() {
    let mut s = study("minimize", 3);
    s.enqueue(&params(json!({"kind": "abs", "x": 1.0, "k": 2})))
        .unwrap();
    let a = s.ask().unwrap();
    assert_eq!(
        Value::Object(a.params.clone()),
        json!({"kind": "abs", "x": 1.0, "k": 2})
    );
    let id = s
        .add_trial(
            &params(json!({"kind": "quad", "x": 0.5})),
            0.25,
            TrialState::Complete,
        )
        .unwrap();
    assert_eq!(id, 1);
    for (p, needle) in [
        (
            json!({"kind": "quad", "x": 9.0}),
            "param \"x\": 9.0 is outside",
        ),
        (json!({"kind": "quad"}), "param \"x\": missing"),
        (
            json!({"kind": "quad", "x": 0.0, "k": 1}),
            "param \"k\": given, but inactive",
        ),
        (json!({"kind": "abs", "x": 0.0}), "param \"k\": missing"),
        (json!({"kind": "cube", "x": 0.0}), "not one of the choices"),
        (
            json!({"kind": "quad", "x": 0.0, "y": 1}),
            "param \"y\": not in the space",
        ),
    ] {
        let e = s.enqueue(&params(p.clone())).unwrap_err();
        assert!(e.to_string().contains(needle), "{p}: {e}");
    }
    assert!(s
        .add_trial(
            &params(json!({"kind": "quad", "x": 0.0})),
            f64::INFINITY,
            TrialState::Complete
        )
        .is_err());
    assert_eq!(s.trials().len(), 2);
}

#[test]
fn save_and_load_continue_the_same_proposals() {
    let mut a = study("minimize", 4);
    for _ in 0..10 {
        let t = a.ask().unwrap();
        a.tell(t.id, objective(&t.params), TrialState::Complete)
            .unwrap();
    }
    let pending = a.ask().unwrap();
    a.enqueue(&params(json!({"kind": "quad", "x": 2.0})))
        .unwrap();
    let mut b = Study::load_json(&a.save_json()).unwrap();
    assert_eq!(b.save_json(), a.save_json());
    b.tell(pending.id, 3.0, TrialState::Complete).unwrap();
    a.tell(pending.id, 3.0, TrialState::Complete).unwrap();
    for _ in 0..20 {
        assert_eq!(a.ask().unwrap(), b.ask().unwrap());
    }
}

#[test]
fn corrupt_saves_are_refused() {
    let mut s = study("minimize", 5);
    let t = s.ask().unwrap();
    s.tell(t.id, 1.5, TrialState::Complete).unwrap();
    let good = s.save_json();
    for (bad, kind) in [
        (good[..good.len() / 2].to_string(), ErrorKind::CorruptState),
        (
            good.replacen("\"version\":1", "\"version\":7", 1),
            ErrorKind::UnsupportedVersion,
        ),
        (
            good.replacen("\"value\":1.5", "\"value\":null", 1),
            ErrorKind::CorruptState,
        ),
        (
            good.replacen("\"id\":0", "\"id\":3", 1),
            ErrorKind::CorruptState,
        ),
        (
            good.replacen("\"high\":5", "\"high\":-9", 1),
            ErrorKind::CorruptState,
        ),
    ] {
        let e = Study::load_json(&bad).unwrap_err();
        assert_eq!(e.kind(), kind, "{bad}: {e}");
    }
}

#[test]
fn bad_configs_are_named() {
    for (json, kind, needle) in [
        ("{", ErrorKind::InvalidJson, "study config"),
        (
            r#"{"space": {"params": []}}"#,
            ErrorKind::InvalidConfig,
            "no parameters",
        ),
        (
            r#"{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}, "direction": "up"}"#,
            ErrorKind::InvalidJson,
            "unknown variant",
        ),
        (
            r#"{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}, "sampler": {"type": "magic"}}"#,
            ErrorKind::InvalidJson,
            "unknown variant",
        ),
    ] {
        let e = Study::from_json(json).unwrap_err();
        assert_eq!(e.kind(), kind, "{json}: {e}");
        assert!(e.to_string().contains(needle), "{json}: {e}");
    }
}

/// A study of two objectives over x in [0, 2]: quality x (maximise) and cost x^2
/// (minimise), so every trial is on the front unless another has the same x.
fn two_objectives(extra: &str) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {{"params": [{{"name": "x", "type": "float", "low": 0, "high": 2}}]}},
            "directions": ["maximize", "minimize"], "seed": 5{extra}}}"#
    ))
    .unwrap()
}

#[test]
fn several_objectives_are_told_as_vectors_and_best_is_the_pareto_front() {
    let mut s = two_objectives("");
    assert_eq!(s.directions(), [Direction::Maximize, Direction::Minimize]);
    let mut told = Vec::new();
    for _ in 0..6 {
        let a = s.ask().unwrap();
        let x = a.params["x"].as_f64().unwrap();
        s.tell_values(a.id, &[x, x * x], TrialState::Complete, &[])
            .unwrap();
        told.push(x);
    }
    // A dominated trial: worse quality, higher cost than trial 0.
    let x0 = told[0];
    let id = s
        .add_trial_values(
            &params(json!({"x": x0 / 2.0})),
            &[x0 / 2.0 - 1.0, x0 * x0 + 1.0],
            TrialState::Complete,
            &[],
        )
        .unwrap();
    let front: Vec<u64> = s.best_trials().iter().map(|t| t.id).collect();
    assert_eq!(front, (0..6).collect::<Vec<u64>>());
    assert!(!front.contains(&id));
    assert!(s.best().is_none());
    let best: Value = serde_json::from_str(&s.best_json().unwrap()).unwrap();
    let arr = best.as_array().unwrap();
    assert_eq!(arr.len(), 6);
    assert_eq!(arr[0]["values"], json!([told[0], told[0] * told[0]]));
    assert!(arr[0].get("value").is_none());
    // Wrong counts are refused and change nothing; NaN records a failure.
    let a = s.ask().unwrap();
    let e = s.tell(a.id, 1.0, TrialState::Complete).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("2 objectives"), "{e}");
    let e = s
        .tell_values(a.id, &[1.0, 2.0, 3.0], TrialState::Complete, &[])
        .unwrap_err();
    assert!(e.to_string().contains("3 values told"), "{e}");
    assert_eq!(s.trials()[a.id as usize].state, TrialState::Running);
    assert_eq!(
        s.tell_values(a.id, &[1.0, f64::NAN], TrialState::Complete, &[])
            .unwrap(),
        TrialState::Failed
    );
    assert!(s.trials()[a.id as usize].values.is_empty());
    // Failed and pruned trials need no values.
    let b = s.ask().unwrap();
    s.tell_values(b.id, &[], TrialState::Pruned, &[]).unwrap();
    // Pruning and importance need one objective.
    let c = s.ask().unwrap();
    let e = s.report(c.id, 1, 0.5).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    assert_eq!(s.importance().unwrap_err().kind(), ErrorKind::InvalidState);
    // The whole study survives a save and load, values included.
    let loaded = Study::load_json(&s.save_json()).unwrap();
    assert_eq!(loaded.trials(), s.trials());
    assert_eq!(loaded.directions(), s.directions());
    let e = s
        .add_trial_values(
            &params(json!({"x": 1.0})),
            &[1.0, f64::INFINITY],
            TrialState::Complete,
            &[],
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn objective_configs_are_checked() {
    let bad = |json: &str| Study::from_json(json).unwrap_err();
    let space = r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}"#;
    let e = bad(&format!(
        r#"{{"space": {space}, "direction": "minimize", "directions": ["minimize", "maximize"]}}"#
    ));
    assert!(e.to_string().contains("either"), "{e}");
    let e = bad(&format!(r#"{{"space": {space}, "directions": []}}"#));
    assert!(e.to_string().contains("at least one"), "{e}");
    for sampler in ["cmaes", "gp"] {
        let e = bad(&format!(
            r#"{{"space": {space}, "directions": ["minimize", "maximize"], "sampler": {{"type": "{sampler}"}}}}"#
        ));
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.to_string().contains("one objective"), "{e}");
    }
    let e = bad(&format!(
        r#"{{"space": {space}, "directions": ["minimize", "maximize"], "sampler": {{"type": "tpe", "window": 100}}}}"#
    ));
    assert!(e.to_string().contains("sampler.window"), "{e}");
    let e = bad(&format!(
        r#"{{"space": {space}, "directions": ["minimize", "maximize"], "pruner": {{"type": "median"}}}}"#
    ));
    assert!(e.to_string().contains("pruner"), "{e}");
    // One direction in "directions" is a single-objective study.
    let mut s = Study::from_json(&format!(
        r#"{{"space": {space}, "directions": ["maximize"], "seed": 1}}"#
    ))
    .unwrap();
    let a = s.ask().unwrap();
    s.tell(a.id, 0.5, TrialState::Complete).unwrap();
    assert_eq!(s.best().unwrap().value, Some(0.5));
}

fn pruned_study(storage: &str) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {{"params": [{{"name": "x", "type": "float", "low": 0, "high": 1}}]}},
            "pruner": {{"type": "median", "n_startup_trials": 2}}, "seed": 3{storage}}}"#
    ))
    .unwrap()
}

/// Runs a trial that reports `curve(step)` for steps 0..10 and asks the pruner after each
/// report; returns whether it was pruned.
fn run_trial(s: &mut Study, curve: impl Fn(u64) -> f64) -> bool {
    let a = s.ask().unwrap();
    for step in 0..10 {
        s.report(a.id, step, curve(step)).unwrap();
        if s.should_prune(a.id).unwrap() {
            s.tell(a.id, f64::NAN, TrialState::Pruned).unwrap();
            return true;
        }
    }
    s.tell(a.id, curve(9), TrialState::Complete).unwrap();
    false
}

#[test]
fn reports_drive_the_pruner_and_bad_reports_change_nothing() {
    let mut s = pruned_study("");
    // Two good trials complete (no pruning before n_startup_trials = 2).
    assert!(!run_trial(&mut s, |t| 1.0 / (t + 1) as f64));
    assert!(!run_trial(&mut s, |t| 0.8 / (t + 1) as f64));
    // A trial far worse than the median at step 0 is pruned at once.
    assert!(run_trial(&mut s, |_| 5.0));
    assert_eq!(s.trials()[2].intermediate, vec![(0, 5.0)]);
    assert_eq!(s.trials()[2].state, TrialState::Pruned);
    // A good one runs to the end.
    assert!(!run_trial(&mut s, |t| 0.5 / (t + 1) as f64));
    assert_eq!(s.trials()[3].intermediate.len(), 10);

    let a = s.ask().unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        let e = s.report(a.id, 0, bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
    let e = s.report(a.id, 1 << 31, 0.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(s.trials()[a.id as usize].intermediate.is_empty());
    // A step reported twice keeps its first value.
    s.report(a.id, 0, 0.1).unwrap();
    s.report(a.id, 0, 0.9).unwrap();
    assert_eq!(s.trials()[a.id as usize].intermediate, vec![(0, 0.1)]);
    // After the tell: reports and questions are refused.
    s.tell(a.id, 0.1, TrialState::Complete).unwrap();
    assert_eq!(
        s.report(a.id, 1, 0.1).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        s.should_prune(a.id).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(s.should_prune(999).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        s.report(999, 0, 1.0).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Reports are saved and loaded.
    let loaded = Study::load_json(&s.save_json()).unwrap();
    assert_eq!(loaded.trials(), s.trials());
    let t: Value = serde_json::from_str(&s.trials_json().unwrap()).unwrap();
    assert_eq!(t[2]["intermediate"], json!([[0, 5.0]]));
}

#[test]
fn reports_and_vectors_are_shared_through_a_journal() {
    let dir = std::env::temp_dir().join(format!("gaia-prune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("study.journal");
    let storage = format!(r#", "storage": "journal:{}""#, path.display());
    let mut a = pruned_study(&storage);
    let mut b = pruned_study(&storage);
    assert!(!run_trial(&mut a, |t| 1.0 / (t + 1) as f64));
    assert!(!run_trial(&mut b, |t| 0.8 / (t + 1) as f64));
    // b's pruner sees a's reports.
    let t = a.ask().unwrap();
    a.report(t.id, 0, 5.0).unwrap();
    assert!(b.should_prune(t.id).unwrap());
    drop((a, b));
    let reopened = pruned_study(&storage);
    assert_eq!(reopened.trials()[2].intermediate, vec![(0, 5.0)]);
    assert_eq!(reopened.trials()[0].intermediate.len(), 10);

    let path2 = dir.join("multi.journal");
    let mo = |seed: u64| {
        Study::from_json(&format!(
            r#"{{"space": {{"params": [{{"name": "x", "type": "float", "low": 0, "high": 2}}]}},
                "directions": ["maximize", "minimize"], "seed": {seed},
                "storage": "journal:{}"}}"#,
            path2.display()
        ))
        .unwrap()
    };
    let mut m = mo(1);
    let q = m.ask().unwrap();
    m.tell_values(q.id, &[1.0, 2.0], TrialState::Complete, &[])
        .unwrap();
    drop(m);
    let mut again = mo(2);
    assert_eq!(again.trials()[0].values, vec![1.0, 2.0]);
    assert_eq!(again.directions().len(), 2);
    // A journal of two objectives refuses a single-objective configuration.
    let e = Study::from_json(&format!(
        r#"{{"direction": "maximize", "storage": "journal:{}"}}"#,
        path2.display()
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(again.best_json().unwrap().starts_with('['));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn directions_compare_minimise_and_order_best_first() {
    use std::cmp::Ordering;
    let (min, max) = (Direction::Minimize, Direction::Maximize);
    assert!(min.better(1.0, 2.0) && !min.better(2.0, 1.0) && !min.better(1.0, 1.0));
    assert!(max.better(2.0, 1.0) && !max.better(1.0, 2.0) && !max.better(1.0, 1.0));
    assert_eq!((min.minimized(3.5), max.minimized(3.5)), (3.5, -3.5));
    assert_eq!(min.best_first(1.0, 2.0), Ordering::Less);
    assert_eq!(max.best_first(1.0, 2.0), Ordering::Greater);
    let mut v = vec![2.0, f64::NAN, -1.0, 5.0];
    v.sort_by(|a, b| max.best_first(*a, *b));
    assert!(v[0].is_nan() && v[1..] == [5.0, 2.0, -1.0], "{v:?}");
}
