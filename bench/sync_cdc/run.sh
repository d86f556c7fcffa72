#!/usr/bin/env bash
# The change-data-capture benchmark, in one run:
#   1. binlog decode: the same range of row changes read and decoded by `gaia binlog-scan`
#      (libgaia's CDC reader) and by python-mysql-replication (the common Python binlog
#      reader), each on one replica connection; row changes per second and the ratio;
#   2. latency: `gaia sync --mode cdc` following while a writer commits 1,000 changes/s,
#      and, beside it, incremental passes polled every second (what a cron/timer loop
#      gives); commit-to-searchable p50/p99 per change, measured by polling Solr.
#   bench/sync_cdc/run.sh [--rows N] [--rate R] [--seconds S]
#     defaults 200,000 row changes to decode, 1,000 changes/s for 20 s
#   writes bench/out/sync-cdc-<date>.jsonl and prints the table. Needs the services
#   (scripts/install-services.sh once; started here) and PyPI once for the venv.
#   Not part of `make test`: benchmarks are not tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
bash "$ROOT/scripts/services.sh" start all >&2
eval "$(bash "$ROOT/scripts/services.sh" env)"
(cd "$ROOT" && cargo build --release --locked -p gaia-cli >&2)
bash "$HERE/setup.sh"
mkdir -p "$ROOT/bench/out"
exec "$HERE/.venv/bin/python" "$HERE/measure.py" --gaia "$ROOT/target/release/gaia" \
  --out "$ROOT/bench/out/sync-cdc-$(date -u +%F).jsonl" "$@"
