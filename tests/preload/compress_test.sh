#!/usr/bin/env bash
# A multi-threaded compressor under the preload: compresses a generated ~50 MB file with 2 threads
# (pigz -p 2, zstd -T2 or xz -T2), from a file and through a pipe; the compressed bytes' checksum
# must match the plain run (pigz -n: no name or time stamp in the header), and decompressing (also
# preloaded) must give back the original.
# Usage: compress_test.sh SPANSCOPE_CLI LIBSPANSCOPE_SO pigz|zstd|xz
source "$(dirname "$0")/common.sh"
TOOL=${1:?usage: $0 SPANSCOPE_CLI LIBSPANSCOPE_SO pigz|zstd|xz}
need "$TOOL" sha256sum awk
SIZE=${SIZE:-50000000}

case $TOOL in
    pigz) COMPRESS=(pigz -p 2 -6 -n -c) DECOMPRESS=(pigz -p 2 -d -c) TEST=(pigz -t) ;;
    zstd) COMPRESS=(zstd -T2 -9 -q -c) DECOMPRESS=(zstd -d -q -c) TEST=(zstd -t -q) ;;
    xz) COMPRESS=(xz -T2 -1 -c) DECOMPRESS=(xz -T2 -d -c) TEST=(xz -t) ;;
    *) echo "unknown compressor '$TOOL'" >&2; exit 2 ;;
esac

# Text lines of words and numbers, with an incompressible-ish hex column.
awk -v size="$SIZE" 'BEGIN {
    s = 7
    split("the of and to in is was that for on with as by at from his her which or an be this are had not but", w, " ")
    while (total < size) {
        s = (s * 1103515245 + 12345) % 2147483648
        r = int(s / 65536)
        line = sprintf("%08d %s %s %s %x %d\n", n++, w[1 + r % 26], w[1 + int(r / 26) % 26], w[1 + int(s / 7) % 26], s, r % 1000)
        printf "%s", line
        total += length(line)
    }
}' >"$WORK/data"
ORIG=$(sha256sum <"$WORK/data")
echo "input: $(wc -c <"$WORK/data") bytes, sha256 ${ORIG%% *}"

workload() {
    echo "== ${COMPRESS[*]} FILE"
    P "${COMPRESS[@]}" "$WORK/data" >data.z
    echo "compressed: $(wc -c <data.z) bytes, sha256 $(sha256sum <data.z)"
    echo "== ${COMPRESS[*]} < stdin (pipe)"
    cat "$WORK/data" | P "${COMPRESS[@]}" | sha256sum
    echo "== ${TEST[*]}"
    P "${TEST[@]}" data.z && echo "integrity ok"
    echo "== ${DECOMPRESS[*]}"
    P "${DECOMPRESS[@]}" data.z >data.out
    if [[ $(sha256sum <data.out) == "$ORIG" ]]; then echo "round trip ok"; else echo "ROUND TRIP MISMATCH: $(cmp data.out "$WORK/data" 2>&1)"; fi
    rm -f data.out data.z
}
compare_runs "$TOOL" workload
finish
