#!/usr/bin/env bash
# Installs infergate's build, test and loadtest dependencies from Debian packages.
# Idempotent: does nothing when every package is already present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config curl
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libsimdjson-dev prometheus-cpp-dev libyaml-cpp-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  libre2-dev libcld2-dev libssl-dev libhiredis-dev redis-server clang-14 libclang-rt-14-dev slowhttptest
  libnss-wrapper
  wrk prometheus nginx-light haproxy python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm (for the openai SDK test) often come from elsewhere (nodesource
# bundles npm): only install Debian's when the commands are missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian services of the reference proxies must not hold ports; loadtest starts its own.
for svc in nginx haproxy prometheus redis-server; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
