#!/usr/bin/env bash
# bench/sync/setup.sh: create bench/sync/.venv (idempotent, quiet when up to date) with the
# pinned stack of the plain Python sync (python_sync.py): PyMySQL 1.2.4 and pysolr 3.11.0 (which
# brings requests). requirements.txt names the direct pins; constraints.txt pins every package
# of the verified venv. Log on stderr; nothing on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=$HERE/.venv
PY=$VENV/bin/python
STAMP=$VENV/.gaia-sync-stamp

say() { echo "[sync setup] $*" >&2; }

if [[ ! -x $PY ]]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi

# Reinstall only when the pins changed (or a previous install did not finish).
want=$(cat "$HERE/requirements.txt" "$HERE/constraints.txt" | sha256sum | cut -d' ' -f1)
if [[ ! -f $STAMP || $(cat "$STAMP") != "$want" ]]; then
  say "installing the pinned packages (about 1 MB)"
  "$PY" -m pip install --quiet --disable-pip-version-check \
    -r "$HERE/requirements.txt" -c "$HERE/constraints.txt"
  "$PY" - <<'PYEOF'
import importlib.metadata as md, sys
pins = {"PyMySQL": "1.2.4", "pysolr": "3.11.0"}
bad = {k: md.version(k) for k, v in pins.items() if md.version(k) != v}
if bad:
    sys.exit(f"unexpected versions: {bad}")
PYEOF
  echo "$want" >"$STAMP"
  say "ready: $VENV"
fi
