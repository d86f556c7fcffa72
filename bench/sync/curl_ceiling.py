#!/usr/bin/env python3
"""Solr's own ceiling: POST pre-built JSON batches with curl, then commit.

    curl_ceiling.py --dir DIR --core bench_curl [--create] [--phase full|incremental]

DIR holds the files `sync_bench export-json` wrote (batch-NNNNNN.json, a JSON array of
`batch_docs` documents each, exactly the bodies gaia posts, and manifest.json). --create first
(re)creates the core from the `gaia` configset with CoreAdmin, as gaia does, outside the timed
part. The files are dealt round-robin to `writers` (gaia's default, from the manifest) curl
processes; each posts its files one after the other over one kept-alive connection (a curl
config with one `next` per file). Then one commit (POST /update?commit=true with `[]`, as gaia
commits). Timed: from starting the curls to the commit's answer; the commit is also reported
alone. Standard library only; prints one JSON line.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def solr_get(base, path, params):
    url = f"{base}/{path}?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def post(url, body):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--core", default="bench_curl")
    p.add_argument("--create", action="store_true")
    p.add_argument("--phase", default="full")
    a = p.parse_args()
    base = os.environ.get("GAIA_SOLR_URL", "http://127.0.0.1:8983/solr").rstrip("/")
    with open(os.path.join(a.dir, "manifest.json")) as f:
        manifest = json.load(f)
    writers = manifest["writers"]
    files = sorted(os.path.join(a.dir, n) for n in os.listdir(a.dir)
                   if n.startswith("batch-") and n.endswith(".json"))

    create_s = None
    if a.create:
        t = time.perf_counter()
        solr_get(base, "admin/cores", {"action": "UNLOAD", "core": a.core,
                                       "deleteInstanceDir": "true", "wt": "json"})
        r = solr_get(base, "admin/cores", {"action": "CREATE", "name": a.core,
                                           "instanceDir": a.core, "configSet": "gaia",
                                           "wt": "json"})
        if r.get("responseHeader", {}).get("status") != 0:
            sys.exit(f"creating core {a.core}: {r}")
        create_s = time.perf_counter() - t

    url = f"{base}/{a.core}/update?wt=json"
    with tempfile.TemporaryDirectory() as tmp:
        configs = []
        for w in range(writers):
            cfg = os.path.join(tmp, f"writer-{w}.curl")
            with open(cfg, "w") as f:
                for i, path in enumerate(files[w::writers]):
                    if i:
                        f.write("next\n")
                    f.write(f'url = "{url}"\nheader = "Content-Type: application/json"\n'
                            f'data-binary = "@{path}"\noutput = "/dev/null"\n'
                            'write-out = "%{http_code}\\n"\n')
            configs.append(cfg)
        t0 = time.perf_counter()
        procs = [subprocess.Popen(["curl", "-sS", "-K", cfg], stdout=subprocess.PIPE, text=True)
                 for cfg in configs if os.path.getsize(cfg)]
        outs = [pr.communicate()[0] for pr in procs]
        t_posted = time.perf_counter()
    codes = [c for o in outs for c in o.split()]
    bad = [c for c in codes if c != "200"]
    if bad or len(codes) != len(files) or any(pr.returncode for pr in procs):
        sys.exit(f"curl: {len(bad)} of {len(codes)} requests failed (codes {sorted(set(bad))})")
    post(f"{base}/{a.core}/update?commit=true&wt=json", b"[]")
    t1 = time.perf_counter()
    docs = manifest["docs"]
    print(json.dumps({
        "tool": "curl", "phase": a.phase, "core": a.core, "rows": docs, "docs": docs,
        "seconds": t1 - t0, "rows_per_s": docs / (t1 - t0), "post_s": t_posted - t0,
        "commit_s": t1 - t_posted, "requests": len(files), "writers": writers,
        "bytes": manifest["bytes"], "create_core_s": create_s,
        "curl": subprocess.run(["curl", "--version"], capture_output=True,
                               text=True).stdout.split()[1],
    }), flush=True)


if __name__ == "__main__":
    main()
