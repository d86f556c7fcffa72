#!/usr/bin/env python3
"""Turns the JSON lines of bench/sync/run.sh into the README's tables: per tool, the full
rebuild's rows/s and its ratio to Solr's ceiling (curl), the incremental pass, peak RSS; the
issue's targets with a check mark each; where the CPU went; the index check."""
import json
import sys


def fmt_int(x):
    return f"{x:,.0f}"


def main(path):
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip().startswith("{")]
    # Attempts discarded because other processes disturbed them are kept in the file, marked.
    discarded = [r for r in rows if r.get("discarded")]
    rows = [r for r in rows if not r.get("discarded")]
    runs = {(r["tool"], r["phase"]): r for r in rows if "tool" in r}
    load = next((r for r in rows if r.get("step") == "load"), {})
    change = next((r for r in rows if r.get("step") == "change"), {})
    check = next((r for r in rows if r.get("step") == "check"), None)
    n = load.get("rows", 0)
    m = change.get("changed", 0)
    ceiling = runs.get(("curl", "full"), {}).get("rows_per_s")

    print(f"{fmt_int(n)} rows ({fmt_int(load.get('tag_rows', 0))} tag rows), "
          f"{fmt_int(m)} changed rows\n")
    print(f"| tool | full rebuild rows/s | vs curl ceiling | full rebuild (s) | "
          f"incremental {fmt_int(m)} (s) | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    names = {"gaia": "gaia", "curl": "curl (Solr's ceiling)", "python": "Python (PyMySQL + pysolr)"}
    for tool in ("gaia", "curl", "python"):
        f, i = runs.get((tool, "full")), runs.get((tool, "incremental"))
        if not f:
            continue
        ratio = f"{f['rows_per_s'] / ceiling:.0%}" if ceiling else "-"
        inc = f"{i['seconds']:.2f}" if i else "-"
        rss = [r["peak_rss_mb"] for r in (f, i) if r and "peak_rss_mb" in r]
        print(f"| {names[tool]} | {fmt_int(f['rows_per_s'])} | {ratio} | {f['seconds']:.1f} | "
              f"{inc} | {f'{max(rss):.0f}' if rss else '-'} |")

    g, gi = runs.get(("gaia", "full")), runs.get(("gaia", "incremental"))
    ci = runs.get(("curl", "incremental"))
    if g and gi:
        print("\nTargets (gaia):\n")
        if ceiling:
            r = g["rows_per_s"] / ceiling
            print(f"- full rebuild >= 90% of Solr's ceiling end to end: {r:.0%} "
                  f"{'✓' if r >= 0.9 else '✗'}")
        rss = max(g["peak_rss_mb"], gi["peak_rss_mb"])
        print(f"- peak RSS < 100 MB: {rss:.0f} MB {'✓' if rss < 100 else '✗'}")
        if ci:
            solr = ci["seconds"]
            ok = gi["seconds"] < 1.0 + solr
            print(f"- incremental pass over {fmt_int(gi['rows'])} changed rows < 1 s + Solr's time "
                  f"({solr:.2f} s: curl posting the same {fmt_int(ci['docs'])} documents and "
                  f"committing): {gi['seconds']:.2f} s, i.e. {gi['seconds'] - solr:+.2f} s over "
                  f"Solr's time {'✓' if ok else '✗'}")

    print("\nWhere the time and CPU went (CPU seconds while each step ran; "
          "other = processes outside the benchmark):\n")
    print("| step | wall (s) | Solr commit (s) | client CPU (s) | Solr CPU (s) | MariaDB CPU (s) | other (cores) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (tool, phase), r in runs.items():
        c = r.get("cpu_s", {})
        commit = r.get("commit_s")
        if commit is None and "phase_s" in r:
            commit = r["phase_s"].get("verifying")
        print(f"| {tool} {phase} | {r['seconds']:.2f} | "
              f"{f'{commit:.2f}' if commit is not None else '-'} | {c.get('client', 0):.1f} | "
              f"{c.get('solr', 0):.1f} | {c.get('mariadb', 0):.1f} | "
              f"{r.get('other_load_cores', 0):.2f} |")
    if discarded:
        print("\nDiscarded (disturbed by other processes): " + ", ".join(
            f"{r['tool']} {r['phase']} {fmt_int(r['rows_per_s'])} rows/s at "
            f"{r.get('other_load_cores', 0):.2f} other cores" for r in discarded if "tool" in r))
    if g and "phase_s" in g:
        ph = ", ".join(f"{k} {v:.2f} s" for k, v in g["phase_s"].items()
                       if v is not None and k != "done")
        print(f"\ngaia full rebuild phases: {ph} (verifying = Solr's commit + a count)")

    if check:
        found = ", ".join(f"{c} {fmt_int(v)}" for c, v in check["num_found"].items())
        print(f"\nSame index: {'✓' if check['ok'] else '✗'} - numFound {found}; "
              f"{check['sampled_docs']} sampled documents equal field by field "
              f"({check['fields_compared_per_core']} fields), whole-index stats and facet "
              f"counts equal" if check["ok"] else
              f"\nSame index: ✗ - numFound {found}; {check['problem_count']} problems:")
        for p in check["problems"]:
            print(f"  - {p}")


if __name__ == "__main__":
    main(sys.argv[1])
