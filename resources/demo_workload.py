# spanscope's built-in live demo: a Python program whose heap goes through phases a viewer can
# see: growth, mixed churn, fragmentation (many small objects, every other one freed, then bigger
# ones), large objects, and a drop that leaves free pages for the scavenger to release.
# Run by the GUI as: spanscope-cli record -o FILE -- python3 demo_workload.py [SECONDS]
# with PYTHONMALLOC=malloc, so that every Python object comes from the spanscope heap.
import os
import random
import signal
import sys
import time

DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else 120.0
PARENT = os.getppid()
# The GUI stops the demo with SIGTERM: exit normally, so the recording ends with a clean trailer.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
start = time.time()
rng = random.Random(1)


def alive():
    # Stop with the recorder (the GUI closed) or when the time is up.
    return os.getppid() == PARENT and time.time() - start < DURATION


def pause(s=0.02):
    time.sleep(s)


SMALL = [24, 48, 64, 96, 128, 200, 256, 400, 512, 700, 1024, 1500, 2048, 3000, 4096, 6000, 8192]

while alive():
    # 1. Growth: a working set of mixed small objects.
    keep = []
    for _ in range(50):
        keep.extend(bytes(rng.choice(SMALL)) for _ in range(700))
        pause()
        if not alive():
            break
    # 2. Churn: replace random objects (sizes drift upward).
    for round_ in range(60):
        for _ in range(1500):
            keep[rng.randrange(len(keep))] = bytes(rng.choice(SMALL[round_ % 6:]))
        pause()
        if not alive():
            break
    # 3. Fragmentation: 64 B objects, every other one freed, then 256 B ones that cannot reuse the holes.
    small = [bytes(64) for _ in range(100000)]
    pause(0.3)
    del small[::2]
    pause(0.3)
    bigger = [bytes(256) for _ in range(30000)]
    pause(0.5)
    # 4. Large objects (> 32 KiB): each in a span of its own.
    large = []
    for _ in range(40):
        large.extend(bytes(rng.randrange(33000, 400000)) for _ in range(6))
        if len(large) > 120:
            del large[: rng.randrange(10, 60)]
        pause(0.03)
    # 5. Drop everything: spans go back to the heap, the scavenger releases pages.
    del keep, small, bigger, large
    pause(1.5)
