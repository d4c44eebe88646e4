#!/usr/bin/env bash
# The heap profile end to end (issue 14): prof_sites (three functions allocating 1, 10 and 100 MiB
# in 1 KiB objects, half of the 100 MiB freed) recorded under libspanscope.so; 'spanscope-cli top'
# attributes the bytes exactly at SPANSCOPE_MEMPROFILERATE=1 and within sampling error at Go's
# default rate; 'spanscope-cli pprof' writes a profile that 'go tool pprof -top' reads without the
# binary, and '-base' diffs two of them; bad input gives a clear error.
#   prof_test.sh SPANSCOPE_CLI LIBSPANSCOPE_SO PROF_SITES
set -uo pipefail
cli=$1 lib=$2 prog=$3
export SPANSCOPE_PRELOAD=$lib LC_ALL=C
unset LD_PRELOAD SPANSCOPE_MEMPROFILERATE GODEBUG
work=$(mktemp -d "${TMPDIR:-/tmp}/spanscope-prof.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
MiB=1048576

# site FILE FUNCTION -> "inuse_bytes inuse_objects alloc_bytes alloc_objects" (0s if absent)
site() { awk -F'\t' -v f="$2" '$5 == f {print $1, $2, $3, $4; found = 1} END {if (!found) print 0, 0, 0, 0}' "$1"; }
# within VALUE WANT LO HI: LO*WANT <= VALUE <= HI*WANT
within() { awk -v v="$1" -v w="$2" -v lo="$3" -v hi="$4" 'BEGIN {exit !(v >= lo * w && v <= hi * w)}'; }

# 1. Every allocation sampled: exact bytes and objects per function; frees cancel in-use bytes.
SPANSCOPE_MEMPROFILERATE=1 "$cli" record --force -o "$work/r1.db" -- "$prog" >"$work/r1.out" 2>&1 ||
  fail "record at rate 1: $(cat "$work/r1.out")"
"$cli" top "$work/r1.db" --tsv -n 50 >"$work/r1.tsv" || fail "top"
# A machine too busy for the drain thread drops records (the program never waits for the
# recorder); the session then has gaps. A resync rundown restores what is in use, not what was
# allocated meanwhile: with gaps, in-use figures stay exact and allocated ones may only fall short.
gaps=$("$cli" sql "$work/r1.db" "SELECT count(*) FROM gaps" 2>/dev/null | tail -1)
[[ $gaps =~ ^[0-9]+$ ]] || fail "sql: cannot count the session's gaps ('$gaps')"
[ "$gaps" -eq 0 ] || echo "note: rate 1 recording has $gaps gap(s) of dropped records: allocated figures checked as upper bounds" >&2
for want in "alloc_one_mib $MiB 1024 $MiB 1024" \
            "alloc_ten_mib $((10 * MiB)) 10240 $((10 * MiB)) 10240" \
            "alloc_hundred_mib $((50 * MiB)) 51200 $((100 * MiB)) 102400"; do
  set -- $want
  got=$(site "$work/r1.tsv" "$1")
  if [ "$gaps" -eq 0 ]; then
    [[ $got == "$2 $3 $4 $5" ]] || fail "rate 1: $1: got '$got', want '$2 $3 $4 $5'; top:"$'\n'"$(cat "$work/r1.tsv")"
  else
    read -r giu gio gab gao <<<"$got"
    [[ "$giu $gio" == "$2 $3" && $gab -le $4 && $gao -le $5 && $gab -gt 0 ]] ||
      fail "rate 1 with $gaps gap(s): $1: got '$got', want in use '$2 $3' and allocated at most '$4 $5'"
  fi
done
if [ "$gaps" -eq 0 ]; then echo "rate 1: exact"; else echo "rate 1: in use exact, allocated at most (gaps)"; fi

# 2. Go's default rate (512 KiB): estimates within sampling error. 100 MiB is ~200 samples (7%),
# its 50 MiB in use ~100 (10%), 10 MiB ~20 (22%); 1 MiB is ~2 samples, so only an upper bound.
"$cli" record --force -o "$work/def.db" -- "$prog" >"$work/def.out" 2>&1 || fail "record: $(cat "$work/def.out")"
"$cli" top "$work/def.db" --tsv -n 50 >"$work/def.tsv" || fail "top"
read -r iu io ab ao <<<"$(site "$work/def.tsv" alloc_hundred_mib)"
within "$ab" $((100 * MiB)) 0.7 1.3 || fail "default rate: alloc_hundred_mib allocated $ab"
within "$iu" $((50 * MiB)) 0.6 1.4 || fail "default rate: alloc_hundred_mib in use $iu"
read -r iu io ab ao <<<"$(site "$work/def.tsv" alloc_ten_mib)"
within "$ab" $((10 * MiB)) 0.1 2.5 || fail "default rate: alloc_ten_mib allocated $ab"
read -r iu io ab ao <<<"$(site "$work/def.tsv" alloc_one_mib)"
within "$ab" $MiB 0 6 || fail "default rate: alloc_one_mib allocated $ab"
echo "default rate: within sampling error"
"$cli" top "$work/def.db" >"$work/def.txt" || fail "top (text)"
grep -q "alloc_hundred_mib (prof_sites.c:" "$work/def.txt" || fail "top shows no file:line: $(cat "$work/def.txt")"

# 3. pprof export read by Go's pprof, with no binary at hand (the profile carries the symbols).
"$cli" pprof "$work/r1.db" -o "$work/r1.pb.gz" >/dev/null || fail "pprof export"
if command -v go >/dev/null; then
  export GOCACHE=$work/gocache GOPATH=$work/gopath PPROF_TMPDIR=$work HOME=$work
  go tool pprof -top -unit=B -sample_index=inuse_space "$work/r1.pb.gz" >"$work/pp.txt" 2>"$work/pp.err" ||
    fail "go tool pprof: $(cat "$work/pp.err")"
  grep -Eq "^ *$((50 * MiB))B .* alloc_hundred_mib$" "$work/pp.txt" || fail "pprof -top: $(cat "$work/pp.txt")"
  grep -Eq "^ *$((10 * MiB))B .* alloc_ten_mib$" "$work/pp.txt" || fail "pprof -top: $(cat "$work/pp.txt")"
  grep -Eq "^ *${MiB}B .* alloc_one_mib$" "$work/pp.txt" || fail "pprof -top: $(cat "$work/pp.txt")"
  # -base: the profile of a run that skips alloc_hundred_mib, subtracted from the full one.
  SPANSCOPE_MEMPROFILERATE=1 PROF_SITES_SKIP_HUNDRED=1 "$cli" record --force -o "$work/base.db" -- "$prog" \
    >"$work/base.out" 2>&1 || fail "record base: $(cat "$work/base.out")"
  "$cli" pprof "$work/base.db" -o "$work/base.pb.gz" >/dev/null || fail "pprof export (base)"
  go tool pprof -top -unit=B -sample_index=alloc_space -base "$work/base.pb.gz" "$work/r1.pb.gz" \
    >"$work/diff.txt" 2>"$work/pp.err" || fail "go tool pprof -base: $(cat "$work/pp.err")"
  # With gaps in either recording, allocated figures may fall short (see 1.): the diff is then an
  # upper bound for alloc_hundred_mib and the other sites are not compared.
  bgaps=$("$cli" sql "$work/base.db" "SELECT count(*) FROM gaps" 2>/dev/null | tail -1)
  [[ $bgaps =~ ^[0-9]+$ ]] || fail "sql: cannot count the base session's gaps ('$bgaps')"
  if [ "$gaps" -eq 0 ] && [ "$bgaps" -eq 0 ]; then
    grep -Eq "^ *$((100 * MiB))B .* alloc_hundred_mib$" "$work/diff.txt" || fail "pprof -base: $(cat "$work/diff.txt")"
  else
    echo "note: gaps in the recordings ($gaps, $bgaps): pprof -base checked as an upper bound" >&2
    d=$(awk '$NF == "alloc_hundred_mib" {sub(/B$/, "", $1); print $1}' "$work/diff.txt")
    [[ $d =~ ^[0-9]+$ ]] && ((d > 0 && d <= 100 * MiB)) || fail "pprof -base with gaps: $(cat "$work/diff.txt")"
  fi
  if [ "$gaps" -eq 0 ] && [ "$bgaps" -eq 0 ] && grep -Eq "alloc_(one|ten)_mib$" "$work/diff.txt" && ! grep -Eq "^ *0 .*alloc_(one|ten)_mib$" "$work/diff.txt"; then
    fail "pprof -base: the unchanged sites differ: $(cat "$work/diff.txt")"
  fi
  echo "go tool pprof: reads the profile; -base diffs"
else
  echo "go not installed: 'go tool pprof' part skipped" >&2
fi

# 4. Bad input: a clear error and a non-zero exit, no crash.
printf 'not a session' >"$work/bad.db"
out=$("$cli" top "$work/bad.db" 2>&1) && fail "top accepted a file that is not a session"
grep -q "not a spanscope session\|cannot open" <<<"$out" || fail "unclear error: $out"
out=$("$cli" pprof "$work/missing.db" -o "$work/x.pb.gz" 2>&1) && fail "pprof accepted a missing file"
[[ -n $out && ! -e $work/x.pb.gz ]] || fail "pprof on a missing file: '$out'"
out=$("$cli" top "$work/r1.db" --at soon 2>&1); [[ $? == 2 ]] || fail "--at soon: $out"
out=$("$cli" top "$work/r1.db" --range 2..1 2>&1); [[ $? == 2 ]] || fail "--range 2..1: $out"
echo "bad input: clear errors"

# 5. Python under the preload (its own allocator on top of malloc): the top sites are symbolized
# functions of the interpreter (Debian's python3 links libpython statically; .dynsym names its
# exported functions), not addresses.
if command -v python3 >/dev/null; then
  "$cli" record --force -o "$work/py.db" -- python3 -c '
import json
data = [{"k%d" % i: [j * 1.5 for j in range(50)]} for i in range(20000)]
s = json.dumps(data)
print(len(json.loads(s)))' >"$work/py.out" 2>&1 || fail "record python3: $(cat "$work/py.out")"
  "$cli" top "$work/py.db" --tsv -n 5 >"$work/py.tsv" || fail "top (python)"
  [[ -s $work/py.tsv ]] || fail "python: no sampled allocations"
  # Most top sites are symbolized; one or two may not be (seen under load: a frame in a module the
  # probe's 10 ms dlopen poll had not listed yet).
  unsym=$(cut -f5 "$work/py.tsv" | grep -c '^0x' || true)
  if ((unsym > 2)); then fail "python: $unsym of the top sites unsymbolized: $(cat "$work/py.tsv")"; fi
  cut -f5 "$work/py.tsv" | grep -Eq '^(_?Py|list_|dict|unicode|json|new_|tuple|float|long)' ||
    fail "python: no interpreter function among the top sites: $(cat "$work/py.tsv")"
  echo "python: top sites $(cut -f5 "$work/py.tsv" | paste -sd, -)"
fi
echo PASS
