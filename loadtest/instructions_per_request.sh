#!/usr/bin/env bash
# loadtest/instructions_per_request.sh [VARIANT...]: the gateway's user-space
# instructions per small request, counted by callgrind, for configurations
# that differ by one feature: base (every monitoring default on), auth (an API
# key required), keys (the key and a local rate limit that never trips), and
# redis (that limit kept in a local redis-server). A count of instructions
# does not move with this host's noise the way time does, so it tells a
# 1-2% difference that paired timings cannot. Kernel time is not counted: the
# variants send the same bytes, except the x-ratelimit-* lines of keys/redis.
# INFERGATE_BIN: another build to count (a worktree of an earlier commit).
# KEEP=DIR keeps each variant's callgrind file there (callgrind_annotate).
# REQUESTS (3000) after WARMUP (2000); static nginx backend; loopback only,
# everything it starts is stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
source loadtest/lib.sh
VARIANTS=${*:-base auth keys}
REQUESTS=${REQUESTS:-3000}; WARMUP=${WARMUP:-2000}
W=$(mktemp -d); BACKEND=18310; PORT=18311; ADMIN=18312; REDIS=18313
cleanup() { kill ${GP:-} ${NP:-} ${RP:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
static_backend_conf $W/static $BACKEND >$W/static.conf
nginx -c $W/static.conf -e $W/static/error.log >/dev/null 2>&1 & NP=$!
wait_port $BACKEND
# n requests on 4 keep-alive connections, each answered before the next (wrk
# counts by time, not number).
send() {
  node -e '
    const http = require("http"), n = +process.argv[1], port = +process.argv[2];
    const body = JSON.stringify({model: "mock-model", messages: [{role: "system", content: "You are terse."},
      {role: "user", content: "Say hello in five words."}], max_tokens: 16, temperature: 0.2});
    const agent = new http.Agent({keepAlive: true, maxSockets: 4});
    let left = n, bad = 0;
    const one = () => new Promise((done) => {
      const r = http.request({port, method: "POST", path: "/v1/chat/completions", agent, headers: {
        "Content-Type": "application/json", "Authorization": "Bearer sk-loadtest-key-0123456789abcdef"}},
        (res) => { if (res.statusCode !== 200) bad++; res.resume(); res.on("end", done); });
      r.end(body);
    });
    const lane = async () => { while (left-- > 0) await one(); };
    Promise.all([lane(), lane(), lane(), lane()]).then(() => { if (bad) { console.error(bad + " not 200"); process.exit(1); } });
  ' "$1" $PORT
}
for variant in $VARIANTS; do
  gateway_yaml $PORT $ADMIN $BACKEND 1 >$W/$variant.yaml
  case $variant in
    base) ;;
    auth) keys_yaml >>$W/$variant.yaml ;;
    keys) keys_yaml limits >>$W/$variant.yaml ;;
    redis)
      [[ -n ${RP:-} ]] || { redis-server --port $REDIS --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 & RP=$!; wait_port $REDIS; }
      keys_yaml limits >>$W/$variant.yaml
      printf 'rate_limits:\n  store: redis\n  redis:\n    address: 127.0.0.1:%s\n' $REDIS >>$W/$variant.yaml ;;
    *) echo "unknown variant $variant" >&2; exit 1 ;;
  esac
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$W/$variant.out \
    "${INFERGATE_BIN:-build/gateway/infergate}" --config $W/$variant.yaml >/dev/null 2>$W/$variant.log & GP=$!
  wait_port $PORT 60
  send $WARMUP || exit 1
  callgrind_control -i on $GP >/dev/null
  send $REQUESTS || exit 1
  callgrind_control -i off $GP >/dev/null
  kill -INT $GP; wait $GP 2>/dev/null; GP=
  ir=$(cat $W/$variant.out* | awk '/^(summary|totals):/ {s += $2} END {print s}')
  [[ -n ${KEEP:-} ]] && mkdir -p "$KEEP" && cp $W/$variant.out "$KEEP/$variant.callgrind"
  awk -v v=$variant -v ir="$ir" -v n=$REQUESTS 'BEGIN { printf "%-6s %10.0f instructions/request\n", v, ir / n }'
done
