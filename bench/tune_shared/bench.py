"""Driver of the shared-study benchmark (bench/tune_shared): runs one configuration of N worker
processes against one fresh study in MariaDB and measures it from outside.

  bench.py meta                      machine, server and library facts as JSON (one line)
  bench.py run --label L --side gaia|optuna --workers N --trials T --study NAME
               [--sampler random|tpe] [--studies K] [--attempts 3] [--wait-idle 30]
                                     one configuration; prints one JSON line per attempt
  bench.py cleanup --prefix P        deletes the rows of every study whose name starts with P
                                     (P must start with bench-tsb-: this benchmark's studies)

`run` starts the workers (worker.c or optuna_worker.py), each opening the study, and waits
until all are ready; then it reads the server's counters (`SHOW GLOBAL STATUS`), releases
the workers together, waits until all have finished their trials and reads the counters
again before any worker disconnects. Deltas divided by the trials give the statements
(`Questions`: what clients send; statements run inside stored procedures are not counted)
and the commits per trial. CPU seconds of the workers, of mariadbd and of everything else
are read from /proc over the same window.

The counters are the whole server's: a one-second window before and after each run checks
that nobody else sends statements meanwhile, and a run disturbed by other clients' statements
or by other processes' CPU (> 0.15 cores) is measured again with a fresh study (up to
--attempts; discarded attempts are printed too, marked "discarded": true).

Needs PyMySQL (run it with the python of scripts/optuna-venv.sh). Reads GAIA_MARIADB_* (from
`scripts/services.sh env`), GAIA_SERVICES_DIR (mariadbd's pid file), GAIA_TSB_WORKER (the
built worker.c) and GAIA_TSB_PYTHON (the python for optuna_worker.py, default this one).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TICK = os.sysconf("SC_CLK_TCK")
SERVICES = os.environ.get("GAIA_SERVICES_DIR", "/tmp/gaia-services")
COUNTERS = (
    "Questions",
    "Queries",
    "Com_call_procedure",
    "Com_stmt_prepare",
    "Com_stmt_execute",
    "Com_stmt_close",
    "Com_select",
    "Com_insert",
    "Com_update",
    "Com_delete",
    "Com_commit",
    "Com_rollback",
    "Com_begin",
    "Com_set_option",
    "Handler_commit",
    "Handler_rollback",
    "Binlog_commits",
    "Binlog_group_commits",
    "Innodb_data_fsyncs",
    "Innodb_log_writes",
    "Innodb_row_lock_waits",
    "Innodb_row_lock_time",
    "Bytes_received",
    "Bytes_sent",
)
VARIABLES = (
    "version",
    "innodb_flush_log_at_trx_commit",
    "innodb_flush_log_at_timeout",
    "sync_binlog",
    "log_bin",
    "binlog_format",
    "innodb_flush_method",
    "innodb_buffer_pool_size",
    "innodb_log_file_size",
    "thread_handling",
    "max_connections",
    "transaction_isolation",
    "tx_isolation",
)
SPACE = {
    "params": [
        {"name": "x", "type": "float", "low": -5, "high": 5},
        {"name": "y", "type": "float", "low": -5, "high": 5},
    ]
}


def say(msg):
    print(f"[tune_shared bench] {msg}", file=sys.stderr, flush=True)


# ----- the server ---------------------------------------------------------------------------


def connect():
    env = os.environ
    return pymysql.connect(
        host=env.get("GAIA_MARIADB_HOST", "127.0.0.1"),
        port=int(env.get("GAIA_MARIADB_PORT", "3307")),
        user=env.get("GAIA_MARIADB_USER", "gaia"),
        password=env.get("GAIA_MARIADB_PASSWORD", "gaia-pass"),
        database=env.get("GAIA_MARIADB_DATABASE", "gaia"),
        autocommit=True,
    )


def counters(cur):
    """One statement (it counts itself: 1 Question, 1 Com_show_status, no commit)."""
    names = ",".join(f"'{n}'" for n in COUNTERS)
    cur.execute(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
    return {k: int(v) for k, v in cur.fetchall()}


def delta(a, b):
    d = {k: b.get(k, 0) - a.get(k, 0) for k in COUNTERS if k in a or k in b}
    # The second snapshot is one statement of ours.
    d["Questions"] -= 1
    d["Queries"] -= 1
    return d


def background(cur, seconds=1.0):
    """Statements other clients sent during a quiet window of `seconds` (ours removed)."""
    a = counters(cur)
    time.sleep(seconds)
    b = counters(cur)
    return delta(a, b)["Questions"]


# ----- CPU from /proc -----------------------------------------------------------------------


def busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]  # user nice system irq softirq steal


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2 :].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (all threads)
    except (OSError, ValueError, IndexError):
        return 0


def mariadbd_pid():
    try:
        return int(Path(SERVICES, "mariadb", "mysqld.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wait_idle(limit):
    """Waits (at most `limit` s) until the machine uses less than 0.2 cores over 2 s."""
    deadline = time.time() + limit
    while True:
        b0 = busy_ticks()
        time.sleep(2)
        busy = (busy_ticks() - b0) / TICK / 2
        if busy < 0.2 or time.time() > deadline:
            return busy


# ----- one configuration --------------------------------------------------------------------


def pct(sorted_values, q):
    n = len(sorted_values)
    rank = max(1, min(n, math.ceil(q / 100.0 * n)))
    return sorted_values[rank - 1]


def worker_cmds(args, sync_dir):
    env = os.environ
    per = [args.trials // args.workers + (1 if i < args.trials % args.workers else 0) for i in range(args.workers)]
    cmds = []
    if args.side == "gaia":
        url = env["GAIA_MARIADB_URL"]
        storage = url
        if args.heartbeat is not None:
            storage = {"type": "mysql", "url": url, "heartbeat_interval_s": args.heartbeat}
        for i in range(args.workers):
            config = {
                "name": args.study if args.studies == 1 else f"{args.study}-s{i % args.studies}",
                "storage": storage,
                "space": SPACE,
                "direction": "minimize",
                "sampler": {"type": args.sampler},
                "seed": args.seed + i,
            }
            cmds.append([env["GAIA_TSB_WORKER"], json.dumps(config), str(per[i]), sync_dir, str(i)])
    else:
        py = env.get("GAIA_TSB_PYTHON", sys.executable)
        url = optuna_url()
        for i in range(args.workers):
            cmds.append(
                [py, str(HERE / "optuna_worker.py"), "run", args.study, url, str(per[i]),
                 str(args.seed + i), sync_dir, str(i)]
            )
    return cmds


def optuna_url():
    e = os.environ
    return (
        f"mysql+pymysql://{e.get('GAIA_MARIADB_USER', 'gaia')}:{e.get('GAIA_MARIADB_PASSWORD', 'gaia-pass')}"
        f"@{e.get('GAIA_MARIADB_HOST', '127.0.0.1')}:{e.get('GAIA_MARIADB_PORT', '3307')}"
        f"/{e.get('GAIA_MARIADB_DATABASE', 'gaia')}"
    )


def wait_files(sync_dir, prefix, n, procs, timeout, pause):
    """Waits until n files prefix.0..n-1 exist; returns an error string if a worker died."""
    deadline = time.time() + timeout
    while True:
        have = sum(1 for i in range(n) if os.path.exists(os.path.join(sync_dir, f"{prefix}.{i}")))
        if have == n:
            return None
        for i, p in enumerate(procs):
            if p.poll() is not None and not os.path.exists(os.path.join(sync_dir, f"{prefix}.{i}")):
                return f"worker {i} exited with status {p.returncode} before '{prefix}'"
        if time.time() > deadline:
            return f"only {have} of {n} workers reached '{prefix}' within {timeout} s"
        time.sleep(pause)


def attempt(args, cur, study):
    sync_dir = tempfile.mkdtemp(prefix="gaia-tsb-")
    out = {
        "label": args.label,
        "side": args.side,
        "workers": args.workers,
        "sampler": args.sampler,
        "study": study,
        "studies": args.studies,
        "trials_requested": args.trials,
    }
    procs, logs = [], []
    try:
        if args.side == "optuna":
            py = os.environ.get("GAIA_TSB_PYTHON", sys.executable)
            subprocess.run([py, str(HERE / "optuna_worker.py"), "create", study, optuna_url()], check=True)
        a = argparse.Namespace(**vars(args))
        a.study = study
        for i, cmd in enumerate(worker_cmds(a, sync_dir)):
            so = open(os.path.join(sync_dir, f"out.{i}"), "w")
            se = open(os.path.join(sync_dir, f"err.{i}"), "w")
            logs += [so, se]
            procs.append(subprocess.Popen(cmd, stdout=so, stderr=se, stdin=subprocess.DEVNULL))
        err = wait_files(sync_dir, "ready", args.workers, procs, 300, 0.01)
        if err:
            raise RuntimeError(err)
        bg_before = background(cur)

        mpid = mariadbd_pid()
        pids = [p.pid for p in procs]
        c0 = counters(cur)
        b0, m0, w0, s0 = busy_ticks(), proc_ticks(mpid), sum(proc_ticks(p) for p in pids), self_cpu()
        t0 = time.perf_counter()
        Path(sync_dir, "go").touch()
        err = wait_files(sync_dir, "done", args.workers, procs, 3600, 0.005)
        t1 = time.perf_counter()
        b1, m1, w1, s1 = busy_ticks(), proc_ticks(mpid), sum(proc_ticks(p) for p in pids), self_cpu()
        c1 = counters(cur)
        if err:
            raise RuntimeError(err)
        bg_after = background(cur)
    except Exception as e:  # noqa: BLE001 - reported in the JSON, the run goes on
        out["error"] = str(e)
        for i in range(len(procs)):
            try:
                tail = Path(sync_dir, f"err.{i}").read_text().strip().splitlines()[-3:]
            except OSError:
                tail = []
            if tail:
                out["error"] += f"; worker {i}: " + " | ".join(tail)
                break
        for p in procs:
            if p.poll() is None:
                p.kill()
        return out
    finally:
        Path(sync_dir, "exit").touch()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in logs:
            f.close()

    workers = []
    for i in range(args.workers):
        lines = [l for l in Path(sync_dir, f"out.{i}").read_text().splitlines() if l.startswith("{")]
        workers.append(json.loads(lines[-1]))
    lat = []
    for i in range(args.workers):
        lat += [float(x) for x in Path(sync_dir, f"lat.{i}").read_text().split()]
    shutil.rmtree(sync_dir, ignore_errors=True)
    lat.sort()

    trials = sum(w["trials"] for w in workers)
    start = min(w["start_unix"] for w in workers)
    end = max(w["end_unix"] for w in workers)
    window = end - start
    wall = t1 - t0
    d = delta(c0, c1)
    maria = (m1 - m0) / TICK
    work = (w1 - w0) / TICK
    driver = s1 - s0
    total = (b1 - b0) / TICK
    other = max(0.0, total - maria - work - driver)
    cores = os.cpu_count() or 1
    out.update(
        {
            "trials": trials,
            "window_s": round(window, 4),
            "trials_per_s": round(trials / window, 2),
            "latency_ms": {
                "mean": round(sum(lat) / len(lat), 4),
                "p50": pct(lat, 50),
                "p90": pct(lat, 90),
                "p99": pct(lat, 99),
                "max": lat[-1],
            },
            "ask_p50_ms_median_worker": sorted(w["ask_ms"]["p50"] for w in workers)[len(workers) // 2],
            "tell_p50_ms_median_worker": sorted(w["tell_ms"]["p50"] for w in workers)[len(workers) // 2],
            "worker_trials_per_s": {
                "min": min(w["trials_per_s"] for w in workers),
                "max": max(w["trials_per_s"] for w in workers),
            },
            "retries": sum(w.get("retries", 0) for w in workers),
            "retry_errors": sorted({w["last_retry_error"] for w in workers if w.get("last_retry_error")}),
            "start_skew_ms": round((max(w["start_unix"] for w in workers) - start) * 1e3, 2),
            "open_s_max": max(w["open_s"] for w in workers),
            "server": d,
            "per_trial": {
                "statements": round(d["Questions"] / trials, 3),
                "server_statements_incl_procedures": round(d["Queries"] / trials, 3),
                "com_commit": round(d["Com_commit"] / trials, 3),
                "handler_commit": round(d["Handler_commit"] / trials, 3),
                "binlog_commits": round(d["Binlog_commits"] / trials, 3),
                "innodb_data_fsyncs": round(d["Innodb_data_fsyncs"] / trials, 4),
                "bytes_received": round(d["Bytes_received"] / trials, 1),
                "bytes_sent": round(d["Bytes_sent"] / trials, 1),
            },
            "background_statements": {"before_1s": bg_before, "after_1s": bg_after},
            "cpu_s": {
                "workers": round(work, 2),
                "mariadb": round(maria, 2),
                "driver": round(driver, 2),
                "other": round(other, 2),
                "busy": round(total, 2),
                "capacity": round(cores * wall, 2),
            },
            "cpu_ms_per_trial": {
                "workers": round(work / trials * 1e3, 4),
                "mariadb": round(maria / trials * 1e3, 4),
            },
            "driver_wall_s": round(wall, 4),
            "other_load_cores": round(other / wall, 3) if wall > 0 else 0.0,
            "worker_results": workers,
        }
    )
    reasons = []
    if bg_before or bg_after:
        reasons.append(f"other clients sent {bg_before} + {bg_after} statements in the quiet windows")
    if out["other_load_cores"] > 0.15:
        reasons.append(f"other processes took {out['other_load_cores']} cores")
    out["disturbed"] = "; ".join(reasons) if reasons else None
    return out


def cmd_run(args):
    conn = connect()
    cur = conn.cursor()
    for n in range(1, args.attempts + 1):
        idle = wait_idle(args.wait_idle) if args.wait_idle > 0 else None
        study = f"{args.study}-a{n}"
        say(f"{args.label}: {args.workers} {args.side} worker(s), {args.trials} trials, study {study} (attempt {n})")
        r = attempt(args, cur, study)
        r["attempt"] = n
        r["busy_cores_before"] = None if idle is None else round(idle, 3)
        last = n == args.attempts
        if "error" in r:
            say(f"{args.label}: FAILED: {r['error']}")
            if not last:
                r["discarded"] = True
                print(json.dumps(r), flush=True)
                say(f"{args.label}: measuring again")
                continue
            print(json.dumps(r), flush=True)
            return
        msg = (
            f"{args.label}: {r['trials_per_s']:.0f} trials/s, p50 {r['latency_ms']['p50']:.3f} ms, "
            f"p99 {r['latency_ms']['p99']:.3f} ms, {r['per_trial']['statements']} statements/trial"
        )
        say(msg + (f"; disturbed: {r['disturbed']}" if r["disturbed"] else ""))
        if r["disturbed"] and not last:
            r["discarded"] = True
            print(json.dumps(r), flush=True)
            say(f"{args.label}: measuring again")
            continue
        print(json.dumps(r), flush=True)
        return


# ----- facts and clean-up -------------------------------------------------------------------


def run_text(cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fsync_probe(directory, n=200):
    """Median and p99 of write(4 KiB) + fdatasync on the file system of `directory`, in ms:
    what one durable commit would at least cost (innodb_flush_log_at_trx_commit = 1)."""
    fd, path = tempfile.mkstemp(prefix="gaia-tsb-fsync-", dir=directory)
    try:
        block = os.urandom(4096)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            times.append(time.perf_counter() - t)
        times.sort()
        return {"dir": directory, "n": n, "p50_ms": round(pct(times, 50) * 1e3, 3),
                "p99_ms": round(pct(times, 99) * 1e3, 3)}
    finally:
        os.close(fd)
        os.unlink(path)


def cmd_meta(_args):
    conn = connect()
    cur = conn.cursor()
    server = {}
    for v in VARIABLES:
        cur.execute("SHOW GLOBAL VARIABLES LIKE %s", (v,))
        row = cur.fetchone()
        if row:
            server[row[0]] = row[1]
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    try:
        import optuna

        optuna_version = optuna.__version__
    except ImportError:
        optuna_version = "unknown"
    commit = run_text(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT)
    dirty = run_text(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT)
    data_dir = Path(SERVICES, "mariadb")
    print(
        json.dumps(
            {
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "nproc": os.cpu_count(),
                "cpu": cpu,
                "memory": mem,
                "os": os_name,
                "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                "mariadb": server,
                "mariadb_same_host": True,
                "fsync_probe": fsync_probe(str(data_dir if data_dir.is_dir() else tempfile.gettempdir())),
                "libgaia": os.environ.get("GAIA_TSB_LIBGAIA_VERSION", "unknown"),
                "cc": run_text(["cc", "--version"]).splitlines()[0] if run_text(["cc", "--version"]) != "unknown" else "unknown",
                "python": platform.python_version(),
                "optuna": optuna_version,
                "pymysql": pymysql.__version__,
                "git": commit + (" (with uncommitted changes)" if dirty not in ("", "unknown") else ""),
            }
        )
    )


TRIAL_CHILDREN = (
    "trial_params",
    "trial_values",
    "trial_heartbeats",
    "trial_intermediate_values",
    "trial_system_attributes",
    "trial_user_attributes",
)
STUDY_CHILDREN = ("gaia_queue", "gaia_studies", "study_directions", "study_system_attributes",
                  "study_user_attributes")


def retry_deadlock(cur, sql, params):
    for n in range(5):
        try:
            return cur.execute(sql, params)
        except pymysql.err.OperationalError as e:
            if e.args[0] not in (1213, 1205) or n == 4:
                raise
            time.sleep(0.2 * (n + 1))


def cmd_cleanup(args):
    """Deletes the studies whose name starts with --prefix, child rows first (the schema has
    no ON DELETE CASCADE). Other tests use the same tables at the same time, so it takes as
    few locks as it can: READ COMMITTED (no gap locks), autocommit, small batches by primary
    key, each statement repeated if it is chosen as a deadlock victim."""
    if not args.prefix.startswith("bench-tsb-"):
        sys.exit("cleanup: the prefix must start with bench-tsb- (this benchmark's studies)")
    conn = connect()
    cur = conn.cursor()
    cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    like = args.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    cur.execute("SELECT study_id, study_name FROM studies WHERE study_name LIKE %s", (like,))
    studies = cur.fetchall()
    cur.execute("SHOW TABLES")
    tables = {r[0] for r in cur.fetchall()}
    rows = 0
    for sid, _name in studies:
        cur.execute("SELECT trial_id FROM trials WHERE study_id = %s ORDER BY trial_id", (sid,))
        ids = [r[0] for r in cur.fetchall()]
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join(["%s"] * len(chunk))
            for t in TRIAL_CHILDREN:
                if t in tables:
                    rows += retry_deadlock(cur, f"DELETE FROM {t} WHERE trial_id IN ({marks})", chunk)
            rows += retry_deadlock(cur, f"DELETE FROM trials WHERE trial_id IN ({marks})", chunk)
        if "gaia_log" in tables:
            cur.execute("SELECT COALESCE(MAX(seq), 0) FROM gaia_log WHERE study_id = %s", (sid,))
            top = cur.fetchone()[0]
            for lo in range(0, top + 1, 2000):
                rows += retry_deadlock(
                    cur, "DELETE FROM gaia_log WHERE study_id = %s AND seq >= %s AND seq < %s",
                    (sid, lo, lo + 2000),
                )
        for t in STUDY_CHILDREN:
            if t in tables:
                rows += retry_deadlock(cur, f"DELETE FROM {t} WHERE study_id = %s", (sid,))
        rows += retry_deadlock(cur, "DELETE FROM studies WHERE study_id = %s", (sid,))
    say(f"deleted {len(studies)} studies named {args.prefix}* ({rows:,} rows)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("meta")
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--side", choices=("gaia", "optuna"), required=True)
    r.add_argument("--workers", type=int, required=True)
    r.add_argument("--trials", type=int, required=True, help="total over the workers")
    r.add_argument("--study", required=True, help="study name stem (-aN is appended per attempt)")
    r.add_argument("--sampler", choices=("random", "tpe"), default="random")
    r.add_argument("--seed", type=int, default=1000)
    r.add_argument("--heartbeat", type=float, default=None, help="Gaia heartbeat_interval_s")
    r.add_argument("--studies", type=int, default=1,
                   help="spread Gaia's workers over this many studies (a diagnostic: one study "
                   "serialises its writes on its row; run.sh always uses 1)")
    r.add_argument("--attempts", type=int, default=3)
    r.add_argument("--wait-idle", type=float, default=30)
    c = sub.add_parser("cleanup")
    c.add_argument("--prefix", required=True)
    args = ap.parse_args()
    {"meta": cmd_meta, "run": cmd_run, "cleanup": cmd_cleanup}[args.cmd](args)


if __name__ == "__main__":
    main()
