use super::*;
use crate::error::ErrorKind;
use serde_json::json;

const LLM: &str = r#"{"params": [
  {"name": "model", "type": "categorical", "choices": ["small", "large", 3, true]},
  {"name": "temperature", "type": "float", "low": 0.0, "high": 2.0},
  {"name": "top_p", "type": "float", "low": 0.01, "high": 1.0, "log": true},
  {"name": "penalty", "type": "float", "low": -1.0, "high": 1.0, "step": 0.25},
  {"name": "max_tokens", "type": "int", "low": 64, "high": 4096, "step": 64},
  {"name": "batch", "type": "int", "low": 1, "high": 1024, "log": true},
  {"name": "beams", "type": "int", "low": 1, "high": 8,
   "condition": {"param": "model", "in": ["large", 3]}}
]}"#;

#[test]
fn parses_every_kind_of_parameter() {
    let s = Space::from_json(LLM).unwrap();
    assert_eq!(s.params().len(), 7);
    assert_eq!(s.index("top_p"), Some(2));
    assert_eq!(
        s.params()[4].distribution,
        Distribution::Int {
            low: 64,
            high: 4096,
            log: false,
            step: 64
        }
    );
    assert_eq!(
        s.params()[6].condition,
        Some(Condition {
            parent: 0,
            values: vec![1, 2]
        })
    );
    let (lo, hi) = s.internal_bounds(2);
    assert!((lo - 0.01f64.ln()).abs() < 1e-12 && hi == 0.0);
}

#[test]
fn uniform_samples_map_back_into_range_and_onto_the_grid() {
    let s = Space::from_json(LLM).unwrap();
    let mut rng = Rng::seed_from_u64(1);
    let mut seen_choices = std::collections::HashSet::new();
    let mut small_batches = 0;
    for _ in 0..5000 {
        for i in 0..s.params().len() {
            let x = s.sample_uniform(i, &mut rng);
            let (lo, hi) = s.internal_bounds(i);
            assert!(x >= lo && x <= hi, "param {i}: {x} outside {lo}..{hi}");
            let v = s.to_external(i, x);
            assert_eq!(
                s.to_external(i, s.to_internal(i, &v).unwrap()),
                v,
                "param {i} round trip"
            );
            match i {
                0 => {
                    seen_choices.insert(v.to_string());
                }
                3 => {
                    let p = v.as_f64().unwrap();
                    assert!(
                        (p * 4.0 - (p * 4.0).round()).abs() < 1e-12,
                        "{p} off the 0.25 grid"
                    );
                }
                4 => assert_eq!(v.as_i64().unwrap() % 64, 0),
                5 => {
                    let b = v.as_i64().unwrap();
                    assert!((1..=1024).contains(&b));
                    small_batches += usize::from(b <= 32);
                }
                _ => {}
            }
        }
    }
    assert_eq!(seen_choices.len(), 4);
    // Log scale: half the mass below sqrt(1024) = 32.
    assert!(
        (2200..2800).contains(&small_batches),
        "{small_batches} of 5000 batches <= 32"
    );
}

#[test]
fn conditions_follow_the_parent() {
    let s = Space::from_json(LLM).unwrap();
    let mut assignment = vec![None; 7];
    assert!(
        !s.is_active(6, &assignment),
        "inactive while the parent is unset"
    );
    assignment[0] = Some(0.0); // "small"
    assert!(!s.is_active(6, &assignment));
    assignment[0] = Some(2.0); // 3
    assert!(s.is_active(6, &assignment));
    assert!(s.is_active(1, &assignment));
}

#[test]
fn bad_spaces_name_the_parameter() {
    let cases = [
        (
            r#"{"params": [{"name": "top_p", "type": "float", "low": 1.5, "high": 1.0}]}"#,
            r#"search space: param "top_p": low 1.5 > high 1.0"#,
        ),
        (
            r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1, "log": true}]}"#,
            "log scale needs low > 0",
        ),
        (
            r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1, "step": 0.3}]}"#,
            "step 0.3 does not divide the range",
        ),
        (
            r#"{"params": [{"name": "n", "type": "int", "low": 0, "high": 10, "step": 3}]}"#,
            "step 3 does not divide",
        ),
        (
            r#"{"params": [{"name": "n", "type": "int", "low": 0.5, "high": 10}]}"#,
            "\"low\" must be an integer",
        ),
        (
            r#"{"params": [{"name": "x", "type": "float", "low": 1, "high": 2, "log": true, "step": 0.5}]}"#,
            "cannot be combined",
        ),
        (
            r#"{"params": [{"name": "c", "type": "categorical", "choices": []}]}"#,
            r#"param "c": "choices" must not be empty"#,
        ),
        (
            r#"{"params": [{"name": "c", "type": "categorical", "choices": ["a", "a"]}]}"#,
            "appears twice",
        ),
        (
            r#"{"params": [{"name": "c", "type": "categorical", "choices": [null]}]}"#,
            "must be a string, number or boolean",
        ),
        (
            r#"{"params": [{"name": "c", "type": "categorical", "choices": ["a"], "low": 1}]}"#,
            "\"low\" applies only to float and int",
        ),
        (
            r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1},
                        {"name": "x", "type": "float", "low": 0, "high": 1}]}"#,
            r#"param "x": declared twice"#,
        ),
        (
            r#"{"params": [{"name": "b", "type": "int", "low": 1, "high": 2,
                         "condition": {"param": "m", "in": ["a"]}}]}"#,
            "parent \"m\" must be a parameter declared before",
        ),
        (
            r#"{"params": [{"name": "m", "type": "float", "low": 0, "high": 1},
                        {"name": "b", "type": "int", "low": 1, "high": 2,
                         "condition": {"param": "m", "in": [1]}}]}"#,
            "must be categorical",
        ),
        (
            r#"{"params": [{"name": "m", "type": "categorical", "choices": ["a"]},
                        {"name": "b", "type": "int", "low": 1, "high": 2,
                         "condition": {"param": "m", "in": ["z"]}}]}"#,
            "\"z\" is not a choice of \"m\"",
        ),
        (r#"{"params": []}"#, "the space has no parameters"),
    ];
    for (json, needle) in cases {
        let e = Space::from_json(json).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{json}: {e}");
        assert!(
            e.to_string().contains(needle),
            "{json}:\n  {e}\n  lacks {needle}"
        );
    }
    for json in [
        "{",
        r#"{"params": [{"name": "x", "type": "complex"}]}"#,
        r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1, "colour": 2}]}"#,
        r#"{"parameters": []}"#,
    ] {
        let e = Space::from_json(json).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidJson, "{json}: {e}");
        assert!(e.to_string().starts_with("search space: "), "{e}");
    }
}

#[test]
fn external_values_are_checked() {
    let s = Space::from_json(LLM).unwrap();
    assert_eq!(s.to_internal(0, &json!(3)).unwrap(), 2.0);
    assert!(s.to_internal(0, &json!("medium")).is_err());
    assert!(s.to_internal(1, &json!(2.5)).is_err());
    assert!(s.to_internal(1, &json!("hot")).is_err());
    assert!(s.to_internal(4, &json!(100)).is_err(), "off the 64 grid");
    assert_eq!(s.to_internal(4, &json!(128)).unwrap(), 128.0);
    let e = s.to_internal(1, &json!(9.0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"search space: param "temperature": 9.0 is outside 0.0..2.0"#
    );
}
