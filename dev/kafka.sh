#!/usr/bin/env bash
# The development/test Kafka: librdkafka's mock cluster (3 brokers) hosted by dev/KafkaMock in its
# own long-lived process. It writes its bootstrap servers to .run/kafka.bootstrap and its control
# URL (fault injection) to .run/kafka.control. No Kafka broker is installed; production points
# Kafka:BootstrapServers at a real cluster (see docker-compose.yml).
#   dev/kafka.sh up      build if needed and start it (idempotent)
#   dev/kafka.sh down    stop it
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

pidfile="$FLASHSALE_RUN/kafka-mock.pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-up}" in
  up)
    if running && [ -f "$FLASHSALE_RUN/kafka.bootstrap" ]; then
      log "Kafka mock cluster already running at $(cat "$FLASHSALE_RUN/kafka.bootstrap")"
      exit 0
    fi
    mkdir -p "$FLASHSALE_RUN"
    dll="$FLASHSALE_ROOT/dev/KafkaMock/bin/Release/net10.0/FlashSale.KafkaMock.dll"
    if [ ! -f "$dll" ]; then
      log "Building the Kafka mock host"
      dotnet build dev/KafkaMock/KafkaMock.csproj -c Release -nologo -v quiet -p:UseSharedCompilation=false
    fi
    rm -f "$FLASHSALE_RUN/kafka.bootstrap"
    log "Starting the Kafka mock cluster (log: .run/kafka-mock.log)"
    # exec keeps one process from the subshell to dotnet, so the pid file names the broker itself.
    (cd "$(dirname "$dll")" && exec nohup dotnet "$dll" --control-url "${FLASHSALE_KAFKA_CONTROL_URL:-http://127.0.0.1:9644}" \
      </dev/null >"$FLASHSALE_RUN/kafka-mock.log" 2>&1) &
    echo $! >"$pidfile"
    wait_for "the Kafka mock cluster" 60 test -s "$FLASHSALE_RUN/kafka.bootstrap"
    log "Kafka mock cluster at $(cat "$FLASHSALE_RUN/kafka.bootstrap")"
    ;;
  down)
    if running; then
      log "Stopping the Kafka mock cluster"
      kill "$(cat "$pidfile")"
      for _ in $(seq 1 50); do running || break; sleep 0.2; done
    fi
    rm -f "$pidfile"
    ;;
  *)
    die "usage: $0 up|down"
    ;;
esac
