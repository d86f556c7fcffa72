#!/usr/bin/env python3
"""Turns the JSON lines of bench/infer/run.sh into the README's table: per engine and
thread count, sentences/s at batch 32 (and the ratio to ONNX Runtime at the same threads),
batch-1 latency, model load time and RSS; then the vector index timings."""
import json
import sys


def main(path):
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip().startswith("{")]
    runs = [r for r in rows if "batch32_sent_per_s" in r]
    ort = {r["threads"]: r["batch32_sent_per_s"] for r in runs if r["engine"] == "onnxruntime"}
    print("| engine | threads | batch 32 (sent/s) | vs ONNX Runtime | batch 1 p50 / p99 (ms) | load (ms) | RSS after load (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    order = {"gaia": 0, "onnxruntime": 1, "sentence-transformers": 2}
    for r in sorted(runs, key=lambda r: (order.get(r["engine"], 9), r["threads"])):
        base = ort.get(r["threads"])
        ratio = "%.2fx" % (r["batch32_sent_per_s"] / base) if base else "-"
        print("| %s | %d | %.1f | %s | %.1f / %.1f | %.0f | %.0f |" % (
            r["engine"], r["threads"], r["batch32_sent_per_s"], ratio,
            r["batch1_p50_ms"], r["batch1_p99_ms"], r["load_ms"], r["rss_mb"]))
    g = {r["threads"]: r["batch32_sent_per_s"] for r in runs if r["engine"] == "gaia"}
    if 1 in g and 2 in g:
        print("\nGaia 2 threads / 1 thread: %.2fx" % (g[2] / g[1]))
    idx = [r for r in rows if r.get("engine") == "gaia-index"]
    if idx:
        print("\n| index storage | rows x dim | top-10, one query (ms) | top-10, batches of 64 (ms/query) |")
        print("| --- | --- | --- | --- |")
        for r in idx:
            print("| %s | %d x %d | %.2f | %.3f |" % (r["storage"], r["rows"], r["dim"], r["top10_ms_per_query"], r["top10_batch64_ms_per_query"]))
    for r in rows:
        if "check" in r:
            print("\ncheck %s: min cosine %.8f over %d sentences (%s)" % (r["check"], r["min_cosine"], r["sentences"], "ok" if r["ok"] else "FAILED"))


if __name__ == "__main__":
    main(sys.argv[1])
