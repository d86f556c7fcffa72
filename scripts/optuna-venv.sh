#!/usr/bin/env bash
# A private Python environment with Optuna 5.0.0 and PyMySQL (from PyPI), for the tests and
# benchmarks that read Gaia's shared studies with Optuna's own code. Idempotent: a second run
# only prints the path. Prints the environment's python on stdout.
#   GAIA_OPTUNA_VENV  where it lives (default: target/optuna-venv)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${GAIA_OPTUNA_VENV:-$ROOT/target/optuna-venv}
OPTUNA_VERSION=5.0.0
PYMYSQL_VERSION=1.1.2
marker=$VENV/.gaia-optuna-$OPTUNA_VERSION
if [ ! -f "$marker" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "optuna==$OPTUNA_VERSION" "pymysql==$PYMYSQL_VERSION" >&2
  touch "$marker"
fi
echo "$VENV/bin/python"
