#!/usr/bin/env bash
# Mark phases on a busy machine: the limit shape of the fidelity report (a steady live set, GOGC=off,
# GOMEMLIMIT=48MiB, 40 M allocations) run with LOOPS busy loops competing for the CPUs, in Go 1.19
# (bench/go/gcshapes.go) and in spanscope (build/bench/gcbench, or each --gcbench given, alternating),
# then once with no load. Prints per run: wall time, cycles, and the mark phase's median, p99 and
# longest wall time from gctrace. Idle marking must not hold the mark phase hostage to a thread the
# kernel leaves off the CPU (docs/ARCHITECTURE.md, "Workers").
#   bench/busy_marks.sh [--runs N] [--loops LOOPS] [--gcbench PATH]... [--no-go]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=2 loops=4 withgo=1 benches=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --loops) loops=$2; shift 2 ;;
    --gcbench) benches+=("$2"); shift 2 ;;
    --no-go) withgo=0; shift ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) echo "busy_marks.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
((${#benches[@]})) || benches=(build/bench/gcbench)
for b in "${benches[@]}"; do
  [ -x "$b" ] || { echo "busy_marks.sh: $b not built (cmake --build build --target gcbench)" >&2; exit 1; }
done
tmp=$(mktemp -d)
busy=()
stop_busy() { ((${#busy[@]})) && kill "${busy[@]}" 2>/dev/null; wait 2>/dev/null || true; busy=(); }
trap 'stop_busy; rm -rf "$tmp"' EXIT
progs=()
for b in "${benches[@]}"; do progs+=("$b"); done
if ((withgo)); then
  if command -v go >/dev/null; then
    GOCACHE=$tmp/gocache GOPATH=$tmp/gopath go build -o "$tmp/gcshapes-go" bench/go/gcshapes.go
    progs+=("$tmp/gcshapes-go")
  else
    echo "busy_marks.sh: no Go toolchain, spanscope only (apt-get install golang-go)" >&2
  fi
fi

one() {  # program label
  local s e
  s=$(date +%s%N)
  env GOGC=off GOMEMLIMIT=48MiB GODEBUG=gctrace=1 "$1" steady 131072 40000000 >/dev/null 2> "$tmp/trace"
  e=$(date +%s%N)
  grep '^gc [0-9]* @' "$tmp/trace" | grep -v '(forced)' | awk '{split($5, c, "+"); print c[2]}' |
    sort -g | awk -v w=$(((e - s) / 1000000)) -v l="$2" '{a[NR] = $1}
      END {printf "| %s | %.2f s | %d | %s | %s | %s |\n", l, w / 1000, NR, a[int((NR + 1) / 2)],
           a[int(NR * 0.99) + 1], a[NR]}'
}

echo "# $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ); mark = gctrace's concurrent-mark wall time (ms)"
for l in "$loops" 0; do
  echo
  echo "**$l busy loop(s)**"
  echo
  echo "| program | wall | cycles | mark median | mark p99 | longest mark |"
  echo "|---|---|---|---|---|---|"
  for ((i = 0; i < l; i++)); do (while :; do :; done) & busy+=($!); done
  for ((r = 0; r < runs; r++)); do
    for p in "${progs[@]}"; do
      label=$p; [ "$p" = "$tmp/gcshapes-go" ] && label="Go $(go version | cut -d' ' -f3)"
      one "$p" "$label"
    done
  done
  stop_busy
done
