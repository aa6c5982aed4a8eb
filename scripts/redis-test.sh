#!/usr/bin/env bash
# A throwaway Redis for the tests, from Debian's redis-server: no persistence, a fresh directory in
# /tmp, listening on 127.0.0.1 only, on a free port (never 6379).
#
# Sourced (what scripts/test.sh does):
#   source scripts/redis-test.sh
#   redis_test_start && trap redis_test_stop EXIT   # exports INFERENCE_TEST_REDIS=127.0.0.1:PORT
# Run by hand, for a filtered `dotnet test`:
#   eval "$(scripts/redis-test.sh start)"   # prints the exports, including the stop command
#   ...; eval "$REDIS_TEST_STOP"
# redis-server is installed with apt-get only when it is missing.

redis_test_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

redis_test_start() {
  local dir port
  if ! command -v redis-server >/dev/null; then
    [ "$(id -u)" -eq 0 ] || { echo "redis-server is not installed and installing it needs root: apt-get install redis-server" >&2; return 1; }
    echo "installing redis-server from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq redis-server >/dev/null
    # The package starts a system Redis on 6379 where there is an init system; the tests never use it.
  fi
  dir="$(mktemp -d /tmp/inference-redis.XXXXXX)"
  for _ in 1 2 3; do
    port="$(redis_test_free_port)" || break
    if redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"; then
      for _ in $(seq 1 50); do
        if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
          REDIS_TEST_DIR="$dir"
          export INFERENCE_TEST_REDIS="127.0.0.1:$port"
          echo "test Redis $(redis-server --version | awk '{print $3}') on $INFERENCE_TEST_REDIS ($dir)" >&2
          return 0
        fi
        sleep 0.1
      done
    fi
    tail -n 5 "$dir/redis.log" >&2 2>/dev/null
  done
  rm -rf "$dir"
  echo "could not start the test Redis" >&2
  return 1
}

redis_test_stop() {
  [ -n "${REDIS_TEST_DIR:-}" ] && [ -d "$REDIS_TEST_DIR" ] || return 0
  [ -f "$REDIS_TEST_DIR/redis.pid" ] && kill "$(cat "$REDIS_TEST_DIR/redis.pid")" 2>/dev/null || true
  rm -rf "$REDIS_TEST_DIR"
  REDIS_TEST_DIR=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      redis_test_start
      printf 'export INFERENCE_TEST_REDIS=%q\n' "$INFERENCE_TEST_REDIS"
      printf 'export REDIS_TEST_STOP=%q\n' "$0 stop $REDIS_TEST_DIR"
      ;;
    stop)
      REDIS_TEST_DIR="${2:?usage: $0 stop DIR}"
      case "$REDIS_TEST_DIR" in /tmp/inference-redis.*) ;; *) echo "not a test Redis: $REDIS_TEST_DIR" >&2; exit 2 ;; esac
      redis_test_stop
      ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
  esac
fi
