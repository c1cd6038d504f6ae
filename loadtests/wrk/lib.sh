# Shared by the wrk scripts: sourced, not run. Needs dev/env.sh sourced first (ports, FLASHSALE_ROOT).

WRK_DIR="$FLASHSALE_ROOT/loadtests/wrk"
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_WARMUP=${WRK_WARMUP:-$WRK_DURATION}
HARNESS_DLL="$FLASHSALE_ROOT/loadtests/bin/Release/net10.0/FlashSale.LoadTests.dll"
BASELINE_DLL="$FLASHSALE_ROOT/loadtests/BaselineServer/bin/Release/net10.0/FlashSale.LoadTests.BaselineServer.dll"

require_wrk() {
  command -v wrk >/dev/null && return
  log "Installing wrk (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || die "wrk is missing and apt could not install it"
}

# Builds the harness (and with it the constant endpoint) in Release unless both are built.
require_harness() {
  [ -f "$HARNESS_DLL" ] && [ -f "$BASELINE_DLL" ] && return
  log "Building the load-test harness (Release)"
  MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 \
    dotnet build "$FLASHSALE_ROOT/loadtests/LoadTests.csproj" -c Release -nologo -v quiet -p:UseSharedCompilation=false
}

harness() { dotnet "$HARNESS_DLL" "$@"; }

# wrk, the harness, and an Ingress that answers ready: what every script here measures against.
require_engine() {
  require_wrk
  require_harness
  curl -fsS --max-time 5 "$FLASHSALE_INGRESS_URL/health/ready" >/dev/null \
    || die "the Ingress at $FLASHSALE_INGRESS_URL is not ready: run bash dev/up.sh first"
}

# start_constant_endpoint: starts loadtests/BaselineServer on a port the system picks (201 for every reservation);
# sets CONSTANT_URL from its "Now listening on" line, and CONSTANT_PID. stop_constant_endpoint ends it.
start_constant_endpoint() {
  local log="$WRK_OUT/constant-endpoint.log"
  (cd "$(dirname "$BASELINE_DLL")" && DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production \
    exec dotnet "$BASELINE_DLL" --urls http://127.0.0.1:0 </dev/null >"$log" 2>&1) &
  CONSTANT_PID=$!
  CONSTANT_URL=""
  for _ in $(seq 1 150); do
    CONSTANT_URL=$(grep -o 'Now listening on: http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/^Now listening on: //') || true
    [ -n "$CONSTANT_URL" ] && break
    kill -0 "$CONSTANT_PID" 2>/dev/null || die "the constant endpoint exited: $(tail -5 "$log")"
    sleep 0.2
  done
  [ -n "$CONSTANT_URL" ] || die "the constant endpoint did not say where it listens within 30s: $(tail -5 "$log")"
  wait_for "the constant endpoint at $CONSTANT_URL" 30 curl -fsS "$CONSTANT_URL/health/ready"
}

stop_constant_endpoint() {
  if [ -n "${CONSTANT_PID:-}" ] && kill -0 "$CONSTANT_PID" 2>/dev/null; then
    kill "$CONSTANT_PID" 2>/dev/null || true
    wait "$CONSTANT_PID" 2>/dev/null || true
  fi
  CONSTANT_PID=""
}

# wrk_warmup NAME URL PATH [KEY]: a run as long as the measured one ($WRK_WARMUP), output kept, result ignored.
wrk_warmup() {
  local name=$1 url=$2 path=$3 key=${4:-unique}
  WRK_PATH=$path WRK_TOKENS="$WRK_OUT/tokens-$name.txt" WRK_KEY=$key \
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_WARMUP" -s "$WRK_DIR/reserve.lua" --latency "$url" >"$WRK_OUT/$name.warmup.txt" 2>&1 \
    || die "wrk failed on $name (warm-up): $(tail -3 "$WRK_OUT/$name.warmup.txt")"
}

# wrk_run NAME URL PATH [KEY]: the measured run of reserve.lua with the tokens in $WRK_OUT/tokens-NAME.txt.
# Sets R_RPS R_P50 R_P99 (ms) R_REQUESTS R_NON2XX (answers >= 400) R_SOCKET_ERRORS R_CLIENT_CPU_US (wrk's own
# CPU per request); the output is kept in $WRK_OUT/NAME.txt.
wrk_run() {
  local name=$1 url=$2 path=$3 key=${4:-unique} line TIMEFORMAT='%U %S'
  { time WRK_PATH=$path WRK_TOKENS="$WRK_OUT/tokens-$name.txt" WRK_KEY=$key \
      wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" -s "$WRK_DIR/reserve.lua" --latency "$url" >"$WRK_OUT/$name.txt" 2>&1; } \
    2>"$WRK_OUT/$name.time" || die "wrk failed on $name: $(tail -3 "$WRK_OUT/$name.txt")"
  line=$(grep '^WRK_RESULT' "$WRK_OUT/$name.txt") || die "no WRK_RESULT line in $WRK_OUT/$name.txt"
  R_REQUESTS=$(field "$line" requests)
  R_RPS=$(field "$line" rps)
  R_P50=$(awk -v us="$(field "$line" p50_us)" 'BEGIN { printf "%.2f", us / 1000 }')
  R_P99=$(awk -v us="$(field "$line" p99_us)" 'BEGIN { printf "%.2f", us / 1000 }')
  R_NON2XX=$(field "$line" non2xx3xx)
  R_SOCKET_ERRORS=$(( $(field "$line" connect) + $(field "$line" read) + $(field "$line" write) + $(field "$line" timeout) ))
  R_CLIENT_CPU_US=$(awk -v n="$R_REQUESTS" '{ printf "%.1f", ($1 + $2) * 1e6 / (n > 0 ? n : 1) }' "$WRK_OUT/$name.time")
}

# wrk_measure NAME URL PATH [KEY]: wrk_warmup, then wrk_run.
wrk_measure() {
  wrk_warmup "$@"
  wrk_run "$@"
}

# field LINE KEY: the value of key=value in a WRK_RESULT line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# admin_post PATH [BODY]: an admin call that must succeed (the token in $admin; the answer kept in $WRK_OUT/admin.json).
admin_post() {
  local out status
  out=$(curl -sS -o "$WRK_OUT/admin.json" -w '%{http_code}' -X POST "$FLASHSALE_INGRESS_URL$1" \
    -H "Authorization: $admin" -H 'Content-Type: application/json' ${2:+-d "$2"}) || die "POST $1 failed"
  status=$out
  [[ "$status" == 2* ]] || die "POST $1: $status $(cat "$WRK_OUT/admin.json")"
}

# new_campaign ID STOCK PER_USER_LIMIT [RATE_LIMITS]: created and warmed, open from a minute ago for a day, a payment
# window of a day, so that no payment-window scan cancels its orders (and takes CPU) during the runs; rate limits off unless given
# (limits_off, or a JSON object of the campaign's "rateLimits").
limits_off='{"perBuyer":{"permitsPerSecond":0},"perAddress":{"permitsPerSecond":0}}'
new_campaign() {
  admin_post /api/v1/admin/campaigns "{\"campaignId\":\"$1\",\"startsAt\":\"$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)\",
    \"endsAt\":\"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)\",\"paymentWindowSeconds\":86400,
    \"skus\":[{\"skuId\":1,\"price\":\"9.99\",\"stock\":$2,\"perUserLimit\":$3}],\"rateLimits\":${4:-$limits_off}}"
  admin_post "/api/v1/admin/campaigns/$1/warmup"
}

