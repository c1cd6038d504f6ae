#!/usr/bin/env bash
# Installs (with apt, when missing) and starts the Redis and MariaDB that FlashSale needs,
# as private instances on their own ports with their data under .data/ (git-ignored).
# Idempotent: services already running are left as they are.
#   dev/services.sh up     install if needed, start, create the dev database user
#   dev/services.sh down   stop what 'up' started
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

redis_ping() { redis-cli -p "$FLASHSALE_REDIS_PORT" ping | grep -q PONG; }

start_redis() {
  if redis_ping 2>/dev/null; then
    log "Redis already running on 127.0.0.1:$FLASHSALE_REDIS_PORT"
    return
  fi
  mkdir -p "$FLASHSALE_DATA/redis" "$FLASHSALE_RUN"
  log "Starting Redis on 127.0.0.1:$FLASHSALE_REDIS_PORT"
  # AOF with fsync every second: what a reservation store needs at the least; see README "Durability".
  redis-server --port "$FLASHSALE_REDIS_PORT" --bind 127.0.0.1 --dir "$FLASHSALE_DATA/redis" \
    --daemonize yes --pidfile "$FLASHSALE_RUN/redis.pid" --logfile "$FLASHSALE_RUN/redis.log" \
    --appendonly yes --appendfsync everysec --save "" --protected-mode yes
  wait_for "Redis" 15 redis_ping
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
  down)
    redis-cli -p "$FLASHSALE_REDIS_PORT" shutdown >/dev/null 2>&1 || true
    stop_pidfile Redis "$FLASHSALE_RUN/redis.pid" 20
    # InnoDB may flush for a while on a clean shutdown; SIGKILL only after a generous wait (it recovers from its redo log).
    stop_pidfile MariaDB "$FLASHSALE_RUN/mariadb.pid" 60
    ;;
  *)
    die "usage: $0 up|down"
    ;;
esac
