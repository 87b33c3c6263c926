#!/usr/bin/env python3
"""check_dump.py - validate leakmark heap dumps (include/leakmark/dump_format.h, v1).

    check_dump.py [--count N] [--pid PID] [--trigger signal|api|exit|periodic]
                  [--seqs 0..N-1] [--expect KEY=VALUE|KEY>=VALUE ...] [--json] FILE...

Every FILE is parsed completely: magic, version, header size, every record
length against the file, varints, block addresses increasing across BLOCKS
records, edge indices < block count, stack ids used by blocks present as
STACK records, summary counts equal to what the BLOCKS records hold, the END
record's record count and nothing after it.  --count checks the number of
files, --seqs that their sequence numbers are exactly 0..N-1.  --expect
applies to each file's summary/header (keys: live_blocks, live_bytes,
definite_blocks, definite_bytes, indirect_blocks, indirect_bytes,
possible_blocks, possible_bytes, reachable_blocks, reachable_bytes, cycles,
threads_not_stopped, edges, modules, stacks, pid, trigger, seq).
Exit status 0 when everything holds, 1 otherwise (one line per problem).
"""
import json
import os
import select
import struct
import sys
import time

MAGIC = b"LMDUMP\x00\x01"
REC_PROCESS, REC_MODULE, REC_STACK, REC_BLOCKS, REC_EDGES, REC_GENTOTALS, REC_SUMMARY, REC_END = 1, 2, 3, 4, 5, 6, 7, 0xFFFF
TRIGGERS = {"exit": 0, "signal": 1, "api": 2, "periodic": 3}
SUMMARY_KEYS = ["live_blocks", "live_bytes", "definite_blocks", "definite_bytes",
                "indirect_blocks", "indirect_bytes", "possible_blocks", "possible_bytes",
                "reachable_blocks", "reachable_bytes", "suppressed_blocks", "suppressed_bytes",
                "cycles", "threads_not_stopped"]
CLASS_NAMES = ["reachable", "possible", "definite", "indirect", "suppressed"]


class DumpError(Exception):
    pass


class Reader:
    def __init__(self, data, base, end):
        self.d, self.p, self.end, self.base = data, base, end, base

    def fail(self, what):
        raise DumpError("offset %d: %s" % (self.p, what))

    def need(self, n):
        if self.p + n > self.end:
            self.fail("%d bytes needed, %d left in the record" % (n, self.end - self.p))

    def u8(self):
        self.need(1)
        self.p += 1
        return self.d[self.p - 1]

    def u32(self):
        self.need(4)
        self.p += 4
        return struct.unpack_from("<I", self.d, self.p - 4)[0]

    def u64(self):
        self.need(8)
        self.p += 8
        return struct.unpack_from("<Q", self.d, self.p - 8)[0]

    def varint(self):
        v = shift = 0
        for i in range(10):
            b = self.u8()
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
        self.fail("varint longer than 10 bytes")

    def raw(self, n):
        self.need(n)
        self.p += n
        return self.d[self.p - n:self.p]

    def done(self):
        if self.p != self.end:
            self.fail("%d bytes left over in the record" % (self.end - self.p))


def parse(data):
    if len(data) < 64:
        raise DumpError("offset 0: file shorter than the header (%d bytes)" % len(data))
    if data[:8] != MAGIC:
        raise DumpError("offset 0: bad magic")
    version, hsize, pid, trigger = struct.unpack_from("<IIII", data, 8)
    wall, pause, scan = struct.unpack_from("<QQQ", data, 24)
    seq, psize = struct.unpack_from("<II", data, 48)
    if version != 1:
        raise DumpError("offset 8: unknown version %d" % version)
    if hsize < 64 or hsize > len(data):
        raise DumpError("offset 12: bad header size %d" % hsize)
    d = {"pid": pid, "trigger": trigger, "wall_ns": wall, "pause_ns": pause, "scan_ns": scan,
         "seq": seq, "pointer_size": psize, "modules": [], "stacks": {}, "blocks": [],
         "edges": [], "gentotals": None, "summary": None, "process": None, "records": 0,
         "block_bytes": 0}
    p = hsize
    last_addr = 0
    ended = False
    while p < len(data):
        if ended:
            raise DumpError("offset %d: data after the END record" % p)
        if p + 8 > len(data):
            raise DumpError("offset %d: truncated record header" % p)
        rtype, rlen = struct.unpack_from("<II", data, p)
        if p + 8 + rlen > len(data):
            raise DumpError("offset %d: record of %d bytes runs past the end of the file" % (p, rlen))
        r = Reader(data, p + 8, p + 8 + rlen)
        if rtype == REC_PROCESS:
            exe = r.raw(r.varint()).decode("utf-8", "replace")
            cmd = r.raw(r.varint()).split(b"\0")
            d["process"] = {"exe": exe, "argv": [a.decode("utf-8", "replace") for a in cmd]}
        elif rtype == REC_MODULE:
            idx = r.varint()
            if idx != len(d["modules"]):
                r.fail("module index %d, expected %d" % (idx, len(d["modules"])))
            start, end, bias = r.u64(), r.u64(), r.u64()
            bid = r.raw(r.varint()).hex()
            path = r.raw(r.varint()).decode("utf-8", "replace")
            if end <= start:
                r.fail("module %d: empty extent" % idx)
            d["modules"].append({"start": start, "end": end, "bias": bias, "build_id": bid, "path": path})
        elif rtype == REC_STACK:
            sid = r.varint()
            if sid == 0 or sid in d["stacks"]:
                r.fail("stack id %d zero or repeated" % sid)
            n = r.varint()
            d["stacks"][sid] = [r.u64() for _ in range(n)]
        elif rtype == REC_BLOCKS:
            d["block_bytes"] += 8 + rlen
            for _ in range(r.varint()):
                delta = r.varint()
                if d["blocks"] and delta == 0:
                    r.fail("block address not increasing")
                last_addr += delta
                size, sid, cls = r.varint(), r.varint(), r.u8()
                age, unref = r.varint(), r.varint()
                if cls & 7 > 4 or (cls >> 3) & 3 > 2 or cls >> 5:
                    r.fail("bad class byte 0x%x" % cls)
                d["blocks"].append((last_addr, size, sid, cls & 7, (cls >> 3) & 3, age, unref))
        elif rtype == REC_EDGES:
            for _ in range(r.varint()):
                d["edges"].append((r.varint(), r.varint(), r.varint()))
        elif rtype == REC_GENTOTALS:
            d["gentotals"] = [(r.varint(), r.varint()) for _ in range(3)]
        elif rtype == REC_SUMMARY:
            d["summary"] = dict(zip(SUMMARY_KEYS, [r.varint() for _ in range(14)]))
        elif rtype == REC_END:
            n = r.varint()
            if n != d["records"]:
                r.fail("END says %d records, %d seen" % (n, d["records"]))
            ended = True
        else:
            r.p = r.end          # unknown: skipped
        r.done()
        d["records"] += 1
        p += 8 + rlen
    if not ended:
        raise DumpError("offset %d: no END record (truncated file)" % p)
    check_consistency(d)
    return d


def check_consistency(d):
    s = d["summary"]
    if s is None or d["gentotals"] is None or d["process"] is None:
        raise DumpError("a PROCESS, GENTOTALS or SUMMARY record is missing")
    blocks = d["blocks"]
    count = [0] * 5
    size = [0] * 5
    for b in blocks:
        count[b[3]] += 1
        size[b[3]] += b[1]
        if b[2] and b[2] not in d["stacks"]:
            raise DumpError("block 0x%x uses stack %d, which has no STACK record" % (b[0], b[2]))
    want = {"live_blocks": len(blocks), "live_bytes": sum(b[1] for b in blocks),
            "reachable_blocks": count[0], "reachable_bytes": size[0],
            "possible_blocks": count[1], "possible_bytes": size[1],
            "definite_blocks": count[2], "definite_bytes": size[2],
            "indirect_blocks": count[3], "indirect_bytes": size[3]}
    for k, v in want.items():
        if s[k] != v:
            raise DumpError("summary %s = %d, the blocks say %d" % (k, s[k], v))
    if sum(g[0] for g in d["gentotals"]) != len(blocks):
        raise DumpError("GENTOTALS blocks do not add up to the block count")
    for f, t, off in d["edges"]:
        if f >= len(blocks) or t >= len(blocks):
            raise DumpError("edge %d -> %d out of range" % (f, t))
        if blocks[f][3] not in (2, 3) or blocks[t][3] not in (2, 3):
            raise DumpError("edge %d -> %d between blocks that are not leaked" % (f, t))
        if off >= max(blocks[f][1], 1):
            raise DumpError("edge %d -> %d: offset %d outside the block" % (f, t, off))


def facts(d):
    f = dict(d["summary"])
    f.update(pid=d["pid"], trigger=d["trigger"], seq=d["seq"], edges=len(d["edges"]),
             modules=len(d["modules"]), stacks=len(d["stacks"]))
    return f


def check_expect(f, spec):
    for op in (">=", "<=", "="):
        if op in spec:
            k, v = spec.split(op, 1)
            if k not in f:
                return "unknown key %s" % k
            v = TRIGGERS.get(v, None) if k == "trigger" and not v.isdigit() else int(v)
            ok = {"=": f[k] == v, ">=": f[k] >= v, "<=": f[k] <= v}[op]
            return None if ok else "%s is %d, expected %s%s" % (k, f[k], op, v)
    return "bad expectation %s" % spec


def read_line(proc, timeout):
    """For the dump drivers: one line of proc's stdout (bytes, with its
    newline), or what arrived before EOF or `timeout` seconds."""
    end = time.time() + timeout
    buf = b""
    while time.time() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.1)
        if r:
            c = os.read(proc.stdout.fileno(), 1)
            if not c:
                break
            buf += c
            if c == b"\n":
                return buf
    return buf


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--trigger")
    ap.add_argument("--seqs", type=int, help="sequence numbers must be exactly 0..N-1")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args(argv)
    bad = []
    if a.count is not None and len(a.files) != a.count:
        bad.append("%d dump files, expected %d" % (len(a.files), a.count))
    seqs = []
    out = []
    for fn in a.files:
        try:
            with open(fn, "rb") as fh:
                d = parse(fh.read())
        except (DumpError, OSError) as e:
            bad.append("%s: %s" % (fn, e))
            continue
        f = facts(d)
        seqs.append(d["seq"])
        if a.pid is not None and d["pid"] != a.pid:
            bad.append("%s: pid %d, expected %d" % (fn, d["pid"], a.pid))
        if a.trigger is not None and d["trigger"] != TRIGGERS[a.trigger]:
            bad.append("%s: trigger %d, expected %s" % (fn, d["trigger"], a.trigger))
        for e in a.expect:
            msg = check_expect(f, e)
            if msg:
                bad.append("%s: %s" % (fn, msg))
        f["file"] = fn
        f["pause_ns"] = d["pause_ns"]
        f["bytes_per_block"] = round(d["block_bytes"] / max(len(d["blocks"]), 1), 2)
        out.append(f)
    if a.seqs is not None and sorted(seqs) != list(range(a.seqs)):
        bad.append("sequence numbers %s, expected 0..%d" % (sorted(seqs)[:10], a.seqs - 1))
    if a.json:
        print(json.dumps(out, indent=1))
    for b in bad:
        print("check_dump: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
