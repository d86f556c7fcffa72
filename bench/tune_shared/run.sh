#!/usr/bin/env bash
# bench/tune_shared: one study in MariaDB shared by many worker processes. Gaia (worker.c over
# libgaia's C ABI) with 1, 2, 4, 16 and 32 workers, Gaia with TPE at 1 worker, and Optuna 5.0.0's
# RDB storage with 1 and 2 workers, all against the same MariaDB, in one run: aggregate
# trials/s, per-trial latency (ask + tell) p50/p99, SQL statements and commits per trial
# counted by the server, and where the CPU went.
#   bench/tune_shared/run.sh [--quick] [--keep]
#     --quick: about a quarter of the trials (a smoke test, not for publishing)
#     --keep:  leave the studies in the database (default: their rows are deleted at the end)
# Trial counts (totals over the workers) can be set in the environment:
#   GAIA_TSB_GAIA_WORKERS  "1 2 4 16 32"       GAIA_TSB_TRIALS_<N>  Gaia with N workers
#   (default 4000 for 1 worker, 8000 for 2 and 4, 12000 above)
#   GAIA_TSB_TRIALS_TPE 2000    GAIA_TSB_OPTUNA_TRIALS 300 (per Optuna worker)
#   GAIA_TSB_ATTEMPTS 3 (a run disturbed by other clients or processes is measured again)
#   GAIA_TSB_WAIT_IDLE 30 (seconds to wait at most for a quiet machine before each run)
# Needs the staged library (`make lib`; built here only if missing), cc, MariaDB
# (scripts/install-services.sh once; started here) and PyPI once for the Optuna venv
# (scripts/optuna-venv.sh). Writes bench/tune_shared/results/{meta.json,runs.jsonl,report.md}
# and prints the report. Not part of `make test`: no target fails the run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS=$HERE/results
BUILD=$HERE/build
export PATH="$HOME/.cargo/bin:$PATH"

QUICK=0
KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--quick] [--keep]" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
say() { echo "[tune_shared bench $(($(date +%s) - start))s] $*" >&2; }

bash "$ROOT/scripts/services.sh" start mariadb >&2
eval "$(bash "$ROOT/scripts/services.sh" env)"
PY=$(bash "$ROOT/scripts/optuna-venv.sh")

# The worker links a private copy of the staged library: a `make lib` during the run then
# cannot rewrite the file under running workers.
LIB=$ROOT/target/gaia/lib
if [[ ! -e $LIB/libgaia.so ]]; then
  say "no staged library in $LIB: make lib"
  make -C "$ROOT" lib >&2
fi
rm -rf "$BUILD"
mkdir -p "$BUILD/lib"
real=$(readlink -f "$LIB/libgaia.so")
cp "$real" "$BUILD/lib/libgaia.so.1"
ln -s libgaia.so.1 "$BUILD/lib/libgaia.so"
say "building worker.c against $(basename "$real") ($(date -u -r "$real" '+%F %T UTC'))"
# shellcheck disable=SC2016 # $ORIGIN is for the dynamic linker, not the shell
cc -O2 -std=c11 -Wall -Wextra -I "$ROOT/include" "$HERE/worker.c" -L "$BUILD/lib" -lgaia \
  -Wl,-rpath,'$ORIGIN/lib' -o "$BUILD/worker"
export GAIA_TSB_WORKER=$BUILD/worker GAIA_TSB_PYTHON=$PY
GAIA_TSB_LIBGAIA_VERSION="$(basename "$real"), built $(date -u -r "$real" '+%F %T UTC'), sha256 $(sha256sum "$real" | cut -c1-12)"
export GAIA_TSB_LIBGAIA_VERSION

read -r -a GAIA_WORKERS <<<"${GAIA_TSB_GAIA_WORKERS:-1 2 4 16 32}"
trials_for() { # default total trials for N Gaia workers (~5-15 s each on 2 cores)
  local n=$1 var="GAIA_TSB_TRIALS_$1" t
  if [[ -n ${!var:-} ]]; then echo "${!var}"; return; fi
  if ((n == 1)); then t=4000; elif ((n <= 4)); then t=8000; else t=12000; fi
  ((QUICK)) && t=$((t / 4))
  echo "$t"
}
TPE_TRIALS=${GAIA_TSB_TRIALS_TPE:-2000}
OPTUNA_TRIALS=${GAIA_TSB_OPTUNA_TRIALS:-300}
if ((QUICK)); then
  TPE_TRIALS=${GAIA_TSB_TRIALS_TPE:-500}
  OPTUNA_TRIALS=${GAIA_TSB_OPTUNA_TRIALS:-100}
fi
ATTEMPTS=${GAIA_TSB_ATTEMPTS:-3}
WAIT_IDLE=${GAIA_TSB_WAIT_IDLE:-30}

RUN_ID=$(date -u +%Y%m%d-%H%M%S)-$$
PREFIX=bench-tsb-$RUN_ID
cleanup() {
  if ((KEEP)); then
    say "kept the studies $PREFIX-*"
  else
    "$PY" "$HERE/bench.py" cleanup --prefix "$PREFIX-" || say "clean-up failed (studies $PREFIX-* remain)"
  fi
}
trap cleanup EXIT

mkdir -p "$RESULTS"
rm -f "$RESULTS/meta.json" "$RESULTS/runs.jsonl" "$RESULTS/report.md"
"$PY" "$HERE/bench.py" meta >"$RESULTS/meta.json"

# One configuration at a time, nothing else of ours against the server meanwhile.
run() { # run LABEL SIDE WORKERS TRIALS [SAMPLER]
  "$PY" "$HERE/bench.py" run --label "$1" --side "$2" --workers "$3" --trials "$4" \
    --sampler "${5:-random}" --study "$PREFIX-$1" --attempts "$ATTEMPTS" \
    --wait-idle "$WAIT_IDLE" >>"$RESULTS/runs.jsonl"
}
for n in "${GAIA_WORKERS[@]}"; do
  run "gaia-$n" gaia "$n" "$(trials_for "$n")"
done
run gaia-1-tpe gaia 1 "$TPE_TRIALS" tpe
run optuna-1 optuna 1 "$OPTUNA_TRIALS"
run optuna-2 optuna 2 $((2 * OPTUNA_TRIALS))

say "done; the report follows (also in $RESULTS/report.md)"
echo
"$PY" "$HERE/report.py" "$RESULTS" | tee "$RESULTS/report.md"
echo
say "total runtime $(($(date +%s) - start)) s"
