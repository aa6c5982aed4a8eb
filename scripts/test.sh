#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with the .NET 10 SDK: test models, the Node
# client used by the compatibility tests, a throwaway PostgreSQL cluster for the SQL tests
# (scripts/postgres-test.sh; an INFERENCE_TEST_POSTGRES already set is used instead), a throwaway
# Redis for the replica tests (scripts/redis-test.sh, INFERENCE_TEST_REDIS), Debian's Chromium and
# chromedriver for the web console's browser tests, then
# `dotnet test` over the solution.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export INFERENCE_TEST_MODELS="${INFERENCE_TEST_MODELS:-$root/../shared/models}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

scripts/fetch-test-models.sh

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
# The web console's browser tests drive Debian's Chromium through Debian's chromedriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi
(cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error)
# TypeScript's checker for the web console's JSDoc-typed modules (ConsoleTypeCheckTests).
(cd tests/console && npm ci --no-audit --no-fund --loglevel=error)

cleanup=()
if [ -z "${INFERENCE_TEST_POSTGRES:-}" ]; then
  source scripts/postgres-test.sh
  postgres_test_start
  cleanup+=(postgres_test_stop)
fi
# A throwaway Redis for the replica tests (scripts/redis-test.sh); an INFERENCE_TEST_REDIS already set is used instead.
if [ -z "${INFERENCE_TEST_REDIS:-}" ]; then
  source scripts/redis-test.sh
  redis_test_start
  cleanup+=(redis_test_stop)
fi
trap 'for c in "${cleanup[@]}"; do "$c"; done' EXIT
trap 'exit 143' TERM INT # so that the EXIT trap stops the cluster and Redis on Ctrl-C or a CI cancel

log="$(mktemp)"
set +e
dotnet test Inference.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line: "N passed, N failed, N skipped".
awk '/^ +Passed: [0-9]+$/ { p+=$2 } /^ +Failed: [0-9]+$/ { f+=$2 } /^ +Skipped: [0-9]+$/ { s+=$2 }
     END { if (p+f+s > 0) printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
