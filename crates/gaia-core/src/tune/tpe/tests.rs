use super::*;
use crate::tune::Study;

fn run(sampler: &str, seed: u64, trials: usize, f: impl Fn(&[f64]) -> f64, dims: usize) -> f64 {
    let params: Vec<String> = (0..dims)
        .map(|d| format!(r#"{{"name": "x{d}", "type": "float", "low": -5, "high": 5}}"#))
        .collect();
    let cfg = format!(
        r#"{{"space": {{"params": [{}]}}, "sampler": {sampler}, "seed": {seed}}}"#,
        params.join(",")
    );
    let mut s = Study::from_json(&cfg).unwrap();
    for _ in 0..trials {
        let a = s.ask().unwrap();
        let x: Vec<f64> = (0..dims)
            .map(|d| a.params[&format!("x{d}")].as_f64().unwrap())
            .collect();
        s.tell(a.id, f(&x), TrialState::Complete).unwrap();
    }
    s.best().unwrap().value.unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum()
}

#[test]
fn gamma_and_weights_follow_optuna() {
    assert_eq!(n_below(1), 1);
    assert_eq!(n_below(10), 1);
    assert_eq!(n_below(11), 2);
    assert_eq!(n_below(1000), 25);
    assert_eq!(observation_weights(3), vec![1.0; 3]);
    let w = observation_weights(30);
    assert_eq!(w.len(), 30);
    assert!((w[0] - 1.0 / 30.0).abs() < 1e-12 && w[4] == 1.0 && w[29] == 1.0);
    assert!(w[0] < w[1] && w[1] < w[2]);
}

#[test]
fn tpe_beats_random_on_a_5d_sphere() {
    let seeds = 0..7;
    let tpe = median(
        seeds
            .clone()
            .map(|s| run(r#"{"type": "tpe"}"#, s, 100, sphere, 5))
            .collect(),
    );
    let rnd = median(
        seeds
            .map(|s| run(r#"{"type": "random"}"#, s, 100, sphere, 5))
            .collect(),
    );
    assert!(tpe < 0.5 * rnd, "median best: tpe {tpe}, random {rnd}");
    let uni = median(
        (0..7)
            .map(|s| {
                run(
                    r#"{"type": "tpe", "multivariate": false}"#,
                    s,
                    100,
                    sphere,
                    5,
                )
            })
            .collect(),
    );
    assert!(
        uni < 0.5 * rnd,
        "median best: univariate tpe {uni}, random {rnd}"
    );
}

#[test]
fn tpe_handles_categorical_int_and_conditional_parameters() {
    let cfg = r#"{"space": {"params": [
        {"name": "kind", "type": "categorical", "choices": ["bad", "good", "ugly"]},
        {"name": "n", "type": "int", "low": 1, "high": 64, "log": true},
        {"name": "x", "type": "float", "low": 0, "high": 1, "step": 0.05},
        {"name": "bonus", "type": "float", "low": 0, "high": 1,
         "condition": {"param": "kind", "in": ["good"]}}
      ]}, "direction": "maximize", "sampler": {"type": "tpe"}, "seed": 3}"#;
    let mut s = Study::from_json(cfg).unwrap();
    let mut good_late = 0;
    for round in 0..120 {
        let a = s.ask().unwrap();
        let p = &a.params;
        let mut v = -(p["x"].as_f64().unwrap() - 0.3).abs()
            - (p["n"].as_f64().unwrap().ln() - 2.0).abs() * 0.1;
        if p["kind"] == "good" {
            v += 1.0 + p["bonus"].as_f64().unwrap();
            if round >= 80 {
                good_late += 1;
            }
        }
        s.tell(a.id, v, TrialState::Complete).unwrap();
    }
    assert!(
        good_late >= 25,
        "TPE chose the good category {good_late}/40 times late"
    );
    let best = s.params_of(s.best().unwrap());
    assert_eq!(best["kind"], "good");
    assert!(best["bonus"].as_f64().unwrap() > 0.7, "{best:?}");
}

#[test]
fn constant_liar_spreads_parallel_asks() {
    let cfg = r#"{"space": {"params": [{"name": "x", "type": "float", "low": -5, "high": 5}]},
                 "sampler": {"type": "tpe"}, "seed": 4}"#;
    let mut s = Study::from_json(cfg).unwrap();
    for _ in 0..30 {
        let a = s.ask().unwrap();
        let x = a.params["x"].as_f64().unwrap();
        s.tell(a.id, (x - 1.0).powi(2), TrialState::Complete)
            .unwrap();
    }
    let batch: Vec<f64> = (0..8)
        .map(|_| s.ask().unwrap().params["x"].as_f64().unwrap())
        .collect();
    let distinct = batch
        .iter()
        .filter(|x| batch.iter().filter(|y| (*x - *y).abs() < 1e-9).count() == 1)
        .count();
    assert_eq!(distinct, 8, "{batch:?}");
}

#[test]
fn bad_tpe_settings_are_named() {
    let e = Study::from_json(
        r#"{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
        "sampler": {"type": "tpe", "n_ei_candidates": 0}}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("sampler: n_ei_candidates must be >= 1"),
        "{e}"
    );
    let e = Study::from_json(
        r#"{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
        "sampler": {"type": "tpe", "gamma": 2}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown field `gamma`"), "{e}");
}

fn trial(id: u64, x: f64, value: Option<f64>) -> Trial {
    Trial {
        id,
        state: if value.is_some() {
            TrialState::Complete
        } else {
            TrialState::Running
        },
        internal: vec![Some(x)],
        value,
        constraints: Vec::new(),
        values: Vec::new(),
        intermediate: Vec::new(),
    }
}

#[test]
fn bounded_mode_keeps_the_all_time_best_incrementally() {
    let space =
        Space::from_json(r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}"#)
            .unwrap();
    let cfg = TpeConfig {
        window: Some(40),
        ..TpeConfig::default()
    };
    let mut sampler = TpeSampler::new(cfg);
    let mut rng = Rng::seed_from_u64(1);
    let mut trials: Vec<Trial> = Vec::new();
    let k = n_below(40);
    let mut late = None;
    for i in 0..300u64 {
        // Values in a scrambled order so the best are spread over the whole history.
        let v = ((i * 7919) % 300) as f64;
        if i == 120 {
            // Still running for a long while, then the best of all.
            trials.push(trial(i, 0.5, None));
            late = Some(i as usize);
        } else {
            trials.push(trial(i, (v / 300.0).clamp(0.0, 1.0), Some(v)));
        }
        if i == 250 {
            let t = &mut trials[late.unwrap()];
            t.state = TrialState::Complete;
            t.value = Some(-1.0);
        }
        if i % 7 == 0 || i > 280 {
            let x = sampler.sample(&space, &trials, &[Direction::Minimize], &mut rng);
            assert!(x[0].is_some());
        }
    }
    let mut want: Vec<usize> = (0..trials.len())
        .filter(|&i| trials[i].value.is_some())
        .collect();
    want.sort_by(|a, b| {
        trials[*a]
            .value
            .unwrap()
            .total_cmp(&trials[*b].value.unwrap())
    });
    want.truncate(k);
    assert_eq!(
        sampler.elite, want,
        "elite = the {k} best of all 300 trials"
    );
    assert_eq!(
        sampler.elite[0], 120,
        "the long-running trial joined when it finished"
    );
    assert!(sampler.pending.is_empty());
    assert_eq!(sampler.cursor, 300);
}

#[test]
fn bounded_mode_still_optimises() {
    let cfg = r#"{"type": "tpe", "window": 60}"#;
    let bounded = median((0..5).map(|s| run(cfg, s, 300, sphere, 5)).collect());
    let random = median(
        (0..5)
            .map(|s| run(r#"{"type": "random"}"#, s, 300, sphere, 5))
            .collect(),
    );
    assert!(
        bounded < random / 4.0,
        "bounded {bounded} vs random {random}"
    );
    let e = Study::from_json(
        r#"{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
            "sampler": {"type": "tpe", "window": 5}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("window must be >= 20"), "{e}");
}

/// A complete trial of a study with several objectives.
fn multi(id: u64, x: f64, values: &[f64], constraints: &[f64]) -> Trial {
    let mut t = Trial::running(id, vec![Some(x)]);
    t.state = TrialState::Complete;
    t.values = values.to_vec();
    t.constraints = constraints.to_vec();
    t
}

const TWO: [Direction; 2] = [Direction::Minimize, Direction::Minimize];

#[test]
fn multi_objective_gamma_has_no_cap() {
    assert_eq!(n_below_multi(1), 1);
    assert_eq!(n_below_multi(10), 1);
    assert_eq!(n_below_multi(11), 2);
    assert_eq!(n_below_multi(1000), 100);
}

#[test]
fn fronts_split_whole_then_by_hypervolume_subset() {
    // Front 0: A, B, C; D is dominated. The tie-break's reference point comes from the
    // front's worst values (3, 3): (3.3, 3.3); boxes A 0.69, B 2.34, C 0.69, so B first,
    // then A adds 0.3 against C's 0.15.
    let p: Vec<Vec<f64>> = vec![
        vec![1.0, 3.0],
        vec![2.0, 1.5],
        vec![3.0, 1.0],
        vec![4.0, 4.0],
    ];
    assert_eq!(split_fronts(&p, 4), vec![0, 1, 2, 3]);
    assert_eq!(split_fronts(&p, 3), vec![0, 1, 2]);
    assert_eq!(split_fronts(&p, 2), vec![0, 1]);
    assert_eq!(split_fronts(&p, 1), vec![1]);
    assert!(split_fronts(&p, 0).is_empty());
}

#[test]
fn good_kernels_are_weighted_by_hypervolume_contribution() {
    // Reference point from the worst values (4, 4): (4.4, 4.4). Exclusive boxes: A 1 x 1.4,
    // B 1 x 1.5, C 1.4 x 0.5; D is dominated.
    let p: Vec<Vec<f64>> = vec![
        vec![1.0, 3.0],
        vec![2.0, 1.5],
        vec![3.0, 1.0],
        vec![4.0, 4.0],
    ];
    let w = hypervolume_weights(&p);
    let want = [1.4 / 1.5, 1.0, 0.7 / 1.5, pareto::EPS];
    assert!(
        w.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{w:?}"
    );
    assert_eq!(hypervolume_weights(&p[..1]), vec![1.0]);
    // The good model uses the weights as given (plus the prior), not the age ramp.
    let space =
        Space::from_json(r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}"#)
            .unwrap();
    let cols = vec![vec![0.2, 0.8]];
    let gaps = vec![vec![0.1, 0.1]];
    let cfg = TpeConfig::default();
    let parzen = Parzen::new(
        &space,
        &[0],
        cols,
        gaps,
        &cfg,
        Some(vec![1.0, 0.5]),
        &mut Pool::default(),
    );
    let want = [0.4, 0.2, 0.4];
    assert!(parzen
        .weights
        .iter()
        .zip(want)
        .all(|(a, b)| (a - b).abs() < 1e-12));
}

#[test]
fn multi_objective_split_puts_feasible_fronts_first() {
    let cfg = TpeConfig {
        n_startup_trials: 3,
        ..TpeConfig::default()
    };
    // 19 complete and 1 pruned: gamma(20) = 2 good trials. The only feasible ones are 3
    // (dominated by 5) and 5; 0 (infeasible, violation 0.1) would otherwise dominate all.
    let mut trials: Vec<Trial> = (0..20)
        .map(|i| {
            let v = 2.0 + i as f64 / 10.0;
            multi(i, 0.5, &[v, v], &[1.0 + i as f64])
        })
        .collect();
    trials[0] = multi(0, 0.1, &[0.0, 0.0], &[0.1]);
    trials[3] = multi(3, 0.3, &[1.5, 1.5], &[-1.0]);
    trials[5] = multi(5, 0.5, &[1.0, 1.0], &[0.0]);
    trials[7].state = TrialState::Pruned;
    trials[7].values.clear();
    trials.push(Trial::running(20, vec![Some(0.9)]));
    let (below, above, weights) = split_multi(&trials, &TWO, &cfg).unwrap();
    assert_eq!(below, vec![3, 5]);
    assert_eq!(weights[5], 1.0);
    // Two points: the dominated one contributes nothing.
    assert_eq!(weights[3], pareto::EPS);
    let mut want: Vec<usize> = (0..21).filter(|i| *i != 3 && *i != 5).collect();
    assert_eq!(above, want);
    // Without the constant liar the running trial is left out.
    let no_liar = TpeConfig {
        constant_liar: false,
        ..cfg
    };
    want.pop();
    assert_eq!(split_multi(&trials, &TWO, &no_liar).unwrap().1, want);
    // With fewer feasible trials than gamma, infeasible ones fill in by violation.
    trials[3].constraints = vec![0.5];
    let (below, _, weights) = split_multi(&trials, &TWO, &cfg).unwrap();
    assert_eq!(below, vec![0, 5]);
    assert_eq!((weights[0], weights[5]), (pareto::EPS, 1.0));
    // Before n_startup_trials complete trials: no split (random sampling).
    assert!(split_multi(&trials[..2], &TWO, &cfg).is_none());
}

#[test]
fn multi_objective_tpe_ignores_the_window_and_samples() {
    let space =
        Space::from_json(r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}"#)
            .unwrap();
    let cfg = TpeConfig {
        window: Some(20),
        ..TpeConfig::default()
    };
    let mut sampler = TpeSampler::new(cfg);
    let mut rng = Rng::seed_from_u64(4);
    let trials: Vec<Trial> = (0..60)
        .map(|i| {
            let x = (i as f64 * 0.618).fract();
            multi(i, x, &[x, (1.0 - x).powi(2)], &[])
        })
        .collect();
    for _ in 0..5 {
        let x = sampler.sample(&space, &trials, &TWO, &mut rng)[0].unwrap();
        assert!((0.0..=1.0).contains(&x));
    }
    // The bounded mode's state stays untouched: every trial was modelled.
    assert!(sampler.elite.is_empty() && sampler.seen == 60);
}
