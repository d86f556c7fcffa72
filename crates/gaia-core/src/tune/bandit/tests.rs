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
        (a.alpha - 4.5).abs() < 1e-12 && (a.beta - 4.5).abs() < 1e-12,
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
    assert!((a.alpha - 2.5).abs() < 1e-12);
    assert!((a.beta - 3.5).abs() < 1e-12, "{a:?}");
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
            edit("\"version\":1", "\"version\":3"),
            ErrorKind::UnsupportedVersion,
            "version 3",
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
    assert_eq!((s.arms[0].alpha, s.arms[0].beta), (2.0, 2.0));
    assert_eq!((s.arms[1].weight, s.arms[1].alpha), (1.0, 2.0));
    for _ in 0..3 {
        b.update("a", 0.0).unwrap();
    }
    let s = b.stats();
    assert_eq!(
        (s.arms[1].weight, s.arms[1].alpha, s.arms[1].beta),
        (0.0, 1.0, 1.0)
    );
    assert_eq!((s.arms[0].weight, s.arms[0].alpha), (3.0, 1.0));
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
        for (x, y) in [(w.mean, f.mean), (w.alpha, f.alpha), (w.beta, f.beta)] {
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
        ("c", 4.0, 4.0)
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
        edit("\"version\":2", "\"version\":3"),
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
