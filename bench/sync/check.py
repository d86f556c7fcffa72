#!/usr/bin/env python3
"""Checks that the cores hold the same index.

    check.py --cores bench_items,bench_curl,bench_python --rows N --changes M --tag-rows T

For each core: numFound equals the row count. Across cores: a sample of documents (500 seeded
random ids, the first and last id, 100 changed ids) equal field by field (every stored field
but Solr's own _version_), and whole-index aggregates equal (stats of gaia_version_l, price_d
and w_i; the facet counts of tags_ss, status_s and color_s, whose tags_ss counts must add up to
the tag rows). The changed ids must carry the change. Standard library only; prints one JSON
line (ok: true/false); it never fails the run.
"""
import argparse
import json
import math
import os
import random
import urllib.parse
import urllib.request


def select(base, core, params):
    items = list(params.items()) if isinstance(params, dict) else list(params)
    body = urllib.parse.urlencode(items + [("wt", "json")]).encode()
    req = urllib.request.Request(f"{base}/{core}/select", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.load(r)


def docs_by_id(base, core, ids):
    r = select(base, core, {"q": "*:*", "fq": "{!terms f=id}" + ",".join(ids),
                            "fl": "*", "rows": len(ids)})
    out = {}
    for d in r["response"]["docs"]:
        d.pop("_version_", None)
        out[d["id"]] = d
    return out


def aggregates(base, core):
    r = select(base, core, [("q", "*:*"), ("rows", 0), ("stats", "true"),
                            ("stats.field", "gaia_version_l"), ("stats.field", "price_d"),
                            ("stats.field", "w_i"), ("facet", "true"), ("facet.limit", -1),
                            ("facet.mincount", 1), ("facet.field", "tags_ss"),
                            ("facet.field", "status_s"), ("facet.field", "color_s")])
    stats = {f: {k: s.get(k) for k in ("min", "max", "count", "sum")}
             for f, s in r["stats"]["stats_fields"].items()}
    facets = {f: dict(zip(v[::2], v[1::2])) for f, v in r["facet_counts"]["facet_fields"].items()}
    return stats, facets


def same_stats(a, b):
    for f in a:
        for k in a[f]:
            x, y = a[f][k], b[f][k]
            if isinstance(x, float) or isinstance(y, float):
                # Double sums depend on the order Solr adds them in (segments differ).
                if not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-6):
                    return False
            elif x != y:
                return False
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cores", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--changes", type=int, required=True)
    p.add_argument("--tag-rows", type=int, required=True)
    p.add_argument("--sample", type=int, default=500)
    a = p.parse_args()
    base = os.environ.get("GAIA_SOLR_URL", "http://127.0.0.1:8983/solr").rstrip("/")
    cores = a.cores.split(",")
    n = a.rows
    changes = max(1, min(a.changes, n))
    step = max(1, n // changes)
    changed = [str(step * k) for k in range(1, min(changes, 100) + 1)]
    rnd = random.Random(20261125)
    ids = sorted({str(i) for i in rnd.sample(range(1, n + 1), min(a.sample, n))}
                 | {"1", str(n)} | set(changed), key=int)

    problems = []
    found = {}
    for c in cores:
        found[c] = select(base, c, {"q": "*:*", "rows": 0})["response"]["numFound"]
        if found[c] != n:
            problems.append(f"{c}: numFound {found[c]} != {n} rows")
    docs = {c: docs_by_id(base, c, ids) for c in cores}
    ref = cores[0]
    fields_compared = 0
    for i in ids:
        d0 = docs[ref].get(i)
        if d0 is None:
            problems.append(f"{ref}: id {i} missing")
            continue
        fields_compared += len(d0)
        for c in cores[1:]:
            d = docs[c].get(i)
            if d != d0:
                diff = sorted(k for k in set(d0) | set(d or {})
                              if (d or {}).get(k) != d0.get(k))
                problems.append(f"id {i}: {c} differs from {ref} in {diff}")
    for c in cores:
        not_changed = [i for i in changed if not docs[c].get(i, {}).get("title_t", "").endswith(" changed")]
        if not_changed:
            problems.append(f"{c}: {len(not_changed)} changed ids without the change (e.g. {not_changed[0]})")
    aggs = {c: aggregates(base, c) for c in cores}
    for c in cores[1:]:
        if not same_stats(aggs[ref][0], aggs[c][0]):
            problems.append(f"{c}: stats differ from {ref}: {aggs[c][0]} vs {aggs[ref][0]}")
        if aggs[c][1] != aggs[ref][1]:
            problems.append(f"{c}: facet counts differ from {ref}")
    for c in cores:
        tags = sum(aggs[c][1]["tags_ss"].values())
        if tags != a.tag_rows:
            problems.append(f"{c}: {tags} tag values != {a.tag_rows} tag rows")
    print(json.dumps({
        "step": "check", "ok": not problems, "cores": cores, "rows": n, "num_found": found,
        "sampled_docs": len(ids), "fields_compared_per_core": fields_compared,
        "aggregates": {"stats": aggs[ref][0], "facet_terms": {f: len(v) for f, v in aggs[ref][1].items()}},
        "problems": problems[:10], "problem_count": len(problems),
    }), flush=True)


if __name__ == "__main__":
    main()
