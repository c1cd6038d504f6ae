#!/usr/bin/env bash
# Redis bytes and CPU per reservation of the engine's reserve-many.lua and its keyspace (the buyer's count and keys in one
# field, the ledger in small hashes of about 48 orders) against the keyspace before it (loadtests/baselines/layout/
# reserve-before.lua: an idempotency hash beside the counts, the ledger in one hash), measured the same way, alternated:
# a private redis-server without persistence, one SKU with unlimited stock, redis-benchmark sending calls of BATCH
# requests, each request a new buyer (a random 12-digit id) with a 28-character Idempotency-Key and a 19-digit order
# number, so every request creates an order. Per variant and round:
#   µs per reservation   INFO commandstats' time inside EVALSHA (the script and the commands it calls) ÷ reservations
#   bytes per reservation  used_memory after the run, less before it, once the outbox stream and the pending marks
#                          (which the relay empties as Kafka confirms) are deleted, ÷ reservations
# Both scripts get the engine's prelude (`Warmup script reserve-many.lua`). Nothing here touches the dev engine.
# redis-benchmark can only draw random numbers, so a shim before each script (the same for both) swaps each call's order
# numbers for consecutive ones, as one Ingress hands them out (2^12 apart): a batch then writes one or two ledger
# shards, as the engine's do. The shim's INCRBY is in both variants' time.
#   MEASURE=instructions  counts, instead of time, the instructions Redis executes per reservation, under valgrind's
#                         callgrind (apt: valgrind): the same on every run, where this VM's time swings 2-3x between
#                         days; Redis runs about 50 times slower that way, so CALLS defaults to 200 and ROUNDS to 1. It
#                         counts everything Redis does for the calls, its network and argument parsing and the shim
#                         included (about 11,000 instructions per reservation of those three alone).
#                         Its bytes per reservation are not comparable (the first variant's differ): take them from a
#                         run that measures time.
#   COMPARE=<file>        measures another version of reserve-many.lua (with today's prelude and keyspace) in place of
#                         reserve-before.lua, e.g. an earlier commit's:
#                           git show 508fe81:Engine/Redis/Scripts/reserve-many.lua >/tmp/reserve-many.508fe81.lua
#                           COMPARE=/tmp/reserve-many.508fe81.lua MEASURE=instructions bash loadtests/baselines/redis-layout.sh
#   bash loadtests/baselines/redis-layout.sh
#   ROUNDS=3 CALLS=6000 BATCH=64 LAYOUT_PORT=6399 bash loadtests/baselines/redis-layout.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/env.sh"

MEASURE=${MEASURE:-time}
case "$MEASURE" in
  time) ROUNDS=${ROUNDS:-2} CALLS=${CALLS:-6000} ;;
  instructions) ROUNDS=${ROUNDS:-1} CALLS=${CALLS:-200} ;;
  *) die "MEASURE is time or instructions, not '$MEASURE'" ;;
esac
COMPARE=${COMPARE:-}
[ -z "$COMPARE" ] || [ -f "$COMPARE" ] || die "COMPARE names no file: $COMPARE"
BATCH=${BATCH:-64}
port=${LAYOUT_PORT:-6399}

[ "$MEASURE" = time ] || command -v callgrind_control >/dev/null || die "MEASURE=instructions needs valgrind: apt-get install valgrind"
command -v redis-benchmark >/dev/null || die "redis-benchmark is missing: bash dev/services.sh up installs redis-server, which brings it"
r() { redis-cli -p "$port" "$@"; }
! r ping >/dev/null 2>&1 || die "something already answers on port $port: set LAYOUT_PORT to a free one"

warmup_dir="$FLASHSALE_ROOT/Warmup/bin/Release/net10.0"
# Built each time: the prelude comes from the Warmup CLI, which embeds the scripts as they are now.
dotnet build -c Release -v q "$FLASHSALE_ROOT/Warmup/Warmup.csproj" >/dev/null
work=$(mktemp -d)
redis_pid=""
cleanup() {
  [ -z "$redis_pid" ] || r shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$warmup_dir" && DOTNET_ENVIRONMENT=Development dotnet FlashSale.Warmup.dll script reserve-many.lua) >"$work/warmup.lua"
# The prelude is everything before reserve-many.lua's own first line.
first_line=$(head -1 "$FLASHSALE_ROOT/Engine/Redis/Scripts/reserve-many.lua")
prelude_lines=$(grep -nF -- "$first_line" "$work/warmup.lua" | head -1 | cut -d: -f1)
[ -n "$prelude_lines" ] || die "could not find reserve-many.lua's text in the Warmup CLI's output"
shim='do
  local n = (#ARGV - 4) / 5
  local c = redis.call("INCRBY", "layout:orders", n) - n
  for i = 1, n do
    ARGV[5 * i + 3] = "25160470" .. string.format("%011d", (c + i) * 4096)
  end
end'
# The variants: the engine's script, and the one it is compared with (the keyspace before it, or COMPARE's file).
other=before
[ -z "$COMPARE" ] || other=compare
for variant in engine "$other"; do
  case "$variant" in
    engine) script="$FLASHSALE_ROOT/Engine/Redis/Scripts/reserve-many.lua" ;;
    before) script="$FLASHSALE_ROOT/loadtests/baselines/layout/reserve-before.lua" ;;
    compare) script="$COMPARE" ;;
  esac
  { head -n $((prelude_lines - 1)) "$work/warmup.lua"; echo "$shim"; cat "$script"; } >"$work/$variant.lua"
done

redis_args=(--port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --pidfile "$work/redis.pid" --logfile "$work/redis.log")
if [ "$MEASURE" = time ]; then
  redis-server "${redis_args[@]}" --daemonize yes >/dev/null
  wait_for "the private Redis on port $port" 10 redis-cli -p "$port" ping
else
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.%p" redis-server "${redis_args[@]}" >/dev/null 2>"$work/valgrind.log" &
  wait_for "the private Redis on port $port, under callgrind" 120 redis-cli -p "$port" ping
fi
redis_pid=$(cat "$work/redis.pid")

request=("__rand_int__" "lt-6c6a2b9e263c-__rand_int__" 1 "2516047__rand_int__" "")
batch=()
for _ in $(seq 1 "$BATCH"); do batch+=("${request[@]}"); done
stock=1000000000000000
tag="{layout:1}"
meta="fs:$tag:meta"

log "$ROUNDS rounds of $CALLS calls of $BATCH requests per variant, private Redis on port $port ($(redis-server --version | grep -o 'v=[0-9.]*'))"
cost="µs per reservation"
[ "$MEASURE" = time ] || cost="instructions per reservation"
printf '\n%-6s %-22s %28s %22s %12s %8s\n' round variant "$cost" "bytes per reservation" reservations keys
for round in $(seq 1 "$ROUNDS"); do
  for variant in engine "$other"; do
    r flushall >/dev/null
    r script flush >/dev/null
    r hset "$meta" total "$stock" available "$stock" starts 0 ends 4102444800000 limit 1000 price 999 window 900 gen 1 >/dev/null
    # The engine's first load splits the ledger by the stock it loads (warmup.lua): here, the reservations the run makes.
    [ "$variant" = before ] || r hset "$meta" shards $(((CALLS * BATCH + 47) / 48)) >/dev/null
    sha=$(r script load "$(cat "$work/$variant.lua")")
    used_before=$(r info memory | tr -d '\r' | awk -F: '/^used_memory:/ { print $2 }')
    keys=(1 "$meta" "fs:$tag:users" "fs:$tag:ledger" "fs:$tag:outbox" "fs:$tag:pending" "fs:$tag:coupons")
    [ "$variant" != before ] || keys=(1 "$meta" "fs:$tag:idem" "fs:$tag:users" "fs:$tag:ledger" "fs:$tag:outbox" "fs:$tag:pending" "fs:$tag:coupons")
    keys[0]=$((${#keys[@]} - 1))
    r config resetstat >/dev/null
    [ "$MEASURE" = time ] || callgrind_control --zero "$redis_pid" >/dev/null 2>&1
    redis-benchmark -p "$port" -n "$CALLS" -c 8 -P 1 -r 1000000000 -q evalsha "$sha" "${keys[@]}" layout 1 0 0 "${batch[@]}" >/dev/null
    if [ "$MEASURE" = time ]; then
      spent=$(r info commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_evalsha:/ { print $5 }')
    else
      # The counts since the zeroing, written to a new file: its "summary:" line is the instructions executed.
      rm -f "$work"/callgrind.*.*
      callgrind_control --dump "$redis_pid" >/dev/null 2>&1
      wait_for "callgrind's dump" 30 compgen -G "$work/callgrind.*.*"
      spent=$(awk '/^(summary|totals):/ { print $2; exit }' "$work"/callgrind.*.*)
    fi
    r del "fs:$tag:outbox" "fs:$tag:pending" >/dev/null
    used_after=$(r info memory | tr -d '\r' | awk -F: '/^used_memory:/ { print $2 }')
    created=$((stock - $(r hget "$meta" available)))
    [ "$created" -eq $((CALLS * BATCH)) ] || die "$variant created $created orders of $((CALLS * BATCH)): it did not measure the created path"
    case "$variant" in
      engine) name=reserve-many.lua ;;
      before) name=reserve-before.lua ;;
      compare) name=$(basename "$COMPARE") ;;
    esac
    printf '%-6s %-22s %28s %22s %12s %8s\n' "$round" "$name" \
      "$(awk -v u="$spent" -v n="$created" -v m="$MEASURE" 'BEGIN { printf (m == "time" ? "%.2f" : "%.0f"), u / n }')" \
      "$(awk -v a="$used_before" -v b="$used_after" -v n="$created" 'BEGIN { printf "%.0f", (b - a) / n }')" "$created" "$(r dbsize)"
  done
done
echo
echo "$(nproc) processors, load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$FLASHSALE_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')."
