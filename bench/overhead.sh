#!/usr/bin/env bash
# Recording overhead (issue 3's budget: under 5%): each allocbench pattern preloaded with
# libspanscope.so and not recorded (the event sink off: one untaken branch per slow path), then
# the same run recorded into a session by 'spanscope-cli record'; runs alternate, the median of
# each side is compared. Prints one line per pattern: ops/s off, ops/s recording, slowdown,
# records and records/s.
#   bench/overhead.sh [--runs N] [--build DIR] [PATTERN...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 build=build
patterns=()
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "overhead.sh: unknown option $1" >&2; exit 2 ;;
    *) patterns+=("$1"); shift ;;
  esac
done
((${#patterns[@]})) || patterns=(churn-1t churn-mt prodcons bintree frag)
bench=$build/bench/allocbench cli=$build/app/spanscope-cli lib=$build/app/libspanscope.so
for f in "$bench" "$cli" "$lib"; do [ -e "$f" ] || { echo "overhead.sh: $f not built (./dev build)" >&2; exit 1; }; done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-10s %14s %14s %9s %10s %12s\n" pattern "off (ops/s)" "recording" slowdown records "records/s"
for p in "${patterns[@]}"; do
  : >"$tmp/off"; : >"$tmp/on"; : >"$tmp/rec"; : >"$tmp/rps"
  for ((i = 0; i < runs; i++)); do
    LD_PRELOAD=$lib "$bench" "$p" | sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p' >>"$tmp/off"
    out=$("$cli" record --force -o "$tmp/s.db" -- "$bench" "$p" 2>&1)
    sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p' <<<"$out" >>"$tmp/on"
    sed -n 's/.*record: \([0-9]*\) records in .*(\([0-9]*\) records\/s).*/\1 \2/p' <<<"$out" >"$tmp/last"
    cut -d' ' -f1 "$tmp/last" >>"$tmp/rec"; cut -d' ' -f2 "$tmp/last" >>"$tmp/rps"
  done
  off=$(median <"$tmp/off") on=$(median <"$tmp/on")
  printf "%-10s %14s %14s %8.2fx %10s %12s\n" "$p" "$off" "$on" "$(awk -v a="$off" -v b="$on" 'BEGIN {print a / b}')" \
    "$(median <"$tmp/rec")" "$(median <"$tmp/rps")"
done
