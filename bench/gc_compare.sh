#!/usr/bin/env bash
# Compares spanscope's collector (build/bench/gcbench) with Go's (bench/go/gcbench.go, built with the
# Debian golang-go toolchain) on the same workloads: binary-trees, and allocation of 16..8192-byte
# pointerful objects. Runs are interleaved; medians of --runs (default 3). Also prints a few gctrace
# lines of each for the binary-trees workload. See docs/BENCHMARKS.md.
#   bench/gc_compare.sh [--runs N] [--gcbench PATH] [--depth D] [--count N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 depth=16 count=2000000 gcbench=build/bench/gcbench
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --gcbench) gcbench=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "gc_compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$gcbench" ] || { echo "gc_compare.sh: $gcbench not built (cmake --build build --target gcbench)" >&2; exit 1; }
command -v go >/dev/null || { echo "gc_compare.sh: no Go toolchain (apt-get install golang-go)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
GOCACHE=$tmp/gocache GOPATH=$tmp/gopath go build -o "$tmp/gcbench-go" bench/go/gcbench.go
echo "# $(go version | cut -d' ' -f3) vs spanscope, $(nproc) CPUs, $runs run(s), $(date -u +%Y-%m-%dT%H:%MZ)"

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '| workload | impl | seconds | ops/s | cycles | avg STW pause ms | GC CPU %% |\n|---|---|--:|--:|--:|--:|--:|\n'
for w in "binary-trees $depth" "alloc 16 $count" "alloc 64 $count" "alloc 256 $count" "alloc 1024 $count" "alloc 8192 $((count / 4))"; do
  for impl in spanscope go; do : > "$tmp/$impl.out"; done
  for ((r = 0; r < runs; r++)); do
    "$gcbench" $w >> "$tmp/spanscope.out"
    "$tmp/gcbench-go" $w >> "$tmp/go.out"
  done
  for impl in spanscope go; do
    f=$tmp/$impl.out
    printf '| %s | %s | %.3f | %.0f | %s | %.3f | %.1f |\n' "$w" "$impl" \
      "$(field seconds < "$f" | median)" "$(field ops_per_sec < "$f" | median)" "$(field num_gc < "$f" | median)" \
      "$(field pause_avg_ms < "$f" | median)" "$(field gc_cpu_fraction < "$f" | median | awk '{print $1 * 100}')"
  done
done

echo
echo "gctrace, binary-trees $depth (first 4 cycles after start-up):"
echo "spanscope:"; GODEBUG=gctrace=1 "$gcbench" binary-trees "$depth" 2>&1 >/dev/null | sed -n 5,8p
echo "go:";        GODEBUG=gctrace=1 "$tmp/gcbench-go" binary-trees "$depth" 2>&1 >/dev/null | sed -n 5,8p
