#!/usr/bin/env bash
# Instruction counts of allocbench patterns under glibc and under the spanscope preload, whole
# program, with valgrind's callgrind (deterministic: unaffected by the machine's load, unlike
# bench/compare.sh's wall-clock ratios). docs/BENCHMARKS.md quotes its table.
#
#   bench/callgrind.sh [options] [PATTERN[:SCALE] ...]
#
# Default patterns and scales: churn-1t:0.1 churn-mt:0.05 server:0.02 fragrounds:0.15. Prints one
# row per pattern: instructions under glibc, under spanscope, and their ratio. Multi-threaded
# patterns are counted over all threads (callgrind runs them one at a time).
#
# Options:
#   --bench PATH      the allocbench binary (default build/bench/allocbench)
#   --spanscope PATH  libspanscope.so (default build/app/libspanscope.so)
#   --only A          only one allocator: glibc or spanscope
#   --keep DIR        keep the callgrind output files in DIR (for callgrind_annotate)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench="$root/build/bench/allocbench"
spanscope="$root/build/app/libspanscope.so"
only=""
keep=""
specs=()

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --spanscope) spanscope=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        -*) echo "callgrind.sh: unknown option $1" >&2; usage 2 ;;
        *) specs+=("$1"); shift ;;
    esac
done
[ ${#specs[@]} -gt 0 ] || specs=(churn-1t:0.1 churn-mt:0.05 server:0.02 fragrounds:0.15)
case "$only" in ''|glibc|spanscope) ;; *) echo "callgrind.sh: --only takes glibc or spanscope" >&2; exit 2 ;; esac

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }
[ -x "$bench" ] || { echo "callgrind.sh: $bench not found; build it: cmake --build build --target allocbench" >&2; exit 2; }
spanscope=$(cd "$(dirname "$spanscope")" 2>/dev/null && pwd)/$(basename "$spanscope")
[ -n "$only" ] && [ "$only" = glibc ] || [ -f "$spanscope" ] ||
    { echo "callgrind.sh: $spanscope not found; build it: cmake --build build --target spanscope_preload" >&2; exit 2; }

dir=${keep:-$(mktemp -d)}
mkdir -p "$dir"
[ -n "$keep" ] || trap 'rm -rf "$dir"' EXIT

# count ALLOCATOR PATTERN SCALE: total instructions ("I refs") of one run, or nothing on failure.
count() {
    local out="$dir/$2-$1.callgrind" log="$dir/$2-$1.log"
    local pre=""
    [ "$1" = spanscope ] && pre=$spanscope
    if ! env ${pre:+LD_PRELOAD=$pre} valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
        "$bench" "$2" --scale "$3" >"$log" 2>&1; then
        echo "callgrind.sh: $1 $2 failed; see $log" >&2
        return
    fi
    sed -n 's/.*I *refs: *//p' "$log" | tr -d ,
}

printf '%-12s %6s %14s %14s %7s\n' pattern scale glibc spanscope ratio
status=0
for spec in "${specs[@]}"; do
    pattern=${spec%%:*}
    scale=${spec#*:}
    [ "$scale" = "$spec" ] && scale=0.1
    if ! "$bench" list | grep -qx -- "$pattern"; then echo "callgrind.sh: unknown pattern $pattern" >&2; exit 2; fi
    g=""; s=""
    [ "$only" = spanscope ] || g=$(count glibc "$pattern" "$scale")
    [ "$only" = glibc ] || s=$(count spanscope "$pattern" "$scale")
    { [ "$only" = spanscope ] || [ -n "$g" ]; } && { [ "$only" = glibc ] || [ -n "$s" ]; } || status=1
    ratio=""
    [ -n "$g" ] && [ -n "$s" ] && ratio=$(awk -v a="$s" -v b="$g" 'BEGIN { printf "%.3f", a / b }')
    printf '%-12s %6s %14s %14s %7s\n' "$pattern" "$scale" "${g:--}" "${s:--}" "${ratio:--}"
done
exit $status
