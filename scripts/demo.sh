#!/usr/bin/env bash
# The README's demo: runs the examples from C, PHP (FFI and the native extension) and Go
# against the freshly built library. Called by `make demo` after the build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/target/gaia/lib
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"
export GAIA_LIBRARY=$LIB/libgaia.so
mkdir -p "$ROOT/target/examples"

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# c_example NAME: builds examples/c/NAME.c against the staged library through pkg-config and
# runs it from the repository root (examples read files such as examples/data/docs.txt).
c_example() {
  cc -std=c11 -Wall -Wextra -Werror "$ROOT/examples/c/$1.c" \
     $(PKG_CONFIG_PATH=$LIB/pkgconfig pkg-config --cflags --libs gaia) -Wl,-rpath,"$LIB" \
     -o "$ROOT/target/examples/$1-c"
  (cd "$ROOT" && "$ROOT/target/examples/$1-c")
}

banner "C: examples/c/bandit.c (linked through pkg-config)"
c_example bandit

banner "PHP over FFI: examples/php/bandit.php"
php "$ROOT/examples/php/bandit.php"

banner "PHP with the native extension: examples/php/bandit.php"
php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/examples/php/bandit.php"

banner "Go (cgo, static libgaia.a): examples/go/bandit"
(cd "$ROOT/examples/go" && go run ./bandit)

banner "Go: examples/go/lints (a contextual bandit picks the LLM per request; delayed rewards, expiry)"
(cd "$ROOT/examples/go" && go run ./lints)

banner "PHP over FFI: examples/php/study.php (TPE across requests)"
php "$ROOT/examples/php/study.php"

banner "PHP with the native extension: examples/php/study.php"
php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/examples/php/study.php"

banner "PHP over FFI: examples/php/multi_objective.php (quality against cost: the Pareto front)"
php "$ROOT/examples/php/multi_objective.php"

banner "PHP with the native extension: examples/php/multi_objective.php"
php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/examples/php/multi_objective.php"

banner "Go: examples/go/study (TPE with concurrent trials)"
(cd "$ROOT/examples/go" && go run ./study)

banner "C: examples/c/mcts.c (AB-MCTS over a simulated model)"
c_example mcts

banner "PHP over FFI: examples/php/mcts.php (AB-MCTS continued across requests)"
php "$ROOT/examples/php/mcts.php"

banner "PHP with the native extension: examples/php/mcts.php"
php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/examples/php/mcts.php"

banner "Go: examples/go/mcts (goroutines making concurrent model calls)"
(cd "$ROOT/examples/go" && go run ./mcts)

banner "done: tune (bandit, TPE study) and mcts (AB-MCTS) from C, PHP-FFI, PHP-ext and Go"

banner "C: examples/c/search.c (semantic search with all-MiniLM-L6-v2)"
c_example search

banner "PHP over FFI: examples/php/search.php (embeddings + vector index)"
php "$ROOT/examples/php/search.php"

banner "PHP with the native extension: examples/php/search.php"
php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/examples/php/search.php"

banner "Go: examples/go/search (embeddings from concurrent goroutines)"
(cd "$ROOT/examples/go" && go run ./search)

# The sync engine needs the real MariaDB and Solr (`make demo` starts them first).
eval "$(bash "$ROOT/scripts/services.sh" env)"
mariadb --defaults-file="$GAIA_MARIADB_CLIENT_CNF" < "$ROOT/examples/data/sync_products.sql"

banner "C: examples/c/sync.c (MariaDB -> Solr: full rebuild with progress, then an incremental pass)"
c_example sync

banner "PHP over FFI: examples/php/sync.php (full rebuild with a progress callable, then incremental)"
php "$ROOT/examples/php/sync.php"

banner "PHP with the native extension: examples/php/sync.php"
php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/examples/php/sync.php"

banner "Go: examples/go/sync (progress from a goroutine, context cancellation)"
(cd "$ROOT/examples/go" && go run ./sync)

banner "CLI: gaia sync --config examples/cli/sync-products.toml (what cron or a systemd timer runs)"
(cd "$ROOT" && target/release/gaia sync --config examples/cli/sync-products.toml --progress 0.5)
(cd "$ROOT" && target/release/gaia sync --config examples/cli/sync-products.toml --progress 0)

banner "CLI: gaia sync --mode cdc (follows the binlog; hard deletes too), then --mode reconcile"
bash "$ROOT/examples/cli/cdc.sh"

banner "done: tune, mcts, infer and sync from C, PHP (FFI and extension), Go and the gaia CLI"
