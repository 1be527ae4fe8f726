#!/usr/bin/env bash
# Builds the image (deploy/container/build.sh), starts it in front of the
# bundled mock model server on the host's loopback, and checks /readyz and
# one proxied request. Needs podman or a running docker daemon and Debian's
# registry for the base images; where the machine has neither, it says so
# and stops (docs/operations.md tells how to run it elsewhere).
#   tests/deploy/container_image_test.sh MOCK_BIN
set -uo pipefail
cd "$(dirname "$0")/../.."
MOCK=$1
if ! { command -v podman >/dev/null && podman info >/dev/null 2>&1; } &&
   ! { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
  echo "container image test NOT RUN: no podman and no running docker daemon on this machine" \
       "(docker client: $(command -v docker || echo none)); run it where one is: tests/deploy/container_image_test.sh MOCK_BIN"
  exit 0
fi
ENGINE=docker; command -v podman >/dev/null && podman info >/dev/null 2>&1 && ENGINE=podman
TAG=infergate:test-$$
timeout 1200 deploy/container/build.sh "$TAG" || { echo "image build failed"; exit 1; }
"$MOCK" --listen 127.0.0.1:18700 >/dev/null 2>&1 & MP=$!
NAME=infergate-test-$$
cleanup() { "$ENGINE" rm -f "$NAME" >/dev/null 2>&1; kill $MP 2>/dev/null; "$ENGINE" rmi "$TAG" >/dev/null 2>&1; }
trap cleanup EXIT
"$ENGINE" run -d --name "$NAME" --network host --read-only -e INFERGATE_UPSTREAM=http://127.0.0.1:18700 \
  --tmpfs /var/lib/infergate "$TAG" >/dev/null || exit 1
for _ in $(seq 1 100); do
  curl -fs http://127.0.0.1:9090/readyz >/dev/null && break
  sleep 0.1
done
curl -fs http://127.0.0.1:9090/readyz || { echo "/readyz did not answer 200"; "$ENGINE" logs "$NAME"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"model":"mock-model","messages":[{"role":"user","content":"hi"}]}' http://127.0.0.1:8080/v1/chat/completions)
[[ $status == 200 ]] || { echo "proxied request answered $status"; "$ENGINE" logs "$NAME"; exit 1; }
echo "container image: /readyz 200, proxied request 200 ($ENGINE)"
