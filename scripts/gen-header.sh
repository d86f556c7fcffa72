#!/usr/bin/env bash
# Regenerates include/gaia.h from crates/gaia-ffi with the pinned cbindgen, and the
# preprocessed copy PHP's FFI::cdef needs (bindings/php/gaia_ffi.h).
#   scripts/gen-header.sh          write both files
#   scripts/gen-header.sh --check  fail if either is stale (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
CBINDGEN_VERSION=0.29.0
have=$(cbindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$CBINDGEN_VERSION" ]; then
  echo "gen-header: need cbindgen $CBINDGEN_VERSION (have '${have:-none}'); run scripts/install-deps.sh" >&2
  exit 1
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cbindgen --quiet --config crates/gaia-ffi/cbindgen.toml --crate gaia-ffi --output "$tmp/gaia.h" crates/gaia-ffi
# PHP's FFI::cdef reads no #include/#define/#ifdef: keep declarations only (cc -E -P),
# then name the scope and default library for FFI::load (preload under php-fpm).
{
  echo '#define FFI_SCOPE "GAIA"'
  echo '#define FFI_LIB "libgaia.so.1"'
  echo '/* GENERATED from include/gaia.h by scripts/gen-header.sh (cc -E -P). DO NOT EDIT. */'
  sed -e '/^#include/d' "$tmp/gaia.h" | cc -E -P -x c - | grep -v '^\s*$'
} > "$tmp/gaia_ffi.h"
if [ "${1:-}" = "--check" ]; then
  ok=1
  cmp -s "$tmp/gaia.h" include/gaia.h || { echo "include/gaia.h is stale: run scripts/gen-header.sh" >&2; diff -u include/gaia.h "$tmp/gaia.h" | head -40 >&2; ok=0; }
  cmp -s "$tmp/gaia_ffi.h" bindings/php/gaia_ffi.h || { echo "bindings/php/gaia_ffi.h is stale: run scripts/gen-header.sh" >&2; ok=0; }
  [ $ok = 1 ] && echo "headers are up to date"
  [ $ok = 1 ]
else
  mkdir -p include bindings/php
  cp "$tmp/gaia.h" include/gaia.h
  cp "$tmp/gaia_ffi.h" bindings/php/gaia_ffi.h
  echo "wrote include/gaia.h and bindings/php/gaia_ffi.h"
fi
