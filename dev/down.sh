#!/usr/bin/env bash
# Stops what dev/up.sh started: Ingress, the Persister, the Kafka mock cluster, Redis and MariaDB.
#   --wipe   also deletes their data (.data/), so the next dev/up.sh starts from nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

for name in ingress persister; do
  pidfile="$FLASHSALE_RUN/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "Stopping $name"
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
done
bash dev/kafka.sh down
bash dev/services.sh down

if [ "${1:-}" = "--wipe" ]; then
  log "Deleting $FLASHSALE_DATA"
  rm -rf "$FLASHSALE_DATA"
fi
