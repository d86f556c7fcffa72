//! The shared bandit vectors (`tests/vectors/bandit.json`), replayed through the C ABI.
//!
//! Every front end (C, PHP-FFI, PHP-ext, Go) replays the same file and must reproduce it
//! exactly. `GAIA_WRITE_VECTORS=1 cargo test -p gaia-ffi --test vectors` regenerates it from
//! `gaia-core` (only when the behaviour is meant to change: commit the diff with a reason).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::ptr;

use common::{code_of, cstr, last_error, sync_vectors, take};
use gaia::bandit::*;
use gaia::status::gaia_status;
use gaia_core::stats::{Normal, Rng};
use gaia_core::tune::Bandit;
use serde_json::{json, Value};

// ---------------------------------------------------------------- generation (gaia-core)

struct Recorder {
    bandit: Bandit,
    steps: Vec<Value>,
}

impl Recorder {
    fn new(config: &Value) -> Recorder {
        Recorder {
            bandit: Bandit::from_json(&config.to_string()).unwrap(),
            steps: vec![],
        }
    }

    fn record(&mut self, mut step: Value, result: Result<Option<Value>, gaia_core::Error>) {
        match result {
            Ok(Some(expect)) => step["expect"] = expect,
            Ok(None) => {}
            Err(e) => {
                let (name, code) = code_of(e.kind());
                step["error"] = json!(name);
                step["code"] = json!(code);
            }
        }
        self.steps.push(step);
    }

    fn choose(&mut self) -> Option<String> {
        let r = self
            .bandit
            .choose()
            .map(str::to_owned)
            .map_err(gaia_core::Error::from);
        let name = r.as_ref().ok().cloned();
        self.record(json!({"op": "choose"}), r.map(|n| Some(json!(n))));
        name
    }

    fn update(&mut self, arm: &str, reward: f64) {
        let r = self
            .bandit
            .update(arm, reward)
            .map(|_| None)
            .map_err(Into::into);
        self.record(json!({"op": "update", "arm": arm, "reward": reward}), r);
    }

    /// An ask with `context` (empty for none): records the arm and the ticket.
    fn ask(&mut self, context: &[f64]) -> Option<(u64, String)> {
        let r = self.bandit.ask(context).map_err(gaia_core::Error::from);
        let mut step = json!({"op": "ask"});
        if !context.is_empty() {
            step["context"] = json!(context);
        }
        let out = match r {
            Ok(t) => {
                let name = self.bandit.arm_name(t.arm).unwrap().to_owned();
                step["ticket"] = json!(t.id);
                self.record(step, Ok(Some(json!(name))));
                Some((t.id, name))
            }
            Err(e) => {
                self.record(step, Err(e));
                None
            }
        };
        out
    }

    fn tell(&mut self, ticket: u64, reward: f64) {
        let r = self
            .bandit
            .tell(ticket, reward)
            .map(|_| None)
            .map_err(Into::into);
        self.record(json!({"op": "tell", "ticket": ticket, "reward": reward}), r);
    }

    fn add_arm(&mut self, arm: &str) {
        let r = self.bandit.add_arm(arm).map(|_| None).map_err(Into::into);
        self.record(json!({"op": "add_arm", "arm": arm}), r);
    }

    fn remove_arm(&mut self, arm: &str) {
        let r = self
            .bandit
            .remove_arm(arm)
            .map(|_| None)
            .map_err(Into::into);
        self.record(json!({"op": "remove_arm", "arm": arm}), r);
    }

    fn save_load(&mut self) {
        self.bandit = Bandit::load_json(&self.bandit.save_json()).unwrap();
        self.steps.push(json!({"op": "save_load"}));
    }

    fn arms(&mut self) {
        let names: Vec<&str> = self.bandit.arm_names().collect();
        self.steps.push(json!({"op": "arms", "expect": names}));
    }

    fn stats(&mut self) {
        let text = self.bandit.stats_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        self.steps
            .push(json!({"op": "stats", "expect": value, "expect_json": text}));
    }
}

/// A simulated world: reward of arm `i` given by `reward(i, rng)`.
fn run(rec: &mut Recorder, rounds: usize, env: &mut Rng, reward: impl Fn(&str, &mut Rng) -> f64) {
    for _ in 0..rounds {
        if let Some(arm) = rec.choose() {
            let r = reward(&arm, env);
            rec.update(&arm, r);
        }
    }
}

fn generate() -> Value {
    let mut cases = vec![];

    let config = json!({"arms": ["claude", "gpt", "llama"], "seed": 1});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1001);
    let p = |arm: &str| match arm {
        "claude" => 0.3,
        "gpt" => 0.5,
        _ => 0.7,
    };
    let bernoulli = |arm: &str, env: &mut Rng| f64::from(u8::from(env.next_f64() < p(arm)));
    run(&mut rec, 20, &mut env, bernoulli);
    rec.stats();
    run(&mut rec, 40, &mut env, bernoulli);
    rec.stats();
    cases.push(json!({"name": "beta_three_arms", "config": config, "steps": rec.steps}));

    let config =
        json!({"arms": ["short", "long"], "seed": 2, "prior": {"alpha": 2.0, "beta": 5.0}});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1002);
    let frac = |arm: &str, env: &mut Rng| {
        let x = if arm == "long" {
            env.next_f64()
        } else {
            env.next_f64() * 0.6
        };
        (x * 1000.0).round() / 1000.0
    };
    run(&mut rec, 15, &mut env, frac);
    rec.save_load();
    run(&mut rec, 15, &mut env, frac);
    rec.stats();
    cases.push(
        json!({"name": "beta_fractional_rewards_and_prior", "config": config, "steps": rec.steps}),
    );

    let config = json!({
        "arms": ["t0.2", "t0.7", "t1.0"], "model": "gaussian", "seed": 3, "discount": 0.95,
        "prior": {"mu": 0.5, "kappa": 2.0, "alpha": 2.0, "beta": 0.5}
    });
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1003);
    let gauss = |arm: &str, env: &mut Rng| {
        let mean = match arm {
            "t0.2" => 0.4,
            "t0.7" => 0.6,
            _ => 0.5,
        };
        (Normal::new(mean, 0.2).unwrap().sample(env) * 10_000.0).round() / 10_000.0
    };
    run(&mut rec, 25, &mut env, gauss);
    rec.save_load();
    run(&mut rec, 25, &mut env, gauss);
    rec.stats();
    cases.push(json!({"name": "gaussian_discounted", "config": config, "steps": rec.steps}));

    let config = json!({"arms": ["a", "b"], "seed": 4});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1004);
    run(&mut rec, 3, &mut env, |_, env| {
        f64::from(u8::from(env.next_f64() < 0.5))
    });
    rec.update("zzz", 1.0);
    rec.update("a", 1.5);
    rec.update("b", -0.25);
    rec.add_arm("c");
    rec.add_arm("a");
    rec.remove_arm("a");
    rec.remove_arm("a");
    rec.arms();
    run(&mut rec, 5, &mut env, |arm, env| {
        f64::from(u8::from(
            env.next_f64() < if arm == "c" { 0.9 } else { 0.1 },
        ))
    });
    rec.save_load();
    rec.stats();
    rec.remove_arm("b");
    rec.remove_arm("c");
    rec.arms();
    rec.choose();
    rec.add_arm("d");
    rec.choose();
    rec.update("d", 0.0);
    rec.stats();
    cases.push(json!({"name": "arms_change_and_errors", "config": config, "steps": rec.steps}));

    // The policies beside Thompson sampling, and the sliding window.
    let config = json!({"arms": ["claude", "gpt", "llama"], "policy": "ucb1", "window": 12});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1005);
    run(&mut rec, 20, &mut env, bernoulli);
    rec.stats();
    rec.save_load();
    rec.update("gpt", -0.5);
    rec.remove_arm("claude");
    run(&mut rec, 15, &mut env, bernoulli);
    rec.stats();
    cases.push(json!({"name": "ucb1_windowed", "config": config, "steps": rec.steps}));

    let config = json!({
        "arms": ["t0.2", "t0.7"], "model": "gaussian", "policy": "ucb1", "ucb_c": 0.5,
        "discount": 0.9, "seed": 6
    });
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1006);
    run(&mut rec, 20, &mut env, gauss);
    rec.save_load();
    run(&mut rec, 10, &mut env, gauss);
    rec.stats();
    cases.push(json!({"name": "ucb1_gaussian_discounted", "config": config, "steps": rec.steps}));

    let config =
        json!({"arms": ["claude", "gpt", "llama"], "policy": "exp3", "gamma": 0.2, "seed": 7});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1007);
    run(&mut rec, 25, &mut env, bernoulli);
    rec.stats();
    rec.update("claude", 0.75);
    rec.update("gpt", 1.5);
    rec.add_arm("mistral");
    rec.save_load();
    run(&mut rec, 25, &mut env, bernoulli);
    rec.stats();
    cases.push(json!({"name": "exp3", "config": config, "steps": rec.steps}));

    let config = json!({
        "arms": ["short", "long"], "policy": "exp3", "window": 8, "seed": 8,
        "prior": {"alpha": 2.0, "beta": 5.0}
    });
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1008);
    run(&mut rec, 12, &mut env, frac);
    rec.save_load();
    run(&mut rec, 12, &mut env, frac);
    rec.stats();
    cases.push(json!({"name": "exp3_windowed_fractional", "config": config, "steps": rec.steps}));

    let config = json!({"arms": ["a", "b"], "policy": "thompson", "window": 5, "seed": 9});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1009);
    run(&mut rec, 10, &mut env, |arm, env| {
        f64::from(u8::from(
            env.next_f64() < if arm == "b" { 0.8 } else { 0.3 },
        ))
    });
    rec.save_load();
    rec.stats();
    cases.push(json!({"name": "thompson_windowed", "config": config, "steps": rec.steps}));

    // Delayed feedback: asks with tickets, told later and out of order (no expiry: the
    // replays read the system clock, so the default ttl of an hour never passes).
    let config = json!({"arms": ["a", "b", "c"], "seed": 11, "pending_ttl_s": 900});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1011);
    let mut open: Vec<(u64, String)> = vec![];
    for k in 0..24 {
        open.extend(rec.ask(&[]));
        if k % 4 == 3 {
            // Newest first.
            while let Some((t, arm)) = open.pop() {
                let r = bernoulli(if arm == "c" { "llama" } else { "claude" }, &mut env);
                rec.tell(t, r);
            }
        }
        if k == 13 {
            rec.save_load();
        }
    }
    rec.tell(3, 1.0); // told already
    rec.tell(0, 1.0); // no such ticket
    rec.tell(999, 1.0); // not issued yet
    rec.ask(&[1.0]); // a context for a policy without one
    let (ticket, arm) = rec.ask(&[]).unwrap();
    rec.tell(ticket, 1.5); // out of range for beta
    rec.stats();
    rec.remove_arm(&arm);
    rec.tell(ticket, 1.0); // dropped with its arm
    rec.arms();
    rec.stats();
    cases.push(json!({"name": "tickets_delayed_thompson", "config": config, "steps": rec.steps}));

    let config = json!({"arms": ["claude", "gpt", "llama"], "policy": "exp3", "gamma": 0.3,
                        "seed": 12, "expired_reward": 0});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1012);
    let mut open: Vec<(u64, String)> = vec![];
    for _ in 0..20 {
        open.extend(rec.ask(&[]));
        if open.len() == 3 {
            let (t, arm) = open.remove(1);
            let r = bernoulli(&arm, &mut env);
            rec.tell(t, r);
        }
    }
    rec.save_load();
    for (t, arm) in std::mem::take(&mut open) {
        let r = bernoulli(&arm, &mut env);
        rec.tell(t, r);
    }
    run(&mut rec, 5, &mut env, bernoulli);
    rec.stats();
    cases.push(json!({"name": "tickets_exp3", "config": config, "steps": rec.steps}));

    // Contextual LinTS: bias, one-hot task type, prompt length; the best arm depends on the
    // task. Rewards are told one ask late.
    let config = json!({"arms": ["claude", "gpt", "llama"], "policy": "lints", "features": 5,
                        "v": 0.5, "lambda": 2.0, "seed": 13, "pending_ttl_s": 1800});
    let mut rec = Recorder::new(&config);
    let mut env = Rng::seed_from_u64(1013);
    let table = |task: usize, arm: &str| -> f64 {
        let a = match arm {
            "claude" => 0,
            "gpt" => 1,
            _ => 2,
        };
        [[0.8, 0.4, 0.3], [0.3, 0.7, 0.4], [0.2, 0.5, 0.6]][task][a]
    };
    let mut last: Option<(u64, String, usize, f64)> = None;
    for k in 0..40 {
        let task = env.below(3) as usize;
        let len = (env.next_f64() * 1000.0).round() / 1000.0;
        let mut x = vec![1.0, 0.0, 0.0, 0.0, len];
        x[1 + task] = 1.0;
        let asked = rec.ask(&x);
        if let Some((t, arm, task, len)) = last.take() {
            let r = table(task, &arm) + 0.2 * (len - 0.5) + 0.1 * (env.next_f64() - 0.5);
            rec.tell(t, (r * 10_000.0).round() / 10_000.0);
        }
        last = asked.map(|(t, arm)| (t, arm, task, len));
        if k == 20 {
            rec.stats();
            rec.save_load();
        }
    }
    rec.ask(&[]); // no context
    rec.ask(&[1.0, 0.0, 0.0]); // too short
    rec.ask(&[1.0, 0.0, 0.0, 1.0, 1e10]); // too large
    rec.choose(); // needs a context
    rec.update("gpt", 0.5); // needs a context
    if let Some((t, ..)) = &last {
        rec.tell(*t, 1e13); // out of range for lints
        rec.tell(*t, -0.25);
        rec.tell(*t, 0.5); // told already
    }
    rec.add_arm("mistral");
    let asked = rec.ask(&[1.0, 0.0, 1.0, 0.0, 0.25]);
    rec.stats();
    rec.save_load();
    if let Some((t, arm)) = asked {
        rec.remove_arm(&arm);
        rec.tell(t, 0.5); // dropped with its arm
    }
    rec.stats();
    cases.push(json!({"name": "lints_contextual", "config": config, "steps": rec.steps}));

    json!({"format": "gaia.vectors.bandit", "version": 1, "cases": cases})
}

// ---------------------------------------------------------------- replay (the C ABI)

fn replay(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let config = cstr(&case["config"].to_string());
    let mut b = ptr::null_mut();
    unsafe {
        assert_eq!(
            gaia_bandit_new(config.as_ptr(), &mut b),
            gaia_status::GAIA_OK,
            "{name}"
        );
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name} step {i}: {step}");
            let arm = step.get("arm").and_then(Value::as_str).map(cstr);
            let arm_ptr = arm.as_ref().map_or(ptr::null(), |a| a.as_ptr());
            let before = {
                let mut s = ptr::null_mut();
                assert_eq!(gaia_bandit_save(b, &mut s), gaia_status::GAIA_OK);
                take(s)
            };
            let mut out_name = ptr::null_mut();
            let mut asked: Option<(u64, usize)> = None;
            let status = match step["op"].as_str().unwrap() {
                "ask" => {
                    let x: Vec<f64> = step
                        .get("context")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(|v| v.as_f64().unwrap()).collect())
                        .unwrap_or_default();
                    let (mut ticket, mut arm) = (0u64, 0usize);
                    let xp = if x.is_empty() {
                        ptr::null()
                    } else {
                        x.as_ptr()
                    };
                    let st = gaia_bandit_ask(b, xp, x.len(), &mut ticket, &mut arm);
                    asked = Some((ticket, arm));
                    st
                }
                "tell" => gaia_bandit_tell(
                    b,
                    step["ticket"].as_u64().unwrap(),
                    step["reward"].as_f64().unwrap(),
                ),
                "choose" => gaia_bandit_choose_name(b, &mut out_name),
                "update" => gaia_bandit_update(b, arm_ptr, step["reward"].as_f64().unwrap()),
                "add_arm" => gaia_bandit_add_arm(b, arm_ptr),
                "remove_arm" => gaia_bandit_remove_arm(b, arm_ptr),
                "save_load" => {
                    let mut saved = ptr::null_mut();
                    assert_eq!(gaia_bandit_save(b, &mut saved), gaia_status::GAIA_OK);
                    gaia_bandit_free(b);
                    b = ptr::null_mut();
                    let saved = take(saved);
                    gaia_bandit_load(cstr(&saved).as_ptr(), &mut b)
                }
                "arms" => {
                    let mut n = 0;
                    assert_eq!(gaia_bandit_arm_count(b, &mut n), gaia_status::GAIA_OK);
                    let names: Vec<String> = (0..n)
                        .map(|k| {
                            let mut s = ptr::null_mut();
                            assert_eq!(gaia_bandit_arm_name(b, k, &mut s), gaia_status::GAIA_OK);
                            take(s)
                        })
                        .collect();
                    assert_eq!(json!(names), step["expect"], "{at}");
                    gaia_status::GAIA_OK
                }
                "stats" => {
                    let mut s = ptr::null_mut();
                    let status = gaia_bandit_stats_json(b, &mut s);
                    let text = take(s);
                    assert_eq!(text, step["expect_json"].as_str().unwrap(), "{at}");
                    let value: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(value, step["expect"], "{at}");
                    status
                }
                op => panic!("unknown op {op}"),
            };
            match step.get("code") {
                Some(code) => {
                    assert_eq!(
                        status as i64,
                        code.as_i64().unwrap(),
                        "{at}: {}",
                        last_error()
                    );
                    assert!(!last_error().is_empty());
                    let mut after = ptr::null_mut();
                    assert_eq!(gaia_bandit_save(b, &mut after), gaia_status::GAIA_OK);
                    assert_eq!(
                        take(after),
                        before,
                        "{at}: a failed call changed the bandit"
                    );
                }
                None => {
                    assert_eq!(status, gaia_status::GAIA_OK, "{at}: {}", last_error());
                    if step["op"] == "choose" {
                        assert_eq!(json!(take(out_name)), step["expect"], "{at}");
                    }
                    if let Some((ticket, arm)) = asked {
                        assert_eq!(json!(ticket), step["ticket"], "{at}");
                        let mut s = ptr::null_mut();
                        assert_eq!(gaia_bandit_arm_name(b, arm, &mut s), gaia_status::GAIA_OK);
                        assert_eq!(json!(take(s)), step["expect"], "{at}");
                    }
                }
            }
        }
        gaia_bandit_free(b);
    }
}

#[test]
fn shared_bandit_vectors_replay_through_the_c_abi() {
    let fresh = generate();
    let stored = sync_vectors("bandit.json", &fresh);
    assert_eq!(stored["format"], "gaia.vectors.bandit");
    let cases = stored["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
        replay(case);
    }
    // gaia-core today must still produce what the file pins: a change of behaviour (RNG,
    // samplers, posteriors) shows up here first, before any binding.
    assert_eq!(
        stored, fresh,
        "gaia-core no longer reproduces tests/vectors/bandit.json"
    );
}

#[test]
fn vectors_exercise_convergence_and_every_error() {
    let v = generate();
    let text = v.to_string();
    for code in [
        "GAIA_ERR_NOT_FOUND",
        "GAIA_ERR_INVALID_ARGUMENT",
        "GAIA_ERR_ALREADY_EXISTS",
        "GAIA_ERR_INVALID_STATE",
    ] {
        assert!(text.contains(code), "vectors never hit {code}");
    }
    // The best arm (llama, p = 0.7) is the most chosen in the first case.
    let stats = v["cases"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s["op"] == "stats")
        .unwrap();
    let arms = stats["expect"]["arms"].as_array().unwrap();
    let best = arms
        .iter()
        .max_by_key(|a| a["chosen"].as_u64().unwrap())
        .unwrap();
    assert_eq!(best["name"], "llama", "{arms:?}");
}
