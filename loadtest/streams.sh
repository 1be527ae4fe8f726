#!/usr/bin/env bash
# loadtest/streams.sh: thousands of concurrent SSE streams through each proxy
# (the compare.sh scenario "streams"). For each peer, started fresh: its RSS once
# every stream is open ("open MB": STREAMS streams of TOKENS tokens,
# INTER_TOKEN_MS apart, read 1 s after the last one opened; "-" when the first
# ones end before then), its peak RSS, the CPU seconds it used for them (user + system, its workers included),
# and the time to first token and inter-token gaps the client sees, with what
# the proxy adds over the direct path (the mock itself). "itl* p99" is the
# inter-token p99 of the full flow: the gaps begun once every stream had its
# first event and ended before any stream ended; the relay alone, without the
# opening ramp (which saturates the proxy's core: every stream opens a new
# upstream connection) and the closing.
#   STREAMS=8000 TOKENS=20 INTER_TOKEN_MS=200 WORKERS=2 PEERS="direct infergate haproxy nginx"
# "after MB" is its RSS 2 s after the last stream ended (every client gone):
# what a burst leaves resident.
# "steal ms" is how long the hypervisor kept the proxy's CPU (CPU 1) and the
# load generator's (CPU 0) from running during the peer's run: on a virtual
# machine, time no process on them could use, and so time every event in its
# way waited (its inter-token tail). "mock late 5" counts the events the mock
# sent 5 ms or more after they were due (each stream is paced from its first
# event): lateness of the load generator's own core, which shares CPU 0 with
# stream_load, not of the path.
# (peer infergate-norecv: the same gateway with server.batch_receives: false;
# peer infergate-before: the same config on the build in BEFORE_BUILD_DIR)
# FIRST_TOKEN_MS=4000 makes the mock wait before its first token (a model
# queueing or prefilling), with its head first unless HEADERS_FIRST=0: "open
# MB" is then what the streams waiting for their model hold.
# ROUNDS=N (default 1) runs every peer once per round, direct first (the
# added latencies are over the same round's direct path), the others in an
# order shuffled each round (SEED picks the permutations), then prints each
# peer's medians and its paired ratios to REF (default haproxy, else the first
# proxy in PEERS): per round, its peak, open MB and CPU over REF's in that
# round, with quartiles, min and max, and in how many rounds its peak was at
# most half of REF's. A proxy's peak moves between runs (HAProxy's by 50%
# here: it reaches it as the streams end, when it gets there at all), so one
# run's ratio says little.
# Loopback only; every process it starts is stopped; each run is bounded by
# stream_load's timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh
STREAMS=${STREAMS:-8000}; TOKENS=${TOKENS:-20}; INTER_TOKEN_MS=${INTER_TOKEN_MS:-200}
WORKERS=${WORKERS:-2}; PEERS=${PEERS:-direct infergate haproxy nginx}
ROUNDS=${ROUNDS:-1}; SEED=${SEED:-1}
PROXIES=$(printf '%s\n' $PEERS | grep -vx direct | xargs)
REF=${REF:-$([[ " $PEERS " == *" haproxy "* ]] && echo haproxy || echo "${PROXIES%% *}")}
FIRST_TOKEN_MS=${FIRST_TOKEN_MS:-0}; HEADERS_FIRST=${HEADERS_FIRST:-1}
# Streams open in batches (OPEN_PER_BATCH every BATCH_GAP_MS): all are open at
# once (8,000 in 1.6 s, each lasting 4 s) without one burst measuring accept
# queues instead of streaming.
OPEN_PER_BATCH=${OPEN_PER_BATCH:-100}; BATCH_GAP_MS=${BATCH_GAP_MS:-20}
BUILD_DIR=${BUILD_DIR:-build}
BEFORE_BUILD_DIR=${BEFORE_BUILD_DIR:-}
if [[ " $PEERS " == *" infergate-before "* && ! -x "$BEFORE_BUILD_DIR/gateway/infergate" ]]; then
  echo "peer infergate-before needs BEFORE_BUILD_DIR (a build with gateway/infergate)" >&2; exit 1
fi
LOADGEN_CPU="taskset -c 0"; PROXY_CPU="taskset -c ${PROXY_CPU_LIST:-1}"
[[ $(nproc) -lt 2 ]] && LOADGEN_CPU="" && PROXY_CPU=""
MOCK=18400; PORT=18401; ADMIN=18402
ulimit -n "$(ulimit -Hn)"
W=$(mktemp -d /tmp/infergate-streams.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

$LOADGEN_CPU "$BUILD_DIR/loadtest/infergate-mock" --listen 127.0.0.1:$MOCK --threads 1 >/dev/null 2>&1 &
PIDS+=($!); wait_port $MOCK

start_peer() {
  case $1 in
    infergate|infergate-before)  # -before: the same config on another build (BEFORE_BUILD_DIR, e.g. a worktree of an earlier commit)
      local dir=$BUILD_DIR; [[ $1 == infergate-before ]] && dir=$BEFORE_BUILD_DIR
      gateway_yaml $PORT $ADMIN $MOCK "$WORKERS" "  limits: {max_connections: $((STREAMS + 1000))}" >$W/infergate.yaml
      $PROXY_CPU "$dir/gateway/infergate" --config $W/infergate.yaml >/dev/null 2>$W/infergate.log & ;;
    infergate-norecv)  # the same with each read a recv() of the reactor's (server.batch_receives: false)
      gateway_yaml $PORT $ADMIN $MOCK "$WORKERS" "  batch_receives: false" \
        "  limits: {max_connections: $((STREAMS + 1000))}" >$W/infergate.yaml
      $PROXY_CPU "$BUILD_DIR/gateway/infergate" --config $W/infergate.yaml >/dev/null 2>$W/infergate.log & ;;
    haproxy)
      # http-no-delay: without it HAProxy sends partial messages with MSG_MORE
      # and the kernel holds each event back (inter-token p99 of 415 ms for
      # 200 ms tokens).
      haproxy_cfg $PORT $MOCK "$WORKERS" $((STREAMS + 1000)) "  option http-no-delay" >$W/haproxy.cfg
      $PROXY_CPU haproxy -db -f $W/haproxy.cfg >/dev/null 2>&1 & ;;
    nginx)
      {
        nginx_head $W/nginx "$WORKERS" $((STREAMS + 1000))
        cat <<CFG
  upstream mock { server 127.0.0.1:$MOCK; keepalive 256; }
  server {
    listen 127.0.0.1:$PORT;
    location / { proxy_pass http://mock; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
CFG
      } >$W/nginx.conf
      $PROXY_CPU nginx -c $W/nginx.conf -e $W/nginx/error.log & ;;
  esac
  PEER_PID=$!
  wait_port $PORT
}

echo "streams: $STREAMS concurrent SSE streams, $TOKENS tokens ${INTER_TOKEN_MS} ms apart, the first after ${FIRST_TOKEN_MS} ms" \
  "(head $( ((HEADERS_FIRST)) && echo first || echo with it)), $WORKERS worker(s)/thread(s) per proxy"
# The script runs from the repository it is in: another build is chosen with
# BUILD_DIR, never by running it from another directory. Say which one.
echo "infergate: $(readlink -f "$BUILD_DIR/gateway/infergate")"
[[ -n $BEFORE_BUILD_DIR ]] && echo "infergate-before: $(readlink -f "$BEFORE_BUILD_DIR/gateway/infergate")"
# Every stream is open 1 s after the last batch opens, at (batches - 1) x gap.
OPEN_AT_MS=$(( ((STREAMS + OPEN_PER_BATCH - 1) / OPEN_PER_BATCH - 1) * BATCH_GAP_MS + 1000 ))
printf "%-16s %9s %9s %9s %9s %7s %7s %7s %9s %9s %9s %9s %11s %11s %10s %11s %13s %12s\n" peer "idle MB" "open MB" "peak MB" "after MB" "cpu s" ok errors \
  "ttft p50" "ttft p99" "itl p50" "itl p99" "+ttft p99" "+itl p99" "itl* p99" "+itl* p99" "steal ms 1/0" "mock late 5"
direct_ttft=""; direct_itl=""; direct_itl_started=""
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# The order of a round: direct first, the proxies as given (one round) or
# shuffled (seeded by SEED and the round).
round_order() {
  [[ " $PEERS " == *" direct "* ]] && echo -n "direct "
  if [[ $ROUNDS == 1 ]]; then echo "$PROXIES"; return; fi
  printf '%s\n' $PROXIES | awk -v seed="$((SEED * 1000 + $1))" 'BEGIN { srand(seed) } { print rand(), $0 }' |
    sort -g -k1,1 | cut -d' ' -f2 | xargs
}

# One peer's run: its row, and its values appended to $W/rounds.PEER (one line
# a round: open peak after cpu errors +ttft_p99 +itl*_p99).
run_peer() {
  local peer=$1
  port=$PORT; idle="-"; open="-"; peak="-"; after="-"; cpu="-"; PEER_PID=""
  if [[ $peer == direct ]]; then port=$MOCK; else start_peer "$peer"; sleep 0.3; idle=$(memory_mb VmRSS $PEER_PID); fi
  steal1=$(steal_ms 1); steal0=$(steal_ms 0)
  curl -s -X POST "127.0.0.1:$MOCK/debug/reset" >/dev/null
  $LOADGEN_CPU "$BUILD_DIR/loadtest/stream_load" --port $port --streams "$STREAMS" --tokens "$TOKENS" \
    --inter-token-ms "$INTER_TOKEN_MS" --open-per-batch "$OPEN_PER_BATCH" --batch-gap-ms "$BATCH_GAP_MS" --timeout-s 120 \
    --first-token-ms "$FIRST_TOKEN_MS" --headers-first "$HEADERS_FIRST" \
    >$W/load.out &
  load=$!
  if [[ -n $PEER_PID ]] && ((OPEN_AT_MS < FIRST_TOKEN_MS + TOKENS * INTER_TOKEN_MS)); then
    sleep "$(awk -v ms=$OPEN_AT_MS 'BEGIN { printf "%.3f", ms / 1000 }')"
    open=$(memory_mb VmRSS $PEER_PID)
  fi
  wait $load
  steal="$(($(steal_ms 1) - steal1))/$(($(steal_ms 0) - steal0))"
  # Events the mock itself sent 5 ms or more after they were due (its core,
  # shared with the load, was busy): lateness that is not the path's.
  mock_late=$(curl -s "127.0.0.1:$MOCK/debug/stats" | sed -n 's/.*"events_late_5ms":\([0-9]*\).*/\1/p')
  out=$(cat $W/load.out)
  [[ -n $PEER_PID ]] && peak=$(memory_mb VmHWM $PEER_PID) && cpu=$(cpu_seconds $PEER_PID)
  [[ -n $PEER_PID ]] && sleep 2 && after=$(memory_mb VmRSS $PEER_PID)
  val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $out"; }
  ttft=$(val ttft_p99_ms); itl=$(val itl_p99_ms)
  itl_started=$(val itl_all_started_p99_ms)
  if [[ $peer == direct ]]; then direct_ttft=$ttft; direct_itl=$itl; direct_itl_started=$itl_started; fi
  added_ttft="-"; added_itl="-"; added_itl_started="-"
  if [[ $peer != direct && -n $direct_ttft ]]; then
    added_ttft=$(minus "$ttft" "$direct_ttft")
    added_itl=$(minus "$itl" "$direct_itl")
    added_itl_started=$(minus "$itl_started" "$direct_itl_started")
  fi
  printf "%-16s %9s %9s %9s %9s %7s %7s %7s %9s %9s %9s %9s %11s %11s %10s %11s %13s %12s\n" "$peer" "$idle" "$open" "$peak" "$after" "$cpu" "$(val ok)" "$(val errors)" \
    "$(val ttft_p50_ms)" "$ttft" "$(val itl_p50_ms)" "$itl" "$added_ttft" "$added_itl" "$itl_started" "$added_itl_started" "$steal" "${mock_late:--}"
  echo "$open $peak $after $cpu $(val errors) $added_ttft $added_itl_started" >>"$W/rounds.$peer"
  if [[ -n $PEER_PID ]]; then kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; fi
}

for round in $(seq 1 "$ROUNDS"); do
  ((ROUNDS > 1)) && echo "round $round"
  for peer in $(round_order "$round"); do run_peer "$peer"; done
done
((ROUNDS > 1)) || exit 0

# median_range FILE COLUMN [DECIMALS, default 1]: the column's median over
# rounds, with its min..max ("-" when it was not measured).
median_range() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk -v d="${3:-1}" '$1 == "-" { none = 1 } { v[NR] = $1 } END {
    if (none) { printf "-"; exit }
    f = "%." d "f"
    printf f " (" f ".." f ")", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'
}
# ratio FILE COLUMN: paired to REF, median [q1..q3] (min..max)
ratio() {
  grep -q -- '^-' "$1" "$W/rounds.$REF" && [[ $2 == 1 ]] && { echo "-"; return; }  # open MB not measured
  paired_ratios "$1" "$W/rounds.$REF" "$2" | awk '{ printf "%.3f [%.3f..%.3f] (%.3f..%.3f)", $1, $2, $3, $4, $5 }'
}
echo
echo "over $ROUNDS rounds (SEED=$SEED): medians (min..max); ratios to $REF paired by round: median [q1..q3] (min..max)"
printf "%-16s %20s %20s %18s %7s %22s %22s %40s %40s %40s %12s\n" peer "peak MB" "open MB" "cpu s" errors \
  "+ttft p99 ms" "+itl* p99 ms" "peak / $REF" "open / $REF" "cpu / $REF" "peak <= 0.5x"
for peer in $PROXIES; do
  f=$W/rounds.$peer
  half=$(paste -d' ' "$f" "$W/rounds.$REF" | awk '$2 <= 0.5 * $9 { n++ } END { printf "%d of %d", n, NR }')
  ttft="-"; itl="-"
  [[ " $PEERS " == *" direct "* ]] && ttft=$(median_range "$f" 6) && itl=$(median_range "$f" 7)
  [[ $peer == "$REF" ]] && half="-"
  printf "%-16s %20s %20s %18s %7s %22s %22s %40s %40s %40s %12s\n" "$peer" "$(median_range "$f" 2)" "$(median_range "$f" 1)" \
    "$(median_range "$f" 4 2)" "$(awk '{ n += $5 } END { print n }' "$f")" "$ttft" "$itl" \
    "$(ratio "$f" 2)" "$(ratio "$f" 1)" "$(ratio "$f" 4)" "$half"
done
