//! Journal storage: several studies (threads, processes) sharing one file, crashes, damage.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on the first unexpected error"
)]

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use gaia_core::error::ErrorKind;
use gaia_core::tune::{Study, TrialState};

const SPACE: &str = r#"{"params": [
  {"name": "x", "type": "float", "low": -5, "high": 5},
  {"name": "k", "type": "int", "low": 1, "high": 4}]}"#;

fn temp_path(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!(
        "gaia-journal-{}-{}-{tag}.jsonl",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&p);
    p
}

fn open(path: &Path, sampler: &str, extra: &str) -> Study {
    Study::from_json(&format!(
        r#"{{"space": {SPACE}, "sampler": {{"type": "{sampler}"}}, {extra}
            "storage": {{"type": "journal", "path": {:?}}}}}"#,
        path.display().to_string()
    ))
    .unwrap()
}

fn objective(params: &serde_json::Map<String, serde_json::Value>) -> f64 {
    let x = params["x"].as_f64().unwrap();
    (x - 1.0).powi(2) + params["k"].as_f64().unwrap()
}

#[test]
fn two_handles_share_one_study() {
    let path = temp_path("two");
    let mut a = open(&path, "tpe", "");
    let mut b = open(&path, "tpe", "");
    let t0 = a.ask().unwrap();
    let t1 = b.ask().unwrap();
    assert_eq!((t0.id, t1.id), (0, 1), "ids are global, not per handle");
    // Each tells the other's trial.
    b.tell(t0.id, 2.0, TrialState::Complete).unwrap();
    a.tell(t1.id, 1.0, TrialState::Complete).unwrap();
    let e = b.tell(t1.id, 3.0, TrialState::Complete).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    a.refresh().unwrap();
    b.refresh().unwrap();
    assert_eq!(a.trials(), b.trials());
    assert_eq!(a.best().unwrap().id, 1);
    // Enqueued on one handle, handed out once, by whichever asks next.
    a.enqueue(&Study::parse_params(r#"{"x": 0.5, "k": 2}"#).unwrap())
        .unwrap();
    let q = b.ask().unwrap();
    assert_eq!(q.params["x"], 0.5);
    assert_ne!(a.ask().unwrap().params["x"], 0.5);
    // A third handle opened without a space reads the definition from the journal.
    let c = Study::from_json(&format!(
        r#"{{"storage": "journal:{}", "sampler": {{"type": "random"}}}}"#,
        path.display()
    ))
    .unwrap();
    assert_eq!(c.trials().len(), 4);
    assert_eq!(c.space(), a.space());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn threads_with_their_own_handles_never_collide() {
    let path = temp_path("threads");
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = open(&path, "tpe", "");
                let mut mine = Vec::new();
                for _ in 0..50 {
                    let t = s.ask().unwrap();
                    s.tell(t.id, objective(&t.params), TrialState::Complete)
                        .unwrap();
                    mine.push(t.id);
                }
                mine
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for w in workers {
        for id in w.join().unwrap() {
            assert!(ids.insert(id), "trial {id} handed out twice");
        }
    }
    assert_eq!(ids.len(), 200);
    let s = open(&path, "tpe", "");
    assert_eq!(s.trials().len(), 200);
    assert!(s.trials().iter().all(|t| t.state == TrialState::Complete));
    let _ = std::fs::remove_file(&path);
}

/// Run by `processes_share_a_study`: a worker process doing `GAIA_CHILD_TRIALS` trials
/// (forever when 0) on the journal `GAIA_CHILD_JOURNAL`.
#[test]
fn child_worker() {
    let Ok(path) = std::env::var("GAIA_CHILD_JOURNAL") else {
        return; // only meaningful as a child process
    };
    let n: usize = std::env::var("GAIA_CHILD_TRIALS").unwrap().parse().unwrap();
    let mut s = open(&PathBuf::from(path), "tpe", r#""seed": null,"#);
    let mut done = 0;
    while n == 0 || done < n {
        let t = s.ask().unwrap();
        s.tell(t.id, objective(&t.params), TrialState::Complete)
            .unwrap();
        done += 1;
    }
}

fn child(path: &Path, trials: usize) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "child_worker", "--nocapture", "--test-threads=1"])
        .env("GAIA_CHILD_JOURNAL", path)
        .env("GAIA_CHILD_TRIALS", trials.to_string());
    c
}

#[test]
fn processes_share_a_study_and_survive_a_kill() {
    let path = temp_path("procs");
    open(&path, "tpe", ""); // create it
    let kids: Vec<_> = (0..3).map(|_| child(&path, 40).spawn().unwrap()).collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    let s = open(&path, "tpe", "");
    assert_eq!(s.trials().len(), 120);
    assert!(s.trials().iter().all(|t| t.state == TrialState::Complete));

    // SIGKILL a worker mid-run: the file stays readable and every trial it holds is whole.
    let mut k = child(&path, 0).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    k.kill().unwrap();
    k.wait().unwrap();
    let mut s = open(&path, "tpe", "");
    let n = s.trials().len();
    assert!(n > 120, "the killed worker wrote trials ({n})");
    for (i, t) in s.trials().iter().enumerate() {
        assert_eq!(t.id, i as u64);
    }
    // At most its last trial is left running, and the study goes on.
    let running = s
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Running)
        .count();
    assert!(running <= 1, "{running}");
    let t = s.ask().unwrap();
    assert_eq!(t.id, n as u64);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_torn_last_record_is_ignored_then_cut_off() {
    let path = temp_path("torn");
    let mut s = open(&path, "random", "");
    for _ in 0..5 {
        let t = s.ask().unwrap();
        s.tell(t.id, 1.0, TrialState::Complete).unwrap();
    }
    drop(s);
    let whole = std::fs::read(&path).unwrap();
    // A crash in the middle of writing the next record.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(br#"5d1c0a3e {"op":"ask","id":5,"inter"#)
        .unwrap();
    drop(f);
    let mut s = open(&path, "random", "");
    assert_eq!(s.trials().len(), 5, "the torn record is not a trial");
    let t = s.ask().unwrap();
    assert_eq!(t.id, 5);
    s.tell(t.id, 0.5, TrialState::Complete).unwrap();
    drop(s);
    let after = std::fs::read(&path).unwrap();
    assert!(after.starts_with(&whole), "earlier records untouched");
    assert!(!String::from_utf8_lossy(&after).contains("\"inter\n"));
    let s = open(&path, "random", "");
    assert_eq!(s.trials().len(), 6);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn damage_and_mismatches_are_named() {
    let path = temp_path("damage");
    let mut s = open(&path, "random", "");
    for _ in 0..3 {
        let t = s.ask().unwrap();
        s.tell(t.id, 1.0, TrialState::Complete).unwrap();
    }
    // Another study's configuration on the same file.
    let other = Study::from_json(&format!(
        r#"{{"space": {{"params": [{{"name": "y", "type": "float", "low": 0, "high": 1}}]}},
            "storage": "journal:{}"}}"#,
        path.display()
    ))
    .unwrap_err();
    assert_eq!(other.kind(), ErrorKind::InvalidConfig, "{other}");
    assert!(
        other.to_string().contains("search space differs"),
        "{other}"
    );
    let other = Study::from_json(&format!(
        r#"{{"space": {SPACE}, "direction": "maximize", "storage": "journal:{}"}}"#,
        path.display()
    ))
    .unwrap_err();
    assert!(other.to_string().contains("direction differs"), "{other}");

    // A complete record with a bad checksum after the ones a live handle has read: the
    // handle refuses to go past it, changes nothing, and works again once it is repaired.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}deadbeef {{\"op\":\"ask\"}}\n")).unwrap();
    let e = s.ask().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptState, "{e}");
    assert!(e.to_string().contains("record 8"), "{e}");
    assert_eq!(s.trials().len(), 3);
    std::fs::write(&path, &text).unwrap();
    let t = s.ask().unwrap();
    s.tell(t.id, 1.0, TrialState::Complete).unwrap();

    // A flipped byte inside record 4 (the second ask), seen by a new handle.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let damaged = lines[3].replacen("\"id\":1", "\"id\":7", 1);
    assert_ne!(damaged, lines[3]);
    let mut bad = lines.clone();
    bad[3] = &damaged;
    std::fs::write(&path, bad.join("\n") + "\n").unwrap();
    let e =
        Study::from_json(&format!(r#"{{"storage": "journal:{}"}}"#, path.display())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptState, "{e}");
    assert!(e.to_string().contains("record 4"), "{e}");
    assert!(e.to_string().contains("checksum mismatch"), "{e}");

    // Not a journal at all.
    std::fs::write(&path, "hello\n").unwrap();
    let e =
        Study::from_json(&format!(r#"{{"storage": "journal:{}"}}"#, path.display())).unwrap_err();
    assert!(e.to_string().contains("not a journal record"), "{e}");
    // An unreadable location.
    let e = Study::from_json(&format!(
        r#"{{"space": {SPACE}, "storage": "journal:/nonexistent-dir/x.jsonl"}}"#
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.to_string().contains("/nonexistent-dir/x.jsonl"), "{e}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn every_sync_mode_keeps_the_study() {
    for mode in ["group", "always", "none"] {
        let path = temp_path(mode);
        let cfg = format!(
            r#"{{"space": {SPACE}, "storage": {{"type": "journal", "path": {:?},
                "sync": "{mode}", "sync_interval_ms": 5}}}}"#,
            path.display().to_string()
        );
        let mut s = Study::from_json(&cfg).unwrap();
        for _ in 0..20 {
            let t = s.ask().unwrap();
            s.tell(t.id, objective(&t.params), TrialState::Complete)
                .unwrap();
        }
        s.flush().unwrap();
        drop(s);
        let s = Study::from_json(&cfg).unwrap();
        assert_eq!(s.trials().len(), 20, "{mode}");
        let _ = std::fs::remove_file(&path);
    }
}
