#!/usr/bin/env bash
# bench/sync_cdc/setup.sh: create bench/sync_cdc/.venv (idempotent) with the reference binlog
# reader python-mysql-replication 1.0.17 and PyMySQL 1.2.4. Log on stderr; nothing on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=$HERE/.venv
PY=$VENV/bin/python
STAMP=$VENV/.gaia-cdc-stamp
say() { echo "[cdc setup] $*" >&2; }
if [[ ! -x $PY ]]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
want=$(sha256sum <"$HERE/requirements.txt" | cut -d' ' -f1)
if [[ ! -f $STAMP || $(cat "$STAMP") != "$want" ]]; then
  say "installing the pinned packages"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  echo "$want" >"$STAMP"
fi
