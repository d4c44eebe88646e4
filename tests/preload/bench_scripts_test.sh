#!/usr/bin/env bash
# The benchmark scripts run end to end on a tiny scale (their figures are meaningless here):
# bench/compare.sh (glibc against spanscope) and bench/ab.sh (two builds, here the same one).
#   bench_scripts_test.sh CLI LIB ALLOCBENCH
set -euo pipefail
lib=$2 allocbench=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$root/bench/compare.sh" --quick --runs 1 --scale 0.01 --patterns churn-1t,large \
  --allocators glibc,spanscope --bench "$allocbench" --spanscope "$lib")
echo "$out"
for p in churn-1t large; do
  grep -Eq "^### $p\$" <<<"$out" || { echo "compare.sh printed no table for $p" >&2; exit 1; }
done
grep -Eq '^summary: geomean throughput ratio to glibc: spanscope=[0-9.]+$' <<<"$out" ||
  { echo "compare.sh printed no geomean" >&2; exit 1; }
out=$("$root/bench/ab.sh" --runs 2 --scale 0.01 --bench "$allocbench" "$lib" "$lib" churn-1t prodcons)
echo "$out"
[ "$(grep -Ec '^\| (churn-1t|prodcons) \| [0-9.]+ M \| [0-9.]+ MiB \| [0-9.]+x / RSS [0-9.]+x \| [0-9.]+x / RSS [0-9.]+x \|$' <<<"$out")" = 2 ] ||
  { echo "ab.sh did not print a row per pattern" >&2; exit 1; }
# A missing library is an error, not a table.
if "$root/bench/ab.sh" --bench "$allocbench" "$lib" /nonexistent.so churn-1t 2>/dev/null; then
  echo "ab.sh accepted a missing library" >&2
  exit 1
fi
echo "bench scripts: ok"
