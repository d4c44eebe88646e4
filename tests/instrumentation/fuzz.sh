#!/bin/sh
# Builds the stream decoder's libFuzzer target with clang (whatever compiler the project uses) and
# runs it for a while, then (if the project is built: $SPANSCOPE_BUILD_DIR, default build/) the
# session fuzzer (tests/ui/session_fuzz.cpp) on a freshly recorded session. CI:
# tests/instrumentation/fuzz.sh [SECONDS [SESSION_SECONDS]] (default 20 and 60). Exit 0 = no crash,
# hang or unbounded allocation.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-20}
session_seconds=${2:-60}
build=${SPANSCOPE_BUILD_DIR:-$root/build}
out=${FUZZ_OUT:-${TMPDIR:-/tmp}/spanscope-fuzz}
mkdir -p "$out/corpus"
cxx=${CLANGXX:-clang++}
"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/instrumentation" -I"$root/allocator" -DSPANSCOPE_EVENTS=1 \
  "$root/instrumentation/fuzz/stream_decoder_fuzz.cpp" "$root/instrumentation/decoder.cpp" \
  "$root/instrumentation/stream_format.cpp" -o "$out/stream_decoder_fuzz"
# Seeds: a valid stream (header, an events frame, the trailer) written by the seed generator.
"$cxx" -std=c++20 -O1 -I"$root/instrumentation" -I"$root/allocator" -I"$here" -DSPANSCOPE_EVENTS=1 \
  "$here/fuzz_seed.cpp" "$root/instrumentation/stream_format.cpp" -o "$out/fuzz_seed"
"$out/fuzz_seed" "$out/corpus/seed-valid"
"$out/stream_decoder_fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=5 -print_final_stats=1 "$out/corpus"

# Sessions: a real recording, mutated structure-aware; failures are kept in $out/sessions.
if [ -x "$build/tests/ui/session_fuzz" ] && [ "$session_seconds" != 0 ]; then
  mkdir -p "$out/sessions"
  seed="$out/sessions/seed.spanscope"
  rm -f "$seed"
  "$build/app/spanscope-cli" record -o "$seed" -- "$build/tests/instrumentation/alloc_workload" \
    --seconds 0.3 --threads 2 >/dev/null 2>&1
  "$build/tests/ui/session_fuzz" "$seed" "$session_seconds" "$out/sessions"
fi
