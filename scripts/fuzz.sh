#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) into build-fuzz/ and
# runs each for SECONDS (default 20), two at a time, from its seed corpus and
# dictionary in tests/fuzz/. New inputs go to a scratch corpus, never into the
# tree; a crash or a broken property prints its input and fails the run (the
# input is kept in build-fuzz/crashes/).
#
#   bash scripts/fuzz.sh              # every target, 20 s each (what the tests run)
#   bash scripts/fuzz.sh 600          # ten minutes each
#   bash scripts/fuzz.sh 3600 sse_tap # one target, an hour
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
SECONDS_EACH=${1:-20}
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(request_facts sse_tap http_head response_body redaction_scorers config baseline_file)
fi
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DINFERGATE_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# Quiet when it builds; the compiler's and linker's errors when it does not.
if ! cmake --build "$BUILD" -j"$(nproc)" >"$BUILD/build.log" 2>&1; then
  grep -E "error|FAILED|undefined" "$BUILD/build.log" | head -40 >&2
  echo "fuzz: the fuzz targets do not build (full log: $BUILD/build.log)" >&2
  exit 1
fi

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$BUILD/crashes"
run_one() {
  local t=$1 corpus="$SCRATCH/$1"
  mkdir -p "$corpus"
  local args=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536
              -artifact_prefix="$BUILD/crashes/$t-" -print_final_stats=1)
  [[ -f tests/fuzz/dict/$t.dict ]] && args+=(-dict="tests/fuzz/dict/$t.dict")
  if "$BUILD/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus" "tests/fuzz/corpus/$t" >"$SCRATCH/$t.log" 2>&1; then
    echo "fuzz $t: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$SCRATCH/$t.log" | grep -o '[0-9]*$') runs in ${SECONDS_EACH}s"
  else
    echo "fuzz $t: FAILED" >&2
    tail -40 "$SCRATCH/$t.log" >&2
    return 1
  fi
}
status=0
pids=()
for t in "${TARGETS[@]}"; do
  run_one "$t" & pids+=($!)
  if ((${#pids[@]} >= $(nproc))); then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
