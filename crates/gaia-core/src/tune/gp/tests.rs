use super::*;
use crate::tune::Study;
use serde_json::{Map, Value};

type Params = Map<String, Value>;

fn study(space: &str, sampler: &str, seed: u64, extra: &str) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {space}, "sampler": {sampler}, "seed": {seed}{extra}}}"#
    ))
    .unwrap()
}

fn run(space: &str, sampler: &str, seed: u64, trials: usize, f: &dyn Fn(&Params) -> f64) -> f64 {
    let mut s = study(space, sampler, seed, "");
    let mut best = f64::INFINITY;
    for _ in 0..trials {
        let a = s.ask().unwrap();
        let v = f(&a.params);
        best = best.min(v);
        s.tell(a.id, v, TrialState::Complete).unwrap();
    }
    best
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn x(p: &Params, name: &str) -> f64 {
    p[name].as_f64().unwrap()
}

const BRANIN: &str = r#"{"params": [
    {"name": "x1", "type": "float", "low": -5, "high": 10},
    {"name": "x2", "type": "float", "low": 0, "high": 15}]}"#;

fn branin(p: &Params) -> f64 {
    use std::f64::consts::PI;
    let (x1, x2) = (x(p, "x1"), x(p, "x2"));
    let b = 5.1 / (4.0 * PI * PI);
    let c = 5.0 / PI;
    let t = 1.0 / (8.0 * PI);
    (x2 - b * x1 * x1 + c * x1 - 6.0).powi(2) + 10.0 * (1.0 - t) * x1.cos() + 10.0
}

fn hartmann6(p: &Params) -> f64 {
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0],
        [2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0],
        [2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0],
        [4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0],
    ];
    -(0..4)
        .map(|i| {
            let inner: f64 = (0..6)
                .map(|j| A[i][j] * (x(p, &format!("x{}", j + 1)) - 1e-4 * P[i][j]).powi(2))
                .sum();
            ALPHA[i] * (-inner).exp()
        })
        .sum::<f64>()
}

fn hartmann_space() -> String {
    let params: Vec<String> = (1..=6)
        .map(|i| format!(r#"{{"name": "x{i}", "type": "float", "low": 0, "high": 1}}"#))
        .collect();
    format!(r#"{{"params": [{}]}}"#, params.join(","))
}

const MIXED: &str = r#"{"params": [
    {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]},
    {"name": "x1", "type": "float", "low": -5, "high": 5},
    {"name": "x2", "type": "float", "low": -5, "high": 5},
    {"name": "x3", "type": "float", "low": -5, "high": 5},
    {"name": "n", "type": "int", "low": 1, "high": 10},
    {"name": "lr", "type": "float", "low": 1e-5, "high": 1, "log": true}]}"#;

fn mixed(p: &Params) -> f64 {
    let offset = match p["c"].as_str().unwrap() {
        "a" => 0.0,
        "b" => 0.5,
        _ => 1.0,
    };
    let n = p["n"].as_i64().unwrap() as f64;
    offset
        + ["x1", "x2", "x3"]
            .iter()
            .map(|k| (x(p, k) - 1.0).powi(2))
            .sum::<f64>()
        + (n - 3.0).powi(2) / 10.0
        + (x(p, "lr").log10() + 3.0).powi(2) / 10.0
}

/// erf by its series (accurate for |x| < 3), as an independent reference.
fn libm_erf(x: f64) -> f64 {
    let (mut term, mut sum) = (x, x);
    for k in 1..200 {
        term *= -x * x / k as f64;
        sum += term / (2 * k + 1) as f64;
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

#[test]
fn log_ei_gradients_match_finite_differences() {
    for (mu, sd, best) in [(0.3, 0.7, 0.5), (-4.0, 0.2, 1.0), (2.0, 1.5, 0.0)] {
        let (_, dmu, dsd) = log_ei(mu, sd, best);
        let h = 1e-6;
        let fd_mu = (log_ei(mu + h, sd, best).0 - log_ei(mu - h, sd, best).0) / (2.0 * h);
        let fd_sd = (log_ei(mu, sd + h, best).0 - log_ei(mu, sd - h, best).0) / (2.0 * h);
        assert!(
            (dmu - fd_mu).abs() < 1e-5 * fd_mu.abs().max(1.0),
            "{dmu} {fd_mu}"
        );
        assert!(
            (dsd - fd_sd).abs() < 1e-5 * fd_sd.abs().max(1.0),
            "{dsd} {fd_sd}"
        );
        let (_, dmu, dsd) = log_pof(mu, sd, best);
        let fd_mu = (log_pof(mu + h, sd, best).0 - log_pof(mu - h, sd, best).0) / (2.0 * h);
        let fd_sd = (log_pof(mu, sd + h, best).0 - log_pof(mu, sd - h, best).0) / (2.0 * h);
        assert!(
            (dmu - fd_mu).abs() < 1e-5 * fd_mu.abs().max(1.0),
            "{dmu} {fd_mu}"
        );
        assert!(
            (dsd - fd_sd).abs() < 1e-5 * fd_sd.abs().max(1.0),
            "{dsd} {fd_sd}"
        );
    }
}

/// Random encoded data: `n` points with two continuous dimensions and a categorical.
fn toy_data(n: usize, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let (a, b, c) = (rng.next_f64(), rng.next_f64(), rng.below(3) as f64);
        x.extend([a, b, c]);
        y.push((6.0 * a).sin() + b * b + 0.3 * c);
    }
    (x, y)
}

#[test]
fn hyper_parameter_gradient_matches_finite_differences() {
    let mut rng = Rng::seed_from_u64(1);
    let (x, y) = toy_data(15, &mut rng);
    let cat = [false, false, true];
    let data = Data {
        x: &x,
        y: &y,
        n: 15,
        d: 3,
        cat: &cat,
        deterministic: false,
    };
    let theta = vec![0.3, -0.5, 0.2, 0.1, -3.0];
    let mut g = vec![0.0; 5];
    let f0 = data.neg_log_posterior(&theta, &mut g);
    assert!(f0.is_finite());
    let mut scratch = vec![0.0; 5];
    for k in 0..5 {
        let h = 1e-5;
        let mut tp = theta.clone();
        tp[k] += h;
        let mut tm = theta.clone();
        tm[k] -= h;
        let fd = (data.neg_log_posterior(&tp, &mut scratch)
            - data.neg_log_posterior(&tm, &mut scratch))
            / (2.0 * h);
        assert!(
            (g[k] - fd).abs() < 1e-4 * fd.abs().max(1.0),
            "theta[{k}]: analytic {} vs numeric {fd}",
            g[k]
        );
    }
    // The fit lowers the objective from the default start.
    let mut warm = Warm::default();
    let gp = fit(&data, &mut warm).unwrap();
    let fitted = warm.theta.clone().unwrap();
    let start = default_theta(3);
    assert!(
        data.neg_log_posterior(&fitted, &mut scratch)
            < data.neg_log_posterior(&start, &mut scratch) - 1e-3
    );
    // The posterior interpolates the (nearly noise-free) data.
    let mut work = Work::default();
    let (mu, var) = gp.predict(&x[0..3], &mut work, None);
    assert!((mu - y[0]).abs() < 0.2, "mean {mu} vs {}", y[0]);
    assert!(var < 0.1);
}

#[test]
fn prediction_gradients_match_finite_differences() {
    let mut rng = Rng::seed_from_u64(2);
    let (x, y) = toy_data(12, &mut rng);
    let cat = [false, false, true];
    let data = Data {
        x: &x,
        y: &y,
        n: 12,
        d: 3,
        cat: &cat,
        deterministic: false,
    };
    let gp = Gp::build(&data, &[0.5, 0.0, 0.0, 0.0, -4.0]).unwrap();
    let mut work = Work::default();
    let p = [0.37, 0.61, 1.0];
    let (mut gm, mut gv) = (vec![0.0; 3], vec![0.0; 3]);
    gp.predict(&p, &mut work, Some((&mut gm, &mut gv)));
    for k in 0..2 {
        let h = 1e-6;
        let (mut a, mut b) = (p, p);
        a[k] += h;
        b[k] -= h;
        let (ma, va) = gp.predict(&a, &mut work, None);
        let (mb, vb) = gp.predict(&b, &mut work, None);
        assert!(
            (gm[k] - (ma - mb) / (2.0 * h)).abs() < 1e-5,
            "mean grad {k}"
        );
        assert!((gv[k] - (va - vb) / (2.0 * h)).abs() < 1e-5, "var grad {k}");
    }
    assert_eq!(gm[2], 0.0);
}

#[test]
fn branin_reaches_the_optimum_within_50_trials() {
    let sampler = r#"{"type": "gp"}"#;
    let bests: Vec<f64> = (0..5)
        .map(|seed| run(BRANIN, sampler, seed, 50, &branin))
        .collect();
    let m = median(bests.clone());
    assert!(m <= 0.40, "median best {m}, bests {bests:?}");
}

#[test]
fn hartmann6_and_mixed_beat_random_search() {
    let hs = hartmann_space();
    let gp: Vec<f64> = (0..3)
        .map(|s| run(&hs, r#"{"type": "gp"}"#, s, 60, &hartmann6))
        .collect();
    let random: Vec<f64> = (0..3)
        .map(|s| run(&hs, r#"{"type": "random"}"#, s, 60, &hartmann6))
        .collect();
    let (g, r) = (median(gp), median(random));
    assert!(g < r - 0.5 && g < -3.0, "hartmann6: gp {g} random {r}");

    let gp: Vec<f64> = (0..3)
        .map(|s| run(MIXED, r#"{"type": "gp"}"#, s, 60, &mixed))
        .collect();
    let random: Vec<f64> = (0..3)
        .map(|s| run(MIXED, r#"{"type": "random"}"#, s, 60, &mixed))
        .collect();
    let (g, r) = (median(gp), median(random));
    assert!(g < 0.2 * r && g < 0.1, "mixed: gp {g} random {r}");
}

#[test]
fn identical_points_do_not_panic_and_the_sampler_still_proposes() {
    // Every trial at the same point with the same value: a rank-one kernel matrix.
    let space = r#"{"params": [{"name": "a", "type": "float", "low": 0, "high": 1},
                                {"name": "b", "type": "int", "low": 0, "high": 3}]}"#;
    for value in [1.0, 1.0 + 1e-12] {
        let mut s = study(
            space,
            r#"{"type": "gp", "deterministic_objective": true}"#,
            3,
            "",
        );
        let mut p = Map::new();
        p.insert("a".into(), serde_json::json!(0.25));
        p.insert("b".into(), serde_json::json!(2));
        for k in 0..30 {
            let v = if k % 2 == 0 { value } else { 1.0 };
            s.add_trial(&p, v, TrialState::Complete).unwrap();
        }
        // And identical points with different values (pure noise).
        s.add_trial(&p, 5.0, TrialState::Complete).unwrap();
        for _ in 0..3 {
            let a = s.ask().unwrap();
            let av = x(&a.params, "a");
            assert!((0.0..=1.0).contains(&av));
            let b = a.params["b"].as_i64().unwrap();
            assert!((0..=3).contains(&b));
            s.tell(a.id, 1.0, TrialState::Complete).unwrap();
        }
    }
    // The fit itself on duplicated points: a model, no panic.
    let x = vec![0.5; 20];
    let y = vec![0.0; 20];
    let data = Data {
        x: &x,
        y: &y,
        n: 20,
        d: 1,
        cat: &[false],
        deterministic: true,
    };
    let mut warm = Warm::default();
    assert!(fit(&data, &mut warm).is_some());
}

#[test]
fn constraints_steer_to_the_feasible_region() {
    // Minimise x + y on [0, 1]^2 subject to x + y >= 1 (constraint 1 - x - y <= 0): the
    // unconstrained optimum (0, 0) is infeasible; the constrained one lies on x + y = 1.
    let space = r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1},
                                {"name": "y", "type": "float", "low": 0, "high": 1}]}"#;
    let mut s = study(space, r#"{"type": "gp"}"#, 4, r#", "constraints": ["c"]"#);
    // Constrained EI hugs the boundary from both sides (the optimum lies on it), so late
    // trials must be feasible or violate by a hair; unconstrained, they would sit near (0, 0)
    // with a violation near 1.
    let mut worst_late = 0.0f64;
    for k in 0..40 {
        let a = s.ask().unwrap();
        let (px, py) = (x(&a.params, "x"), x(&a.params, "y"));
        let c = 1.0 - px - py;
        s.tell_with(a.id, px + py, TrialState::Complete, &[c])
            .unwrap();
        if k >= 25 {
            worst_late = worst_late.max(c);
        }
    }
    assert!(worst_late < 0.01, "a late trial violates by {worst_late}");
    let best = s.best().unwrap().value.unwrap();
    assert!((1.0..1.05).contains(&best), "best feasible {best}");
}

#[test]
fn without_a_feasible_trial_it_seeks_feasibility() {
    // Feasible only near x = 0.9 (x >= 0.85); the startup trials are all infeasible.
    let space = r#"{"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}"#;
    let mut s = study(
        space,
        r#"{"type": "gp", "n_startup_trials": 5}"#,
        1,
        r#", "constraints": ["c"]"#,
    );
    for v in [0.05, 0.2, 0.35, 0.5, 0.6] {
        let mut p = Map::new();
        p.insert("x".into(), serde_json::json!(v));
        s.add_trial_with(&p, v, TrialState::Complete, &[0.85 - v])
            .unwrap();
    }
    let a = s.ask().unwrap();
    assert!(x(&a.params, "x") > 0.75, "proposed {}", a.params["x"]);
}

#[test]
fn running_trials_make_concurrent_asks_differ() {
    let mut s = study(BRANIN, r#"{"type": "gp"}"#, 5, "");
    for _ in 0..15 {
        let a = s.ask().unwrap();
        let v = branin(&a.params);
        s.tell(a.id, v, TrialState::Complete).unwrap();
    }
    let asked: Vec<(f64, f64)> = (0..4)
        .map(|_| {
            let a = s.ask().unwrap();
            (x(&a.params, "x1"), x(&a.params, "x2"))
        })
        .collect();
    for i in 0..asked.len() {
        for j in 0..i {
            let d = ((asked[i].0 - asked[j].0) / 15.0).hypot((asked[i].1 - asked[j].1) / 15.0);
            assert!(d > 1e-3, "asks {i} and {j} coincide: {asked:?}");
        }
    }
}

#[test]
fn grids_categoricals_and_conditionals_are_respected() {
    let space = r#"{"params": [
        {"name": "k", "type": "categorical", "choices": ["p", "q"]},
        {"name": "i", "type": "int", "low": 2, "high": 64, "log": true},
        {"name": "s", "type": "float", "low": 0, "high": 1, "step": 0.25},
        {"name": "big", "type": "int", "low": 0, "high": 1000, "step": 5},
        {"name": "only_q", "type": "float", "low": 0, "high": 1,
         "condition": {"param": "k", "in": ["q"]}}]}"#;
    let mut s = study(space, r#"{"type": "gp", "n_startup_trials": 5}"#, 9, "");
    for _ in 0..20 {
        let a = s.ask().unwrap();
        let p = &a.params;
        let i = p["i"].as_i64().unwrap();
        assert!((2..=64).contains(&i));
        let st = x(p, "s");
        assert!((st * 4.0 - (st * 4.0).round()).abs() < 1e-9, "s {st}");
        assert_eq!(p["big"].as_i64().unwrap() % 5, 0);
        let q = p["k"] == "q";
        assert_eq!(p.contains_key("only_q"), q);
        let v = (i as f64 - 8.0).abs() + st + if q { x(p, "only_q") } else { 1.0 };
        s.tell(a.id, v, TrialState::Complete).unwrap();
    }
}

#[test]
fn the_same_seed_gives_the_same_trials() {
    let trace = |seed: u64| {
        let mut s = study(MIXED, r#"{"type": "gp", "n_startup_trials": 5}"#, seed, "");
        (0..12)
            .map(|_| {
                let a = s.ask().unwrap();
                let v = mixed(&a.params);
                s.tell(a.id, v, TrialState::Complete).unwrap();
                serde_json::to_string(&a.params).unwrap()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(trace(7), trace(7));
    assert_ne!(trace(7), trace(8));
}

#[test]
fn config_errors_name_the_field() {
    for (cfg, field) in [
        (
            r#"{"type": "gp", "n_startup_trials": 0}"#,
            "sampler.n_startup_trials",
        ),
        (
            r#"{"type": "gp", "n_candidates": 3}"#,
            "sampler.n_candidates",
        ),
        (
            r#"{"type": "gp", "n_local_search": 0}"#,
            "sampler.n_local_search",
        ),
    ] {
        let err =
            Study::from_json(&format!(r#"{{"space": {BRANIN}, "sampler": {cfg}}}"#)).unwrap_err();
        assert!(err.to_string().contains(field), "{cfg}: {err}");
    }
    let err = Study::from_json(&format!(
        r#"{{"space": {BRANIN}, "sampler": {{"type": "gp", "n_startup": 3}}}}"#
    ))
    .unwrap_err();
    assert!(err.to_string().contains("n_startup"), "{err}");
    // Defaults round-trip.
    let cfg: GpConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, GpConfig::default());
    assert_eq!(cfg.n_startup_trials, 10);
}

#[test]
fn log_h_is_accurate() {
    // log h against the direct formula where that is accurate, continuity at -1, and the
    // tail where h underflows to 0 but log h stays finite and decreasing.
    for z in [-3.0, -1.0, -0.5, 0.0, 2.0] {
        let phi = (-0.5 * z * z - HALF_LN_2PI).exp();
        let cdf = 0.5 * (1.0 + libm_erf(z / std::f64::consts::SQRT_2));
        let want = (phi + z * cdf).ln();
        assert!(
            (log_h(z) - want).abs() < 1e-8,
            "log_h({z}) {} want {want}",
            log_h(z)
        );
    }
    assert!((log_h(-1.0 - 1e-12) - log_h(-1.0 + 1e-12)).abs() < 1e-9);
    let (a, b) = (log_h(-50.0), log_h(-60.0));
    assert!(a.is_finite() && b.is_finite() && b < a && a < -1200.0);
    assert!((log_h(-1e9) - (-0.5e18 - HALF_LN_2PI - 2.0 * 1e9f64.ln())).abs() < 1e3);
}
