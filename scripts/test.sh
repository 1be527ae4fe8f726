#!/usr/bin/env bash
# Runs every test: unit and integration tests (real gateway and mock model
# server processes on loopback). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# The official openai client (SDK tests) and the Kubernetes schemas (manifest test).
if [[ ! -d tests/node/node_modules/openai || ! -d tests/node/node_modules/kubernetes-models ]]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
BUILD_DIR=${BUILD_DIR:-build}
# Two parallel jobs match the CI machine; every test bounds its own time.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 180 "$@"
# Every libFuzzer target briefly (ASan + UBSan), so each change is fuzzed;
# FUZZ_SECONDS=0 skips it, bash scripts/fuzz.sh 600 fuzzes longer.
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
if ((FUZZ_SECONDS > 0)); then
  bash scripts/fuzz.sh "$FUZZ_SECONDS"
fi
