//! AB-MCTS-M's quadrature fit against PyMC: tests/vectors/mcts_m_pymc.json holds the
//! posterior-predictive means that PyMC's NUTS gives for treequest's model on fixed small
//! trees (computed once by bench/mcts/pymc_reference.py); Gaia's must be within 0.02.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use gaia_core::mcts::mixed::{Fit, MixedPrior};
use gaia_core::mcts::Stats;
use serde_json::Value;

#[test]
fn predictive_means_are_within_0_02_of_pymc() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/mcts_m_pymc.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(data["format"], "gaia.vectors.mcts_m");
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    let mut worst: f64 = 0.0;
    for case in cases {
        let groups: Vec<Stats> = case["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let mut s = Stats::default();
                g.as_array()
                    .unwrap()
                    .iter()
                    .for_each(|y| s.observe(y.as_f64().unwrap()));
                s
            })
            .collect();
        let fit = Fit::new(&groups, &MixedPrior::default());
        for (j, want) in case["means"].as_array().unwrap().iter().enumerate() {
            let (got, want) = (fit.predictive_mean(Some(j)), want.as_f64().unwrap());
            assert!(
                (got - want).abs() < 0.02,
                "{}: group {j}: {got} vs PyMC {want}",
                case["groups"]
            );
            worst = worst.max((got - want).abs());
        }
        let (got, want) = (fit.predictive_mean(None), case["new"].as_f64().unwrap());
        assert!(
            (got - want).abs() < 0.02,
            "{}: new group: {got} vs PyMC {want}",
            case["groups"]
        );
        worst = worst.max((got - want).abs());
    }
    eprintln!("largest difference from PyMC: {worst:.4}");
}
