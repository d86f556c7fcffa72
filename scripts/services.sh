#!/usr/bin/env bash
# Runs a real MariaDB and a real Apache Solr 9 on 127.0.0.1 for Gaia's tests and demos, each as
# a plain background process with all its state under one folder (no systemd, no system-wide
# server, no sudo). Install what it needs first with scripts/install-services.sh.
#
#   scripts/services.sh start   [mariadb|solr|all]  start (if running: just verify, quickly)
#   scripts/services.sh stop    [mariadb|solr|all]  stop cleanly (SIGTERM, then SIGKILL)
#   scripts/services.sh restart [mariadb|solr|all]
#   scripts/services.sh clean   [mariadb|solr|all]  stop and delete the data
#   scripts/services.sh status                      what runs; exit 0 only if both run
#   scripts/services.sh env                         export lines for clients: eval "$(...)"
#
# Settings (environment):
#   GAIA_SERVICES_DIR      state folder (default /tmp/gaia-services)
#   GAIA_MARIADB_PORT      MariaDB TCP port on 127.0.0.1 (default 3307)
#   GAIA_SOLR_PORT         Solr HTTP port on 127.0.0.1 (default 8983)
#   GAIA_SOLR_CORES        cores to create at start if missing, space-separated (default gaia)
#   GAIA_SOLR_MODE         standalone (default) or cloud (one-node SolrCloud, embedded ZooKeeper)
#   GAIA_SOLR_HEAP         Solr's -Xmx (default 512m)
#   GAIA_SOLR_LOGLEVEL     Solr's log level (default WARN)
#   GAIA_SOLR_JAVA_OPTS    extra JVM options for Solr
#   GAIA_SERVICES_TIMEOUT  seconds to wait for a service to come up (default 60)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${GAIA_SERVICES_DIR:-/tmp/gaia-services}
TIMEOUT=${GAIA_SERVICES_TIMEOUT:-60}
export PATH="$PATH:/usr/sbin:/sbin" # mariadbd lives in /usr/sbin

DB_PORT=${GAIA_MARIADB_PORT:-3307}
DB_NAME=gaia
DB_USER=gaia
DB_PASS=gaia-pass
DB_DIR=$BASE/mariadb
DB_DATA=$DB_DIR/data
DB_SOCK=$DB_DIR/mysqld.sock
DB_PID=$DB_DIR/mysqld.pid
DB_LOG=$DB_DIR/mariadb.log
DB_CNF=$DB_DIR/my.cnf
DB_CLIENT_CNF=$DB_DIR/client.cnf

SOLR_PORT=${GAIA_SOLR_PORT:-8983}
SOLR_MODE=${GAIA_SOLR_MODE:-standalone}
read -r -a SOLR_CORES <<<"${GAIA_SOLR_CORES:-gaia}"
SOLR_DIR=$BASE/solr
SOLR_HOME=$SOLR_DIR/home
SOLR_PID=$SOLR_DIR/solr.pid
SOLR_LOG=$SOLR_DIR/solr.log
SOLR_CDS=$SOLR_DIR/gaia-solr.jsa # AppCDS archive of the launcher's classes (see launch_solr)
SOLR_JAR=$ROOT/services/solr/target/gaia-solr.jar
SOLR_CONFIGSET=$ROOT/services/solr/configset/gaia
SOLR_URL=http://127.0.0.1:$SOLR_PORT/solr

log() { echo "services: $*"; }
die() {
  echo "services: $*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ----- helpers ------------------------------------------------------------------------------

# pid_alive PIDFILE PATTERN: the pid in PIDFILE runs and its command line contains PATTERN
# (so a recycled pid of some other program is never taken for ours).
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# fail_with_log WHAT LOGFILE: report a failed start with the end of the log, and exit.
fail_with_log() {
  echo "services: $1; last lines of $2:" >&2
  tail -n 40 "$2" >&2 2>/dev/null || true
  exit 1
}

# terminate PID [GRACE]: SIGTERM, up to GRACE seconds (default 30) for it to exit, then
# SIGKILL. Fails if SIGKILL was needed.
terminate() {
  local pid=$1 grace=${2:-30} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for $grace s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  return 1
}

# stop_pid NAME PIDFILE PATTERN: stops the process if it runs. Fails if SIGKILL was needed.
stop_pid() {
  local name=$1 pidfile=$2 pattern=$3 rc=0
  if pid_alive "$pidfile" "$pattern"; then
    terminate "$(cat "$pidfile")" || rc=1
    log "$name stopped"
  else
    log "$name is not running"
  fi
  rm -f "$pidfile"
  return $rc
}

# The daemons must not inherit the lock's file descriptor (9), or they would hold the lock
# for as long as they run: hence the 9>&- on each launch.
take_lock() {
  mkdir -p "$BASE"
  exec 9>"$BASE/.lock"
  flock -w $((TIMEOUT * 2 + 30)) 9 || die "another services.sh holds $BASE/.lock"
}

# ----- MariaDB ------------------------------------------------------------------------------

db_write_config() {
  mkdir -p "$DB_DIR"
  cat >"$DB_CNF" <<EOF
# Written by scripts/services.sh on every start; edits here are lost.
[mariadbd]
datadir                 = $DB_DATA
socket                  = $DB_SOCK
pid-file                = $DB_PID
port                    = $DB_PORT
bind-address            = 127.0.0.1
skip-name-resolve
# Row-based binlog with full row images and column metadata: what a change-data-capture
# reader needs to turn binlog events into whole rows with column names.
server_id               = 1
log_bin                 = gaia-bin
binlog_format           = ROW
binlog_row_image        = FULL
binlog_row_metadata     = FULL
binlog_expire_logs_seconds = 86400
character-set-server    = utf8mb4
collation-server        = utf8mb4_unicode_520_ci
# Fast for tests: a machine crash may lose the last second of commits. The buffer pool holds
# the sync benchmark's million rows (~0.75 GB of tables and indexes), as a production server's
# would; InnoDB touches its pages only as they fill.
innodb_buffer_pool_size = 1G
innodb_log_file_size    = 48M
innodb_flush_log_at_trx_commit = 2
innodb_buffer_pool_dump_at_shutdown = OFF
innodb_buffer_pool_load_at_startup  = OFF
sync_binlog             = 0
performance_schema      = OFF
max_connections         = 200
EOF
  # The account clients use (never root): mariadb --defaults-file=client.cnf
  cat >"$DB_CLIENT_CNF" <<EOF
[client]
host     = 127.0.0.1
port     = $DB_PORT
user     = $DB_USER
password = $DB_PASS
database = $DB_NAME
default-character-set = utf8mb4
EOF
  chmod 600 "$DB_CLIENT_CNF"
}

db_running() { pid_alive "$DB_PID" "$DB_CNF"; }

# The gaia account answers over TCP.
db_ready() { mariadb --defaults-file="$DB_CLIENT_CNF" -e 'SELECT 1' >/dev/null 2>&1; }

# The admin account: the OS user over the unix socket (unix_socket auth, set up by
# mariadb-install-db below). Used only to create the database and the gaia account.
db_admin() { mariadb --no-defaults --socket="$DB_SOCK" -u "$(id -un)" "$@"; }

db_setup_sql() {
  local host
  echo "CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;"
  for host in 127.0.0.1 localhost; do
    cat <<EOF
CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'$host';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, BINLOG ADMIN, RELOAD, PROCESS ON *.* TO '$DB_USER'@'$host';
EOF
  done
}

start_mariadb() {
  command -v mariadbd >/dev/null 2>&1 ||
    die "mariadbd not found: run scripts/install-services.sh first"
  db_write_config
  if db_running && db_ready; then
    log "mariadb already running on 127.0.0.1:$DB_PORT (pid $(cat "$DB_PID"))"
    return 0
  fi

  local t0 launched="" user_opt=() deadline
  t0=$(now_ms)
  if ! db_running; then
    if port_open "$DB_PORT"; then
      die "port $DB_PORT is taken by another program; set GAIA_MARIADB_PORT"
    fi
    # mariadbd refuses to run as root unless told to; as anyone else it runs as that user.
    # As root it stays root (not 'mysql'), so the datadir works wherever GAIA_SERVICES_DIR
    # points (even under /root) and whoever made it can delete it.
    if [ "$(id -u)" = 0 ]; then user_opt=(--user=root); fi
    if [ ! -d "$DB_DATA/mysql" ]; then
      log "initialising a new MariaDB datadir in $DB_DATA"
      rm -rf "$DB_DATA"
      mkdir -p "$DB_DATA"
      mariadb-install-db --defaults-file="$DB_CNF" --datadir="$DB_DATA" "${user_opt[@]}" \
        --skip-test-db --auth-root-authentication-method=socket \
        --auth-root-socket-user="$(id -un)" >"$DB_LOG" 2>&1 9>&- ||
        fail_with_log "mariadb-install-db failed" "$DB_LOG"
    fi
    rm -f "$DB_SOCK" "$DB_PID"
    echo "=== $(date -Is) services.sh start" >>"$DB_LOG"
    # setsid: its own session, so it outlives this shell and its terminal.
    setsid mariadbd --defaults-file="$DB_CNF" "${user_opt[@]}" --log-error="$DB_LOG" \
      </dev/null >>"$DB_LOG" 2>&1 9>&- &
    launched=$!
  fi

  # Wait (bounded) for the server: ours just launched, or one still starting up.
  deadline=$((SECONDS + TIMEOUT))
  until [ -S "$DB_SOCK" ] && db_admin -e 'SELECT 1' >/dev/null 2>&1; do
    if [ -n "$launched" ] && ! kill -0 "$launched" 2>/dev/null; then
      fail_with_log "mariadbd exited during start" "$DB_LOG"
    fi
    if ((SECONDS >= deadline)); then
      # A server that is not up by now is stuck: no long grace (mariadbd may not even act
      # on SIGTERM before it has finished starting).
      if [ -n "$launched" ]; then terminate "$launched" 5 || true; fi
      fail_with_log "MariaDB did not answer within ${TIMEOUT}s (set GAIA_SERVICES_TIMEOUT)" "$DB_LOG"
    fi
    sleep 0.1
  done
  # Database and account: idempotent, so run on every real start (and to repair a datadir
  # whose first setup was interrupted).
  db_setup_sql | db_admin || fail_with_log "creating database $DB_NAME / user $DB_USER failed" "$DB_LOG"
  db_ready || fail_with_log "user $DB_USER cannot log in over TCP" "$DB_LOG"
  log "mariadb up on 127.0.0.1:$DB_PORT (pid $(cat "$DB_PID"), $(($(now_ms) - t0)) ms)"
}

stop_mariadb() { stop_pid mariadb "$DB_PID" "$DB_CNF"; }

# ----- Solr ---------------------------------------------------------------------------------

solr_running() { pid_alive "$SOLR_PID" "$SOLR_HOME"; }

solr_ready() {
  local path="admin/cores?action=STATUS"
  if [ ${#SOLR_CORES[@]} -gt 0 ]; then path="${SOLR_CORES[0]}/admin/ping"; fi
  curl -sf --max-time 5 "$SOLR_URL/$path" >/dev/null 2>&1
}

# launch_solr starts the JVM without waiting, so that "start all" brings MariaDB up while
# Solr boots; wait_solr then waits for it. SOLR_LAUNCHED is 1 when this run launched it.
SOLR_LAUNCHED=0
SOLR_T0=0
launch_solr() {
  SOLR_LAUNCHED=0
  SOLR_T0=$(now_ms)
  [ -f "$SOLR_JAR" ] || die "$SOLR_JAR is missing: run scripts/install-services.sh first"
  if [ -n "$(find "$ROOT/services/solr/src" "$ROOT/services/solr/pom.xml" -newer "$SOLR_JAR" -print -quit)" ]; then
    log "warning: $SOLR_JAR is older than its sources; run scripts/install-services.sh"
  fi
  if solr_running; then return 0; fi
  command -v java >/dev/null 2>&1 || die "java not found"
  if port_open "$SOLR_PORT"; then
    die "port $SOLR_PORT is taken by another program; set GAIA_SOLR_PORT"
  fi

  local opts args core
  # Small heap, serial GC and C1 only: starts fast on 2 cores and is plenty for tests.
  opts=(-Xms64m "-Xmx${GAIA_SOLR_HEAP:-512m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    "-Dsolr.log.dir=$SOLR_DIR" "-Dgaia.solr.loglevel=${GAIA_SOLR_LOGLEVEL:-WARN}")
  # AppCDS: the first run dumps the classes it loaded when it exits (at "stop"); later runs
  # map them and start about twice as fast. Made again whenever the launcher jar changes.
  # The dump goes to a .new file that stop_solr keeps only if the JVM exited cleanly, so a
  # JVM killed mid-dump never leaves a broken archive behind.
  rm -f "$SOLR_CDS.new"
  if [ -s "$SOLR_CDS" ] && [ "$SOLR_CDS" -nt "$SOLR_JAR" ]; then
    opts+=("-XX:SharedArchiveFile=$SOLR_CDS")
  else
    rm -f "$SOLR_CDS"
    opts+=("-XX:ArchiveClassesAtExit=$SOLR_CDS.new")
  fi
  opts+=(-Xlog:cds=off -Xlog:cds+dynamic=off)
  # shellcheck disable=SC2206 # GAIA_SOLR_JAVA_OPTS is a list of words on purpose
  opts+=(${GAIA_SOLR_JAVA_OPTS:-})
  args=(--home "$SOLR_HOME" --configset "$SOLR_CONFIGSET" --port "$SOLR_PORT")
  for core in "${SOLR_CORES[@]}"; do args+=(--core "$core"); done
  case $SOLR_MODE in
    standalone) ;;
    cloud) args+=(--cloud) ;;
    *) die "GAIA_SOLR_MODE must be standalone or cloud, not $SOLR_MODE" ;;
  esac

  mkdir -p "$SOLR_HOME"
  if [ -f "$SOLR_LOG" ]; then mv -f "$SOLR_LOG" "$SOLR_LOG.1"; fi
  # setsid: its own session, so it outlives this shell and its terminal.
  setsid java "${opts[@]}" -jar "$SOLR_JAR" "${args[@]}" </dev/null >"$SOLR_LOG" 2>&1 9>&- &
  echo $! >"$SOLR_PID"
  SOLR_LAUNCHED=1
}

wait_solr() {
  local pid deadline
  pid=$(cat "$SOLR_PID")
  if [ "$SOLR_LAUNCHED" = 0 ] && solr_ready; then
    log "solr already running at $SOLR_URL (pid $pid)"
    return 0
  fi
  # Wait (bounded) for the launcher's "ready" line and a ping: ours just launched, or one
  # still starting up.
  deadline=$((SECONDS + TIMEOUT))
  until grep -q '^gaia-solr: ready' "$SOLR_LOG" 2>/dev/null && solr_ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$SOLR_PID"
      fail_with_log "Solr exited during start" "$SOLR_LOG"
    fi
    if ((SECONDS >= deadline)); then
      terminate "$pid" 5 || true
      rm -f "$SOLR_PID" "$SOLR_CDS.new"
      fail_with_log "Solr did not answer at $SOLR_URL within ${TIMEOUT}s (set GAIA_SERVICES_TIMEOUT)" "$SOLR_LOG"
    fi
    sleep 0.1
  done
  log "solr up at $SOLR_URL ($SOLR_MODE, cores: ${SOLR_CORES[*]:-none}; pid $pid, $(($(now_ms) - SOLR_T0)) ms)"
}

start_solr() {
  launch_solr
  wait_solr
}

stop_solr() {
  local clean=1
  stop_pid solr "$SOLR_PID" "$SOLR_HOME" || clean=0
  if [ "$clean" = 1 ] && [ -s "$SOLR_CDS.new" ]; then mv -f "$SOLR_CDS.new" "$SOLR_CDS"; fi
  rm -f "$SOLR_CDS.new"
}

# ----- commands -----------------------------------------------------------------------------

services_of() {
  case ${1:-all} in
    all) echo mariadb solr ;;
    mariadb | solr) echo "$1" ;;
    *) die "unknown service '$1' (mariadb, solr or all)" ;;
  esac
}

cmd_start() {
  if [ "${1:-all}" = all ]; then
    launch_solr # the JVM boots while MariaDB starts
    start_mariadb
    wait_solr
  else
    "start_$(services_of "$1")"
  fi
}

cmd_stop() {
  if [ "${1:-all}" = all ]; then
    # Both at once: each takes a second or two.
    local db_job solr_job rc=0
    stop_mariadb &
    db_job=$!
    stop_solr &
    solr_job=$!
    wait "$db_job" || rc=1
    wait "$solr_job" || rc=1
    return $rc
  fi
  "stop_$(services_of "$1")"
}

cmd_clean() {
  local svc
  for svc in $(services_of "${1:-all}"); do
    "stop_$svc" || true
    case $svc in
      mariadb) rm -rf "$DB_DIR" ;;
      solr) rm -rf "$SOLR_HOME" "$SOLR_LOG" "$SOLR_LOG.1" ;; # the AppCDS archive stays
    esac
    log "$svc data removed"
  done
}

cmd_status() {
  local rc=0
  if db_running; then
    log "mariadb: running on 127.0.0.1:$DB_PORT (pid $(cat "$DB_PID"), datadir $DB_DATA)"
  else
    log "mariadb: stopped"
    rc=3
  fi
  if solr_running; then
    log "solr: running at $SOLR_URL (pid $(cat "$SOLR_PID"), home $SOLR_HOME)"
  else
    log "solr: stopped"
    rc=3
  fi
  return $rc
}

cmd_env() {
  local var
  for var in \
    "GAIA_SERVICES_DIR=$BASE" \
    "GAIA_MARIADB_HOST=127.0.0.1" \
    "GAIA_MARIADB_PORT=$DB_PORT" \
    "GAIA_MARIADB_SOCKET=$DB_SOCK" \
    "GAIA_MARIADB_USER=$DB_USER" \
    "GAIA_MARIADB_PASSWORD=$DB_PASS" \
    "GAIA_MARIADB_DATABASE=$DB_NAME" \
    "GAIA_MARIADB_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$DB_PORT/$DB_NAME" \
    "GAIA_MARIADB_CLIENT_CNF=$DB_CLIENT_CNF" \
    "GAIA_SOLR_PORT=$SOLR_PORT" \
    "GAIA_SOLR_URL=$SOLR_URL" \
    "GAIA_SOLR_CORE=${SOLR_CORES[0]:-gaia}" \
    "GAIA_SOLR_CONFIGSET=$(basename "$SOLR_CONFIGSET")"; do
    printf 'export %s=%q\n' "${var%%=*}" "${var#*=}"
  done
}

usage() {
  # The header comment of this file is the help text.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

case ${1:-} in
  start | stop | clean)
    take_lock
    "cmd_$1" "${2:-all}"
    ;;
  restart)
    take_lock
    cmd_stop "${2:-all}" || true
    cmd_start "${2:-all}"
    ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) usage ;;
esac
