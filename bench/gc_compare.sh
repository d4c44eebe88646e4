#!/usr/bin/env bash
# The collector fidelity report: the same workload shapes in Go 1.19 (bench/go/, built with the Debian
# golang-go toolchain) and in spanscope's managed heap (build/bench/gcbench), run interleaved with
# GODEBUG=gctrace=1 on both sides, printed as one Markdown table per shape for docs/BENCHMARKS.md.
# Shapes: a steady live set with churn at GOGC 50/100/400; GOGC=off with GOMEMLIMIT=48MiB; a live
# set that grows to 2 M objects then drops to 20 k (growdrop-touch: each object written once, as
# programs initialise theirs); Go's binary-trees. Objects are pointerful and
# under 512 bytes, where Go 1.19 and spanscope (Go 1.22+'s layout) lay them out alike.
# Per shape: cycles for the same allocated volume (median over runs), per-cycle heap0->heap1->heap2
# and goal (medians over every cycle of every run; forced cycles left out), where the trigger fell
# ((heap0 - last heap2) / (goal - last heap2)), the MB allocated during the mark, stop-the-world pauses
# (sweep termination, mark termination: median and max), mark wall time, idle-worker time, GC CPU %
# (GCCPUFraction, idle marking excluded on both sides, as Go does), peak RSS.
#   bench/gc_compare.sh [--runs N] [--gcbench PATH] [--shapes "steady-gogc100 limit ..."]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 gcbench=build/bench/gcbench
shapes="steady-gogc50 steady-gogc100 steady-gogc400 limit growdrop growdrop-touch binary-trees binary-trees-18"
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --gcbench) gcbench=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "gc_compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$gcbench" ] || { echo "gc_compare.sh: $gcbench not built (cmake --build build --target gcbench)" >&2; exit 1; }
command -v go >/dev/null || { echo "gc_compare.sh: no Go toolchain (apt-get install golang-go)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export GOCACHE=$tmp/gocache GOPATH=$tmp/gopath
go build -o "$tmp/gcbench-go" bench/go/gcbench.go
go build -o "$tmp/gcshapes-go" bench/go/gcshapes.go

# shape -> environment and arguments (the same for both programs)
shape_env() {
  case $1 in
    steady-gogc*) echo "GOGC=${1#steady-gogc}" ;;
    limit) echo "GOGC=off GOMEMLIMIT=48MiB" ;;
    *) echo "GOGC=100" ;;
  esac
}
shape_args() {
  case $1 in
    steady-*) echo "steady 100000 20000000" ;;
    limit) echo "steady 131072 20000000" ;;
    growdrop) echo "growdrop 2000000 20000 4000000" ;;
    growdrop-touch) echo "growdrop-touch 2000000 20000 4000000" ;;
    binary-trees) echo "binary-trees 16" ;;
    binary-trees-18) echo "binary-trees 18" ;;
    *) echo "gc_compare.sh: unknown shape $1" >&2; exit 2 ;;
  esac
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
maxof() { sort -g | tail -1; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
# gctrace: gc N @Ts P%: a+b+c ms clock, d+e/f/g+h ms cpu, H0->H1->H2 MB, G MB goal, ...
trace() {  # file column: stw1 mark stw2 idle heap0 heap1 heap2 goal
  grep '^gc [0-9]* @' "$1" | grep -v '(forced)' | awk -v col="$2" '{
    split($5, clk, "+"); split($8, cpu, "[+/]"); split($11, h, "->");
    v["stw1"] = clk[1]; v["mark"] = clk[2]; v["stw2"] = clk[3]; v["idle"] = cpu[4];
    v["heap0"] = h[1]; v["heap1"] = h[2]; v["heap2"] = h[3]; v["goal"] = $13
    v["inmark"] = h[2] - h[1]  # allocated during the mark (allocated black)
    # where the trigger fell between the last marked heap and this goal (Go 1.19 bounds it to 0.7-0.95)
    v["trigger"] = ($2 != 1 && $13 > prev) ? sprintf("%.2f", (h[1] - prev) / ($13 - prev)) : ""
    prev = h[3]; if (v[col] != "") print v[col] }'
}
# cycles each run completed (gctrace lines, forced ones left out): NumGC is read while a cycle may
# still be running (Go printed 9 lines where its NumGC said 8), so the lines are the count to compare
cycles() {
  grep '^gc [0-9]* @' "$1" | awk '$2 == 1 && NR > 1 {print n; n = 0} !/(forced)/ {n++} END {print n}'
}

echo "# $(go version | cut -d' ' -f3) vs spanscope, $(nproc) CPUs, $runs run(s) each, interleaved, $(date -u +%Y-%m-%dT%H:%MZ)"
for shape in $shapes; do
  env=$(shape_env "$shape"); args=$(shape_args "$shape")
  for impl in spanscope go; do : > "$tmp/$impl.out"; : > "$tmp/$impl.trace"; done
  for ((r = 0; r < runs; r++)); do
    env $env GODEBUG=gctrace=1 "$gcbench" $args >> "$tmp/spanscope.out" 2>> "$tmp/spanscope.trace"
    goprog=$tmp/gcshapes-go; [[ $shape == binary-trees* ]] && goprog=$tmp/gcbench-go
    env $env GODEBUG=gctrace=1 "$goprog" $args >> "$tmp/go.out" 2>> "$tmp/go.trace"
  done
  echo
  echo "### $shape: \`$env ${args}\`"
  echo
  echo '| impl | cycles | heap0->heap1->heap2 MB | goal MB | trigger | MB allocated in mark | sweep-term. pause ms | mark-term. pause ms (max) | mark ms | idle mark ms | GC CPU % | peak RSS MB | seconds |'
  echo '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|'
  for impl in spanscope go; do
    o=$tmp/$impl.out t=$tmp/$impl.trace
    printf '| %s | %s | %s->%s->%s | %s | %s | %s | %s | %s (%s) | %s | %s | %.1f | %s | %s |\n' "$impl" \
      "$(cycles "$t" | median)" "$(trace "$t" heap0 | median)" "$(trace "$t" heap1 | median)" \
      "$(trace "$t" heap2 | median)" "$(trace "$t" goal | median)" "$(trace "$t" trigger | median)" \
      "$(trace "$t" inmark | median)" "$(trace "$t" stw1 | median)" \
      "$(trace "$t" stw2 | median)" "$(trace "$t" stw2 | maxof)" "$(trace "$t" mark | median)" \
      "$(trace "$t" idle | median)" "$(field gc_cpu_fraction < "$o" | median | awk '{print $1 * 100}')" \
      "$(field peak_rss_mb < "$o" | median)" "$(field seconds < "$o" | median)"
  done
  sc=$(cycles "$tmp/spanscope.trace" | median) gc=$(cycles "$tmp/go.trace" | median)
  sg=$(trace "$tmp/spanscope.trace" goal | median) gg=$(trace "$tmp/go.trace" goal | median)
  awk -v a="$sc" -v b="$gc" -v c="$sg" -v d="$gg" 'BEGIN {
    printf "\nspanscope/Go: cycles %.2f (budget 0.85-1.15), median goal %s (budget 0.90-1.10)\n",
      b ? a / b : 0, (d > 0 ? sprintf("%.2f", c / d) : "-") }'
done
