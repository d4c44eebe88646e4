#!/usr/bin/env bash
# A/B test of two builds of libspanscope.so on allocbench's patterns, each against glibc in the
# same run (docs/BENCHMARKS.md): runs alternate glibc, A, B, glibc, A, B, ... so that the machine's
# drift falls on all three alike. Prints per pattern glibc's median ops/s and peak RSS, then A's
# and B's medians as ratios to glibc's.
#
#   bench/ab.sh [--runs N] [--scale X] [--bench PATH] A.so B.so [PATTERN...]
#
# Copy a build's library aside before rebuilding (cp build/app/libspanscope.so /tmp/a.so) to
# compare it with the next build. PATTERN defaults to every pattern `allocbench list` names.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 scale=1 bench=build/bench/allocbench
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    -*) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($# >= 2)) || { echo "usage: bench/ab.sh [--runs N] [--scale X] [--bench PATH] A.so B.so [PATTERN...]" >&2; exit 2; }
a=$1 b=$2
shift 2
for lib in "$a" "$b"; do
  [ -f "$lib" ] || { echo "ab.sh: no such library: $lib" >&2; exit 2; }
done
[ -x "$bench" ] || { echo "ab.sh: build allocbench first ($bench)" >&2; exit 2; }
pats=("$@")
((${#pats[@]})) || mapfile -t pats < <("$bench" list)

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

printf '| pattern | glibc ops/s | glibc peak RSS | A | B |\n|---|---:|---:|---:|---:|\n'
for p in "${pats[@]}"; do
  declare -A ops=() rss=()
  for ((r = 0; r < runs; r++)); do
    for k in glibc A B; do
      case $k in glibc) lib= ;; A) lib=$a ;; B) lib=$b ;; esac
      line=$(env ${lib:+LD_PRELOAD=$lib} "$bench" "$p" --scale "$scale" | tail -1)
      o=$(field ops_per_sec <<<"$line") m=$(field peak_rss_kb <<<"$line")
      [ -n "$o" ] && [ -n "$m" ] || { echo "ab.sh: $k $p printed no result: $line" >&2; exit 1; }
      ops[$k]="${ops[$k]:-} $o" rss[$k]="${rss[$k]:-} $m"
    done
  done
  g=$(median <<<"${ops[glibc]}") gr=$(median <<<"${rss[glibc]}")
  cell() {
    awk -v o="$(median <<<"${ops[$1]}")" -v m="$(median <<<"${rss[$1]}")" -v g="$g" -v gr="$gr" \
      'BEGIN {printf "%.2fx / RSS %.2fx", o / g, m / gr}'
  }
  awk -v p="$p" -v g="$g" -v gr="$gr" -v A="$(cell A)" -v B="$(cell B)" \
    'BEGIN {printf "| %s | %.2f M | %.1f MiB | %s | %s |\n", p, g / 1e6, gr / 1024, A, B}'
done
