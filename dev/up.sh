#!/usr/bin/env bash
# Brings the whole engine up on this machine and runs a demo sale:
#   Redis + MariaDB (installed with apt when missing), the Kafka mock cluster, the schema, a demo
#   campaign warmed into Redis, Ingress (with its outbox relay) and the Persister in the background. Idempotent: run it again at any time.
# dev/down.sh stops everything this started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

command -v curl >/dev/null || {
  log "Installing curl (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
}

bash dev/services.sh up

log "Building (Release)"
dotnet build FlashSale.sln -c Release -nologo -v quiet -p:UseSharedCompilation=false
dotnet build-server shutdown >/dev/null 2>&1 || true
bash dev/kafka.sh up
export Kafka__BootstrapServers
Kafka__BootstrapServers=$(cat "$FLASHSALE_RUN/kafka.bootstrap")

# The hosts' and the CLI's Development settings name the default ports; these follow dev/env.sh's instead.
mysql="Server=127.0.0.1;Port=$FLASHSALE_MYSQL_PORT;User ID=$FLASHSALE_MYSQL_USER;Password=$FLASHSALE_MYSQL_PASSWORD"
export ConnectionStrings__Redis="127.0.0.1:$FLASHSALE_REDIS_PORT" ConnectionStrings__Catalog="$mysql;Database=flashsale_catalog" \
  Shards__ConnectionStrings__0="$mysql;Database=flashsale_shard_0" Shards__ConnectionStrings__1="$mysql;Database=flashsale_shard_1"

bin() { echo "$FLASHSALE_ROOT/$1/bin/Release/net10.0"; }
warmup() { (cd "$(bin Warmup)" && DOTNET_ENVIRONMENT=Development dotnet FlashSale.Warmup.dll "$@"); }

log "Applying the schema and importing the demo campaign"
warmup import "$FLASHSALE_ROOT/dev/demo-campaign.json"

# start NAME DIR DLL ARGS...: runs a host in the background unless its pid file names a live process.
start() {
  local name=$1 dir=$2 dll=$3
  shift 3
  local pidfile="$FLASHSALE_RUN/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "$name already running (pid $(cat "$pidfile"))"
    return
  fi
  log "Starting $name (log: .run/$name.log)"
  # exec keeps one process from the subshell to dotnet, so the pid file names the host itself.
  (cd "$dir" && DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development \
    exec nohup dotnet "$dll" "$@" </dev/null >"$FLASHSALE_RUN/$name.log" 2>&1) &
  echo $! >"$pidfile"
}

mkdir -p "$FLASHSALE_RUN"
start ingress "$(bin Ingress)" FlashSale.Ingress.dll --urls "$FLASHSALE_INGRESS_URL"
start persister "$(bin Persister)" FlashSale.Persister.dll --Persister:MetricsUrl="$FLASHSALE_PERSISTER_URL"
wait_for "Ingress at $FLASHSALE_INGRESS_URL" 60 curl -fsS "$FLASHSALE_INGRESS_URL/health/ready"

log "Warming the demo campaign's stock into Redis"
set +e
warmup load --campaign demo-2026
loaded=$?
set -e
case $loaded in
  0) ;;
  4) log "The demo campaign was already live: its stock and orders are kept (dev/down.sh --wipe starts over)" ;;
  *) die "loading the demo campaign failed (exit $loaded)" ;;
esac
warmup status --campaign demo-2026

admin_token=$(warmup token --user 1 --admin)
buyer_token=$(warmup token --user 42)
cat <<INFO

FlashSale is up.
  Ingress         $FLASHSALE_INGRESS_URL   (OpenAPI: $FLASHSALE_INGRESS_URL/openapi/v1.json, metrics: $FLASHSALE_INGRESS_URL/metrics)
  Persister       $FLASHSALE_PERSISTER_URL/metrics, $FLASHSALE_PERSISTER_URL/health/ready
  Redis           127.0.0.1:$FLASHSALE_REDIS_PORT
  MariaDB         127.0.0.1:$FLASHSALE_MYSQL_PORT  user $FLASHSALE_MYSQL_USER (dev-only password in dev/env.sh)
  Kafka           $Kafka__BootstrapServers  (librdkafka mock cluster; faults: see dev/KafkaMock/README.md)
  Shards          flashsale_shard_0, flashsale_shard_1  (orders appear there within a second)
  Logs            .run/ingress.log, .run/persister.log, .run/kafka-mock.log
  Demo campaign   demo-2026: SKU 1001 (100 units, 1 per buyer), SKU 1002 (1000 units, 2 per buyer)

Operator console (dev admin token in the fragment, which the browser never sends to a server):
  $FLASHSALE_INGRESS_URL/console#token=$admin_token

Dev-only tokens (12 h):
  ADMIN_TOKEN=$admin_token
  BUYER_TOKEN=$buyer_token

Reserve one unit as buyer 42:
  curl -i -X POST $FLASHSALE_INGRESS_URL/api/v1/campaigns/demo-2026/skus/1001/reservations \\
    -H "Authorization: Bearer $buyer_token" \\
    -H "Idempotency-Key: \$(uuidgen || date +%s%N)" -H 'Content-Type: application/json' -d '{"quantity":1}'

Stop everything: dev/down.sh
INFO
