#!/usr/bin/env bash
# Real programs under glibc's malloc and under libspanscope.so (docs/BENCHMARKS.md, issue 9): the
# wall time of sqlite3, python3, xz -T2 and gcc on generated, deterministic inputs, each program run
# alternately without and with the preload (the order flipped every run), printing the median of
# each and their ratio (spanscope time / glibc time: below 1 is faster under spanscope).
#
#   bench/realprograms.sh [--runs N] [--only a,b] [PATH/TO/libspanscope.so]
#
#   --runs N    runs per program and allocator (default 3)
#   --only a,b  only these programs (sqlite3, python3, xz, gcc)
# Every run's output is compared with the first glibc run's: a program that prints something else
# under the preload is reported and makes the script exit 1.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
runs=3
only="sqlite3,python3,xz,gcc"
lib="$root/build/app/libspanscope.so"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "realprograms.sh: unknown option $1" >&2; exit 2 ;;
        *) lib=$1; shift ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "realprograms.sh: --runs needs a positive integer" >&2; exit 2 ;; esac
if [ ! -f "$lib" ]; then echo "realprograms.sh: $lib not found (build it: ./dev build)" >&2; exit 2; fi
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")  # the programs run in another directory
if ! (cd / && LD_PRELOAD="$lib" cat /proc/self/maps 2>/dev/null) | grep -qF "$lib"; then
    echo "realprograms.sh: $lib does not load under LD_PRELOAD" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Inputs: generated once, identical for every run.
cat >"$work/q.sql" <<'SQL'
PRAGMA cache_size = -32000;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
INSERT INTO t SELECT i, (i * 7919) % 1000, printf('name-%08d-%s', (i * 104729) % 1000003, hex(i * i)),
                     ((i * 31337) % 100000) / 100.0 FROM c;
CREATE INDEX t_grp ON t(grp, val);
CREATE INDEX t_name ON t(name);
SELECT grp, count(*), round(avg(val), 3), min(name), max(name) FROM t GROUP BY grp ORDER BY 2 DESC, grp LIMIT 5;
SELECT count(DISTINCT substr(name, 6, 5)), sum(length(name)) FROM t;
SELECT grp, val, rnk FROM (SELECT grp, val, rank() OVER (PARTITION BY grp ORDER BY val DESC, id) AS rnk FROM t)
 WHERE rnk = 1 ORDER BY grp LIMIT 5;
UPDATE t SET name = name || '-' || grp WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(length(name)) FROM t;
SQL
cat >"$work/w.py" <<'PY'
import json, random
random.seed(7)
d = {}
for i in range(120000):
    d["key-%d-%s" % (i, "x" * (i % 23))] = [i, str(i * 31), {"v": i % 97}]
items = sorted(d.items(), key=lambda kv: (kv[1][0] * 7919) % 100003)
s = json.dumps(items[:40000])
back = json.loads(s)
words = [w for k, _ in items for w in k.split("-")]
counts = {}
for w in words:
    counts[w] = counts.get(w, 0) + 1
print(len(d), len(s), len(back), len(counts), sum(len(k) for k in d))
PY
python3 - "$work/xz.in" <<'PY'
import random, sys
random.seed(11)
words = ["alloc", "span", "sweep", "heap", "class", "page", "arena", "cache", "free", "mark"]
with open(sys.argv[1], "w") as f:
    for i in range(250000):
        f.write("%d %s %s %x\n" % (i, random.choice(words), random.choice(words) * random.randint(1, 4), random.getrandbits(40)))
PY
bash "$root/tests/preload/gen_c_program.sh" 200 >"$work/prog.c"

run_one() {  # program -> command line (run inside $work)
    case "$1" in
        sqlite3) echo "sqlite3 :memory: < q.sql" ;;
        python3) echo "PYTHONMALLOC=malloc python3 w.py" ;;  # malloc, not pymalloc, serves small objects
        xz) echo "xz -T2 -6 -c xz.in | md5sum" ;;
        gcc) echo "gcc -O2 -w -c prog.c -o prog.o && md5sum < prog.o" ;;
    esac
}

status=0
printf '| program | command | glibc (median s) | spanscope (median s) | spanscope / glibc | runs |\n'
printf '|---|---|---:|---:|---:|---:|\n'
for prog in ${only//,/ }; do
    cmd=$(run_one "$prog")
    if [ -z "$cmd" ]; then echo "realprograms.sh: unknown program $prog" >&2; exit 2; fi
    if ! command -v "$prog" >/dev/null; then echo "note: $prog not installed, skipped" >&2; continue; fi
    g=(); s=(); ref=""
    for ((r = 0; r < runs; r++)); do
        for a in glibc spanscope; do
            if [ $(( r % 2 )) = 1 ]; then a=$([ $a = glibc ] && echo spanscope || echo glibc); fi
            pre=""; [ $a = spanscope ] && pre="$lib"
            t0=$(date +%s%N)
            out=$(cd "$work" && env LD_PRELOAD="$pre" bash -c "$cmd" 2>&1)
            st=$?
            t1=$(date +%s%N)
            if [ $st -ne 0 ]; then echo "FAIL: $prog under $a exited $st: $(echo "$out" | tail -2)" >&2; status=1; continue; fi
            [ -n "$ref" ] || ref=$out
            if [ "$out" != "$ref" ]; then
                echo "FAIL: $prog under $a printed something else than its first run:" >&2
                diff <(printf '%s\n' "$ref") <(printf '%s\n' "$out") | head -6 >&2
                status=1
            fi
            secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b - a) / 1e9}')
            if [ $a = glibc ]; then g+=("$secs"); else s+=("$secs"); fi
        done
    done
    med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print NR ? v[int((NR + 1) / 2)] : "-"}'; }
    mg=$(med "${g[@]}"); ms=$(med "${s[@]}")
    ratio=$(awk -v a="$ms" -v b="$mg" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '| %s | `%s` | %s | %s | %s | %d+%d |\n' "$prog" "$cmd" "$mg" "$ms" "$ratio" "${#g[@]}" "${#s[@]}"
done
exit $status
