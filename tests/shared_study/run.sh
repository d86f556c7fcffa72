#!/usr/bin/env bash
# The shared-study stress test: one tune study in MariaDB, shared by C, Go and PHP-FFI worker
# processes at once, then checked with SQL and with Optuna's own code.
#
#   1. builds the workers (worker.c with cc against target/gaia, go_worker/ with go build,
#      php_worker.php needs only php -l) under tests/shared_study/build/;
#   2. creates a study with a unique name and enqueues 20 known configurations;
#   3. starts 16 workers at once (6 C, 5 Go, 5 PHP over FFI), N trials each, plus one worker
#      that asks one trial and is killed with SIGKILL once it printed the trial's id;
#   4. waits past the grace period and runs one more 1-trial worker;
#   5. checks: trial count, dense unique numbers, every told value stored exactly, each
#      enqueued configuration handed out exactly once (FIFO), the killed trial FAIL, the log,
#      and Optuna's view (check_optuna.py). PASS/FAIL per check; exit 1 if any failed.
#
# Needs `make lib` and the MariaDB of scripts/services.sh (`make test-shared-study` does both).
# Settings (environment):
#   GAIA_STRESS_TRIALS  trials per worker (default 500: 16 x 500 = 8,000 trials)
#   GAIA_STRESS_KILL    language of the killed worker: c, go or php (default php)
#   GAIA_STRESS_KEEP    1: keep the study's rows in MariaDB after a passing run (a failing
#                       run always keeps them, for inspection)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/shared_study
B=$HERE/build
RUN=$B/run
LIBDIR=$ROOT/target/gaia/lib
N=${GAIA_STRESS_TRIALS:-500}
KILL_LANG=${GAIA_STRESS_KILL:-php}
N_C=6 N_GO=5 N_PHP=5
WORKERS=$((N_C + N_GO + N_PHP))
N_ENQ=20
HEARTBEAT_S=1 GRACE_S=3
CC=${CC:-cc}
GO=${GO:-go}
PHP=${PHP:-php}
export PATH=$PATH:/usr/local/go/bin

die() {
  echo "shared_study: $*" >&2
  exit 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

[[ $N =~ ^[1-9][0-9]*$ ]] || die "GAIA_STRESS_TRIALS must be a positive integer, not '$N'"
case $KILL_LANG in c | go | php) ;; *) die "GAIA_STRESS_KILL must be c, go or php" ;; esac
[ -f "$LIBDIR/libgaia.so" ] || die "$LIBDIR/libgaia.so is missing: run make lib"
export GAIA_LIBRARY=${GAIA_LIBRARY:-$LIBDIR/libgaia.so}
if [ -z "${GAIA_MARIADB_URL:-}" ] || [ -z "${GAIA_MARIADB_CLIENT_CNF:-}" ]; then
  eval "$(bash "$ROOT/scripts/services.sh" env)"
fi
[[ $GAIA_MARIADB_URL == mysql://* ]] || die "GAIA_MARIADB_URL is not a mysql:// URL"
sql() { mariadb --defaults-file="$GAIA_MARIADB_CLIENT_CNF" -N -B -e "$1"; }
sql "SELECT 1" >/dev/null || die "MariaDB is not reachable: run bash scripts/services.sh start mariadb"

# Worker pids still to reap; on any exit, the ones still running are stopped (by pid).
declare -a LIVE=()
stop_live() {
  local pid
  for pid in "${LIVE[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap stop_live EXIT

# ----- build -------------------------------------------------------------------------------
t_build=$(now)
mkdir -p "$B"
rm -rf "$RUN"
mkdir -p "$RUN"
echo "== build (C, Go, PHP lint, Optuna venv)"
"$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror -O1 -I "$ROOT/include" "$HERE/worker.c" \
  -o "$B/worker" -L "$LIBDIR" -lgaia -Wl,-rpath,"$LIBDIR"
unformatted=$(cd "$HERE/go_worker" && gofmt -l .)
[ -z "$unformatted" ] || die "gofmt: tests/shared_study/go_worker: $unformatted"
# Go does not track the static libgaia.a its cgo flags name: remove the old binary so a
# rebuilt library is linked in.
rm -f "$B/go_worker"
(cd "$HERE/go_worker" && "$GO" vet ./... && "$GO" build -o "$B/go_worker" .)
"$PHP" -l "$HERE/php_worker.php" >/dev/null || { "$PHP" -l "$HERE/php_worker.php"; exit 1; }
PY=$(bash "$ROOT/scripts/optuna-venv.sh")
echo "built in $(secs "$t_build" "$(now)") s"

# worker LANG ARGS...: runs the worker of that language; exec, so that a worker started in
# the background with `worker ... &` has the pid $! (what the kill test signals).
worker() {
  local lang=$1
  shift
  case $lang in
    c) exec "$B/worker" "$@" ;;
    go) exec "$B/go_worker" "$@" ;;
    php) exec "$PHP" "$HERE/php_worker.php" "$@" ;;
  esac
}

# ----- the study -----------------------------------------------------------------------------
STUDY=stress-$(date +%Y%m%d-%H%M%S)-$$-$RANDOM
STORAGE="{\"type\": \"mysql\", \"url\": \"$GAIA_MARIADB_URL\", \"heartbeat_interval_s\": $HEARTBEAT_S, \"grace_period_s\": $GRACE_S}"
SPACE='{"params": [{"name": "x", "type": "float", "low": -5, "high": 5}, {"name": "y", "type": "int", "low": 0, "high": 20}, {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]}]}'
config() { # config SEED|none: the full config, with this worker's own seed (or none)
  local seed=""
  [ "$1" = none ] || seed=", \"seed\": $1"
  echo "{\"name\": \"$STUDY\", \"storage\": $STORAGE, \"space\": $SPACE, \"direction\": \"minimize\", \"sampler\": {\"type\": \"tpe\"}$seed}"
}
echo "== study $STUDY: $WORKERS workers ($N_C C, $N_GO Go, $N_PHP PHP-FFI) x $N trials, $N_ENQ enqueued, 1 killed ($KILL_LANG)"

# 20 configurations with x values TPE never proposes exactly: x_k = 0.123456 + k/1000.
declare -a ENQ_X=() ENQ_JSON=()
choices=(a b c)
for ((k = 0; k < N_ENQ; k++)); do
  ENQ_X[k]=$(printf '0.%06d' $((123456 + 1000 * k)))
  ENQ_JSON[k]="{\"x\": ${ENQ_X[k]}, \"y\": $k, \"c\": \"${choices[k % 3]}\"}"
done
t_enq=$(now)
"$B/worker" enqueue "$(config 1000)" "${ENQ_JSON[@]}" >"$RUN/enqueue.log" 2>&1 ||
  { cat "$RUN/enqueue.log"; die "the enqueue worker failed"; }
SID=$(sql "SELECT study_id FROM studies WHERE study_name = '$STUDY'")
[[ $SID =~ ^[1-9][0-9]*$ ]] || die "study $STUDY not found in MariaDB after the enqueue"
echo "created study_id $SID and enqueued $N_ENQ configurations in $(secs "$t_enq" "$(now)") s"

# ----- the stress run ----------------------------------------------------------------------
declare -a NAMES=() PIDS=()
launch() { # launch NAME LANG SEED|none
  local cfg=$RUN/$1.json
  config "$3" >"$cfg"
  worker "$2" run "$cfg" "$N" "$RUN/$1.out" >"$RUN/$1.log" 2>&1 &
  NAMES+=("$1")
  PIDS+=($!)
  LIVE+=($!)
}
deadlocks() { sql "SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'" | cut -f2; }
DEADLOCKS_BEFORE=$(deadlocks)
t_run=$(now)
for ((i = 1; i <= N_C; i++)); do launch "c$i" c "$i"; done
for ((i = 1; i <= N_GO; i++)); do launch "go$i" go "$((100 + i))"; done
for ((i = 1; i <= N_PHP; i++)); do launch "php$i" php none; done # PHP: no seed, a random one
: >"$RUN/killed.out" # exists before the worker starts writing it
worker "$KILL_LANG" hang "$(config 9999)" >"$RUN/killed.out" 2>"$RUN/killed.log" &
KPID=$!
LIVE+=("$KPID")

# The kill test: SIGKILL as soon as the worker printed the id of the trial it asked.
KILLED_ID=""
for ((i = 0; i < 1200; i++)); do
  if read -r line <"$RUN/killed.out" && [[ $line =~ ^[0-9]+$ ]]; then
    KILLED_ID=$line
    break
  fi
  kill -0 "$KPID" 2>/dev/null || break
  sleep 0.05
done
KILL_OK=0
if [ -n "$KILLED_ID" ] && kill -0 "$KPID" 2>/dev/null; then
  kill -9 "$KPID"
  krc=0
  wait "$KPID" 2>/dev/null || krc=$? # (no "Killed" job notice)
  LIVE=("${PIDS[@]}")
  [ "$krc" = 137 ] && KILL_OK=1
  echo "killed the $KILL_LANG hang worker (pid $KPID, status $krc) holding trial $KILLED_ID, $(secs "$t_run" "$(now)") s into the run"
else
  kill -9 "$KPID" 2>/dev/null || true
  wait "$KPID" 2>/dev/null || true
  LIVE=("${PIDS[@]}")
  echo "the $KILL_LANG hang worker printed no trial id (stderr: $(cat "$RUN/killed.log"))"
fi

declare -a RCS=()
for ((i = 0; i < WORKERS; i++)); do
  rc=0
  wait "${PIDS[i]}" || rc=$?
  RCS[i]=$rc
done
LIVE=()
t_done=$(now)
RUN_S=$(secs "$t_run" "$t_done")
RATE=$(awk -v n=$((WORKERS * N)) -v s="$RUN_S" 'BEGIN { printf "%.1f", n / s }')
DEADLOCKS=$(($(deadlocks) - DEADLOCKS_BEFORE))
echo "== $WORKERS workers finished: $((WORKERS * N)) trials in $RUN_S s = $RATE trials/s overall;" \
  "InnoDB deadlocks meanwhile (retried): $DEADLOCKS"
for ((i = 0; i < WORKERS; i++)); do
  echo "   ${NAMES[i]} (exit ${RCS[i]}): $(tail -n 1 "$RUN/${NAMES[i]}.log")"
done

# After the grace period, one more short worker: its ask fails abandoned trials (if no
# stress worker did so already).
if [ -n "$KILLED_ID" ]; then
  state=$(sql "SELECT state FROM trials WHERE study_id = $SID AND number = $KILLED_ID")
  echo "killed trial $KILLED_ID is $state when the stress workers are done"
fi
sleep $((GRACE_S + 1))
REAPER_RC=0
config 5000 >"$RUN/reaper.json"
"$B/worker" run "$RUN/reaper.json" 1 "$RUN/reaper.out" >"$RUN/reaper.log" 2>&1 || REAPER_RC=$?
TOLD_FILES=()
for name in "${NAMES[@]}" reaper; do TOLD_FILES+=("$RUN/$name.out"); done

# ----- checks ------------------------------------------------------------------------------
t_check=$(now)
FAILS=0
CHECKS=0
FAILED=()
check() { # check OK(0|1) DESCRIPTION
  CHECKS=$((CHECKS + 1))
  if [ "$1" = 1 ]; then
    echo "PASS: $2"
  else
    echo "FAIL: $2"
    FAILED+=("$2")
    FAILS=$((FAILS + 1))
  fi
}
is() { [ "$1" = "$2" ] && echo 1 || echo 0; }
# checks NAME CMD...: runs a checker that prints PASS:/FAIL: lines and counts them (a checker
# that fails without saying which check failed counts as one more failure).
checks() {
  local name=$1 out rc=0 p f
  shift
  out=$("$@" 2>&1) || rc=$?
  echo "$out"
  p=$(grep -c '^PASS: ' <<<"$out" || true)
  f=$(grep -c '^FAIL: ' <<<"$out" || true)
  CHECKS=$((CHECKS + p + f))
  FAILS=$((FAILS + f))
  while IFS= read -r line; do FAILED+=("${line#FAIL: }"); done < <(grep '^FAIL: ' <<<"$out" || true)
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    CHECKS=$((CHECKS + 1))
    FAILS=$((FAILS + 1))
    echo "FAIL: $name exited $rc"
  fi
}
echo "== checks"

bad=()
for ((i = 0; i < WORKERS; i++)); do
  [ "${RCS[i]}" = 0 ] || bad+=("${NAMES[i]}")
done
[ "$REAPER_RC" = 0 ] || bad+=(reaper)
check "$(is "${#bad[@]}" 0)" "all $WORKERS stress workers and the 1-trial worker exited 0 (failed: ${bad[*]:-none})"
for name in "${bad[@]}"; do
  echo "   --- $name:"
  tail -n 5 "$RUN/$name.log" | sed 's/^/   /'
done

short=()
for ((i = 0; i < WORKERS; i++)); do
  lines=$(wc -l 2>/dev/null <"$RUN/${NAMES[i]}.out" || echo missing)
  [ "$lines" = "$N" ] || short+=("${NAMES[i]}:$lines")
done
check "$(is "${#short[@]}" 0)" "every stress worker's output has $N lines (wrong: ${short[*]:-none})"

EXPECT_TRIALS=$((WORKERS * N + 2))
EXPECT_TOLD=$((WORKERS * N + 1))
read -r total distinct maxn minn nulls <<<"$(sql "SELECT COUNT(*), COUNT(DISTINCT number),
  COALESCE(MAX(number), -1), COALESCE(MIN(number), -1), SUM(number IS NULL)
  FROM trials WHERE study_id = $SID")"
check "$(is "$total" "$EXPECT_TRIALS")" \
  "trials in the study: $total = $WORKERS*$N asks + 1 killed + 1 after the run = $EXPECT_TRIALS"
check "$([ "$total" = "$distinct" ] && [ "$total" = $((maxn + 1)) ] && [ "$minn" = 0 ] && [ "$nulls" = 0 ] && echo 1 || echo 0)" \
  "numbers unique and dense: COUNT(*) $total = COUNT(DISTINCT number) $distinct = MAX(number)+1 $((maxn + 1)), MIN 0 (got $minn), NULL $nulls"

states=$(sql "SELECT state, COUNT(*) FROM trials WHERE study_id = $SID GROUP BY state ORDER BY state" | tr '\t\n' '= ' | sed 's/ $//')
count_state() { sql "SELECT COUNT(*) FROM trials WHERE study_id = $SID AND state = '$1'"; }
n_complete=$(count_state COMPLETE)
n_fail=$(count_state FAIL)
check "$([ "$n_complete" = "$EXPECT_TOLD" ] && [ "$n_fail" = 1 ] && [ "$total" = $((n_complete + n_fail)) ] && echo 1 || echo 0)" \
  "states: $EXPECT_TOLD COMPLETE ($WORKERS*$N + 1), 1 FAIL (the killed one), nothing else (got $states)"

# Every line every worker wrote: that trial is COMPLETE with exactly that value; no trial
# told twice; no COMPLETE trial that no worker told.
sql "SELECT t.number, t.state, COALESCE(v.value, 'NULL') FROM trials t
  LEFT JOIN trial_values v ON v.trial_id = t.trial_id AND v.objective = 0
  WHERE t.study_id = $SID ORDER BY t.number" >"$RUN/db_trials.tsv"
checks "the told-values check" "$PY" - "$RUN/db_trials.tsv" "${TOLD_FILES[@]}" <<'PY'
import math, os, sys
db = {}
for line in open(sys.argv[1]):
    number, state, value = line.rstrip("\n").split("\t")
    db[int(number)] = (state, None if value == "NULL" else float(value))
told, dup, lines, malformed = {}, [], 0, []
for path in sys.argv[2:]:
    if not os.path.exists(path):
        malformed.append(f"{os.path.basename(path)}: missing")
        continue
    for line in open(path):
        lines += 1
        try:
            number, value = line.split()
            number, value = int(number), float(value)
        except ValueError:
            malformed.append(f"{os.path.basename(path)}: {line.strip()!r}")
            continue
        if number in told:
            dup.append(number)
        told[number] = value
exact = close = 0
wrong = []
for number, value in told.items():
    state, stored = db.get(number, (None, None))
    if state == "COMPLETE" and stored == value:
        exact += 1
    elif state == "COMPLETE" and stored is not None and math.isclose(stored, value, rel_tol=1e-12, abs_tol=0):
        close += 1
    else:
        wrong.append((number, value, state, stored))
untold = [n for n, (state, _) in db.items() if state == "COMPLETE" and n not in told]
def say(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    return ok
ok = say(not malformed, f"every output file exists and every line is 'id value' (bad: {malformed[:3]})")
ok &= say(not dup, f"no trial id told by two workers or twice ({lines} lines, {len(told)} ids; duplicates: {dup[:5]})")
ok &= say(not wrong, f"every told line is a COMPLETE trial with that value: {exact} exact, {close} within 1e-12"
          f" (missing or wrong: {len(wrong)}{', e.g. ' + str(wrong[:3]) if wrong else ''})")
ok &= say(not untold, f"no COMPLETE trial that no worker told (found {len(untold)}: {untold[:5]})")
sys.exit(0 if ok else 1)
PY
told_lines=$(cat "${TOLD_FILES[@]}" 2>/dev/null | wc -l || true)
check "$(is "$told_lines" "$n_complete")" "told lines ($told_lines) = COMPLETE trials ($n_complete)"

# The stored parameters reproduce the stored value (params as handed out, values as told).
read -r n_obj n_obj_ok n_obj_exact <<<"$(sql "SELECT COUNT(*), COALESCE(SUM(ABS(v.value - q.f) <= 1e-12 * ABS(q.f)), 0),
  COALESCE(SUM(v.value = q.f), 0) FROM (
    SELECT t.trial_id, (px.param_value - 1.25e0) * (px.param_value - 1.25e0)
      + 0.5e0 * (py.param_value - 7e0) * (py.param_value - 7e0) + 0.25e0 * pc.param_value AS f
    FROM trials t
    JOIN trial_params px ON px.trial_id = t.trial_id AND px.param_name = 'x'
    JOIN trial_params py ON py.trial_id = t.trial_id AND py.param_name = 'y'
    JOIN trial_params pc ON pc.trial_id = t.trial_id AND pc.param_name = 'c'
    WHERE t.study_id = $SID AND t.state = 'COMPLETE') q
  JOIN trial_values v ON v.trial_id = q.trial_id AND v.objective = 0")"
check "$([ "$n_obj" = "$n_complete" ] && [ "$n_obj_ok" = "$n_complete" ] && echo 1 || echo 0)" \
  "every COMPLETE trial's value = f(its stored x, y, c) in SQL: $n_obj_ok of $n_complete ($n_obj_exact exact; $n_obj have all 3 params)"

# Enqueued configurations: each handed out exactly once, to the first asks, in FIFO order,
# and told COMPLETE (or FAIL when it went to the killed worker).
enq_rows=""
for ((k = 0; k < N_ENQ; k++)); do
  enq_rows+="${enq_rows:+ UNION ALL }SELECT $k AS k, ${ENQ_X[k]}e0 AS x, ${k}e0 AS y, $((k % 3))e0 AS c"
done
sql "SELECT e.k, COUNT(t.trial_id), COALESCE(GROUP_CONCAT(t.number), '-'),
    COALESCE(SUM(py.param_value = e.y AND pc.param_value = e.c AND (t.state = 'COMPLETE'
                 OR t.number = ${KILLED_ID:--1} AND t.state = 'FAIL')), 0)
  FROM ($enq_rows) e
  LEFT JOIN (trials t JOIN trial_params px ON px.trial_id = t.trial_id AND px.param_name = 'x')
    ON t.study_id = $SID AND px.param_value = e.x
  LEFT JOIN trial_params py ON py.trial_id = t.trial_id AND py.param_name = 'y'
  LEFT JOIN trial_params pc ON pc.trial_id = t.trial_id AND pc.param_name = 'c'
  GROUP BY e.k ORDER BY e.k" >"$RUN/enqueued.tsv"
enq_bad=$(awk -F'\t' '$2 != 1 || $3 != $1 || $4 != 1 { printf "%s k=%s: %s trials (numbers %s, matching y/c and finished: %s);", s, $1, $2, $3, $4; s=" " }' "$RUN/enqueued.tsv")
enq_seen=$(wc -l <"$RUN/enqueued.tsv")
check "$([ -z "$enq_bad" ] && [ "$enq_seen" = "$N_ENQ" ] && echo 1 || echo 0)" \
  "each of the $N_ENQ enqueued configurations is in exactly one trial, number k (FIFO), with its y and c, finished (${enq_bad:-all ok})"
read -r q_true q_ids <<<"$(sql "SELECT COUNT(*), COALESCE(GROUP_CONCAT(JSON_VALUE(op, '$.id') ORDER BY seq), '-')
  FROM gaia_log WHERE study_id = $SID AND JSON_VALUE(op, '$.op') = 'ask' AND JSON_EXTRACT(op, '$.queued') = 'true'")"
q_false=$(sql "SELECT COUNT(*) FROM gaia_log WHERE study_id = $SID AND JSON_VALUE(op, '$.op') = 'ask' AND JSON_EXTRACT(op, '$.queued') = 'false'")
expect_ids=$(seq -s, 0 $((N_ENQ - 1)))
check "$([ "$q_true" = "$N_ENQ" ] && [ "$q_ids" = "$expect_ids" ] && [ $((q_true + q_false)) = "$total" ] && echo 1 || echo 0)" \
  "gaia_log: $q_true asks with \"queued\":true (want $N_ENQ, ids $q_ids), $q_false with false; together = $total trials"
n_enq_log=$(sql "SELECT COUNT(*) FROM gaia_log WHERE study_id = $SID AND JSON_VALUE(op, '$.op') = 'enqueue'")
n_queue=$(sql "SELECT COUNT(*) FROM gaia_queue WHERE study_id = $SID")
check "$([ "$n_queue" = 0 ] && [ "$n_enq_log" = "$N_ENQ" ] && echo 1 || echo 0)" \
  "gaia_queue holds no row of the study ($n_queue) after $n_enq_log logged enqueues"

# Every trial finished exactly once in the log, as the trials table says.
read -r n_tell n_tell_ids n_tell_bad <<<"$(sql "SELECT COUNT(*), COUNT(DISTINCT JSON_VALUE(l.op, '$.id')),
  COALESCE(SUM(NOT (t.state = 'COMPLETE' AND JSON_VALUE(l.op, '$.state') = 'complete'
                    AND CAST(JSON_VALUE(l.op, '$.value') AS DOUBLE) = v.value
                 OR t.state = 'FAIL' AND JSON_VALUE(l.op, '$.state') = 'failed') OR t.trial_id IS NULL), 0)
  FROM gaia_log l
  LEFT JOIN trials t ON t.study_id = l.study_id AND t.number = CAST(JSON_VALUE(l.op, '$.id') AS SIGNED)
  LEFT JOIN trial_values v ON v.trial_id = t.trial_id AND v.objective = 0
  WHERE l.study_id = $SID AND JSON_VALUE(l.op, '$.op') = 'tell'")"
check "$([ "$n_tell" = "$total" ] && [ "$n_tell_ids" = "$total" ] && [ "$n_tell_bad" = 0 ] && echo 1 || echo 0)" \
  "gaia_log: one tell per trial ($n_tell tells, $n_tell_ids trials), each agreeing with trials/trial_values (disagreeing: $n_tell_bad)"

# The killed worker's trial.
if [ -n "$KILLED_ID" ]; then
  kstate=$(sql "SELECT state FROM trials WHERE study_id = $SID AND number = $KILLED_ID")
  ktold=$(cat "${TOLD_FILES[@]}" 2>/dev/null | awk -v id="$KILLED_ID" '$1 == id' | wc -l || true)
else
  kstate="(no id)" ktold=0
fi
check "$([ "$KILL_OK" = 1 ] && [ "$kstate" = FAIL ] && [ "$ktold" = 0 ] && echo 1 || echo 0)" \
  "the SIGKILLed worker's trial ${KILLED_ID:-?} is FAIL after the grace period (state $kstate, told by $ktold workers, killed: $KILL_OK)"
if [ "$kstate" = RUNNING ]; then
  echo "   (still RUNNING: the 1-trial worker's ask did not fail it. libgaia looks for abandoned trials"
  echo "   at most once per grace_period_s/2 per handle, counted from the handle's opening, so a"
  echo "   handle's first ask in its first ${GRACE_S}/2 s never does; with a short stress run no stress worker did)"
fi

# Optuna reads the study.
best=$(sql "SELECT MIN(v.value) FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id AND v.objective = 0
  WHERE t.study_id = $SID AND t.state = 'COMPLETE'")
t_optuna=$(now)
echo "== Optuna"
checks check_optuna.py "$PY" "$HERE/check_optuna.py" "mysql+pymysql://${GAIA_MARIADB_URL#mysql://}" "$STUDY" "$total" "$best" \
  "${TOLD_FILES[@]}"
t_end=$(now)

echo "== timings: build $(secs "$t_build" "$t_enq") s, stress run $RUN_S s ($((WORKERS * N)) trials, $RATE trials/s overall)," \
  "grace wait + 1-trial worker $(secs "$t_done" "$t_check") s, SQL checks $(secs "$t_check" "$t_optuna") s, Optuna $(secs "$t_optuna" "$t_end") s"

if [ "$FAILS" != 0 ]; then
  # Again at the end, where a log cut in the middle still shows them.
  for what in "${FAILED[@]}"; do echo "   failed: $what"; done
  for name in "${bad[@]}"; do
    echo "   worker $name failed: $(tail -n 1 "$RUN/$name.log")"
  done
  echo "shared-study stress test: FAIL ($FAILS of $CHECKS checks failed; study '$STUDY', study_id $SID, kept; worker output in $RUN)"
  exit 1
fi

# A passing run removes its own study's rows (and nothing else) unless GAIA_STRESS_KEEP=1.
if [ "${GAIA_STRESS_KEEP:-0}" != 1 ]; then
  trials_of="SELECT trial_id FROM trials WHERE study_id = $SID"
  sql "START TRANSACTION;
    DELETE FROM trial_params WHERE trial_id IN ($trials_of);
    DELETE FROM trial_values WHERE trial_id IN ($trials_of);
    DELETE FROM trial_heartbeats WHERE trial_id IN ($trials_of);
    DELETE FROM trial_intermediate_values WHERE trial_id IN ($trials_of);
    DELETE FROM trial_system_attributes WHERE trial_id IN ($trials_of);
    DELETE FROM trial_user_attributes WHERE trial_id IN ($trials_of);
    DELETE FROM trials WHERE study_id = $SID;
    DELETE FROM gaia_log WHERE study_id = $SID;
    DELETE FROM gaia_queue WHERE study_id = $SID;
    DELETE FROM gaia_studies WHERE study_id = $SID;
    DELETE FROM study_directions WHERE study_id = $SID;
    DELETE FROM study_system_attributes WHERE study_id = $SID;
    DELETE FROM study_user_attributes WHERE study_id = $SID;
    DELETE FROM studies WHERE study_id = $SID;
    COMMIT" || echo "shared_study: could not remove study $STUDY (study_id $SID); it stays" >&2
  kept="removed from MariaDB"
else
  kept="kept in MariaDB (GAIA_STRESS_KEEP=1)"
fi
echo "shared-study stress test: PASS ($CHECKS checks; study '$STUDY' $kept)"
