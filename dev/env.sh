# Shared settings of the local dev/test services. Sourced by the other dev scripts.
# DEVELOPMENT ONLY: these ports and passwords are for a single developer machine or CI run.
FLASHSALE_ROOT=${FLASHSALE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
FLASHSALE_DATA=${FLASHSALE_DATA:-$FLASHSALE_ROOT/.data}
FLASHSALE_RUN=${FLASHSALE_RUN:-$FLASHSALE_ROOT/.run}
FLASHSALE_REDIS_PORT=${FLASHSALE_REDIS_PORT:-6380}
# single: one redis-server on FLASHSALE_REDIS_PORT. cluster: a 3-master Redis Cluster on FLASHSALE_REDIS_PORT and the
# next two ports (cluster bus on each port + 10000). Both use the same ports, so only one of them runs at a time.
FLASHSALE_REDIS_MODE=${FLASHSALE_REDIS_MODE:-single}
FLASHSALE_MYSQL_PORT=${FLASHSALE_MYSQL_PORT:-3307}
FLASHSALE_MYSQL_USER=${FLASHSALE_MYSQL_USER:-flashsale}
FLASHSALE_MYSQL_PASSWORD=${FLASHSALE_MYSQL_PASSWORD:-flashsale-dev-only}
FLASHSALE_INGRESS_URL=${FLASHSALE_INGRESS_URL:-http://127.0.0.1:5080}
# The Persister's /metrics and /health listener.
FLASHSALE_PERSISTER_URL=${FLASHSALE_PERSISTER_URL:-http://127.0.0.1:5081}
# The Kafka mock's control API (fault injection). Its brokers take free ports and write them to .run/kafka.bootstrap.
FLASHSALE_KAFKA_CONTROL_URL=${FLASHSALE_KAFKA_CONTROL_URL:-http://127.0.0.1:9644}
# Every port and URL the scripts use is above: a second copy of the repository runs beside the first when each
# of these is set to another value in its shell (its .data/ and .run/ are its own already).
export FLASHSALE_ROOT FLASHSALE_DATA FLASHSALE_RUN FLASHSALE_REDIS_PORT FLASHSALE_REDIS_MODE FLASHSALE_MYSQL_PORT \
  FLASHSALE_MYSQL_USER FLASHSALE_MYSQL_PASSWORD FLASHSALE_INGRESS_URL FLASHSALE_PERSISTER_URL FLASHSALE_KAFKA_CONTROL_URL
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

case "$FLASHSALE_REDIS_MODE" in
  single | cluster) ;;
  *) printf 'error: FLASHSALE_REDIS_MODE is "%s"; it is single or cluster\n' "$FLASHSALE_REDIS_MODE" >&2; exit 2 ;;
esac

# The Redis ports of the mode (the cluster's three masters: the port and the next two).
redis_ports() {
  if [ "$FLASHSALE_REDIS_MODE" = cluster ]; then
    echo "$FLASHSALE_REDIS_PORT" $((FLASHSALE_REDIS_PORT + 1)) $((FLASHSALE_REDIS_PORT + 2))
  else
    echo "$FLASHSALE_REDIS_PORT"
  fi
}

# The engine's ConnectionStrings:Redis for the mode: StackExchange.Redis finds a cluster's other nodes from any one,
# every master is named so that it connects while one of them is down.
redis_connection() {
  local endpoints=() port
  for port in $(redis_ports); do endpoints+=("127.0.0.1:$port"); done
  (IFS=,; echo "${endpoints[*]}")
}

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# wait_for "what" seconds command...: polls until the command succeeds.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not come up within ${seconds}s"
}

# alive pidfile: true when the pid file names a running process.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile "what" pidfile [seconds]: SIGTERM to the process the pid file names, up to `seconds` (default 20)
# for it to exit, then SIGKILL; removes the pid file. A process that ignores SIGTERM (stuck in a flush, a
# debugger) cannot keep a script waiting for ever.
stop_pidfile() {
  local what=$1 file=$2 seconds=${3:-20}
  if alive "$file"; then
    local pid
    pid=$(cat "$file")
    log "Stopping $what (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((seconds * 5))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$what did not stop within ${seconds}s: SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
      for _ in $(seq 1 25); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
    fi
  fi
  rm -f "$file"
}
