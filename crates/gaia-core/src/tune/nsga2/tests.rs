use super::*;
use crate::tune::SamplerConfig;

const TWO: [Direction; 2] = [Direction::Minimize, Direction::Minimize];

fn complete(id: u64, internal: Vec<Option<f64>>, values: &[f64], constraints: &[f64]) -> Trial {
    let mut t = Trial::running(id, internal);
    t.state = TrialState::Complete;
    t.values = values.to_vec();
    t.constraints = constraints.to_vec();
    t
}

fn space(json: &str) -> Space {
    Space::from_json(json).unwrap()
}

fn box_space(d: usize) -> Space {
    let params: Vec<String> = (0..d)
        .map(|i| format!(r#"{{"name": "x{i}", "type": "float", "low": 0, "high": 1}}"#))
        .collect();
    space(&format!(r#"{{"params": [{}]}}"#, params.join(",")))
}

#[test]
fn config_defaults_parse_and_bad_fields_are_named() {
    let cfg: SamplerConfig = serde_json::from_str(r#"{"type": "nsga2"}"#).unwrap();
    assert_eq!(cfg, SamplerConfig::Nsga2(Nsga2Config::default()));
    let d = Nsga2Config::default();
    assert_eq!(
        (
            d.population_size,
            d.mutation_prob,
            d.crossover_prob,
            d.swapping_prob
        ),
        (50, None, 0.9, 0.5)
    );
    assert_eq!(d.crossover, Crossover::Uniform);
    let sbx: SamplerConfig = serde_json::from_str(
        r#"{"type": "nsga2", "crossover": "sbx", "sbx_eta": 15, "population_size": 20}"#,
    )
    .unwrap();
    let SamplerConfig::Nsga2(sbx) = sbx else {
        panic!("not nsga2: {sbx:?}")
    };
    assert_eq!(
        (sbx.crossover, sbx.sbx_eta, sbx.population_size),
        (Crossover::Sbx, Some(15.0), 20)
    );
    assert!(serde_json::from_str::<SamplerConfig>(r#"{"type": "nsga2", "popsize": 5}"#).is_err());
    assert!(
        serde_json::from_str::<SamplerConfig>(r#"{"type": "nsga2", "crossover": "blx"}"#).is_err()
    );
    let s = box_space(2);
    for (json, field) in [
        (
            r#"{"type": "nsga2", "population_size": 1}"#,
            "sampler.population_size",
        ),
        (
            r#"{"type": "nsga2", "mutation_prob": -0.1}"#,
            "sampler.mutation_prob",
        ),
        (
            r#"{"type": "nsga2", "crossover_prob": 1.5}"#,
            "sampler.crossover_prob",
        ),
        (
            r#"{"type": "nsga2", "swapping_prob": 2}"#,
            "sampler.swapping_prob",
        ),
        (r#"{"type": "nsga2", "sbx_eta": 3}"#, "sampler.sbx_eta"),
        (
            r#"{"type": "nsga2", "crossover": "sbx", "sbx_eta": -1}"#,
            "sampler.sbx_eta",
        ),
    ] {
        let cfg: SamplerConfig = serde_json::from_str(json).unwrap();
        match cfg.build(&s, 2) {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
}

#[test]
fn elite_takes_whole_fronts_then_the_least_crowded() {
    // Front 0: ids 0..=4 on a line; front 1: id 5; size 3 cuts front 0 by crowding: the
    // extremes (0 and 4, infinite) and then the one with the widest gap between its
    // neighbours (id 2: 0.3 to 0.9, against 0 to 0.5 for id 1 and 0.5 to 1 for id 3).
    let xs = [0.0, 0.3, 0.5, 0.9, 1.0];
    let mut trials: Vec<Trial> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| complete(i as u64, vec![Some(0.0)], &[*x, 1.0 - x], &[]))
        .collect();
    trials.push(complete(5, vec![Some(0.0)], &[2.0, 2.0], &[]));
    let pool: Vec<usize> = (0..6).collect();
    assert_eq!(select_elite(&pool, &trials, &TWO, 3), vec![0, 2, 4]);
    assert_eq!(select_elite(&pool, &trials, &TWO, 5), vec![0, 1, 2, 3, 4]);
    assert_eq!(select_elite(&pool, &trials, &TWO, 6), pool);
    // An infeasible trial loses to the dominated feasible one.
    trials[0].constraints = vec![0.5];
    for t in trials.iter_mut().skip(1) {
        t.constraints = vec![0.0];
    }
    assert_eq!(select_elite(&pool, &trials, &TWO, 5), vec![1, 2, 3, 4, 5]);
    // Maximising flips the order: id 5 alone is the front.
    let max = [Direction::Maximize, Direction::Maximize];
    assert!(select_elite(&pool, &trials, &max, 1) == vec![5]);
}

/// Trials 0..n on a box space with 2 objectives from `f`, all complete.
fn population(n: usize, rng: &mut Rng, f: impl Fn(&[f64]) -> Vec<f64>) -> Vec<Trial> {
    (0..n)
        .map(|i| {
            let x: Vec<f64> = (0..3).map(|_| rng.next_f64()).collect();
            complete(i as u64, x.iter().map(|v| Some(*v)).collect(), &f(&x), &[])
        })
        .collect()
}

fn objectives(x: &[f64]) -> Vec<f64> {
    vec![x[0], 1.0 - x[0] + x[1] + x[2]]
}

#[test]
fn parents_are_a_function_of_the_trials_and_follow_late_completions() {
    let cfg = Nsga2Config {
        population_size: 8,
        ..Nsga2Config::default()
    };
    let mut rng = Rng::seed_from_u64(1);
    let mut trials = population(40, &mut rng, objectives);
    // Trial 3 (generation 0) is still running.
    let told = trials[3].clone();
    trials[3].state = TrialState::Running;
    trials[3].values.clear();
    // A sampler that asked at every step agrees with a fresh one.
    let mut incremental = Nsga2Sampler::new(cfg);
    for n in 8..=40 {
        incremental.parents(n / 8, &trials[..n], &TWO);
    }
    let mut fresh = Nsga2Sampler::new(cfg);
    let before = fresh.parents(5, &trials, &TWO).to_vec();
    assert_eq!(incremental.parents(5, &trials, &TWO), &before[..]);
    assert_eq!(before.len(), 8);
    assert!(!before.contains(&3));
    // Generation 1's parents are generation 0's complete trials.
    assert_eq!(fresh.parents(1, &trials, &TWO), &[0, 1, 2, 4, 5, 6, 7]);
    // Trial 3 completes with a point that dominates everything: every elite from
    // generation 1 on takes it, in both samplers.
    trials[3] = told;
    trials[3].values = vec![-1.0, -1.0];
    for s in [&mut incremental, &mut fresh] {
        assert_eq!(s.parents(1, &trials, &TWO), &(0..8).collect::<Vec<_>>()[..]);
        assert!(s.parents(5, &trials, &TWO).contains(&3));
    }
    assert_eq!(
        incremental.parents(5, &trials, &TWO),
        Nsga2Sampler::new(cfg).parents(5, &trials, &TWO)
    );
}

#[test]
fn generation_zero_is_random_and_children_come_from_their_parents() {
    let cfg = Nsga2Config {
        population_size: 10,
        crossover_prob: 1.0,
        mutation_prob: Some(0.0),
        ..Nsga2Config::default()
    };
    let s = box_space(3);
    let mut rng = Rng::seed_from_u64(2);
    let mut sampler = Nsga2Sampler::new(cfg);
    let trials = population(10, &mut rng, objectives);
    for _ in 0..50 {
        let child = sampler.sample(&s, &trials, &TWO, &mut rng);
        // Uniform crossover without mutation: every value is some parent's.
        for (i, v) in child.iter().enumerate() {
            let v = v.unwrap();
            assert!(trials.iter().any(|t| t.internal[i] == Some(v)), "{v}");
        }
    }
    // The first generation is random: values that no trial has.
    let child = sampler.sample(&s, &trials[..9], &TWO, &mut rng);
    assert!(child
        .iter()
        .enumerate()
        .all(|(i, v)| !trials.iter().any(|t| t.internal[i] == *v)));
}

#[test]
fn sbx_children_stay_in_bounds_and_on_grids() {
    let cfg = Nsga2Config {
        population_size: 6,
        crossover_prob: 1.0,
        mutation_prob: Some(0.0),
        crossover: Crossover::Sbx,
        ..Nsga2Config::default()
    };
    let s = space(
        r#"{"params": [
            {"name": "x", "type": "float", "low": -1, "high": 1},
            {"name": "n", "type": "int", "low": 0, "high": 10, "step": 2},
            {"name": "lr", "type": "float", "low": 1e-4, "high": 1, "log": true}]}"#,
    );
    let mut rng = Rng::seed_from_u64(3);
    let trials: Vec<Trial> = (0..6)
        .map(|i| {
            let internal: Vec<Option<f64>> = (0..3)
                .map(|p| Some(s.sample_uniform(p, &mut rng)))
                .collect();
            complete(i, internal, &[i as f64, 6.0 - i as f64], &[])
        })
        .collect();
    let mut sampler = Nsga2Sampler::new(cfg);
    let mut new_values = 0;
    for _ in 0..200 {
        let child = sampler.sample(&s, &trials, &TWO, &mut rng);
        for (p, v) in child.iter().enumerate() {
            let v = v.unwrap();
            let (lo, hi) = s.internal_bounds(p);
            assert!(v >= lo && v <= hi, "param {p}: {v}");
            new_values += usize::from(!trials.iter().any(|t| t.internal[p] == Some(v)));
        }
        assert_eq!(child[1].unwrap() % 2.0, 0.0);
    }
    // SBX makes values of its own (about half the time for continuous parameters).
    assert!(new_values > 100, "{new_values}");
}

#[test]
fn conditional_parameters_follow_the_childs_choice() {
    let s = space(
        r#"{"params": [
            {"name": "kind", "type": "categorical", "choices": ["a", "b"]},
            {"name": "xa", "type": "float", "low": 0, "high": 1, "condition": {"param": "kind", "in": ["a"]}},
            {"name": "xb", "type": "float", "low": 5, "high": 6, "condition": {"param": "kind", "in": ["b"]}}]}"#,
    );
    let cfg = Nsga2Config {
        population_size: 4,
        crossover_prob: 1.0,
        ..Nsga2Config::default()
    };
    // Parents of kind a (xa set) and of kind b (xb set).
    let trials: Vec<Trial> = (0..4)
        .map(|i| {
            let internal = if i % 2 == 0 {
                vec![Some(0.0), Some(0.25), None]
            } else {
                vec![Some(1.0), None, Some(5.5)]
            };
            complete(i, internal, &[i as f64, 4.0 - i as f64], &[])
        })
        .collect();
    let mut sampler = Nsga2Sampler::new(cfg);
    let mut rng = Rng::seed_from_u64(4);
    let mut seen = [0, 0];
    for _ in 0..200 {
        let child = sampler.sample(&s, &trials, &TWO, &mut rng);
        match child[0].map(|k| k as usize) {
            Some(0) => {
                assert!(child[1].is_some_and(|x| (0.0..=1.0).contains(&x)) && child[2].is_none());
                seen[0] += 1;
            }
            Some(1) => {
                assert!(child[2].is_some_and(|x| (5.0..=6.0).contains(&x)) && child[1].is_none());
                seen[1] += 1;
            }
            other => panic!("kind {other:?}"),
        }
    }
    assert!(seen[0] > 20 && seen[1] > 20, "{seen:?}");
}

#[test]
fn tournaments_prefer_feasible_parents() {
    // Half the population is infeasible but dominates the other half: parents chosen by
    // tournament are mostly feasible.
    let cfg = Nsga2Config {
        population_size: 10,
        crossover_prob: 1.0,
        mutation_prob: Some(0.0),
        swapping_prob: 1.0,
        ..Nsga2Config::default()
    };
    let s = box_space(1);
    let trials: Vec<Trial> = (0..10)
        .map(|i| {
            let x = i as f64 / 10.0;
            let (values, violation) = if i < 5 {
                ([x, x], 1.0)
            } else {
                ([x + 5.0, x + 5.0], 0.0)
            };
            complete(i, vec![Some(x)], &values, &[violation])
        })
        .collect();
    let mut sampler = Nsga2Sampler::new(cfg);
    let mut rng = Rng::seed_from_u64(5);
    let feasible = (0..400)
        .filter(|_| sampler.sample(&s, &trials, &TWO, &mut rng)[0].unwrap() >= 0.5)
        .count();
    // A random parent is feasible half the time; the tournament's winner three times in four.
    assert!(feasible > 260, "{feasible}");
}
