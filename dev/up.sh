#!/usr/bin/env bash
# Brings the whole engine up on this machine and runs a demo sale:
#   Redis + MariaDB (installed with apt when missing), the Kafka mock cluster, the schema, a demo
#   campaign warmed into Redis, Ingress (with its outbox relay) and the Persister in the background. Idempotent: run it again at any time.
#   --ingress N      N Ingress processes (default 1): the first on FLASHSALE_INGRESS_URL, the others on ports the system
#                    picks (never one another's nor a Persister's), node ids 0..N-1
#   --persisters M   M Persisters (default 1), one Kafka consumer group: the first serves /metrics on FLASHSALE_PERSISTER_URL,
#                    the others on ports the system picks
#   FLASHSALE_REDIS_MODE=cluster dev/up.sh   the same on a local 3-master Redis Cluster (dev/services.sh)
# Running it again with fewer processes stops the extra ones. dev/down.sh stops everything this started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

ingresses=1 persisters=1
while [ $# -gt 0 ]; do
  case "$1" in
    --ingress) ingresses=${2:?--ingress needs a number}; shift ;;
    --ingress=*) ingresses=${1#--ingress=} ;;
    --persisters) persisters=${2:?--persisters needs a number}; shift ;;
    --persisters=*) persisters=${1#--persisters=} ;;
    *) die "unknown argument $1 (dev/up.sh [--ingress N] [--persisters M])" ;;
  esac
  shift
done
[[ "$ingresses" =~ ^[0-9]+$ ]] && [ "$ingresses" -ge 1 ] && [ "$ingresses" -le 64 ] \
  || die "--ingress is 1 to 64 (an Ingress's node id, 0-63, is in its order numbers)"
[[ "$persisters" =~ ^[0-9]+$ ]] && [ "$persisters" -ge 1 ] && [ "$persisters" -le 32 ] || die "--persisters is 1 to 32"

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
export ConnectionStrings__Redis="$(redis_connection)" ConnectionStrings__Catalog="$mysql;Database=flashsale_catalog" \
  Shards__ConnectionStrings__0="$mysql;Database=flashsale_shard_0" Shards__ConnectionStrings__1="$mysql;Database=flashsale_shard_1"

bin() { echo "$FLASHSALE_ROOT/$1/bin/Release/net10.0"; }
warmup() { (cd "$(bin Warmup)" && DOTNET_ENVIRONMENT=Development dotnet FlashSale.Warmup.dll "$@"); }

log "Applying the schema and importing the demo campaign"
warmup import "$FLASHSALE_ROOT/dev/demo-campaign.json"

# start NAME DIR DLL ARGS...: runs a host in the background unless its pid file names a live process. Extra environment
# for the host comes from the array `host_env` (NAME=value ...).
host_env=()
start() {
  local name=$1 dir=$2 dll=$3
  shift 3
  local pidfile="$FLASHSALE_RUN/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "$name already running (pid $(cat "$pidfile"))"
    return
  fi
  log "Starting $name (log: .run/$name.log)"
  rm -f "$FLASHSALE_RUN/$name.url"
  # exec keeps one process from the subshell to dotnet, so the pid file names the host itself.
  (cd "$dir" && exec env DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development "${host_env[@]}" \
    nohup dotnet "$dll" "$@" </dev/null >"$FLASHSALE_RUN/$name.log" 2>&1) &
  echo $! >"$pidfile"
}

# listening NAME: the URL the host said it listens on (Kestrel's "Now listening on:"), once it has; kept in .run/NAME.url.
listening() {
  local name=$1 url
  url=$(sed -n 's/.*Now listening on: \(http[^ ]*\).*/\1/p' "$FLASHSALE_RUN/$name.log" 2>/dev/null | head -1 | tr -d '\r')
  [ -n "$url" ] || return 1
  echo "$url" >"$FLASHSALE_RUN/$name.url"
  echo "$url"
}

# The extra hosts of an earlier, bigger dev/up.sh.
for pidfile in "$FLASHSALE_RUN"/ingress-*.pid "$FLASHSALE_RUN"/persister-*.pid; do
  [ -f "$pidfile" ] || continue
  name=$(basename "$pidfile" .pid)
  index=${name##*-} kind=${name%-*}
  limit=$([ "$kind" = ingress ] && echo "$ingresses" || echo "$persisters")
  if [ "$index" -gt "$limit" ]; then
    stop_pidfile "$name" "$pidfile" 10
    rm -f "$FLASHSALE_RUN/$name.url"
  fi
done

mkdir -p "$FLASHSALE_RUN"
ingress_names=() persister_names=()
for i in $(seq 1 "$ingresses"); do
  name=$([ "$i" = 1 ] && echo ingress || echo "ingress-$i")
  # Port 0: the system picks a free port, so no two hosts (nor a Persister's listener) can ever get the same one.
  url=$([ "$i" = 1 ] && echo "$FLASHSALE_INGRESS_URL" || echo "http://127.0.0.1:0")
  host_env=("Engine__NodeId=$((i - 1))")
  start "$name" "$(bin Ingress)" FlashSale.Ingress.dll --urls "$url"
  ingress_names+=("$name")
done
for i in $(seq 1 "$persisters"); do
  name=$([ "$i" = 1 ] && echo persister || echo "persister-$i")
  url=$([ "$i" = 1 ] && echo "$FLASHSALE_PERSISTER_URL" || echo "http://127.0.0.1:0")
  host_env=()
  start "$name" "$(bin Persister)" FlashSale.Persister.dll --Persister:MetricsUrl="$url"
  persister_names+=("$name")
done
for name in "${ingress_names[@]}" "${persister_names[@]}"; do
  wait_for "$name to listen (.run/$name.log)" 60 listening "$name"
  wait_for "$name at $(listening "$name")" 60 curl -fsS "$(listening "$name")/health/ready"
done

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
# What runs where, one line per process.
hosts_table() {
  local name kind url node
  printf '  %-13s %-8s %-28s %-8s %s\n' process pid listens "node id" log
  for name in "${ingress_names[@]}" "${persister_names[@]}"; do
    kind=${name%%-*}
    url=$(listening "$name")
    node=-
    if [ "$name" = ingress ]; then node=0; elif [ "$kind" = ingress ]; then node=$((${name#ingress-} - 1)); fi
    printf '  %-13s %-8s %-28s %-8s %s\n' "$name" "$(cat "$FLASHSALE_RUN/$name.pid")" "$url" "$node" ".run/$name.log"
  done
}
targets=""
for name in "${ingress_names[@]}"; do targets+=" --target $(listening "$name")"; done

cat <<INFO

FlashSale is up.
$(hosts_table)

  Ingress         $FLASHSALE_INGRESS_URL   (OpenAPI: $FLASHSALE_INGRESS_URL/openapi/v1.json, metrics: $FLASHSALE_INGRESS_URL/metrics)
  Persister       $FLASHSALE_PERSISTER_URL/metrics, $FLASHSALE_PERSISTER_URL/health/ready  (every Persister: consumer group flashsale-persister)
  Redis           $FLASHSALE_REDIS_MODE: $(redis_connection)
  MariaDB         127.0.0.1:$FLASHSALE_MYSQL_PORT  user $FLASHSALE_MYSQL_USER (dev-only password in dev/env.sh)
  Kafka           $Kafka__BootstrapServers  (librdkafka mock cluster; faults: see dev/KafkaMock/README.md)
  Shards          flashsale_shard_0, flashsale_shard_1  (orders appear there within a second)
  Logs            .run/<process>.log, .run/kafka-mock.log
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

Load over every Ingress:
  dotnet run -c Release --project loadtests -- hot-sku$targets

Stop everything: dev/down.sh
INFO
