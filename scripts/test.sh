#!/usr/bin/env bash
# Runs every test: unit and integration tests (real gateway and mock model
# server processes on loopback). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
# Two parallel jobs match the CI machine; every test bounds its own time.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 180 "$@"
