use super::*;
use crate::tune::Study;

/// A box of `dims` floats `x0..` in `[low, high]`.
fn box_space(dims: usize, low: f64, high: f64) -> String {
    let params: Vec<String> = (0..dims)
        .map(|d| format!(r#"{{"name": "x{d}", "type": "float", "low": {low}, "high": {high}}}"#))
        .collect();
    format!(r#"{{"params": [{}]}}"#, params.join(","))
}

fn study(space: &str, sampler: &str, seed: u64) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {space}, "sampler": {sampler}, "seed": {seed}}}"#
    ))
    .unwrap()
}

/// Best value of `trials` sequential asks on a box of floats.
fn best_of(
    sampler: &str,
    seed: u64,
    trials: usize,
    dims: usize,
    (low, high): (f64, f64),
    f: fn(&[f64]) -> f64,
) -> f64 {
    let mut s = study(&box_space(dims, low, high), sampler, seed);
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

fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

/// A trial as the study would record it.
fn trial(id: usize, internal: Vec<Option<f64>>, state: TrialState, value: Option<f64>) -> Trial {
    Trial {
        id: id as u64,
        state,
        internal,
        value,
        constraints: Vec::new(),
        values: Vec::new(),
        intermediate: Vec::new(),
    }
}

/// Drives a sampler directly: `n` sequential asks told `f` of the internal values.
fn drive(
    sampler: &mut CmaesSampler,
    space: &Space,
    trials: &mut Vec<Trial>,
    rng: &mut Rng,
    n: usize,
    f: &dyn Fn(&[f64]) -> f64,
) {
    for _ in 0..n {
        let x = sampler.sample(space, trials, &[Direction::Minimize], rng);
        let v: Vec<f64> = x.iter().map(|v| v.unwrap_or(0.0)).collect();
        let value = f(&v);
        trials.push(trial(trials.len(), x, TrialState::Complete, Some(value)));
    }
}

fn sampler_for(config: &str, space: &Space) -> CmaesSampler {
    let cfg: CmaesConfig = serde_json::from_str(config).unwrap();
    cfg.validate().unwrap();
    CmaesSampler::new(cfg, space)
}

#[test]
fn defaults_follow_optuna() {
    let space = Space::from_json(&box_space(10, -5.0, 5.0)).unwrap();
    let s = sampler_for("{}", &space);
    assert_eq!(s.default_popsize(), 4 + (3.0 * 10f64.ln()).floor() as usize);
    assert_eq!(s.default_popsize(), 10);
    assert_eq!(s.n_startup(), 1);
    assert!((s.sigma0() - 1.0 / 6.0).abs() < 1e-15);
    assert!(!s.margin, "no discrete parameter: no margin");
    let cfg = CmaesConfig::default();
    assert_eq!(cfg.restart_strategy, RestartStrategy::None);
    assert_eq!(cfg.inc_popsize, 2);
    assert!(!cfg.warm_start);
    // Hansen's weights: positive ones sum to 1, negative ones after them.
    let run = Run::new(10, vec![0.5; 10], 0.2, None, vec![None; 10]);
    let positive: f64 = run.weights.iter().filter(|w| **w > 0.0).sum();
    assert!((positive - 1.0).abs() < 1e-12);
    assert_eq!(run.mu, 5);
    assert!(run.weights[..5].iter().all(|w| *w > 0.0));
    assert!(run.weights[5..].iter().all(|w| *w <= 0.0));
    assert!(run.weights.windows(2).all(|w| w[0] >= w[1]));
    assert!((run.mu_eff - 3.1672).abs() < 1e-3, "mu_eff {}", run.mu_eff);
}

#[test]
fn converges_on_a_10d_sphere_far_better_than_random() {
    let (cma, rnd): (Vec<f64>, Vec<f64>) = (0..5)
        .map(|seed| {
            (
                best_of(r#"{"type": "cmaes"}"#, seed, 800, 10, (-5.0, 5.0), sphere),
                best_of(r#"{"type": "random"}"#, seed, 800, 10, (-5.0, 5.0), sphere),
            )
        })
        .unzip();
    let (cma, rnd) = (median(cma), median(rnd));
    assert!(cma < 1e-3, "median best: cmaes {cma}, random {rnd}");
    assert!(cma * 1e3 < rnd, "median best: cmaes {cma}, random {rnd}");
}

#[test]
fn converges_on_rosenbrock_5_far_better_than_random() {
    let (cma, rnd): (Vec<f64>, Vec<f64>) = (0..5)
        .map(|seed| {
            (
                best_of(
                    r#"{"type": "cmaes"}"#,
                    seed,
                    2000,
                    5,
                    (-2.0, 2.0),
                    rosenbrock,
                ),
                best_of(
                    r#"{"type": "random"}"#,
                    seed,
                    2000,
                    5,
                    (-2.0, 2.0),
                    rosenbrock,
                ),
            )
        })
        .unzip();
    let (cma, rnd) = (median(cma), median(rnd));
    assert!(cma < 1e-3, "median best: cmaes {cma}, random {rnd}");
    assert!(cma * 1e3 < rnd, "median best: cmaes {cma}, random {rnd}");
}

#[test]
fn maximize_climbs() {
    let space = box_space(4, -5.0, 5.0);
    let mut s = Study::from_json(&format!(
        r#"{{"space": {space}, "direction": "maximize", "sampler": {{"type": "cmaes"}},
            "seed": 3}}"#
    ))
    .unwrap();
    for _ in 0..400 {
        let a = s.ask().unwrap();
        let x: Vec<f64> = (0..4)
            .map(|d| a.params[&format!("x{d}")].as_f64().unwrap())
            .collect();
        s.tell(a.id, -sphere(&x), TrialState::Complete).unwrap();
    }
    let best = s.best().unwrap().value.unwrap();
    assert!(best > -1e-3, "best {best}");
}

/// Two floats and an int in 0..=6; the int's best value is 2, and it matters little next to
/// the floats, so without the margin its distribution collapses as the floats converge.
/// Returns (best value, the int values of the last 200 trials).
fn mixed_int_run(margin: bool, seed: u64) -> (f64, Vec<i64>) {
    let space = r#"{"params": [
        {"name": "a", "type": "float", "low": -3, "high": 3},
        {"name": "n", "type": "int", "low": 0, "high": 6},
        {"name": "b", "type": "float", "low": -3, "high": 3}]}"#;
    let mut s = study(
        space,
        &format!(r#"{{"type": "cmaes", "with_margin": {margin}}}"#),
        seed,
    );
    let mut ints = Vec::new();
    for k in 0..900 {
        let t = s.ask().unwrap();
        let a = t.params["a"].as_f64().unwrap();
        let b = t.params["b"].as_f64().unwrap();
        let n = t.params["n"].as_i64().unwrap();
        assert!((0..=6).contains(&n));
        if k >= 700 {
            ints.push(n);
        }
        let value = 10.0 * (a * a + b * b) + 0.1 * ((n - 2) * (n - 2)) as f64;
        s.tell(t.id, value, TrialState::Complete).unwrap();
    }
    (s.best().unwrap().value.unwrap(), ints)
}

/// How many of `values` differ from their most common value.
fn off_mode(values: &[i64]) -> usize {
    let mut counts = std::collections::BTreeMap::new();
    for v in values {
        *counts.entry(*v).or_insert(0usize) += 1;
    }
    values.len() - counts.values().max().copied().unwrap_or(0)
}

#[test]
fn margin_keeps_integer_dimensions_exploring() {
    let space = Space::from_json(
        r#"{"params": [{"name": "n", "type": "int", "low": 0, "high": 6},
                       {"name": "x", "type": "float", "low": 0, "high": 1}]}"#,
    )
    .unwrap();
    assert!(
        sampler_for("{}", &space).margin,
        "on by default with an int"
    );
    assert!(!sampler_for(r#"{"with_margin": false}"#, &space).margin);
    let mut with_total = 0;
    let mut without_total = 0;
    for seed in 0..4 {
        let (best, with) = mixed_int_run(true, seed);
        assert!(best < 1e-3, "seed {seed}: best {best}");
        let explored = off_mode(&with);
        // The margin keeps >= 1/(n popsize) = 1/21 of the mass off the mode: ~10 of 200.
        assert!(explored >= 3, "seed {seed}: {explored} of 200 off the mode");
        with_total += explored;
        // Without the margin the int collapses onto the value it has when the floats
        // converge (not always the best one).
        without_total += off_mode(&mixed_int_run(false, seed).1);
    }
    assert!(
        with_total > 4 * without_total.max(1),
        "off the mode: with margin {with_total}, without {without_total}"
    );
}

#[test]
fn discrete_cells_round_trip_and_report_the_sampled_value() {
    let space = Space::from_json(
        r#"{"params": [{"name": "n", "type": "int", "low": -2, "high": 7, "step": 3},
                       {"name": "s", "type": "float", "low": 0, "high": 1, "step": 0.25},
                       {"name": "l", "type": "float", "low": 0.001, "high": 10, "log": true}]}"#,
    )
    .unwrap();
    let sampler = sampler_for("{}", &space);
    assert_eq!(sampler.dims.len(), 3);
    let n = sampler.dims[0];
    assert_eq!(n.grid.unwrap().count, 4);
    for k in 0..=1000 {
        let u = k as f64 / 1000.0;
        for (d, dim) in sampler.dims.iter().enumerate() {
            let v = dim.internal_at(u);
            let back = dim.unit_of_internal(v);
            assert!((back - u).abs() < 1e-6, "dim {d}: u {u} -> {v} -> {back}");
            // The reported value is the grid value of u's cell.
            if let Some(g) = dim.grid {
                let cell = ((u * g.count as f64).floor() as usize).min(g.count - 1);
                let want = g.first + cell as f64 * g.step;
                let got = space.to_external(dim.param, v).as_f64().unwrap();
                assert!((got - want).abs() < 1e-9, "dim {d}: u {u}: {got} != {want}");
            }
        }
    }
    // Values on the grid (enqueued, added) map inside their cell.
    assert!((n.unit_of_internal(-2.0) - 0.0).abs() < 1e-6);
    assert!((n.unit_of_internal(1.0) - 0.375).abs() < 1e-6);
    assert!((n.unit_of_internal(7.0) - 1.0).abs() < 1e-6);
}

#[test]
fn ipop_restarts_with_a_larger_population_after_convergence() {
    let space = Space::from_json(&box_space(2, -5.0, 5.0)).unwrap();
    for (strategy, flat) in [("ipop", true), ("ipop", false), ("none", false)] {
        let mut s = sampler_for(&format!(r#"{{"restart_strategy": "{strategy}"}}"#), &space);
        let mut trials = Vec::new();
        let mut rng = Rng::seed_from_u64(5);
        let f: &dyn Fn(&[f64]) -> f64 = if flat { &|_| 1.0 } else { &sphere };
        drive(&mut s, &space, &mut trials, &mut rng, 2500, f);
        s.sample(&space, &trials, &[Direction::Minimize], &mut rng);
        let lambda = s.run.as_ref().unwrap().lambda;
        if strategy == "ipop" {
            assert!(s.restarts >= 1, "flat {flat}: no restart");
            assert_eq!(lambda, 6 << s.restarts, "flat {flat}");
        } else {
            assert_eq!((s.restarts, lambda), (0, 6));
            let sigma = s.run.as_ref().unwrap().sigma;
            assert!(sigma < 1e-6, "sphere converged: sigma {sigma}");
        }
    }
}

#[test]
fn warm_start_begins_near_the_best_added_trials() {
    let space = box_space(3, 0.0, 10.0);
    let target = [7.0, 2.0, 8.5];
    let dist = |x: &[f64]| -> f64 {
        x.iter()
            .zip(&target)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    for warm in [true, false] {
        let sampler = if warm {
            r#"{"type": "cmaes", "warm_start": true, "n_startup_trials": 60}"#
        } else {
            r#"{"type": "cmaes", "n_startup_trials": 60}"#
        };
        let mut s = study(&space, sampler, 9);
        // History from elsewhere: a grid of points scored by their distance to the target.
        let mut rng = Rng::seed_from_u64(1);
        for _ in 0..60 {
            let x: Vec<f64> = (0..3).map(|_| 10.0 * rng.next_f64()).collect();
            let params = Study::parse_params(&format!(
                r#"{{"x0": {}, "x1": {}, "x2": {}}}"#,
                x[0], x[1], x[2]
            ))
            .unwrap();
            s.add_trial(&params, dist(&x), TrialState::Complete)
                .unwrap();
        }
        let best_added = s.best().unwrap().value.unwrap();
        let mut far = 0.0;
        for _ in 0..6 {
            let a = s.ask().unwrap();
            let x: Vec<f64> = (0..3)
                .map(|d| a.params[&format!("x{d}")].as_f64().unwrap())
                .collect();
            far += dist(&x) / 6.0;
            s.tell(a.id, dist(&x), TrialState::Complete).unwrap();
        }
        if warm {
            assert!(
                far < best_added + 1.0,
                "first asks {far} from the target, best added {best_added}"
            );
        } else {
            // From the centre (5, 5, 5), 5 away, with sigma 10/6 in each coordinate.
            assert!(far > 4.5, "cold start {far} from the target");
        }
    }
}

#[test]
fn warm_start_estimate_follows_ws_cmaes() {
    // Ten sources: the best one alone is used (floor(0.1 * 10) = 1).
    let mut source: Vec<Solution> = (0..10)
        .map(|k| Solution {
            x: vec![k as f64 / 10.0, 0.5],
            key: Key {
                violation: 0.0,
                value: (k as f64 - 3.0).abs(),
            },
            id: k,
        })
        .collect();
    let (mean, sigma, cov) = warm_start(&mut source, 2).unwrap();
    assert_eq!(mean, vec![0.3, 0.5]);
    // Sigma = alpha^2 I: sigma alpha, covariance the identity.
    assert!((sigma - 0.1).abs() < 1e-12);
    for (c, want) in cov.iter().zip([1.0, 0.0, 0.0, 1.0]) {
        assert!((c - want).abs() < 1e-12);
    }
}

#[test]
fn incremental_state_equals_state_rebuilt_from_the_trials() {
    let space = Space::from_json(
        r#"{"params": [{"name": "c", "type": "categorical", "choices": ["a", "b"]},
                       {"name": "x", "type": "float", "low": -5, "high": 5},
                       {"name": "n", "type": "int", "low": 1, "high": 9},
                       {"name": "y", "type": "float", "low": 0.01, "high": 100, "log": true},
                       {"name": "z", "type": "float", "low": -1, "high": 1,
                        "condition": {"param": "c", "in": ["b"]}}]}"#,
    )
    .unwrap();
    let cfg = r#"{"restart_strategy": "ipop", "popsize": 5}"#;
    let mut live = sampler_for(cfg, &space);
    let mut trials = Vec::new();
    let mut rng = Rng::seed_from_u64(2);
    let f = |x: &[f64]| (x[1] - 1.0).powi(2) + (x[2] - 4.0).powi(2) + x[3].abs();
    drive(&mut live, &space, &mut trials, &mut rng, 400, &f);
    // Incremental (one ask per trial) and all at once give bit-identical distributions and
    // the same next proposal.
    let mut batch = sampler_for(cfg, &space);
    let (mut r1, mut r2) = (rng.clone(), rng.clone());
    let x = live.sample(&space, &trials, &[Direction::Minimize], &mut r1);
    let y = batch.sample(&space, &trials, &[Direction::Minimize], &mut r2);
    assert_eq!(x, y);
    let (p, q) = (live.run.as_ref().unwrap(), batch.run.as_ref().unwrap());
    assert!(p.generation > 20, "generation {}", p.generation);
    assert_eq!(
        (&p.mean, p.sigma, &p.cov, &p.a, p.generation, p.lambda),
        (&q.mean, q.sigma, &q.cov, &q.a, q.generation, q.lambda)
    );
    assert_eq!(live.restarts, batch.restarts);
}

#[test]
fn save_and_load_give_the_same_next_ask() {
    let space = r#"{"params": [{"name": "c", "type": "categorical", "choices": ["a", "b"]},
                               {"name": "x", "type": "float", "low": -5, "high": 5},
                               {"name": "n", "type": "int", "low": 1, "high": 9},
                               {"name": "y", "type": "float", "low": 0, "high": 1, "step": 0.1}]}"#;
    let mut s = study(space, r#"{"type": "cmaes", "restart_strategy": "ipop"}"#, 4);
    for k in 0..137 {
        let a = s.ask().unwrap();
        let x = a.params["x"].as_f64().unwrap();
        let n = a.params["n"].as_i64().unwrap() as f64;
        let state = match k % 17 {
            3 => TrialState::Failed,
            5 => TrialState::Pruned,
            _ => TrialState::Complete,
        };
        s.tell(a.id, (x - 1.0).powi(2) + (n - 3.0).powi(2), state)
            .unwrap();
    }
    // Leave one trial running across the save.
    let pending = s.ask().unwrap();
    let saved = s.save_json();
    let mut restored = Study::load_json(&saved).unwrap();
    for _ in 0..3 {
        assert_eq!(s.ask().unwrap(), restored.ask().unwrap());
    }
    s.tell(pending.id, 0.5, TrialState::Complete).unwrap();
    restored
        .tell(pending.id, 0.5, TrialState::Complete)
        .unwrap();
    for _ in 0..20 {
        let (a, b) = (s.ask().unwrap(), restored.ask().unwrap());
        assert_eq!(a, b);
        s.tell(a.id, 1.0, TrialState::Complete).unwrap();
        restored.tell(b.id, 1.0, TrialState::Complete).unwrap();
    }
}

#[test]
fn a_running_trial_delays_updates_and_failed_trials_are_skipped() {
    let space = Space::from_json(&box_space(2, -5.0, 5.0)).unwrap();
    let mut s = sampler_for(r#"{"popsize": 4}"#, &space);
    let mut rng = Rng::seed_from_u64(8);
    let mut trials = Vec::new();
    let point = |s: &mut CmaesSampler, trials: &Vec<Trial>, rng: &mut Rng| {
        s.sample(&space, trials, &[Direction::Minimize], rng)
    };
    // Start-up trial, then a running one, then eight complete ones.
    let x = point(&mut s, &trials, &mut rng);
    trials.push(trial(0, x, TrialState::Complete, Some(3.0)));
    let x = point(&mut s, &trials, &mut rng);
    trials.push(trial(1, x, TrialState::Running, None));
    for k in 2..10 {
        let x = point(&mut s, &trials, &mut rng);
        trials.push(trial(k, x, TrialState::Complete, Some(k as f64)));
    }
    point(&mut s, &trials, &mut rng);
    assert_eq!(s.run.as_ref().unwrap().generation, 0, "blocked by trial 1");
    assert_eq!(s.cursor, 1);
    // Trial 1 fails: it is skipped, and the eight trials after it make two generations.
    trials[1].state = TrialState::Failed;
    point(&mut s, &trials, &mut rng);
    assert_eq!(s.run.as_ref().unwrap().generation, 2);
    assert_eq!(s.cursor, 10);
    // Pruned trials and complete ones with a missing modelled value are skipped too.
    let x = point(&mut s, &trials, &mut rng);
    trials.push(trial(10, x.clone(), TrialState::Pruned, None));
    trials.push(trial(11, vec![None, x[1]], TrialState::Complete, Some(1.0)));
    for k in 12..15 {
        trials.push(trial(k, x.clone(), TrialState::Complete, Some(1.0)));
    }
    point(&mut s, &trials, &mut rng);
    assert_eq!(s.run.as_ref().unwrap().generation, 2);
    assert_eq!(s.generation.len(), 3);
}

#[test]
fn spaces_without_numeric_parameters_are_random_search() {
    let space = r#"{"params": [
        {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]},
        {"name": "k", "type": "int", "low": 4, "high": 4},
        {"name": "x", "type": "float", "low": 0, "high": 1,
         "condition": {"param": "c", "in": ["b"]}}]}"#;
    let mut s = study(space, r#"{"type": "cmaes"}"#, 1);
    let mut seen = std::collections::BTreeSet::new();
    let mut conditional = 0;
    for _ in 0..60 {
        let a = s.ask().unwrap();
        seen.insert(a.params["c"].as_str().unwrap().to_string());
        assert_eq!(a.params["k"].as_i64(), Some(4));
        if a.params["c"] == "b" {
            let x = a.params["x"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x));
            conditional += 1;
        } else {
            assert!(!a.params.contains_key("x"));
        }
        s.tell(a.id, 1.0, TrialState::Complete).unwrap();
    }
    assert_eq!(seen.len(), 3);
    assert!(conditional > 5);
    // One modelled parameter besides a categorical: CMA-ES in one dimension.
    let mut s = study(
        r#"{"params": [{"name": "c", "type": "categorical", "choices": [1, 2]},
                       {"name": "x", "type": "float", "low": -4, "high": 4}]}"#,
        r#"{"type": "cmaes"}"#,
        2,
    );
    for _ in 0..150 {
        let a = s.ask().unwrap();
        let x = a.params["x"].as_f64().unwrap();
        let c = a.params["c"].as_i64().unwrap() as f64;
        s.tell(a.id, (x - 1.5).powi(2) + c, TrialState::Complete)
            .unwrap();
    }
    let best = s.best().unwrap();
    assert!(best.value.unwrap() < 1.0 + 1e-4, "best {:?}", best.value);
}

#[test]
fn constraints_rank_feasible_trials_first() {
    let space = box_space(2, -5.0, 5.0);
    let mut s = Study::from_json(&format!(
        r#"{{"space": {space}, "constraints": ["c"], "sampler": {{"type": "cmaes"}},
            "seed": 6}}"#
    ))
    .unwrap();
    for _ in 0..300 {
        let a = s.ask().unwrap();
        let x = a.params["x0"].as_f64().unwrap();
        let y = a.params["x1"].as_f64().unwrap();
        // Minimise x^2 + y^2 subject to x >= 2: optimum 4 at (2, 0).
        s.tell_with(a.id, x * x + y * y, TrialState::Complete, &[2.0 - x])
            .unwrap();
    }
    let best = s.best().unwrap().value.unwrap();
    assert!((4.0..4.05).contains(&best), "best feasible {best}");
}

#[test]
fn config_errors_name_the_field() {
    let space = box_space(2, 0.0, 1.0);
    for (sampler, field) in [
        (r#"{"type": "cmaes", "sigma0": 0}"#, "sampler.sigma0"),
        (r#"{"type": "cmaes", "sigma0": -0.1}"#, "sampler.sigma0"),
        (r#"{"type": "cmaes", "sigma0": 1.5}"#, "sampler.sigma0"),
        (r#"{"type": "cmaes", "popsize": 1}"#, "sampler.popsize"),
        (r#"{"type": "cmaes", "popsize": 100001}"#, "sampler.popsize"),
        (
            r#"{"type": "cmaes", "inc_popsize": 1}"#,
            "sampler.inc_popsize",
        ),
        (
            r#"{"type": "cmaes", "inc_popsize": 101}"#,
            "sampler.inc_popsize",
        ),
        (
            r#"{"type": "cmaes", "warm_start": true}"#,
            "sampler.n_startup_trials",
        ),
        (
            r#"{"type": "cmaes", "warm_start": true, "n_startup_trials": 0}"#,
            "sampler.n_startup_trials",
        ),
        (
            r#"{"type": "cmaes", "warm_start": true, "n_startup_trials": 5, "sigma0": 0.2}"#,
            "sampler.sigma0",
        ),
    ] {
        let cfg = format!(r#"{{"space": {space}, "sampler": {sampler}}}"#);
        match Study::from_json(&cfg) {
            Err(Error::Config { field: f, .. }) => {
                assert_eq!(f, field, "{sampler}")
            }
            other => panic!("{sampler}: {other:?}"),
        }
    }
    for sampler in [
        r#"{"type": "cmaes", "restart_strategy": "bipop"}"#,
        r#"{"type": "cmaes", "sigma": 0.2}"#,
        r#"{"type": "cmaes", "popsize": -3}"#,
        r#"{"type": "cmaes", "with_margin": "yes"}"#,
    ] {
        let cfg = format!(r#"{{"space": {space}, "sampler": {sampler}}}"#);
        let err = Study::from_json(&cfg).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{sampler}: {err:?}");
    }
    // Accepted settings round-trip through the saved study.
    let mut s = study(
        &space,
        r#"{"type": "cmaes", "sigma0": 0.3, "popsize": 8, "with_margin": false,
            "restart_strategy": "ipop", "inc_popsize": 3}"#,
        1,
    );
    s.ask().unwrap();
    let saved: serde_json::Value = serde_json::from_str(&s.save_json()).unwrap();
    assert_eq!(
        saved["sampler"],
        serde_json::json!({"type": "cmaes", "sigma0": 0.3, "popsize": 8,
            "with_margin": false, "restart_strategy": "ipop", "inc_popsize": 3,
            "warm_start": false})
    );
}

#[test]
fn normal_cdf_and_quantile_are_accurate() {
    for (p, z) in [
        (0.5, 0.0),
        (0.975, 1.959_963_984_540_054),
        (0.9, 1.281_551_565_544_600_5),
        (0.01, -2.326_347_874_040_841),
        (1e-6, -4.753_424_308_822_899),
    ] {
        assert!(
            (normal_quantile(p) - z).abs() < 1e-8 * z.abs().max(1.0),
            "q({p})"
        );
        assert!((normal_cdf(z) - p).abs() < 2e-7 * p.max(1e-3), "cdf({z})");
    }
}
