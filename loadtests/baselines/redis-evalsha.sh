#!/usr/bin/env bash
# What one Redis core does with the engine's reservation script, against a trivial script:
# redis-benchmark, pipelined, runs
#   (i)  EVALSHA of a one-key script that INCRs a counter, and
#   (ii) EVALSHA of Engine/Redis/Scripts/reserve.lua on one SKU warmed with effectively unlimited stock
#        and a high per-buyer limit; buyer, Idempotency-Key and order number random per call (__rand_int__),
#        so every call takes the created path: check, decrement, three hash writes and an XADD.
# and prints both and the ratio. The ratio is the ceiling the Lua script puts on one SKU (one hash tag,
# one Redis core), before any HTTP, token or .NET work; compare with the engine's hot-sku throughput.
#
# Runs against the dev Redis (FLASHSALE_REDIS_PORT, see dev/env.sh) in a database of its own (db 10 unless
# BENCH_DB says otherwise), touches only its own keys there, and deletes them afterwards. The engine's
# relay reads database 0 and never sees them.
#
#   bash loadtests/baselines/redis-evalsha.sh
#   REQUESTS=500000 CLIENTS=50 PIPELINE=32 bash loadtests/baselines/redis-evalsha.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-16}
BENCH_DB=${BENCH_DB:-10}
# Random buyers, keys and order numbers are drawn from this many values: collisions are negligible.
KEYSPACE=1000000000

command -v redis-benchmark >/dev/null || die "redis-benchmark is missing: bash dev/services.sh up installs redis-server, which brings it"
rcli() { redis-cli -p "$FLASHSALE_REDIS_PORT" -n "$BENCH_DB" "$@"; }
rcli ping >/dev/null 2>&1 || die "no Redis on 127.0.0.1:$FLASHSALE_REDIS_PORT: start it with bash dev/services.sh up"

# One SKU of a campaign of its own, with the engine's key layout (Engine/Redis/SkuKeys.cs): one hash tag.
tag="{lt-bench-evalsha:1}"
meta="fs:$tag:meta" idem="fs:$tag:idem" users="fs:$tag:users" ledger="fs:$tag:ledger" outbox="fs:$tag:outbox"
counter="lt-bench-evalsha:counter"
keys=("$meta" "$idem" "$users" "$ledger" "$outbox" "$counter")
if [ "$(rcli exists "${keys[@]}")" != "0" ]; then
  die "keys of an earlier run are still in db $BENCH_DB (${keys[*]}): delete them, or set BENCH_DB"
fi
cleanup() { rcli unlink "${keys[@]}" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Effectively unlimited stock, on sale from 1970 to 2100, 1,000 units per buyer (the most a campaign
# may allow), price 9.99, a 15-minute payment window: the fields warmup.lua writes.
stock=1000000000000000
rcli hset "$meta" total "$stock" available "$stock" starts 0 ends 4102444800000 limit 1000 price 999 window 900 gen 1 >/dev/null

trivial_sha=$(rcli script load "return redis.call('INCR', KEYS[1])")
reserve_sha=$(rcli script load "$(cat "$FLASHSALE_ROOT/Engine/Redis/Scripts/reserve.lua")")

# bench NAME ARGS...: one redis-benchmark run; prints "rps p50 p99" from its CSV line.
bench() {
  redis-benchmark -p "$FLASHSALE_REDIS_PORT" --dbnum "$BENCH_DB" -n "$REQUESTS" -c "$CLIENTS" -P "$PIPELINE" -r "$KEYSPACE" --csv "$@" \
    | awk -F'","' 'NR == 2 { gsub(/"/, "", $2); gsub(/"/, "", $5); gsub(/"/, "", $7); print $2, $5, $7 }'
}

log "redis-benchmark: $REQUESTS requests each, $CLIENTS connections, pipeline $PIPELINE, Redis 127.0.0.1:$FLASHSALE_REDIS_PORT db $BENCH_DB"
read -r trivial_rps trivial_p50 trivial_p99 < <(bench evalsha "$trivial_sha" 1 "$counter")
# KEYS: meta, idempotency, users, ledger, outbox. ARGV: buyer, Idempotency-Key, quantity, order number, campaign, SKU.
read -r reserve_rps reserve_p50 reserve_p99 < <(bench evalsha "$reserve_sha" 5 "$meta" "$idem" "$users" "$ledger" "$outbox" \
  "__rand_int__" "k-__rand_int__" 1 "__rand_int__" lt-bench-evalsha 1)

# Every reservation call must have taken the created path (a unit taken from stock), or the numbers measure refusals.
available=$(rcli hget "$meta" available)
created=$((stock - available))
[ "$created" -eq "$REQUESTS" ] || die "only $created of $REQUESTS reservation calls created an order: the benchmark did not measure the created path"

printf '\n%-44s %12s %10s %10s\n' "script (EVALSHA, pipelined)" "calls/s" "p50 ms" "p99 ms"
printf '%-44s %12s %10s %10s\n' "--------------------------------------------" "------------" "----------" "----------"
printf "%-44s %12.0f %10s %10s\n" "trivial: INCR of one key" "$trivial_rps" "$trivial_p50" "$trivial_p99"
printf "%-44s %12.0f %10s %10s\n" "Engine/Redis/Scripts/reserve.lua (created)" "$reserve_rps" "$reserve_p50" "$reserve_p99"
awk -v t="$trivial_rps" -v r="$reserve_rps" 'BEGIN { printf "%-44s %11.2fx\n", "trivial ÷ reserve.lua", t / r }'
echo
echo "reserve.lua took $created units from stock, one per call; $(nproc) processors, load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "p50/p99 as redis-benchmark reports them: with a pipeline of $PIPELINE, each call also waits for its batch."
