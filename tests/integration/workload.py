"""Deterministic Python workload for the integration tests (run as
/usr/bin/python3 -I -B workload.py): threads, json, sqlite3 on :memory:,
many small objects, big strings, and a cyclic garbage collection.  Prints
only values that do not depend on addresses, timing or hash seeds."""

import hashlib
import json
import sqlite3
import sys
import threading
import zlib
import gc


def lcg(seed):
    while True:
        seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield seed >> 33


def worker(tid, out):
    gen = lcg(tid + 1)
    counts = {}
    words = []
    for i in range(20000):
        v = next(gen)
        key = "k%03d" % (v % 257)
        counts[key] = counts.get(key, 0) + 1
        if i % 50 == 0:
            words.append(("w%d" % v) * (1 + v % 13))
    text = "|".join(words).encode()
    out[tid] = (
        len(counts),
        max(counts.items(), key=lambda kv: (kv[1], kv[0])),
        hashlib.sha256(text).hexdigest()[:16],
        len(zlib.compress(text, 6)),
    )


def threads_part():
    out = [None] * 4
    ts = [threading.Thread(target=worker, args=(t, out)) for t in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for tid, res in enumerate(out):
        print("thread %d: distinct=%d top=%s sha=%s zlen=%d" % ((tid,) + res))


def json_part():
    gen = lcg(99)
    doc = {
        "items": [
            {"id": i, "name": "item-%d" % i, "tags": ["t%d" % (next(gen) % 5) for _ in range(i % 6)],
             "price": (next(gen) % 100000) / 100.0, "nested": {"deep": [i, [i * 2, {"x": None}]]}}
            for i in range(3000)
        ],
        "meta": {"unicode": "h\u00e9llo w\u00f6rld \u2603", "escape": "a\"b\\c\n"},
    }
    s = json.dumps(doc, sort_keys=True)
    back = json.loads(s)
    assert back == doc
    pretty = json.dumps(back, sort_keys=True, indent=2, ensure_ascii=False)
    print("json: %d bytes compact, %d chars pretty, sha=%s, total price %.2f" % (
        len(s), len(pretty), hashlib.sha256(s.encode()).hexdigest()[:16],
        sum(it["price"] for it in back["items"])))


def sqlite_part():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, grp TEXT, val REAL, blob BLOB)")
    gen = lcg(7)
    rows = [(i, "g%d" % (next(gen) % 10), (next(gen) % 10000) / 7.0, bytes(i % 251 for _ in range(i % 300)))
            for i in range(20000)]
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    db.execute("CREATE INDEX t_grp ON t (grp)")
    db.commit()
    for grp, n, total, blen in db.execute(
            "SELECT grp, COUNT(*), ROUND(SUM(val), 3), SUM(LENGTH(blob)) FROM t GROUP BY grp ORDER BY grp"):
        print("sqlite: %s n=%d sum=%.3f blob=%d" % (grp, n, total, blen))
    (joined,) = db.execute(
        "SELECT COUNT(*) FROM t a JOIN t b ON a.grp = b.grp AND b.id = a.id + 1").fetchone()
    print("sqlite: self-join pairs %d" % joined)
    db.execute("DELETE FROM t WHERE id % 3 = 0")
    db.commit()
    db.execute("VACUUM")
    print("sqlite: left %d rows" % db.execute("SELECT COUNT(*) FROM t").fetchone()[0])
    db.close()


class Node:
    def __init__(self, name):
        self.name = name
        self.peer = None
        self.payload = [name] * 10


def gc_part():
    gc.collect()
    gc.disable()  # so that the collection below is the one that finds them
    for i in range(2000):
        a, b = Node("a%d" % i), Node("b%d" % i)
        a.peer, b.peer = b, a  # a cycle only the cyclic GC can free
    found = gc.collect()
    gc.enable()
    print("gc: collected cycles: %s" % ("yes" if found >= 4000 else "no"))


def main():
    threads_part()
    json_part()
    sqlite_part()
    gc_part()
    big = "".join(chr(65 + i % 26) for i in range(1 << 20))
    print("big string: %d chars, sha=%s" % (len(big), hashlib.sha256(big.encode()).hexdigest()[:16]))
    sys.stderr.write("workload.py: done\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
