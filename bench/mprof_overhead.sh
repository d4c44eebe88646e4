#!/usr/bin/env bash
# Heap-profiling overhead (issue 14's budget: under 2% at Go's default rate): each allocbench
# pattern preloaded with libspanscope.so, alternating SPANSCOPE_MEMPROFILERATE=0 (profiling off),
# the default (512 KiB) and 1 (every allocation); medians of --runs runs. With --record every run
# is recorded by 'spanscope-cli record' instead (so the samples also go into a session).
# Prints one line per pattern: ops/s off, at the default rate, at rate 1, and the two slowdowns.
# With --callgrind, instructions executed instead of ops/s (valgrind --tool=callgrind, one run
# each, at --scale X, default 0.1): not disturbed by other load on the machine.
# With --cpu, the program's CPU seconds (user + system, from wait4: page faults included, which
# callgrind does not count) instead of ops/s; the order of the rates alternates run by run.
# --no-rate1 skips rate 1 (under callgrind it is about 45x slower).
#   bench/mprof_overhead.sh [--runs N] [--record | --callgrind [--scale X] | --cpu] [--no-rate1] [--build DIR] [PATTERN...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 build=build record=0 callgrind=0 cpu=0 scale=0.1 rate1=1
patterns=()
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --record) record=1; shift ;;
    --callgrind) callgrind=1 runs=1; shift ;;
    --cpu) cpu=1; shift ;;
    --scale) scale=$2; shift 2 ;;
    --no-rate1) rate1=0; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "mprof_overhead.sh: unknown option $1" >&2; exit 2 ;;
    *) patterns+=("$1"); shift ;;
  esac
done
bench=$build/bench/allocbench cli=$build/app/spanscope-cli lib=$build/app/libspanscope.so
for f in "$bench" "$cli" "$lib"; do [ -e "$f" ] || { echo "mprof_overhead.sh: $f not built (./dev build)" >&2; exit 1; }; done
((${#patterns[@]})) || mapfile -t patterns < <("$bench" list)  # every pattern
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() {  # rate pattern -> ops/s (or instructions with --callgrind)
  if ((callgrind)); then
    SPANSCOPE_MEMPROFILERATE=$1 valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/cg.%p" \
      env LD_PRELOAD="$lib" "$bench" "$2" --scale "$scale" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | sort -g | tail -1
    rm -f "$tmp"/cg.*
    return
  fi
  if ((cpu)); then
    python3 -c 'import os, subprocess, sys
env = dict(os.environ, LD_PRELOAD=os.path.abspath(sys.argv[1]), SPANSCOPE_MEMPROFILERATE=sys.argv[2])
p = subprocess.Popen(sys.argv[3:], env=env, stdout=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
if status: sys.exit("mprof_overhead.sh: %s exited with status %d" % (sys.argv[3], status))
print("%.4f" % (ru.ru_utime + ru.ru_stime))' "$lib" "$1" "$bench" "$2"
    return
  fi
  if ((record)); then
    SPANSCOPE_MEMPROFILERATE=$1 "$cli" record --force -o "$tmp/s.db" -- "$bench" "$2" 2>&1
  else
    SPANSCOPE_MEMPROFILERATE=$1 LD_PRELOAD=$lib "$bench" "$2"
  fi | sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p'
}
unit="ops/s"; ((callgrind)) && unit="instr"; ((cpu)) && unit="CPU s"
printf "%-10s %14s %14s %14s %9s %9s\n" pattern "off ($unit)" "512 KiB" "rate 1" default "rate 1"
for p in "${patterns[@]}"; do
  : >"$tmp/off"; : >"$tmp/def"; : >"$tmp/one"
  for ((i = 0; i < runs; i++)); do
    if ((i % 2)); then
      one 524288 "$p" >>"$tmp/def"
      one 0 "$p" >>"$tmp/off"
    else
      one 0 "$p" >>"$tmp/off"
      one 524288 "$p" >>"$tmp/def"
    fi
    if ((rate1)); then one 1 "$p" >>"$tmp/one"; else echo 1 >>"$tmp/one"; fi
  done
  off=$(median <"$tmp/off") def=$(median <"$tmp/def") r1=$(median <"$tmp/one")
  if ((callgrind || cpu)); then a=$def b=$off c=$r1 d=$off; else a=$off b=$def c=$off d=$r1; fi  # slowdown > 1
  r1ratio=$(awk -v a="$c" -v b="$d" 'BEGIN {printf "%.2fx", a / b}')
  ((rate1)) || { r1=- r1ratio=-; }
  printf "%-10s %14s %14s %14s %8.3fx %9s\n" "$p" "$off" "$def" "$r1" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN {print a / b}')" "$r1ratio"
done
