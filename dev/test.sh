#!/usr/bin/env bash
# Runs every test against real services: installs and starts Redis and MariaDB (dev/services.sh)
# and the Kafka mock cluster (dev/kafka.sh) when needed, runs the test suite, and ends with one
# line "N passed, N failed".
#
# Two passes: the whole suite on one Redis server, then the cluster subset (the tests marked
# [Trait("Cluster", "yes")]: pipeline, lifecycle, reconciler, crash, rollback and several-process tests, and the
# reservation scripts; "only": the tests that start a private cluster of their own, run in this pass alone) on a
# local 3-master Redis Cluster on the same ports: the single server is stopped for it (and started again afterwards
# unless CI is about to stop everything). The last line sums both passes.
#   --fast          only the unit and in-process tests (not those marked [Trait("Category", "Slow")]: engine
#                   processes, Kafka, the load-test harness, real waits); builds only the test project, no
#                   Kafka, no cluster pass.
#   --single-only   no cluster pass.
#   FLASHSALE_REDIS_MODE=cluster dev/test.sh   one pass, everything selected, on the cluster.
# Other arguments go to 'dotnet test' (e.g. --filter Reservation; with --fast both filters apply, and the
# cluster pass runs the tests the filter selects among the cluster subset).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$FLASHSALE_ROOT"

fast=0 single_only=0 filter="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1 ;;
    --single-only) single_only=1 ;;
    --filter) filter=${2:?--filter needs an expression}; shift ;;
    --filter=*) filter=${1#--filter=} ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ "$fast" = 1 ]; then
  filter=${filter:+($filter)&}"Category!=Slow"
fi
# [Trait("Cluster", "yes")] runs in both passes; "only" (tests with a private cluster of their own) in the cluster pass alone.
single_filter=${filter:+($filter)&}"Cluster!=only"
cluster_filter=${filter:+($filter)&}"(Cluster=yes|Cluster=only)"

# The cluster subset after the whole suite: not with --fast or --single-only, nor when the whole run is on the cluster.
cluster_pass=1
if [ "$fast" = 1 ] || [ "$single_only" = 1 ] || [ "$FLASHSALE_REDIS_MODE" = cluster ]; then cluster_pass=0; fi

# Build servers would outlive this script and hold its output open in CI.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

started_here=0
if ! redis-cli -p "$FLASHSALE_REDIS_PORT" ping >/dev/null 2>&1; then started_here=1; fi
bash dev/services.sh up
# The console's browser tests drive Debian's Chromium (Playwright's own browser download is not reachable from CI).
if [ "$fast" = 0 ] && [ ! -x /usr/bin/chromium ]; then
  log "Installing chromium (apt) for the console's browser tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
cleanup() {
  dotnet build-server shutdown >/dev/null 2>&1 || true
  if [ "$started_here" = 1 ] && [ "${CI:-}" = "true" ]; then
    bash dev/kafka.sh down >/dev/null 2>&1 || true
    bash dev/services.sh down >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

results="$FLASHSALE_ROOT/TestResults"
rm -rf "$results"
if [ "$fast" = 1 ]; then
  target=tests/Tests.csproj
  log "Building the tests"
  dotnet build "$target" -c Release -p:UseSharedCompilation=false -nologo -v quiet
else
  target=FlashSale.sln
  log "Building"
  dotnet build "$target" -c Release -p:UseSharedCompilation=false -nologo -v quiet
  bash dev/kafka.sh up
fi

# run_pass NAME FILTER: one 'dotnet test' on the Redis FLASHSALE_REDIS_MODE names, its results in TestResults/NAME.
status=0
run_pass() {
  local name=$1 pass_filter=$2 pass_args=("${args[@]}")
  if [ -n "$pass_filter" ]; then pass_args+=(--filter "$pass_filter"); fi
  log "Running tests on Redis ($FLASHSALE_REDIS_MODE: $(redis_connection))${pass_filter:+ ($pass_filter)}"
  set +e
  dotnet test "$target" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results/$name" "${pass_args[@]}"
  local code=$?
  set -e
  if [ "$code" -ne 0 ]; then status=$code; fi
}

if [ "$cluster_pass" = 1 ]; then
  run_pass "$FLASHSALE_REDIS_MODE" "$single_filter"
else
  run_pass "$FLASHSALE_REDIS_MODE" "$filter"
fi

if [ "$cluster_pass" = 1 ]; then
  single_was_running=$((1 - started_here))
  log "Cluster pass: the single Redis on $FLASHSALE_REDIS_PORT stops, a 3-master cluster takes its ports"
  cluster_started=$(date +%s)
  bash dev/services.sh redis-down
  FLASHSALE_REDIS_MODE=cluster bash dev/services.sh redis-up
  FLASHSALE_REDIS_MODE=cluster run_pass cluster "$cluster_filter"
  FLASHSALE_REDIS_MODE=cluster bash dev/services.sh redis-down
  log "Cluster pass took $(($(date +%s) - cluster_started)) s (cluster start and stop included)"
  # Leave Redis as the single pass had it, unless CI is about to stop everything anyway.
  if [ "$single_was_running" = 1 ] || [ "${CI:-}" != "true" ]; then
    bash dev/services.sh redis-up
  fi
fi

passed=0 failed=0
for trx in "$results"/*/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$failed" -gt 0 ]; then
  # Name each failed test and the first lines of its message here, next to the count: a CI log
  # that keeps only its tail still says what failed.
  log "Failed tests"
  for trx in "$results"/*/*.trx; do
    [ -f "$trx" ] || continue
    perl -0777 -ne '
      sub plain { my $t = shift; $t =~ s/&#xD;//g; $t =~ s/&lt;/</g; $t =~ s/&gt;/>/g; $t =~ s/&quot;/"/g; $t =~ s/&apos;/\x27/g; $t =~ s/&amp;/&/g; $t }
      while (/<UnitTestResult\b([^>]*\boutcome="Failed"[^>]*[^\/>])>(.*?)<\/UnitTestResult>/gs) {
        my ($attrs, $body) = ($1, $2);
        my ($name) = $attrs =~ /\btestName="([^"]*)"/;
        my ($message) = $body =~ /<Message>(.*?)<\/Message>/s;
        my @lines = grep { /\S/ } split /\n/, plain($message // "");
        print "  FAILED ", plain($name), "\n";
        print "    $_\n" for @lines[0 .. ($#lines < 5 ? $#lines : 5)];
      }' "$trx"
  done
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
