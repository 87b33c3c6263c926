#!/usr/bin/env python3
"""check_html.py MODE TOOL DUMPDIR PRELOAD PROGRAM [--screenshot FILE]

The `html` page of leakmark-analyze, on three inputs:
  series   a real dump series: PROGRAM (growth_leak.c) run under PRELOAD,
           dumped after each of ROUNDS rounds;
  golden   golden.lmd + golden2.lmd (two processes with the same dump time);
  hostile  a valid dump written here whose strings hold markup, quotes,
           ';' and bytes that are not UTF-8 (exe, command line, module).

MODE static (no browser):
  - the page is strict UTF-8, its tags balance (html.parser), every inline
    <svg> is well-formed XML, nothing is fetched (no src=, href=, @import,
    and no URL but the SVG namespace);
  - summary rows = dumps, in time order; growth chart: one live and one
    leaked marker per dump; live and leaked flame graphs whose totals equal
    the latest dump's numbers in the chart;
  - series: live and leaked bytes grow strictly from dump to dump, the
    expected frames are in the flame graphs (and freed ones are not), every
    drawn cycle has 2 members and 2 arrows (session <-> connection);
  - hostile: no element made of the dump's strings, which appear as text,
    and flamegraph's SVG and folded output stay well-formed.
MODE chromium (Debian's chromium, headless; absent = FAIL):
  - --dump-dom of the series and hostile pages: the page script ran
    (data-lm-ready on <html> = the number of flame graph frames in the DOM,
    every flame graph data-lm-zoom="ready", the status line rewritten), the
    svg elements are in the DOM, no injected element;
  - a copy of the series page with a probe script that clicks the
    parse_headers frame: the zoom widens it, its ancestors and its child to
    the full width and hides the new_session branch;
  - --screenshot at 1280x2000: a PNG of that size that is not blank (many
    colours, and thousands of pixels in the flame graph's warm palette).
  --screenshot FILE keeps the series screenshot (the README's picture).
"""
import html
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

ROUNDS = 4
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SVG_NS = "http://www.w3.org/2000/svg"
EVIL_EXE = b"/tmp/<img id=\"pwned\" src=x onerror=alert(1)>&amp;'\xff\xfe\x01evil"
EVIL_CMD = b"evil\x00<script id=\"pwned3\">document.title='pwned'</script>"
EVIL_MOD = b"/nonexistent/<b id=\"pwned2\">lib;x&amp;\xc3\x28.so"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run(args, env=None, check=True):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, env=env)
    if check and p.returncode != 0:
        fail("%s: exit status %d: %s" % (" ".join(args), p.returncode,
                                          p.stderr.decode(errors="replace")[-2000:]))
    return p


# ---- a hostile but valid dump (include/leakmark/dump_format.h) ----

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def record(rtype, payload):
    return struct.pack("<II", rtype, len(payload)) + payload


def evil_dump(path):
    header = b"LMDUMP\x00\x01" + struct.pack("<IIIIQQQII", 1, 64, 666, 1, 1700000000000000000,
                                                 1000000, 2000000, 0, 8) + b"\x00" * 8
    recs = [
        record(1, varint(len(EVIL_EXE)) + EVIL_EXE + varint(len(EVIL_CMD)) + EVIL_CMD),
        record(2, varint(0) + struct.pack("<QQQ", 0x400000, 0x500000, 0x400000) + varint(0)
               + varint(len(EVIL_MOD)) + EVIL_MOD),
        record(3, varint(1) + varint(2) + struct.pack("<QQ", 0x401001, 0x402001)),
        # blocks: a definite block pointing to itself, a reachable one, a
        # definite one without a stack
        record(4, varint(3) + varint(0x10000) + varint(100) + varint(1) + bytes([2]) + varint(5)
               + varint(1) + varint(0x100) + varint(50) + varint(1) + bytes([0]) + varint(5)
               + varint(0) + varint(0x100) + varint(20) + varint(0) + bytes([2]) + varint(5)
               + varint(1)),
        record(5, varint(1) + varint(0) + varint(0) + varint(8)),
    ]
    data = header + b"".join(recs) + record(0xFFFF, varint(len(recs)))
    with open(path, "wb") as fh:
        fh.write(data)


# ---- static checks ----

class Balance(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.ids, self.tags, self.links = [], [], [], [], []

    def note(self, tag, attrs):
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id"]
        self.links += [v for k, v in attrs if k in ("src", "href", "xlink:href", "action")]

    def handle_starttag(self, tag, attrs):
        self.note(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.note(tag, attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else ""))
        else:
            self.stack.pop()


def svgs(page):
    out = []
    for m in re.finditer(r"<svg\b.*?</svg>", page, re.S):
        try:
            out.append(ET.fromstring(m.group(0)))
        except ET.ParseError as e:
            fail("inline svg is not well-formed XML (%s): %s..." % (e, m.group(0)[:200]))
    return out


def by_class(root, cls, tag=None):
    return [e for e in root.iter() if cls in (e.get("class") or "").split()
            and (tag is None or e.tag == "{%s}%s" % (SVG_NS, tag))]


def frame_names(svg):
    return {(g.find("{%s}title" % SVG_NS).text or "").split("\n")[0]
            for g in by_class(svg, "f", "g")}


def check_page(tag, raw, ndumps):
    """Checks common to every page; returns (text, parsed svgs by kind)."""
    try:
        page = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        fail("%s: page is not UTF-8: %s" % (tag, e))
        page = raw.decode("utf-8", errors="replace")
    b = Balance()
    b.feed(page)
    b.close()
    if b.errors or b.stack:
        fail("%s: tags do not balance: %s, left open %s" % (tag, b.errors[:5], b.stack))
    if b.links or "@import" in page:
        fail("%s: the page refers to other resources: %s" % (tag, b.links))
    for u in re.findall(r"[a-z]+://[^\s\"'<>)]*", page):
        if u != SVG_NS:
            fail("%s: URL in the page: %s" % (tag, u))
    found = svgs(page)
    kinds = {k: [s for s in found if k in (s.get("class") or "")]
             for k in ("lm-growth", "lm-flame", "lm-cycle")}
    rows = re.search(r'<table id="lm-summary">(.*?)</table>', page, re.S)
    times = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC</td>",
                       rows.group(1) if rows else "")
    if len(times) != ndumps or times != sorted(times):
        fail("%s: summary has %d dated rows (want %d, in time order): %s"
             % (tag, len(times), ndumps, times))
    if len(kinds["lm-growth"]) != 1:
        fail("%s: %d growth charts" % (tag, len(kinds["lm-growth"])))
        return page, kinds, b
    g = kinds["lm-growth"][0]
    live = [int(c.get("data-bytes")) for c in by_class(g, "lm-pt-live", "circle")]
    leaked = [int(c.get("data-bytes")) for c in by_class(g, "lm-pt-leaked", "rect")]
    if len(live) != ndumps or len(leaked) != ndumps:
        fail("%s: growth chart has %d live / %d leaked points, want %d"
             % (tag, len(live), len(leaked), ndumps))
    flames = {s.get("id"): s for s in kinds["lm-flame"]}
    if set(flames) != {"lm-flame-live", "lm-flame-leaked"}:
        fail("%s: flame graphs %s" % (tag, sorted(flames)))
    elif live and leaked:
        # the pictures are of the latest dump: the chart's last point
        if int(flames["lm-flame-live"].get("data-total-bytes")) != live[-1] or \
           int(flames["lm-flame-leaked"].get("data-total-bytes")) != leaked[-1]:
            fail("%s: flame graph totals %s/%s differ from the latest dump's %d/%d" % (
                tag, flames["lm-flame-live"].get("data-total-bytes"),
                flames["lm-flame-leaked"].get("data-total-bytes"), live[-1], leaked[-1]))
    kinds["live"], kinds["leaked"], kinds["flames"] = live, leaked, flames
    return page, kinds, b


def make_series(tool, preload, program, tmp, rounds):
    d = os.path.join(tmp, "series")
    os.makedirs(d)
    env = dict(os.environ, LD_PRELOAD=preload,
               LEAKMARK_OPTIONS="dump_path=%s/heap.%%n.dump:leak_check=0" % d)
    run([program, d, str(rounds)], env=env)
    dumps = [os.path.join(d, "heap.%d.dump" % i) for i in range(rounds)]
    missing = [x for x in dumps if not os.path.exists(x)]
    if missing:
        fail("series: dumps missing: %s" % missing)
    # given in reverse order: the page must sort them by time
    page = os.path.join(tmp, "series.html")
    run([tool, "html"] + dumps[::-1] + ["-o", page])
    return page


def static_series(tool, page_path):
    with open(page_path, "rb") as fh:
        page, k, _ = check_page("series", fh.read(), ROUNDS)
    live, leaked = k.get("live", []), k.get("leaked", [])
    if any(b <= a for a, b in zip(live, live[1:])) or any(b <= a for a, b in zip(leaked, leaked[1:])):
        fail("series: live %s / leaked %s do not grow strictly" % (live, leaked))
    flames = k.get("flames", {})
    if "lm-flame-live" in flames:
        names = frame_names(flames["lm-flame-live"])
        want = {"main", "serve_round", "handle_request", "new_session", "parse_headers", "xalloc"}
        if not want <= names or "build_reply" in names:
            fail("series: live flame graph frames %s (want %s, no build_reply)"
                 % (sorted(names), sorted(want)))
        names = frame_names(flames["lm-flame-leaked"])
        if not {"new_session", "parse_headers"} <= names or "build_reply" in names:
            fail("series: leaked flame graph frames %s" % sorted(names))
    cyc = k["lm-cycle"]
    m = re.search(r"(\d+) leaked cycles?\.", page)
    ncyc = int(m.group(1)) if m else 0
    # 4 sessions dropped per round; a stale pointer may keep the newest alive
    if ncyc < 4 * ROUNDS - 1 or len(cyc) != min(ncyc, 20):
        fail("series: %d cycles reported, %d drawn" % (ncyc, len(cyc)))
    for c in cyc:
        nodes, edges = by_class(c, "lm-node", "g"), by_class(c, "lm-edge", "g")
        offs = [e.find("{%s}text" % SVG_NS).text for e in edges]
        if c.get("data-members") != "2" or len(nodes) != 2 or len(edges) != 2 or \
           c.get("data-arrows") != "2" or offs != ["+0", "+0"]:
            fail("series: a cycle drawn with %d nodes, edges %s" % (len(nodes), offs))
            break


def static_golden(tool, dumps, tmp):
    page_path = os.path.join(tmp, "golden.html")
    run([tool, "html", os.path.join(dumps, "golden2.lmd"), os.path.join(dumps, "golden.lmd"),
         "-o", page_path])
    with open(page_path, "rb") as fh:
        page, k, _ = check_page("golden", fh.read(), 2)
    # same time: pid 4242 (golden) before 5151 (golden2), whose pictures these are
    pids = re.findall(r"pid (\d+)</span>", page)
    if pids != ["4242", "5151"]:
        fail("golden: summary pids %s, want 4242 then 5151" % pids)
    if k["lm-cycle"]:
        fail("golden: golden2 has no cycle, %d drawn" % len(k["lm-cycle"]))
    # golden alone: its 3-cycle
    run([tool, "html", os.path.join(dumps, "golden.lmd"), "-o", page_path])
    with open(page_path, "rb") as fh:
        page, k, _ = check_page("golden alone", fh.read(), 1)
    cyc = k["lm-cycle"]
    if len(cyc) != 1 or cyc[0].get("data-members") != "3" or \
       len(by_class(cyc[0], "lm-node", "g")) != 3 or cyc[0].get("data-arrows") != "3":
        fail("golden alone: the 3-cycle is not drawn as 3 nodes and 3 arrows")


def static_hostile(tool, tmp):
    dump = os.path.join(tmp, "evil.lmd")
    evil_dump(dump)
    page_path = os.path.join(tmp, "evil.html")
    run([tool, "html", dump, "-o", page_path])
    with open(page_path, "rb") as fh:
        page, k, b = check_page("hostile", fh.read(), 1)
    bad = [i for i in b.ids if i.startswith("pwned")]
    if bad or "img" in b.tags:
        fail("hostile: markup from the dump became elements: ids %s" % bad)
    for text in ('&lt;img id=&quot;pwned&quot;', '&lt;b id=&quot;pwned2&quot;&gt;lib;x&amp;amp;',
                 '&lt;script id=&quot;pwned3&quot;&gt;', "\ufffd"):
        if text not in page:
            fail("hostile: %r not in the page" % text)
    cyc = k["lm-cycle"]
    if len(cyc) != 1 or cyc[0].get("data-members") != "1" or \
       len(by_class(cyc[0], "lm-edge", "g")) != 1:
        fail("hostile: the self-pointing block is not drawn as a one-node cycle with a loop")
    svg = run([tool, "flamegraph", dump]).stdout
    try:
        names = frame_names(ET.fromstring(svg))
        if not any(n.startswith('<b id="pwned2">lib;x&amp;\ufffd(.so+0x') for n in names):
            fail("hostile: flame graph frame names %s" % sorted(names))
    except ET.ParseError as e:
        fail("hostile: flamegraph SVG is not well-formed: %s" % e)
    folded = run([tool, "flamegraph", dump, "--folded"]).stdout.decode("utf-8", "replace")
    lines = folded.splitlines()
    if len(lines) != 2 or not all(len(line.rsplit(" ", 1)[0].split(";")) in (1, 2)
                                  for line in lines) or "lib:x" not in folded:
        fail("hostile: folded output %r" % folded)
    return dump


# ---- chromium ----

def chromium(args, tmp, url):
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium")
                                       else None)
    if not exe:
        fail("chromium is not installed: apt-get install chromium (scripts/setup.sh installs it)")
        return None
    profile = tempfile.mkdtemp(prefix="profile.", dir=tmp)
    cmd = ["timeout", "-k", "5", "90", exe, "--headless", "--no-sandbox", "--disable-gpu",
           "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
           "--disable-extensions", "--disable-background-networking", "--disable-sync",
           "--disable-component-update", "--disable-default-apps", "--mute-audio",
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--virtual-time-budget=5000"] + args + [url]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       env=dict(os.environ, HOME=profile))
    if p.returncode != 0:
        fail("chromium %s: exit status %d: %s" % (" ".join(args), p.returncode,
                                                   p.stderr.decode(errors="replace")[-1500:]))
        return None
    return p.stdout


def check_dom(tag, dom):
    b = Balance()
    b.feed(dom.decode("utf-8", "replace"))
    text = dom.decode("utf-8", "replace")
    m = re.search(r'<html[^>]*\bdata-lm-ready="(\d+)"', text)
    frames = len(re.findall(r'<g class="f"', text))
    if not m or int(m.group(1)) != frames or frames == 0:
        fail("%s: script did not run or counted wrong: data-lm-ready=%s, %d frames in the DOM"
             % (tag, m.group(1) if m else None, frames))
    flames = re.findall(r'<svg[^>]*class="lm-flame[^"]*"[^>]*>', text)
    ready = [f for f in flames if 'data-lm-zoom="ready"' in f]
    if len(flames) != 2 or len(ready) != 2:
        fail("%s: %d flame graphs in the DOM, %d made interactive" % (tag, len(flames), len(ready)))
    if not re.search(r'id="lm-js-status">Interactive:', text):
        fail("%s: the status line was not rewritten by the script" % tag)
    if "lm-growth" not in text or "<svg" not in text:
        fail("%s: svg elements missing from the DOM" % tag)
    bad = [i for i in b.ids if i.startswith("pwned")]
    if bad:
        fail("%s: injected elements in the DOM: %s" % (tag, bad))


# Appended to a copy of the series page: clicks the parse_headers frame of
# the live flame graph and records every frame's width (-1: hidden).
ZOOM_PROBE = """<script>
(function () {
  var svg = document.getElementById('lm-flame-live');
  function name(f) { return f.querySelector(':scope > title').textContent.split('\\n')[0]; }
  var frames = Array.prototype.slice.call(svg.querySelectorAll('g.f'));
  var g = frames.filter(function (f) { return name(f) === 'parse_headers'; })[0];
  g.querySelector(':scope > rect').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  document.body.setAttribute('data-zoom-probe', JSON.stringify(frames.map(function (f) {
    return [name(f), f.style.display === 'none' ? -1 : +f.querySelector(':scope > rect').getAttribute('width')];
  })));
})();
</script>
"""


def check_zoom(dom):
    """After the click on parse_headers: it, its ancestors and its child span
    the whole width, new_session (a sibling branch) is hidden."""
    m = re.search(r'data-zoom-probe="([^"]*)"', dom.decode("utf-8", "replace"))
    if not m:
        fail("zoom: the probe did not run")
        return
    frames = json.loads(html.unescape(m.group(1)))
    width = {}
    for name, w in frames:
        width.setdefault(name, []).append(w)
    full = 1180.0
    for name in ("all", "main", "serve_round", "handle_request", "parse_headers"):
        if not all(abs(w - full) < 0.01 for w in width.get(name, [0])):
            fail("zoom: %s is %s px wide after the click, want %g" % (name, width.get(name), full))
    if not width.get("new_session") or any(w != -1 for w in width["new_session"]):
        fail("zoom: new_session still shown after zooming into parse_headers: %s"
             % width.get("new_session"))
    if not any(abs(w - full) < 0.01 for w in width.get("xalloc", [])):
        fail("zoom: parse_headers' child xalloc was not widened: %s" % width.get("xalloc"))


def png_pixels(data):
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG kind %s" % (ihdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(tag, path):
    try:
        with open(path, "rb") as fh:
            w, h, bpp, rows = png_pixels(fh.read())
    except (OSError, ValueError, zlib.error, struct.error, TypeError) as e:
        fail("%s: screenshot unreadable: %s" % (tag, e))
        return
    if (w, h) != (1280, 2000):
        fail("%s: screenshot is %dx%d, want 1280x2000" % (tag, w, h))
    colours, warm = set(), 0
    for row in rows:
        for i in range(0, len(row), bpp):
            r, g, b = row[i], row[i + 1], row[i + 2]
            colours.add((r, g, b))
            if r >= 205 and b <= 55:
                warm += 1
    print("%s: screenshot %dx%d, %d colours, %d warm pixels" % (tag, w, h, len(colours), warm))
    if len(colours) < 50:
        fail("%s: screenshot nearly blank: %d colours" % (tag, len(colours)))
    if warm < 5000:
        fail("%s: flame graph not visible: %d pixels in its palette" % (tag, warm))


def main():
    args = sys.argv[1:]
    keep = None
    if "--screenshot" in args:
        i = args.index("--screenshot")
        keep = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if len(args) != 5 or args[0] not in ("static", "chromium"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, tool, dumps, preload, program = args
    tmp = tempfile.mkdtemp(prefix="lm-html.")
    try:
        series = make_series(tool, preload, program, tmp, ROUNDS)
        if mode == "static":
            static_series(tool, series)
            static_golden(tool, dumps, tmp)
            static_hostile(tool, tmp)
        else:
            evil_dump(os.path.join(tmp, "evil.lmd"))
            evil_page = os.path.join(tmp, "evil.html")
            run([tool, "html", os.path.join(tmp, "evil.lmd"), "-o", evil_page])
            probe = os.path.join(tmp, "probe.html")
            with open(series, encoding="utf-8") as fh, open(probe, "w", encoding="utf-8") as out:
                out.write(fh.read().replace("</body>", ZOOM_PROBE + "</body>"))
            for tag, page in (("series", series), ("hostile", evil_page), ("zoom", probe)):
                dom = chromium(["--dump-dom"], tmp, "file://" + page)
                if dom is None:
                    break
                if tag == "zoom":
                    check_zoom(dom)
                else:
                    check_dom(tag, dom)
            else:
                shot = os.path.join(tmp, "shot.png")
                if chromium(["--screenshot=" + shot, "--window-size=1280,2000",
                             "--hide-scrollbars"], tmp, "file://" + series) is not None:
                    check_png("series", shot)
                    if keep:
                        shutil.copyfile(shot, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    print("ok: html page (%s)" % mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
