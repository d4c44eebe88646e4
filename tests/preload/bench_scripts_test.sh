#!/usr/bin/env bash
# bench/compare.sh runs end to end on a tiny scale (its figures are meaningless here): glibc against
# spanscope, with a second build of spanscope as --baseline (here the same library), and refuses a
# baseline library that does not exist.
#   bench_scripts_test.sh CLI LIB ALLOCBENCH
set -euo pipefail
lib=$2 allocbench=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$root/bench/compare.sh" --quick --runs 2 --scale 0.01 --patterns churn-1t,large \
  --allocators glibc,spanscope --bench "$allocbench" --spanscope "$lib" --baseline "$lib")
echo "$out"
for p in churn-1t large; do
  grep -Eq "^### $p\$" <<<"$out" || { echo "compare.sh printed no table for $p" >&2; exit 1; }
done
for a in spanscope baseline; do
  [ "$(grep -Ec "^\| $a \| [0-9.]+ [kM]? *\| [0-9.]+ \| [0-9.]+ MiB \| [0-9.]+ \| 2/2 \|$" <<<"$out")" = 2 ] ||
    { echo "compare.sh did not print a row per pattern for $a" >&2; exit 1; }
done
grep -Eq '^summary: geomean throughput ratio to glibc: spanscope=[0-9.]+, baseline=[0-9.]+$' <<<"$out" ||
  { echo "compare.sh printed no geomean for both builds" >&2; exit 1; }
# A missing baseline library is an error, not a table.
if "$root/bench/compare.sh" --quick --runs 1 --bench "$allocbench" --baseline /nonexistent.so \
  >/dev/null 2>&1; then
  echo "compare.sh accepted a missing baseline library" >&2
  exit 1
fi
echo "bench scripts: ok"
