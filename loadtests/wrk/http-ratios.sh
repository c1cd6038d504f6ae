#!/usr/bin/env bash
# The engine's HTTP paths against a constant endpoint, measured with wrk (docs: loadtests/README.md, "wrk"):
#   constant  loadtests/BaselineServer, a 201 for every reservation: Kestrel and routing, nothing else
#   created   the reservation route on a SKU whose stock cannot run out: every request a buyer of 1,000 with
#             their own token and a new Idempotency-Key, so every answer is a 201 (any other answer is counted)
#   sold-out  a SKU with stock 1, sold; a buyer who owns no order sends the same key: every answer a 409
#   constant  again; the ratios use the mean of the two constant runs
# Rate limits (issue 12): the created and sold-out campaigns switch the per-buyer and per-address limits off in their
# definitions (one buyer sends every sold-out request); the "limits on" runs repeat both paths on campaigns whose limits
# are on but too high to refuse anything, so the difference is the limiter's cost on the hot path. The Ingress-wide cap
# on requests in flight (RateLimits:Concurrency, 1000) applies to every run and never refuses wrk's 64 connections.
# Each wrk run is preceded by an identical warm-up run. For the created path the engine's CPU (loadtests/cpu.sh)
# is read before the measured run and again once the Persister holds every order, and divided by the 201s.
# Needs the engine up (bash dev/up.sh; for figures to quote, from wiped stores: bash dev/down.sh --wipe first).
#   WRK_CONNECTIONS (64), WRK_THREADS (2), WRK_DURATION (10s), WRK_WARMUP (= WRK_DURATION), WRK_BUYERS (1000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"
source "$FLASHSALE_ROOT/loadtests/wrk/lib.sh"
source "$FLASHSALE_ROOT/loadtests/cpu.sh"
cd "$FLASHSALE_ROOT"
buyers=${WRK_BUYERS:-1000}

require_engine
curl -fsS --max-time 5 "$FLASHSALE_PERSISTER_URL/metrics" >/dev/null \
  || die "the Persister's metrics at $FLASHSALE_PERSISTER_URL/metrics do not answer: run bash dev/up.sh first"
[ -n "$(engine_pids)" ] || die "no engine process found from the pid files in $FLASHSALE_RUN (dev/up.sh writes them)"

WRK_OUT="$FLASHSALE_ROOT/loadtests/results/$(date -u +%Y%m%dT%H%M%SZ)-wrk"
mkdir -p "$WRK_OUT"
log "Results in ${WRK_OUT#"$FLASHSALE_ROOT"/}; load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors"

# Tokens from the harness's own code and key (FLASHSALE_SIGNING_KEY, else the development key dev/up.sh's Ingress uses).
admin=$(harness tokens --admin)
harness tokens --buyers "$buyers" --first 1000 >"$WRK_OUT/tokens-created.txt"
cp "$WRK_OUT/tokens-created.txt" "$WRK_OUT/tokens-constant-1.txt"
cp "$WRK_OUT/tokens-created.txt" "$WRK_OUT/tokens-constant-2.txt"
harness tokens --buyers 1 --first 2 >"$WRK_OUT/tokens-sold-out.txt"

limits_high='{"perBuyer":{"permitsPerSecond":1000000,"burst":1000000},"perAddress":{"permitsPerSecond":1000000,"burst":1000000}}'

# ingress_settings: the group-commit, admission and backpressure settings the Ingress was started with (its environment's
# overrides; the defaults of README's Configuration for the rest).
ingress_settings() {
  local pid overrides
  pid=$(cat "$FLASHSALE_RUN/ingress.pid")
  overrides=$(tr '\0' '\n' <"/proc/$pid/environ" | grep -E '^(Reservations|Backpressure|RateLimits|Admission|Kafka__Client)__' \
    | grep -v -i -E 'key|secret' | sort | sed 's/__/:/g' | paste -sd ' ' -) || true
  echo "${overrides:-the defaults (no Reservations, Backpressure, RateLimits or Admission overrides in its environment)}"
}

suffix=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
created_campaign="wrk-$suffix"
soldout_campaign="wrk-so-$suffix"
# Stock that cannot run out and a limit no buyer reaches: 1,000 units each over two runs at any rate this machine holds.
new_campaign "$created_campaign" 100000000 1000
new_campaign "$soldout_campaign" 1 1
limited_campaign="wrk-rl-$suffix"
limited_soldout_campaign="wrk-rl-so-$suffix"
new_campaign "$limited_campaign" 100000000 1000 "$limits_high"
new_campaign "$limited_soldout_campaign" 1 1 "$limits_high"
cp "$WRK_OUT/tokens-created.txt" "$WRK_OUT/tokens-created-limited.txt"
cp "$WRK_OUT/tokens-sold-out.txt" "$WRK_OUT/tokens-sold-out-limited.txt"

# sell_out CAMPAIGN: sells the SKU's one unit and checks that a buyer without an order is answered sold-out.
sell_out() {
  local path="/api/v1/campaigns/$1/skus/1/reservations" first late
  first=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$FLASHSALE_INGRESS_URL$path" -H "Authorization: $(harness tokens --buyers 1 --first 1)" \
    -H 'Idempotency-Key: wrk-owner' -H 'Content-Type: application/json' -d '{"quantity":1}')
  [ "$first" = 201 ] || die "selling the sold-out SKU's one unit of $1 answered $first"
  late=$(curl -sS -X POST "$FLASHSALE_INGRESS_URL$path" -H "Authorization: $(cat "$WRK_OUT/tokens-sold-out.txt")" \
    -H 'Idempotency-Key: wrk-late' -H 'Content-Type: application/json' -d '{"quantity":1}')
  grep -q '/sold-out"' <<<"$late" || die "the sold-out SKU of $1 answered: $late"
}
sell_out "$soldout_campaign"
sell_out "$limited_soldout_campaign"
soldout_path="/api/v1/campaigns/$soldout_campaign/skus/1/reservations"
limited_path="/api/v1/campaigns/$limited_campaign/skus/1/reservations"
limited_soldout_path="/api/v1/campaigns/$limited_soldout_campaign/skus/1/reservations"

start_constant_endpoint
trap stop_constant_endpoint EXIT
constant_path="/api/v1/campaigns/$created_campaign/skus/1/reservations"

log "constant: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION against $CONSTANT_URL (after a warm-up as long)"
wrk_measure constant-1 "$CONSTANT_URL" "$constant_path"
c1=("$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$R_SOCKET_ERRORS")

log "created: the reservation route of $created_campaign, $buyers buyers, a new Idempotency-Key per request"
wrk_warmup created "$FLASHSALE_INGRESS_URL" "$constant_path"
rows=$(inserted_rows)
wait_drained "$rows" "" 120 >/dev/null || die "the warm-up's orders did not drain"
rows_before=$(inserted_rows)
cpu_snapshot >"$WRK_OUT/cpu-created.before"
wrk_run created "$FLASHSALE_INGRESS_URL" "$constant_path"
burst_end=$(date +%s.%N)
cr=("$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$R_SOCKET_ERRORS")
created=$(( R_REQUESTS - R_NON2XX ))
burst_s=$(awk -v n="$R_REQUESTS" -v r="$R_RPS" 'BEGIN { printf "%.2f", (r > 0 ? n / r : 0) }')
log "Waiting until the Persister holds the $created orders of the measured run"
# Polled every 0.25 s, about as often as the Persister's Prometheus exporter renews the scrape it caches (300 ms by default).
wait_drained "$rows_before" "$created" 180 0.25 >"$WRK_OUT/drained-rows" || die "the created path's orders did not drain; see $WRK_OUT"
drain_s=$(awk -v a="$burst_end" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
persister_rate=$(awk -v n="$created" -v a="$burst_s" -v b="$drain_s" 'BEGIN { printf "%.0f", n / (a + b) }')
cpu_snapshot >"$WRK_OUT/cpu-created.after"
cpu_created=$(cpu_per_op "$WRK_OUT/cpu-created.before" "$WRK_OUT/cpu-created.after" "$created")

log "created, limits on: $limited_campaign, per-buyer and per-address limits too high to refuse"
wrk_warmup created-limited "$FLASHSALE_INGRESS_URL" "$limited_path"
wait_drained "$(inserted_rows)" "" 120 >/dev/null || die "the warm-up's orders did not drain"
rows_before=$(inserted_rows)
wrk_run created-limited "$FLASHSALE_INGRESS_URL" "$limited_path"
crl=("$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$R_SOCKET_ERRORS")
wait_drained "$rows_before" "$(( R_REQUESTS - R_NON2XX ))" 180 >/dev/null || die "the limited created path's orders did not drain; see $WRK_OUT"

log "sold-out: $soldout_campaign, stock 1 sold; a buyer without an order sends one Idempotency-Key"
wrk_warmup sold-out "$FLASHSALE_INGRESS_URL" "$soldout_path" wrk-late
cpu_snapshot >"$WRK_OUT/cpu-sold-out.before"
wrk_run sold-out "$FLASHSALE_INGRESS_URL" "$soldout_path" wrk-late
cpu_snapshot >"$WRK_OUT/cpu-sold-out.after"
so=("$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$R_SOCKET_ERRORS")
sold_out_answers=$R_REQUESTS
cpu_sold_out=$(cpu_per_op "$WRK_OUT/cpu-sold-out.before" "$WRK_OUT/cpu-sold-out.after" "$sold_out_answers")

log "sold-out, limits on: $limited_soldout_campaign"
wrk_warmup sold-out-limited "$FLASHSALE_INGRESS_URL" "$limited_soldout_path" wrk-late
cpu_snapshot >"$WRK_OUT/cpu-sold-out-limited.before"
wrk_run sold-out-limited "$FLASHSALE_INGRESS_URL" "$limited_soldout_path" wrk-late
cpu_snapshot >"$WRK_OUT/cpu-sold-out-limited.after"
sol=("$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$R_SOCKET_ERRORS")
cpu_sold_out_limited=$(cpu_per_op "$WRK_OUT/cpu-sold-out-limited.before" "$WRK_OUT/cpu-sold-out-limited.after" "$R_REQUESTS")

log "constant again"
wrk_measure constant-2 "$CONSTANT_URL" "$constant_path"
c2=("$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$R_SOCKET_ERRORS")
constant=$(awk -v a="${c1[0]}" -v b="${c2[0]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')

{
  echo
  printf '%-20s %10s %8s %8s %12s %10s %8s %18s\n' "path" "req/s" "p50 ms" "p99 ms" "÷ constant" "non-2xx" "errors" "engine CPU µs/op"
  row() { printf '%-20s %10.0f %8s %8s %12s %10s %8s %18s\n' "$1" "$2" "$3" "$4" "$(ratio "$2" "$constant")" "$5" "$6" "$7"; }
  row "constant (before)" "${c1[@]}" "-"
  row "created (201)" "${cr[@]}" "$cpu_created"
  row "created, limits on" "${crl[@]}" "-"
  row "sold-out (409)" "${so[@]}" "$cpu_sold_out"
  row "sold-out, limits on" "${sol[@]}" "$cpu_sold_out_limited"
  row "constant (after)" "${c2[@]}" "-"
  echo
  echo "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION after an identical warm-up; ÷ constant uses the mean of the two constant runs ($constant req/s)."
  echo "created: valid only with non-2xx 0; engine CPU per 201 from before the run until the Persister held all $created orders."
  echo "Persister: every order of the created run in MySQL ${drain_s} s after its last answer (read every 0.25 s); it held $persister_rate orders/s over the ${burst_s} s burst and its drain."
  echo "Ingress settings: $(ingress_settings); the created and sold-out campaigns' own rate limits off, the limits-on ones at 1,000,000/s."
  echo "sold-out: every answer is a 409 (non-2xx = all); engine CPU per answer during the run."
  echo "limits on: the same paths on campaigns whose per-buyer and per-address limits are on and never refuse (a 429 would show as non-2xx beyond the run's requests)."
  echo "Campaigns: $created_campaign (created), $soldout_campaign (sold-out); constant endpoint $CONSTANT_URL."
  echo "Load average now $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Engine CPU per process, created path:"
  cpu_report "$WRK_OUT/cpu-created.before" "$WRK_OUT/cpu-created.after" "$created" "created"
} | tee "$WRK_OUT/summary.txt"
[ "${cr[3]}" = 0 ] || { echo "warning: the created path had ${cr[3]} non-2xx answers: its figures are not valid" >&2; exit 1; }
[ "${crl[3]}" = 0 ] || { echo "warning: the created path with limits on had ${crl[3]} non-2xx answers (rate-limited?): its figures are not valid" >&2; exit 1; }
