"""One Optuna worker of the shared-study benchmark: the loop of worker.c with Optuna's RDB storage.

  optuna_worker.py create NAME STORAGE_URL
      create the study once (optuna.create_study, load_if_exists=True) before the workers start
  optuna_worker.py run NAME STORAGE_URL TRIALS SEED [SYNC_DIR INDEX]
      load the study, wait at the barrier, run TRIALS ask -> suggest x, y -> objective -> tell
      loops with RandomSampler(seed) and print one JSON line (the fields worker.c prints)

The barrier is worker.c's: create SYNC_DIR/ready.INDEX once the study is loaded, wait for
SYNC_DIR/go, run, print, write the latencies (ms, one a line) to SYNC_DIR/lat.INDEX, create
SYNC_DIR/done.INDEX, wait for SYNC_DIR/exit, then dispose of the engine.

Latency per trial = study.ask() + the two suggest_float calls (each writes the parameter to
the database) + study.tell(); the objective (a 2-D sphere) is not timed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import sys
import time

import optuna

LOW, HIGH = -5.0, 5.0


def storage(url):
    # Optuna's defaults (what `optuna.create_study(storage=url)` builds), no heartbeat.
    return optuna.storages.RDBStorage(url)


def wait_for(path, pause):
    while not os.path.exists(path):
        time.sleep(pause)


def touch(path):
    with open(path, "w"):
        pass


def dist(values):
    v = sorted(values)
    n = len(v)

    def pct(q):
        rank = max(1, min(n, math.ceil(q / 100.0 * n)))
        return v[rank - 1] * 1e3

    return {
        "mean": round(sum(v) / n * 1e3, 4),
        "p50": round(pct(50), 4),
        "p90": round(pct(90), 4),
        "p99": round(pct(99), 4),
        "max": round(v[-1] * 1e3, 4),
    }


def create(name, url):
    optuna.create_study(
        study_name=name, storage=storage(url), direction="minimize", load_if_exists=True
    )


def run(name, url, trials, seed, sync_dir, index):
    t_open = time.perf_counter()
    rdb = storage(url)
    study = optuna.load_study(
        study_name=name, storage=rdb, sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    open_s = time.perf_counter() - t_open
    if sync_dir:
        touch(os.path.join(sync_dir, f"ready.{index}"))
        wait_for(os.path.join(sync_dir, "go"), 0.001)

    lat, ask, tell = [], [], []
    best = math.inf
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    start_wall, start = time.time(), time.perf_counter()
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        x = trial.suggest_float("x", LOW, HIGH)
        y = trial.suggest_float("y", LOW, HIGH)
        t1 = time.perf_counter()
        value = x * x + y * y  # the objective: not timed
        t2 = time.perf_counter()
        study.tell(trial, value)
        t3 = time.perf_counter()
        ask.append(t1 - t0)
        tell.append(t3 - t2)
        lat.append((t1 - t0) + (t3 - t2))
        best = min(best, value)
    elapsed = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_SELF)

    out = {
        "side": "optuna",
        "worker": int(index),
        "pid": os.getpid(),
        "trials": trials,
        "open_s": round(open_s, 6),
        "start_unix": start_wall,
        "end_unix": start_wall + elapsed,
        "elapsed_s": round(elapsed, 6),
        "trials_per_s": round(trials / elapsed, 2),
        "cpu_user_s": round(ru1.ru_utime - ru0.ru_utime, 3),
        "cpu_sys_s": round(ru1.ru_stime - ru0.ru_stime, 3),
        "best": best,
        "latency_ms": dist(lat),
        "ask_ms": dist(ask),
        "tell_ms": dist(tell),
    }
    print(json.dumps(out), flush=True)
    if sync_dir:
        with open(os.path.join(sync_dir, f"lat.{index}"), "w") as f:
            f.write("".join(f"{v * 1e3:.4f}\n" for v in lat))
        touch(os.path.join(sync_dir, f"done.{index}"))
        wait_for(os.path.join(sync_dir, "exit"), 0.05)
    rdb.engine.dispose()


def main(argv):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    if len(argv) == 3 and argv[0] == "create":
        create(argv[1], argv[2])
    elif len(argv) in (5, 7) and argv[0] == "run":
        sync_dir, index = (argv[5], argv[6]) if len(argv) == 7 else (None, "0")
        run(argv[1], argv[2], int(argv[3]), int(argv[4]), sync_dir, index)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
