#!/usr/bin/env bash
# The development/test Kafka: librdkafka's mock cluster (3 brokers) hosted by dev/KafkaMock in its
# own long-lived process. It writes its bootstrap servers to .run/kafka.bootstrap and its control
# URL (fault injection) to .run/kafka.control. No Kafka broker is installed; production points
# Kafka:BootstrapServers at a real cluster (see docker-compose.yml).
#   dev/kafka.sh up      build if its sources changed and start it (idempotent)
#   dev/kafka.sh down    stop it
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

pidfile="$FLASHSALE_RUN/kafka-mock.pid"
logfile="$FLASHSALE_RUN/kafka-mock.log"
dll="$FLASHSALE_ROOT/dev/KafkaMock/bin/Release/net10.0/FlashSale.KafkaMock.dll"
running() { alive "$pidfile"; }

# A source of the mock host, or of the Engine it references, changed since the dll was built (or there is none).
stale() {
  [ ! -f "$dll" ] && return 0
  [ -n "$(find dev/KafkaMock Engine Directory.Build.props Directory.Packages.props \
    \( -path '*/bin' -o -path '*/obj' \) -prune -o -type f -newer "$dll" -print -quit)" ]
}

# Waits for the bootstrap file; a mock that died on the way is reported at once, with the end of its log.
wait_for_mock() {
  for _ in $(seq 1 300); do
    [ -s "$FLASHSALE_RUN/kafka.bootstrap" ] && return 0
    if ! running; then
      tail -n 30 "$logfile" >&2 || true
      rm -f "$pidfile"
      die "the Kafka mock cluster exited during start-up (log above, in $logfile)"
    fi
    sleep 0.2
  done
  tail -n 30 "$logfile" >&2 || true
  die "the Kafka mock cluster did not come up within 60s (log above, in $logfile)"
}

case "${1:-up}" in
  up)
    if running && [ -f "$FLASHSALE_RUN/kafka.bootstrap" ]; then
      log "Kafka mock cluster already running at $(cat "$FLASHSALE_RUN/kafka.bootstrap")"
      exit 0
    fi
    mkdir -p "$FLASHSALE_RUN"
    if stale; then
      log "Building the Kafka mock host"
      dotnet build dev/KafkaMock/KafkaMock.csproj -c Release -nologo -v quiet -p:UseSharedCompilation=false
      # An up-to-date build writes nothing; the dll's time says "built from these sources" from now on.
      touch "$dll"
    fi
    rm -f "$FLASHSALE_RUN/kafka.bootstrap"
    log "Starting the Kafka mock cluster (log: .run/kafka-mock.log, control: $FLASHSALE_KAFKA_CONTROL_URL)"
    # exec keeps one process from the subshell to dotnet, so the pid file names the broker itself.
    (cd "$(dirname "$dll")" && exec nohup dotnet "$dll" --control-url "$FLASHSALE_KAFKA_CONTROL_URL" \
      </dev/null >"$logfile" 2>&1) &
    echo $! >"$pidfile"
    wait_for_mock
    log "Kafka mock cluster at $(cat "$FLASHSALE_RUN/kafka.bootstrap")"
    ;;
  down)
    stop_pidfile "the Kafka mock cluster" "$pidfile" 10
    ;;
  *)
    die "usage: $0 up|down"
    ;;
esac
