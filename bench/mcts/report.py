"""Prints bench/mcts's tables from results/{quality,speed}.jsonl."""

import collections
import datetime
import json
import platform
import statistics
import sys
from pathlib import Path


def cpu():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main(results):
    rows = [json.loads(l) for l in (Path(results) / "quality.jsonl").read_text().splitlines() if l.strip()]
    speed = [json.loads(l) for l in (Path(results) / "speed.jsonl").read_text().splitlines() if l.strip()]
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["algo"], r["actions"], r["n"], r["side"])].append(r)
    print(f"## mcts benchmark: Gaia vs treequest 0.3.3 on HQR-1\n")
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {cpu()}, Python {platform.python_version()}.\n")
    print("Mean best score +- its standard error (seeds in brackets), the difference with its")
    print("standard error, and microseconds per step (search only; the task's own time excluded on")
    print("both sides).\n")
    print("| algorithm | actions | N | Gaia mean best | treequest mean best | difference | Gaia us/step | treequest us/step | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    keys = sorted({(a, k, n) for (a, k, n, _) in by}, key=lambda x: (x[0], x[1], x[2]))
    for algo, actions, n in keys:
        g = by.get((algo, actions, n, "gaia"), [])
        t = by.get((algo, actions, n, "treequest"), [])
        gm = statistics.mean(r["best"] for r in g) if g else float("nan")
        tm = statistics.mean(r["best"] for r in t) if t else float("nan")
        se = lambda rs: statistics.stdev(r["best"] for r in rs) / len(rs) ** 0.5 if len(rs) > 1 else float("nan")
        gse, tse = se(g), se(t)
        gu = statistics.mean(r["seconds"] for r in g) / n * 1e6 if g else float("nan")
        tu = statistics.mean(r["seconds"] for r in t) / n * 1e6 if t else float("nan")
        diff = f"{gm - tm:+.3f} +- {(gse ** 2 + tse ** 2) ** 0.5:.3f}" if t else "-"
        ratio = f"{tu / gu:.0f}x" if t else "-"
        tcol = f"{tm:.3f} +- {tse:.3f} ({len(t)})" if t else "-"
        tus = f"{tu:.0f}" if t else "-"
        print(f"| {algo} | {actions} | {n} | {gm:.3f} +- {gse:.3f} ({len(g)}) | {tcol} | {diff} | {gu:.1f} | {tus} | {ratio} |")
    print("\nGaia alone (AB-MCTS-A, Gaussian, one action, seed 1):\n")
    print("| N | us/step (last 1,000 steps) | snapshot | save | load |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for s in speed:
        if s.get("mode") == "speed":
            print(f"| {s['n']} | {s['us_per_step']:.1f} | {s['snapshot_bytes'] / 1e6:.1f} MB | {s['save_ms']:.1f} ms | {s['load_ms']:.1f} ms |")
    mem = {s["side"]: s for s in speed if s.get("mode") == "memory"}
    if mem:
        g, t = mem.get("gaia"), mem.get("treequest")
        print(f"\nBytes per node: Gaia {g['bytes_per_node']:.0f} (N={g['n']}, heap counted by a global allocator)"
              + (f", treequest {t['bytes_per_node']:.0f} (N={t['n']}, tracemalloc)" if t else "") + ".")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results")
