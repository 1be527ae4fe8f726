#!/usr/bin/env bash
# Builds everything, then runs infergate in front of the bundled mock model
# server with config/examples/quickstart.yaml until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}

"$BUILD_DIR/loadtest/infergate-mock" --listen 127.0.0.1:8000 --inter-token-ms 30 &
MOCK_PID=$!
trap 'kill $MOCK_PID 2>/dev/null; wait $MOCK_PID 2>/dev/null || true' EXIT
sleep 0.2

cat <<'MSG'

infergate is starting in front of the mock model server. Try:

  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"model":"mock-model","messages":[{"role":"user","content":"Hello"}]}'

  curl -N http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"model":"mock-model","stream":true,"messages":[{"role":"user","content":"Hello"}]}'

  curl -s http://127.0.0.1:9090/readyz

Press Ctrl-C to stop (in-flight requests are drained first).

MSG
"$BUILD_DIR/gateway/infergate" --config config/examples/quickstart.yaml
