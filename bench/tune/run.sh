#!/usr/bin/env bash
# bench/tune: Gaia's TPE and CMA-ES side by side with Optuna's in one run, and Gaia's GP sampler
# against the issue's Optuna GPSampler numbers and targets. Solution quality on a suite of test
# functions (median best over 10 seeds at 50/100/200 trials, one table per sampler; GP: 50/100
# trials) and ask+tell overhead on a 5-D sphere (at 100/500/1000/2000 trials; GP: 100/500),
# printed as Markdown tables with Optuna/Gaia ratios.
# Then the multi-objective suite: NSGA-II and multi-objective TPE beside Optuna's
# NSGAIISampler and TPESampler on ZDT1, DTLZ2 (3 objectives) and the constrained OSY, median
# hypervolume over 10 seeds at 100/200/300 trials and the time per trial.
# Usage: bench/tune/run.sh [--quick] [--samplers tpe,cmaes,gp] [--gp-trials N] [--no-multi]
#                          [--multi-only] [--multi-trials N]
#   --quick: 3 seeds, 100 trials (GP 50), overhead to 500 trials (a smoke test, not for
#   publishing); --samplers: which samplers to run (default all three; random search is always
#   in the overhead table); --gp-trials: the GP's trials per run (default 100: its targets sit
#   at 50 and 100 trials, and its ask grows as O(n^3)). Optuna's GPSampler needs PyTorch
#   (several GB), so the GP table compares with fixed reference numbers instead of running it.
#   A benchmark, not a test: no thresholds (the GP table marks the targets met or missed).
#   --no-multi: skip the multi-objective suite (about a minute, most of it Optuna's TPE);
#   --multi-only: only that suite (and the objective checks), into results/multi so the last
#   full run's results stay; --multi-trials: its trials per run (default 300; --quick: 100).
# Needs python3 with venv and network access to PyPI the first time (optuna==5.0.0 and its
# CMA-ES backend cmaes==0.13.1 go into bench/tune/.venv). Results land in bench/tune/results/
# (report.md is the printed tables).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS=$HERE/results
VENV=$HERE/.venv
OPTUNA_VERSION=5.0.0
CMAES_VERSION=0.13.1
export PATH="$HOME/.cargo/bin:$PATH"

SEEDS=10 TRIALS=200 MAX=2000 SAMPLERS=tpe,cmaes,gp GP_TRIALS=100 GP_MAX=500
MULTI=1 SINGLE=1 MULTI_TRIALS=300
usage() {
  echo "usage: $0 [--quick] [--samplers tpe,cmaes,gp] [--gp-trials N] [--no-multi] [--multi-only] [--multi-trials N]" >&2
  exit 2
}
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) SEEDS=3 TRIALS=100 MAX=500 GP_TRIALS=50 MULTI_TRIALS=100; shift ;;
    --no-multi) MULTI=0; shift ;;
    --multi-only) MULTI=1 SINGLE=0; shift ;;
    --multi-trials)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      MULTI_TRIALS=$2; shift 2 ;;
    --gp-trials)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      GP_TRIALS=$2; shift 2 ;;
    --samplers)
      [[ $# -ge 2 ]] || usage
      SAMPLERS=$2; shift 2 ;;
    *) usage ;;
  esac
done
# --multi-only keeps the last full run's results: its own go to results/multi.
[[ $SINGLE == 1 ]] || SAMPLERS= RESULTS=$RESULTS/multi
IFS=, read -r -a SAMPLER_LIST <<<"$SAMPLERS"
for s in "${SAMPLER_LIST[@]}"; do
  [[ $s == tpe || $s == cmaes || $s == gp ]] || usage
done
# Samplers Optuna runs too (its GPSampler needs PyTorch, which the venv does not install).
OPTUNA_SAMPLERS=()
for s in "${SAMPLER_LIST[@]}"; do
  [[ $s == gp ]] || OPTUNA_SAMPLERS+=("$s")
done

start=$(date +%s)
say() { echo "[tune bench $(($(date +%s) - start))s] $*" >&2; }

if [[ ! -x $VENV/bin/python ]]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
PY=$VENV/bin/python
if ! "$PY" -c "import optuna, cmaes, sys; sys.exit(optuna.__version__ != '$OPTUNA_VERSION' or cmaes.__version__ != '$CMAES_VERSION')" 2>/dev/null; then
  say "installing optuna==$OPTUNA_VERSION cmaes==$CMAES_VERSION"
  "$PY" -m pip install --quiet --disable-pip-version-check "optuna==$OPTUNA_VERSION" "cmaes==$CMAES_VERSION"
fi

say "building the Rust example"
(cd "$ROOT" && cargo build --quiet --release --locked -p gaia-core --example tune_suite \
  --example tune_multi_suite)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET == /* ]] || TARGET=$ROOT/$TARGET
GAIA=$TARGET/release/examples/tune_suite
GAIA_MULTI=$TARGET/release/examples/tune_multi_suite
OPTUNA=("$PY" "$HERE/optuna_suite.py")

mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.jsonl "$RESULTS"/meta.json "$RESULTS"/report.md
"$PY" "$HERE/report.py" meta --root "$ROOT" >"$RESULTS/meta.json"

say "checking that both sides compute the same objectives"
"$GAIA" check >"$RESULTS/gaia_check.jsonl"
"${OPTUNA[@]}" check >"$RESULTS/optuna_check.jsonl"

for s in "${OPTUNA_SAMPLERS[@]}"; do
  # TPE keeps the historical file names; other samplers add theirs.
  prefix=$([[ $s == tpe ]] && echo "" || echo "${s}_")
  say "quality ($s), Gaia: $SEEDS seeds x $TRIALS trials x 6 tasks"
  "$GAIA" quality --sampler "$s" --seeds "$SEEDS" --trials "$TRIALS" \
    >"$RESULTS/gaia_${prefix}quality.jsonl"
  say "quality ($s), Optuna: $SEEDS seeds x $TRIALS trials x 6 tasks"
  "${OPTUNA[@]}" quality --sampler "$s" --seeds "$SEEDS" --trials "$TRIALS" \
    >"$RESULTS/optuna_${prefix}quality.jsonl"
done

if [[ " ${SAMPLER_LIST[*]} " == *" gp "* ]]; then
  say "quality (gp), Gaia: $SEEDS seeds x $GP_TRIALS trials x 6 tasks"
  "$GAIA" quality --sampler gp --seeds "$SEEDS" --trials "$GP_TRIALS" \
    >"$RESULTS/gaia_gp_quality.jsonl"
  say "overhead (gp), Gaia: to $GP_MAX trials"
  "$GAIA" overhead --samplers gp --max "$GP_MAX" --window 10 >"$RESULTS/gaia_gp_overhead.jsonl"
fi

# One side at a time so the timings do not compete for the cores.
if [[ $SINGLE == 1 ]]; then
  OVERHEAD_SAMPLERS=random
  for s in "${OPTUNA_SAMPLERS[@]}"; do OVERHEAD_SAMPLERS+=",$s"; done
  say "overhead, Gaia: $OVERHEAD_SAMPLERS to $MAX trials"
  # Five identical seeded runs, each trial's fastest: Gaia's cost (microseconds) is below
  # the noise of a shared machine; Optuna's (milliseconds) is not, so it runs once.
  "$GAIA" overhead --samplers "$OVERHEAD_SAMPLERS" --max "$MAX" --window 10 --repeat 5 \
    >"$RESULTS/gaia_overhead.jsonl"
  say "overhead, Optuna: $OVERHEAD_SAMPLERS to $MAX trials"
  "${OPTUNA[@]}" overhead --samplers "$OVERHEAD_SAMPLERS" --max "$MAX" --window 10 \
    >"$RESULTS/optuna_overhead.jsonl"
fi

if [[ $MULTI == 1 ]]; then
  say "several objectives: checking that both sides compute the same objectives and volumes"
  "$GAIA_MULTI" check >"$RESULTS/gaia_multi_check.jsonl"
  "${OPTUNA[@]}" multi_check >"$RESULTS/optuna_multi_check.jsonl"
  say "several objectives, Gaia random search (reference): $SEEDS seeds x $MULTI_TRIALS trials"
  "$GAIA_MULTI" quality --sampler random --seeds "$SEEDS" --trials "$MULTI_TRIALS" \
    >"$RESULTS/gaia_multi_random.jsonl"
  for s in nsga2 tpe; do
    say "several objectives ($s), Gaia: $SEEDS seeds x $MULTI_TRIALS trials x 3 tasks"
    "$GAIA_MULTI" quality --sampler "$s" --seeds "$SEEDS" --trials "$MULTI_TRIALS" \
      >"$RESULTS/gaia_multi_$s.jsonl"
    say "several objectives ($s), Optuna: $SEEDS seeds x $MULTI_TRIALS trials x 3 tasks"
    "${OPTUNA[@]}" multi --sampler "$s" --seeds "$SEEDS" --trials "$MULTI_TRIALS" \
      >"$RESULTS/optuna_multi_$s.jsonl"
  done
fi

say "done; tables follow (also in $RESULTS/report.md)"
echo
status=0
"$PY" "$HERE/report.py" report "$RESULTS" | tee "$RESULTS/report.md" || status=$?
echo
say "total runtime $(($(date +%s) - start)) s"
exit "$status"
