#!/usr/bin/env bash
# loadtest/balancing.sh: how the load-balancing policies serve the same offered
# load over unequal model servers. Three mock servers, each answering at most
# BATCH streams at once (the rest wait their turn, as in a full vLLM batch);
# the third is twice as slow. Streams arrive at RATE per second, each on its
# own connection, whatever the answers' pace (an open loop), for DURATION
# seconds. Each policy gets a fresh gateway; the rounds interleave the
# policies in a new order each time, so the host's swings fall on all of them.
#
#   SCENARIO=unequal  the three servers serve only this gateway.
#   SCENARIO=shared   another client (another gateway replica, say) keeps
#                     SHARED_RATE streams per second on the first fast server,
#                     which this gateway sees only through that server's
#                     /metrics: its own in-flight count does not show them.
#
#   ROUNDS=5 DURATION=10 RATE=32 SCENARIO=unequal bash loadtest/balancing.sh
#
# Prints each run, then per policy the medians over rounds of the client's
# TTFT p50/p99, the errors, each server's share, the paired ratio of TTFT
# p99 to round_robin's in the same round (median, min-max), and in the shared
# scenario the other client's TTFT p99 (what this gateway's choices cost it).
# Loopback only; every process it starts is stopped; each run is bounded by
# stream_load's timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh
ROUNDS=${ROUNDS:-5}; DURATION=${DURATION:-10}; RATE=${RATE:-32}; SCENARIO=${SCENARIO:-unequal}
SHARED_RATE=${SHARED_RATE:-10}
POLICIES=${POLICIES:-round_robin least_request least_load}
TOKENS=${TOKENS:-20}; BATCH=${BATCH:-8}
FIRST_TOKEN_MS=${FIRST_TOKEN_MS:-40}; INTER_TOKEN_MS=${INTER_TOKEN_MS:-20}
SIGNALS_INTERVAL=${SIGNALS_INTERVAL:-250ms}; WORKERS=${WORKERS:-2}; SEED=${SEED:-$RANDOM}
BUILD_DIR=${BUILD_DIR:-build}
MOCKS=(18500 18501 18502); PORT=18503; ADMIN=18504
ulimit -n "$(ulimit -Hn)"
W=$(mktemp -d /tmp/infergate-balancing.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# Two fast servers and one twice as slow, each with its batch.
for i in 0 1 2; do
  scale=1; [[ $i == 2 ]] && scale=2
  "$BUILD_DIR/loadtest/infergate-mock" --listen 127.0.0.1:${MOCKS[$i]} --threads 1 --batch "$BATCH" \
    --first-token-ms $((FIRST_TOKEN_MS * scale)) --inter-token-ms $((INTER_TOKEN_MS * scale)) >/dev/null 2>&1 &
  PIDS+=($!); wait_port ${MOCKS[$i]}
done

# Streams open RATE per second: a few every gap of at least 20 ms.
per_gap=$(( (RATE + 49) / 50 )); gap_ms=$(( 1000 * per_gap / RATE ))
streams=$(( RATE * DURATION ))

gateway_config() {  # POLICY
  cat <<YAML
server:
  listen: 127.0.0.1:$PORT
  workers: $WORKERS
admin:
  listen: 127.0.0.1:$ADMIN
backends:
  - name: models
    endpoints:
      - url: http://127.0.0.1:${MOCKS[0]}
      - url: http://127.0.0.1:${MOCKS[1]}
      - url: http://127.0.0.1:${MOCKS[2]}
    load_balancing: $1
    signals: {kind: vllm, interval: $SIGNALS_INTERVAL}
    pool: {max_idle: 256}
routes:
  - name: all
    path_prefix: /
    backend: models
YAML
}

served() { curl -s "http://127.0.0.1:$1/debug/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'; }

# One run: a fresh gateway with POLICY, the offered load, the shares.
run() {  # POLICY -> "ttft_p50 ttft_p99 errors share0 share1 share2 other_client_ttft_p99"
  local policy=$1 gw shared="" out val
  for m in "${MOCKS[@]}"; do curl -s -X POST "http://127.0.0.1:$m/debug/reset" >/dev/null; done
  gateway_config "$policy" >"$W/gateway.yaml"
  "$BUILD_DIR/gateway/infergate" --config "$W/gateway.yaml" >/dev/null 2>"$W/gateway.log" &
  gw=$!
  wait_port $PORT
  sleep 0.6  # the first scrapes: least_load starts from what the servers say
  if [[ $SCENARIO == shared ]]; then
    local shared_per_gap=$(( (SHARED_RATE + 49) / 50 ))
    "$BUILD_DIR/loadtest/stream_load" --port ${MOCKS[0]} --streams $(( SHARED_RATE * (DURATION + 2) )) \
      --tokens "$TOKENS" --server-pacing 1 --open-per-batch $shared_per_gap \
      --batch-gap-ms $(( 1000 * shared_per_gap / SHARED_RATE )) --timeout-s $(( DURATION + 60 )) >"$W/shared.out" &
    shared=$!
    sleep 1  # its queue is there before this gateway's traffic starts
  fi
  out=$("$BUILD_DIR/loadtest/stream_load" --port $PORT --streams $streams --tokens "$TOKENS" --server-pacing 1 \
    --open-per-batch $per_gap --batch-gap-ms $gap_ms --timeout-s $(( DURATION + 60 )))
  [[ -n $shared ]] && wait "$shared"
  kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null
  val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $out"; }
  local a b c extra=0 other="-"
  a=$(served ${MOCKS[0]}); b=$(served ${MOCKS[1]}); c=$(served ${MOCKS[2]})
  # The other client's streams are not this gateway's.
  [[ -n $shared ]] && extra=$(sed -n 's/.* ok=\([0-9]*\).* errors=\([0-9]*\).*/\1 \2/p' <<<" $(cat "$W/shared.out")" | awk '{print $1 + $2}')
  a=$(( a - extra ))
  [[ -n $shared ]] && other=$(sed -n 's/.* ttft_p99_ms=\([^ ]*\).*/\1/p' <<<" $(cat "$W/shared.out")")
  local total=$(( a + b + c )); [[ $total -eq 0 ]] && total=1
  echo "$(val ttft_p50_ms) $(val ttft_p99_ms) $(val errors) $(( 100 * a / total )) $(( 100 * b / total )) $(( 100 * c / total )) $other"
}

echo "balancing ($SCENARIO): $RATE streams/s for ${DURATION}s, $TOKENS tokens; servers: 2 x (first token ${FIRST_TOKEN_MS} ms," \
  "${INTER_TOKEN_MS} ms/token) + 1 x twice as slow, batch $BATCH each; signals every $SIGNALS_INTERVAL;" \
  "$( [[ $SCENARIO == shared ]] && echo "another client: $SHARED_RATE streams/s on server 1;" ) $ROUNDS rounds, seed $SEED"
RANDOM=$SEED
declare -A results
printf "%-6s %-14s %10s %10s %7s %18s %14s\n" round policy "ttft p50" "ttft p99" errors "share 1/2/3 (%)" "other's p99"
for round in $(seq 1 "$ROUNDS"); do
  order=$(printf '%s\n' $POLICIES | while read -r p; do echo "$RANDOM $p"; done | sort -n | cut -d' ' -f2)
  for policy in $order; do
    r=$(run "$policy")
    results[$round,$policy]=$r
    read -r p50 p99 errors s0 s1 s2 other <<<"$r"
    printf "%-6s %-14s %10s %10s %7s %18s %14s\n" "$round" "$policy" "$p50" "$p99" "$errors" "$s0/$s1/$s2" "$other"
  done
done

# Medians over rounds; TTFT p99 as a ratio to round_robin's in the same round.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf "%-14s %14s %14s %12s %18s %28s %20s\n" policy "ttft p50 (ms)" "ttft p99 (ms)" "errors (sum)" "share 1/2/3 (%)" \
  "p99 / round_robin (min-max)" "other's p99 (ms)"
for policy in $POLICIES; do
  col() { for round in $(seq 1 "$ROUNDS"); do cut -d' ' -f"$1" <<<"${results[$round,$policy]}"; done; }
  ratios=""
  if [[ " $POLICIES " == *" round_robin "* ]]; then
    ratios=$(for round in $(seq 1 "$ROUNDS"); do
      awk -v a="$(cut -d' ' -f2 <<<"${results[$round,$policy]}")" -v b="$(cut -d' ' -f2 <<<"${results[$round,round_robin]}")" \
        'BEGIN { if (b > 0) printf "%.3f\n", a / b }'
    done)
  fi
  ratio="-"
  [[ -n $ratios ]] && ratio="$(median <<<"$ratios") ($(sort -g <<<"$ratios" | head -1)-$(sort -g <<<"$ratios" | tail -1))"
  other="-"; [[ $SCENARIO == shared ]] && other=$(col 7 | median)
  printf "%-14s %14s %14s %12s %18s %28s %20s\n" "$policy" "$(col 1 | median)" "$(col 2 | median)" \
    "$(col 3 | awk '{ s += $1 } END { print s }')" "$(col 4 | median)/$(col 5 | median)/$(col 6 | median)" "$ratio" "$other"
done
