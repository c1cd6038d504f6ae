#!/usr/bin/env bash
# Runs every test against real services: installs and starts Redis and MariaDB (dev/services.sh)
# and the Kafka mock cluster (dev/kafka.sh) when needed, runs the test suite, and ends with one
# line "N passed, N failed".
# Extra arguments go to 'dotnet test' (e.g. --filter Reservation).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

# Build servers would outlive this script and hold its output open in CI.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

started_here=0
if ! redis-cli -p "$FLASHSALE_REDIS_PORT" ping >/dev/null 2>&1; then started_here=1; fi
bash dev/services.sh up
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
log "Building"
dotnet build FlashSale.sln -c Release -p:UseSharedCompilation=false -nologo -v quiet
bash dev/kafka.sh up
log "Running tests"
set +e
dotnet test FlashSale.sln -c Release --no-build --nologo \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@"
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
