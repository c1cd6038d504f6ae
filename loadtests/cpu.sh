#!/usr/bin/env bash
# CPU the engine spends per operation: utime + stime (/proc/<pid>/stat fields 14 and 15) of every engine
# process dev/up.sh started — Ingress, Persister, redis-server, mariadbd, the Kafka mock's host — before a
# command and again once the pipeline has drained, divided by the reservations it created.
#
#   bash loadtests/cpu.sh [--created N] [--drain-timeout S] -- COMMAND [ARGS...]
#
# Drained means the Persister inserted as many order rows since the start as were created (its
# flashsale_persister_rows_total{result="inserted"} counter) and its consumer lag is 0. Without --created the
# count is the rows the Persister inserted meanwhile, taken once its lag stayed 0 for two readings a second apart.
# Sourced (as loadtests/wrk/http-ratios.sh does), it only defines the functions.

ENGINE_PROCESSES=(ingress persister redis mariadb kafka-mock)

# engine_pids: "name pid" for each engine process whose pid file names a live process.
engine_pids() {
  local name pid
  for name in "${ENGINE_PROCESSES[@]}"; do
    pid=$(cat "$FLASHSALE_RUN/$name.pid" 2>/dev/null) || continue
    [ -r "/proc/$pid/stat" ] && echo "$name $pid"
  done
}

# cpu_ticks PID: utime + stime in clock ticks. The fields are counted after the ")" that ends the command
# name, which may itself contain spaces.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# cpu_snapshot: "name ticks" per engine process, on stdout.
cpu_snapshot() {
  local name pid
  while read -r name pid; do
    echo "$name $(cpu_ticks "$pid")"
  done < <(engine_pids)
}

# persister_metric REGEX: the sum of the Persister's Prometheus samples whose line matches REGEX.
persister_metric() {
  curl -fsS --max-time 5 "$FLASHSALE_PERSISTER_URL/metrics" | grep -E "$1" | awk '{ s += $NF } END { printf "%d\n", s }'
}

inserted_rows() { persister_metric '^flashsale_persister_rows_total\{.*result="inserted"'; }
consumer_lag() { persister_metric '^flashsale_persister_consumer_lag(\{| )'; }

# wait_drained ROWS_BEFORE CREATED TIMEOUT_S [POLL_S]: until the Persister inserted CREATED rows since ROWS_BEFORE and
# its lag is 0 (CREATED empty: until the lag read 0 twice, POLL_S apart). Reads the Persister's metrics every POLL_S
# seconds (1 by default). Prints the rows inserted since ROWS_BEFORE.
wait_drained() {
  local before=$1 created=$2 timeout=${3:-120} poll=${4:-1} deadline rows lag zero=0
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    rows=$(( $(inserted_rows) - before ))
    lag=$(consumer_lag)
    if [ -n "$created" ]; then
      if [ "$rows" -ge "$created" ] && [ "$lag" -eq 0 ]; then break; fi
    else
      if [ "$lag" -eq 0 ]; then zero=$((zero + 1)); else zero=0; fi
      if [ "$zero" -ge 2 ]; then break; fi
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "the pipeline did not drain within ${timeout}s: $rows rows inserted${created:+ of $created}, consumer lag $lag" >&2
      echo "$rows"
      return 1
    fi
    sleep "$poll"
  done
  echo "$rows"
}

# cpu_report BEFORE_FILE AFTER_FILE OPERATIONS LABEL: a line per process and the total, in ms and µs per operation.
cpu_report() {
  local hz
  hz=$(getconf CLK_TCK)
  awk -v hz="$hz" -v ops="$3" -v label="$4" '
    NR == FNR { before[$1] = $2; next }
    $1 in before {
      ms = ($2 - before[$1]) * 1000 / hz; total += ms
      printf "  %-12s %10.0f ms CPU %12.1f µs per %s\n", $1, ms, (ops > 0 ? ms * 1000 / ops : 0), label
    }
    END { printf "  %-12s %10.0f ms CPU %12.1f µs per %s (%d %s)\n", "engine", total, (ops > 0 ? total * 1000 / ops : 0), label, ops, label }
  ' "$1" "$2"
}

# cpu_per_op BEFORE_FILE AFTER_FILE OPERATIONS: the engine's total µs per operation, a number.
cpu_per_op() {
  awk -v hz="$(getconf CLK_TCK)" -v ops="$3" '
    NR == FNR { before[$1] = $2; next }
    $1 in before { total += ($2 - before[$1]) * 1e6 / hz }
    END { printf "%.1f\n", (ops > 0 ? total / ops : 0) }
  ' "$1" "$2"
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  return 0
fi

set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../dev/env.sh"
created="" drain_timeout=120
while [ $# -gt 0 ]; do
  case "$1" in
    --created) created=${2:?--created needs a number}; shift 2 ;;
    --drain-timeout) drain_timeout=${2:?--drain-timeout needs seconds}; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option $1 (usage: loadtests/cpu.sh [--created N] [--drain-timeout S] -- COMMAND...)" ;;
  esac
done
[ $# -gt 0 ] || die "usage: loadtests/cpu.sh [--created N] [--drain-timeout S] -- COMMAND..."
[ -n "$(engine_pids)" ] || die "no engine process found from the pid files in $FLASHSALE_RUN: run dev/up.sh first"
curl -fsS --max-time 5 "$FLASHSALE_PERSISTER_URL/metrics" >/dev/null || die "the Persister's metrics at $FLASHSALE_PERSISTER_URL/metrics do not answer"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows_before=$(inserted_rows)
cpu_snapshot >"$work/before"
"$@"
log "Waiting for the pipeline to drain"
rows=$(wait_drained "$rows_before" "$created" "$drain_timeout")
cpu_snapshot >"$work/after"
log "Engine CPU from the start of the command until the pipeline drained (load average now $(cut -d' ' -f1-3 /proc/loadavg)):"
cpu_report "$work/before" "$work/after" "${created:-$rows}" "created"
