use super::*;
use crate::error::ErrorKind;
use crate::stats::Normal;

fn bandit(json: &str) -> Bandit {
    Bandit::from_json(json).unwrap()
}

fn kind(e: Error) -> ErrorKind {
    e.kind()
}

#[test]
fn beta_bandit_finds_the_best_arm() {
    let mut b = bandit(r#"{"arms": ["low", "mid", "high"], "seed": 1}"#);
    let p = [0.2, 0.5, 0.8];
    let mut env = Rng::seed_from_u64(100);
    let mut late_best = 0;
    for round in 0..3000 {
        let i = b.choose_index().unwrap();
        let reward = if env.next_f64() < p[i] { 1.0 } else { 0.0 };
        b.update_index(i, reward).unwrap();
        if round >= 2500 && i == 2 {
            late_best += 1;
        }
    }
    assert!(
        late_best > 450,
        "best arm chosen {late_best}/500 in the last rounds"
    );
    let s = b.stats();
    assert!((s.arms[2].mean - 0.8).abs() < 0.03, "{:?}", s.arms[2]);
    assert_eq!(s.total_pulls, 3000);
    assert_eq!(s.arms.iter().map(|a| a.chosen).sum::<u64>(), 3000);
}

#[test]
fn gaussian_bandit_finds_the_best_arm() {
    let mut b = bandit(r#"{"arms": ["a", "b", "c"], "model": "gaussian", "seed": 2}"#);
    let means = [1.0, 2.0, 1.5];
    let mut env = Rng::seed_from_u64(200);
    let mut late_best = 0;
    for round in 0..2000 {
        let i = b.choose_index().unwrap();
        let reward = Normal::new(means[i], 1.0).unwrap().sample(&mut env);
        b.update_index(i, reward).unwrap();
        if round >= 1500 && i == 1 {
            late_best += 1;
        }
    }
    assert!(late_best > 450, "best arm chosen {late_best}/500");
}

#[test]
fn beta_posterior_counts_successes_and_failures() {
    let mut b = bandit(r#"{"arms": ["a"], "seed": 3, "prior": {"alpha": 2, "beta": 3}}"#);
    for r in [1.0, 1.0, 0.0, 0.5] {
        b.update("a", r).unwrap();
    }
    let a = &b.stats().arms[0];
    assert_eq!(a.pulls, 4);
    assert!(
        (a.alpha.unwrap() - 4.5).abs() < 1e-12 && (a.beta.unwrap() - 4.5).abs() < 1e-12,
        "{a:?}"
    );
    assert!((a.mean - 0.5).abs() < 1e-12);
}

#[test]
fn gaussian_posterior_matches_the_conjugate_formulas() {
    let mut b = bandit(r#"{"arms": ["a"], "model": "gaussian", "seed": 4}"#);
    for r in [1.0, 2.0, 3.0] {
        b.update("a", r).unwrap();
    }
    // n = 3, mean 2, SS 2, prior (0, 1, 1, 1): kappa 4, mu 1.5, alpha 2.5,
    // beta = 1 + 2/2 + 1*3*(2-0)^2 / (2*4) = 3.5.
    let a = &b.stats().arms[0];
    assert_eq!(a.kappa, Some(4.0));
    assert!((a.mean - 1.5).abs() < 1e-12);
    assert!((a.alpha.unwrap() - 2.5).abs() < 1e-12);
    assert!((a.beta.unwrap() - 3.5).abs() < 1e-12, "{a:?}");
}

#[test]
fn discount_follows_drifting_rewards() {
    let run = |discount: f64| {
        let mut b = bandit(&format!(
            r#"{{"arms": ["a", "b"], "seed": 5, "discount": {discount}}}"#
        ));
        let mut env = Rng::seed_from_u64(300);
        let mut b_late = 0;
        for round in 0..2000 {
            // Arm a pays 0.8 then 0.2 after round 1000; b pays 0.5 throughout.
            let p = if round < 1000 { [0.8, 0.5] } else { [0.2, 0.5] };
            let i = b.choose_index().unwrap();
            let r = if env.next_f64() < p[i] { 1.0 } else { 0.0 };
            b.update_index(i, r).unwrap();
            if (1200..1400).contains(&round) && i == 1 {
                b_late += 1;
            }
        }
        (b_late, b.stats())
    };
    let (with_discount, stats) = run(0.95);
    let (without, _) = run(1.0);
    // Undiscounted, a's 1000 good rounds outweigh its new failures for a long time.
    assert!(
        with_discount > 120,
        "discounted bandit chose b {with_discount}/200 after the drift"
    );
    assert!(
        with_discount > 2 * without,
        "discounted {with_discount} vs undiscounted {without}"
    );
    let total_weight: f64 = stats.arms.iter().map(|a| a.weight).sum();
    assert!(
        total_weight <= 1.0 / (1.0 - 0.95) + 1e-9,
        "evidence is bounded: {total_weight}"
    );
}

#[test]
fn arms_can_be_added_and_removed() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 6}"#);
    b.update("b", 1.0).unwrap();
    b.add_arm("c").unwrap();
    assert_eq!(b.arm_names().collect::<Vec<_>>(), ["a", "b", "c"]);
    b.remove_arm("a").unwrap();
    assert_eq!(b.arm_names().collect::<Vec<_>>(), ["b", "c"]);
    assert_eq!(b.stats().arms[0].pulls, 1, "b kept its evidence");
    assert_eq!(b.arm_index("c").unwrap(), 1);
    assert_eq!(kind(b.add_arm("b").unwrap_err()), ErrorKind::AlreadyExists);
    assert_eq!(kind(b.add_arm("").unwrap_err()), ErrorKind::InvalidArgument);
    assert_eq!(
        kind(b.add_arm("x\0y").unwrap_err()),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(b.add_arm(&"x".repeat(257)).unwrap_err()),
        ErrorKind::InvalidArgument
    );
    assert_eq!(kind(b.remove_arm("a").unwrap_err()), ErrorKind::NotFound);
    b.remove_arm("b").unwrap();
    b.remove_arm("c").unwrap();
    assert_eq!(kind(b.choose_index().unwrap_err()), ErrorKind::InvalidState);
    b.add_arm("d").unwrap();
    assert_eq!(b.choose().unwrap(), "d");
}

#[test]
fn bad_rewards_are_refused_and_change_nothing() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 7, "discount": 0.9}"#);
    b.update("a", 1.0).unwrap();
    let before = b.clone();
    for r in [f64::NAN, f64::INFINITY, -0.1, 1.5] {
        let e = b.update("a", r).unwrap_err();
        assert!(e.to_string().contains("reward for arm \"a\""), "{e}");
        assert_eq!(kind(e), ErrorKind::InvalidArgument);
    }
    let e = b.update("zzz", 1.0).unwrap_err();
    assert_eq!(e.to_string(), "unknown arm \"zzz\" (arms: a, b)");
    assert_eq!(
        kind(b.update_index(2, 1.0).unwrap_err()),
        ErrorKind::NotFound
    );
    assert_eq!(b, before, "state unchanged after refused updates");

    let mut g = bandit(r#"{"arms": ["a"], "model": "gaussian", "seed": 7}"#);
    g.update("a", -1e6).unwrap();
    assert_eq!(
        kind(g.update("a", f64::NEG_INFINITY).unwrap_err()),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn bad_configs_name_the_field() {
    let cases = [
        ("{", ErrorKind::InvalidJson, "EOF"),
        (r#"{"arms": "a"}"#, ErrorKind::InvalidJson, "invalid type"),
        (
            r#"{"arms": ["a"], "colour": 1}"#,
            ErrorKind::InvalidJson,
            "unknown field `colour`",
        ),
        (
            r#"{"arms": ["a"], "model": "poisson"}"#,
            ErrorKind::InvalidJson,
            "unknown variant",
        ),
        (
            r#"{"arms": ["a"], "seed": -1}"#,
            ErrorKind::InvalidJson,
            "invalid value",
        ),
        (
            r#"{"arms": ["a"], "discount": 0}"#,
            ErrorKind::InvalidConfig,
            "discount: must be in (0, 1]",
        ),
        (
            r#"{"arms": ["a", "a"]}"#,
            ErrorKind::InvalidConfig,
            "arms[1]: duplicate arm \"a\"",
        ),
        (r#"{"arms": [""]}"#, ErrorKind::InvalidConfig, "arms[0]"),
        (
            r#"{"arms": ["a"], "prior": {"alpha": 0}}"#,
            ErrorKind::InvalidConfig,
            "prior.alpha",
        ),
        (
            r#"{"arms": ["a"], "prior": {"mu": 1}}"#,
            ErrorKind::InvalidConfig,
            "prior.mu: applies only",
        ),
        (
            r#"{"arms": ["a"], "prior": {"gamma": 1}}"#,
            ErrorKind::InvalidJson,
            "unknown field `gamma`",
        ),
    ];
    for (json, expected, needle) in cases {
        let e = Bandit::from_json(json).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.kind(), expected, "{json}: {msg}");
        assert!(msg.starts_with("bandit config"), "{json}: {msg}");
        assert!(msg.contains(needle), "{json}: {msg}");
    }
}

#[test]
fn save_and_load_continue_the_same_draws() {
    for model in ["beta", "gaussian"] {
        let mut b = bandit(&format!(
            r#"{{"arms": ["a", "b", "c"], "model": "{model}", "seed": 8, "discount": 0.99}}"#
        ));
        for i in 0..30 {
            let arm = b.choose_index().unwrap();
            b.update_index(arm, (i % 3) as f64 / 2.0).unwrap();
        }
        let mut restored = Bandit::load_json(&b.save_json()).unwrap();
        assert_eq!(restored, b);
        for _ in 0..50 {
            assert_eq!(restored.choose_index().unwrap(), b.choose_index().unwrap());
        }
        assert_eq!(restored.save_json(), b.save_json());
    }
}

#[test]
fn unseeded_bandits_differ() {
    let draw = || {
        let mut b = bandit(r#"{"arms": ["a", "b", "c", "d", "e", "f", "g", "h"]}"#);
        (0..20)
            .map(|_| b.choose_index().unwrap())
            .collect::<Vec<_>>()
    };
    assert_ne!(draw(), draw());
}

#[test]
fn corrupted_saves_are_refused() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 9}"#);
    b.update("a", 1.0).unwrap();
    let good = b.save_json();
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from} not in {good}");
        good.replacen(from, to, 1)
    };
    let cases = [
        (
            good[..good.len() / 2].to_owned(),
            ErrorKind::CorruptState,
            "not JSON",
        ),
        ("[]".to_owned(), ErrorKind::CorruptState, "format"),
        (
            edit("\"gaia.bandit\"", "\"gaia.study\""),
            ErrorKind::CorruptState,
            "format",
        ),
        (
            edit("\"version\":1", "\"version\":9"),
            ErrorKind::UnsupportedVersion,
            "version 9",
        ),
        (
            edit("\"version\":1", "\"version\":\"1\""),
            ErrorKind::CorruptState,
            "version",
        ),
        (
            edit("\"weight\":1.0", "\"weight\":-1.0"),
            ErrorKind::CorruptState,
            "inconsistent",
        ),
        (
            edit("\"sum\":1.0", "\"sum\":7.0"),
            ErrorKind::CorruptState,
            "inconsistent",
        ),
        (
            edit("\"name\":\"b\"", "\"name\":\"a\""),
            ErrorKind::CorruptState,
            "duplicate",
        ),
        (
            edit("\"discount\":1.0", "\"discount\":2.0"),
            ErrorKind::CorruptState,
            "discount",
        ),
        (
            edit("\"total_pulls\":1", "\"total_pulls\":0"),
            ErrorKind::CorruptState,
            "total_pulls",
        ),
        (
            edit("\"rng\":\"", "\"rng\":\"zz"),
            ErrorKind::CorruptState,
            "rng",
        ),
        (
            edit("\"arms\":[", "\"extra\":1,\"arms\":["),
            ErrorKind::CorruptState,
            "unknown field",
        ),
    ];
    for (json, expected, needle) in cases {
        let e = Bandit::load_json(&json).unwrap_err();
        assert_eq!(e.kind(), expected, "{json}: {e}");
        assert!(e.to_string().contains(needle), "{json}: {e}");
    }
    let zero_rng = format!("\"rng\":\"{}\"", "0".repeat(64));
    let start = good.find("\"rng\":\"").unwrap();
    let json = format!(
        "{}{}{}",
        &good[..start],
        zero_rng,
        &good[start + 7 + 64 + 1..]
    );
    assert_eq!(
        Bandit::load_json(&json).unwrap_err().kind(),
        ErrorKind::CorruptState
    );
}

#[test]
fn bandit_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Bandit>();
}

// ---------------------------------------------------------------- UCB1, EXP3, windows

/// Pseudo-regret (sum of mean gaps) of `config` on a stationary Bernoulli problem.
fn bernoulli_regret(config: &str, p: &[f64], rounds: usize, env_seed: u64) -> f64 {
    let mut b = bandit(config);
    let best = p.iter().copied().fold(0.0, f64::max);
    let mut env = Rng::seed_from_u64(env_seed);
    let mut regret = 0.0;
    for _ in 0..rounds {
        let i = b.choose_index().unwrap();
        regret += best - p[i];
        let r = if env.next_f64() < p[i] { 1.0 } else { 0.0 };
        b.update_index(i, r).unwrap();
    }
    regret
}

#[test]
fn ucb1_and_exp3_find_the_best_arm() {
    let p = [0.3, 0.5, 0.7];
    let rounds = 2000;
    let mean_gap = p.iter().map(|x| 0.7 - x).sum::<f64>() / 3.0;
    let uniform = rounds as f64 * mean_gap; // 400
    for policy in [
        r#""policy": "ucb1""#,
        r#""policy": "exp3""#,
        r#""policy": "thompson""#,
    ] {
        for seed in 1..=5u64 {
            let config = format!(r#"{{"arms": ["a", "b", "c"], {policy}, "seed": {seed}}}"#);
            let regret = bernoulli_regret(&config, &p, rounds, 500 + seed);
            assert!(
                regret < 0.4 * uniform,
                "{policy} seed {seed}: regret {regret} vs uniform {uniform}"
            );
        }
    }
}

#[test]
fn ucb1_tries_every_arm_once_then_exploits() {
    let mut b = bandit(r#"{"arms": ["a", "b", "c"], "policy": "ucb1"}"#);
    for (expected, reward) in [(0, 0.0), (1, 1.0), (2, 0.0)] {
        assert_eq!(b.choose_index().unwrap(), expected);
        b.update_index(expected, reward).unwrap();
    }
    assert_eq!(b.choose().unwrap(), "b");
    // UCB1 is deterministic: an unseeded copy makes the same choices.
    let mut c = bandit(r#"{"arms": ["a", "b", "c"], "policy": "ucb1", "seed": 99}"#);
    let mut d = bandit(r#"{"arms": ["a", "b", "c"], "policy": "ucb1"}"#);
    for k in 0..50 {
        let (i, j) = (c.choose_index().unwrap(), d.choose_index().unwrap());
        assert_eq!(i, j);
        let r = f64::from(u8::from(k % (i + 2) == 0));
        c.update_index(i, r).unwrap();
        d.update_index(j, r).unwrap();
    }
    // ucb_c = 0 is greedy on the empirical mean.
    let mut g = bandit(r#"{"arms": ["a", "b"], "policy": "ucb1", "ucb_c": 0}"#);
    g.update("a", 0.2).unwrap();
    g.update("b", 0.1).unwrap();
    for _ in 0..10 {
        assert_eq!(g.choose().unwrap(), "a");
    }
    // Gaussian rewards on any scale, with ucb_c set to about their range.
    let mut gauss =
        bandit(r#"{"arms": ["a", "b", "c"], "model": "gaussian", "policy": "ucb1", "ucb_c": 20}"#);
    let means = [100.0, 120.0, 110.0];
    let mut env = Rng::seed_from_u64(77);
    let mut late_best = 0;
    for round in 0..2000 {
        let i = gauss.choose_index().unwrap();
        let r = Normal::new(means[i], 10.0).unwrap().sample(&mut env);
        gauss.update_index(i, r).unwrap();
        if round >= 1500 && i == 1 {
            late_best += 1;
        }
    }
    assert!(
        late_best > 400,
        "gaussian ucb1 chose the best {late_best}/500"
    );
}

#[test]
fn exp3_probabilities_sum_to_one() {
    let mut b =
        bandit(r#"{"arms": ["a", "b", "c", "d"], "policy": "exp3", "gamma": 0.3, "seed": 11}"#);
    let check = |b: &Bandit| {
        let p = b.probabilities().unwrap();
        let k = p.len() as f64;
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{p:?}");
        assert!(p.iter().all(|&x| x >= 0.3 / k - 1e-15), "{p:?}");
        let stats = b.stats();
        let from_stats: Vec<f64> = stats.arms.iter().map(|a| a.probability.unwrap()).collect();
        assert_eq!(from_stats, p);
        assert_eq!(stats.gamma, Some(0.3));
        assert_eq!(stats.policy, Policy::Exp3);
    };
    check(&b);
    assert_eq!(
        b.probabilities().unwrap(),
        vec![0.25; 4],
        "uniform at first"
    );
    let mut env = Rng::seed_from_u64(12);
    for k in 0..300 {
        let i = b.choose_index().unwrap();
        b.update_index(i, if i == 2 { 1.0 } else { env.next_f64() * 0.3 })
            .unwrap();
        if k % 7 == 0 {
            // An update of an arm that was not the last chosen: weighted at its current
            // probability.
            b.update("a", 0.5).unwrap();
        }
        check(&b);
    }
    let p = b.probabilities().unwrap();
    assert!(p[2] > 0.6, "best arm's probability {p:?}");
    b.add_arm("e").unwrap();
    check(&b);
    let p = b.probabilities().unwrap();
    assert_eq!(
        p[4], p[2],
        "an added arm starts level with the leader: {p:?}"
    );
    b.remove_arm("c").unwrap();
    check(&b);
    assert_eq!(
        bandit(r#"{"arms": ["a"], "policy": "ucb1"}"#).probabilities(),
        None
    );
    let mut empty = bandit(r#"{"arms": [], "policy": "exp3"}"#);
    assert_eq!(empty.probabilities().unwrap(), Vec::<f64>::new());
    empty.add_arm("x").unwrap();
    assert_eq!(empty.probabilities().unwrap(), vec![1.0]);
    assert_eq!(empty.choose().unwrap(), "x");
}

#[test]
fn exp3_update_uses_the_importance_weight() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "policy": "exp3", "gamma": 0.5, "seed": 1}"#);
    // p = (0.5, 0.5): a reward of 1 adds gamma * 1 / (0.5 * 2) = 0.5 to a's log-weight.
    b.update("a", 1.0).unwrap();
    let w = 0.5f64.exp();
    let pa = 0.5 * w / (w + 1.0) + 0.25;
    let p = b.probabilities().unwrap();
    assert!((p[0] - pa).abs() < 1e-15, "{p:?} vs {pa}");
    // A reward of 0 changes no weight.
    b.update("b", 0.0).unwrap();
    assert_eq!(b.probabilities().unwrap(), p);
}

/// Chooses of `config` in rounds 1200..1400 of a problem whose best arm changes at 1000.
fn drift_late_best(config: &str) -> u32 {
    let mut b = bandit(config);
    let mut env = Rng::seed_from_u64(300);
    let mut b_late = 0;
    for round in 0..2000 {
        // Arm a pays 0.8 then 0.2 after round 1000; b pays 0.5 throughout.
        let p = if round < 1000 { [0.8, 0.5] } else { [0.2, 0.5] };
        let i = b.choose_index().unwrap();
        let r = if env.next_f64() < p[i] { 1.0 } else { 0.0 };
        b.update_index(i, r).unwrap();
        if (1200..1400).contains(&round) && i == 1 {
            b_late += 1;
        }
    }
    b_late
}

#[test]
fn windows_and_discounts_follow_a_drifting_best_arm() {
    for policy in ["thompson", "ucb1"] {
        let base = format!(r#""arms": ["a", "b"], "seed": 5, "policy": "{policy}""#);
        let plain = drift_late_best(&format!("{{{base}}}"));
        for extra in [r#""window": 100"#, r#""discount": 0.95"#] {
            let adaptive = drift_late_best(&format!("{{{base}, {extra}}}"));
            assert!(
                adaptive > 100 && f64::from(adaptive) > 1.8 * f64::from(plain),
                "{policy} with {extra}: chose b {adaptive}/200 after the drift, plain {plain}"
            );
        }
    }
    let plain =
        drift_late_best(r#"{"arms": ["a", "b"], "seed": 5, "policy": "exp3", "gamma": 0.2}"#);
    let windowed = drift_late_best(
        r#"{"arms": ["a", "b"], "seed": 5, "policy": "exp3", "gamma": 0.2, "window": 100}"#,
    );
    assert!(
        windowed > 100 && windowed > plain,
        "exp3: window {windowed}, plain {plain}"
    );
}

#[test]
fn window_keeps_only_the_last_rewards() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "window": 3, "seed": 1}"#);
    for (arm, r) in [("a", 1.0), ("a", 0.0), ("b", 1.0), ("a", 1.0)] {
        b.update(arm, r).unwrap();
    }
    // The first (a, 1) left the window.
    let s = b.stats();
    assert_eq!(s.window, Some(3));
    assert_eq!((s.arms[0].pulls, s.arms[0].weight), (3, 2.0));
    assert_eq!((s.arms[0].alpha, s.arms[0].beta), (Some(2.0), Some(2.0)));
    assert_eq!((s.arms[1].weight, s.arms[1].alpha), (1.0, Some(2.0)));
    for _ in 0..3 {
        b.update("a", 0.0).unwrap();
    }
    let s = b.stats();
    assert_eq!(
        (s.arms[1].weight, s.arms[1].alpha, s.arms[1].beta),
        (0.0, Some(1.0), Some(1.0))
    );
    assert_eq!((s.arms[0].weight, s.arms[0].alpha), (3.0, Some(1.0)));
    assert_eq!(s.total_pulls, 7);

    // Gaussian: removing rewards matches statistics computed from the window alone.
    let mut g = bandit(r#"{"arms": ["x", "y"], "model": "gaussian", "window": 5, "seed": 2}"#);
    let mut env = Rng::seed_from_u64(3);
    let mut log = vec![];
    for k in 0..200 {
        let arm = if env.next_f64() < 0.6 { "x" } else { "y" };
        let r = Normal::new(if k < 100 { 1e3 } else { -2.0 }, 3.0)
            .unwrap()
            .sample(&mut env);
        g.update(arm, r).unwrap();
        log.push((arm, r));
    }
    let mut fresh = bandit(r#"{"arms": ["x", "y"], "model": "gaussian", "seed": 2}"#);
    for &(arm, r) in &log[log.len() - 5..] {
        fresh.update(arm, r).unwrap();
    }
    for (w, f) in g.stats().arms.iter().zip(fresh.stats().arms.iter()) {
        assert_eq!(w.weight, f.weight);
        for (x, y) in [
            (w.mean, f.mean),
            (w.alpha.unwrap(), f.alpha.unwrap()),
            (w.beta.unwrap(), f.beta.unwrap()),
        ] {
            assert!((x - y).abs() < 1e-6 * (1.0 + y.abs()), "{w:?} vs {f:?}");
        }
    }
}

#[test]
fn removed_arms_keep_their_place_in_the_window() {
    let mut b = bandit(r#"{"arms": ["a", "b", "c"], "window": 4, "policy": "ucb1"}"#);
    for (arm, r) in [("a", 1.0), ("b", 1.0), ("c", 0.0), ("c", 1.0)] {
        b.update(arm, r).unwrap();
    }
    b.remove_arm("b").unwrap();
    b.update("c", 1.0).unwrap(); // (a, 1) leaves
    b.update("c", 1.0).unwrap(); // b's reward leaves, from no arm
    let s = b.stats();
    assert_eq!(s.arms[0].weight, 0.0);
    assert_eq!(
        (s.arms[1].name.as_str(), s.arms[1].weight, s.arms[1].alpha),
        ("c", 4.0, Some(4.0))
    );
    let restored = Bandit::load_json(&b.save_json()).unwrap();
    assert_eq!(restored, b);
}

#[test]
fn new_policies_refuse_bad_rewards_and_change_nothing() {
    for config in [
        r#"{"arms": ["a", "b"], "policy": "exp3", "window": 4, "seed": 1}"#,
        r#"{"arms": ["a", "b"], "policy": "ucb1", "window": 2, "seed": 1}"#,
        r#"{"arms": ["a", "b"], "policy": "ucb1", "discount": 0.9}"#,
    ] {
        let mut b = bandit(config);
        for _ in 0..5 {
            let i = b.choose_index().unwrap();
            b.update_index(i, 1.0).unwrap();
        }
        let before = b.clone();
        for r in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, 1.5] {
            let e = b.update("a", r).unwrap_err();
            assert_eq!(kind(e), ErrorKind::InvalidArgument, "{config} {r}");
        }
        assert_eq!(kind(b.update("zz", 1.0).unwrap_err()), ErrorKind::NotFound);
        assert_eq!(b, before, "{config}");
    }
    let mut g = bandit(r#"{"arms": ["a"], "model": "gaussian", "policy": "ucb1", "window": 3}"#);
    g.update("a", -5e6).unwrap();
    let before = g.clone();
    for r in [f64::NAN, f64::INFINITY] {
        assert_eq!(
            kind(g.update("a", r).unwrap_err()),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(g, before);
}

#[test]
fn bad_policy_configs_name_the_field() {
    let cases = [
        (
            r#"{"arms": ["a"], "policy": "greedy"}"#,
            ErrorKind::InvalidJson,
            "policy: unknown policy \"greedy\"",
        ),
        (
            r#"{"arms": ["a"], "policy": 3}"#,
            ErrorKind::InvalidJson,
            "invalid type",
        ),
        (
            r#"{"arms": ["a"], "policy": "exp3", "gamma": 0}"#,
            ErrorKind::InvalidConfig,
            "gamma: must be in (0, 1], got 0",
        ),
        (
            r#"{"arms": ["a"], "policy": "exp3", "gamma": 1.5}"#,
            ErrorKind::InvalidConfig,
            "gamma: must be in (0, 1]",
        ),
        (
            r#"{"arms": ["a"], "policy": "exp3", "gamma": -0.1}"#,
            ErrorKind::InvalidConfig,
            "gamma",
        ),
        (
            r#"{"arms": ["a"], "gamma": 0.1}"#,
            ErrorKind::InvalidConfig,
            "gamma: applies only to policy \"exp3\"",
        ),
        (
            r#"{"arms": ["a"], "policy": "ucb1", "gamma": 0.1}"#,
            ErrorKind::InvalidConfig,
            "gamma: applies only",
        ),
        (
            r#"{"arms": ["a"], "policy": "exp3", "model": "gaussian"}"#,
            ErrorKind::InvalidConfig,
            "policy: \"exp3\" needs rewards in [0, 1]",
        ),
        (
            r#"{"arms": ["a"], "policy": "ucb1", "ucb_c": -1}"#,
            ErrorKind::InvalidConfig,
            "ucb_c: must be finite and >= 0",
        ),
        (
            r#"{"arms": ["a"], "policy": "exp3", "ucb_c": 1}"#,
            ErrorKind::InvalidConfig,
            "ucb_c: applies only to policy \"ucb1\"",
        ),
        (
            r#"{"arms": ["a"], "window": 0}"#,
            ErrorKind::InvalidConfig,
            "window: must be at least 1",
        ),
        (
            r#"{"arms": ["a"], "window": -3}"#,
            ErrorKind::InvalidJson,
            "invalid value",
        ),
        (
            r#"{"arms": ["a"], "window": 2.5}"#,
            ErrorKind::InvalidJson,
            "invalid type",
        ),
        (
            r#"{"arms": ["a"], "window": 10, "discount": 0.9}"#,
            ErrorKind::InvalidConfig,
            "window: cannot be combined with discount 0.9",
        ),
    ];
    for (json, expected, needle) in cases {
        let e = Bandit::from_json(json).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.kind(), expected, "{json}: {msg}");
        assert!(msg.starts_with("bandit config"), "{json}: {msg}");
        assert!(msg.contains(needle), "{json}: {msg}");
    }
    // A discount of exactly 1 is no discount: fine with a window.
    bandit(r#"{"arms": ["a"], "window": 10, "discount": 1}"#);
}

const ROUND_TRIP_CONFIGS: [&str; 7] = [
    r#"{"arms": ["a", "b", "c"], "policy": "ucb1", "window": 7, "seed": 1}"#,
    r#"{"arms": ["a", "b", "c"], "model": "gaussian", "policy": "ucb1", "ucb_c": 2, "discount": 0.9}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "exp3", "window": 10, "seed": 2}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "exp3", "gamma": 0.05, "discount": 0.95, "seed": 3}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "exp3", "seed": 4}"#,
    r#"{"arms": ["a", "b", "c"], "model": "gaussian", "window": 5, "seed": 5}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "thompson", "window": 50, "seed": 6}"#,
];

#[test]
fn new_policies_save_and_load_continue_identically() {
    for config in ROUND_TRIP_CONFIGS {
        let mut b = bandit(config);
        let mut env = Rng::seed_from_u64(9);
        for k in 0..40 {
            let i = b.choose_index().unwrap();
            b.update_index(i, (env.next_f64() * 1000.0).round() / 1000.0)
                .unwrap();
            if k == 20 {
                b.remove_arm("b").unwrap();
                b.add_arm("d").unwrap();
            }
        }
        let saved = b.save_json();
        assert!(saved.contains("\"version\":2"), "{saved}");
        let mut restored = Bandit::load_json(&saved).unwrap();
        assert_eq!(restored, b, "{config}");
        assert_eq!(restored.save_json(), saved);
        for _ in 0..60 {
            let i = b.choose_index().unwrap();
            assert_eq!(restored.choose_index().unwrap(), i, "{config}");
            let r = (env.next_f64() * 1000.0).round() / 1000.0;
            b.update_index(i, r).unwrap();
            restored.update_index(i, r).unwrap();
        }
        assert_eq!(restored.save_json(), b.save_json(), "{config}");
        assert_eq!(restored.stats_json(), b.stats_json());
    }
}

#[test]
fn thompson_saves_stay_version_1() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 9, "policy": "thompson"}"#);
    b.update("a", 1.0).unwrap();
    let saved = b.save_json();
    assert!(saved.contains("\"version\":1,"), "{saved}");
    for field in ["policy", "window", "recent", "gamma", "ucb_c", "log_weight"] {
        assert!(!saved.contains(field), "{saved}");
    }
    // The same draws as a bandit configured without "policy".
    let mut plain = bandit(r#"{"arms": ["a", "b"], "seed": 9}"#);
    plain.update("a", 1.0).unwrap();
    assert_eq!(plain.save_json(), saved);
    let stats = b.stats_json();
    assert!(
        !stats.contains("policy") && !stats.contains("probability"),
        "{stats}"
    );
    // A version 1 save written before policies existed.
    let v1 = r#"{"format":"gaia.bandit","version":1,"model":"beta","discount":1.0,"prior":{"alpha":1.0,"beta":1.0},"rng":"RNG","total_pulls":1,"arms":[{"name":"a","pulls":1,"chosen":0,"weight":1.0,"sum":1.0,"m2":0.0},{"name":"b","pulls":0,"chosen":0,"weight":0.0,"sum":0.0,"m2":0.0}]}"#;
    let rng = Rng::seed_from_u64(9).to_hex();
    let mut old = Bandit::load_json(&v1.replace("RNG", &rng)).unwrap();
    assert_eq!(old.policy(), Policy::Thompson);
    assert_eq!(old, b);
    assert_eq!(old.choose_index().unwrap(), b.choose_index().unwrap());
}

#[test]
fn corrupted_v2_saves_are_refused() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "policy": "exp3", "window": 3, "seed": 9}"#);
    b.update("a", 1.0).unwrap();
    b.update("b", 0.0).unwrap();
    let good = b.save_json();
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from} not in {good}");
        good.replacen(from, to, 1)
    };
    let cases = [
        edit("\"version\":2", "\"version\":1"),
        edit("\"version\":2", "\"version\":9"),
        edit("\"gamma\":0.1", "\"gamma\":2.0"),
        edit("\"policy\":\"exp3\"", "\"policy\":\"ucb1\""),
        edit("\"policy\":\"exp3\"", "\"policy\":\"greedy\""),
        edit("\"window\":3", "\"window\":0"),
        edit("\"window\":3", "\"window\":1"),
        edit("\"recent\":[[0,", "\"recent\":[[5,"),
        edit("\"recent\":[[0,1.0", "\"recent\":[[0,0.0"),
        edit("\"recent\":[[0,1.0", "\"recent\":[[0,7.0"),
        edit("\"recent\":[[0,", "\"recent\":[[null,"),
        edit("\"recent\":[", "\"recent\":[[0,1.0,0.0],"),
        edit(",\"log_weight\":", ",\"lw\":"),
        edit("\"discount\":1.0", "\"discount\":0.5"),
        edit("\"total_pulls\":2", "\"total_pulls\":3"),
    ];
    for json in cases {
        let e = Bandit::load_json(&json).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::CorruptState | ErrorKind::UnsupportedVersion
            ),
            "{json}: {e}"
        );
    }
    let window_only = {
        let start = good.find(",\"recent\":").unwrap();
        let end = good.find(",\"prior\":").unwrap();
        format!("{}{}", &good[..start], &good[end..])
    };
    assert_eq!(
        Bandit::load_json(&window_only).unwrap_err().kind(),
        ErrorKind::CorruptState
    );
}

// ---------------------------------------------------------------- tickets and LinTS

const T0: f64 = 1_700_000_000.0;

/// The task types, the arms' success rates per task, and their slopes in the prompt length.
const TABLE: [[f64; 3]; 3] = [[0.8, 0.5, 0.3], [0.4, 0.7, 0.5], [0.3, 0.4, 0.65]];
const SLOPE: [f64; 3] = [-0.1, 0.0, 0.1];

/// A context: bias, one-hot task, prompt length in [0, 1]; and the arms' expected rewards.
fn task_context(env: &mut Rng) -> (Vec<f64>, [f64; 3]) {
    let task = env.below(3) as usize;
    let len = env.next_f64();
    let mut x = vec![1.0, 0.0, 0.0, 0.0, len];
    x[1 + task] = 1.0;
    let mut means = [0.0; 3];
    for (a, m) in means.iter_mut().enumerate() {
        *m = TABLE[task][a] + SLOPE[a] * (len - 0.5);
    }
    (x, means)
}

#[test]
fn lints_learns_a_best_arm_that_depends_on_the_context() {
    for (seed, v) in [(1u64, ""), (2, r#", "v": 0.5"#), (3, r#", "lambda": 0.5"#)] {
        let mut b = bandit(&format!(
            r#"{{"arms": ["a", "b", "c"], "policy": "lints", "features": 5, "seed": {seed}{v}}}"#
        ));
        let mut env = Rng::seed_from_u64(700 + seed);
        let (mut best_late, mut late) = (0, 0);
        for round in 0..4000 {
            let (x, means) = task_context(&mut env);
            let t = b.ask_at(&x, T0 + round as f64).unwrap();
            let best = (0..3).fold(0, |b, a| if means[a] > means[b] { a } else { b });
            if round >= 3000 {
                late += 1;
                best_late += usize::from(t.arm == best);
            }
            let r = f64::from(u8::from(env.next_f64() < means[t.arm]));
            assert_eq!(b.tell_at(t.id, r, T0 + round as f64 + 0.5).unwrap(), t.arm);
        }
        assert!(
            best_late * 10 > late * 9,
            "seed {seed}{v}: best arm {best_late}/{late} in the last rounds"
        );
        let s = b.stats();
        assert_eq!((s.pending, s.expired, s.total_pulls), (0, 0, 4000));
        assert_eq!(s.model, Model::Gaussian);
        assert_eq!(s.features, Some(5));
        let theta = s.arms[0].theta.as_ref().unwrap();
        // Arm a on task 0 (bias + one-hot) at mid length: about 0.8.
        let at_task0 = theta[0] + theta[1] + 0.5 * theta[4];
        assert!((at_task0 - 0.8).abs() < 0.1, "{theta:?}");
        assert!(s.arms[0].alpha.is_none() && s.arms[0].kappa.is_none());
    }
}

/// `(lambda I + sum x x^T, sum r x)` accumulated directly, for comparisons.
fn direct(d: usize, lambda: f64) -> (Vec<f64>, Vec<f64>) {
    let mut b = vec![0.0; d * d];
    for i in 0..d {
        b[i * d + i] = lambda;
    }
    (b, vec![0.0; d])
}

#[test]
fn lints_posterior_stays_close_to_a_direct_solve_over_100k_updates() {
    use crate::stats::linalg::{cholesky, cholesky_solve, solve_lower};
    let d = 32;
    let lambda = 0.5;
    let mut model = Linear::new(d, lambda);
    let (mut gram, mut f) = direct(d, lambda);
    let mut env = Rng::seed_from_u64(42);
    let mut work = vec![0.0; d];
    let mut x = vec![0.0; d];
    for n in 0..100_000 {
        // Correlated, differently scaled features, a few exact zeros, rewards with an outlier
        // now and then: what drifts a Sherman-Morrison inverse.
        let common = standard_normal(&mut env);
        for (i, xi) in x.iter_mut().enumerate() {
            let scale = 10f64.powi(i as i32 % 5 - 2);
            *xi = if (n + i) % 7 == 0 {
                0.0
            } else {
                scale * (common + 0.3 * standard_normal(&mut env))
            };
        }
        let r = x[0] - 2.0 * x[3] + if n % 1000 == 0 { 50.0 } else { 0.1 };
        model.update(&x, r, &mut work);
        for i in 0..d {
            f[i] += r * x[i];
            for j in 0..d {
                gram[i * d + j] += x[i] * x[j];
            }
        }
    }
    let l = cholesky(&gram, d).unwrap();
    let mu = cholesky_solve(&l, d, &f).unwrap();
    let scale = mu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in model.mean().iter().zip(&mu) {
        assert!((a - b).abs() <= 1e-7 * scale, "mu {a} vs direct {b}");
    }
    for (a, b) in model.gram().iter().zip(&gram) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "B {a} vs {b}");
    }
    for probe in 0..20 {
        let x: Vec<f64> = (0..d)
            .map(|i| {
                if (i + probe) % 3 == 0 {
                    1.0
                } else {
                    standard_normal(&mut env)
                }
            })
            .collect();
        let (mean, var) = model.predict(&x, &mut work);
        let z = solve_lower(&l, d, &x).unwrap();
        let var_direct: f64 = z.iter().map(|v| v * v).sum();
        let mean_direct: f64 = x.iter().zip(&mu).map(|(a, b)| a * b).sum();
        assert!(
            (var - var_direct).abs() <= 1e-8 * var_direct,
            "{var} vs {var_direct}"
        );
        assert!((mean - mean_direct).abs() <= 1e-7 * (1.0 + mean_direct.abs()));
    }
}

#[test]
fn lints_with_few_updates_is_the_ridge_solution() {
    use crate::stats::linalg::{cholesky, cholesky_solve};
    let mut b =
        bandit(r#"{"arms": ["a", "b"], "policy": "lints", "features": 3, "lambda": 2, "seed": 1}"#);
    let obs = [
        ([1.0, 0.0, 2.0], 1.0),
        ([0.5, -1.0, 0.0], -0.5),
        ([0.0, 3.0, 1.0], 2.0),
    ];
    let (mut gram, mut f) = direct(3, 2.0);
    for (k, (x, r)) in obs.iter().enumerate() {
        // Ask until arm a comes up, then tell it; tell b's tickets something else.
        loop {
            let t = b.ask_at(x, T0 + k as f64).unwrap();
            if t.arm == 0 {
                b.tell_at(t.id, *r, T0 + k as f64).unwrap();
                break;
            }
            b.tell_at(t.id, 0.0, T0 + k as f64).unwrap();
        }
        for i in 0..3 {
            f[i] += r * x[i];
            for j in 0..3 {
                gram[i * 3 + j] += x[i] * x[j];
            }
        }
    }
    let mu = cholesky_solve(&cholesky(&gram, 3).unwrap(), 3, &f).unwrap();
    let theta = b.stats().arms[0].theta.clone().unwrap();
    for (a, e) in theta.iter().zip(&mu) {
        assert!((a - e).abs() < 1e-12, "{theta:?} vs {mu:?}");
    }
    // A new arm starts at the prior.
    b.add_arm("c").unwrap();
    assert_eq!(b.stats().arms[2].theta, Some(vec![0.0; 3]));
}

#[test]
fn ask_chooses_exactly_as_choose_and_tells_in_any_order() {
    // (Thompson sampling only: UCB1 spreads asks in flight over untried arms, and EXP3
    // weighs a tell by the probability at its ask, where choose + update cannot.)
    for config in [
        r#"{"arms": ["a", "b", "c"], "seed": 3}"#,
        r#"{"arms": ["a", "b", "c"], "model": "gaussian", "seed": 3, "window": 7}"#,
    ] {
        let mut asked = bandit(config);
        let mut chosen = bandit(config);
        let mut env = Rng::seed_from_u64(5);
        for round in 0..30 {
            // Five asks in flight, told in reverse order.
            let tickets: Vec<Ticket> = (0..5)
                .map(|k| asked.ask_at(&[], T0 + round as f64 + k as f64).unwrap())
                .collect();
            let arms: Vec<usize> = (0..5).map(|_| chosen.choose_index().unwrap()).collect();
            assert_eq!(tickets.iter().map(|t| t.arm).collect::<Vec<_>>(), arms);
            for t in tickets.iter().rev() {
                let r = (env.next_f64() * 100.0).round() / 100.0;
                asked.tell_at(t.id, r, T0 + round as f64 + 9.0).unwrap();
                chosen.update_index(t.arm, r).unwrap();
            }
        }
        assert_eq!(asked.stats_json(), chosen.stats_json(), "{config}");
        assert_eq!(asked.stats().pending, 0);
    }
}

#[test]
fn ucb1_spreads_asks_in_flight_over_the_untried_arms() {
    let mut b = bandit(r#"{"arms": ["a", "b", "c"], "policy": "ucb1"}"#);
    let arms: Vec<usize> = (0..5).map(|_| b.ask_at(&[], T0).unwrap().arm).collect();
    assert_eq!(arms, [0, 1, 2, 0, 1]);
    b.tell_at(3, 1.0, T0).unwrap(); // c has evidence now; a and b wait for two each
    assert_eq!(b.ask_at(&[], T0).unwrap().arm, 0);
    assert_eq!(b.ask_at(&[], T0).unwrap().arm, 1);
}

#[test]
fn tickets_count_up_and_expire_after_the_ttl() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 1, "pending_ttl_s": 600}"#);
    let t1 = b.ask_at(&[], 0.0).unwrap();
    let t2 = b.ask_at(&[], 100.0).unwrap();
    let t3 = b.ask_at(&[], 200.0).unwrap();
    assert_eq!((t1.id, t2.id, t3.id), (1, 2, 3));
    // Exactly the ttl old is not expired yet.
    b.tell_at(t1.id, 1.0, 600.0).unwrap();
    assert_eq!(b.expire_at(700.0).unwrap(), 0);
    assert_eq!(b.expire_at(700.5).unwrap(), 1);
    let e = b.tell_at(t2.id, 1.0, 701.0).unwrap_err();
    assert_eq!(e.to_string(), "ticket 2 expired after 600 s");
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    let before = b.clone();
    let e = b.tell_at(t1.id, 1.0, 701.0).unwrap_err();
    assert_eq!(e.to_string(), "ticket 1 was already told");
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    let e = b.tell_at(99, 1.0, 701.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown ticket 99: the asks so far returned tickets 1 to 3"
    );
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        b.tell_at(0, 1.0, 701.0).unwrap_err().to_string(),
        "unknown ticket 0: tickets start at 1"
    );
    let e = b.tell_at(t3.id, 1.5, 701.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        b.tell_at(t3.id, f64::NAN, 701.0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(b, before, "refused tells change nothing");
    let s = b.stats();
    assert_eq!((s.pending, s.expired, s.total_pulls), (1, 1, 1));
    b.tell_at(t3.id, 0.0, 701.0).unwrap();
    assert_eq!(
        Bandit::from_json(r#"{"arms": ["a"]}"#)
            .unwrap()
            .tell(1, 1.0)
            .unwrap_err()
            .to_string(),
        "unknown ticket 1: no ask has returned a ticket yet"
    );
    // NaN and infinite times are refused before anything happens.
    let before = b.clone();
    for t in [f64::NAN, f64::INFINITY] {
        assert_eq!(
            b.ask_at(&[], t).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            b.tell_at(3, 1.0, t).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(b
            .expire_at(t)
            .unwrap_err()
            .to_string()
            .contains("finite unix seconds"));
    }
    assert_eq!(b, before);
}

#[test]
fn ask_times_never_decrease_so_expiry_stays_in_ticket_order() {
    let mut b = bandit(r#"{"arms": ["a"], "seed": 1, "pending_ttl_s": 10}"#);
    b.ask_at(&[], 100.0).unwrap();
    b.ask_at(&[], 50.0).unwrap(); // the clock went back: recorded at 100
    assert_eq!(b.expire_at(105.0).unwrap(), 0);
    assert_eq!(b.expire_at(110.5).unwrap(), 2);
}

#[test]
fn expired_asks_count_as_the_expired_reward() {
    let mut b =
        bandit(r#"{"arms": ["a", "b"], "seed": 2, "pending_ttl_s": 30, "expired_reward": 0}"#);
    let mut asked = [0u64; 2];
    for k in 0..10 {
        asked[b.ask_at(&[], k as f64).unwrap().arm] += 1;
    }
    let t = b.ask_at(&[], 20.0).unwrap();
    b.tell_at(t.id, 1.0, 21.0).unwrap();
    // At 45 the asks of 0..=14 s expire: all ten.
    let s = {
        b.expire_at(45.0).unwrap();
        b.stats()
    };
    assert_eq!((s.pending, s.expired, s.total_pulls), (0, 10, 11));
    assert_eq!(s.expired_reward, Some(0.0));
    for (i, a) in s.arms.iter().enumerate() {
        let told = u64::from(i == t.arm);
        assert_eq!(a.pulls, asked[i] + told);
        assert_eq!(a.beta.unwrap(), 1.0 + asked[i] as f64, "{a:?}");
    }
    assert_eq!(
        b.tell_at(1, 1.0, 46.0).unwrap_err().to_string(),
        "ticket 1 expired after 30 s and counted as reward 0"
    );

    // LinTS: an expired ask teaches the model the expired reward at its context.
    let mut lin = bandit(
        r#"{"arms": ["x"], "policy": "lints", "features": 2, "pending_ttl_s": 5, "expired_reward": -1, "seed": 1}"#,
    );
    for k in 0..20 {
        lin.ask_at(&[1.0, 0.5], k as f64 * 10.0).unwrap();
    }
    lin.expire_at(1e6).unwrap();
    let s = lin.stats();
    assert_eq!((s.expired, s.total_pulls), (20, 20));
    let theta = s.arms[0].theta.clone().unwrap();
    assert!((theta[0] + 0.5 * theta[1] + 1.0).abs() < 0.1, "{theta:?}");
}

#[test]
fn the_closed_log_is_bounded_but_still_names_what_it_can() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 3, "pending_ttl_s": 1}"#);
    let n = MAX_CLOSED as u64 + 10;
    for k in 0..n {
        b.ask_at(&[], k as f64 * 100.0).unwrap();
    }
    let t = b.ask_at(&[], n as f64 * 100.0).unwrap();
    b.tell_at(t.id, 1.0, n as f64 * 100.0).unwrap();
    let s = b.stats();
    assert_eq!((s.expired, s.pending), (n, 0));
    let e = b.tell_at(1, 1.0, 0.0).unwrap_err().to_string();
    assert!(e.starts_with("ticket 1 is no longer pending"), "{e}");
    let e = b.tell_at(n, 1.0, 0.0).unwrap_err().to_string();
    assert_eq!(e, format!("ticket {n} expired after 1 s"));
    assert_eq!(
        b.tell_at(t.id, 1.0, 0.0).unwrap_err().to_string(),
        format!("ticket {} was already told", t.id)
    );
    let saved = b.save_json();
    let restored = Bandit::load_json(&saved).unwrap();
    assert_eq!(restored, b);
    assert_eq!(restored.tickets.closed.len(), MAX_CLOSED);
}

#[test]
fn removing_an_arm_drops_its_pending_tickets() {
    for config in [
        r#"{"arms": ["a", "b", "c"], "policy": "ucb1"}"#,
        r#"{"arms": ["a", "b", "c"], "policy": "lints", "features": 1, "seed": 4}"#,
    ] {
        let mut b = bandit(config);
        let mut by_arm = [vec![], vec![], vec![]];
        let mut k = 0.0;
        while by_arm.iter().any(Vec::is_empty) {
            let t = b.ask_at(&[1.0][..b.rule.features()], k).unwrap();
            by_arm[t.arm].push(t.id);
            k += 1.0;
            assert!(k < 1000.0, "{config}: some arm never chosen");
        }
        b.remove_arm("b").unwrap();
        let e = b.tell_at(by_arm[1][0], 0.5, k).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "ticket {} was dropped when its arm \"b\" was removed",
                by_arm[1][0]
            )
        );
        assert_eq!(e.kind(), ErrorKind::InvalidState);
        // c moved down to index 1 and its tickets with it.
        assert_eq!(b.tell_at(by_arm[2][0], 0.5, k).unwrap(), 1);
        assert_eq!(b.stats().arms[1].pulls, 1);
        assert_eq!(
            b.stats().pending as usize,
            by_arm[0].len() + by_arm[2].len() - 1
        );
        let restored = Bandit::load_json(&b.save_json()).unwrap();
        assert_eq!(restored, b);
    }
}

#[test]
fn exp3_tells_weigh_by_the_probability_at_the_ask() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "policy": "exp3", "gamma": 0.2, "seed": 5}"#);
    let t = b.ask_at(&[], 0.0).unwrap();
    let p_at_ask = b.probabilities().unwrap()[t.arm];
    let other = 1 - t.arm;
    b.update_index(other, 1.0).unwrap(); // the probabilities move
    assert_ne!(b.probabilities().unwrap()[t.arm], p_at_ask);
    let before = b.arms[t.arm].log_weight.unwrap();
    b.tell_at(t.id, 1.0, 1.0).unwrap();
    let gain = b.arms[t.arm].log_weight.unwrap() - before;
    assert!((gain - 0.2 / (p_at_ask * 2.0)).abs() < 1e-12, "{gain}");
}

#[test]
fn bad_contexts_and_calls_are_refused_and_change_nothing() {
    let mut lin = bandit(r#"{"arms": ["a", "b"], "policy": "lints", "features": 3, "seed": 6}"#);
    let t = lin.ask_at(&[1.0, 2.0, 3.0], T0).unwrap();
    let before = lin.clone();
    let cases: [(&[f64], &str); 6] = [
        (
            &[],
            "context: policy \"lints\" needs a context of 3 features with every ask, got none",
        ),
        (&[1.0, 2.0], "context: expected 3 features, got 2"),
        (&[1.0, 2.0, 3.0, 4.0], "context: expected 3 features, got 4"),
        (
            &[1.0, f64::NAN, 3.0],
            "context: context[1] must be finite and at most 1e9 in magnitude, got NaN",
        ),
        (&[f64::INFINITY, 0.0, 0.0], "context[0] must be finite"),
        (&[0.0, 0.0, -2e9], "got -2000000000"),
    ];
    for (x, needle) in cases {
        let e = lin.ask_at(x, T0 + 1.0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
    for e in [
        lin.choose_index().unwrap_err(),
        lin.update("a", 1.0).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidState);
        assert!(
            e.to_string().starts_with("policy \"lints\" is contextual"),
            "{e}"
        );
    }
    for r in [f64::NAN, f64::INFINITY, 2e12] {
        let e = lin.tell_at(t.id, r, T0 + 1.0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().starts_with("reward for arm"), "{e}");
    }
    assert_eq!(lin, before);
    lin.tell_at(t.id, -3.5, T0 + 1.0).unwrap();

    let mut plain = bandit(r#"{"arms": ["a"], "seed": 6}"#);
    let before = plain.clone();
    let e = plain.ask_at(&[1.0], T0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "context: policy \"thompson\" takes no context, got 1 features (only \"lints\" is contextual)"
    );
    assert_eq!(plain, before);
    let mut empty = bandit(r#"{"arms": [], "policy": "lints", "features": 2}"#);
    assert_eq!(
        empty.ask_at(&[1.0, 1.0], T0).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}

#[test]
fn bad_lints_and_ticket_configs_name_the_field() {
    let cases = [
        (
            r#"{"arms": ["a"], "policy": "lints"}"#,
            "features: policy \"lints\" needs",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 0}"#,
            "features: must be 1 to 1024, got 0",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 1025}"#,
            "features: must be 1 to 1024",
        ),
        (
            r#"{"arms": ["a"], "features": 3}"#,
            "features: applies only to policy \"lints\", not \"thompson\"",
        ),
        (
            r#"{"arms": ["a"], "policy": "ucb1", "lambda": 1}"#,
            "lambda: applies only",
        ),
        (
            r#"{"arms": ["a"], "policy": "exp3", "v": 1}"#,
            "v: applies only",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "lambda": 0}"#,
            "lambda: must be in [1e-6, 1e6], got 0",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "lambda": 1e7}"#,
            "lambda: must be in",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "v": 0}"#,
            "v: must be finite and > 0, got 0",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "v": -1}"#,
            "v: must be finite",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "model": "beta"}"#,
            "model: policy \"lints\" models real-valued rewards",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "discount": 0.9}"#,
            "discount: policy \"lints\"",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "window": 10}"#,
            "window: policy \"lints\"",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 2, "prior": {"alpha": 2}}"#,
            "prior: does not apply",
        ),
        (
            r#"{"arms": ["a"], "pending_ttl_s": 0}"#,
            "pending_ttl_s: must be finite and > 0, got 0",
        ),
        (
            r#"{"arms": ["a"], "pending_ttl_s": -5}"#,
            "pending_ttl_s: must be",
        ),
        (
            r#"{"arms": ["a"], "expired_reward": 1.5}"#,
            "expired_reward: must be in [0, 1] for the beta model, got 1.5",
        ),
        (
            r#"{"arms": ["a"], "policy": "lints", "features": 1, "expired_reward": 1e13}"#,
            "expired_reward: must be at most 1e12",
        ),
    ];
    for (json, needle) in cases {
        let e = Bandit::from_json(json).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{json}: {e}");
        assert!(e.to_string().starts_with("bandit config: "), "{e}");
        assert!(e.to_string().contains(needle), "{json}: {e}");
    }
    let e = Bandit::from_json(r#"{"arms": ["a"], "policy": "linucb"}"#).unwrap_err();
    assert!(e.to_string().contains("\"lints\""), "{e}");
    // Accepted: gaussian said explicitly, expired_reward inside the model's range.
    bandit(
        r#"{"arms": ["a"], "policy": "lints", "features": 2, "model": "gaussian", "expired_reward": -2}"#,
    );
    bandit(r#"{"arms": ["a"], "policy": "exp3", "expired_reward": 0, "pending_ttl_s": 0.5}"#);
}

const PENDING_CONFIGS: [&str; 4] = [
    r#"{"arms": ["a", "b", "c"], "seed": 7, "pending_ttl_s": 50}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "exp3", "seed": 7, "expired_reward": 0, "pending_ttl_s": 50}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "ucb1", "window": 20, "model": "gaussian"}"#,
    r#"{"arms": ["a", "b", "c"], "policy": "lints", "features": 4, "v": 0.3, "seed": 7, "pending_ttl_s": 50}"#,
];

#[test]
fn save_and_load_carry_pending_tickets_and_continue_identically() {
    for config in PENDING_CONFIGS {
        let mut b = bandit(config);
        let d = b.rule.features();
        let mut env = Rng::seed_from_u64(11);
        let context =
            |env: &mut Rng| -> Vec<f64> { (0..d).map(|_| env.next_f64() - 0.5).collect() };
        let mut open = vec![];
        for k in 0..40 {
            let t = b.ask_at(&context(&mut env), k as f64).unwrap();
            open.push(t.id);
            if k % 3 == 0 {
                let id = open.remove(0);
                let _ = b.tell_at(id, (env.next_f64() * 100.0).round() / 100.0, k as f64 + 0.5);
            }
            if k == 25 {
                b.remove_arm("b").unwrap();
                b.add_arm("d").unwrap();
            }
        }
        let saved = b.save_json();
        assert!(saved.contains("\"version\":3"), "{saved}");
        assert!(saved.contains("\"pending\":[{\"ticket\":"), "{saved}");
        let mut restored = Bandit::load_json(&saved).unwrap();
        assert_eq!(restored, b, "{config}");
        assert_eq!(restored.save_json(), saved);
        for k in 40..80 {
            let x = context(&mut env);
            let t = b.ask_at(&x, k as f64).unwrap();
            assert_eq!(restored.ask_at(&x, k as f64).unwrap(), t, "{config}");
            open.push(t.id);
            let id = open.remove(0);
            let r = (env.next_f64() * 100.0).round() / 100.0;
            let a = b.tell_at(id, r, k as f64 + 0.5).map_err(|e| e.to_string());
            assert_eq!(
                restored
                    .tell_at(id, r, k as f64 + 0.5)
                    .map_err(|e| e.to_string()),
                a
            );
        }
        assert_eq!(restored.save_json(), b.save_json(), "{config}");
        assert_eq!(restored.stats_json(), b.stats_json());
    }
}

#[test]
fn versions_grow_only_with_what_the_bandit_uses() {
    let mut b = bandit(r#"{"arms": ["a", "b"], "seed": 1}"#);
    b.update("a", 1.0).unwrap();
    assert!(b.save_json().contains("\"version\":1,"));
    let t = b.ask_at(&[], T0).unwrap();
    let saved = b.save_json();
    assert!(saved.contains("\"version\":3,"), "{saved}");
    assert!(saved.contains("\"next_ticket\":2"), "{saved}");
    b.tell_at(t.id, 0.0, T0).unwrap();
    // Told: nothing pending, but the ticket counter must survive (no ticket is reused).
    let restored = Bandit::load_json(&b.save_json()).unwrap();
    assert_eq!(restored.tickets.next, 2);
    let w = bandit(r#"{"arms": ["a"], "window": 3}"#);
    assert!(w.save_json().contains("\"version\":2,"));
    let ttl = bandit(r#"{"arms": ["a"], "pending_ttl_s": 60}"#);
    assert!(ttl.save_json().contains("\"version\":3,"));
    let lin = bandit(r#"{"arms": ["a"], "policy": "lints", "features": 2}"#);
    let saved = lin.save_json();
    assert!(saved.contains("\"version\":3,"), "{saved}");
    assert!(
        saved.contains("\"lin\":{\"l\":[1.0,0.0,1.0],\"f\":[0.0,0.0]}"),
        "{saved}"
    );
    assert!(saved.contains("\"prior\":{}"), "{saved}");
    // Version 3 fields in an older version, and a future version, are refused.
    let saved = ttl.save_json();
    for (from, to, kind) in [
        ("\"version\":3", "\"version\":2", ErrorKind::CorruptState),
        ("\"version\":3", "\"version\":1", ErrorKind::CorruptState),
        (
            "\"version\":3",
            "\"version\":9",
            ErrorKind::UnsupportedVersion,
        ),
    ] {
        let e = Bandit::load_json(&saved.replacen(from, to, 1)).unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
    }
}

#[test]
fn corrupted_v3_saves_are_refused() {
    let mut b = bandit(
        r#"{"arms": ["a", "b"], "policy": "lints", "features": 2, "seed": 9, "pending_ttl_s": 100}"#,
    );
    let t1 = b.ask_at(&[1.0, 2.0], 10.0).unwrap();
    b.ask_at(&[3.0, 4.0], 20.0).unwrap();
    b.tell_at(t1.id, 1.0, 30.0).unwrap();
    b.ask_at(&[0.5, 0.5], 40.0).unwrap();
    b.remove_arm("b").unwrap();
    b.add_arm("b").unwrap();
    b.ask_at(&[0.5, 0.5], 50.0).unwrap();
    let good = b.save_json();
    assert!(Bandit::load_json(&good).is_ok(), "{good}");
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from} not in {good}");
        good.replacen(from, to, 1)
    };
    let n = b.tickets.next;
    let first = *b.tickets.pending.keys().next().unwrap();
    let cases = [
        edit(&format!("\"next_ticket\":{n}"), "\"next_ticket\":0"),
        edit(&format!("\"next_ticket\":{n}"), "\"next_ticket\":2"),
        edit(
            &format!("\"next_ticket\":{n}"),
            "\"next_ticket\":9007199254740993",
        ),
        edit(
            &format!("{{\"ticket\":{first},\"arm\":"),
            "{\"ticket\":99,\"arm\":",
        ),
        edit(
            &format!("{{\"ticket\":{first},\"arm\":"),
            &format!("{{\"ticket\":{first},\"arm\":7,\"x\":"),
        ),
        edit("\"context\":[", "\"context\":[1.0,"),
        edit("\"context\":[", "\"context\":[1e10,"),
        edit("\"context\":[", "\"p\":0.5,\"context\":["),
        edit("\"features\":2", "\"features\":3"),
        edit("\"lambda\":1.0", "\"lambda\":4.0"),
        edit("\"l\":[", "\"l\":[-"),
        edit("\"l\":[", "\"l\":[1.0,"),
        edit(",\"lin\":{", ",\"lin\":null,\"x\":{"),
        edit("\"model\":\"gaussian\"", "\"model\":\"beta\""),
        edit("\"prior\":{}", "\"prior\":{\"alpha\":1.0}"),
        edit("\"pending_ttl_s\":100.0", "\"pending_ttl_s\":-1.0"),
        edit("\"closed\":[[", "\"closed\":[[0,null],["),
        edit("\"closed\":[[", &format!("\"closed\":[[{first},null],[")),
        edit("\"rng\":", "\"closed_horizon\":99999,\"rng\":"),
    ];
    for json in cases {
        let e = Bandit::load_json(&json).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::CorruptState | ErrorKind::UnsupportedVersion
            ),
            "{json}: {e}"
        );
    }
    // Pending asks out of time order.
    let mut two = bandit(r#"{"arms": ["a"], "seed": 1}"#);
    two.ask_at(&[], 10.0).unwrap();
    two.ask_at(&[], 20.0).unwrap();
    let saved = two.save_json().replacen("\"at\":20.0", "\"at\":5.0", 1);
    assert_eq!(
        Bandit::load_json(&saved).unwrap_err().kind(),
        ErrorKind::CorruptState
    );
}
