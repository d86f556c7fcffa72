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
            edit("\"version\":1", "\"version\":2"),
            ErrorKind::UnsupportedVersion,
            "version 2",
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
