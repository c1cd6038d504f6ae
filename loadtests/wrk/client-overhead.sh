#!/usr/bin/env bash
# How much of the machine the load-test harness's own client takes: wrk and the harness against the same
# constant endpoint (loadtests/BaselineServer, a 201 for every reservation), in one run:
# wrk, the harness (client-overhead command) with its own HTTP/1.1 client, the harness with .NET's HttpClient
# (--http-client, as it sent reservations before it had its own), wrk again. Needs no engine.
#   WRK_CONNECTIONS (64): wrk's connections and the harness's workers; WRK_DURATION (10s); WRK_THREADS (2).
# Prints req/s, p50/p99 and the client's own CPU per request of each, and harness ÷ wrk.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"
source "$FLASHSALE_ROOT/loadtests/wrk/lib.sh"
cd "$FLASHSALE_ROOT"

require_wrk
require_harness
WRK_OUT="$FLASHSALE_ROOT/loadtests/results/$(date -u +%Y%m%dT%H%M%SZ)-client-overhead"
mkdir -p "$WRK_OUT"
harness tokens --buyers 1000 >"$WRK_OUT/tokens-wrk-1.txt"
cp "$WRK_OUT/tokens-wrk-1.txt" "$WRK_OUT/tokens-wrk-2.txt"
start_constant_endpoint
trap stop_constant_endpoint EXIT
path=/api/v1/campaigns/lt-client/skus/1/reservations
log "Load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors; results in ${WRK_OUT#"$FLASHSALE_ROOT"/}"

log "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION against $CONSTANT_URL (after a warm-up as long)"
wrk_measure wrk-1 "$CONSTANT_URL" "$path"
w1=("$R_RPS" "$R_P50" "$R_P99" "$R_CLIENT_CPU_US")

# harness_pass NAME [OPTIONS]: the client-overhead command against the same endpoint; sets H to its figures.
harness_pass() {
  local name=$1 line
  shift
  harness client-overhead --constant-url "$CONSTANT_URL" --concurrency "$WRK_CONNECTIONS" --duration "$WRK_DURATION" "$@" \
    >"$WRK_OUT/$name.txt" 2>"$WRK_OUT/$name.log" || die "the harness failed: $(tail -5 "$WRK_OUT/$name.log")"
  line=$(grep '^HARNESS_RESULT' "$WRK_OUT/$name.txt") || die "no HARNESS_RESULT in $WRK_OUT/$name.txt"
  H=("$(field "$line" rps)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$(field "$line" cpu_us)" "$(field "$line" alloc_bytes)")
}

log "The harness with its own client: $WRK_CONNECTIONS workers, $WRK_DURATION (after its own warm-up)"
harness_pass harness-own
h=("${H[@]}")
log "The harness with HttpClient (--http-client)"
harness_pass harness-httpclient --http-client
hh=("${H[@]}")

log "wrk again"
wrk_measure wrk-2 "$CONSTANT_URL" "$path"
w2=("$R_RPS" "$R_P50" "$R_P99" "$R_CLIENT_CPU_US")
wrk_mean=$(awk -v a="${w1[0]}" -v b="${w2[0]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')

echo
printf '%-26s %10s %8s %8s %18s %16s %12s\n' "client" "req/s" "p50 ms" "p99 ms" "client CPU µs/req" "bytes alloc/req" "÷ wrk mean"
row() { printf '%-26s %10.0f %8s %8s %18s %16s %12s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$(ratio "$2" "$wrk_mean")"; }
row "wrk (before)" "${w1[@]}" "-"
row "harness, own client" "${h[@]}"
row "harness, HttpClient" "${hh[@]}"
row "wrk (after)" "${w2[@]}" "-"
echo "(constant endpoint $CONSTANT_URL, $WRK_CONNECTIONS connections, $WRK_DURATION each, load average now $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
