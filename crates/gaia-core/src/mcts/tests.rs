#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use super::*;
use crate::error::ErrorKind;
use crate::stats::Rng;

/// The synthetic task HQR-1: a new answer has hidden quality cap c = u^K and score
/// q = c (0.3 + 0.5 v); refining moves q towards c by R with noise, never past c.
struct Hqr {
    rng: Rng,
    hidden: Vec<(f64, f64)>, // (c, q) per node id; the root's is unused
}

impl Hqr {
    fn new(seed: u64) -> Hqr {
        Hqr {
            rng: Rng::seed_from_u64(seed),
            hidden: vec![(0.0, 0.0)],
        }
    }
    /// The new answer's (c, q) for an expansion of `node` by action `a` (K, R per action).
    fn answer(&mut self, node: u32, a: u16) -> (f64, f64) {
        let (k, r) = if a == 0 { (2.0, 0.3) } else { (3.0, 0.15) };
        if node == 0 {
            let (u, v) = (self.rng.next_f64(), self.rng.next_f64());
            let c = u.powf(k);
            (c, c * (0.3 + 0.5 * v))
        } else {
            let (c, q) = self.hidden[node as usize];
            let noise = 0.05 * crate::stats::standard_normal(&mut self.rng);
            (c, (q + r * (c - q) + noise).clamp(0.0, c))
        }
    }
    fn run(&mut self, s: &mut Search, steps: usize) -> f64 {
        let mut best: f64 = 0.0;
        for _ in 0..steps {
            let t = s.ask(1).unwrap()[0];
            let (c, q) = self.answer(t.node, t.action);
            let id = s.tell(t.id, q, Payload::None).unwrap();
            assert_eq!(id as usize, self.hidden.len());
            self.hidden.push((c, q));
            best = best.max(q);
        }
        best
    }
}

fn search(extra: &str) -> Search {
    Search::from_json(&format!(r#"{{"seed": 7 {extra}}}"#)).unwrap()
}

/// A pending trial for an expansion of `node` by action 0, bypassing selection.
fn force(s: &mut Search, node: u32) -> u64 {
    let id = s.trials.len() as u64;
    s.trials.push(Trial {
        id,
        node,
        action: 0,
        state: TrialState::Pending,
    });
    id
}

#[test]
fn posteriors_are_routed_as_treequest_does() {
    let mut s = search("");
    // root -> a (0.5) -> b (0.7) -> c (0.9), and root -> d (0.2).
    let t = force(&mut s, 0);
    let a = s.tell(t, 0.5, Payload::None).unwrap();
    let t = force(&mut s, a);
    let b = s.tell(t, 0.7, Payload::None).unwrap();
    let t = force(&mut s, b);
    let c = s.tell(t, 0.9, Payload::None).unwrap();
    let t = force(&mut s, 0);
    let d = s.tell(t, 0.2, Payload::None).unwrap();
    let n = |i: u32| &s.nodes[i as usize];
    // GEN of P: P's direct children. CONT of P: every score two or more levels below.
    assert_eq!(n(0).gen_cont[0].n, 2.0); // a, d
    assert!((n(0).gen_cont[0].mean - 0.35).abs() < 1e-12);
    assert_eq!(n(0).gen_cont[1].n, 2.0); // b, c
    assert!((n(0).gen_cont[1].mean - 0.8).abs() < 1e-12);
    assert_eq!((n(a).gen_cont[0].n, n(a).gen_cont[1].n), (1.0, 1.0));
    assert_eq!((n(b).gen_cont[0].n, n(b).gen_cont[1].n), (1.0, 0.0));
    // A child's posterior in its parent: its own score and its subtree's.
    assert_eq!(n(a).as_child.n, 3.0);
    assert!((n(a).as_child.mean - 0.7).abs() < 1e-12);
    assert_eq!(
        (n(b).as_child.n, n(c).as_child.n, n(d).as_child.n),
        (2.0, 1.0, 1.0)
    );
    assert_eq!(s.action_global[0].n, 4.0);
    assert_eq!(s.node(c).unwrap().depth, 3);
}

#[test]
fn ab_mcts_a_widens_deepens_and_improves_on_hqr() {
    let mut means = Vec::new();
    for seed in 0..20 {
        let mut s = Search::from_json(&format!(r#"{{"seed": {seed}}}"#)).unwrap();
        let best = Hqr::new(seed).run(&mut s, 300);
        means.push(best);
        let root = s.node(0).unwrap();
        assert!(root.children > 1, "root width {}", root.children);
        assert!(s.nodes.iter().any(|n| n.depth >= 3), "never refined deeply");
    }
    let mean = means.iter().sum::<f64>() / 20.0;
    // A first answer's expected score is E[c] * 0.55 = 0.18; the best of 300 steps is far above.
    assert!(mean > 0.7, "mean best {mean}");
}

#[test]
fn two_actions_the_bandit_prefers_the_better_one() {
    for selection in ["thompson", "ucb", "stack"] {
        // Action 0 (K=2, R=0.3) gives better answers and refinements than action 1
        // (K=3, R=0.15); over several seeds the search uses it more.
        let (mut good, mut weak) = (0, 0);
        for seed in 0..8 {
            let mut s = Search::from_json(&format!(
                r#"{{"seed": {seed}, "actions": ["good", "weak"], "selection": "{selection}"}}"#
            ))
            .unwrap();
            Hqr::new(seed).run(&mut s, 200);
            good += s.nodes.iter().skip(1).filter(|n| n.action == 0).count();
            weak += s.nodes.iter().skip(1).filter(|n| n.action == 1).count();
        }
        assert!(good > weak, "{selection}: good {good} weak {weak}");
        assert!(weak > 0, "{selection}: the other action is still tried");
    }
}

#[test]
fn tells_in_any_order_idempotent_and_bad_input_changes_nothing() {
    let mut s = search(r#", "actions": ["a", "b"]"#);
    let ts = s.ask(3).unwrap();
    assert_eq!(ts.len(), 3);
    let n2 = s.tell(ts[2].id, 0.4, Payload::Id(99)).unwrap();
    let n0 = s
        .tell(ts[0].id, 0.6, Payload::Bytes(b"answer".to_vec().into()))
        .unwrap();
    assert_eq!(
        s.tell(ts[2].id, 0.9, Payload::None).unwrap(),
        n2,
        "idempotent"
    );
    assert_eq!(s.node(n2).unwrap().score, Some(0.4));
    assert_eq!(*s.node(n2).unwrap().payload, Payload::Id(99));
    assert_eq!(
        *s.node(n0).unwrap().payload,
        Payload::Bytes(b"answer".to_vec().into())
    );
    let before = s.save();
    let cases: Vec<(Error, ErrorKind, &str)> = vec![
        (
            s.tell(ts[1].id, 1.5, Payload::None).unwrap_err(),
            ErrorKind::InvalidArgument,
            "score must be in [0, 1], got 1.5",
        ),
        (
            s.tell(ts[1].id, f64::NAN, Payload::None).unwrap_err(),
            ErrorKind::InvalidArgument,
            "got NaN",
        ),
        (
            s.tell(77, 0.5, Payload::None).unwrap_err(),
            ErrorKind::NotFound,
            "unknown trial 77",
        ),
        (
            s.abandon(ts[0].id).unwrap_err(),
            ErrorKind::InvalidState,
            "already told",
        ),
        (
            s.node(99).unwrap_err(),
            ErrorKind::NotFound,
            "unknown node 99",
        ),
        (
            s.action_index("c").unwrap_err(),
            ErrorKind::NotFound,
            "unknown action \"c\" (actions: a, b)",
        ),
        (
            s.ask(0).unwrap_err(),
            ErrorKind::InvalidArgument,
            "n in 1..=10000, got 0",
        ),
        (
            s.ask(1 << 40).unwrap_err(),
            ErrorKind::InvalidArgument,
            "got 1099511627776",
        ),
    ];
    for (e, kind, needle) in cases {
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
    assert_eq!(s.save(), before, "refused calls change nothing");
    s.abandon(ts[1].id).unwrap();
    s.abandon(ts[1].id).unwrap();
    let e = s.tell(ts[1].id, 0.5, Payload::None).unwrap_err();
    assert!(e.to_string().contains("already abandoned"), "{e}");
    let top = s.top_k(5);
    assert_eq!(top.iter().map(|n| n.id).collect::<Vec<_>>(), vec![n0, n2]);
}

#[test]
fn caps_bound_width_and_depth_then_the_tree_is_full() {
    let mut s = search(r#", "max_width": 2, "max_depth": 2"#);
    // At most 2 + 2 * 2 = 6 answers fit.
    let mut told = 0;
    loop {
        match s.ask(1) {
            Ok(t) => {
                s.tell(t[0].id, 0.5, Payload::None).unwrap();
                told += 1;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
                assert!(e.to_string().contains("the tree is full"), "{e}");
                break;
            }
        }
        assert!(told <= 6, "caps exceeded");
    }
    assert_eq!(told, 6);
    assert!(s
        .nodes
        .iter()
        .all(|n| n.children.len() <= 2 && n.depth <= 2));
}

#[test]
fn snapshots_round_trip_and_refuse_damage() {
    let mut a = search(r#", "actions": ["a", "b"], "selection": "stack""#);
    let mut task = Hqr::new(1);
    task.run(&mut a, 50);
    let pending = a.ask(2).unwrap();
    a.tell(pending[0].id, 0.3, Payload::Bytes(vec![0, 255, 7].into()))
        .unwrap();
    let bytes = a.save();
    let mut b = Search::load(&bytes).unwrap();
    assert_eq!(b.save(), bytes);
    // The pending trial survives; the generators continue identically.
    assert_eq!(
        b.trials()[pending[1].id as usize].state,
        TrialState::Pending
    );
    b.tell(pending[1].id, 0.8, Payload::None).unwrap();
    a.tell(pending[1].id, 0.8, Payload::None).unwrap();
    for _ in 0..30 {
        let (x, y) = (a.ask(1).unwrap()[0], b.ask(1).unwrap()[0]);
        assert_eq!(x, y);
        a.tell(x.id, 0.5, Payload::None).unwrap();
        b.tell(y.id, 0.5, Payload::None).unwrap();
    }
    let mut v2 = bytes.clone();
    v2[8] = 9;
    assert_eq!(
        Search::load(&v2).unwrap_err().kind(),
        ErrorKind::UnsupportedVersion
    );
    for bad in [
        bytes[..bytes.len() / 2].to_vec(),
        {
            let mut x = bytes.clone();
            x[200] ^= 1;
            x
        },
        b"GAIAMCTS".to_vec(),
        b"hello world, not a snapshot".to_vec(),
    ] {
        let e = Search::load(&bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CorruptState, "{e}");
    }
    let json: serde_json::Value = serde_json::from_str(&a.export_json()).unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), a.len());
    assert_eq!(json["nodes"][0]["parent"], serde_json::Value::Null);
}

#[test]
fn baselines_follow_their_rules() {
    // Repeated sampling: every answer from the root, actions in turn.
    let mut s = search(r#", "algorithm": "repeated_sampling", "actions": ["a", "b"]"#);
    let ts = s.ask(4).unwrap();
    assert!(ts.iter().all(|t| t.node == 0));
    assert_eq!(
        ts.iter().map(|t| t.action).collect::<Vec<_>>(),
        vec![0, 1, 0, 1]
    );

    // Best-first: samples_per_action x actions expansions of the best node at a time.
    let mut s = search(r#", "algorithm": "best_first", "samples_per_action": 2"#);
    let ts = s.ask(2).unwrap();
    assert!(ts.iter().all(|t| t.node == 0));
    let lo = s.tell(ts[0].id, 0.2, Payload::None).unwrap();
    let hi = s.tell(ts[1].id, 0.9, Payload::None).unwrap();
    let ts = s.ask(2).unwrap();
    assert!(ts.iter().all(|t| t.node == hi), "{ts:?}");
    s.tell(ts[0].id, 0.1, Payload::None).unwrap();
    s.tell(ts[1].id, 0.1, Payload::None).unwrap();
    let t = s.ask(1).unwrap()[0];
    assert_eq!(t.node, lo, "then the next best");
    // An abandoned expansion is handed out again.
    s.abandon(t.id).unwrap();
    assert_eq!(s.ask(1).unwrap()[0].node, lo);

    // Standard MCTS: leaves only, by UCT; the root's children first.
    let mut s = search(r#", "algorithm": "standard_mcts""#);
    let mut task = Hqr::new(2);
    task.run(&mut s, 60);
    for (i, n) in s.nodes.iter().enumerate() {
        // Each expanded node got exactly samples_per_action x actions children.
        assert!(n.children.is_empty() || n.children.len() == 2, "node {i}");
        assert_eq!(
            s.uct[i].visits as usize,
            subtree(&s, i as u32) - usize::from(i == 0)
        );
    }
}

fn subtree(s: &Search, id: u32) -> usize {
    1 + s.nodes[id as usize]
        .children
        .iter()
        .map(|c| subtree(s, *c))
        .sum::<usize>()
}

#[test]
fn configs_are_validated_by_name() {
    for (json, needle) in [
        (r#"{"actions": []}"#, "actions: at least one"),
        (r#"{"actions": ["a", "a"]}"#, "\"a\" is listed twice"),
        (r#"{"prior": {"type": "beta", "a": -1}}"#, "prior: prior.a"),
        (r#"{"reward_average_priors": 1.5}"#, "reward_average_priors"),
        (
            r#"{"actions": ["a", "b"], "reward_average_priors": {"a": 0.5}}"#,
            "action \"b\" is missing",
        ),
        (r#"{"max_width": 0}"#, "max_width"),
        (r#"{"algorithm": "alphazero"}"#, "unknown variant"),
        (r#"{"speed": 1}"#, "unknown field"),
    ] {
        let e = Search::from_json(json).unwrap_err();
        assert!(e.to_string().contains(needle), "{json}: {e}");
    }
    let s = Search::from_json(
        r#"{"actions": ["a", "b"], "prior": {"type": "beta"}, "reward_average_priors": {"a": 0.6, "b": 0.3}}"#,
    )
    .unwrap();
    assert_eq!(s.action_priors[0], Prior::Beta { a: 0.6, b: 0.4 });
}

#[test]
fn predictive_widening_keeps_the_root_widening() {
    let (mut faithful, mut predictive) = (0, 0);
    let (mut best_f, mut best_p) = (0.0, 0.0);
    for seed in 0..10 {
        for (widening, width, best) in [
            ("faithful", &mut faithful, &mut best_f),
            ("predictive", &mut predictive, &mut best_p),
        ] {
            let mut s =
                Search::from_json(&format!(r#"{{"seed": {seed}, "widening": "{widening}"}}"#))
                    .unwrap();
            *best += Hqr::new(seed).run(&mut s, 1500);
            *width += s.node(0).unwrap().children;
        }
    }
    assert!(
        predictive > 3 * faithful,
        "root width {predictive} vs {faithful}"
    );
    assert!(
        best_p > best_f,
        "mean best {} vs {}",
        best_p / 10.0,
        best_f / 10.0
    );
}

#[test]
fn virtual_loss_spreads_a_batch_and_unwinds() {
    let (mut spread_plain, mut spread_vl) = (0, 0);
    for seed in 0..10 {
        for (pending, spread) in [
            ("ignore", &mut spread_plain),
            ("virtual_loss", &mut spread_vl),
        ] {
            let mut s =
                Search::from_json(&format!(r#"{{"seed": {seed}, "pending": "{pending}"}}"#))
                    .unwrap();
            let mut task = Hqr::new(seed);
            task.run(&mut s, 60);
            let batch = s.ask(16).unwrap();
            let mut nodes: Vec<u32> = batch.iter().map(|t| t.node).collect();
            nodes.sort_unstable();
            nodes.dedup();
            *spread += nodes.len();
            if pending == "virtual_loss" {
                assert!(s.nodes[0].pending_below == 16);
                // A snapshot rebuilds the counts from the pending trials.
                let copy = Search::load(&s.save()).unwrap();
                assert!(copy.nodes.iter().zip(&s.nodes).all(|(a, b)| {
                    a.pending_here == b.pending_here && a.pending_below == b.pending_below
                }));
            }
            for (k, t) in batch.iter().enumerate() {
                if k % 3 == 0 {
                    s.abandon(t.id).unwrap();
                } else {
                    let (c, q) = task.answer(t.node, t.action);
                    task.hidden.truncate(s.len());
                    task.hidden.push((c, q));
                    s.tell(t.id, q, Payload::None).unwrap();
                }
            }
            assert!(s
                .nodes
                .iter()
                .all(|n| n.pending_here == 0 && n.pending_below == 0));
        }
    }
    assert!(
        spread_vl > spread_plain,
        "distinct nodes per batch: {spread_vl} vs {spread_plain}"
    );
}

#[test]
fn ab_mcts_m_searches_and_persists() {
    let mut total = 0.0;
    let mut repeated = 0.0;
    for seed in 0..8 {
        let mut s = Search::from_json(&format!(
            r#"{{"seed": {seed}, "algorithm": "ab_mcts_m", "actions": ["good", "weak"]}}"#
        ))
        .unwrap();
        total += Hqr::new(seed).run(&mut s, 150);
        assert!(s.node(0).unwrap().children > 1, "the root widens");
        assert!(s.nodes.iter().any(|n| n.depth >= 2), "answers get refined");
        let copy = Search::load(&s.save()).unwrap();
        let (a, b) = (
            s.clone().ask(1).unwrap()[0],
            copy.clone().ask(1).unwrap()[0],
        );
        assert_eq!(a, b, "a snapshot continues with the same draws");
        let mut r = Search::from_json(&format!(
            r#"{{"seed": {seed}, "algorithm": "repeated_sampling", "actions": ["good", "weak"]}}"#
        ))
        .unwrap();
        repeated += Hqr::new(seed).run(&mut r, 150);
    }
    // Refining promising answers beats sampling 150 fresh ones on HQR-1.
    assert!(
        total > repeated,
        "AB-MCTS-M {} vs repeated sampling {}",
        total / 8.0,
        repeated / 8.0
    );
}

#[test]
fn ab_mcts_m_prunes_a_subtree_that_repeats_one_score() {
    let mut s = search(r#", "algorithm": "ab_mcts_m""#);
    // root -> a (0.9) with 4 refinements all 0.9: a's subtree is 5 scores of 0.90.
    let t = force(&mut s, 0);
    let a = s.tell(t, 0.9, Payload::None).unwrap();
    for _ in 0..4 {
        let t = force(&mut s, a);
        s.tell(t, 0.9, Payload::None).unwrap();
    }
    // root -> b (0.3), a fresh child.
    let t = force(&mut s, 0);
    let b = s.tell(t, 0.3, Payload::None).unwrap();
    assert!(s.prunable(a) && !s.prunable(b));
    assert_eq!(s.hist[0].1, 5, "the root's histogram counts the five 0.90s");
    // a draws far better than b, but is pruned: selection never enters a.
    for _ in 0..50 {
        let t = s.ask(1).unwrap()[0];
        assert!(
            t.node == 0 || t.node == b || s.nodes[t.node as usize].parent == b,
            "{t:?}"
        );
        s.abandon(t.id).unwrap();
    }
    // The histograms are rebuilt on load.
    let copy = Search::load(&s.save()).unwrap();
    assert_eq!(copy.hist[a as usize], s.hist[a as usize]);
}
