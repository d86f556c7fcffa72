"""The CDC benchmark (see run.sh): binlog decode beside python-mysql-replication, and
commit-to-searchable latency of `gaia sync --mode cdc` beside incremental passes every second."""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import MariadbGtidEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

TABLE = "bench_cdc"
CORE = "bench_cdc"
STATE = "/tmp/gaia-cdc-bench"


def say(*a):
    print("[cdc bench]", *a, file=sys.stderr, flush=True)


def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit(f"{name} is not set: run through bench/sync_cdc/run.sh")
    return v


DB = dict(host=env("GAIA_MARIADB_HOST"), port=int(env("GAIA_MARIADB_PORT")),
          user=env("GAIA_MARIADB_USER"), passwd=env("GAIA_MARIADB_PASSWORD"))
DBNAME = env("GAIA_MARIADB_DATABASE")
URL = env("GAIA_MARIADB_URL")
SOLR = env("GAIA_SOLR_URL")


def connect():
    return pymysql.connect(host=DB["host"], port=DB["port"], user=DB["user"], password=DB["passwd"],
                           database=DBNAME, autocommit=True)


def gtid_pos(c):
    with c.cursor() as cur:
        cur.execute("SELECT @@gtid_binlog_pos")
        return cur.fetchone()[0]


def solr(path):
    with urllib.request.urlopen(f"{SOLR}/{path}", timeout=30) as r:
        return json.load(r)


def drop_core():
    try:
        solr(f"admin/cores?action=UNLOAD&core={CORE}&deleteInstanceDir=true&wt=json")
    except Exception:
        pass


def setup_table(c, rows):
    with c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"""CREATE TABLE {TABLE} (
            id BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL, price DECIMAL(12,2) NOT NULL,
            marker BIGINT NOT NULL DEFAULT 0,
            updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
            KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4""")
        for lo in range(1, rows + 1, 10_000):
            hi = min(lo + 9_999, rows)
            cur.execute(f"INSERT INTO {TABLE} (id, title, price) SELECT seq, CONCAT('item ', seq), "
                        f"seq % 1000 + 0.99 FROM seq_{lo}_to_{hi}")


def decode_bench(c, rows):
    """The same binlog range (rows inserts + rows updates), decoded by both readers."""
    start = gtid_pos(c)
    setup_table(c, rows)
    with c.cursor() as cur:
        for lo in range(1, rows + 1, 10_000):
            cur.execute(f"UPDATE {TABLE} SET price = price + 1 WHERE id BETWEEN {lo} AND {lo + 9_999}")
    end = gtid_pos(c)
    want = 2 * rows
    gaia = []
    for _ in range(3):
        out = subprocess.run([ARGS.gaia, "binlog-scan", "--url", URL, "--from", start, "--to", end],
                             check=True, capture_output=True, text=True).stdout
        gaia.append(json.loads(out))
    best_gaia = max(gaia, key=lambda g: g["row_changes_per_s"])
    ref = []
    for _ in range(3):
        ref.append(python_scan(start, end))
    best_ref = max(ref, key=lambda r: r["row_changes_per_s"])
    for name, r in (("gaia", best_gaia), ("python-mysql-replication", best_ref)):
        if r["row_changes"] < want:
            sys.exit(f"{name} read {r['row_changes']} row changes, the range holds at least {want}")
    return {"bench": "binlog_decode", "row_changes": best_gaia["row_changes"],
            "gaia_per_s": best_gaia["row_changes_per_s"], "gaia_s": best_gaia["seconds"],
            "reference": "python-mysql-replication 1.0.17",
            "reference_per_s": best_ref["row_changes_per_s"], "reference_s": best_ref["seconds"],
            "ratio": best_gaia["row_changes_per_s"] / best_ref["row_changes_per_s"]}


def python_scan(start, end):
    """python-mysql-replication from GTID `start` until every domain of `end` is reached."""
    goal = {int(d): int(n) for d, _, n in (g.split("-") for g in end.split(",") if g)}
    seen = {int(d): int(n) for d, _, n in (g.split("-") for g in start.split(",") if g)}
    t0 = time.perf_counter()
    stream = BinLogStreamReader(connection_settings=DB, server_id=0x3fff_ff00, is_mariadb=True,
                                auto_position=start, blocking=True, resume_stream=True,
                                only_events=[MariadbGtidEvent, XidEvent, WriteRowsEvent,
                                             UpdateRowsEvent, DeleteRowsEvent])
    rows = trx = 0
    current = None
    try:
        for ev in stream:
            if isinstance(ev, MariadbGtidEvent):
                d, _, n = ev.gtid.split("-")
                current = (int(d), int(n))
            elif isinstance(ev, XidEvent):
                if current:
                    seen[current[0]] = current[1]
                    trx += 1
                if all(seen.get(d, -1) >= n for d, n in goal.items()):
                    break
            else:
                rows += len(ev.rows)
    finally:
        stream.close()
    secs = time.perf_counter() - t0
    return {"transactions": trx, "row_changes": rows, "seconds": secs, "row_changes_per_s": rows / secs}


def latency_bench(c, mode, rate, seconds, rows):
    """Commit-to-searchable latency of each change while a writer commits `rate` changes/s."""
    drop_core()
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    setup_table(c, rows)
    cfg = {"mariadb_url": URL, "solr_url": SOLR, "core": CORE, "state_dir": STATE,
           "mapping": {"table": TABLE, "primary_key": "id", "version_column": "updated_at",
                       "source_time_zone": "UTC",
                       "fields": [{"column": "title", "field": "title_s"},
                                  {"column": "marker", "field": "marker_l"}]},
           "tuning": {"lag_ms": 200, "cdc_flush_ms": 200}}
    path = f"{STATE}/config.json"
    with open(path, "w") as f:
        json.dump(cfg, f)
    gaia = [ARGS.gaia, "sync", "--config", path, "--progress", "0"]
    stop = threading.Event()
    finished = threading.Event()
    if mode == "cdc":
        follower = subprocess.Popen(gaia + ["--mode", "cdc"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if solr(f"{CORE}/select?q=*:*&rows=0&wt=json")["response"]["numFound"] == rows:
                    break
            except Exception:
                pass
            if follower.poll() is not None:
                sys.exit(f"gaia sync --mode cdc ended: {follower.stderr.read().decode()}")
            time.sleep(0.2)
    else:
        subprocess.run(gaia + ["--mode", "full"], check=True, capture_output=True)

        def poll_loop():
            # Passes go on until the watcher has seen every change (or gave up).
            while not finished.is_set():
                t = time.time()
                subprocess.run(gaia + ["--mode", "incremental"], check=True, capture_output=True)
                finished.wait(max(0.0, 1.0 - (time.time() - t)))
        follower = threading.Thread(target=poll_loop)
        follower.start()
    committed = {}
    seen = {}

    def watch():
        low = 1
        while not stop.is_set() or len(seen) < len(committed):
            try:
                j = solr(f"{CORE}/select?q=marker_l:[{low}%20TO%20*]&fl=marker_l&rows=2000&sort=marker_l%20asc&wt=json")
            except Exception:
                time.sleep(0.05)
                continue
            now = time.time()
            for d in j["response"]["docs"]:
                seen.setdefault(d["marker_l"], now)
            while low in seen:
                low += 1
            if stop.is_set() and time.time() > stop_at + 30:
                break
            time.sleep(0.02)
    stop_at = float("inf")
    watcher = threading.Thread(target=watch)
    watcher.start()
    w = connect()
    n = rate * seconds
    t0 = time.time()
    with w.cursor() as cur:
        for seq in range(1, n + 1):
            due = t0 + seq / rate
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            # Each change gets its own row, so a later change never hides an earlier one.
            cur.execute(f"UPDATE {TABLE} SET marker = %s WHERE id = %s", (seq, seq % rows + 1))
            committed[seq] = time.time()
    achieved = n / (time.time() - t0)
    stop_at = time.time()
    stop.set()
    watcher.join()
    finished.set()
    if mode == "cdc":
        follower.terminate()
        follower.wait(30)
    else:
        follower.join()
    lat = sorted((seen[s] - committed[s]) for s in committed if s in seen)
    missing = n - len(lat)
    if not lat:
        sys.exit(f"{mode}: no change became searchable")

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
    return {"bench": "latency", "mode": mode, "changes": n, "changes_per_s": achieved,
            "missing": missing, "p50_s": pct(50), "p99_s": pct(99), "max_s": lat[-1],
            "mean_s": statistics.fmean(lat)}


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--gaia", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--seconds", type=int, default=20)
    ARGS = p.parse_args()
    c = connect()
    say(f"decode: {ARGS.rows} inserts + {ARGS.rows} updates, read by both")
    results = [decode_bench(c, ARGS.rows)]
    for mode in ("cdc", "incremental"):
        say(f"latency: {mode}, {ARGS.rate} changes/s for {ARGS.seconds} s")
        results.append(latency_bench(c, mode, ARGS.rate, ARGS.seconds, 10_000))
    drop_core()
    with c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    shutil.rmtree(STATE, ignore_errors=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(ARGS.out, "a") as f:
        for r in results:
            f.write(json.dumps({"date": stamp, **r}) + "\n")
    d = results[0]
    print(f"binlog decode, {d['row_changes']:,} row changes on one connection:")
    print(f"  gaia binlog-scan            {d['gaia_per_s']:>12,.0f} row changes/s")
    print(f"  python-mysql-replication    {d['reference_per_s']:>12,.0f} row changes/s")
    print(f"  ratio                       {d['ratio']:>12.1f}x")
    print(f"commit-to-searchable latency at {ARGS.rate} changes/s for {ARGS.seconds} s:")
    print(f"  {'':<28}{'p50':>8}{'p99':>8}{'max':>8}  achieved rate, missing")
    for r in results[1:]:
        name = "gaia sync --mode cdc" if r["mode"] == "cdc" else "incremental every 1 s"
        print(f"  {name:<28}{r['p50_s']:>7.2f}s{r['p99_s']:>7.2f}s{r['max_s']:>7.2f}s"
              f"  {r['changes_per_s']:.0f}/s, {r['missing']}")
    print(f"(appended to {ARGS.out})")


if __name__ == "__main__":
    main()
