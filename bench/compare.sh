#!/usr/bin/env bash
# Compare malloc implementations on bench/allocbench's patterns (docs/BENCHMARKS.md).
#
#   bench/compare.sh [options] [PATH/TO/libspanscope.so]
#
# Runs every pattern under glibc (no preload), jemalloc, tcmalloc (minimal), mimalloc and spanscope,
# each run its own process, runs interleaved (run 1 of every pattern and allocator, then run 2, ...,
# with the allocator order rotated every run). Prints per pattern the median ops/s, its ratio to
# glibc, the median peak RSS and its ratio to glibc, then the geometric mean of the ratios per
# allocator. An allocator whose library is missing is skipped with a note. A run that crashes,
# exits non-zero, hangs (timeout) or prints no result line is reported (allocator, pattern, status,
# command) and makes the script exit 1 at the end; the other runs go on.
#
# Options:
#   --runs N          runs per pattern and allocator (default 3)
#   --patterns a,b    only these patterns (default: all, from `allocbench list`)
#   --allocators a,b  only these allocators (default: glibc,jemalloc,tcmalloc,mimalloc,spanscope)
#   --quick           scale the work down 10x (CI smoke test; figures are then meaningless)
#   --scale X         pass --scale X to allocbench (default 1, or 0.1 with --quick)
#   --threads N       pass --threads N to allocbench (default: allocbench's, 2)
#   --timeout S       seconds before a run counts as hung (default 300, 60 with --quick)
#   --bench PATH      the allocbench binary (default build/bench/allocbench)
#   --spanscope PATH  libspanscope.so (default build/app/libspanscope.so; also the positional arg)
#   --baseline PATH   another build of libspanscope.so, run as allocator "baseline" beside the others
#                     (an A/B test of a change: cp build/app/libspanscope.so /tmp/a.so before it)
#   --raw FILE        also write every run's result as tab-separated lines to FILE
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

runs=3
patterns=""
allocators="glibc,jemalloc,tcmalloc,mimalloc,spanscope"
quick=0
scale=""
threads=""
timeout_s=""
bench="$root/build/bench/allocbench"
spanscope="$root/build/app/libspanscope.so"
baseline=""
raw=""

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --patterns) patterns=$2; shift 2 ;;
        --allocators) allocators=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --scale) scale=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --bench) bench=$2; shift 2 ;;
        --spanscope) spanscope=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        --raw) raw=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        -*) echo "compare.sh: unknown option $1" >&2; usage 2 ;;
        *) spanscope=$1; shift ;;
    esac
done

case "$runs" in ''|*[!0-9]*|0) echo "compare.sh: --runs needs a positive integer" >&2; exit 2 ;; esac
[ -n "$scale" ] || { [ $quick = 1 ] && scale=0.1 || scale=1; }
[ -n "$timeout_s" ] || { [ $quick = 1 ] && timeout_s=60 || timeout_s=300; }

if [ ! -x "$bench" ]; then
    echo "compare.sh: $bench not found; build it: cmake --build build -j2 --target allocbench" >&2
    exit 2
fi
[ -n "$patterns" ] || patterns=$("$bench" list | paste -sd, -)
for p in ${patterns//,/ }; do
    if ! "$bench" list | grep -qx -- "$p"; then echo "compare.sh: unknown pattern $p" >&2; exit 2; fi
done

libdir=/usr/lib/x86_64-linux-gnu
lib_of() {
    case "$1" in
        glibc) echo "" ;;
        jemalloc) echo "$libdir/libjemalloc.so.2" ;;
        tcmalloc) echo "$libdir/libtcmalloc_minimal.so.4" ;;
        mimalloc) echo "$libdir/libmimalloc.so.2" ;;
        spanscope) echo "$spanscope" ;;
        baseline) [ -n "$baseline" ] && echo "$baseline" || echo "?" ;;
        *) echo "?" ;;
    esac
}

if [ -n "$baseline" ]; then
    [ -f "$baseline" ] || { echo "compare.sh: --baseline: no such library: $baseline" >&2; exit 2; }
    case ",$allocators," in *,baseline,*) ;; *) allocators="$allocators,baseline" ;; esac
fi
names=()
for a in ${allocators//,/ }; do
    lib=$(lib_of "$a")
    if [ "$lib" = "?" ]; then echo "compare.sh: unknown allocator $a" >&2; exit 2; fi
    if [ -n "$lib" ] && [ ! -f "$lib" ]; then
        echo "note: skipping $a: $lib not found" >&2
        continue
    fi
    names+=("$a")
done
if [ ${#names[@]} -eq 0 ]; then echo "compare.sh: no allocator to run" >&2; exit 2; fi

extra=(--scale "$scale")
[ -n "$threads" ] && extra+=(--threads "$threads")

results=$(mktemp); failures=$(mktemp); errlog=$(mktemp)
trap 'rm -f "$results" "$failures" "$errlog"' EXIT

signame() { local n=$(( $1 - 128 )); kill -l "$n" 2>/dev/null || echo "?"; }

echo "# allocbench: $bench, scale $scale, $runs run(s), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)" >&2
echo "# allocators: ${names[*]}" >&2
n=${#names[@]}
for ((r = 1; r <= runs; r++)); do
    for p in ${patterns//,/ }; do
        for ((k = 0; k < n; k++)); do
            a=${names[$(( (k + r - 1) % n ))]}
            lib=$(lib_of "$a")
            if [ -n "$lib" ]; then
                cmd=(env LD_PRELOAD="$lib" "$bench" "$p" "${extra[@]}")
            else
                cmd=(env -u LD_PRELOAD "$bench" "$p" "${extra[@]}")
            fi
            out=$(timeout -k 10 "$timeout_s" "${cmd[@]}" 2>"$errlog")
            st=$?
            line=$(printf '%s\n' "$out" | grep '^pattern=' | tail -1)
            why=""
            if [ $st -eq 124 ]; then
                why="hung: killed after ${timeout_s}s timeout (status $st)"
            elif [ $st -eq 137 ]; then
                why="killed: SIGKILL (status 137; timeout -k after ${timeout_s}s, or the OOM killer)"
            elif [ $st -gt 128 ]; then
                why="crashed: signal SIG$(signame $st) (status $st)"
            elif [ $st -ne 0 ]; then
                why="failed: exit status $st"
            elif [ -z "$line" ]; then
                why="failed: no result line on stdout"
            fi
            if [ -n "$why" ]; then
                printf '%-9s %-9s run %d: %s\n' "$a" "$p" "$r" "$why" >&2
                {
                    echo "allocator=$a pattern=$p run=$r: $why"
                    echo "  command: ${cmd[*]}"
                    if [ -s "$errlog" ]; then tail -n 5 "$errlog" | sed 's/^/  stderr: /'; fi
                } >>"$failures"
                printf '%s\t%s\t%d\tFAIL\t\t\n' "$a" "$p" "$r" >>"$results"
                continue
            fi
            ops=$(printf '%s\n' "$line" | sed -n 's/.*ops_per_sec=\([0-9.]*\).*/\1/p')
            rss=$(printf '%s\n' "$line" | sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p')
            sec=$(printf '%s\n' "$line" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
            printf '%-9s %-9s run %d: %s\n' "$a" "$p" "$r" "$line" >&2
            printf '%s\t%s\t%d\tOK\t%s\t%s\t%s\n' "$a" "$p" "$r" "$ops" "$rss" "$sec" >>"$results"
        done
    done
done
[ -n "$raw" ] && cp "$results" "$raw"

echo
python3 - "$results" "${patterns}" "${names[*]}" <<'EOF'
import math, statistics, sys
path, patterns, names = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split()
runs = {}  # (alloc, pattern) -> list of (ops, rss) ; failures counted separately
fails = {}
for line in open(path):
    f = line.rstrip("\n").split("\t")
    a, p, status = f[0], f[1], f[3]
    if status != "OK":
        fails[(a, p)] = fails.get((a, p), 0) + 1
        continue
    runs.setdefault((a, p), []).append((float(f[4]), float(f[5])))

def fmt_ops(x):
    return f"{x/1e6:.2f} M" if x >= 1e5 else f"{x/1e3:.1f} k"
def fmt_rss(kb):
    return f"{kb/1024:.1f} MiB"

ratios = {a: [] for a in names}
rss_ratios = {a: [] for a in names}
for p in patterns:
    print(f"### {p}\n")
    print("| allocator | ops/s (median) | vs glibc | peak RSS (median) | RSS vs glibc | runs ok |")
    print("|-----------|---------------:|---------:|------------------:|-------------:|--------:|")
    base = runs.get(("glibc", p))
    bops = statistics.median(r[0] for r in base) if base else None
    brss = statistics.median(r[1] for r in base) if base else None
    for a in names:
        rs = runs.get((a, p), [])
        nf = fails.get((a, p), 0)
        ok = f"{len(rs)}/{len(rs) + nf}"
        if not rs:
            print(f"| {a} | FAILED | - | - | - | {ok} |")
            continue
        ops = statistics.median(r[0] for r in rs)
        rss = statistics.median(r[1] for r in rs)
        tr = ops / bops if bops else None
        rr = rss / brss if brss else None
        if tr is not None and a != "glibc":
            ratios[a].append(tr)
            rss_ratios[a].append(rr)
        t = f"{tr:.2f}" if tr is not None else "-"
        m = f"{rr:.2f}" if rr is not None else "-"
        print(f"| {a} | {fmt_ops(ops)} | {t} | {fmt_rss(rss)} | {m} | {ok} |")
    print()

print("### summary: geometric mean over patterns of the ratio to glibc\n")
print("| allocator | throughput ratio | peak RSS ratio | patterns |")
print("|-----------|-----------------:|---------------:|---------:|")
for a in names:
    if a == "glibc":
        continue
    r = ratios[a]
    if not r:
        print(f"| {a} | - | - | 0/{len(patterns)} |")
        continue
    g = math.exp(sum(math.log(x) for x in r) / len(r))
    gr = math.exp(sum(math.log(x) for x in rss_ratios[a]) / len(rss_ratios[a]))
    print(f"| {a} | {g:.2f} | {gr:.2f} | {len(r)}/{len(patterns)} |")
print()
line = "summary: geomean throughput ratio to glibc: " + ", ".join(
    f"{a}={math.exp(sum(math.log(x) for x in ratios[a]) / len(ratios[a])):.2f}" + ("" if len(ratios[a]) == len(patterns) else f" ({len(ratios[a])}/{len(patterns)} patterns)")
    for a in names if a != "glibc" and ratios[a])
print(line if any(ratios[a] for a in names if a != "glibc") else "summary: no ratio to glibc could be computed")
EOF

if [ -s "$failures" ]; then
    echo
    echo "FAILED RUNS:"
    cat "$failures"
    exit 1
fi
exit 0
