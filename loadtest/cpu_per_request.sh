#!/usr/bin/env bash
# loadtest/cpu_per_request.sh BEFORE_BIN|haproxy [BIN]: the proxy's CPU time
# and page faults per request, two gateway builds (or haproxy and a build)
# interleaved (perf stat on each process while wrk drives it), against the
# static nginx backend. CPU per request moves less with this host's noise than
# requests/s, and stays comparable when the load generator's core is the one
# that caps requests/s (200 KB uploads).
# SCRIPT (chat_small), ROUNDS (4), DURATION (2 s). Loopback only; everything it
# starts is stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh
BEFORE=$1; [[ $BEFORE != haproxy ]] && BEFORE=$(realpath "$1")
AFTER=$(realpath "${2:-build/gateway/infergate}")
SCRIPT=${SCRIPT:-chat_small}; ROUNDS=${ROUNDS:-4}; DURATION=${DURATION:-2}
W=$(mktemp -d); BACKEND=18300
cleanup() { kill ${BP:-} ${AP:-} ${NP:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
static_backend_conf $W/static $BACKEND >$W/static.conf
taskset -c 0 nginx -c $W/static.conf -e $W/static/error.log >/dev/null 2>&1 & NP=$!
start() {  # name bin port
  gateway_yaml $3 $(($3 + 10)) $BACKEND 1 >$W/$1.yaml
  taskset -c 1 $2 --config $W/$1.yaml >/dev/null 2>$W/$1.log &
}
if [[ $BEFORE == haproxy ]]; then
  haproxy_cfg 18301 $BACKEND 1 4096 >$W/haproxy.cfg
  taskset -c 1 haproxy -db -f $W/haproxy.cfg >/dev/null 2>&1 & BP=$!
else
  start before "$BEFORE" 18301; BP=$!
fi
start after "$AFTER" 18302; AP=$!
wait_port 18301; wait_port 18302
for round in $(seq 1 "$ROUNDS"); do
  for peer in before:18301:$BP after:18302:$AP; do
    IFS=: read -r name port pid <<<"$peer"
    perf stat -e task-clock,page-faults -p "$pid" -o $W/stat -- sleep $((DURATION + 1)) & SP=$!
    sleep 0.2
    reqs=$(taskset -c 0 wrk -t1 -c32 -d${DURATION}s -s loadtest/wrk/$SCRIPT.lua http://127.0.0.1:$port/v1/chat/completions |
      awk '/requests in/ {print $1}')
    wait $SP
    [[ $name == before && $BEFORE == haproxy ]] && name=haproxy
    awk -v n="$name" -v r="$reqs" -v k="$round" '/task-clock/ {t = $1} /page-faults/ {f = $1}
      END { gsub(",", "", t); gsub(",", "", f); printf "round %d %-6s %8d requests %8.1f us/request %6.2f faults/request\n", k, n, r, t * 1000 / r, f / r }' $W/stat
  done
done
