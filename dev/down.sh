#!/usr/bin/env bash
# Stops what dev/up.sh started: Ingress, the Persister, the Kafka mock cluster, Redis and MariaDB.
#   --wipe   also deletes their data (.data/), so the next dev/up.sh starts from nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

for name in ingress persister; do
  stop_pidfile "$name" "$FLASHSALE_RUN/$name.pid" 10
done
bash dev/kafka.sh down
bash dev/services.sh down

if [ "${1:-}" = "--wipe" ]; then
  log "Deleting $FLASHSALE_DATA"
  rm -rf "$FLASHSALE_DATA"
fi
