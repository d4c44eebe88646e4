#!/usr/bin/env bash
# The heap profiler's share of each allocbench pattern's CPU time at the default rate, from perf's
# samples (cpu-clock): the samples in the profiler's code (libunwind, and mprof.cpp's sampling,
# bucket and sample-table functions) over all the run's samples. Unlike bench/mprof_overhead.sh's
# instruction counts it includes the cache and TLB misses of the profiler's tables, and unlike two
# wall-clock runs it needs no quiet machine: both shares come from the same run.
#   bench/prof_share.sh [--runs N] [--freq HZ] [--preload LIB] [PATTERN...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=2 freq=10000 lib=build/app/libspanscope.so bench=build/bench/allocbench
pats=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --freq) freq=$2; shift 2 ;;
    --preload) lib=$2; shift 2 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    -*) echo "prof_share.sh: unknown option $1" >&2; exit 2 ;;
    *) pats+=("$1"); shift ;;
  esac
done
command -v perf >/dev/null || { echo "prof_share.sh: perf not installed (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$bench" ] && [ -f "$lib" ] || { echo "prof_share.sh: build allocbench and libspanscope.so first" >&2; exit 1; }
((${#pats[@]})) || mapfile -t pats < <("$bench" list)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prof='libunwind|captureStack|profileAlloc|profileFree|profileSweep|insertSample|removeSample|insertLarge|removeLarge|Sampled|stackBucket|hashStack|nextSample|fastexprand|fastlog2|countFree|sendStack|warmUnwinder|arenaAlloc|growSamples'
printf '| pattern | profiler share of samples (per run) | samples per run |\n|---|---|---|\n'
for p in "${pats[@]}"; do
  shares=() counts=()
  for ((r = 0; r < runs; r++)); do
    LD_PRELOAD=$lib perf record -q -F "$freq" -o "$tmp/p.data" "$bench" "$p" >/dev/null 2>&1
    perf report -i "$tmp/p.data" --stdio --no-children --sort dso,sym 2>/dev/null | grep -E '^ +[0-9]' > "$tmp/r.txt" || true
    shares+=("$(grep -E "$prof" "$tmp/r.txt" | awk '{s += $1} END {printf "%.2f%%", s}')")
    counts+=("$(perf report -i "$tmp/p.data" --stdio 2>/dev/null | sed -n 's/^# Samples: \([0-9.]*K*\).*/\1/p' | head -1)")
  done
  printf '| %s | %s | %s |\n' "$p" "${shares[*]}" "${counts[*]}"
done
