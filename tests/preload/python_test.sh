#!/usr/bin/env bash
# python3 under the preload: threads, big dicts, json dumps/loads, zlib, hashing and a fork()ed
# process pool while threads run (python_workload.py), once with PYTHONMALLOC=malloc (every object
# through malloc) and once with Python's default allocator (pymalloc arenas, large objects through
# malloc).
source "$(dirname "$0")/common.sh"
need python3
# The real interpreter, not a wrapper script (pyenv shims are bash scripts).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
unset PYTHONMALLOC PYTHONDEVMODE

workload() {
    echo "== PYTHONMALLOC=malloc"
    PYTHONMALLOC=malloc P "$PYTHON" "$TESTDIR/python_workload.py"
    echo "== default allocator"
    P "$PYTHON" "$TESTDIR/python_workload.py"
}
compare_runs python workload
finish
