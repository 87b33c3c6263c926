#!/usr/bin/env python3
"""check_flame.py TOOL DUMPDIR - `flamegraph` on the golden dumps, checked by
structure rather than bytes (coordinates depend on nothing but the dump, but
a byte comparison would say little about what is wrong).

For golden.lmd and golden2.lmd, live and --leaked:
  - the SVG is well-formed XML (xml.etree), <svg class="lm-flame">;
  - the root frame is as wide as the drawing area and holds the total bytes,
    which must equal what `report --json` says (live_bytes, or definite +
    indirect bytes): an independent count of the same dump;
  - every frame: data-bytes = sum of its children's + data-self (+ data-omit);
    width = sum of its children's widths + (self + omit) * scale, within the
    rounding of 2 decimals; children start at the parent's left edge, follow
    each other without gap, sit one row above, and are sorted by name;
  - every frame has a <title>: name, file:line for symbolised frames, bytes,
    blocks and percentage agreeing with its attributes;
  - a label is the name (or its clipped prefix + "..") and fits the frame; a
    frame without a label is too narrow for 3 characters;
  - the frames gen_dump.c put in the dump are there (and, with --leaked,
    only the leaked ones);
  - `--folded` lines are sorted, sum to the total, and each is a path of the
    SVG tree whose last frame has that many self bytes;
  - two runs give identical bytes, and -o FILE writes what stdout gets.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
CHAR_W = 7.3
FRAME_H = 16

# What gen_dump.c puts in its dumps (frames by name).
EXPECT = {
    ("golden", False): {"main", "take_stacks", "make_cycle", "make_plain", "make_tree",
                        "make_reachable", "make_possible", "libgone.so+0x1234", "[no stack]"},
    ("golden", True): {"main", "take_stacks", "make_cycle", "make_plain", "make_tree"},
    ("golden2", False): {"main", "take_stacks", "make_plain", "make_tree", "make_newsite",
                         "make_reachable", "make_possible", "libgone.so+0x1234", "[no stack]"},
    ("golden2", True): {"main", "take_stacks", "make_plain", "make_tree"},
}
NOT_LEAKED = {"make_reachable", "make_possible", "make_newsite", "libgone.so+0x1234",
              "[no stack]"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        fail("%s: exit status %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p.stdout


TITLE_RE = re.compile(r"^(?P<name>[^\n]+)\n(?:(?P<file>[^\n]+?):(?P<l0>\d+)(?:-(?P<l1>\d+))?"
                      r"(?: \(and other files\))?\n)?(?P<bytes>[\d,]+) bytes? in "
                      r"(?P<blocks>[\d,]+) blocks?, (?P<pct>[\d.]+)%")


class Frame:
    def __init__(self, g):
        self.g = g
        self.title = g.find(NS + "title").text or ""
        self.name = self.title.split("\n")[0]
        r = g.find(NS + "rect")
        self.x, self.w, self.y = float(r.get("x")), float(r.get("width")), float(r.get("y"))
        t = g.find(NS + "text")
        self.label = None if t is None else (t.text or "")
        self.bytes = int(g.get("data-bytes"))
        self.blocks = int(g.get("data-blocks"))
        self.self_bytes = int(g.get("data-self"))
        self.omit = int(g.get("data-omit", "0"))
        self.kids = [Frame(k) for k in g.findall(NS + "g") if k.get("class") == "f"]


def walk(f, path=()):
    path = path + (f.name,)
    yield f, path
    for k in f.kids:
        yield from walk(k, path)


def check_svg(tag, data, total, expect, leaked):
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        fail("%s: not well-formed XML: %s" % (tag, e))
        return None
    if root.tag != NS + "svg" or "lm-flame" not in root.get("class", ""):
        fail("%s: root element is %s" % (tag, root.tag))
        return None
    if int(root.get("data-total-bytes")) != total:
        fail("%s: data-total-bytes %s, report says %d" % (tag, root.get("data-total-bytes"), total))
    pad, full = float(root.get("data-pad")), float(root.get("data-frame-width"))
    frames = root.find(NS + "g")
    tops = [g for g in frames.findall(NS + "g")] if frames is not None else []
    if len(tops) != 1:
        fail("%s: %d root frames, expected 1" % (tag, len(tops)))
        return None
    top = Frame(tops[0])
    if top.bytes != total or abs(top.x - pad) > 0.005 or abs(top.w - full) > 0.005:
        fail("%s: root frame %d bytes at x=%.2f w=%.2f; want %d bytes at %.2f w=%.2f"
             % (tag, top.bytes, top.x, top.w, total, pad, full))
    scale = full / total
    names = set()
    for f, path in walk(top):
        names.add(f.name)
        kb = sum(k.bytes for k in f.kids)
        if kb + f.self_bytes + f.omit != f.bytes:
            fail("%s: %s: %d bytes != children %d + self %d + omitted %d"
                 % (tag, "/".join(path), f.bytes, kb, f.self_bytes, f.omit))
        kw = sum(k.w for k in f.kids)
        want = kw + (f.self_bytes + f.omit) * scale
        if abs(f.w - want) > 0.01 * (len(f.kids) + 1):
            fail("%s: %s: width %.2f != children %.2f + self %.2f"
                 % (tag, "/".join(path), f.w, kw, want - kw))
        x = f.x
        for k in f.kids:
            if abs(k.x - x) > 0.01 * (len(f.kids) + 1):
                fail("%s: %s: child %s starts at %.2f, expected %.2f"
                     % (tag, "/".join(path), k.name, k.x, x))
            if k.y != f.y - FRAME_H:
                fail("%s: %s: child %s at y=%g, parent at %g" % (tag, "/".join(path), k.name,
                                                                  k.y, f.y))
            x = k.x + k.w
        if [k.name for k in f.kids] != sorted(k.name for k in f.kids):
            fail("%s: %s: children not sorted by name" % (tag, "/".join(path)))
        m = TITLE_RE.match(f.title)
        if not m:
            fail("%s: %s: bad title %r" % (tag, "/".join(path), f.title))
        else:
            if int(m["bytes"].replace(",", "")) != f.bytes or \
               int(m["blocks"].replace(",", "")) != f.blocks:
                fail("%s: %s: title %r disagrees with data-bytes/blocks" % (tag, f.name, f.title))
            if abs(float(m["pct"]) - 100.0 * f.bytes / total) > 0.006:
                fail("%s: %s: title percentage %s" % (tag, f.name, m["pct"]))
            symbolised = f is not top and not f.name.startswith("[") and "+0x" not in f.name
            if symbolised and (not m["file"] or os.path.basename(m["file"]) != "gen_dump.c"):
                fail("%s: %s: no gen_dump.c:LINE in the title %r" % (tag, f.name, f.title))
        room = int((f.w - 6) / CHAR_W) if f.w > 6 else 0
        if f.label is None:
            if room >= 3:
                fail("%s: %s: %.2f px wide but unlabelled" % (tag, f.name, f.w))
        else:
            ok = f.label == f.name or (f.label.endswith("..") and
                                       f.name.startswith(f.label[:-2]))
            if not ok or len(f.label) > room:
                fail("%s: %s: label %r does not fit %.2f px or is not the name"
                     % (tag, f.name, f.label, f.w))
    if not expect <= names:
        fail("%s: frames missing: %s" % (tag, sorted(expect - names)))
    if leaked and names & NOT_LEAKED:
        fail("%s: frames of unleaked blocks in the leaked graph: %s"
             % (tag, sorted(names & NOT_LEAKED)))
    return top


def check_folded(tag, text, total, top):
    lines = text.decode().splitlines()
    paths = []
    got = 0
    for line in lines:
        m = re.match(r"^(.+) (\d+)$", line)
        if not m or int(m[2]) <= 0:
            fail("%s: bad folded line %r" % (tag, line))
            continue
        path = tuple(m[1].split(";"))
        paths.append(path)
        got += int(m[2])
        node = top
        for name in path:
            node = next((k for k in node.kids if k.name == name), None)
            if node is None:
                fail("%s: folded path %r is not in the SVG" % (tag, m[1]))
                break
        if node is not None and node.self_bytes != int(m[2]):
            fail("%s: folded %r: %s bytes, the SVG frame has %d self bytes"
                 % (tag, m[1], m[2], node.self_bytes))
    if got != total:
        fail("%s: folded counts sum to %d, total is %d" % (tag, got, total))
    if paths != sorted(paths) or len(set(paths)) != len(paths):
        fail("%s: folded lines not sorted or not unique" % tag)
    if len(paths) < 2:
        fail("%s: only %d folded lines" % (tag, len(paths)))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tool, dumps = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="lm-flame.")
    for name in ("golden", "golden2"):
        dump = os.path.join(dumps, name + ".lmd")
        summary = json.loads(run([tool, "report", dump, "--json"]))["summary"]
        for leaked in (False, True):
            tag = name + (" --leaked" if leaked else "")
            total = (summary["definite_bytes"] + summary["indirect_bytes"] if leaked
                     else summary["live_bytes"])
            extra = ["--leaked"] if leaked else []
            svg = run([tool, "flamegraph", dump] + extra)
            out = os.path.join(tmp, "f.svg")
            run([tool, "flamegraph", dump, "-o", out] + extra)
            with open(out, "rb") as fh:
                if fh.read() != svg:
                    fail("%s: -o FILE differs from stdout" % tag)
            if run([tool, "flamegraph", dump] + extra) != svg:
                fail("%s: two runs differ" % tag)
            top = check_svg(tag, svg, total, EXPECT[(name, leaked)], leaked)
            if top is not None:
                check_folded(tag, run([tool, "flamegraph", dump, "--folded"] + extra), total, top)
            print("checked %s: %d bytes" % (tag, total))
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    print("ok: flame graphs of the golden dumps are consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
