#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, from Debian's packages: a fresh data directory in
# /tmp, listening on 127.0.0.1 only, on a free port (never 5432), password authentication over TCP.
#
# Sourced (what scripts/test.sh does):
#   source scripts/postgres-test.sh
#   postgres_test_start && trap postgres_test_stop EXIT   # exports INFERENCE_TEST_POSTGRES
# Run by hand, for a filtered `dotnet test`:
#   eval "$(scripts/postgres-test.sh start)"   # prints the exports, including the stop command
#   ...; eval "$POSTGRES_TEST_STOP"
# PostgreSQL is installed with apt-get only when no /usr/lib/postgresql/*/bin/initdb exists.

postgres_test_bin() {
  local initdb
  initdb="$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$initdb" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL is not installed and installing it needs root: apt-get install postgresql" >&2
      return 1
    fi
    echo "installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # postgresql-common first, so that installing the server does not create (and start) a main cluster on 5432.
    apt-get install -y -qq postgresql-common >/dev/null
    sed -i 's/^#\?[[:space:]]*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
    apt-get install -y -qq postgresql >/dev/null
    initdb="$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$initdb" ] || { echo "apt-get installed no initdb" >&2; return 1; }
  fi
  dirname "$initdb"
}

# Runs a PostgreSQL program as the cluster's owner: root may not run the server, so as root it is `postgres`.
postgres_test_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_test_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    # Nothing answers a TCP connect on it (bash's /dev/tcp; a refused connect fails fast).
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

postgres_test_start() {
  local bin dir port password
  bin="$(postgres_test_bin)" || return 1
  dir="$(mktemp -d /tmp/inference-pg.XXXXXX)"
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  printf '%s\n' "$password" >"$dir/pwfile"
  chmod 700 "$dir"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"
  # --no-sync and the settings below trade durability for speed: the cluster lives for one test run.
  postgres_test_as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf "$dir"; return 1; }
  rm -f "$dir/pwfile"
  for _ in 1 2 3; do
    port="$(postgres_test_free_port)" || break
    if postgres_test_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start; then
      POSTGRES_TEST_DIR="$dir"
      POSTGRES_TEST_BIN="$bin"
      postgres_test_as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres inference || { postgres_test_stop; return 1; }
      export INFERENCE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=inference"
      echo "test PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
      return 0
    fi
    # Most likely the port was taken between the check and the start: try another one.
    tail -n 5 "$dir/server.log" >&2
  done
  rm -rf "$dir"
  echo "could not start the test PostgreSQL" >&2
  return 1
}

postgres_test_stop() {
  [ -n "${POSTGRES_TEST_DIR:-}" ] && [ -d "$POSTGRES_TEST_DIR" ] || return 0
  postgres_test_as_owner "$POSTGRES_TEST_BIN/pg_ctl" -D "$POSTGRES_TEST_DIR/data" -m immediate -s stop >/dev/null 2>&1 || true
  rm -rf "$POSTGRES_TEST_DIR"
  POSTGRES_TEST_DIR=""
}

# Run directly: `start` prints shell exports (the cluster outlives this script), `stop DIR` removes one.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      postgres_test_start
      printf 'export INFERENCE_TEST_POSTGRES=%q\n' "$INFERENCE_TEST_POSTGRES"
      printf 'export POSTGRES_TEST_STOP=%q\n' "$0 stop $POSTGRES_TEST_DIR"
      ;;
    stop)
      POSTGRES_TEST_DIR="${2:?usage: $0 stop DIR}"
      # Only ever removes a directory this script made.
      case "$POSTGRES_TEST_DIR" in /tmp/inference-pg.*) ;; *) echo "not a test cluster: $POSTGRES_TEST_DIR" >&2; exit 2 ;; esac
      POSTGRES_TEST_BIN="$(postgres_test_bin)"
      postgres_test_stop
      ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
  esac
fi
