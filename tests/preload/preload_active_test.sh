#!/usr/bin/env bash
# The preload is really active: `spanscope-cli run -- cat /proc/self/maps` maps libspanscope.so
# (the very library under test), and a plain `cat /proc/self/maps` does not.
source "$(dirname "$0")/common.sh"

maps=$("$SPANSCOPE_CLI" run -- cat /proc/self/maps) || { echo "FAIL: spanscope-cli run -- cat /proc/self/maps exited $?"; exit 1; }
if ! grep -qF "$SPANSCOPE_LIB" <<<"$maps"; then
    echo "FAIL: $SPANSCOPE_LIB is not mapped in the preloaded process; its libraries:"
    awk '$6 ~ /\.so/ {print "    " $6}' <<<"$maps" | sort -u
    exit 1
fi
echo "ok: preloaded cat maps $(grep -F "$SPANSCOPE_LIB" <<<"$maps" | head -n 1 | awk '{print $6}')"
if grep -q libspanscope /proc/self/maps; then
    echo "FAIL: the harness itself has libspanscope mapped (LD_PRELOAD leaked into the test environment)"
    exit 1
fi
if cat /proc/self/maps | grep -q libspanscope; then
    echo "FAIL: a plain run maps libspanscope"
    exit 1
fi
echo "ok: a plain run does not map libspanscope"
if command -v python3 >/dev/null; then
    # malloc really resolves to spanscope: its misuse report comes from the preloaded library.
    out=$("$SPANSCOPE_CLI" run -- python3 -c 'import ctypes; ctypes.CDLL(None).free(ctypes.c_void_p(4096*1000))' 2>&1)
    rc=$?
    if [[ $rc != 134 ]] || ! grep -q "^spanscope: free(): invalid pointer" <<<"$out"; then
        echo "FAIL: freeing a bogus pointer under the preload did not give spanscope's report (exit $rc): $out"
        exit 1
    fi
    echo "ok: free() of a bogus pointer is reported by spanscope: $(head -n 1 <<<"$out")"
fi
echo PASSED
