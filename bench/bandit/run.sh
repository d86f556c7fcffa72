#!/usr/bin/env bash
# bench/bandit: Gaia's bandits beside a straightforward NumPy implementation of the same
# algorithms and beside MABWiser 2.7.4, in one run: microseconds per Thompson-sampling
# ask + tell over 16 beta arms, and per LinTS ask / tell over 32 features (4 and 16 arms),
# from Rust (gaia-core, no FFI) and through the C ABI; a Markdown table with ratios.
# Usage: bench/bandit/run.sh [--quick] [--no-mabwiser]
#   --quick: a tenth of the iterations (a smoke run); --no-mabwiser: skip MABWiser (its
#   install pulls pandas and scikit-learn).
# A benchmark, not a test: no thresholds (the table marks the issue's targets met or missed).
# Needs `make lib` (the C side links target/gaia/lib/libgaia.so), python3 with venv, and
# PyPI the first time (numpy, mabwiser==2.7.4 into bench/bandit/.venv). Results land in
# bench/bandit/results/ (report.md is the printed table).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS=$HERE/results
VENV=$HERE/.venv
MABWISER_VERSION=2.7.4
LIB=$ROOT/target/gaia/lib
export PATH="$HOME/.cargo/bin:$PATH"
QUICK="" MAB=1
for arg in "$@"; do
  case $arg in
    --quick) QUICK=--quick ;;
    --no-mabwiser) MAB=0 ;;
    *) echo "usage: $0 [--quick] [--no-mabwiser]" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
say() { echo "[bandit bench $(($(date +%s) - start))s] $*" >&2; }

if [[ ! -x $VENV/bin/python ]]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
PY=$VENV/bin/python
if ! "$PY" -c "import numpy" 2>/dev/null; then
  say "installing numpy"
  "$PY" -m pip install --quiet --disable-pip-version-check numpy
fi
if [[ $MAB == 1 ]] && ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('mabwiser') != '$MABWISER_VERSION')" 2>/dev/null; then
  say "installing mabwiser==$MABWISER_VERSION"
  "$PY" -m pip install --quiet --disable-pip-version-check "mabwiser==$MABWISER_VERSION"
fi

say "building the Rust example and the C program"
(cd "$ROOT" && cargo build --quiet --release --locked -p gaia-core --example bandit_bench)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET == /* ]] || TARGET=$ROOT/$TARGET
[[ -f $LIB/libgaia.so ]] || { echo "bench/bandit: $LIB/libgaia.so is missing: run make lib" >&2; exit 1; }
mkdir -p "$RESULTS" "$ROOT/target/bench"
cc -std=c11 -O2 -Wall -Wextra -Werror "$HERE/bench.c" -I"$ROOT/include" -L"$LIB" -lgaia \
   -Wl,-rpath,"$LIB" -o "$ROOT/target/bench/bandit_c"
rm -f "$RESULTS"/*.jsonl "$RESULTS/report.md" "$RESULTS/meta.txt"

n=200000
[[ -n $QUICK ]] && n=20000
say "gaia (Rust)"
"$TARGET/release/examples/bandit_bench" $QUICK >"$RESULTS/gaia_rust.jsonl"
say "gaia (C ABI)"
"$ROOT/target/bench/bandit_c" "$n" >"$RESULTS/gaia_c.jsonl"
say "references (NumPy$([[ $MAB == 1 ]] && echo ", MABWiser"))"
args=($QUICK)
[[ $MAB == 1 ]] || args+=(--no-mabwiser)
"$PY" "$HERE/reference.py" "${args[@]}" >"$RESULTS/reference.jsonl"
"$PY" -c "import numpy; print('numpy', numpy.__version__)" >"$RESULTS/meta.txt"
[[ $MAB == 1 ]] && "$PY" -c "import importlib.metadata as m; print('mabwiser', m.version('mabwiser'))" >>"$RESULTS/meta.txt"
say "done; the table follows (also in $RESULTS/report.md)"
"$PY" "$HERE/report.py" "$RESULTS" | tee "$RESULTS/report.md"
