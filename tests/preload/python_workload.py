"""Allocation-heavy, multi-threaded Python workload with deterministic output.

Worker threads build big dicts and nested structures, round-trip them through json, sort,
compress and hash them; threads come and go in waves and hand objects to one another through
queues (so memory is freed by a thread other than the one that allocated it), and a process pool
is forked while threads are busy allocating. Every result is printed in a fixed order, so the
output is identical from run to run (given PYTHONHASHSEED).
Run with PYTHONMALLOC=malloc to send every Python allocation through malloc.
"""
import hashlib
import json
import multiprocessing
import queue
import random
import sys
import threading
import zlib

SCALE = int(sys.argv[1]) if len(sys.argv) > 1 else 1


def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def build_dict(rng, n):
    d = {}
    for i in range(n):
        key = "k%06d_%s" % (i, "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 12))))
        kind = i % 5
        if kind == 0:
            d[key] = i * 7919 % 100003
        elif kind == 1:
            d[key] = [rng.randint(0, 10**9) for _ in range(rng.randint(0, 20))]
        elif kind == 2:
            d[key] = {"s": key[::-1] * rng.randint(1, 30), "f": round(rng.random(), 6), "n": None}
        elif kind == 3:
            d[key] = "x" * rng.randint(0, 3000)  # large strings: several malloc size classes
        else:
            d[key] = (key, i, [key] * 3)
    return d


def dict_worker(tid, results, handoff):
    rng = random.Random(1000 + tid)
    out = []
    for rnd in range(3):
        d = build_dict(rng, 6000 * SCALE)
        text = json.dumps(d, sort_keys=True)
        back = json.loads(text)
        assert json.loads(json.dumps(back)) == back
        # Mutate: delete a third, grow the rest (dict resizes and realloc'd strings).
        for k in list(back)[::3]:
            del back[k]
        for k, v in back.items():
            if isinstance(v, str):
                back[k] = v + k
        packed = zlib.compress(json.dumps(back, sort_keys=True).encode(), 6)
        out.append((rnd, len(d), len(text), len(back), len(zlib.decompress(packed)), digest(back)))
        handoff.put(back)  # freed later by the consumer thread
    results[tid] = out


def consumer(handoff, results):
    total = 0
    keys = 0
    while True:
        obj = handoff.get()
        if obj is None:
            break
        keys += len(obj)
        total += sum(len(k) for k in obj)
        del obj
    results["consumer"] = (keys, total)


def big_structure_worker(tid, results):
    rng = random.Random(tid)
    nodes = [{"id": i, "name": "node%d" % i, "tags": sorted({rng.randint(0, 50) for _ in range(8)}),
              "children": []} for i in range(20000 * SCALE)]
    for i in range(1, len(nodes)):
        nodes[rng.randrange(0, i)]["children"].append(i)
    doc = {"nodes": nodes, "meta": {"tid": tid, "count": len(nodes)}}
    s = json.dumps(doc, indent=1)
    doc2 = json.loads(s)
    depth = {0: 0}
    order = [0]
    for n in order:
        for c in doc2["nodes"][n]["children"]:
            depth[c] = depth[n] + 1
            order.append(c)
    hist = {}
    for v in depth.values():
        hist[v] = hist.get(v, 0) + 1
    results["big%d" % tid] = (len(s), max(depth.values()), sorted(hist.items())[:5], digest(doc2))


def churn_worker(tid, results):
    # Many short-lived objects of every size, lists that grow (realloc) and shrink.
    rng = random.Random(77 + tid)
    acc = 0
    lst = []
    for i in range(40000 * SCALE):
        n = rng.choice((1, 7, 30, 100, 600, 5000, 40000))
        b = bytes([i % 251]) * n
        lst.append(b)
        if len(lst) > 300:
            del lst[: rng.randint(1, 300)]
        acc = (acc * 31 + len(b) + b[-1]) % (1 << 61)
    results["churn%d" % tid] = acc


def forked_task(i):
    # Runs in a child forked while other threads of the parent were alive.
    d = {("%d-%d" % (i, j)): [j] * (j % 40) for j in range(30000)}
    return digest(sorted(d.items())[i * 100:(i + 1) * 100]), len(json.dumps(d))


def main():
    results = {}
    handoff = queue.Queue(maxsize=8)
    cons = threading.Thread(target=consumer, args=(handoff, results))
    cons.start()
    # Waves of threads that come and go.
    for wave in range(2):
        threads = [threading.Thread(target=dict_worker, args=(wave * 10 + t, results, handoff)) for t in range(4)]
        threads += [threading.Thread(target=big_structure_worker, args=(wave * 10 + t, results)) for t in range(2)]
        threads += [threading.Thread(target=churn_worker, args=(wave * 10 + t, results)) for t in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # fork (a process pool) while the consumer and two busy threads are alive.
    busy = [threading.Thread(target=churn_worker, args=(100 + t, results)) for t in range(2)]
    for t in busy:
        t.start()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results["forked"] = pool.map(forked_task, range(6))
    for t in busy:
        t.join()
    handoff.put(None)
    cons.join()
    for key in sorted(results, key=str):
        print(key, json.dumps(results[key]))
    print("all", digest({str(k): v for k, v in results.items()}))


if __name__ == "__main__":
    main()
