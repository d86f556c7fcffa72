//! Studies shared through the real MariaDB started by `scripts/services.sh`. Each test uses
//! its own study name, so they run in parallel on the one database.
#![cfg(feature = "tune-mysql")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::collections::BTreeSet;
use std::sync::{RwLock, RwLockReadGuard};
use std::time::Duration;

use gaia_core::tune::{Study, TrialState};
use gaia_core::ErrorKind;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

/// Held shared by every test; exclusively by the one that restarts MariaDB.
static SERVER: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    SERVER.read().unwrap_or_else(|e| e.into_inner())
}

fn db_url() -> String {
    std::env::var("GAIA_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://gaia:gaia-pass@127.0.0.1:3307/gaia".into())
}

/// A study name no other test (or earlier run) uses.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{tag}-{}-{nanos}", std::process::id())
}

fn config(name: &str, extra: Value) -> String {
    let mut c = json!({
        "name": name,
        "storage": db_url(),
        "space": {"params": [
            {"name": "x", "type": "float", "low": -5, "high": 5},
            {"name": "lr", "type": "float", "low": 0.0001, "high": 1, "log": true},
            {"name": "k", "type": "int", "low": 1, "high": 9, "step": 2},
            {"name": "c", "type": "categorical", "choices": ["a", "b", 3]}
        ]},
        "direction": "minimize",
        "sampler": {"type": "tpe", "n_startup_trials": 5}
    });
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    c.to_string()
}

fn objective(p: &serde_json::Map<String, Value>) -> f64 {
    let x = p["x"].as_f64().unwrap();
    let lr = p["lr"].as_f64().unwrap();
    (x - 1.0).powi(2) + (lr.ln() - 0.01f64.ln()).powi(2) * 0.1 + p["k"].as_f64().unwrap() * 0.01
}

/// Runs SQL against the test database (as the test user) and returns the rows.
fn sql<T: mysql_async::prelude::FromRow + Send + 'static>(q: &str) -> Vec<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let q = q.to_owned();
    rt.block_on(async move {
        let mut c = mysql_async::Conn::new(mysql_async::Opts::from_url(&db_url()).unwrap())
            .await
            .unwrap();
        let rows = c.query(q).await.unwrap();
        c.disconnect().await.unwrap();
        rows
    })
}

fn study_id(name: &str) -> i64 {
    sql::<i64>(&format!(
        "SELECT study_id FROM studies WHERE study_name = '{name}'"
    ))[0]
}

#[test]
fn a_study_lives_in_optunas_tables_and_a_second_handle_sees_it() {
    let _server = shared();
    let name = unique("basic");
    let mut a = Study::from_json(&config(&name, json!({"seed": 1}))).unwrap();
    for _ in 0..20 {
        let t = a.ask().unwrap();
        let v = objective(&t.params);
        assert_eq!(
            a.tell(t.id, v, TrialState::Complete).unwrap(),
            TrialState::Complete
        );
    }
    let best = a.best().unwrap().clone();
    // A second handle (another worker) opens the same study by name, without the space.
    let mut b = Study::from_json(&json!({"name": name, "storage": db_url()}).to_string()).unwrap();
    assert_eq!(b.trials().len(), 20);
    assert_eq!(b.best().unwrap().value, best.value);
    let t = b.ask().unwrap();
    assert_eq!(t.id, 20, "numbers continue across handles");
    b.tell(t.id, 0.5, TrialState::Pruned).unwrap();
    a.refresh().unwrap();
    assert_eq!(a.trials()[20].state, TrialState::Pruned);

    // What Optuna reads: 21 trials numbered 0..20, values, parameters as Optuna stores them.
    let id = study_id(&name);
    let rows: Vec<(i64, String, Option<f64>)> = sql(&format!(
        "SELECT t.number, t.state, v.value FROM trials t LEFT JOIN trial_values v \
         ON v.trial_id = t.trial_id WHERE t.study_id = {id} ORDER BY t.number"
    ));
    assert_eq!(rows.len(), 21);
    for (k, (n, state, value)) in rows.iter().enumerate() {
        assert_eq!(*n, k as i64);
        let trial = &a.trials()[k];
        if k < 20 {
            assert_eq!(state, "COMPLETE");
            assert_eq!(*value, trial.value, "trial {k}'s value round-trips exactly");
        } else {
            assert_eq!(state, "PRUNED");
            assert_eq!(*value, None);
        }
    }
    let params: Vec<(String, f64, String)> = sql(&format!(
        "SELECT p.param_name, p.param_value, p.distribution_json FROM trial_params p \
         JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = {id} AND t.number = 3 \
         ORDER BY p.param_name"
    ));
    let by_name: std::collections::BTreeMap<_, _> = params
        .iter()
        .map(|(n, v, d)| (n.as_str(), (*v, d.as_str())))
        .collect();
    let p3 = a.params_of(&a.trials()[3]);
    assert_eq!(by_name["x"].0, p3["x"].as_f64().unwrap());
    assert_eq!(
        by_name["lr"].0,
        p3["lr"].as_f64().unwrap(),
        "log floats stored as values"
    );
    assert_eq!(by_name["k"].0, p3["k"].as_f64().unwrap());
    let choice = ["a", "b", "3"]
        .iter()
        .position(|c| *c == p3["c"].to_string().trim_matches('"'))
        .unwrap();
    assert_eq!(
        by_name["c"].0, choice as f64,
        "categoricals stored as the choice's index"
    );
    assert!(
        by_name["lr"].1.contains("\"log\":true"),
        "{}",
        by_name["lr"].1
    );
    let direction: Vec<String> = sql(&format!(
        "SELECT direction FROM study_directions WHERE study_id = {id}"
    ));
    assert_eq!(direction, ["MINIMIZE"]);
    let alembic: Vec<String> = sql("SELECT version_num FROM alembic_version");
    assert_eq!(alembic, ["v3.2.0.a"]);
}

#[test]
fn concurrent_workers_get_dense_unique_numbers_and_no_tell_is_lost() {
    let _server = shared();
    let name = unique("threads");
    // Create it once so the workers race only on trials.
    drop(Study::from_json(&config(&name, json!({}))).unwrap());
    let workers = 8;
    let per = 40;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let cfg = config(&name, json!({"seed": w}));
            std::thread::spawn(move || {
                let mut s = Study::from_json(&cfg).unwrap();
                let mut mine = Vec::new();
                for _ in 0..per {
                    let t = s.ask().unwrap();
                    let v = objective(&t.params);
                    s.tell(t.id, v, TrialState::Complete).unwrap();
                    mine.push((t.id, v));
                }
                mine
            })
        })
        .collect();
    let mut told = Vec::new();
    for h in handles {
        told.extend(h.join().unwrap());
    }
    let ids: BTreeSet<u64> = told.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), workers * per, "no number handed out twice");
    assert_eq!(
        ids.last().copied(),
        Some((workers * per - 1) as u64),
        "dense"
    );
    let mut s = Study::from_json(&json!({"name": name, "storage": db_url()}).to_string()).unwrap();
    s.refresh().unwrap();
    for (id, v) in &told {
        let t = &s.trials()[*id as usize];
        assert_eq!(t.state, TrialState::Complete);
        assert_eq!(t.value, Some(*v), "trial {id}'s tell reached the study");
    }
    let id = study_id(&name);
    let counts: Vec<(i64, i64)> = sql(&format!(
        "SELECT COUNT(*), COUNT(DISTINCT number) FROM trials WHERE study_id = {id} \
         AND state = 'COMPLETE'"
    ));
    assert_eq!(counts[0], ((workers * per) as i64, (workers * per) as i64));
}

#[test]
fn workers_see_each_others_running_trials_when_they_propose() {
    let _server = shared();
    let name = unique("grid");
    let grid = json!({"name": name, "storage": db_url(),
        "space": {"params": [{"name": "x", "type": "int", "low": 0, "high": 9}]},
        "sampler": {"type": "grid", "grid": {"x": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}}})
    .to_string();
    let mut a = Study::from_json(&grid).unwrap();
    let mut b = Study::from_json(&grid).unwrap();
    // Alternating asks, nothing told: each worker's grid must skip the points the other one
    // is still evaluating, so ten asks take ten different points.
    let mut xs = BTreeSet::new();
    for k in 0..10 {
        let s = if k % 2 == 0 { &mut a } else { &mut b };
        let t = s.ask().unwrap();
        assert!(
            xs.insert(t.params["x"].as_i64().unwrap()),
            "x taken twice: {xs:?}"
        );
    }
    assert_eq!(xs.len(), 10);
}

#[test]
fn an_enqueued_configuration_is_handed_out_once() {
    let _server = shared();
    let name = unique("queue");
    let mut a = Study::from_json(&config(&name, json!({}))).unwrap();
    let mut b = Study::from_json(&config(&name, json!({}))).unwrap();
    let fixed = json!({"x": 1.5, "lr": 0.01, "k": 3, "c": "b"});
    a.enqueue(fixed.as_object().unwrap()).unwrap();
    // b has not read the queue yet; its ask still pops it (the pop happens in the database).
    let tb = b.ask().unwrap();
    let ta = a.ask().unwrap();
    // (lr is a log parameter: it comes back through exp(ln(0.01)), within an ulp or two.)
    let same = |p: &serde_json::Map<String, Value>| {
        p["x"] == fixed["x"]
            && p["k"] == fixed["k"]
            && p["c"] == fixed["c"]
            && (p["lr"].as_f64().unwrap() - 0.01).abs() < 1e-15
    };
    assert!(same(&tb.params), "{:?}", tb.params);
    assert!(
        !same(&ta.params),
        "the queue held one entry: {:?}",
        ta.params
    );
    let left: Vec<i64> = sql(&format!(
        "SELECT COUNT(*) FROM gaia_queue WHERE study_id = {}",
        study_id(&name)
    ));
    assert_eq!(left, [0]);
}

#[test]
fn tell_errors_change_nothing_and_a_repeated_tell_is_recognised() {
    let _server = shared();
    let name = unique("tell");
    let mut a = Study::from_json(&config(&name, json!({}))).unwrap();
    let t = a.ask().unwrap();
    let e = a.tell(t.id + 5, 1.0, TrialState::Complete).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = a.tell(t.id, 1.0, TrialState::Running).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(
        a.tell(t.id, 2.0, TrialState::Complete).unwrap(),
        TrialState::Complete
    );
    // The same tell again (a retry after a lost answer) succeeds; a different one does not.
    assert_eq!(
        a.tell(t.id, 2.0, TrialState::Complete).unwrap(),
        TrialState::Complete
    );
    let e = a.tell(t.id, 3.0, TrialState::Complete).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    // From another handle that has not seen the first tell: the database refuses it too.
    let mut b = Study::from_json(&config(&name, json!({}))).unwrap();
    let e = b.tell(t.id, 4.0, TrialState::Complete).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    // NaN is recorded as failed, everywhere.
    let t2 = a.ask().unwrap();
    assert_eq!(
        a.tell(t2.id, f64::NAN, TrialState::Complete).unwrap(),
        TrialState::Failed
    );
    let state: Vec<String> = sql(&format!(
        "SELECT state FROM trials WHERE study_id = {} AND number = {}",
        study_id(&name),
        t2.id
    ));
    assert_eq!(state, ["FAIL"]);
    let values: Vec<i64> = sql(&format!(
        "SELECT COUNT(*) FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id \
         WHERE t.study_id = {}",
        study_id(&name)
    ));
    assert_eq!(
        values,
        [1],
        "one value: trial 0's; nothing from the refused tells"
    );
}

#[test]
fn added_trials_and_constraints_reach_optunas_tables() {
    let _server = shared();
    let name = unique("add");
    let mut a = Study::from_json(&config(&name, json!({"constraints": ["cost"]}))).unwrap();
    let p = json!({"x": 0.5, "lr": 0.1, "k": 5, "c": 3});
    let id = a
        .add_trial_with(p.as_object().unwrap(), 0.25, TrialState::Complete, &[-1.0])
        .unwrap();
    assert_eq!(id, 0);
    let t = a.ask().unwrap();
    a.tell_with(t.id, 1.0, TrialState::Complete, &[2.0])
        .unwrap();
    let e = a
        .tell_with(t.id, 1.0, TrialState::Complete, &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let attrs: Vec<(i64, String)> = sql(&format!(
        "SELECT t.number, a.value_json FROM trial_system_attributes a JOIN trials t \
         ON t.trial_id = a.trial_id WHERE t.study_id = {} AND a.`key` = 'constraints' \
         ORDER BY t.number",
        study_id(&name)
    ));
    assert_eq!(attrs, [(0, "[-1.0]".to_owned()), (1, "[2.0]".to_owned())]);
    let mut b = Study::from_json(&json!({"name": name, "storage": db_url()}).to_string()).unwrap();
    b.refresh().unwrap();
    assert_eq!(b.best().unwrap().id, 0, "trial 1 is infeasible");
}

#[test]
fn several_objectives_and_reports_reach_optunas_tables() {
    let _server = shared();
    let name = unique("multi");
    let cfg = json!({"directions": ["maximize", "minimize"], "direction": null,
                     "sampler": {"type": "random"}});
    let mut cfg: Value = serde_json::from_str(&config(&name, cfg)).unwrap();
    cfg.as_object_mut().unwrap().remove("direction");
    let mut a = Study::from_json(&cfg.to_string()).unwrap();
    let t = a.ask().unwrap();
    a.tell_values(t.id, &[0.75, 3.5], TrialState::Complete, &[])
        .unwrap();
    // The same tell again (after a lost answer) is recognised; a different one is not.
    a.tell_values(t.id, &[0.75, 3.5], TrialState::Complete, &[])
        .unwrap();
    let e = a
        .tell_values(t.id, &[0.5, 3.5], TrialState::Complete, &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    let p = json!({"x": 0.5, "lr": 0.1, "k": 5, "c": 3});
    a.add_trial_values(
        p.as_object().unwrap(),
        &[0.5, 1.0],
        TrialState::Complete,
        &[],
    )
    .unwrap();
    let id = study_id(&name);
    let dirs: Vec<(i64, String)> = sql(&format!(
        "SELECT objective, direction FROM study_directions WHERE study_id = {id} ORDER BY objective"
    ));
    assert_eq!(dirs, [(0, "MAXIMIZE".into()), (1, "MINIMIZE".into())]);
    let values: Vec<(i64, i64, f64)> = sql(&format!(
        "SELECT t.number, v.objective, v.value FROM trial_values v JOIN trials t \
         ON t.trial_id = v.trial_id WHERE t.study_id = {id} ORDER BY t.number, v.objective"
    ));
    assert_eq!(
        values,
        [(0, 0, 0.75), (0, 1, 3.5), (1, 0, 0.5), (1, 1, 1.0)]
    );
    let b = Study::from_json(&json!({"name": name, "storage": db_url()}).to_string()).unwrap();
    assert_eq!(b.directions().len(), 2);
    let front: Vec<u64> = b.best_trials().iter().map(|t| t.id).collect();
    assert_eq!(front, [0, 1], "neither dominates the other");

    // Reports: in Optuna's trial_intermediate_values, and seen by another worker's pruner.
    let name = unique("prune");
    let pruned = json!({"pruner": {"type": "median", "n_startup_trials": 1},
                        "sampler": {"type": "random"}});
    let mut w1 = Study::from_json(&config(&name, pruned.clone())).unwrap();
    let mut w2 = Study::from_json(&config(&name, pruned)).unwrap();
    let done = w1.ask().unwrap();
    for step in 0..3 {
        w1.report(done.id, step, 1.0).unwrap();
    }
    w1.tell(done.id, 1.0, TrialState::Complete).unwrap();
    let bad = w2.ask().unwrap();
    w2.report(bad.id, 0, 4.0).unwrap();
    w2.report(bad.id, 0, 0.0).unwrap(); // the first value of a step stays
    assert!(w1.should_prune(bad.id).unwrap());
    let good = w1.ask().unwrap();
    w1.report(good.id, 0, 0.5).unwrap();
    assert!(!w2.should_prune(good.id).unwrap());
    let e = w2.report(done.id, 9, 1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    let rows: Vec<(i64, i64, f64)> = sql(&format!(
        "SELECT t.number, i.step, i.intermediate_value FROM trial_intermediate_values i \
         JOIN trials t ON t.trial_id = i.trial_id WHERE t.study_id = {} \
         ORDER BY t.number, i.step",
        study_id(&name)
    ));
    assert_eq!(
        rows,
        [
            (0, 0, 1.0),
            (0, 1, 1.0),
            (0, 2, 1.0),
            (1, 0, 4.0),
            (2, 0, 0.5)
        ]
    );
    let reopened =
        Study::from_json(&json!({"name": name, "storage": db_url()}).to_string()).unwrap();
    assert_eq!(reopened.trials()[1].intermediate, vec![(0, 4.0)]);
}

#[test]
fn a_configuration_that_contradicts_the_stored_study_is_refused() {
    let _server = shared();
    let name = unique("mismatch");
    drop(Study::from_json(&config(&name, json!({}))).unwrap());
    let e = Study::from_json(&config(&name, json!({"direction": "maximize"}))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.to_string().contains("direction"), "{e}");
    let e = Study::from_json(&json!({"storage": db_url(), "space": {"params": []}}).to_string())
        .unwrap_err();
    assert!(e.to_string().contains("name"), "{e}");
    let bad = db_url().replace("gaia-pass", "wrong-password");
    let e = Study::from_json(&json!({"name": name, "storage": bad}).to_string()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.to_string().contains("access denied"), "{e}");
    assert!(
        !e.to_string().contains("wrong-password"),
        "no password in messages: {e}"
    );
    let e = Study::from_json(
        &json!({"name": name, "storage": {"type": "mysql", "url": db_url(),
                "heartbeat_interval_s": 5, "grace_period_s": 5}})
        .to_string(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("grace_period_s"), "{e}");
}

#[test]
fn a_running_trial_whose_worker_stopped_is_failed_after_the_grace_period() {
    let _server = shared();
    let name = unique("heartbeat");
    let storage = json!({"type": "mysql", "url": db_url(), "heartbeat_interval_s": 1,
                         "grace_period_s": 3});
    let mut live = Study::from_json(&config(&name, json!({"storage": storage}))).unwrap();
    let kept = live.ask().unwrap();
    let abandoned = {
        let mut dead = Study::from_json(&config(&name, json!({"storage": storage}))).unwrap();
        dead.ask().unwrap().id
        // Dropped: its heartbeats stop, its trial stays RUNNING.
    };
    std::thread::sleep(Duration::from_millis(4500));
    // The live worker's own trial kept its heartbeat; the abandoned one is failed on ask.
    let t = live.ask().unwrap();
    assert_eq!(live.trials()[abandoned as usize].state, TrialState::Failed);
    assert_eq!(live.trials()[kept.id as usize].state, TrialState::Running);
    live.tell(kept.id, 1.0, TrialState::Complete).unwrap();
    live.tell(t.id, 2.0, TrialState::Complete).unwrap();
    let states: Vec<String> = sql(&format!(
        "SELECT state FROM trials WHERE study_id = {} ORDER BY number",
        study_id(&name)
    ));
    assert_eq!(states, ["COMPLETE", "FAIL", "COMPLETE"]);
}

/// `scripts/services.sh ACTION mariadb`, failing the test if it fails.
fn mariadb(action: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/services.sh");
    let out = std::process::Command::new("bash")
        .args([script, action, "mariadb"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "services.sh {action} mariadb: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn workers_get_clear_errors_during_a_mariadb_restart_and_lose_nothing() {
    let _server = SERVER.write().unwrap_or_else(|e| e.into_inner());
    let name = unique("restart");
    drop(Study::from_json(&config(&name, json!({}))).unwrap());
    let told_total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let per = 40;
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let cfg = config(&name, json!({"seed": w}));
            let told_total = told_total.clone();
            std::thread::spawn(move || {
                let mut s = Study::from_json(&cfg).unwrap();
                let (mut told, mut errors) = (Vec::new(), Vec::new());
                let deadline = std::time::Instant::now() + Duration::from_secs(120);
                while told.len() < per {
                    assert!(std::time::Instant::now() < deadline, "stuck: {errors:?}");
                    let t = match s.ask() {
                        Ok(t) => t,
                        Err(e) => {
                            errors.push((e.kind(), e.to_string()));
                            std::thread::sleep(Duration::from_millis(100));
                            continue;
                        }
                    };
                    let v = objective(&t.params);
                    // A tell that failed is retried until it lands (it is idempotent).
                    while let Err(e) = s.tell(t.id, v, TrialState::Complete) {
                        errors.push((e.kind(), e.to_string()));
                        assert!(std::time::Instant::now() < deadline, "stuck: {errors:?}");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    told.push((t.id, v));
                    told_total.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                }
                (told, errors)
            })
        })
        .collect();
    while told_total.load(std::sync::atomic::Ordering::SeqCst) < 30 {
        std::thread::sleep(Duration::from_millis(10));
    }
    mariadb("restart");
    let mut told = Vec::new();
    let mut errors = Vec::new();
    for w in workers {
        let (t, e) = w.join().unwrap();
        told.extend(t);
        errors.extend(e);
    }
    assert!(
        !errors.is_empty(),
        "the restart should have been seen by some call"
    );
    for (kind, msg) in &errors {
        assert_eq!(*kind, ErrorKind::Io, "{msg}");
        assert!(msg.contains(&name), "the error names the study: {msg}");
        assert!(!msg.contains("gaia-pass"), "no password in messages: {msg}");
    }
    // Nothing lost: every told value is in the database, numbers unique.
    let id = study_id(&name);
    let rows: Vec<(i64, String, Option<f64>)> = sql(&format!(
        "SELECT t.number, t.state, v.value FROM trials t LEFT JOIN trial_values v \
         ON v.trial_id = t.trial_id WHERE t.study_id = {id} ORDER BY t.number"
    ));
    let numbers: BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers.len(), rows.len(), "unique numbers");
    assert_eq!(
        *numbers.last().unwrap() as usize,
        rows.len() - 1,
        "dense numbers"
    );
    for (n, v) in &told {
        let row = &rows[*n as usize];
        assert_eq!((row.1.as_str(), row.2), ("COMPLETE", Some(*v)), "trial {n}");
    }
    assert_eq!(told.len(), 3 * per);
    // At most the asks whose answers the restart cut off are left running (for the
    // heartbeat rule to fail later); everything else is complete.
    let running = rows.iter().filter(|r| r.1 == "RUNNING").count();
    assert_eq!(rows.len(), told.len() + running);
    assert!(running <= 3, "{running} orphaned asks");
}
