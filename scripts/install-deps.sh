#!/usr/bin/env bash
# Installs what Gaia's build, demo and tests need, and only what is missing (idempotent):
# Debian packages (PHP CLI + dev headers with FFI, PHPUnit, clang/libclang for the PHP
# extension, valgrind, pkg-config, python3-venv), Go where absent, and the pinned cbindgen.
set -euo pipefail
CBINDGEN_VERSION=0.29.0
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian package -> a command or file that proves it is there.
declare -A want=(
  [php-cli]="php" [php-dev]="php-config" [php-xml]="/usr/share/doc/php-xml"
  [php-mbstring]="/usr/share/doc/php-mbstring" [phpunit]="phpunit"
  [clang]="clang" [libclang-dev]="/usr/lib/llvm-14/lib/libclang.so" [valgrind]="valgrind"
  [pkg-config]="pkg-config" [python3]="python3" [gcc]="gcc" [g++]="g++" [make]="make"
)
missing=()
for pkg in "${!want[@]}"; do
  probe=${want[$pkg]}
  if [[ $probe == /* ]]; then
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
if ! command -v go >/dev/null 2>&1; then missing+=(golang-go); fi
# Python venvs (Optuna for the shared-study test, scripts/optuna-venv.sh) need ensurepip.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

php -r 'exit(extension_loaded("ffi") ? 0 : 1);' || { echo "install-deps: PHP lacks FFI" >&2; exit 1; }
command -v cargo >/dev/null || { echo "install-deps: Rust (cargo) is required" >&2; exit 1; }

have=$(cbindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$CBINDGEN_VERSION" ]; then
  echo "install-deps: installing cbindgen $CBINDGEN_VERSION"
  cargo install --quiet --locked --version "$CBINDGEN_VERSION" cbindgen
fi
echo "install-deps: all present (php $(php -r 'echo PHP_VERSION;'), $(go version | awk '{print $3}'), cbindgen $CBINDGEN_VERSION)"
