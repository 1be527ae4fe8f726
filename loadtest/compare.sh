#!/usr/bin/env bash
# Measures, in one run and on loopback, the bundled mock model server directly
# and behind infergate, nginx and haproxy (Debian packages, configured as plain
# keep-alive reverse proxies with the same worker count). Prints requests/s,
# p50, p99, non-2xx count and the ratio to direct for each scenario.
#
#   loadtest/compare.sh                     # defaults below
#   DURATION=20s CONNECTIONS=64 loadtest/compare.sh
#   ROUNDS=5 loadtest/compare.sh            # interleaved rounds, medians
#
# ROUNDS > 1 runs every peer once per round, in an order shuffled each round
# (SHUFFLE=0 keeps PEERS' order; SEED picks the permutations), and reports each
# peer's median (with its min and max) and its "paired" ratio: the median over
# rounds of its requests/s over the first peer's (in PEERS) in the same round. A shared host
# drifts by more than the 1-3% differences worth deciding on; short runs in
# many rounds (ROUNDS=30 DURATION=1s) with paired ratios see through that
# drift best, since both sides of each ratio ran seconds apart.
#
# Peer haproxy-headers is haproxy told to add what infergate adds by default
# (x-request-id on the request and the response, X-Forwarded-For,
# Server-Timing): the same bytes on the wire, to tell proxy cost from the cost
# of those headers to the mock and wrk that share the other core.
#
# BACKEND=static puts nginx answering one fixed JSON body (and discarding each
# upload without reading it into anything) behind every proxy instead of the
# bundled mock: on the load generator's core it costs less than the mock, which
# reads every 200 KB body, so the proxies' own cost decides the ratios.
#
# Peer infergate-nobatch is the same gateway with server.batch_sends: false
# (each write sent from its handler, no io_uring); infergate-norecv the same
# with server.batch_receives: false (each read a recv() of the reactor's).
#
# Peer infergate-keys is the same gateway requiring the API key the scenarios
# send (every peer gets the same header bytes), with a local rate limit that
# never trips; infergate-auth the same without the limit; infergate-redis the
# same limit kept in a redis-server on the load generator's core (a round trip
# to it per request; its CPU time is not the gateway's and is not charged).
#
# Peers infergate-https and haproxy-https terminate HTTPS from wrk with the
# same certificate (the test CA's, made at run time), to the plain backend,
# keep-alive (the handshake amortised).
#
# Peers infergate-https-up and haproxy-https-up (BACKEND=static only) reach
# the same static backend over HTTPS, verifying its certificate (a test CA made
# by tests/support/make_test_certs.sh): what TLS to a hosted API costs each,
# with pooled connections (the handshake amortised).
#
# Peer infergate-before is the same gateway and config built from another
# commit (BEFORE_BUILD_DIR, e.g. a `git worktree` of the commit before a
# change, built with scripts/build.sh): before/after in one interleaved run.
#
# Each peer also gets its CPU time per request (user + system of its process
# and children, read from /proc around each wrk run; the backend's for
# direct), with the paired ratio of that: when the load generator's core caps
# requests/s (200 KB uploads), CPU per request still tells the proxies apart.
#
# SCENARIOS=handshakes (only with -https peers) opens a new TLS connection per
# handshake instead of a wrk run: HS_CLIENTS (4) `openssl s_time -new` clients
# in parallel on the load generator's core, each connection a full handshake
# (no request), for DURATION; "req/s" is then handshakes/s and CPU per request
# the proxy's CPU per handshake. SCENARIOS=resumed does the same with
# `s_time -reuse -tls1_2` (abbreviated handshakes, the session resumed: s_time
# reads nothing from the connection, so TLS 1.3 tickets never reach it).
#
# SCENARIOS=streams (alone or with others) runs loadtest/streams.sh: STREAMS
# concurrent SSE streams through each proxy started fresh, its peak RSS and
# the TTFT and inter-token gaps it adds over the direct path.
#
# Bounded: each run lasts DURATION; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh

if [[ " ${SCENARIOS:-} " == *" streams "* ]]; then
  bash scripts/build.sh >/dev/null
  bash loadtest/streams.sh
  SCENARIOS=$(sed 's/\bstreams\b//g' <<<"$SCENARIOS" | xargs)
  [[ -z $SCENARIOS ]] && exit 0
fi

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-1}
WORKERS=${WORKERS:-1}
SCENARIOS=${SCENARIOS:-"chat_small chat_200k"}
PEERS=${PEERS:-"direct infergate infergate-nometrics nginx haproxy"}
BUILD_DIR=${BUILD_DIR:-build}
MOCK_PORT=${MOCK_PORT:-18000}
BACKEND=${BACKEND:-mock}
# PIN=1 (default on 2+ cores): the proxy under test owns CPU 1; wrk and the mock
# share CPU 0. Without pinning, four busy threads on two cores make the
# scheduler, not the proxy, decide the result (±10% run to run).
PIN=${PIN:-1}
if [[ $PIN == 1 && $(nproc) -ge 2 ]]; then
  LOADGEN_CPU="taskset -c 0"
  PROXY_CPU="taskset -c 1"
  MOCK_THREADS=1
else
  LOADGEN_CPU=""
  PROXY_CPU=""
  MOCK_THREADS=2
fi
IG_PORT=18080
IG_ADMIN_PORT=18090
IG_BARE_PORT=18083
IG_BARE_ADMIN_PORT=18091
IG_BEFORE_PORT=18085
IG_BEFORE_ADMIN_PORT=18092
IG_NOBATCH_PORT=18098
IG_NOBATCH_ADMIN_PORT=18099
IG_NORECV_PORT=18076
IG_NORECV_ADMIN_PORT=18077
IG_KEYS_PORT=18086
IG_KEYS_ADMIN_PORT=18093
IG_AUTH_PORT=18087
IG_AUTH_ADMIN_PORT=18094
IG_REDIS_PORT=18088
IG_REDIS_ADMIN_PORT=18095
REDIS_PORT=18379
IG_HTTPS_UP_PORT=18089
IG_HTTPS_UP_ADMIN_PORT=18096
HAPROXY_HTTPS_UP_PORT=18097
BACKEND_TLS_PORT=18001
IG_HTTPS_PORT=18443
HAPROXY_HTTPS_PORT=18444
BEFORE_BUILD_DIR=${BEFORE_BUILD_DIR:-}
NGINX_PORT=18081
HAPROXY_PORT=18082
HAPROXY_HEADERS_PORT=18084
ROUNDS=${ROUNDS:-1}
SHUFFLE=${SHUFFLE:-1}
SEED=${SEED:-1}
HS_CLIENTS=${HS_CLIENTS:-4}
if [[ " $SCENARIOS " == *" handshakes "* || " $SCENARIOS " == *" resumed "* ]]; then
  for peer in $PEERS; do
    [[ $peer == *-https ]] || { echo "the handshakes and resumed scenarios take only -https peers, not $peer" >&2; exit 1; }
  done
fi

bash scripts/build.sh >/dev/null
WORK=$(mktemp -d /tmp/infergate-compare.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_peer PEER PORT COMMAND...: COMMAND on the proxy's core, its stderr in
# $WORK/PEER.log; PEER's rounds are charged its CPU time; waits for PORT.
start_peer() {
  local peer=$1 port=$2
  shift 2
  $PROXY_CPU "$@" >/dev/null 2>"$WORK/$peer.log" &
  PIDS+=($!)
  PEER_PID[$peer]=$!
  wait_port "$port"
}

# --- processes ---------------------------------------------------------------
if [[ " $PEERS " == *"-https-up "* ]]; then
  [[ $BACKEND == static ]] || { echo "the https-up peers need BACKEND=static" >&2; exit 1; }
fi
if [[ " $PEERS " == *"-https"* ]]; then
  bash tests/support/make_test_certs.sh "$WORK/certs" >/dev/null
  cat "$WORK/certs/server.crt" "$WORK/certs/server.key" >"$WORK/certs/server.pem"  # HAProxy's form
fi
if [[ $BACKEND == static ]]; then
  if [[ " $PEERS " == *"-https-up "* ]]; then
    static_backend_conf "$WORK/static" "$MOCK_PORT" "$BACKEND_TLS_PORT" "$WORK/certs" >"$WORK/static.conf"
  else
    static_backend_conf "$WORK/static" "$MOCK_PORT" >"$WORK/static.conf"
  fi
  $LOADGEN_CPU nginx -c "$WORK/static.conf" -e "$WORK/static/error.log" &
else
  $LOADGEN_CPU "$BUILD_DIR/loadtest/infergate-mock" --listen "127.0.0.1:$MOCK_PORT" --threads "$MOCK_THREADS" >/dev/null &
fi
PIDS+=($!)
declare -A PEER_PID=([direct]=$!)  # whose CPU time a peer's rounds are charged (the backend for direct)
wait_port "$MOCK_PORT"

gateway_yaml "$IG_PORT" "$IG_ADMIN_PORT" "$MOCK_PORT" "$WORKERS" >"$WORK/infergate.yaml"
start_peer infergate "$IG_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate.yaml"

# The same gateway with metrics off, to measure what recording costs.
sed -e "s/$IG_PORT/$IG_BARE_PORT/; s/$IG_ADMIN_PORT/$IG_BARE_ADMIN_PORT/" "$WORK/infergate.yaml" >"$WORK/infergate-bare.yaml"
printf 'metrics:\n  enabled: false\n  server_timing: false\n' >>"$WORK/infergate-bare.yaml"
if [[ " $PEERS " == *" infergate-nometrics "* ]]; then
  start_peer infergate-nometrics "$IG_BARE_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-bare.yaml"
fi

# The same gateway sending each write from its handler (server.batch_sends:
# false): what batching the sends through io_uring saves, with one binary.
sed -e "s/$IG_PORT/$IG_NOBATCH_PORT/; s/$IG_ADMIN_PORT/$IG_NOBATCH_ADMIN_PORT/; /^  workers:/a\  batch_sends: false" \
  "$WORK/infergate.yaml" >"$WORK/infergate-nobatch.yaml"
if [[ " $PEERS " == *" infergate-nobatch "* ]]; then
  start_peer infergate-nobatch "$IG_NOBATCH_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-nobatch.yaml"
fi

# The same gateway reading each socket by the reactor's recv() (server.batch_receives:
# false): what reading ahead through io_uring saves, with one binary.
sed -e "s/$IG_PORT/$IG_NORECV_PORT/; s/$IG_ADMIN_PORT/$IG_NORECV_ADMIN_PORT/; /^  workers:/a\  batch_receives: false" \
  "$WORK/infergate.yaml" >"$WORK/infergate-norecv.yaml"
if [[ " $PEERS " == *" infergate-norecv "* ]]; then
  start_peer infergate-norecv "$IG_NORECV_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-norecv.yaml"
fi

# The same gateway requiring the API key every scenario sends, with a local
# rate limit high enough never to trip: what authentication and limiting cost.
sed -e "s/$IG_PORT/$IG_KEYS_PORT/; s/$IG_ADMIN_PORT/$IG_KEYS_ADMIN_PORT/" "$WORK/infergate.yaml" >"$WORK/infergate-keys.yaml"
keys_yaml limits >>"$WORK/infergate-keys.yaml"
if [[ " $PEERS " == *" infergate-keys "* ]]; then
  start_peer infergate-keys "$IG_KEYS_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-keys.yaml"
fi

# The same without the limit: what authentication alone costs.
sed -e "s/$IG_KEYS_PORT/$IG_AUTH_PORT/; s/$IG_KEYS_ADMIN_PORT/$IG_AUTH_ADMIN_PORT/; /limits:/d" "$WORK/infergate-keys.yaml" \
  >"$WORK/infergate-auth.yaml"
if [[ " $PEERS " == *" infergate-auth "* ]]; then
  start_peer infergate-auth "$IG_AUTH_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-auth.yaml"
fi

# The same limit shared through Redis (rate_limits.store: redis).
if [[ " $PEERS " == *" infergate-redis "* ]]; then
  $LOADGEN_CPU redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$REDIS_PORT"
  sed -e "s/$IG_KEYS_PORT/$IG_REDIS_PORT/; s/$IG_KEYS_ADMIN_PORT/$IG_REDIS_ADMIN_PORT/" "$WORK/infergate-keys.yaml" \
    >"$WORK/infergate-redis.yaml"
  printf 'rate_limits:\n  store: redis\n  redis:\n    address: 127.0.0.1:%s\n' "$REDIS_PORT" >>"$WORK/infergate-redis.yaml"
  start_peer infergate-redis "$IG_REDIS_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-redis.yaml"
fi

# The same gateway with the static backend over HTTPS.
if [[ " $PEERS " == *" infergate-https-up "* ]]; then
  wait_port "$BACKEND_TLS_PORT"
  sed -e "s/$IG_PORT/$IG_HTTPS_UP_PORT/; s/$IG_ADMIN_PORT/$IG_HTTPS_UP_ADMIN_PORT/" \
    -e "s#url: http://127.0.0.1:$MOCK_PORT#url: https://localhost:$BACKEND_TLS_PORT\n    tls: {ca_file: $WORK/certs/ca.crt}#" \
    "$WORK/infergate.yaml" >"$WORK/infergate-https-up.yaml"
  grep -q "https://localhost" "$WORK/infergate-https-up.yaml" || { echo "https-up: no endpoint to rewrite" >&2; exit 1; }
  start_peer infergate-https-up "$IG_HTTPS_UP_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-https-up.yaml"
fi

# The same gateway serving HTTPS to the clients.
if [[ " $PEERS " == *" infergate-https "* ]]; then
  sed -e "s/$IG_PORT/$((IG_HTTPS_PORT + 100))/; s/$IG_ADMIN_PORT/$((IG_HTTPS_PORT + 101))/" "$WORK/infergate.yaml" |
    sed -e "s#^  workers: \(.*\)#  workers: \1\n  tls: {listen: 127.0.0.1:$IG_HTTPS_PORT, cert_file: $WORK/certs/server.crt, key_file: $WORK/certs/server.key}#" \
      >"$WORK/infergate-https.yaml"
  start_peer infergate-https "$IG_HTTPS_PORT" "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate-https.yaml"
fi

# The same config served by a build of another commit.
if [[ " $PEERS " == *" infergate-before "* ]]; then
  [[ -x "$BEFORE_BUILD_DIR/gateway/infergate" ]] || { echo "infergate-before needs BEFORE_BUILD_DIR" >&2; exit 1; }
  sed -e "s/$IG_PORT/$IG_BEFORE_PORT/; s/$IG_ADMIN_PORT/$IG_BEFORE_ADMIN_PORT/" "$WORK/infergate.yaml" >"$WORK/infergate-before.yaml"
  start_peer infergate-before "$IG_BEFORE_PORT" "$BEFORE_BUILD_DIR/gateway/infergate" --config "$WORK/infergate-before.yaml"
fi

{
  nginx_head "$WORK/nginx" "$WORKERS" 4096
  cat <<NGINX
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    client_max_body_size 8m;
    client_body_buffer_size 1m;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
} >"$WORK/nginx.conf"
if [[ " $PEERS " == *" nginx "* ]]; then
  start_peer nginx "$NGINX_PORT" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx/error.log"
fi

haproxy_cfg "$HAPROXY_PORT" "$MOCK_PORT" "$WORKERS" 4096 >"$WORK/haproxy.cfg"
if [[ " $PEERS " == *" haproxy "* ]]; then
  start_peer haproxy "$HAPROXY_PORT" haproxy -db -f "$WORK/haproxy.cfg"
fi

# HAProxy terminating HTTPS with the same certificate.
if [[ " $PEERS " == *" haproxy-https "* ]]; then
  haproxy_cfg "$HAPROXY_HTTPS_PORT" "$MOCK_PORT" "$WORKERS" 4096 |
    sed -e "s#bind 127.0.0.1:$HAPROXY_HTTPS_PORT#bind 127.0.0.1:$HAPROXY_HTTPS_PORT ssl crt $WORK/certs/server.pem alpn http/1.1#" \
      >"$WORK/haproxy-https.cfg"
  start_peer haproxy-https "$HAPROXY_HTTPS_PORT" haproxy -db -f "$WORK/haproxy-https.cfg"
fi

# HAProxy to the static backend over HTTPS, verified against the same CA.
if [[ " $PEERS " == *" haproxy-https-up "* ]]; then
  haproxy_cfg "$HAPROXY_HTTPS_UP_PORT" "$BACKEND_TLS_PORT" "$WORKERS" 4096 |
    sed -e "s#server mock 127.0.0.1:$BACKEND_TLS_PORT#server mock 127.0.0.1:$BACKEND_TLS_PORT ssl verify required ca-file $WORK/certs/ca.crt sni str(localhost) verifyhost localhost#" \
      >"$WORK/haproxy-https-up.cfg"
  start_peer haproxy-https-up "$HAPROXY_HTTPS_UP_PORT" haproxy -db -f "$WORK/haproxy-https-up.cfg"
fi

# A 32-hex-digit request id (two 16-digit halves), as infergate generates, and a Server-Timing value
# of the length infergate writes.
sed -e "s/bind 127.0.0.1:$HAPROXY_PORT/bind 127.0.0.1:$HAPROXY_HEADERS_PORT\n  option forwardfor\n\
  http-request set-var(txn.rid) rand,hex\n\
  http-request set-header x-request-id %[var(txn.rid)]%[var(txn.rid)]\n\
  http-response set-header x-request-id %[var(txn.rid)]%[var(txn.rid)]\n\
  http-response set-header Server-Timing \"upstream;dur=0.457, gateway;dur=0.162\"/" \
  "$WORK/haproxy.cfg" >"$WORK/haproxy-headers.cfg"
if [[ " $PEERS " == *" haproxy-headers "* ]]; then
  start_peer haproxy-headers "$HAPROXY_HEADERS_PORT" haproxy -db -f "$WORK/haproxy-headers.cfg"
fi

port_of() {
  case $1 in
    direct) echo "$MOCK_PORT" ;;
    infergate) echo "$IG_PORT" ;;
    infergate-nometrics) echo "$IG_BARE_PORT" ;;
    infergate-nobatch) echo "$IG_NOBATCH_PORT" ;;
    infergate-norecv) echo "$IG_NORECV_PORT" ;;
    infergate-before) echo "$IG_BEFORE_PORT" ;;
    infergate-keys) echo "$IG_KEYS_PORT" ;;
    infergate-auth) echo "$IG_AUTH_PORT" ;;
    infergate-redis) echo "$IG_REDIS_PORT" ;;
    infergate-https-up) echo "$IG_HTTPS_UP_PORT" ;;
    haproxy-https-up) echo "$HAPROXY_HTTPS_UP_PORT" ;;
    infergate-https) echo "$IG_HTTPS_PORT" ;;
    haproxy-https) echo "$HAPROXY_HTTPS_PORT" ;;
    nginx) echo "$NGINX_PORT" ;;
    haproxy) echo "$HAPROXY_PORT" ;;
    haproxy-headers) echo "$HAPROXY_HEADERS_PORT" ;;
  esac
}

# wrk prints latencies with units; normalise to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else print v }'
}

echo "infergate compare: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION, $WORKERS worker(s) per proxy, $(nproc) cores, $ROUNDS round(s)$([[ $ROUNDS != 1 && $SHUFFLE == 1 ]] && echo ", peer order shuffled per round (SEED=$SEED)")"
echo "pinning: ${PROXY_CPU:-none} for the proxy, ${LOADGEN_CPU:-none} for wrk and the backend ($BACKEND)"
echo "versions: nginx $(nginx -v 2>&1 | sed 's/.*\///'); haproxy $(haproxy -v | head -1 | awk '{print $3}')"

# HS_CLIENTS parallel `openssl s_time` clients against a TLS peer for DURATION;
# prints "handshakes/s 0 0 0" in measure's column order.
handshake_run() {
  local port=$1 mode=$2 seconds=${DURATION%s} i t0 t1 total=0
  t0=$EPOCHREALTIME
  for i in $(seq 1 "$HS_CLIENTS"); do
    $LOADGEN_CPU openssl s_time -connect "127.0.0.1:$port" $mode -time "$seconds" >"$WORK/s_time.$i" 2>&1 &
  done
  wait  # (a subshell of measure: only these clients)
  t1=$EPOCHREALTIME
  for i in $(seq 1 "$HS_CLIENTS"); do
    total=$((total + $(awk '/connections in .* real seconds/ {n = $1} END {print n + 0}' "$WORK/s_time.$i")))
  done
  awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f 0 0 0 %d\n", n / (b - a), n }'
}

# One wrk run against a peer; appends "rps p50 p99 non2xx" to $WORK/<scenario>.<peer>.
measure() {
  local scenario=$1 peer=$2 round=$3 port out
  port=$(port_of "$peer")
  local scheme=http
  [[ $peer == *-https ]] && scheme=https
  local ticks0 ticks1
  if [[ $scenario == handshakes || $scenario == resumed ]]; then
    local mode=-new hs
    [[ $scenario == resumed ]] && mode="-reuse -tls1_2"
    ticks0=$(cpu_ticks "${PEER_PID[$peer]}")
    hs=$(handshake_run "$port" "$mode")
    ticks1=$(cpu_ticks "${PEER_PID[$peer]}")
    read -r rps _ _ _ n <<<"$hs"
    [[ $n -gt 0 ]] || { echo "$peer: no handshake completed" >&2; exit 1; }
    echo "$rps 0 0 0 $(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')" \
      >>"$WORK/$scenario.$peer"
    return
  fi
  # A short warm-up fills connection pools (they stay filled for later rounds).
  if [[ $round == 1 ]]; then
    $LOADGEN_CPU wrk -t1 -c"$CONNECTIONS" -d1s -s "loadtest/wrk/$scenario.lua" "$scheme://127.0.0.1:$port/v1/chat/completions" >/dev/null
  fi
  ticks0=$(cpu_ticks "${PEER_PID[$peer]}")
  out=$($LOADGEN_CPU wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "loadtest/wrk/$scenario.lua" \
    "$scheme://127.0.0.1:$port/v1/chat/completions")
  ticks1=$(cpu_ticks "${PEER_PID[$peer]}")
  local rps p50 p99 non2xx cpu
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
    'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  echo "$rps $p50 $p99 ${non2xx:-0} $cpu" >>"$WORK/$scenario.$peer"
}

# CPU per request uses cpu_ticks (lib.sh): comparable even when the load
# generator's core, not the proxy's, caps requests/s (200 KB uploads).
CLK_TCK=$(getconf CLK_TCK)

# Median over rounds of a peer's requests/s divided by the first peer's in the
# same round, with the quartiles of those ratios (their spread). Rounds follow
# each other within seconds, so a host that drifts between minutes moves both
# sides of each ratio together.
paired() {
  paired_ratios "$1" "$2" "${3:-1}" | awk '{ printf "%.3f [%.3f..%.3f]", $1, $2, $3 }'
}

# The run with the median requests/s of a peer (its p50 and p99 come with it),
# then the lowest and highest requests/s.
summary() {
  local cpu
  cpu=$(awk '{ print $5 }' "$1" | sort -g | awk '{ c[NR] = $1 } END { print c[int((NR + 1) / 2)] }')
  sort -n -k1,1 "$1" | awk -v cpu="$cpu" '{ row[NR] = $0; r[NR] = $1 } END {
    split(row[int((NR + 1) / 2)], m, " ")
    printf "%s %s %s %s %s %s %s\n", m[1], m[2], m[3], m[4], r[1], r[NR], cpu }'
}

# The order peers run in within a round: PEERS as given, or (SHUFFLE=1, the
# default with rounds) a fresh permutation each round, seeded by SEED and the
# round. This host has shown slot effects: one position of a fixed rotation
# penalised 5-20% for many rounds, whichever peer held it (a neighbour's
# period aliasing with the rotation). Shuffling spreads that over all peers.
round_order() {
  if [[ $ROUNDS == 1 || $SHUFFLE != 1 ]]; then
    echo "$PEERS"
  else
    printf '%s\n' $PEERS | awk -v seed="$((SEED * 1000 + $1))" 'BEGIN { srand(seed) } { print rand(), $0 }' |
      sort -g -k1,1 | cut -d' ' -f2 | tr '\n' ' '
  fi
}

for scenario in $SCENARIOS; do
  for round in $(seq 1 "$ROUNDS"); do
    for peer in $(round_order "$round"); do measure "$scenario" "$peer" "$round"; done
  done
  echo
  echo "scenario: $scenario"
  if [[ $ROUNDS == 1 ]]; then
    printf "%-20s %12s %10s %10s %8s %9s\n" peer "req/s" "p50 ms" "p99 ms" non2xx "vs first"
  else
    printf "%-20s %12s %10s %10s %8s %9s %21s %21s %10s %21s\n" peer "median req/s" "p50 ms" "p99 ms" non2xx "vs first" \
      "min..max req/s" "paired [q1..q3]" "cpu us/req" "cpu paired [q1..q3]"
  fi
  first_rps=""
  first_peer=${PEERS%% *}
  for peer in $PEERS; do
    read -r rps p50 p99 non2xx lo hi cpu < <(summary "$WORK/$scenario.$peer")
    [[ -z $first_rps ]] && first_rps=$rps
    ratio=$(awk -v a="$rps" -v b="$first_rps" 'BEGIN { printf "%.2f", a / b }')
    if [[ $ROUNDS == 1 ]]; then
      printf "%-20s %12s %10s %10s %8s %9s\n" "$peer" "$rps" "$p50" "$p99" "$non2xx" "$ratio"
    else
      printf "%-20s %12s %10s %10s %8s %9s %21s %21s %10s %21s\n" "$peer" "$rps" "$p50" "$p99" "$non2xx" "$ratio" \
        "$lo..$hi" "$(paired "$WORK/$scenario.$peer" "$WORK/$scenario.$first_peer")" "$cpu" \
        "$(paired "$WORK/$scenario.$peer" "$WORK/$scenario.$first_peer" 5)"
    fi
  done
done
