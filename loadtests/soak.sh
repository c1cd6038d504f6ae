#!/usr/bin/env bash
# The 5-minute soak of issue 11: one SKU, an open model at 2,000 req/s, every request a new buyer so that every
# answer is a 201, measured window by window. Goals: p99 ≤ 25 ms in every window; Ingress RSS at the end of the
# last window within 10 % of the end of the second; Redis bytes per reservation ≤ 200.
#
#   bash loadtests/soak.sh          # needs a running engine: bash dev/up.sh
#
# SOAK_RATE (2000), SOAK_DURATION (5m), SOAK_WINDOW (60s) and SOAK_REHEARSAL (10s, the run before, at the same rate)
# change the run; SOAK_OUT the results folder (loadtests/results). The stock is twice the requests, so the SKU never
# sells out; buyers are taken in turn from a pool as large as the requests, so the per-buyer limit never refuses.
# It is a measurement: it exits 0 whether the goals are met or not, and non-zero when a run itself failed (the
# engine was not ready, the harness could not run, or an invariant failed and the figures are not to be trusted).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../dev/env.sh
source "$ROOT/dev/env.sh"
# shellcheck source=wrk/lib.sh
source "$ROOT/loadtests/wrk/lib.sh"

SOAK_RATE=${SOAK_RATE:-2000}
SOAK_DURATION=${SOAK_DURATION:-5m}
SOAK_WINDOW=${SOAK_WINDOW:-60s}
SOAK_REHEARSAL=${SOAK_REHEARSAL:-10s}
SOAK_OUT=${SOAK_OUT:-$ROOT/loadtests/results}
P99_GOAL_MS=25
RSS_GOAL_PCT=10
BYTES_GOAL=200

# seconds D: a duration as the harness takes it (500ms, 30s, 2m, 1h, a bare number of seconds) in whole seconds, at least 1.
seconds() {
  awk -v d="$1" 'BEGIN {
    if (d ~ /ms$/) { v = substr(d, 1, length(d) - 2) / 1000 }
    else if (d ~ /s$/) { v = substr(d, 1, length(d) - 1) }
    else if (d ~ /m$/) { v = substr(d, 1, length(d) - 1) * 60 }
    else if (d ~ /h$/) { v = substr(d, 1, length(d) - 1) * 3600 }
    else { v = d }
    v = int(v + 0.999); if (v < 1) v = 1; print v }'
}

# hot_sku DURATION [ARGS...]: hot-sku at SOAK_RATE for DURATION, stock twice the requests, a new buyer per request.
hot_sku() {
  local duration=$1
  shift
  local requests
  requests=$(awk -v r="$SOAK_RATE" -v s="$(seconds "$duration")" 'BEGIN { printf "%d", r * s + r }')
  harness hot-sku --rate "$SOAK_RATE" --duration "$duration" --stock $((requests * 2)) --buyers "$requests" --buyers-in-turn \
    --out "$SOAK_OUT" "$@"
}

curl -fsS "$FLASHSALE_INGRESS_URL/health/ready" >/dev/null 2>&1 \
  || die "the Ingress at $FLASHSALE_INGRESS_URL is not ready: bring the engine up first (bash dev/up.sh)"
require_harness

log "Rehearsal: hot-sku at $SOAK_RATE req/s for $SOAK_REHEARSAL (JIT, connections, caches; not measured)"
hot_sku "$SOAK_REHEARSAL" >/dev/null || die "the rehearsal run failed (exit $?); see its report in $SOAK_OUT"

log "Soak: hot-sku at $SOAK_RATE req/s for $SOAK_DURATION, windows of $SOAK_WINDOW"
output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
hot_sku "$SOAK_DURATION" --window "$SOAK_WINDOW" | tee "$output" || status=$?

echo
echo "Soak: $SOAK_DURATION at $SOAK_RATE req/s, one SKU, a new buyer per request, windows of $SOAK_WINDOW"
sed -n '/^Windows (/,/^$/p' "$output"
result=$(grep '^WINDOWS_RESULT ' "$output" || true)
[ -n "$result" ] || die "the soak run ended without its window figures (exit $status)"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
p99=$(field worst_p99_ms)
rss=$(field rss_change_pct)
bytes=$(field redis_bytes_per_reservation)

# goal NAME VALUE AWK-CONDITION-ON-v DETAIL: one PASS/FAIL/UNKNOWN line.
goal() {
  local name=$1 value=$2 condition=$3 detail=$4
  if [ "$value" = na ]; then
    echo "UNKNOWN  $name: not measured (see the report's Windows section)"
  elif awk -v v="$value" "BEGIN { exit !($condition) }"; then
    echo "PASS     $name: $detail"
  else
    echo "FAIL     $name: $detail"
  fi
}
echo "Goals:"
goal "p99 ≤ $P99_GOAL_MS ms in every window" "$p99" "v <= $P99_GOAL_MS" "worst window p99 $p99 ms"
goal "Ingress RSS, last window within $RSS_GOAL_PCT % of the second" "$rss" "v <= $RSS_GOAL_PCT && v >= -$RSS_GOAL_PCT" "$rss %"
goal "Redis bytes per reservation ≤ $BYTES_GOAL" "$bytes" "v <= $BYTES_GOAL" "$bytes bytes"
# A soak that did not send its rate measured a lighter load than the goals are about: say so beside them.
if grep -q 'WARNING: the target rate was not held' "$output"; then
  echo "NOTE     the target rate was not held (see the WARNING above): the windows measured less than $SOAK_RATE req/s"
fi
if [ "$status" -ne 0 ]; then
  die "the soak run itself failed (harness exit $status): the figures above are not to be trusted"
fi
