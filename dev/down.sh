#!/usr/bin/env bash
# Stops what dev/up.sh started: every Ingress and Persister (dev/up.sh --ingress N --persisters M), the Kafka mock
# cluster, Redis (the single server or the cluster, whichever runs) and MariaDB.
#   --wipe   also deletes their data (.data/), so the next dev/up.sh starts from nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

for pidfile in "$FLASHSALE_RUN"/ingress*.pid "$FLASHSALE_RUN"/persister*.pid; do
  [ -f "$pidfile" ] || continue
  name=$(basename "$pidfile" .pid)
  stop_pidfile "$name" "$pidfile" 10
  rm -f "$FLASHSALE_RUN/$name.url"
done
bash dev/kafka.sh down
bash dev/services.sh down

if [ "${1:-}" = "--wipe" ]; then
  log "Deleting $FLASHSALE_DATA"
  rm -rf "$FLASHSALE_DATA"
fi
