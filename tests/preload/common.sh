# Shared harness of the preload tests: sourced by every *_test.sh.
#
# Usage of a test script:  SCRIPT.sh SPANSCOPE_CLI LIBSPANSCOPE_SO [ARGS...]
#
# A test defines a workload function that runs its programs through `P prog args...` and then
# calls `compare_runs NAME FUNCTION`: the workload runs twice, in fresh directories, once plain
# (P runs the program as is) and once preloaded (P runs it through `spanscope-cli run --`). Their
# stdout and exit status must be identical (and stderr too with COMPARE_STDERR=1); otherwise the
# test fails with a unified diff. Generated data lives in a mktemp -d directory removed at exit.
set -uo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 SPANSCOPE_CLI LIBSPANSCOPE_SO [ARGS...]" >&2
    exit 2
fi
SPANSCOPE_CLI=$(readlink -f "$1")
SPANSCOPE_LIB=$(readlink -f "$2")
shift 2
for f in "$SPANSCOPE_CLI" "$SPANSCOPE_LIB"; do
    [[ -r $f ]] || { echo "FAIL: $f not found" >&2; exit 1; }
done
# spanscope-cli run uses this library (not whatever it finds next to itself).
export SPANSCOPE_PRELOAD=$SPANSCOPE_LIB
unset LD_PRELOAD
export LC_ALL=C TZ=UTC

TESTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spanscope-preload.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# Wall-clock limit of one program run (seconds).
RUN_TIMEOUT=${RUN_TIMEOUT:-150}  # generous: CI shares 2 cores between tests
COMPARE_STDERR=${COMPARE_STDERR:-0}
MODE=plain

# P PROG ARGS...: runs PROG plainly or under the preload, depending on the current mode, with a
# wall-clock limit (a hang then shows as exit status 124 rather than as a ctest timeout).
P() {
    if [[ $MODE == preload ]]; then
        timeout -k 5 "$RUN_TIMEOUT" "$SPANSCOPE_CLI" run -- "$@"
    else
        timeout -k 5 "$RUN_TIMEOUT" "$@"
    fi
}

need() {  # need PROG...: skips the test (ctest SKIP_RETURN_CODE 77) if a program is missing.
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null 2>&1 || { echo "SKIP: '$p' is not installed"; exit 77; }
    done
}

describe_status() {
    local rc=$1
    if ((rc == 124)); then echo "$rc (timed out after ${RUN_TIMEOUT}s: hang?)"
    elif ((rc > 128)); then echo "$rc (killed by signal $((rc - 128)): $(kill -l $((rc - 128)) 2>/dev/null))"
    else echo "$rc"; fi
}

# run_mode MODE NAME FUNCTION ARGS...: runs FUNCTION in $WORK/NAME.MODE/ with its stdout and stderr
# in $WORK/NAME.MODE.{out,err} and its exit status in $WORK/NAME.MODE.rc; prints the time taken.
run_mode() {
    local mode=$1 name=$2 fn=$3
    shift 3
    local dir=$WORK/$name.$mode
    mkdir -p "$dir"
    local t0=$SECONDS rc
    # errexit: the first failing command ends the workload, and its status is the run's status.
    (
        cd "$dir" || exit 1
        MODE=$mode
        set -e
        "$fn" "$@"
    ) >"$WORK/$name.$mode.out" 2>"$WORK/$name.$mode.err"
    rc=$?
    echo "$rc" >"$WORK/$name.$mode.rc"
    echo "  $name [$mode]: exit $(describe_status "$rc"), $(wc -c <"$WORK/$name.$mode.out") bytes of stdout, $((SECONDS - t0)) s"
}

FAILED=0
# compare_runs NAME FUNCTION ARGS...: runs FUNCTION plainly and preloaded and compares them.
compare_runs() {
    local name=$1
    run_mode plain "$@"
    run_mode preload "$@"
    local a=$WORK/$name.plain b=$WORK/$name.preload ok=1
    local rca rcb
    rca=$(cat "$a.rc") rcb=$(cat "$b.rc")
    if [[ $rca != 0 ]]; then
        echo "FAIL: $name: the plain run itself failed with exit $(describe_status "$rca") (test or environment problem); stderr:"
        tail -n 30 "$a.err" | sed 's/^/    /'
        FAILED=1
        return 1
    fi
    if [[ $rca != "$rcb" ]]; then
        echo "FAIL: $name: exit status differs: plain $(describe_status "$rca"), preload $(describe_status "$rcb")"
        ok=0
    fi
    if ! cmp -s "$a.out" "$b.out"; then
        echo "FAIL: $name: stdout differs (--- plain, +++ preload; first 60 lines of the diff):"
        diff -u --label plain --label preload "$a.out" "$b.out" | head -n 60 | sed 's/^/    /'
        ok=0
    fi
    if [[ $COMPARE_STDERR == 1 ]] && ! cmp -s "$a.err" "$b.err"; then
        echo "FAIL: $name: stderr differs (--- plain, +++ preload; first 60 lines of the diff):"
        diff -u --label plain --label preload "$a.err" "$b.err" | head -n 60 | sed 's/^/    /'
        ok=0
    fi
    if ((ok)); then
        echo "ok: $name: identical stdout$([[ $COMPARE_STDERR == 1 ]] && echo ", stderr") and exit status ($rca)"
        return 0
    fi
    echo "  stderr of the preloaded run (last 30 lines):"
    tail -n 30 "$b.err" | sed 's/^/    /'
    echo "  first lines of the preloaded stdout:"
    head -n 10 "$b.out" | sed 's/^/    /'
    FAILED=1
    return 1
}

finish() {
    if ((FAILED)); then
        echo "FAILED (work directory kept by setting KEEP_WORK=1)"
        if [[ ${KEEP_WORK:-0} == 1 ]]; then trap - EXIT; echo "work directory: $WORK"; fi
        exit 1
    fi
    echo "PASSED"
    exit 0
}
