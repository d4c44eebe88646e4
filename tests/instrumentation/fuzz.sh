#!/bin/sh
# Builds the stream decoder's libFuzzer target with clang (whatever compiler the project uses) and
# runs it for a while. CI: tests/instrumentation/fuzz.sh [SECONDS] (default 20). Exit 0 = no crash.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-20}
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
exec "$out/stream_decoder_fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=5 -print_final_stats=1 "$out/corpus"
