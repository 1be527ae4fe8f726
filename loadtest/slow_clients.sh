#!/usr/bin/env bash
# Normal traffic while slow clients hold connections (issue 14): the bundled
# mock behind infergate (1 worker, CPU 1), wrk -t1 -c16 with the small chat
# request (CPU 0, with the mock), and slowhttptest holding SLOW connections
# (CPU 0 at idle priority: kept off the gateway's core, and off the load
# generator's time, since slowhttptest busy-polls a whole core). Each round measures
# wrk alone, then wrk with the attack ramped up, and prints the paired ratio
# (attacked / alone) per round, its median and spread, for slowloris (-H: heads
# sent a line every 10 s) and slow bodies (-B: a declared body trickled in).
#
#   bash loadtest/slow_clients.sh             # ROUNDS=5 DURATION=3s SLOW=2000
#
# Bounded: every wrk run lasts DURATION, each attack lasts at most ATTACK_S
# seconds; every process started is stopped on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3s}
SLOW=${SLOW:-2000}
ATTACK_S=${ATTACK_S:-60}
BUILD_DIR=${BUILD_DIR:-build}
MOCK_PORT=${MOCK_PORT:-18200}
IG_PORT=${IG_PORT:-18280}
IG_ADMIN_PORT=${IG_ADMIN_PORT:-18290}
# 0 by default here: a busy-polling worker burns its core whatever the load,
# which would hide the CPU each request costs (printed per round).
BUSY_POLL_US=${BUSY_POLL_US:-0}

bash scripts/build.sh >/dev/null
command -v slowhttptest >/dev/null || { echo "slowhttptest is missing (apt-get install slowhttptest)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"  # the attacker and the gateway each hold SLOW sockets

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "slowhttptest.*127.0.0.1:$IG_PORT" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

taskset -c 0 "$BUILD_DIR/loadtest/infergate-mock" --listen "127.0.0.1:$MOCK_PORT" --threads 1 >/dev/null &
PIDS+=($!)
gateway_yaml "$IG_PORT" "$IG_ADMIN_PORT" "$MOCK_PORT" 1 "  busy_poll_us: $BUSY_POLL_US" >"$WORK/infergate.yaml"
taskset -c 1 "$BUILD_DIR/gateway/infergate" --config "$WORK/infergate.yaml" >/dev/null 2>"$WORK/infergate.log" &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$IG_ADMIN_PORT/readyz" >/dev/null && break; sleep 0.05; done

connections() {
  curl -s "http://127.0.0.1:$IG_ADMIN_PORT/metrics" | awk '/^infergate_downstream_connections /{print int($2)}'
}
# Prints "requests/s gateway-CPU-µs-per-request": the second tells the
# gateway's own cost apart from the load generator's core being shared.
rps() {
  local before after out
  before=$(cpu_ticks "$GATEWAY_PID")
  out=$(taskset -c 0 wrk -t1 -c16 -d "$DURATION" -s loadtest/wrk/chat_small.lua "http://127.0.0.1:$IG_PORT/v1/chat/completions")
  after=$(cpu_ticks "$GATEWAY_PID")
  awk -v b="$before" -v a="$after" -v hz="$(getconf CLK_TCK)" '
    / requests in /{n=$1} /Requests\/sec/{r=$2}
    END{printf "%s %.1f\n", r, (a-b)/hz*1e6/n}' <<<"$out"
}
attack() {  # $1: -H or -B
  local extra=()
  [[ $1 == -B ]] && extra=(-t POST -s 65536)
  # slowhttptest polls its sockets flat out (100% of a core): SCHED_IDLE keeps
  # it from taking CPU 0 from wrk and the mock, so the ratio is the gateway's.
  chrt --idle 0 taskset -c 0 slowhttptest "$1" -c "$SLOW" -r 1000 -i 10 -x 10 -p 3 -l "$ATTACK_S" "${extra[@]}" \
    -u "http://127.0.0.1:$IG_PORT/v1/chat/completions" >/dev/null 2>&1 &
  ATTACK_PID=$!
  for _ in $(seq 200); do (($(connections) >= SLOW * 95 / 100)) && return; sleep 0.05; done
  echo "  (only $(connections) slow connections opened)" >&2
}
stop_attack() {
  kill "$ATTACK_PID" 2>/dev/null || true
  wait "$ATTACK_PID" 2>/dev/null || true
  for _ in $(seq 200); do (($(connections) < 20)) && return; sleep 0.05; done
}

rps >/dev/null  # warm-up
for mode in -H -B; do
  ratios=()
  echo "slowhttptest $mode, $SLOW connections, wrk -t1 -c16 -d$DURATION, $ROUNDS rounds"
  cpus=()
  for r in $(seq "$ROUNDS"); do
    read -r alone aloneCpu <<<"$(rps)"
    attack "$mode"
    held=$(connections)
    read -r attacked attackedCpu <<<"$(rps)"
    held_after=$(connections)
    stop_attack
    ratio=$(awk -v a="$attacked" -v b="$alone" 'BEGIN{printf "%.3f", a/b}')
    ratios+=("$ratio")
    cpus+=("$(awk -v a="$attackedCpu" -v b="$aloneCpu" 'BEGIN{printf "%.3f", a/b}')")
    printf '  round %d: alone %s req/s (%s us CPU/req), attacked %s req/s (%s us CPU/req; slow connections %s..%s), ratio %s\n' \
      "$r" "$alone" "$aloneCpu" "$attacked" "$attackedCpu" "$held" "$held_after" "$ratio"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END{printf "  paired req/s ratio: median %.3f, min %.3f, max %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}'
  printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END{printf "  paired gateway CPU per request ratio: median %.3f, min %.3f, max %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}'
done
