#!/usr/bin/env bash
# The infer benchmark: Gaia beside sentence-transformers (PyTorch) and ONNX Runtime on the
# same model (all-MiniLM-L6-v2) and corpus (bench/infer/corpus.txt, 2,000 sentences), at 1
# and 2 threads, in one run; then the vector index (top-10 over 100,000 vectors).
#   bench/infer/run.sh [--quick]     writes bench/out/infer-<date>.jsonl and prints the table
# First run: bench/infer/setup.sh installs the Python reference stack (~3 GB, PyPI's torch
# carries CUDA). Not part of `make test`: benchmarks are not tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
QUICK=${1:-}
mkdir -p "$ROOT/bench/out"
OUT=$ROOT/bench/out/infer-$(date -u +%F).jsonl

bash "$ROOT/scripts/fetch-model.sh" >&2
bash "$HERE/setup.sh" >/dev/null
(cd "$ROOT" && cargo build --release --locked -q -p gaia-core --example infer_bench)
BIN=$ROOT/target/release/examples/infer_bench
MODEL=${GAIA_MODEL_DIR:-$ROOT/target/models/all-MiniLM-L6-v2}

: >"$OUT"
for t in 1 2; do
  echo "[infer bench] gaia, $t thread(s)" >&2
  "$BIN" embed "$MODEL" "$HERE/corpus.txt" --threads "$t" $QUICK | tee -a "$OUT"
done
echo "[infer bench] gaia index, 100,000 x 384" >&2
"$BIN" index --rows 100000 --dim 384 | tee -a "$OUT"
"$HERE/.venv/bin/python" "$HERE/reference_bench.py" --wait-idle 120 --retries 1 $QUICK | tee -a "$OUT"
python3 "$HERE/report.py" "$OUT"
