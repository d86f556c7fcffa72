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
            s.tell(a.id, f64::NAN, TrialState::Complete),
            ErrorKind::InvalidArgument,
            "not finite",
        ),
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
    s.tell(a.id, f64::NAN, TrialState::Failed).unwrap();
    assert_eq!(s.trials()[0].state, TrialState::Failed);
    assert_eq!(s.trials()[0].value, None);
    assert_eq!(s.best().unwrap().id, b.id);
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
