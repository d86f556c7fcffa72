#!/usr/bin/env bash
# Installs what scripts/services.sh needs to run a real MariaDB and a real Solr 9 on
# 127.0.0.1, and only what is missing (idempotent):
#   - Debian's mariadb-server + mariadb-client, without leaving the system service running
#     (services.sh runs its own mysqld on a private datadir; nothing here needs systemd);
#   - the Solr launcher (services/solr: target/gaia-solr.jar + target/lib/*.jar), built with
#     Maven from Maven Central, and rebuilt only when its sources are newer than the jar.
# Needs Java 17+ and Maven 3.8+ already present.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOLR_DIR="$ROOT/services/solr"
JAR="$SOLR_DIR/target/gaia-solr.jar"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

log() { echo "install-services: $*"; }
die() { echo "install-services: $*" >&2; exit 1; }

# --- Java 17+ and Maven -------------------------------------------------------------------
command -v java >/dev/null 2>&1 || die "Java 17+ is required (java not on PATH)"
java_major=$(java -XshowSettings:properties -version 2>&1 |
  awk -F' = ' '/java.specification.version/ {print $2}')
java_major=${java_major#1.}
[ "${java_major%%.*}" -ge 17 ] 2>/dev/null ||
  die "Java 17+ is required, found java.specification.version=${java_major:-unknown}"
command -v mvn >/dev/null 2>&1 || die "Maven 3.8+ is required (mvn not on PATH)"

# --- MariaDB server + client (Debian packages) ---------------------------------------------
missing=()
for pkg in mariadb-server mariadb-client; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  # Keep the package's maintainer scripts from starting the system-wide server: a
  # policy-rc.d that answers 101 ("action forbidden") is Debian's documented way. Put one in
  # place only if the machine has none, and take it away again afterwards.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  # Belt and braces: if a system server came up anyway, stop it (ours runs on its own port,
  # datadir and socket, but the brief is to leave no system service running).
  if [ -s /run/mysqld/mysqld.pid ] && [ -x /etc/init.d/mariadb ]; then
    log "stopping the system mariadb service the package started"
    $SUDO /etc/init.d/mariadb stop >/dev/null 2>&1 || true
  fi
fi
export PATH="$PATH:/usr/sbin:/sbin"   # mariadbd lives in /usr/sbin, off a non-root PATH
for cmd in mariadbd mariadb-install-db mariadb mariadb-admin; do
  command -v "$cmd" >/dev/null 2>&1 ||
    die "$cmd not found after installing mariadb-server/mariadb-client"
done

# --- Solr launcher (Maven) -----------------------------------------------------------------
# Up to date when the jar exists, its dependency folder is there, and no source is newer.
needs_build=1
if [ -f "$JAR" ] && [ -f "$SOLR_DIR/target/lib/solr-core-9.10.1.jar" ]; then
  newer=$(find "$SOLR_DIR/pom.xml" "$SOLR_DIR/src" -newer "$JAR" -print -quit)
  [ -z "$newer" ] && needs_build=0
fi
if [ "$needs_build" = 1 ]; then
  log "building the Solr launcher (mvn package in services/solr)"
  start=$(date +%s)
  # -o (offline) once the local repository has everything, so a rebuild needs no network.
  # Maven's output is kept and shown only on failure (Debian's Maven 3.8 prints stray colour
  # codes even with -q -B).
  mvn_log=$(mktemp)
  mvn_package() { (cd "$SOLR_DIR" && mvn -q -B "$@" package) >"$mvn_log" 2>&1; }
  if [ -d "${HOME}/.m2/repository/org/apache/solr/solr-test-framework/9.10.1" ]; then
    mvn_package -o || { log "offline build failed; retrying online"; mvn_package; } ||
      { cat "$mvn_log" >&2; die "mvn package failed in $SOLR_DIR"; }
  else
    mvn_package || { cat "$mvn_log" >&2; die "mvn package failed in $SOLR_DIR"; }
  fi
  rm -f "$mvn_log"
  # Maven keeps jars of removed dependencies in target/lib; the manifest classpath is what
  # counts, so stale ones are harmless, but touch the jar so the freshness check holds.
  touch "$JAR"
  log "built $JAR in $(( $(date +%s) - start )) s"
fi

log "all present (mariadbd $(mariadbd --version | awk '{print $3}'), java $java_major, $JAR)"
