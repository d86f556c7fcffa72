#!/usr/bin/env python3
"""The plain Python sync a team would write: PyMySQL + pysolr, one process, one thread.

    python_sync.py full        --core bench_python --state STATE.json
    python_sync.py incremental --core bench_python --state STATE.json

full: (re)creates the core from the `gaia` configset, notes the database clock, streams
bench_items by primary-key chunks (keyset, 5,000 rows) with a second query for the chunk's
tags, builds the documents, adds them with pysolr in batches of 1,000, commits.
incremental: the rows whose updated_at is later than the clock noted by the previous pass,
with their tags, added in batches of 1,000, then a commit.

The documents have the fields gaia writes (the configset refuses a document without
gaia_version_l: the row's version, the newest updated_at of the row and its tags, in UTC
microseconds). Prints one JSON line: rows, seconds, rows/s, peak RSS (getrusage).
Connections: GAIA_MARIADB_URL, GAIA_SOLR_URL (as scripts/services.sh env exports them).
"""
import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from urllib.parse import urlparse

import pymysql
import pysolr
import requests

CHUNK = 5000
BATCH = 1000
EPOCH = dt.datetime(1970, 1, 1)
COLUMNS = "id, title, body, price, status, attrs, published, updated_at"


def connect():
    u = urlparse(os.environ.get("GAIA_MARIADB_URL", "mysql://gaia:gaia-pass@127.0.0.1:3307/gaia"))
    return pymysql.connect(host=u.hostname, port=u.port or 3306, user=u.username,
                           password=u.password, database=u.path.lstrip("/"),
                           charset="utf8mb4", autocommit=True,
                           init_command="SET time_zone = '+00:00'")


def micros(t):
    """A DATETIME (stored in UTC) as microseconds since the epoch."""
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def iso(t):
    ms = t.microsecond // 1000
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (".%03dZ" % ms if ms else "Z")


def tags_of(cur, where, params):
    """item id -> ([tags in insertion order], newest tag updated_at)."""
    cur.execute("SELECT item_id, tag, updated_at FROM bench_tags WHERE " + where
                + " ORDER BY item_id, id", params)
    out = {}
    for item_id, tag, updated in cur.fetchall():
        tags, newest = out.setdefault(item_id, ([], updated))
        tags.append(tag)
        if updated > newest:
            out[item_id] = (tags, updated)
    return out


def to_doc(row, tags):
    id_, title, body, price, status, attrs, published, updated = row
    doc = {"id": str(id_), "title_t": title, "status_s": status}
    if body is not None:
        doc["body_t"] = body
    if price is not None:
        doc["price_s"] = str(price)
        doc["price_d"] = float(price)
    if published is not None:
        doc["published_dt"] = iso(published)
    if attrs is not None:
        a = json.loads(attrs)
        if a.get("color") is not None:
            doc["color_s"] = a["color"]
        if a.get("w") is not None:
            doc["w_i"] = int(a["w"])
    version = updated
    t = tags.get(id_)
    if t:
        doc["tags_ss"] = t[0]
        version = max(version, t[1])
    doc["gaia_version_l"] = micros(version)
    return doc


def add(solr, docs):
    for i in range(0, len(docs), BATCH):
        solr.add(docs[i:i + BATCH], commit=False)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def full(base, core, state):
    t0 = time.perf_counter()
    # A fresh core from the configset (what a rebuild into an empty index looks like).
    requests.get(f"{base}/admin/cores", params={"action": "UNLOAD", "core": core,
                                                "deleteInstanceDir": "true", "wt": "json"})
    r = requests.get(f"{base}/admin/cores", params={"action": "CREATE", "name": core,
                                                    "instanceDir": core, "configSet": "gaia",
                                                    "wt": "json"})
    r.raise_for_status()
    solr = pysolr.Solr(f"{base}/{core}", timeout=120)
    db = connect()
    cur = db.cursor()
    cur.execute("SELECT NOW(6)")
    mark = cur.fetchone()[0]
    last, rows = -1, 0
    while True:
        cur.execute(f"SELECT {COLUMNS} FROM bench_items WHERE id > %s ORDER BY id LIMIT %s",
                    (last, CHUNK))
        chunk = cur.fetchall()
        if not chunk:
            break
        tags = tags_of(cur, "item_id BETWEEN %s AND %s", (chunk[0][0], chunk[-1][0]))
        add(solr, [to_doc(row, tags) for row in chunk])
        rows += len(chunk)
        last = chunk[-1][0]
        if len(chunk) < CHUNK:
            break
    t_commit = time.perf_counter()
    solr.commit()
    t1 = time.perf_counter()
    db.close()
    with open(state, "w") as f:
        json.dump({"mark": mark.isoformat(sep=" ")}, f)
    return {"tool": "python", "phase": "full", "core": core, "rows": rows,
            "seconds": t1 - t0, "rows_per_s": rows / (t1 - t0), "commit_s": t1 - t_commit,
            "peak_rss_mb": peak_rss_mb()}


def incremental(base, core, state):
    with open(state) as f:
        mark = dt.datetime.fromisoformat(json.load(f)["mark"])
    t0 = time.perf_counter()
    solr = pysolr.Solr(f"{base}/{core}", timeout=120)
    db = connect()
    cur = db.cursor()
    cur.execute("SELECT NOW(6)")
    new_mark = cur.fetchone()[0]
    cur.execute(f"SELECT {COLUMNS} FROM bench_items WHERE updated_at > %s AND updated_at <= %s "
                "ORDER BY updated_at, id", (mark, new_mark))
    changed = cur.fetchall()
    rows = len(changed)
    for i in range(0, rows, CHUNK):
        part = changed[i:i + CHUNK]
        ids = [r[0] for r in part]
        tags = tags_of(cur, "item_id IN (%s)" % ",".join(["%s"] * len(ids)), ids)
        add(solr, [to_doc(row, tags) for row in part])
    t_commit = time.perf_counter()
    solr.commit()
    t1 = time.perf_counter()
    db.close()
    with open(state, "w") as f:
        json.dump({"mark": new_mark.isoformat(sep=" ")}, f)
    return {"tool": "python", "phase": "incremental", "core": core, "rows": rows,
            "seconds": t1 - t0, "rows_per_s": rows / (t1 - t0) if t1 > t0 else 0.0,
            "commit_s": t1 - t_commit, "peak_rss_mb": peak_rss_mb()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["full", "incremental"])
    p.add_argument("--core", default="bench_python")
    p.add_argument("--state", default="/tmp/gaia-sync-bench/python-state.json")
    a = p.parse_args()
    base = os.environ.get("GAIA_SOLR_URL", "http://127.0.0.1:8983/solr").rstrip("/")
    out = (full if a.mode == "full" else incremental)(base, a.core, a.state)
    out.update({"pymysql": pymysql.VERSION_STRING, "pysolr": pysolr.__version__,
                "python": sys.version.split()[0]})
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
