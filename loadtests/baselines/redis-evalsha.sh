#!/usr/bin/env bash
# What one Redis core does with the engine's reservation script, against a trivial script:
# redis-benchmark, pipelined, runs
#   (i)   EVALSHA of a one-key script that INCRs a counter,
#   (ii)  EVALSHA of Engine/Redis/Scripts/reserve-many.lua with ONE request per call (the single-call engine,
#         Reservations:MaxBatch=1), on one SKU warmed with effectively unlimited stock and a high per-buyer limit;
#         buyer, Idempotency-Key and order number random per call (__rand_int__), so every call takes the created
#         path: check, decrement, the hash writes, one XADD;
#   (iii) the same script with BATCH requests per call (the coalesced engine's call; default 64),
# and prints the calls/s, the reservations/s and the ratios. (ii) is the ceiling one EVALSHA per buyer puts on one
# SKU (one hash tag, one Redis core) before any HTTP, token or .NET work: the coalesced engine must beat it.
# The script text is the engine's own, prelude included (`warmup script reserve-many.lua`).
#
# Runs against the dev Redis (FLASHSALE_REDIS_PORT, see dev/env.sh) in a database of its own (db 10 unless
# BENCH_DB says otherwise), touches only its own keys there, and deletes them afterwards. The engine's
# relay reads database 0 and never sees them.
#
#   bash loadtests/baselines/redis-evalsha.sh
#   REQUESTS=500000 CLIENTS=50 PIPELINE=32 BATCH=64 bash loadtests/baselines/redis-evalsha.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-16}
BATCH=${BATCH:-64}
BENCH_DB=${BENCH_DB:-10}
# Random buyers, keys and order numbers are drawn from this many values: collisions are negligible.
KEYSPACE=1000000000

command -v redis-benchmark >/dev/null || die "redis-benchmark is missing: bash dev/services.sh up installs redis-server, which brings it"
rcli() { redis-cli -p "$FLASHSALE_REDIS_PORT" -n "$BENCH_DB" "$@"; }
rcli ping >/dev/null 2>&1 || die "no Redis on 127.0.0.1:$FLASHSALE_REDIS_PORT: start it with bash dev/services.sh up"

# One SKU of a campaign of its own, with the engine's key layout (Engine/Redis/SkuKeys.cs): one hash tag.
tag="{lt-bench-evalsha:1}"
meta="fs:$tag:meta" idem="fs:$tag:idem" users="fs:$tag:users" ledger="fs:$tag:ledger" outbox="fs:$tag:outbox" pending="fs:$tag:pending"
coupons="fs:$tag:coupons"
counter="lt-bench-evalsha:counter"
keys=("$meta" "$idem" "$users" "$ledger" "$outbox" "$pending" "$coupons" "$counter")
if [ "$(rcli exists "${keys[@]}")" != "0" ]; then
  die "keys of an earlier run are still in db $BENCH_DB (${keys[*]}): delete them, or set BENCH_DB"
fi
cleanup() { rcli unlink "${keys[@]}" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Effectively unlimited stock, on sale from 1970 to 2100, 1,000 units per buyer (the most a campaign
# may allow), price 9.99, a 15-minute payment window: the fields warmup.lua writes.
stock=1000000000000000
rcli hset "$meta" total "$stock" available "$stock" starts 0 ends 4102444800000 limit 1000 price 999 window 900 gen 1 >/dev/null

warmup_dir="$FLASHSALE_ROOT/Warmup/bin/Release/net10.0"
[ -f "$warmup_dir/FlashSale.Warmup.dll" ] || dotnet build -c Release -v q "$FLASHSALE_ROOT/Warmup/Warmup.csproj" >/dev/null
script_text=$(cd "$warmup_dir" && DOTNET_ENVIRONMENT=Development dotnet FlashSale.Warmup.dll script reserve-many.lua)
trivial_sha=$(rcli script load "return redis.call('INCR', KEYS[1])")
reserve_sha=$(rcli script load "$script_text")

# bench NAME ARGS...: one redis-benchmark run; prints "rps p50 p99" from its CSV line.
bench() {
  redis-benchmark -p "$FLASHSALE_REDIS_PORT" --dbnum "$BENCH_DB" -n "$1" -c "$CLIENTS" -P "$PIPELINE" -r "$KEYSPACE" --csv "${@:2}" \
    | awk -F'","' 'NR == 2 { gsub(/"/, "", $2); gsub(/"/, "", $5); gsub(/"/, "", $7); print $2, $5, $7 }'
}
# One request's arguments: buyer, Idempotency-Key, quantity, order number, no coupon; every __rand_int__ is drawn on its own.
request=("__rand_int__" "k-__rand_int__" 1 "__rand_int__" "")
batch=()
for _ in $(seq 1 "$BATCH"); do batch+=("${request[@]}"); done
batch_calls=$((REQUESTS / BATCH))

log "redis-benchmark: $REQUESTS reservations each, $CLIENTS connections, pipeline $PIPELINE, Redis 127.0.0.1:$FLASHSALE_REDIS_PORT db $BENCH_DB"
read -r trivial_rps trivial_p50 trivial_p99 < <(bench "$REQUESTS" evalsha "$trivial_sha" 1 "$counter")
# KEYS: meta, idempotency, users, ledger, outbox, pending, coupons. ARGV: campaign, SKU, the position seen (0 0), then the requests.
read -r single_rps single_p50 single_p99 < <(bench "$REQUESTS" evalsha "$reserve_sha" 7 "$meta" "$idem" "$users" "$ledger" "$outbox" "$pending" "$coupons" \
  lt-bench-evalsha 1 0 0 "${request[@]}")
read -r batch_rps batch_p50 batch_p99 < <(PIPELINE=1 bench "$batch_calls" evalsha "$reserve_sha" 7 "$meta" "$idem" "$users" "$ledger" "$outbox" "$pending" "$coupons" \
  lt-bench-evalsha 1 0 0 "${batch[@]}")

# Every reservation must have taken the created path (a unit taken from stock), or the numbers measure refusals.
available=$(rcli hget "$meta" available)
created=$((stock - available))
expected=$((REQUESTS + batch_calls * BATCH))
[ "$created" -eq "$expected" ] || die "only $created of $expected reservations created an order: the benchmark did not measure the created path"

printf '\n%-46s %12s %14s %10s %10s\n' "script (EVALSHA, pipelined)" "calls/s" "reservations/s" "p50 ms" "p99 ms"
printf '%-46s %12s %14s %10s %10s\n' "----------------------------------------------" "------------" "--------------" "----------" "----------"
printf "%-46s %12.0f %14s %10s %10s\n" "trivial: INCR of one key" "$trivial_rps" "-" "$trivial_p50" "$trivial_p99"
printf "%-46s %12.0f %14.0f %10s %10s\n" "reserve-many.lua, 1 request per call" "$single_rps" "$single_rps" "$single_p50" "$single_p99"
printf "%-46s %12.0f %14.0f %10s %10s\n" "reserve-many.lua, $BATCH requests per call" "$batch_rps" "$(awk -v r="$batch_rps" -v b="$BATCH" 'BEGIN { print r * b }')" "$batch_p50" "$batch_p99"
awk -v t="$trivial_rps" -v r="$single_rps" 'BEGIN { printf "%-46s %11.2fx\n", "trivial calls ÷ single-request calls", t / r }'
awk -v s="$single_rps" -v r="$batch_rps" -v b="$BATCH" 'BEGIN { printf "%-46s %11.2fx\n", "reservations/s, batched ÷ single", r * b / s }'
echo
echo "$created units taken from stock, one per reservation; $(nproc) processors, load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "p50/p99 as redis-benchmark reports them: with a pipeline of $PIPELINE (batched calls: 1), each call also waits for its batch."
