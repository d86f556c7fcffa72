use super::*;

fn trial(id: u64, state: TrialState, reports: &[(u64, f64)]) -> Trial {
    let mut t = Trial::running(id, vec![Some(0.0)]);
    t.state = state;
    if state == TrialState::Complete {
        t.value = reports.last().map(|r| r.1);
    }
    t.intermediate = reports.to_vec();
    t
}

/// `n` complete trials whose value at step s is `base(k) + s`... here: trial k reports
/// `k as f64` at every step 0..10, so the median at any step of 0..=4 is 2.
fn finished(n: u64) -> Vec<Trial> {
    (0..n)
        .map(|k| {
            let reports: Vec<(u64, f64)> = (0..10).map(|s| (s, k as f64)).collect();
            trial(k, TrialState::Complete, &reports)
        })
        .collect()
}

fn median() -> PrunerConfig {
    PrunerConfig::Median(PercentileConfig::default())
}

fn with_running(mut trials: Vec<Trial>, reports: &[(u64, f64)]) -> (Trial, Vec<Trial>) {
    let t = trial(trials.len() as u64, TrialState::Running, reports);
    trials.push(t.clone());
    (t, trials)
}

#[test]
fn median_prunes_a_trial_worse_than_the_median_at_its_step() {
    let (t, trials) = with_running(finished(5), &[(0, 2.5)]);
    assert!(median().should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(finished(5), &[(0, 1.5)]);
    assert!(!median().should_prune(&t, &trials, Direction::Minimize));
    // Equal to the median is kept.
    let (t, trials) = with_running(finished(5), &[(0, 2.0)]);
    assert!(!median().should_prune(&t, &trials, Direction::Minimize));
    // Maximising: 2.5 beats the median.
    let (t, trials) = with_running(finished(5), &[(0, 2.5)]);
    assert!(!median().should_prune(&t, &trials, Direction::Maximize));
    let (t, trials) = with_running(finished(5), &[(0, 1.5)]);
    assert!(median().should_prune(&t, &trials, Direction::Maximize));
}

#[test]
fn median_uses_the_trials_best_value_so_far() {
    // Bad now (9) but 1 earlier: the best so far is below the median 2.
    let (t, trials) = with_running(finished(5), &[(0, 1.0), (1, 9.0)]);
    assert!(!median().should_prune(&t, &trials, Direction::Minimize));
}

#[test]
fn median_waits_for_startup_trials_warmup_and_intervals() {
    let (t, trials) = with_running(finished(4), &[(0, 100.0)]);
    assert!(!median().should_prune(&t, &trials, Direction::Minimize));
    let warm = PrunerConfig::Median(PercentileConfig {
        n_warmup_steps: 3,
        ..PercentileConfig::default()
    });
    let (t, trials) = with_running(finished(5), &[(2, 100.0)]);
    assert!(!warm.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(finished(5), &[(3, 100.0)]);
    assert!(warm.should_prune(&t, &trials, Direction::Minimize));
    // Interval 3 after 0 warm-up steps: steps 0, 3, 6 start intervals; a second report in
    // the interval [3, 6) is not a pruning point.
    let every3 = PrunerConfig::Median(PercentileConfig {
        interval_steps: 3,
        ..PercentileConfig::default()
    });
    let (t, trials) = with_running(finished(5), &[(3, 100.0)]);
    assert!(every3.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(finished(5), &[(3, 100.0), (4, 100.0)]);
    assert!(!every3.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(finished(5), &[(3, 100.0), (6, 100.0)]);
    assert!(every3.should_prune(&t, &trials, Direction::Minimize));
}

#[test]
fn median_needs_n_min_trials_at_the_step_and_a_report() {
    // Only complete trials that reported step 20 count: none did.
    let (t, trials) = with_running(finished(5), &[(20, 100.0)]);
    assert!(!median().should_prune(&t, &trials, Direction::Minimize));
    let many = PrunerConfig::Median(PercentileConfig {
        n_min_trials: 6,
        ..PercentileConfig::default()
    });
    let (t, trials) = with_running(finished(5), &[(0, 100.0)]);
    assert!(!many.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(finished(5), &[]);
    assert!(!median().should_prune(&t, &trials, Direction::Minimize));
    // Running, failed and pruned trials are not part of the median.
    let mut trials = finished(5);
    for k in 5..20 {
        trials.push(trial(k, TrialState::Pruned, &[(0, -100.0)]));
    }
    let (t, trials) = with_running(trials, &[(0, 2.5)]);
    assert!(median().should_prune(&t, &trials, Direction::Minimize));
}

#[test]
fn percentile_interpolates_linearly() {
    assert_eq!(percentile(&mut [4.0, 1.0, 3.0, 2.0], 25.0), 1.75);
    assert_eq!(percentile(&mut [5.0], 90.0), 5.0);
    assert_eq!(percentile(&mut [1.0, 2.0, 3.0], 50.0), 2.0);
    let p25 = PrunerConfig::Percentile(PercentileConfig {
        percentile: Some(25.0),
        ..PercentileConfig::default()
    });
    // Values 0..4 at step 0: the 25th percentile is 1.0.
    let (t, trials) = with_running(finished(5), &[(0, 1.5)]);
    assert!(p25.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(finished(5), &[(0, 0.5)]);
    assert!(!p25.should_prune(&t, &trials, Direction::Minimize));
    // Maximising keeps the top 25%: the 75th percentile is 3.0.
    let (t, trials) = with_running(finished(5), &[(0, 2.5)]);
    assert!(p25.should_prune(&t, &trials, Direction::Maximize));
}

fn halving(min_resource: Option<u64>, reduction_factor: u64) -> PrunerConfig {
    PrunerConfig::SuccessiveHalving(HalvingConfig {
        min_resource,
        reduction_factor,
        ..HalvingConfig::default()
    })
}

#[test]
fn successive_halving_keeps_the_best_fraction_of_each_rung() {
    // Rungs at steps 1, 2, 4, 8 (min_resource 1, factor 2). Eight trials reported at step 1
    // the values 0..8 (minimise): with a ninth, 9 compete, 4 are kept: values <= 3.
    let others: Vec<Trial> = (0..8)
        .map(|k| trial(k, TrialState::Running, &[(1, k as f64)]))
        .collect();
    let sh = halving(Some(1), 2);
    let (t, trials) = with_running(others.clone(), &[(1, 3.5)]);
    assert!(sh.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(others.clone(), &[(1, 2.5)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Minimize));
    // Before the first rung nothing is decided.
    let (t, trials) = with_running(others.clone(), &[(0, 100.0)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Minimize));
    // A report between rungs (step 3 after step 2) decides nothing new.
    let (t, trials) = with_running(others.clone(), &[(1, 0.5), (2, 0.5), (3, 100.0)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Minimize));
    // Reaching rung 1 (step 2) where it is alone: the first trials are promoted.
    let (t, trials) = with_running(others.clone(), &[(1, 0.5), (2, 100.0)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Minimize));
    // Maximising: keep values >= 4.
    let (t, trials) = with_running(others.clone(), &[(1, 4.5)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Maximize));
    let (t, trials) = with_running(others, &[(1, 3.5)]);
    assert!(sh.should_prune(&t, &trials, Direction::Maximize));
}

#[test]
fn successive_halving_auto_resource_waits_for_a_complete_trial() {
    let others: Vec<Trial> = (0..8)
        .map(|k| trial(k, TrialState::Running, &[(1, k as f64)]))
        .collect();
    let sh = halving(None, 2);
    let (t, trials) = with_running(others.clone(), &[(1, 100.0)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Minimize));
    // A complete trial whose last step is 250: min_resource 2, rungs at 2, 4, 8...
    let mut with_done = others;
    let done: Vec<(u64, f64)> = (0..=250).map(|s| (s, 0.0)).collect();
    with_done.push(trial(8, TrialState::Complete, &done));
    let (t, trials) = with_running(with_done.clone(), &[(1, 100.0)]);
    assert!(!sh.should_prune(&t, &trials, Direction::Minimize));
    let (t, trials) = with_running(with_done, &[(1, 100.0), (2, 100.0)]);
    assert!(sh.should_prune(&t, &trials, Direction::Minimize));
}

#[test]
fn bootstrap_count_prunes_until_enough_trials_reach_a_rung() {
    let sh = PrunerConfig::SuccessiveHalving(HalvingConfig {
        min_resource: Some(1),
        reduction_factor: 2,
        min_early_stopping_rate: 0,
        bootstrap_count: 2,
    });
    let (t, trials) = with_running(
        vec![trial(0, TrialState::Running, &[(1, 5.0)])],
        &[(1, 0.0)],
    );
    assert!(sh.should_prune(&t, &trials, Direction::Minimize));
}

#[test]
fn settings_are_validated_with_the_field_named() {
    let bad = |json: &str| {
        let cfg: PrunerConfig = serde_json::from_str(json).expect(json);
        cfg.validate().expect_err(json).to_string()
    };
    assert!(bad(r#"{"type": "percentile"}"#).contains("pruner.percentile"));
    assert!(bad(r#"{"type": "percentile", "percentile": 101}"#).contains("[0, 100]"));
    assert!(bad(r#"{"type": "median", "percentile": 30}"#).contains("pruner.percentile"));
    assert!(bad(r#"{"type": "median", "interval_steps": 0}"#).contains("interval_steps"));
    assert!(
        bad(r#"{"type": "successive_halving", "reduction_factor": 1}"#)
            .contains("reduction_factor")
    );
    assert!(bad(r#"{"type": "successive_halving", "min_resource": 0}"#).contains("min_resource"));
    assert!(serde_json::from_str::<PrunerConfig>(
        r#"{"type": "successive_halving", "min_resource": "soon"}"#
    )
    .is_err());
    assert!(serde_json::from_str::<PrunerConfig>(r#"{"type": "median", "typo": 1}"#).is_err());
    let ok: PrunerConfig =
        serde_json::from_str(r#"{"type": "successive_halving", "min_resource": "auto"}"#).unwrap();
    assert_eq!(ok, halving(None, 4));
    assert!(ok.validate().is_ok());
    // The saved form reads back.
    let text = serde_json::to_string(&ok).unwrap();
    assert_eq!(serde_json::from_str::<PrunerConfig>(&text).unwrap(), ok);
}
