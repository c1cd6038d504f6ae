#!/usr/bin/env bash
# Where MariaDB's CPU per persisted order goes: the Persister's transaction (Engine/Persistence/OrderBatchWriter.cs,
# replayed here as SQL text: the orders' multi-row INSERT IGNORE, the status-log and inventory-log rows and the counter
# and high-water rows derived from the inserted rows, COMMIT) sent to a scratch database with the shards' schema, whole
# and with parts left out, alternated. Per variant and round: mariadbd's utime + stime (/proc/<pid>/stat) over the
# load, divided by the orders. The client is the mariadb CLI (one statement per round trip, where the Persister sends a
# shard's transaction as one batch), so compare the variants with each other, not with http-ratios.sh's figures.
# Needs MariaDB from dev/services.sh (bash dev/up.sh); touches only the database flashsale_probe_orders, dropped at the end.
#   BATCHES (400) transactions per run, ROWS (150) orders per transaction (the Persister's at about 10,000 orders/s),
#   ROUNDS (2)
#   bash loadtests/baselines/mariadb-orders.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"
batches=${BATCHES:-400} rows=${ROWS:-150} rounds=${ROUNDS:-2}
sock="$FLASHSALE_RUN/mariadb.sock"
db=flashsale_probe_orders
sql() { mariadb --socket="$sock" -uroot "$@"; }
sql -e 'SELECT 1' >/dev/null 2>&1 || die "MariaDB does not answer on $sock: run bash dev/up.sh first"
pid=$(cat "$FLASHSALE_RUN/mariadb.pid")
work=$(mktemp -d)
trap 'rm -rf "$work"; sql -e "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

# transactions PARTS SEED COUNT: the SQL of COUNT transactions of $rows new orders. PARTS names what is sent besides the
# orders' INSERT: s (status log), i (inventory log), c (counter outbox), h (high-water mark).
transactions() {
  awk -v parts="$1" -v seed="$2" -v batches="$3" -v rows="$rows" 'BEGIN {
    srand(seed); order = int(rand() * 2^40) * 64
    for (b = 0; b < batches; b++) {
      batch = int(rand() * 2^52) + 1
      print "ROLLBACK;"; print "START TRANSACTION;"
      printf "INSERT IGNORE INTO orders (order_no, user_id, campaign_id, sku_id, quantity, amount, status, payment_deadline, idempotency_key, created_at, updated_at, batch_id, decision_seq, bucket, coupon_id, discount, coupon_seq) VALUES\n"
      for (r = 0; r < rows; r++) {
        order += 64
        printf "%s(%d,%d,\x27probe-campaign\x27,1,1,\x27199.00\x27,\x27PendingPayment\x27,\x272026-12-01 12:15:00.123\x27,\x27probe-key-%d\x27,\x272026-12-01 12:00:00.123\x27,UTC_TIMESTAMP(3),%d,%d,0,NULL,\x270.00\x27,0)",
          (r ? ",\n" : ""), order, int(rand() * 1000000) + 1, order, batch, order / 64
      }
      print ";"; print "SELECT ROW_COUNT();"
      if (parts ~ /s/) printf "INSERT IGNORE INTO order_status_log (order_no, from_status, to_status, reason, created_at) SELECT order_no, NULL, status, \x27reserved\x27, created_at FROM orders WHERE batch_id = %d;\n", batch
      if (parts ~ /i/) printf "INSERT IGNORE INTO inventory_log (order_no, campaign_id, sku_id, movement, quantity, created_at) SELECT order_no, campaign_id, sku_id, \x27reserve\x27, quantity, created_at FROM orders WHERE batch_id = %d;\n", batch
      if (parts ~ /c/) printf "INSERT INTO counter_outbox (campaign_id, sku_id, reserved, created_at) SELECT campaign_id, sku_id, SUM(quantity), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = %d GROUP BY campaign_id, sku_id;\n", batch
      if (parts ~ /h/) printf "INSERT INTO sku_high_water (campaign_id, sku_id, bucket, seq, updated_at) SELECT campaign_id, sku_id, bucket, MAX(decision_seq), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = %d GROUP BY campaign_id, sku_id, bucket ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq)), updated_at = VALUES(updated_at);\n", batch
      print "COMMIT;"
    }
  }'
}

# run NAME PARTS [INDEX...]: a fresh scratch database with the shards' schema (less the named indexes of orders), a
# warm-up, then the measured load; prints mariadbd's CPU per order.
run() {
  local name=$1 parts=$2 before after hz
  shift 2
  sql -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
  mariadb-dump --socket="$sock" -uroot --no-data flashsale_shard_0 | sql "$db"
  for index in "$@"; do sql "$db" -e "ALTER TABLE orders DROP INDEX $index"; done
  transactions "$parts" 1 20 | sql "$db" >/dev/null
  transactions "$parts" "$RANDOM" "$batches" >"$work/load.sql"
  sleep 1
  hz=$(getconf CLK_TCK)
  before=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
  sql "$db" <"$work/load.sql" >/dev/null
  after=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
  awk -v n="$name" -v t=$((after - before)) -v hz="$hz" -v orders=$((batches * rows)) \
    'BEGIN { printf "%-58s %8.1f\n", n, t * 1e6 / hz / orders }'
}

log "mariadbd CPU per order, $rounds rounds of $batches transactions of $rows orders each (load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-58s %8s\n' "variant" "µs/order"
for round in $(seq 1 "$rounds"); do
  run "the Persister's transaction" sich
  run "without the status-log and inventory-log rows" ch
  run "without the counter and high-water rows" si
  run "the orders' INSERT alone" ""
  run "the orders' INSERT alone, only the primary and batch indexes" "" \
    idx_orders_user idx_orders_sku_status idx_orders_status_deadline idx_orders_unreleased idx_orders_coupon
done
