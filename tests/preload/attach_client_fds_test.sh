#!/usr/bin/env bash
# A client of the attach socket (`spanscope-cli ps`, which asks every spanscope'd process for its
# STAT) must leave the watched program's descriptors alone. Regression: the listener's client
# table was dynamically initialised, so a listener started from the program's first malloc saw fd
# 0 in every slot and the first client to connect closed the program's stdin (xz under the preload
# then failed "(stdin): Read error: Bad file descriptor" whenever a ps ran in parallel).
source "$(dirname "$0")/common.sh"

for round in 1 2 3; do
    ( for i in $(seq 1 30); do "$SPANSCOPE_CLI" ps >/dev/null 2>&1; sleep 0.03; done ) &
    pinger=$!
    # sort reads its stdin only once the writer has finished, a second later: by then ps has
    # connected to it many times.
    out=$( (sleep 1.2; printf 'b\na\n') | LD_PRELOAD="$SPANSCOPE_LIB" sort 2>&1 )
    rc=$?
    wait "$pinger"
    if [ "$rc" != 0 ] || [ "$out" != $'a\nb' ]; then
        echo "FAIL: round $round: a preloaded sort read its stdin while ps connected: exit $rc, output:"
        printf '    %s\n' "$out"
        exit 1
    fi
done
echo "ok: stdin survives 90 ps clients in 3 rounds"
