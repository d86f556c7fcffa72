#!/usr/bin/env bash
# bench/ffi_overhead: ns per bandit choose+update round trip from Rust (no FFI), C, PHP-FFI,
# PHP-ext and Go, in one run, with each one's ratio to Rust. Needs `make lib php-ext`.
# Usage: bench/ffi_overhead/run.sh [iterations]   (a benchmark, not a test: no thresholds)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000000}
LIB=$ROOT/target/gaia/lib
OUT=$ROOT/target/bench
mkdir -p "$OUT"
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"
export GAIA_LIBRARY=$LIB/libgaia.so LD_LIBRARY_PATH=$LIB

results=()
mcts=()
run() { # name, command...
  local out line
  out=$("${@:2}")
  line=$(printf '%s\n' "$out" | grep -E "^$1 " | tail -1)
  results+=("$line")
  mcts+=("$(printf '%s\n' "$out" | grep -E "^$1-mcts " | tail -1)")
  echo "  $line" >&2
}
echo "bandit choose+update round trip, $N iterations, $(nproc) cores, $(date -u +%Y-%m-%d)" >&2
run rust cargo run --quiet --release -p gaia-core --example bandit_round_trip -- "$N"
cc -std=c11 -O2 -Wall -Werror "$ROOT/bench/ffi_overhead/bench.c" -I"$ROOT/include" -L"$LIB" -lgaia \
   -Wl,-rpath,"$LIB" -o "$OUT/ffi_overhead_c"
run c "$OUT/ffi_overhead_c" "$N"
run php-ffi php "$ROOT/bench/ffi_overhead/bench.php" "$((N / 5))"
run php-ext php -d extension="$ROOT/target/release/libgaia_php.so" "$ROOT/bench/ffi_overhead/bench.php" "$((N / 5))"
(cd "$ROOT/bench/ffi_overhead/go" && go build -o "$OUT/ffi_overhead_go" .)
run go "$OUT/ffi_overhead_go" "$N"

rust_ns=$(printf '%s\n' "${results[@]}" | awk '$1=="rust"{print $2}')
printf '\n| front end | ns per choose+update | ratio to Rust |\n| --- | ---: | ---: |\n'
for r in "${results[@]}"; do
  set -- $r
  awk -v n="$1" -v ns="$2" -v base="$rust_ns" 'BEGIN { printf "| %s | %d | %.2fx |\n", n, ns, ns / base }'
done

rust_mcts=$(printf '%s\n' "${mcts[@]}" | awk '$1=="rust-mcts"{print $2}')
printf '\nmcts ask(1)+tell round trip (repeated sampling, %d iterations; 1/5 of that for PHP):\n' "$((N / 10))"
printf '\n| front end | ns per ask+tell | ratio to Rust |\n| --- | ---: | ---: |\n'
for r in "${mcts[@]}"; do
  set -- $r
  awk -v n="${1%-mcts}" -v ns="$2" -v base="$rust_mcts" 'BEGIN { printf "| %s | %d | %.2fx |\n", n, ns, ns / base }'
done
