"""Tables of the shared-study benchmark, as Markdown ready for the README.

  report.py RESULTS_DIR    reads RESULTS_DIR/meta.json and RESULTS_DIR/runs.jsonl (bench.py's
                           output; discarded attempts are counted, not shown) and prints the
                           tables and one check line per target. Standard library only.

Never fails on a target: benchmarks are not tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET_MS = 3.0  # per trial, one worker
TARGET_STATEMENTS = 4.0  # per trial, one worker
TARGET_TPS_32 = 1000.0  # aggregate, 32 workers


def load(results):
    meta = json.loads(Path(results, "meta.json").read_text())
    runs, discarded = [], {}
    for line in Path(results, "runs.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if r.get("discarded"):
            discarded[r["label"]] = discarded.get(r["label"], 0) + 1
        else:
            runs.append(r)
    return meta, runs, discarded


def num(v, digits=0):
    return f"{v:,.{digits}f}"


def ms(v):
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def main(results):
    meta, runs, discarded = load(results)
    by = {r["label"]: r for r in runs}
    m = meta["mariadb"]
    out = []
    p = out.append

    p(f"## Shared study in MariaDB: Gaia vs Optuna's RDB storage ({meta['date']})")
    p("")
    p(
        f"{meta['nproc']} cores {meta['cpu']}, {meta['memory']}, {meta['os']}; MariaDB "
        f"{m.get('version', '?')} on the same host (innodb_flush_log_at_trx_commit="
        f"{m.get('innodb_flush_log_at_trx_commit', '?')}, sync_binlog={m.get('sync_binlog', '?')}, "
        f"log_bin={m.get('log_bin', '?')} {m.get('binlog_format', '')}, buffer pool "
        f"{int(m.get('innodb_buffer_pool_size', 0)) >> 20} MB); libgaia {meta['libgaia']}; "
        f"Optuna {meta['optuna']} + PyMySQL {meta['pymysql']} (Python {meta['python']}); git {meta['git']}."
    )
    p("")
    p(
        "| run | workers | trials | trials/s | per trial (ms) | latency p50 (ms) | latency p99 (ms) "
        "| statements/trial | COMMITs/trial | write txns/trial | client CPU ms/trial | MariaDB CPU ms/trial | note |"
    )
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in runs:
        if "error" in r:
            p(f"| {r['label']} | {r['workers']} | - | - | - | - | - | - | - | - | - | - | FAILED: {r['error']} |")
            continue
        pt = r["per_trial"]
        note = []
        if r.get("disturbed"):
            note.append("disturbed: " + r["disturbed"])
        if r.get("retries"):
            note.append(f"{r['retries']} call(s) repeated after GAIA_ERR_IO: {'; '.join(r['retry_errors'])[:300]}")
        if discarded.get(r["label"]):
            note.append(f"{discarded[r['label']]} disturbed attempt(s) discarded")
        name = r["label"] + (" (TPE)" if r["sampler"] == "tpe" and "tpe" not in r["label"] else "")
        p(
            f"| {name} | {r['workers']} | {num(r['trials'])} | {num(r['trials_per_s'])} "
            f"| {ms(1000.0 / r['trials_per_s'])} | {ms(r['latency_ms']['p50'])} | {ms(r['latency_ms']['p99'])} "
            f"| {pt['statements']:.2f} | {pt['com_commit']:.2f} | {pt['binlog_commits']:.2f} "
            f"| {r['cpu_ms_per_trial']['workers']:.2f} | {r['cpu_ms_per_trial']['mariadb']:.2f} "
            f"| {'; '.join(note)} |"
        )
    p("")
    p(
        "Per trial (ms): the run's wall time divided by its trials (1 / trials/s). Latency: ask + "
        "tell of each trial (Optuna: `ask()` + two `suggest_float` + `tell()`), pooled over the "
        "workers. Statements: the server's `Questions` counter (statements clients send; those run "
        "inside the stored procedures are not counted) over the run / trials. COMMITs: "
        "`Com_commit` (COMMIT statements, those inside Gaia's procedures included); write txns: "
        "`Binlog_commits`, transactions that changed something. CPU: /proc, over the run "
        "(client = all worker processes)."
    )
    p("")

    # Gaia / Optuna
    p("### Gaia / Optuna")
    p("")
    p("| workers | Gaia trials/s | Optuna trials/s | Gaia/Optuna | Gaia p50 ms | Optuna p50 ms | Gaia stmts/trial | Optuna stmts/trial |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in (1, 2):
        g, o = by.get(f"gaia-{n}"), by.get(f"optuna-{n}")
        if not g or not o or "error" in g or "error" in o:
            p(f"| {n} | - | - | - | - | - | - | - |")
            continue
        p(
            f"| {n} | {num(g['trials_per_s'])} | {num(o['trials_per_s'], 1)} "
            f"| {g['trials_per_s'] / o['trials_per_s']:.0f}x | {ms(g['latency_ms']['p50'])} "
            f"| {ms(o['latency_ms']['p50'])} | {g['per_trial']['statements']:.2f} "
            f"| {o['per_trial']['statements']:.2f} |"
        )
    o1, o2 = by.get("optuna-1"), by.get("optuna-2")
    if o1 and o2 and "error" not in o1 and "error" not in o2:
        p("")
        p(
            f"Optuna from 1 to 2 workers: {num(o1['trials_per_s'], 1)} -> {num(o2['trials_per_s'], 1)} "
            f"trials/s ({o2['trials_per_s'] / o1['trials_per_s']:.2f}x). Optuna's statements per trial at 1 "
            f"worker: {o1['server']['Com_select'] / o1['trials']:.1f} SELECT, "
            f"{o1['server']['Com_insert'] / o1['trials']:.1f} INSERT, {o1['server']['Com_update'] / o1['trials']:.1f} "
            f"UPDATE, {o1['server']['Com_commit'] / o1['trials']:.1f} COMMIT, "
            f"{o1['server']['Com_rollback'] / o1['trials']:.1f} ROLLBACK ({o1['per_trial']['binlog_commits']:.1f} "
            f"of the COMMITs wrote something)."
        )
    p("")

    # Targets
    p("### Targets")
    p("")
    g1, g32 = by.get("gaia-1"), by.get("gaia-32")

    def check(ok):
        return "met" if ok else "NOT met"

    if g1 and "error" not in g1:
        per = 1000.0 / g1["trials_per_s"]
        p(
            f"- <= {TARGET_MS:g} ms per trial at 1 worker: {per:.2f} ms ({num(g1['trials_per_s'])} trials/s; "
            f"latency p50 {ms(g1['latency_ms']['p50'])} ms, p99 {ms(g1['latency_ms']['p99'])} ms): "
            f"{check(per <= TARGET_MS and g1['latency_ms']['p50'] <= TARGET_MS)}"
        )
        st = g1["per_trial"]["statements"]
        p(
            f"- <= {TARGET_STATEMENTS:g} statements per trial at 1 worker: {st:.2f} "
            f"({g1['server']['Com_call_procedure'] / g1['trials']:.2f} CALL + "
            f"{(g1['server']['Questions'] - g1['server']['Com_call_procedure']) / g1['trials']:.2f} other; "
            f"{g1['per_trial']['binlog_commits']:.2f} commits): {check(st <= TARGET_STATEMENTS)}"
        )
    else:
        p("- <= 3 ms and <= 4 statements per trial at 1 worker: not measured")
    if g32 and "error" not in g32:
        p(
            f"- >= {num(TARGET_TPS_32)} trials/s with 32 workers: {num(g32['trials_per_s'])} trials/s: "
            f"{check(g32['trials_per_s'] >= TARGET_TPS_32)}"
        )
    else:
        p("- >= 1,000 trials/s with 32 workers: not measured")
    p("")

    # Where the time went
    p("### Where the time went")
    p("")
    p(
        "| run | wall (s) | client CPU (s) | MariaDB CPU (s) | other (s) | busy / capacity "
        "| row-lock waits per commit | mean lock wait (ms) | bytes sent to clients per trial |"
    )
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        if "error" in r:
            continue
        c, s = r["cpu_s"], r["server"]
        commits = max(1, s["Binlog_commits"])
        waits = s["Innodb_row_lock_waits"]
        p(
            f"| {r['label']} | {r['driver_wall_s']:.2f} | {c['workers']:.2f} | {c['mariadb']:.2f} "
            f"| {c['other']:.2f} | {100 * c['busy'] / c['capacity']:.0f}% "
            f"| {waits / commits:.2f} | {(s['Innodb_row_lock_time'] / waits) if waits else 0:.2f} "
            f"| {num(r['per_trial']['bytes_sent'])} |"
        )
    p("")
    f = meta.get("fsync_probe", {})
    if f:
        p(
            f"Durability: innodb_flush_log_at_trx_commit={m.get('innodb_flush_log_at_trx_commit', '?')} "
            f"and sync_binlog={m.get('sync_binlog', '?')} here, so a commit does not wait for the disk "
            f"(InnoDB fsyncs its log about once a second; `Innodb_data_fsyncs` per trial at 1 worker: "
            f"{g1['per_trial']['innodb_data_fsyncs'] if g1 and 'error' not in g1 else '?'}). A write + "
            f"fdatasync of 4 KiB on the data directory's file system takes {f['p50_ms']} ms (p50; p99 "
            f"{f['p99_ms']} ms), so with innodb_flush_log_at_trx_commit=1 and sync_binlog=1 (two syncs "
            f"per commit, two commits per trial) one worker would pay about "
            f"{4 * f['p50_ms']:.1f} ms more per trial on this disk; concurrent workers share syncs "
            f"(group commit)."
        )
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
