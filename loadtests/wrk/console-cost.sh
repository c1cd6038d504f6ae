#!/usr/bin/env bash
# What the operator console's live stream costs the hot path, in one run: the created path (every answer a 201, as in
# http-ratios.sh) measured with wrk four times, ABBA: without a console, with one connected, with one connected, without.
# "Connected" is a client reading GET /api/v1/admin/live with the admin token for the whole run, as the page does; the
# number of updates it received is printed beside the figures. Ingress and Redis CPU per request are read from /proc
# for each run. The live counters (a metrics listener and one Redis call a second) run in every run: they cannot be
# switched off, so what the A/B difference shows is the stream itself.
# Needs the engine up (bash dev/up.sh). WRK_CONNECTIONS (64), WRK_THREADS (2), WRK_DURATION (10s), WRK_BUYERS (1000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"
source "$FLASHSALE_ROOT/loadtests/wrk/lib.sh"
source "$FLASHSALE_ROOT/loadtests/cpu.sh"
cd "$FLASHSALE_ROOT"
buyers=${WRK_BUYERS:-1000}

require_engine
ingress_pid=$(cat "$FLASHSALE_RUN/ingress.pid" 2>/dev/null) && [ -r "/proc/$ingress_pid/stat" ] \
  || die "no Ingress process found from $FLASHSALE_RUN/ingress.pid (dev/up.sh writes it)"
redis_pid=$(cat "$FLASHSALE_RUN/redis.pid" 2>/dev/null) || redis_pid=""

WRK_OUT="$FLASHSALE_ROOT/loadtests/results/$(date -u +%Y%m%dT%H%M%SZ)-console-cost"
mkdir -p "$WRK_OUT"
log "Results in ${WRK_OUT#"$FLASHSALE_ROOT"/}; load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors"

admin=$(harness tokens --admin)
harness tokens --buyers "$buyers" --first 1000 >"$WRK_OUT/tokens-created.txt"
for run in off-1 on-1 on-2 off-2; do cp "$WRK_OUT/tokens-created.txt" "$WRK_OUT/tokens-$run.txt"; done

campaign="console-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for call in "/api/v1/admin/campaigns {\"campaignId\":\"$campaign\",\"startsAt\":\"$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)\",\"endsAt\":\"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)\",\"paymentWindowSeconds\":86400,\"skus\":[{\"skuId\":1,\"price\":\"9.99\",\"stock\":100000000,\"perUserLimit\":1000}]}" \
  "/api/v1/admin/campaigns/$campaign/warmup"; do
  path=${call%% *} body=${call#* }
  [ "$body" = "$call" ] && body=""
  status=$(curl -sS -o "$WRK_OUT/admin.json" -w '%{http_code}' -X POST "$FLASHSALE_INGRESS_URL$path" \
    -H "Authorization: $admin" -H 'Content-Type: application/json' ${body:+-d "$body"})
  [[ "$status" == 2* ]] || die "POST $path: $status $(cat "$WRK_OUT/admin.json")"
done
path="/api/v1/campaigns/$campaign/skus/1/reservations"

log "warm-up: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_WARMUP"
wrk_warmup created "$FLASHSALE_INGRESS_URL" "$path"

console_pid=""
stop_console() { if [ -n "$console_pid" ]; then kill "$console_pid" 2>/dev/null || true; wait "$console_pid" 2>/dev/null || true; console_pid=""; fi; }
trap stop_console EXIT

declare -A rps p50 p99 non2xx ingress_us redis_us updates
for run in off-1 on-1 on-2 off-2; do
  if [[ $run == on-* ]]; then
    curl -sN -H "Authorization: $admin" -H 'Accept: text/event-stream' "$FLASHSALE_INGRESS_URL/api/v1/admin/live" >"$WRK_OUT/live-$run.txt" &
    console_pid=$!
    sleep 2
  fi
  i0=$(cpu_ticks "$ingress_pid"); r0=$([ -n "$redis_pid" ] && cpu_ticks "$redis_pid" || echo 0)
  wrk_run "$run" "$FLASHSALE_INGRESS_URL" "$path"
  i1=$(cpu_ticks "$ingress_pid"); r1=$([ -n "$redis_pid" ] && cpu_ticks "$redis_pid" || echo 0)
  stop_console
  hz=$(getconf CLK_TCK)
  rps[$run]=$R_RPS p50[$run]=$R_P50 p99[$run]=$R_P99 non2xx[$run]=$R_NON2XX
  ingress_us[$run]=$(awk -v t=$((i1 - i0)) -v hz="$hz" -v n="$R_REQUESTS" 'BEGIN { printf "%.0f", t * 1e6 / hz / (n > 0 ? n : 1) }')
  redis_us[$run]=$(awk -v t=$((r1 - r0)) -v hz="$hz" -v n="$R_REQUESTS" 'BEGIN { printf "%.0f", t * 1e6 / hz / (n > 0 ? n : 1) }')
  updates[$run]=$([[ $run == on-* ]] && grep -c '^event: update' "$WRK_OUT/live-$run.txt" || echo "-")
  log "$run: ${rps[$run]} req/s, p50 ${p50[$run]} ms, p99 ${p99[$run]} ms, console updates ${updates[$run]}"
done

{
  echo
  printf '%-8s %10s %8s %8s %10s %18s %16s %16s\n' run req/s "p50 ms" "p99 ms" non-2xx "Ingress CPU µs/req" "Redis CPU µs/req" "console updates"
  for run in off-1 on-1 on-2 off-2; do
    printf '%-8s %10.0f %8s %8s %10s %18s %16s %16s\n' "$run" "${rps[$run]}" "${p50[$run]}" "${p99[$run]}" "${non2xx[$run]}" \
      "${ingress_us[$run]}" "${redis_us[$run]}" "${updates[$run]}"
  done
  echo
  echo "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION on $path (campaign $campaign), ABBA after one warm-up."
  echo "Live SKUs in the view: $(redis-cli -p "$FLASHSALE_REDIS_PORT" scard fs:live-skus); load average now $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
} | tee "$WRK_OUT/summary.txt"
