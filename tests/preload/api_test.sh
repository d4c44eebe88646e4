#!/usr/bin/env bash
# Runs the API contract program (api_contract.cpp, not linked to spanscope) under the preload.
#   api_test.sh SPANSCOPE_CLI LIBSPANSCOPE_SO API_CONTRACT all
#       every contract check must pass (exit 0).
#   api_test.sh SPANSCOPE_CLI LIBSPANSCOPE_SO API_CONTRACT MISUSE REGEX
#       the misuse must abort the process (SIGABRT) with a stderr line matching REGEX (grep -E).
source "$(dirname "$0")/common.sh"
EXE=${1:?usage: $0 SPANSCOPE_CLI LIBSPANSCOPE_SO API_CONTRACT all|MISUSE [REGEX]}
MODE_ARG=${2:-all}
EXPECT=${3:-}
ulimit -c 0  # the misuse modes abort on purpose: no core files

cmd=("$SPANSCOPE_CLI" run -- "$EXE" "$MODE_ARG")
echo "running: SPANSCOPE_PRELOAD=$SPANSCOPE_LIB ${cmd[*]}"
timeout -k 5 "$RUN_TIMEOUT" "${cmd[@]}" >"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/out"
if [[ $MODE_ARG == all ]]; then
    if [[ $rc != 0 ]]; then
        echo "FAIL: api_contract exited $(describe_status "$rc"); stderr:"
        sed 's/^/    /' "$WORK/err" | head -n 60
        exit 1
    fi
    echo PASSED
    exit 0
fi

echo "stderr: $(head -c 2000 "$WORK/err")"
if [[ $rc != 134 ]]; then
    echo "FAIL: '$MODE_ARG' should abort with SIGABRT (exit 134), got exit $(describe_status "$rc")"
    exit 1
fi
if ! grep -Eq "$EXPECT" "$WORK/err"; then
    echo "FAIL: '$MODE_ARG': stderr does not match /$EXPECT/"
    exit 1
fi
echo "ok: '$MODE_ARG' aborted (SIGABRT) with the expected report"
echo PASSED
