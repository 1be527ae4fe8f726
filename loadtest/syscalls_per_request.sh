#!/usr/bin/env bash
# loadtest/syscalls_per_request.sh [BIN] [LABEL]: system calls per request of the gateway BIN
# under wrk SCRIPT (default chat_small; -c32, 3 s, one worker pinned to CPU 1, wrk and the mock on CPU 0),
# counted with strace -c on loopback. Bounded: every process it starts is stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh
SCRIPT=${SCRIPT:-chat_small}
BIN=$(realpath "${1:-build/gateway/infergate}"); LABEL=${2:-infergate}
PORT=18180; ADMIN=18190; MOCK=18100
W=$(mktemp -d)
build/loadtest/infergate-mock --listen 127.0.0.1:$MOCK --threads 1 >/dev/null 2>&1 & MP=$!
gateway_yaml $PORT $ADMIN $MOCK 1 >$W/c.yaml
taskset -c 1 $BIN --config $W/c.yaml >/dev/null 2>&1 & GP=$!
wait_port $PORT
taskset -c 0 wrk -t1 -c32 -d1s -s loadtest/wrk/$SCRIPT.lua http://127.0.0.1:$PORT/v1/chat/completions >/dev/null
strace -c -f -p $GP -o $W/strace.txt 2>/dev/null & SP=$!
sleep 0.5
OUT=$(taskset -c 0 wrk -t1 -c32 -d3s -s loadtest/wrk/$SCRIPT.lua http://127.0.0.1:$PORT/v1/chat/completions)
sleep 0.2
kill -INT $SP; wait $SP 2>/dev/null
REQ=$(echo "$OUT" | awk '/requests in/ {print $1}')
TOTAL=$(awk '/^100.00|total/ {print $4}' $W/strace.txt | tail -1)
echo "$LABEL: $REQ requests, $TOTAL syscalls, $(awk -v t=$TOTAL -v r=$REQ 'BEGIN{printf "%.2f", t/r}') per request"
awk 'NR>2 && $NF!="total" && $4+0>0 {printf "  %-14s %s\n", $NF, $4}' $W/strace.txt | sort -k2 -n -r | head -8
kill $GP $MP; wait 2>/dev/null; rm -rf $W
