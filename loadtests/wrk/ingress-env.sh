#!/usr/bin/env bash
# The Ingress's CPU per created reservation with and without extra runtime settings in its environment, alternated
# (A B A B ...) so that the machine's drift falls on both: before each run the Ingress is restarted (dev/up.sh) with or
# without the settings, then wrk sends the created path (every answer a 201, as in http-ratios.sh) for WRK_DURATION after
# a warm-up of WRK_WARMUP. The Ingress's CPU (utime + stime of its process) is read around the measured run only.
#   bash loadtests/wrk/ingress-env.sh DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 [NAME=VALUE ...]
#   PAIRS (4), WRK_CONNECTIONS (64), WRK_THREADS (2), WRK_DURATION (10s), WRK_WARMUP (5s), WRK_BUYERS (5000)
# Needs the engine up (bash dev/up.sh); restarts its Ingress, and leaves it running without the settings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"
source "$FLASHSALE_ROOT/loadtests/wrk/lib.sh"
cd "$FLASHSALE_ROOT"
[ $# -gt 0 ] || die "name the settings to try, e.g. DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"
settings=("$@")
pairs=${PAIRS:-4}
buyers=${WRK_BUYERS:-5000}
WRK_WARMUP=${WRK_WARMUP:-5s}

require_engine
WRK_OUT="$FLASHSALE_ROOT/loadtests/results/$(date -u +%Y%m%dT%H%M%SZ)-ingress-env"
mkdir -p "$WRK_OUT"
admin=$(harness tokens --admin)
harness tokens --buyers "$buyers" --first 1000 >"$WRK_OUT/tokens-created.txt"
campaign="env-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# A limit per buyer that 2 × PAIRS runs never reach at this machine's rates.
new_campaign "$campaign" 100000000 1000
path="/api/v1/campaigns/$campaign/skus/1/reservations"
log "Results in ${WRK_OUT#"$FLASHSALE_ROOT"/}; load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors"

# restart_ingress [NAME=VALUE ...]: the Ingress again, with these settings in its environment (and no others).
restart_ingress() {
  local pid
  pid=$(cat "$FLASHSALE_RUN/ingress.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  env "$@" bash dev/up.sh >"$WRK_OUT/up.log" 2>&1 || die "dev/up.sh failed: $(tail -5 "$WRK_OUT/up.log")"
}

# cpu_ticks: the Ingress's user + system CPU so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$FLASHSALE_RUN/ingress.pid")/stat"; }

printf '%-5s %-8s %9s %8s %8s %8s %20s\n' pair with req/s "p50 ms" "p99 ms" non-2xx "Ingress CPU µs/201" | tee "$WRK_OUT/summary.txt"
hz=$(getconf CLK_TCK)
for pair in $(seq 1 "$pairs"); do
  for with in no yes; do
    if [ "$with" = yes ]; then restart_ingress "${settings[@]}"; else restart_ingress; fi
    cp "$WRK_OUT/tokens-created.txt" "$WRK_OUT/tokens-run.txt"
    wrk_warmup run "$FLASHSALE_INGRESS_URL" "$path"
    before=$(cpu_ticks)
    wrk_run run "$FLASHSALE_INGRESS_URL" "$path"
    after=$(cpu_ticks)
    cpu=$(awk -v a="$before" -v b="$after" -v hz="$hz" -v n="$((R_REQUESTS - R_NON2XX))" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / (n > 0 ? n : 1) }')
    printf '%-5s %-8s %9s %8s %8s %8s %20s\n' "$pair" "$with" "$R_RPS" "$R_P50" "$R_P99" "$R_NON2XX" "$cpu" | tee -a "$WRK_OUT/summary.txt"
  done
done
restart_ingress
log "with = ${settings[*]}; the Ingress runs without them again. Load average now $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD)."
