"""Prints bench/bandit's table from results/*.jsonl: microseconds per call for Gaia (Rust,
and through the C ABI) and the references (NumPy, MABWiser), with each reference's time
divided by Gaia's (Rust)."""

import datetime
import json
import platform
import sys
from pathlib import Path

CASES = [
    ("thompson_ask_tell", "Thompson sampling, beta, ask + tell"),
    ("thompson_choose_update", "Thompson sampling, beta, choose + update (no ticket)"),
    ("lints_ask", "LinTS ask"),
    ("lints_tell", "LinTS tell"),
    ("lints_ask_tell", "LinTS ask + tell"),
]
IMPLS = ["gaia-rust", "gaia-c", "numpy", "mabwiser"]
TARGETS = {("thompson_ask_tell", 16): 1.0, ("lints_ask", 4): 20.0, ("lints_ask", 16): 20.0}


def cpu():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main(results):
    rows = {}
    for path in sorted(Path(results).glob("*.jsonl")):
        for text in path.read_text().splitlines():
            if text.strip():
                r = json.loads(text)
                rows[(r["impl"], r["case"], r["arms"])] = r
    meta = Path(results) / "meta.txt"
    print("## bandit benchmark: Gaia beside NumPy and MABWiser\n")
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {cpu()}; "
          f"Python {platform.python_version()}" + (f"; {', '.join(l for l in meta.read_text().splitlines() if l)}" if meta.exists() else "") + ".\n")
    print("Microseconds per call, one request at a time (features: 32 for LinTS). Ratio: the")
    print("reference's time over Gaia's (Rust); above 1 means Gaia is faster.\n")
    print("| case | arms | Gaia Rust (us) | Gaia C ABI (us) | NumPy (us) | MABWiser (us) | NumPy / Gaia | MABWiser / Gaia | target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    keys = sorted({(c, k) for (_, c, k) in rows}, key=lambda ck: ([c for c, _ in CASES].index(ck[0]) if ck[0] in [c for c, _ in CASES] else 99, ck[1]))
    names = dict(CASES)
    for case, k in keys:
        us = {impl: rows[(impl, case, k)]["us"] for impl in IMPLS if (impl, case, k) in rows}
        g = us.get("gaia-rust")
        cell = lambda impl: f"{us[impl]:.2f}" if impl in us else "-"
        ratio = lambda impl: f"{us[impl] / g:.1f}x" if impl in us and g else "-"
        target = TARGETS.get((case, k))
        t = "-" if target is None or g is None else (f"<= {target:g} us: " + ("met" if g <= target else "missed"))
        print(f"| {names.get(case, case)} | {k} | {cell('gaia-rust')} | {cell('gaia-c')} | {cell('numpy')} | "
              f"{cell('mabwiser')} | {ratio('numpy')} | {ratio('mabwiser')} | {t} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results")
