#!/usr/bin/env bash
# Runs every test against real services: installs and starts Redis and MariaDB (dev/services.sh)
# and the Kafka mock cluster (dev/kafka.sh) when needed, runs the test suite, and ends with one
# line "N passed, N failed".
#   --fast   only the unit and in-process tests (not those marked [Trait("Category", "Slow")]: engine
#            processes, Kafka, the load-test harness, real waits); builds only the test project, no Kafka.
# Other arguments go to 'dotnet test' (e.g. --filter Reservation; with --fast both filters apply).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

fast=0 filter="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1 ;;
    --filter) filter=${2:?--filter needs an expression}; shift ;;
    --filter=*) filter=${1#--filter=} ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ "$fast" = 1 ]; then
  filter=${filter:+($filter)&}"Category!=Slow"
fi
if [ -n "$filter" ]; then args+=(--filter "$filter"); fi

# Build servers would outlive this script and hold its output open in CI.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

started_here=0
if ! redis-cli -p "$FLASHSALE_REDIS_PORT" ping >/dev/null 2>&1; then started_here=1; fi
bash dev/services.sh up
# The console's browser tests drive Debian's Chromium (Playwright's own browser download is not reachable from CI).
if [ "$fast" = 0 ] && [ ! -x /usr/bin/chromium ]; then
  log "Installing chromium (apt) for the console's browser tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
cleanup() {
  dotnet build-server shutdown >/dev/null 2>&1 || true
  if [ "$started_here" = 1 ] && [ "${CI:-}" = "true" ]; then
    bash dev/kafka.sh down >/dev/null 2>&1 || true
    bash dev/services.sh down >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

results="$FLASHSALE_ROOT/TestResults"
rm -rf "$results"
if [ "$fast" = 1 ]; then
  target=tests/Tests.csproj
  log "Building the tests"
  dotnet build "$target" -c Release -p:UseSharedCompilation=false -nologo -v quiet
else
  target=FlashSale.sln
  log "Building"
  dotnet build "$target" -c Release -p:UseSharedCompilation=false -nologo -v quiet
  bash dev/kafka.sh up
fi
log "Running tests${filter:+ ($filter)}"
set +e
dotnet test "$target" -c Release --no-build --nologo \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "${args[@]}"
status=$?
set -e

passed=0 failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
