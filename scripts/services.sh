#!/usr/bin/env bash
# Runs a real MariaDB, a real Apache Solr 9 and a real two-node SolrCloud on 127.0.0.1 for
# Gaia's tests and demos, each as a plain background process with all its state under one
# folder (no systemd, no system-wide server, no sudo). Install what it needs first with
# scripts/install-services.sh.
#
#   scripts/services.sh start   [mariadb|solr|solrcloud|all]  start (if running: just verify)
#   scripts/services.sh stop    [mariadb|solr|solrcloud|all]  stop cleanly (SIGTERM, then SIGKILL)
#   scripts/services.sh restart [mariadb|solr|solrcloud|all]
#   scripts/services.sh clean   [mariadb|solr|solrcloud|all]  stop and delete the data
#   scripts/services.sh status              what runs; exit 0 only if all three run
#   scripts/services.sh env                 export lines for clients: eval "$(...)"
#   scripts/services.sh cloud-node stop|start I
#                                           stop or start SolrCloud node I while the cluster
#                                           runs; waits until it is gone from ZooKeeper's live
#                                           nodes, or live again with all its replicas active
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
#   GAIA_SOLRCLOUD_PORT    port of SolrCloud node 0; node I listens on this + I (default 8984)
#   GAIA_SOLRCLOUD_NODES   SolrCloud nodes (default 2); ZooKeeper is embedded, on an ephemeral port
#   GAIA_SOLRCLOUD_COLLECTIONS  collections to create at start, one replica per node (default gaia)
#   GAIA_SOLRCLOUD_HEAP    the SolrCloud JVM's -Xmx, all nodes together (default 1g)
#   GAIA_SOLRCLOUD_JAVA_OPTS    extra JVM options for SolrCloud
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

# SolrCloud: one JVM holding an embedded ZooKeeper and SC_NODES Jetty nodes on consecutive
# ports, the same configset uploaded as "gaia". Its cluster state is wiped at each start.
SC_PORT=${GAIA_SOLRCLOUD_PORT:-8984}
SC_NODES=${GAIA_SOLRCLOUD_NODES:-2}
read -r -a SC_COLLECTIONS <<<"${GAIA_SOLRCLOUD_COLLECTIONS:-gaia}"
SC_DIR=$BASE/solrcloud
SC_HOME=$SC_DIR/home
SC_CONTROL=$SC_HOME/control # node-I.want / node-I.state: see SolrLauncher's NodeControl
SC_PID=$SC_DIR/solr.pid
SC_LOG=$SC_DIR/solr.log
SC_CDS=$SC_DIR/gaia-solr.jsa
SC_URL=http://127.0.0.1:$SC_PORT/solr
sc_node_url() { echo "http://127.0.0.1:$((SC_PORT + $1))/solr"; }

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

# jvm_opts ARRAY LOGDIR CDS HEAP [EXTRA...]: the launcher JVM's options into ARRAY.
jvm_opts() {
  local -n out=$1
  local dir=$2 cds=$3 heap=$4
  shift 4
  # Small heap, serial GC and C1 only: starts fast on 2 cores and is plenty for tests.
  out=(-Xms64m "-Xmx$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    "-Dsolr.log.dir=$dir" "-Dgaia.solr.loglevel=${GAIA_SOLR_LOGLEVEL:-WARN}")
  # AppCDS: the first run dumps the classes it loaded when it exits (at "stop"); later runs
  # map them and start about twice as fast. Made again whenever the launcher jar changes.
  # The dump goes to a .new file that stop_solr keeps only if the JVM exited cleanly, so a
  # JVM killed mid-dump never leaves a broken archive behind.
  rm -f "$cds.new"
  if [ -s "$cds" ] && [ "$cds" -nt "$SOLR_JAR" ]; then
    out+=("-XX:SharedArchiveFile=$cds")
  else
    rm -f "$cds"
    out+=("-XX:ArchiveClassesAtExit=$cds.new")
  fi
  out+=(-Xlog:cds=off -Xlog:cds+dynamic=off "$@")
}

# check_jar: the launcher jar exists (warns when it is older than its sources).
check_jar() {
  [ -f "$SOLR_JAR" ] || die "$SOLR_JAR is missing: run scripts/install-services.sh first"
  if [ -n "$(find "$ROOT/services/solr/src" "$ROOT/services/solr/pom.xml" -newer "$SOLR_JAR" -print -quit)" ]; then
    log "warning: $SOLR_JAR is older than its sources; run scripts/install-services.sh"
  fi
}

# launch_solr starts the JVM without waiting, so that "start all" brings MariaDB up while
# Solr boots; wait_solr then waits for it. SOLR_LAUNCHED is 1 when this run launched it.
SOLR_LAUNCHED=0
SOLR_T0=0
launch_solr() {
  SOLR_LAUNCHED=0
  SOLR_T0=$(now_ms)
  check_jar
  if solr_running; then return 0; fi
  command -v java >/dev/null 2>&1 || die "java not found"
  if port_open "$SOLR_PORT"; then
    die "port $SOLR_PORT is taken by another program; set GAIA_SOLR_PORT"
  fi

  local opts args core
  # shellcheck disable=SC2086 # GAIA_SOLR_JAVA_OPTS is a list of words on purpose
  jvm_opts opts "$SOLR_DIR" "$SOLR_CDS" "${GAIA_SOLR_HEAP:-512m}" ${GAIA_SOLR_JAVA_OPTS:-}
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

# ----- SolrCloud -----------------------------------------------------------------------------

solrcloud_running() { pid_alive "$SC_PID" "$SC_HOME"; }

# sc_node_down I: node I was stopped on purpose (scripts/services.sh cloud-node stop I).
sc_node_down() { [ "$(cat "$SC_CONTROL/node-$1.want" 2>/dev/null)" = down ]; }

# Every node not stopped on purpose answers, and the first collection answers a ping through
# node 0 (or through the first running node).
solrcloud_ready() {
  local i via=""
  for ((i = 0; i < SC_NODES; i++)); do
    sc_node_down "$i" && continue
    curl -sf --max-time 5 "$(sc_node_url "$i")/admin/info/system?wt=json" >/dev/null 2>&1 || return 1
    [ -n "$via" ] || via=$(sc_node_url "$i")
  done
  [ -n "$via" ] || return 1
  if [ ${#SC_COLLECTIONS[@]} -gt 0 ]; then
    curl -sf --max-time 5 "$via/${SC_COLLECTIONS[0]}/admin/ping?wt=json" >/dev/null 2>&1
  fi
}

SC_LAUNCHED=0
SC_T0=0
launch_solrcloud() {
  SC_LAUNCHED=0
  SC_T0=$(now_ms)
  check_jar
  if solrcloud_running; then return 0; fi
  command -v java >/dev/null 2>&1 || die "java not found"
  [[ $SC_NODES =~ ^[1-9][0-9]*$ ]] || die "GAIA_SOLRCLOUD_NODES must be a positive number"
  local i p opts args coll
  for ((i = 0; i < SC_NODES; i++)); do
    p=$((SC_PORT + i))
    if [ "$p" = "$SOLR_PORT" ]; then
      die "SolrCloud node $i would take port $p, the standalone Solr's; set GAIA_SOLRCLOUD_PORT"
    fi
    if port_open "$p"; then
      die "port $p (SolrCloud node $i) is taken by another program; set GAIA_SOLRCLOUD_PORT"
    fi
  done
  # shellcheck disable=SC2086 # GAIA_SOLRCLOUD_JAVA_OPTS is a list of words on purpose
  jvm_opts opts "$SC_DIR" "$SC_CDS" "${GAIA_SOLRCLOUD_HEAP:-1g}" ${GAIA_SOLRCLOUD_JAVA_OPTS:-}
  args=(--home "$SC_HOME" --configset "$SOLR_CONFIGSET" --port "$SC_PORT" --cloud
    --nodes "$SC_NODES")
  for coll in "${SC_COLLECTIONS[@]}"; do args+=(--core "$coll"); done

  mkdir -p "$SC_HOME"
  rm -rf "$SC_CONTROL" # the launcher makes it afresh; no stale "down" from a previous run
  if [ -f "$SC_LOG" ]; then mv -f "$SC_LOG" "$SC_LOG.1"; fi
  setsid java "${opts[@]}" -jar "$SOLR_JAR" "${args[@]}" </dev/null >"$SC_LOG" 2>&1 9>&- &
  echo $! >"$SC_PID"
  SC_LAUNCHED=1
}

wait_solrcloud() {
  local pid deadline
  pid=$(cat "$SC_PID")
  if [ "$SC_LAUNCHED" = 0 ] && solrcloud_ready; then
    log "solrcloud already running at $SC_URL (pid $pid)"
    return 0
  fi
  # ZooKeeper, N nodes and N replicas per collection: give it twice the usual time.
  deadline=$((SECONDS + TIMEOUT * 2))
  until grep -q '^gaia-solr: ready' "$SC_LOG" 2>/dev/null && solrcloud_ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$SC_PID"
      fail_with_log "SolrCloud exited during start" "$SC_LOG"
    fi
    if ((SECONDS >= deadline)); then
      terminate "$pid" 5 || true
      rm -f "$SC_PID" "$SC_CDS.new"
      fail_with_log "SolrCloud did not answer at $SC_URL within $((TIMEOUT * 2))s (set GAIA_SERVICES_TIMEOUT)" "$SC_LOG"
    fi
    sleep 0.1
  done
  log "solrcloud up at $SC_URL ($SC_NODES nodes on ports $SC_PORT-$((SC_PORT + SC_NODES - 1)), $(grep -m1 -o 'zookeeper at .*' "$SC_LOG"), collections: ${SC_COLLECTIONS[*]:-none}; pid $pid, $(($(now_ms) - SC_T0)) ms)"
}

start_solrcloud() {
  launch_solrcloud
  wait_solrcloud
}

stop_solrcloud() {
  local clean=1
  stop_pid solrcloud "$SC_PID" "$SC_HOME" || clean=0
  if [ "$clean" = 1 ] && [ -s "$SC_CDS.new" ]; then mv -f "$SC_CDS.new" "$SC_CDS"; fi
  rm -f "$SC_CDS.new"
}

# cmd_cloud_node stop|start I: asks the launcher to stop or start node I (its control files)
# and waits for its answer, then checks the node's port.
cmd_cloud_node() {
  local action=${1:-} i=${2:-} want state url deadline t0
  case $action in
    stop) want=down ;;
    start) want=up ;;
    *) die "cloud-node needs stop or start, then a node number" ;;
  esac
  if ! [[ $i =~ ^[0-9]+$ ]] || ((i >= SC_NODES)); then
    die "node must be 0..$((SC_NODES - 1)), not '$i'"
  fi
  solrcloud_running || die "solrcloud is not running (scripts/services.sh start solrcloud)"
  [ -d "$SC_CONTROL" ] || die "$SC_CONTROL is missing: the launcher is older than this script?"
  t0=$(now_ms)
  url=$(sc_node_url "$i")
  echo "$want" >"$SC_CONTROL/node-$i.want.tmp"
  mv -f "$SC_CONTROL/node-$i.want.tmp" "$SC_CONTROL/node-$i.want"
  rm -f "$SC_CONTROL/node-$i.state" # a missing state is a request: the launcher acts again
  deadline=$((SECONDS + TIMEOUT * 2))
  while :; do
    state=$(cat "$SC_CONTROL/node-$i.state" 2>/dev/null || true)
    [ "$state" = "$want" ] && break
    case $state in failed*) fail_with_log "node $i: $state" "$SC_LOG" ;; esac
    solrcloud_running || fail_with_log "SolrCloud exited" "$SC_LOG"
    if ((SECONDS >= deadline)); then
      fail_with_log "node $i not $want within $((TIMEOUT * 2))s" "$SC_LOG"
    fi
    sleep 0.1
  done
  if [ "$want" = up ]; then
    curl -sf --max-time 5 "$url/admin/info/system?wt=json" >/dev/null 2>&1 ||
      fail_with_log "node $i is up in ZooKeeper but $url does not answer" "$SC_LOG"
  elif port_open "$((SC_PORT + i))"; then
    fail_with_log "node $i is stopped but port $((SC_PORT + i)) still answers" "$SC_LOG"
  fi
  log "solrcloud node $i ($url) $want ($(($(now_ms) - t0)) ms)"
}

# ----- commands -----------------------------------------------------------------------------

services_of() {
  case ${1:-all} in
    all) echo mariadb solr solrcloud ;;
    mariadb | solr | solrcloud) echo "$1" ;;
    *) die "unknown service '$1' (mariadb, solr, solrcloud or all)" ;;
  esac
}

cmd_start() {
  if [ "${1:-all}" = all ]; then
    launch_solr # the JVMs boot while MariaDB starts
    launch_solrcloud
    start_mariadb
    wait_solr
    wait_solrcloud
  else
    "start_$(services_of "$1")"
  fi
}

cmd_stop() {
  if [ "${1:-all}" = all ]; then
    # All at once: each takes a second or two.
    local db_job solr_job sc_job rc=0
    stop_mariadb &
    db_job=$!
    stop_solr &
    solr_job=$!
    stop_solrcloud &
    sc_job=$!
    wait "$db_job" || rc=1
    wait "$solr_job" || rc=1
    wait "$sc_job" || rc=1
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
      solrcloud) rm -rf "$SC_HOME" "$SC_LOG" "$SC_LOG.1" ;;
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
  if solrcloud_running; then
    local i nodes=()
    for ((i = 0; i < SC_NODES; i++)); do
      nodes+=("$((SC_PORT + i)):$(cat "$SC_CONTROL/node-$i.state" 2>/dev/null || echo starting)")
    done
    log "solrcloud: running at $SC_URL (pid $(cat "$SC_PID"), nodes ${nodes[*]}, home $SC_HOME)"
  else
    log "solrcloud: stopped"
    rc=3
  fi
  return $rc
}

cmd_env() {
  local var i
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
    "GAIA_SOLR_CONFIGSET=$(basename "$SOLR_CONFIGSET")" \
    "GAIA_SOLRCLOUD_URL=$SC_URL" \
    "GAIA_SOLRCLOUD_URLS=$(for ((i = 0; i < SC_NODES; i++)); do sc_node_url "$i"; done | paste -sd' ')" \
    "GAIA_SOLRCLOUD_COLLECTION=${SC_COLLECTIONS[0]:-gaia}"; do
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
  cloud-node)
    take_lock
    cmd_cloud_node "${2:-}" "${3:-}"
    ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) usage ;;
esac
