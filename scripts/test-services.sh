#!/usr/bin/env bash
# Smoke test of the real-server infrastructure (scripts/services.sh): starts MariaDB and Solr,
# checks what the sync engine will rely on, and proves that a second "start" is idempotent and
# quick. Exits non-zero, naming each failed check, if anything is wrong. Leaves both running
# (scripts/services.sh stop all stops them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES=$ROOT/scripts/services.sh

"$SERVICES" start all
eval "$("$SERVICES" env)"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok   $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL $1" >&2; }
# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# ----- MariaDB ------------------------------------------------------------------------------
echo "MariaDB (user $GAIA_MARIADB_USER over TCP 127.0.0.1:$GAIA_MARIADB_PORT):"
# sql STATEMENTS: run as gaia over TCP (never root), tab-separated output without headers.
sql() {
  mariadb --no-defaults --protocol=TCP --host=127.0.0.1 --port="$GAIA_MARIADB_PORT" \
    --user="$GAIA_MARIADB_USER" --password="$GAIA_MARIADB_PASSWORD" \
    --default-character-set=utf8mb4 --batch --skip-column-names --raw \
    "$GAIA_MARIADB_DATABASE" -e "$1"
}

check "connected as gaia over TCP" "gaia@127.0.0.1" "$(sql 'SELECT CURRENT_USER()')"

text='Gaia 🎉 世界 café'
sql "DROP TABLE IF EXISTS smoke_items;
     CREATE TABLE smoke_items (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL,
       updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;
     INSERT INTO smoke_items (id, name) VALUES (1, '$text');"
check "utf8mb4 row reads back unchanged" "$text" "$(sql 'SELECT name FROM smoke_items WHERE id = 1')"
# 14 characters; 22 bytes in UTF-8 (the emoji takes 4, each CJK ideograph 3, the é 2).
check "emoji and CJK stored as characters, not mojibake" "14 22" \
  "$(sql 'SELECT CHAR_LENGTH(name), LENGTH(name) FROM smoke_items WHERE id = 1' | tr '\t' ' ')"
check "table charset is utf8mb4" "utf8mb4" \
  "$(sql "SELECT CCSA.CHARACTER_SET_NAME FROM information_schema.TABLES T
          JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA
            ON CCSA.COLLATION_NAME = T.TABLE_COLLATION
          WHERE T.TABLE_SCHEMA = 'gaia' AND T.TABLE_NAME = 'smoke_items'")"

variables=$(sql "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format',
  'binlog_row_image', 'binlog_row_metadata', 'server_id', 'character_set_server')" |
  tr '\t' '=' | sort | paste -sd ' ')
check "binlog settings" \
  "binlog_format=ROW binlog_row_image=FULL binlog_row_metadata=FULL character_set_server=utf8mb4 log_bin=ON server_id=1" \
  "$variables"

# What a sync tool reads: open transactions (PROCESS), binlog position (BINLOG MONITOR) and
# the binlog stream itself (REPLICATION SLAVE).
if sql 'SELECT COUNT(*) FROM information_schema.INNODB_TRX' >/dev/null 2>&1; then
  ok "gaia may read information_schema.INNODB_TRX"
else
  fail "gaia may not read information_schema.INNODB_TRX"
fi
binlog_file=$(sql 'SHOW MASTER STATUS' | cut -f1)
if [ -n "$binlog_file" ]; then ok "SHOW MASTER STATUS: $binlog_file"; else fail "SHOW MASTER STATUS gave nothing"; fi
if events=$(mariadb-binlog --no-defaults --read-from-remote-server --host=127.0.0.1 \
  --port="$GAIA_MARIADB_PORT" --user="$GAIA_MARIADB_USER" --password="$GAIA_MARIADB_PASSWORD" \
  --base64-output=decode-rows --verbose "$binlog_file" 2>&1); then
  # shellcheck disable=SC2016 # the backticks are MariaDB's quoting, not a command
  if grep -qF '### INSERT INTO `gaia`.`smoke_items`' <<<"$events"; then
    ok "binlog streamed to gaia holds the INSERT as a row event"
  else
    fail "binlog streamed to gaia lacks the row event for the INSERT"
  fi
else
  fail "mariadb-binlog --read-from-remote-server as gaia failed: $(tail -n 3 <<<"$events")"
fi
sql 'DROP TABLE smoke_items'

# ----- Solr ---------------------------------------------------------------------------------
echo "Solr ($GAIA_SOLR_URL):"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# http METHOD PATH [BODY]: prints the HTTP status; the body is left in $tmp/body.
http() {
  local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$1" "$GAIA_SOLR_URL/$2")
  if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
  curl "${args[@]}" || echo "curl-failed"
}
# json EXPR: evaluates a Python expression over d, the JSON in $tmp/body.
json() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' \
    "$tmp/body" "$1" 2>/dev/null || echo "<unparsable response: $(head -c 300 "$tmp/body")>"
}
# update CORE BODY [PARAMS]: posts JSON to /update with commit=true; expects HTTP 200.
update() {
  local code
  code=$(http POST "$1/update?commit=true${3:+&$3}" "$2")
  [ "$code" = 200 ] || fail "update of $1 ($2) answered HTTP $code: $(head -c 300 "$tmp/body")"
}
# doc_field CORE ID FIELD: the field of the document as /select sees it ("none" if absent).
doc_field() {
  http GET "$1/select?q=id:$2&fl=*&wt=json" >/dev/null
  json "(d['response']['docs'][0].get('$3', 'none') if d['response']['docs'] else 'none')"
}

# A clean slate: drop what an earlier run left (the swapped-out core, old documents).
http GET "admin/cores?action=UNLOAD&core=gaia_build&deleteIndex=true&deleteDataDir=true&deleteInstanceDir=true" >/dev/null
update gaia '{"delete": {"query": "*:*"}}'

update gaia '[{"id": "item-1", "gaia_version_l": 10, "name_t": "version ten 🎉 世界", "qty_i": 10}]'
check "document indexed with its emoji and CJK" "version ten 🎉 世界" "$(doc_field gaia item-1 name_t)"
http GET "gaia/select?q=%E4%B8%96%E7%95%8C&wt=json" >/dev/null # q=世界, through _text_
check "full-text search of CJK via the _text_ catch-all" "1" "$(json "d['response']['numFound']")"

update gaia '[{"id": "item-1", "gaia_version_l": 5, "name_t": "version five"}]'
check "an OLDER version is dropped (200, document unchanged)" "10 version ten 🎉 世界" \
  "$(doc_field gaia item-1 gaia_version_l) $(doc_field gaia item-1 name_t)"
update gaia '[{"id": "item-1", "gaia_version_l": 10, "name_t": "replayed ten"}]'
check "the SAME version again is dropped too" "version ten 🎉 世界" "$(doc_field gaia item-1 name_t)"
update gaia '[{"id": "item-1", "gaia_version_l": 11, "name_t": "version eleven"}]'
check "a NEWER version replaces the document" "11 version eleven" \
  "$(doc_field gaia item-1 gaia_version_l) $(doc_field gaia item-1 name_t)"


check "an add without gaia_version_l is refused" "500" \
  "$(http POST 'gaia/update' '[{"id": "item-2", "name_t": "no version"}]')"
check "a delete-by-id without del_version is refused" "400" \
  "$(http POST 'gaia/update' '{"delete": {"id": "item-1"}}')"
update gaia '{"delete": {"id": "item-1"}}' "del_version=12"
check "a versioned delete hides the document from /select" "none" "$(doc_field gaia item-1 id)"
http GET "gaia/get?id=item-1&wt=json" >/dev/null
check "... and leaves a tombstone (visible to /get)" "12 True" \
  "$(json "d['doc']['gaia_version_l'], d['doc']['gaia_deleted_b']" | tr -d "(),")"
update gaia '[{"id": "item-1", "gaia_version_l": 11, "name_t": "late eleven"}]'
check "an older add after the delete does not resurrect it" "none" "$(doc_field gaia item-1 id)"
update gaia '[{"id": "item-1", "gaia_version_l": 13, "name_t": "thirteen"}]'
check "a newer add after the delete brings it back" "thirteen" "$(doc_field gaia item-1 name_t)"

# Full rebuild: a fresh core from the same configset, filled, then swapped in atomically.
# The instanceDir must be new each time: after a SWAP, folder names and core names differ.
build_dir="gaia_build_$(date +%s%N)"
code=$(http GET "admin/cores?action=CREATE&name=gaia_build&instanceDir=$build_dir&configSet=$GAIA_SOLR_CONFIGSET&wt=json")
check "CoreAdmin CREATE gaia_build from configset $GAIA_SOLR_CONFIGSET" "200" "$code"
update gaia_build '[{"id": "item-1", "gaia_version_l": 20, "name_t": "rebuilt one"},
                    {"id": "item-9", "gaia_version_l": 20, "name_t": "rebuilt nine"}]'
code=$(http GET "admin/cores?action=SWAP&core=gaia&other=gaia_build&wt=json")
check "CoreAdmin SWAP gaia <-> gaia_build" "200" "$code"
http GET "gaia/select?q=*:*&fl=id&sort=id%20asc&wt=json" >/dev/null
check "gaia now serves the rebuilt index" "item-1 item-9" \
  "$(json "' '.join(doc['id'] for doc in d['response']['docs'])")"
check "gaia_build now holds the old index" "thirteen" "$(doc_field gaia_build item-1 name_t)"
update gaia '[{"id": "item-1", "gaia_version_l": 19, "name_t": "stale"}]'
check "the swapped-in core keeps the version rules" "rebuilt one" "$(doc_field gaia item-1 name_t)"
code=$(http GET "admin/cores?action=UNLOAD&core=gaia_build&deleteIndex=true&deleteDataDir=true&deleteInstanceDir=true&wt=json")
check "CoreAdmin UNLOAD of the old core" "200" "$code"
http GET "admin/cores?action=STATUS&indexInfo=false&wt=json" >/dev/null
check "cores left" "['gaia']" "$(json "sorted(d['status'])")"

# ----- idempotency --------------------------------------------------------------------------
echo "Idempotent start:"
t0=$(date +%s%N)
out=$("$SERVICES" start all)
ms=$((($(date +%s%N) - t0) / 1000000))
while IFS= read -r line; do echo "  $line"; done <<<"$out"
if [ "$ms" -lt 2000 ]; then ok "second 'start all' took $ms ms (< 2000)"; else fail "second 'start all' took $ms ms (>= 2000)"; fi
if grep -q "already running" <<<"$out" && [ "$(grep -c "already running" <<<"$out")" = 3 ]; then
  ok "second 'start all' found all three running"
else
  fail "second 'start all' did not find all three running"
fi

echo "services: $passed passed, $failed failed"
[ "$failed" = 0 ]
