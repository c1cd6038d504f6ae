#!/usr/bin/env bash
# Installs (with apt, when missing) and starts the Redis and MariaDB that FlashSale needs,
# as private instances on their own ports with their data under .data/ (git-ignored).
# Idempotent: services already running are left as they are.
#   dev/services.sh up           install if needed, start, create the dev database user
#   dev/services.sh down         stop what 'up' started (Redis in either mode, MariaDB)
#   dev/services.sh redis-up     start only Redis, in FLASHSALE_REDIS_MODE (dev/test.sh switches modes with these)
#   dev/services.sh redis-down   stop only Redis, whichever mode runs
# FLASHSALE_REDIS_MODE=cluster starts a 3-master Redis Cluster instead of one server: three redis-server with
# --cluster-enabled on FLASHSALE_REDIS_PORT and the next two ports (cluster bus: each port + 10000), AOF on, data
# under .data/redis-cluster/<port>, joined once with redis-cli --cluster create. Same ports as the single server,
# so one mode must be stopped before the other starts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

install_missing() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v mariadbd >/dev/null || missing+=(mariadb-server mariadb-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing ${missing[*]} (apt)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

redis_ping() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }

# cluster_enabled of the Redis on a port: 1 (a cluster node), 0 (a single server), empty when nothing answers.
redis_cluster_enabled() { redis-cli -p "$1" info cluster 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_enabled://p'; }

start_redis() {
  if [ "$FLASHSALE_REDIS_MODE" = cluster ]; then
    start_redis_cluster
  else
    start_redis_single
  fi
}

start_redis_single() {
  case "$(redis_cluster_enabled "$FLASHSALE_REDIS_PORT")" in
    0) log "Redis already running on 127.0.0.1:$FLASHSALE_REDIS_PORT"; return ;;
    1) die "a Redis Cluster node runs on 127.0.0.1:$FLASHSALE_REDIS_PORT: stop it first (dev/services.sh redis-down)" ;;
  esac
  mkdir -p "$FLASHSALE_DATA/redis" "$FLASHSALE_RUN"
  log "Starting Redis on 127.0.0.1:$FLASHSALE_REDIS_PORT"
  # AOF with fsync every second: what a reservation store needs at the least; see README "Durability".
  redis-server --port "$FLASHSALE_REDIS_PORT" --bind 127.0.0.1 --dir "$FLASHSALE_DATA/redis" \
    --daemonize yes --pidfile "$FLASHSALE_RUN/redis.pid" --logfile "$FLASHSALE_RUN/redis.log" \
    --appendonly yes --appendfsync everysec --save "" --protected-mode yes
  wait_for "Redis" 15 redis_ping "$FLASHSALE_REDIS_PORT"
}

# Every node answers cluster_state:ok and knows the other two: the slots are assigned and the nodes agree.
cluster_ok() {
  local port
  for port in $(redis_ports); do
    redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | grep -q '^cluster_state:ok$' || return 1
    [ "$(redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" -ge 3 ] || return 1
  done
}

start_redis_cluster() {
  local port ports
  read -r -a ports <<<"$(redis_ports)"
  for port in "${ports[@]}"; do
    case "$(redis_cluster_enabled "$port")" in
      1) continue ;;
      0) die "a single Redis runs on 127.0.0.1:$port: stop it first (dev/services.sh redis-down)" ;;
    esac
    mkdir -p "$FLASHSALE_DATA/redis-cluster/$port" "$FLASHSALE_RUN"
    log "Starting Redis Cluster node 127.0.0.1:$port (bus $((port + 10000)))"
    # nodes.conf (the node's id, its peers and slots) lives beside its AOF, so a restarted node rejoins as itself.
    redis-server --port "$port" --bind 127.0.0.1 --dir "$FLASHSALE_DATA/redis-cluster/$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf \
      --daemonize yes --pidfile "$FLASHSALE_RUN/redis-$port.pid" --logfile "$FLASHSALE_RUN/redis-$port.log" \
      --appendonly yes --appendfsync everysec --save "" --protected-mode yes
    wait_for "Redis on 127.0.0.1:$port" 15 redis_ping "$port"
  done
  if ! redis-cli -p "${ports[0]}" cluster info 2>/dev/null | tr -d '\r' | grep -q '^cluster_slots_assigned:16384$'; then
    log "Joining ${ports[*]} into a Redis Cluster of 3 masters, no replicas"
    redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes \
      >"$FLASHSALE_RUN/redis-cluster-create.log" 2>&1 \
      || die "redis-cli --cluster create failed (see $FLASHSALE_RUN/redis-cluster-create.log; dev/down.sh --wipe starts from nothing)"
  fi
  wait_for "the Redis Cluster (cluster_state:ok on every node)" 30 cluster_ok
  log "Redis Cluster on 127.0.0.1:${ports[*]}"
}

# Stops the Redis of either mode that these scripts started on these ports.
stop_redis() {
  local port
  redis-cli -p "$FLASHSALE_REDIS_PORT" shutdown >/dev/null 2>&1 || true
  stop_pidfile Redis "$FLASHSALE_RUN/redis.pid" 20
  for port in "$FLASHSALE_REDIS_PORT" $((FLASHSALE_REDIS_PORT + 1)) $((FLASHSALE_REDIS_PORT + 2)); do
    # Only nodes this checkout started: the ports next to a single server may be another copy's.
    [ -f "$FLASHSALE_RUN/redis-$port.pid" ] || continue
    redis-cli -p "$port" shutdown >/dev/null 2>&1 || true
    stop_pidfile "Redis Cluster node $port" "$FLASHSALE_RUN/redis-$port.pid" 20
  done
}

mysql_root() { mariadb --socket="$FLASHSALE_RUN/mariadb.sock" -uroot "$@"; }

start_mariadb() {
  if mariadb-admin --socket="$FLASHSALE_RUN/mariadb.sock" -uroot ping >/dev/null 2>&1; then
    log "MariaDB already running on 127.0.0.1:$FLASHSALE_MYSQL_PORT"
  else
    mkdir -p "$FLASHSALE_DATA" "$FLASHSALE_RUN"
    if [ ! -d "$FLASHSALE_DATA/mariadb/mysql" ]; then
      log "Initialising MariaDB data in $FLASHSALE_DATA/mariadb"
      mariadb-install-db --datadir="$FLASHSALE_DATA/mariadb" --user="$(id -un)" \
        --auth-root-authentication-method=socket --skip-test-db >"$FLASHSALE_RUN/mariadb-install.log" 2>&1 \
        || die "mariadb-install-db failed; see $FLASHSALE_RUN/mariadb-install.log"
    fi
    log "Starting MariaDB on 127.0.0.1:$FLASHSALE_MYSQL_PORT"
    # innodb_flush_log_at_trx_commit stays 1 (durable commits): the persister's batching is what
    # makes writes fast, not a relaxed fsync.
    setsid nohup mariadbd --no-defaults --datadir="$FLASHSALE_DATA/mariadb" --user="$(id -un)" \
      --socket="$FLASHSALE_RUN/mariadb.sock" --port="$FLASHSALE_MYSQL_PORT" --bind-address=127.0.0.1 \
      --pid-file="$FLASHSALE_RUN/mariadb.pid" --log-error="$FLASHSALE_RUN/mariadb.log" \
      --skip-name-resolve --max-connections=500 --innodb-buffer-pool-size=512M \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_bin </dev/null >/dev/null 2>&1 &
    wait_for "MariaDB" 60 mariadb-admin --socket="$FLASHSALE_RUN/mariadb.sock" -uroot ping
  fi
  mysql_root <<SQL
CREATE USER IF NOT EXISTS '$FLASHSALE_MYSQL_USER'@'%' IDENTIFIED BY '$FLASHSALE_MYSQL_PASSWORD';
CREATE USER IF NOT EXISTS '$FLASHSALE_MYSQL_USER'@'localhost' IDENTIFIED BY '$FLASHSALE_MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON \`flashsale%\`.* TO '$FLASHSALE_MYSQL_USER'@'%';
GRANT ALL PRIVILEGES ON \`flashsale%\`.* TO '$FLASHSALE_MYSQL_USER'@'localhost';
SQL
}

case "${1:-up}" in
  up)
    install_missing
    start_redis
    start_mariadb
    ;;
  redis-up)
    install_missing
    start_redis
    ;;
  redis-down)
    stop_redis
    ;;
  down)
    stop_redis
    # InnoDB may flush for a while on a clean shutdown; SIGKILL only after a generous wait (it recovers from its redo log).
    stop_pidfile MariaDB "$FLASHSALE_RUN/mariadb.pid" 60
    ;;
  *)
    die "usage: $0 up|down|redis-up|redis-down"
    ;;
esac
