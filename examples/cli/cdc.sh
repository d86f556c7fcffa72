#!/usr/bin/env bash
# The gaia CLI following MariaDB's binlog: `gaia sync --mode cdc` runs as a service would
# (systemd: Restart=always, SIGTERM to stop), a row is updated and another hard-deleted
# (no tombstone table), and Solr shows both within a second; then `--mode reconcile`
# compares the whole core with the database and finds nothing to repair.
# Needs what scripts/demo.sh sets up: the services' environment, the demo catalogue loaded,
# and a first `gaia sync --config examples/cli/sync-products.toml` (the full rebuild).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
GAIA=target/release/gaia
CFG=examples/cli/sync-products.toml
sql() { mariadb --defaults-file="$GAIA_MARIADB_CLIENT_CNF" -N -B -e "$1"; }
found() { curl -sf "$GAIA_SOLR_URL/demo_products_cli/select?q=$1&rows=0&wt=json" | grep -o '"numFound":[0-9]*' | cut -d: -f2; }

"$GAIA" sync --config "$CFG" --mode cdc --progress 0 >target/examples/cdc-report.json &
FOLLOWER=$!
trap 'kill "$FOLLOWER" 2>/dev/null || true' EXIT
sql "UPDATE demo_product SET title = 'Followed from the binlog' WHERE id = 1; DELETE FROM demo_product WHERE id = 2;"
t0=$(date +%s%N)
for _ in $(seq 1 200); do
  if [ "$(found 'title_t:binlog%20AND%20id:p-1')" = 1 ] && [ "$(found 'id:p-2')" = 0 ]; then
    echo "cdc: the update and the hard delete are searchable after $((($(date +%s%N) - t0) / 1000000)) ms"
    break
  fi
  sleep 0.1
done
[ "$(found 'id:p-2')" = 0 ] || { echo "cdc: the changes did not reach Solr within 20 s" >&2; exit 1; }
kill -TERM "$FOLLOWER"
wait "$FOLLOWER"
trap - EXIT
echo "cdc report (after SIGTERM): $(cat target/examples/cdc-report.json)"
echo "reconcile: $("$GAIA" sync --config "$CFG" --mode reconcile --progress 0 | grep -o '"differences":{[^}]*}')"
