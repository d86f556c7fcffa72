#!/usr/bin/env bash
# Runs the one PHPUnit suite (bindings/php/tests) against one implementation:
#   scripts/test-php.sh ffi   the composer package over FFI (needs target/gaia/lib)
#   scripts/test-php.sh ext   the native extension target/release/libgaia_php.so
# GAIA_PHP_VALGRIND=1 also runs the FFI suite under valgrind (slow).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
impl=${1:?usage: test-php.sh ffi|ext}
export GAIA_LIBRARY=${GAIA_LIBRARY:-$ROOT/target/gaia/lib/libgaia.so}
export GAIA_PHP_IMPL=$impl
# The sync tests (SyncTest.php) use the real MariaDB and Solr of scripts/services.sh
# (started by `make services`); their addresses come from its env when not set already.
if [ -z "${GAIA_MARIADB_URL:-}" ] || [ -z "${GAIA_SOLR_URL:-}" ] || [ -z "${GAIA_MARIADB_CLIENT_CNF:-}" ]; then
  eval "$(bash "$ROOT/scripts/services.sh" env)"
fi
phpunit=$(command -v phpunit)

# php -l on every PHP file we ship.
while IFS= read -r f; do
  php -l "$f" >/dev/null || { php -l "$f"; exit 1; }
done < <(find "$ROOT/bindings/php" "$ROOT/examples/php" "$ROOT/bench" "$ROOT/php-ext" -name '*.php' -not -path '*/vendor/*')

cd "$ROOT/bindings/php"
case $impl in
  ffi)
    php "$phpunit" --configuration phpunit.xml.dist
    if [ "${GAIA_PHP_VALGRIND:-0}" = 1 ]; then
      USE_ZEND_ALLOC=0 ZEND_DONT_UNLOAD_MODULES=1 valgrind --quiet --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite php -d pcre.jit=0 -d opcache.enable_cli=0 "$phpunit" --configuration phpunit.xml.dist
    fi
    ;;
  ext)
    ext=$ROOT/target/release/libgaia_php.so
    [ -f "$ext" ] || { echo "test-php: $ext is missing: run make php-ext" >&2; exit 1; }
    export GAIA_PHP_EXT=$ext
    php -d extension="$ext" "$phpunit" --configuration phpunit.xml.dist
    ;;
  *) echo "test-php: unknown implementation $impl" >&2; exit 2 ;;
esac
