#!/usr/bin/env bash
# Recording, measured side by side (issue 12; docs/BENCHMARKS.md "Recording"):
#  1. the emitting side: build/bench/emit_bench, the CPU one record costs the allocating thread
#     (into the probe's ring) and the probe's drain thread (Google Benchmark);
#  2. end to end: every allocbench pattern preloaded with libspanscope.so and not recorded (the
#     event sink off), against the same run recorded by `spanscope-cli record`; and Go's
#     binary-trees on the managed heap (gcbench, which starts the probe itself when recorded:
#     `record --no-preload`). Runs alternate; the ratio is of the medians of the program's own
#     time (what it prints as seconds=), and "wall" that of the whole command (the recorder's end
#     included). Per recorded run: records, records per second of the program's time, bytes per
#     record on disk (the session file), and the recorder's CPU per record (its own process).
#     CPU time moves far less than wall time on a machine shared with other work: "prog CPU" is
#     the ratio of the program process's CPU (its threads and the probe's drain and sampler;
#     recorded: as the recorder's wait4 reports it) recorded and not, "all CPU" adds the recorder's (its end included: the heap profile's
#     symbols); on two cores the program keeps busy, "all CPU" is what its wall time would lose.
#   bench/recording.sh [--runs N] [--scale X] [--depth D] [--build DIR] [--no-emit] [PATTERN...]
# PATTERN: allocbench patterns and/or gc-binary-trees (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 scale=1 depth=18 build=build emit=1
patterns=()
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-emit) emit=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "recording.sh: unknown option $1" >&2; exit 2 ;;
    *) patterns+=("$1"); shift ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "recording.sh: --runs needs a positive number" >&2; exit 2; }
bench=$build/bench/allocbench gcb=$build/bench/gcbench cli=$build/app/spanscope-cli lib=$build/app/libspanscope.so
for f in "$bench" "$gcb" "$cli" "$lib"; do [ -e "$f" ] || { echo "recording.sh: $f not built (./dev build)" >&2; exit 1; }; done
((${#patterns[@]})) || patterns=(churn-1t churn-mt prodcons bintree realloc large frag server fragrounds gc-binary-trees)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

if ((emit)) && [ -x "$build/bench/emit_bench" ]; then
  echo "== the emitting side (CPU per record; build/bench/emit_bench)"
  "$build/bench/emit_bench" --benchmark_min_time=0.5 --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true 2>"$tmp/emit.err" | grep -E '^(Benchmark|-{10}|.*_median)'
  echo
fi

echo "== end to end: $runs alternating runs each, allocbench --scale $scale, gcbench binary-trees $depth"
printf "%-16s %8s %8s %7s %7s %8s %8s %9s %10s %8s %11s\n" pattern "off (s)" recorded ratio wall "prog CPU" "all CPU" records "records/s" B/record "recorder us"
for p in "${patterns[@]}"; do
  if [[ $p == gc-binary-trees ]]; then
    off_cmd=("$gcb" binary-trees "$depth") on_cmd=("$cli" record --force --no-preload -o "$tmp/s.db" -- "$gcb" binary-trees "$depth")
  else
    off_cmd=(env LD_PRELOAD="$lib" "$bench" "$p" --scale "$scale") on_cmd=("$cli" record --force -o "$tmp/s.db" -- "$bench" "$p" --scale "$scale")
  fi
  for f in off on offwall onwall offcpu oncpu progcpu rec rps bpr cpu; do : >"$tmp/$f"; done
  for ((i = 0; i < runs; i++)); do
    t0=$(now); out=$(/usr/bin/time -f 'cpu=%U %S' -o "$tmp/t" "${off_cmd[@]}" 2>&1) ||
      { echo "recording.sh: $p failed: $out$(cat "$tmp/t")" >&2; exit 1; }; t1=$(now)
    sed -n 's/cpu=\([0-9.]*\) \([0-9.]*\)/\1 \2/p' "$tmp/t" | awk '{print $1 + $2}' >>"$tmp/offcpu"
    sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out" >>"$tmp/off"
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >>"$tmp/offwall"
    t0=$(now); out=$(/usr/bin/time -f 'cpu=%U %S' -o "$tmp/t" "${on_cmd[@]}" 2>&1) ||
      { echo "recording.sh: recording $p failed: $out$(cat "$tmp/t")" >&2; exit 1; }; t1=$(now)
    sed -n 's/cpu=\([0-9.]*\) \([0-9.]*\)/\1 \2/p' "$tmp/t" | awk '{print $1 + $2}' >>"$tmp/oncpu"
    secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
    echo "$secs" >>"$tmp/on"
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >>"$tmp/onwall"
    line=$(grep 'records in' <<<"$out")
    n=$(sed -n 's/.*record: \([0-9]*\) records in .*/\1/p' <<<"$line")
    echo "$n" >>"$tmp/rec"
    awk -v n="$n" -v s="$secs" 'BEGIN {print n / s}' >>"$tmp/rps"
    awk -v n="$n" -v b="$(stat -c %s "$tmp/s.db")" 'BEGIN {print b / n}' >>"$tmp/bpr"
    sed -n 's/.*(\([0-9.]*\) us\/record).*/\1/p' <<<"$line" >>"$tmp/cpu"
    # The program's own CPU, from the recorder's wait4 (its threads, the probe's drain and sampler);
    # gcbench starts its probe itself (record --no-preload): the same.
    sed -n 's/.*program CPU \([0-9.]*\) s.*/\1/p' <<<"$line" >>"$tmp/progcpu"
  done
  off=$(median <"$tmp/off") on=$(median <"$tmp/on")
  offcpu=$(median <"$tmp/offcpu")
  printf "%-16s %8.3f %8.3f %6.3fx %6.3fx %7.3fx %7.3fx %9.0f %10.0f %8.2f %11.3f\n" "$p" "$off" "$on" \
    "$(awk -v a="$off" -v b="$on" 'BEGIN {print b / a}')" \
    "$(awk -v a="$(median <"$tmp/offwall")" -v b="$(median <"$tmp/onwall")" 'BEGIN {print b / a}')" \
    "$(awk -v a="$offcpu" -v b="$(median <"$tmp/progcpu")" 'BEGIN {print b / a}')" \
    "$(awk -v a="$offcpu" -v b="$(median <"$tmp/oncpu")" 'BEGIN {print b / a}')" \
    "$(median <"$tmp/rec")" "$(median <"$tmp/rps")" "$(median <"$tmp/bpr")" "$(median <"$tmp/cpu")"
done
