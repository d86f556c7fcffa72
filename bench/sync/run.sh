#!/usr/bin/env bash
# The sync benchmark: gaia's full rebuild and incremental pass beside Solr's own ceiling (the
# same documents pre-built as JSON, POSTed with curl) and a plain Python sync (PyMySQL +
# pysolr), on the same realistic rows in MariaDB and the same Solr, in one run.
#   bench/sync/run.sh [--rows N] [--changes M] [--quick] [--keep]
#     default 1,000,000 rows and 10,000 changes; --quick: 100,000 rows (about 3 min);
#     --keep: leave the tables and cores for a look (the next run replaces them)
#   writes bench/out/sync-<date>.jsonl (sync-<date>-<N>rows.jsonl for other sizes), prints
#   the table. Needs the services (scripts/install-services.sh once; started here) and PyPI
#   once for bench/sync/.venv. Not part of `make test`: benchmarks are not tests.
# Uses the tables bench_items and bench_tags and the cores bench_items, bench_curl,
# bench_python and bench_warmup; drops them all at the end. Scratch files (the JSON batches,
# ~0.5 GB per million rows) go to $GAIA_SYNC_BENCH_DIR (default /tmp/gaia-sync-bench).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

ROWS=1000000
CHANGES=10000
KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --rows) ROWS=$2; shift 2 ;;
    --changes) CHANGES=$2; shift 2 ;;
    --quick) ROWS=100000; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--rows N] [--changes M] [--quick] [--keep]" >&2; exit 2 ;;
  esac
done
mkdir -p "$ROOT/bench/out"
if [[ $ROWS == 1000000 ]]; then
  OUT=$ROOT/bench/out/sync-$(date -u +%F).jsonl
else
  OUT=$ROOT/bench/out/sync-$(date -u +%F)-${ROWS}rows.jsonl
fi
WORK=${GAIA_SYNC_BENCH_DIR:-/tmp/gaia-sync-bench}

say() { echo "[sync bench] $*" >&2; }

bash "$ROOT/scripts/services.sh" start all >&2
eval "$(bash "$ROOT/scripts/services.sh" env)"
bash "$HERE/setup.sh"
(cd "$ROOT" && cargo build --release --locked -q -p gaia-core --example sync_bench)
BIN=$ROOT/target/release/examples/sync_bench
PY=$HERE/.venv/bin/python
# Each timed step waits (at most 60 s) for a quiet machine, then reports where the CPU went.
MEASURE=(python3 "$HERE/measure.py" --wait-idle 60 --)

unload() {
  curl -s -o /dev/null "$GAIA_SOLR_URL/admin/cores?action=UNLOAD&core=$1&deleteInstanceDir=true" || true
}
cleanup() {
  if [[ $KEEP == 1 ]]; then
    say "kept: tables bench_items, bench_tags; cores bench_items, bench_curl, bench_python"
    return
  fi
  say "cleaning up (cores, tables, $WORK)"
  for c in bench_items bench_curl bench_python bench_warmup; do unload "$c"; done
  # A gaia rebuild that failed half-way leaves its build core behind.
  for c in $(curl -s "$GAIA_SOLR_URL/admin/cores?action=STATUS&indexInfo=false&wt=json" |
    python3 -c "import json,sys; print(' '.join(c for c in json.load(sys.stdin)['status'] if c.startswith('bench_items_build_')))"); do
    unload "$c"
  done
  "$BIN" drop || true
  rm -rf "$WORK"
}
trap cleanup EXIT

rm -rf "$WORK"
mkdir -p "$WORK"
: >"$OUT"
record() { tee -a "$OUT"; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

say "loading $ROWS rows into bench_items (+ 1-5 tags each in bench_tags)"
"$BIN" load --rows "$ROWS" | record
TAG_ROWS=$(tail -n 1 "$OUT" | field tag_rows)

say "building the JSON batches of the documents gaia writes (not timed)"
"$BIN" export-json --out "$WORK/full" | record

say "warming Solr's JVM up (100 batches into bench_warmup, not recorded)"
mkdir -p "$WORK/warm"
cp "$WORK/full/manifest.json" "$WORK/warm/"
for f in $(ls "$WORK/full" | grep '^batch-' | sed -n '1,100p'); do ln -s "$WORK/full/$f" "$WORK/warm/$f"; done
python3 "$HERE/curl_ceiling.py" --dir "$WORK/warm" --core bench_warmup --create --phase warmup >/dev/null
unload bench_warmup

# A step disturbed by other processes (other_load_cores > 0.15: the machine has 2 cores and
# is shared) is measured again, up to 3 times; the last attempt is kept whatever its load.
other_load() { python3 -c "import json,sys; print(json.loads(sys.stdin.readlines()[-1]).get('other_load_cores', 0))" <"$1"; }
quiet() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 0.15 else 1)" "$(other_load "$1")"; }
full_step() { # full_step NAME COMMAND...
  local name=$1 attempt
  shift
  for attempt in 1 2 3; do
    say "$name (attempt $attempt)"
    "${MEASURE[@]}" "$@" >"$WORK/step.json"
    if quiet "$WORK/step.json" || [[ $attempt == 3 ]]; then
      record <"$WORK/step.json"
      return
    fi
    say "$name: other processes took $(other_load "$WORK/step.json") cores; measuring again"
    python3 -c "import json,sys; j=json.loads(sys.stdin.readlines()[-1]); j['discarded']=True; print(json.dumps(j))" \
      <"$WORK/step.json" >>"$OUT"
  done
}

full_step "gaia full rebuild into bench_items" \
  "$BIN" gaia-full --core bench_items --state "$WORK/state"
full_step "curl: the same documents into bench_curl (Solr's ceiling)" \
  python3 "$HERE/curl_ceiling.py" --dir "$WORK/full" --core bench_curl --create
full_step "python (PyMySQL + pysolr) full rebuild into bench_python" \
  "$PY" "$HERE/python_sync.py" full --core bench_python --state "$WORK/python-state.json"

# The incremental round: change the same rows (again, on a retry), then each tool's pass over
# them; repeated (up to 3 rounds) while any pass was disturbed.
for round in 1 2 3; do
  say "changing $CHANGES rows (round $round)"
  "$BIN" change --rows "$ROWS" --changes "$CHANGES" >"$WORK/change.json"
  # gaia's incremental pass reads up to the server clock less tuning.lag_ms (1 s by default).
  sleep 1.5
  say "gaia incremental pass"
  "${MEASURE[@]}" "$BIN" gaia-incremental --core bench_items --state "$WORK/state" >"$WORK/inc-gaia.json"
  say "python incremental pass"
  "${MEASURE[@]}" "$PY" "$HERE/python_sync.py" incremental --core bench_python \
    --state "$WORK/python-state.json" >"$WORK/inc-python.json"
  say "curl: the changed documents into bench_curl"
  "$BIN" export-json --out "$WORK/changed" --changed --rows "$ROWS" --changes "$CHANGES" >"$WORK/export-changed.json"
  "${MEASURE[@]}" python3 "$HERE/curl_ceiling.py" --dir "$WORK/changed" --core bench_curl \
    --phase incremental >"$WORK/inc-curl.json"
  disturbed=0
  for f in inc-gaia inc-python inc-curl; do quiet "$WORK/$f.json" || disturbed=1; done
  if [[ $disturbed == 0 || $round == 3 ]]; then
    cat "$WORK/change.json" "$WORK/inc-gaia.json" "$WORK/inc-python.json" \
      "$WORK/export-changed.json" "$WORK/inc-curl.json" | record
    break
  fi
  say "an incremental pass was disturbed by other processes; another round"
done

say "checking that the three cores hold the same index"
python3 "$HERE/check.py" --cores bench_items,bench_curl,bench_python --rows "$ROWS" \
  --changes "$CHANGES" --tag-rows "$TAG_ROWS" | record

echo >&2
python3 "$HERE/report.py" "$OUT"
say "results: $OUT"
