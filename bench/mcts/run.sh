#!/usr/bin/env bash
# bench/mcts: Gaia's tree search beside treequest 0.3.3 (pip-installed here) on the synthetic
# task HQR-1, in one run: mean best score per algorithm and N, microseconds per step, bytes
# per node, snapshot save+load. A benchmark, not a test: no thresholds.
# Usage: bench/mcts/run.sh [--quick|--full]
#   default (about 30 minutes, most of it treequest): Gaia 500 seeds at N=100 and 50 above;
#   treequest 500 / 50 / 20 seeds at N=100 / 1,000 / 5,000 with one action, 200 / 20 / none
#   with two; --full: treequest 50 seeds everywhere (hours: its two-action bandit refits every
#   reward at every step); --quick: a smoke run
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS=$HERE/results
VENV=$HERE/.venv
export PATH="$HOME/.cargo/bin:$PATH"
mode=${1:-default}
start=$(date +%s)
say() { echo "[mcts bench $(($(date +%s) - start))s] $*" >&2; }

if [[ ! -x $VENV/bin/python ]]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
PY=$VENV/bin/python
if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('treequest') != '0.3.3')" 2>/dev/null; then
  say "installing treequest==0.3.3"
  "$PY" -m pip install --quiet --disable-pip-version-check "treequest==0.3.3"
fi
say "building the Rust example"
(cd "$ROOT" && cargo build --quiet --release --locked -p gaia-core --example mcts_hqr)
GAIA=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/mcts_hqr

mkdir -p "$RESULTS"
: > "$RESULTS/quality.jsonl"
: > "$RESULTS/speed.jsonl"
NS="100 1000 5000"
gaia_seeds=50
# At N=100 a run takes milliseconds on both sides: enough seeds there to tell differences of
# 0.01 apart (the standard error of a 50-seed mean is about 0.015 on this task).
gaia_seeds_at() { [[ $1 == 100 && $mode != --quick ]] && echo 500 || echo "$gaia_seeds"; }
tq_seeds() { # N, actions: treequest's two-action action bandit refits every reward of the
  # whole run at each step (quadratic: minutes per step near N=5,000), so fewer seeds there
  # and none at 5,000 unless --full
  case $mode:$1:$2 in
    --full:*) echo 50 ;; --quick:*) echo 2 ;;
    *:100:A) echo 500 ;; *:1000:A) echo 50 ;; *:A) echo 20 ;;
    *:100:*) echo 200 ;; *:1000:*) echo 20 ;; *) echo 0 ;;
  esac
}
[[ $mode == --quick ]] && { NS="100 1000"; gaia_seeds=5; }
CONFIGS="ab_gaussian:A ab_beta:A ab_gaussian:A,B ab_beta:A,B standard_mcts:A best_first:A"
for cfg in $CONFIGS; do
  algo=${cfg%%:*} actions=${cfg#*:}
  for n in $NS; do
    say "$algo ($actions) N=$n: gaia $(gaia_seeds_at "$n") seeds, treequest $(tq_seeds "$n" "$actions") seeds"
    "$GAIA" quality --algo "$algo" --actions "$actions" --n "$n" --seeds "$(gaia_seeds_at "$n")" >> "$RESULTS/quality.jsonl"
    seeds=$(tq_seeds "$n" "$actions")
    if [[ $seeds -gt 0 ]]; then
      "$PY" "$HERE/hqr_treequest.py" --algo "$algo" --actions "$actions" --n "$n" --seeds "$seeds" >> "$RESULTS/quality.jsonl"
    fi
  done
done
# Gaia only: AB-MCTS-M (treequest's needs jax/numpyro and seconds a step) and the opt-in
# predictive widening.
for algo in ab_m ab_gaussian_predictive ab_beta_predictive; do
  for n in $NS; do
    say "$algo N=$n: gaia $(gaia_seeds_at "$n") seeds"
    "$GAIA" quality --algo "$algo" --n "$n" --seeds "$(gaia_seeds_at "$n")" >> "$RESULTS/quality.jsonl"
  done
done
say "gaia alone: N=20,000 quality, per-step cost, memory, snapshots"
"$GAIA" quality --algo ab_gaussian --n 20000 --seeds "$([[ $mode == --quick ]] && echo 1 || echo 10)" >> "$RESULTS/quality.jsonl"
for n in 5000 20000 100000; do
  "$GAIA" speed --algo ab_gaussian --n "$n" >> "$RESULTS/speed.jsonl"
done
"$GAIA" memory --algo ab_gaussian --n 100000 >> "$RESULTS/speed.jsonl"
"$PY" "$HERE/hqr_treequest.py" --algo ab_gaussian --n 1000 --seeds 1 --memory | sed 's/"side": "treequest"/"side": "treequest", "mode": "memory"/' >> "$RESULTS/speed.jsonl"
say "done; tables follow (also in $RESULTS/report.md)"
"$PY" "$HERE/report.py" "$RESULTS" | tee "$RESULTS/report.md"
say "total runtime $(($(date +%s) - start)) s"
