#!/usr/bin/python3
"""check_report.py - validate leakmark's JSON report (schema 1) and compare it
with a scenario's expected numbers.  Standard library only.

Usage:
  check_report.py --glob PATTERN [--files N] [--main-pid PID]
                  [--functions auto|require|off] [--exe PATH]
                  [--trigger exit] [--report only|main|child] EXPECTATIONS...
                  [--report main|child EXPECTATIONS...]...
  check_report.py --schema-only --glob PATTERN [--files N] [--main-pid PID]
                  [--trigger T] [--summary-out FILE]
  check_report.py --self-test

Reports.  PATTERN (a shell glob, e.g. DIR/r.*.json) must match --files
reports (default 1).  Each `--report SEL` starts a section whose
expectations apply to one report: `only` (the default section before any
--report) requires exactly one match; `main` is the report of process
--main-pid; `child` is the single report of any other process (a fork
child).  Every matched report is validated, whether a section names it or
not.

Validation (the contract of shared/REPORT-FORMAT.md, exact types):
  tool == "leakmark", schema == 1, version str, pid int (and equal to the
  pid in a file name r.<pid>.json), exe str, trigger in exit|signal|api|
  periodic (and == --trigger when given); summary holds every schema-1
  field, counts and byte totals non-negative ints, scan_ms/pause_ms
  non-negative numbers; leaks sorted by bytes, largest first, each with kind
  in definite|indirect|possible, blocks >= 1, bytes >= 0, in_cycle bool, a
  non-empty stack of frames with pc/module/offset strings (pc and offset
  hex), optional function/file str and line int; the summary's
  definite/indirect/possible blocks and bytes equal the sums over leaks; live
  = definite + indirect + possible + reachable (+ suppressed) (+ the
  unreported blocks a periodic scan leaves out); cycles
  entries with id, blocks, bytes, root bool, members (address str, size int,
  leak index in range, pointing at a definite entry for a root cycle and an
  indirect one otherwise, with in_cycle true) whose count and sizes add up
  to blocks and bytes, edges (from/to member indexes in range, offset
  within the from member) that make the members one strongly connected
  component (a single member needs a self edge); summary.cycles == number
  of cycle entries.  Optional "suppressions" (rules that hid blocks): each
  with type leak|valgrind, rule str, line int >= 1, blocks int >= 1, bytes
  int >= 0; their blocks add up to at most summary.suppressed_blocks.

Schema-only mode (--schema-only, for runs of real programs whose reports
have no expected numbers; no expectations allowed).  PATTERN must match at
least one report (exactly --files N when given).  Every matched report is
validated as above; in addition each file name must end in .<pid>.json with
<pid> equal to the report's "pid" (whatever the prefix), so the pids are
distinct: a forked child's report is its own.  --main-pid PID requires a
report of process PID among them; --trigger T, every report's trigger T.
--summary-out FILE writes one line per
valid report, tab-separated: pid, exe, trigger, then the summary's integer
fields in the order live, definite, indirect, possible, reachable,
suppressed (blocks then bytes each), cycles, then the number of leak
entries.  Timings (scan_ms, pause_ms) are left out.

Expectations (repeatable, in any section):
  --expect KEY OP VALUE     KEY a summary field, or `leaks` (entries),
                            `leaks.definite|indirect|possible` (entries of a
                            kind), `cycle_entries`, `root_cycles`.  OP one of
                            = == != >= <= > <, e.g. definite_blocks=1,
                            reachable_blocks>=1.
  --expect-leak SPEC        SPEC: comma-separated KEY OP VALUE with keys kind,
                            blocks, bytes, in_cycle (true/false), function,
                            count.  Without count: at least one leak entry
                            matches all the others; count=N: exactly N do
                            (count=0: none).
  --expect-cycle SPEC       keys blocks, bytes, root, count; as above.
  --expect-leak-function F  some leak entry's stack has function F.
  --expect-suppression SPEC keys type, rule, line, blocks, bytes, count; as
                            --expect-leak, over the "suppressions" entries.
Function checks (function= in a SPEC, --expect-leak-function) need
symbolized stacks: --functions require enforces them, off ignores them,
auto (default) enforces them only when the report names functions in any
frame at all.

Exit status: 0 all good, 1 a report is missing or invalid or an expectation
failed (a diff is printed), 2 usage error.
"""

import glob
import json
import math
import os
import re
import sys

SUMMARY_INT_FIELDS = (
    "live_blocks", "live_bytes",
    "definite_blocks", "definite_bytes",
    "indirect_blocks", "indirect_bytes",
    "possible_blocks", "possible_bytes",
    "reachable_blocks", "reachable_bytes",
    "suppressed_blocks", "suppressed_bytes",
    "cycles",
)
SUMMARY_FLOAT_FIELDS = ("scan_ms", "pause_ms")
KINDS = ("definite", "indirect", "possible")
TRIGGERS = ("exit", "signal", "api", "periodic")
HEX = re.compile(r"^0x[0-9a-fA-F]+$")
OPS = ("==", "!=", ">=", "<=", "=", ">", "<")
EXPR = re.compile(r"^\s*([A-Za-z_][A-Za-z_.0-9]*)\s*(==|!=|>=|<=|=|>|<)\s*(.*?)\s*$")


class Usage(Exception):
    pass


# ---------------------------------------------------------------- helpers

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (is_int(v) or isinstance(v, float)) and not (
        isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def parse_expr(text):
    m = EXPR.match(text)
    if not m:
        raise Usage("cannot parse expectation %r (want KEY OP VALUE)" % text)
    key, op, value = m.groups()
    if op == "=":
        op = "=="
    return key, op, value


def convert(value, like):
    """Convert the text VALUE to the type of LIKE (the report's value)."""
    if isinstance(like, bool):
        if value.lower() in ("true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise Usage("%r is not a boolean" % value)
    if is_int(like):
        return int(value, 0)
    if isinstance(like, float):
        return float(value)
    return value


def compare(actual, op, expected):
    if op == "==":
        return actual == expected
    if op == "!=":
        return actual != expected
    if isinstance(actual, (bool, str)) or isinstance(expected, (bool, str)):
        raise Usage("operator %s needs numbers" % op)
    return {">=": actual >= expected, "<=": actual <= expected,
            ">": actual > expected, "<": actual < expected}[op]


def function_matches(name, want):
    """FRAME's function NAME is WANT: exact, demangled (ns::want(args)),
    or mangled (_Z..<len>want..)."""
    if name == want:
        return True
    if re.search(r"(^|::|\s)" + re.escape(want) + r"($|\()", name):
        return True
    return ("%d%s" % (len(want), want)) in name and name.startswith("_Z")


def leak_has_function(leak, want):
    return any(function_matches(f.get("function", ""), want)
               for f in leak.get("stack", []) if isinstance(f, dict))


def top_function(leak):
    for f in leak.get("stack", []):
        if isinstance(f, dict) and f.get("function"):
            return f["function"]
    return "?"


# ---------------------------------------------------------------- validation

def validate(rep, path):
    """Return a list of contract violations of report REP (from PATH)."""
    errs = []

    def err(msg):
        errs.append(msg)

    if not isinstance(rep, dict):
        return ["top level is %s, not an object" % type(rep).__name__]
    if rep.get("tool") != "leakmark":
        err("tool is %r, not \"leakmark\"" % rep.get("tool"))
    if not (is_int(rep.get("schema")) and rep.get("schema") == 1):
        err("schema is %r, not 1" % rep.get("schema"))
    if not isinstance(rep.get("version"), str):
        err("version is missing or not a string")
    if not is_int(rep.get("pid")) or rep.get("pid", 0) <= 0:
        err("pid is missing or not a positive integer")
    else:
        m = re.match(r"^r\.(\d+)\.json$", os.path.basename(path))
        if m and int(m.group(1)) != rep["pid"]:
            err("pid %d differs from the pid in the file name %s"
                % (rep["pid"], os.path.basename(path)))
    if not isinstance(rep.get("exe"), str) or not rep.get("exe"):
        err("exe is missing or not a non-empty string")
    if rep.get("trigger") not in TRIGGERS:
        err("trigger is %r, not one of %s" % (rep.get("trigger"), "|".join(TRIGGERS)))

    s = rep.get("summary")
    if not isinstance(s, dict):
        err("summary is missing or not an object")
        s = {}
    for k in SUMMARY_INT_FIELDS:
        if k not in s:
            err("summary.%s is missing" % k)
        elif not is_int(s[k]) or s[k] < 0:
            err("summary.%s is %r, not a non-negative integer" % (k, s[k]))
    for k in SUMMARY_FLOAT_FIELDS:
        if k not in s:
            err("summary.%s is missing" % k)
        elif not is_num(s[k]) or s[k] < 0:
            err("summary.%s is %r, not a non-negative number" % (k, s[k]))

    leaks = rep.get("leaks")
    if not isinstance(leaks, list):
        err("leaks is missing or not an array")
        leaks = []
    sums = {k: [0, 0] for k in KINDS}
    for i, lk in enumerate(leaks):
        where = "leaks[%d]" % i
        if not isinstance(lk, dict):
            err("%s is not an object" % where)
            continue
        if lk.get("kind") not in KINDS:
            err("%s.kind is %r" % (where, lk.get("kind")))
        if not is_int(lk.get("blocks")) or lk.get("blocks", 0) < 1:
            err("%s.blocks is %r, not an integer >= 1" % (where, lk.get("blocks")))
        if not is_int(lk.get("bytes")) or lk.get("bytes", 0) < 0:
            err("%s.bytes is %r, not a non-negative integer" % (where, lk.get("bytes")))
        if not isinstance(lk.get("in_cycle"), bool):
            err("%s.in_cycle is %r, not a boolean" % (where, lk.get("in_cycle")))
        if lk.get("kind") in KINDS and is_int(lk.get("blocks")) and is_int(lk.get("bytes")):
            sums[lk["kind"]][0] += lk["blocks"]
            sums[lk["kind"]][1] += lk["bytes"]
        stack = lk.get("stack")
        if not isinstance(stack, list) or not stack:
            err("%s.stack is missing or empty" % where)
            continue
        for j, fr in enumerate(stack):
            fw = "%s.stack[%d]" % (where, j)
            if not isinstance(fr, dict):
                err("%s is not an object" % fw)
                continue
            for k in ("pc", "module", "offset"):
                if not isinstance(fr.get(k), str):
                    err("%s.%s is missing or not a string" % (fw, k))
            for k in ("pc", "offset"):
                if isinstance(fr.get(k), str) and not HEX.match(fr[k]):
                    err("%s.%s is %r, not a 0x hex string" % (fw, k, fr[k]))
            for k in ("function", "file"):
                if k in fr and not isinstance(fr[k], str):
                    err("%s.%s is not a string" % (fw, k))
            if "line" in fr and not is_int(fr["line"]):
                err("%s.line is not an integer" % fw)
    for i in range(1, len(leaks)):
        a, b = leaks[i - 1], leaks[i]
        if (isinstance(a, dict) and isinstance(b, dict) and is_int(a.get("bytes"))
                and is_int(b.get("bytes")) and a["bytes"] < b["bytes"]):
            err("leaks are not sorted by bytes, largest first: leaks[%d] has %d, "
                "leaks[%d] has %d" % (i - 1, a["bytes"], i, b["bytes"]))
    for k in KINDS:
        for n, unit in ((0, "blocks"), (1, "bytes")):
            f = "%s_%s" % (k, unit)
            if is_int(s.get(f)) and s[f] != sums[k][n]:
                err("summary.%s is %d but the %s leak entries add up to %d"
                    % (f, s[f], k, sums[k][n]))
    for unit in ("blocks", "bytes"):
        parts = [s.get("%s_%s" % (k, unit)) for k in
                 ("definite", "indirect", "possible", "reachable", "suppressed")]
        live = s.get("live_" + unit)
        unrep = s.get("unreported_" + unit)       # periodic scans only
        if is_int(unrep) and unrep >= 0 and is_int(live):
            live -= unrep
        if is_int(live) and all(is_int(p) for p in parts):
            if parts[4] == 0 and live != sum(parts):
                err("summary.live_%s is %d, not definite + indirect + possible + "
                    "reachable = %d" % (unit, live, sum(parts)))
            elif live < sum(parts[:4]):
                err("summary.live_%s is %d, less than the classified %d"
                    % (unit, live, sum(parts[:4])))

    cycles = rep.get("cycles")
    if not isinstance(cycles, list):
        err("cycles is missing or not an array")
        cycles = []
    if is_int(s.get("cycles")) and s["cycles"] != len(cycles):
        err("summary.cycles is %d but there are %d cycle entries" % (s["cycles"], len(cycles)))
    for i, cy in enumerate(cycles):
        errs.extend(validate_cycle(cy, "cycles[%d]" % i, leaks))
    errs.extend(validate_suppressions(rep.get("suppressions"), s))
    return errs


def validate_suppressions(sups, s):
    if sups is None:
        return []
    if not isinstance(sups, list):
        return ["suppressions is not an array"]
    errs, total = [], 0
    for i, sp in enumerate(sups):
        where = "suppressions[%d]" % i
        if not isinstance(sp, dict):
            errs.append("%s is not an object" % where)
            continue
        if sp.get("type") not in ("leak", "valgrind"):
            errs.append("%s.type is %r, not leak|valgrind" % (where, sp.get("type")))
        if not isinstance(sp.get("rule"), str):
            errs.append("%s.rule is missing or not a string" % where)
        if not is_int(sp.get("line")) or sp.get("line") < 1:
            errs.append("%s.line is %r, not an integer >= 1" % (where, sp.get("line")))
        if not is_int(sp.get("blocks")) or sp.get("blocks") < 1:
            errs.append("%s.blocks is %r, not an integer >= 1" % (where, sp.get("blocks")))
        else:
            total += sp["blocks"]
        if not is_int(sp.get("bytes")) or sp.get("bytes") < 0:
            errs.append("%s.bytes is %r, not a non-negative integer" % (where, sp.get("bytes")))
    sb = s.get("suppressed_blocks")
    if is_int(sb) and total > sb:
        errs.append("suppressions hit %d blocks, more than summary.suppressed_blocks %d"
                    % (total, sb))
    return errs


def validate_cycle(cy, where, leaks):
    errs = []
    if not isinstance(cy, dict):
        return ["%s is not an object" % where]
    for k in ("id", "blocks", "bytes"):
        if not is_int(cy.get(k)) or cy.get(k) < 0:
            errs.append("%s.%s is %r, not a non-negative integer" % (where, k, cy.get(k)))
    if not isinstance(cy.get("root"), bool):
        errs.append("%s.root is %r, not a boolean" % (where, cy.get("root")))
    members = cy.get("members")
    if not isinstance(members, list) or not members:
        return errs + ["%s.members is missing or empty" % where]
    want_kind = "definite" if cy.get("root") is True else "indirect"
    total = 0
    for j, m in enumerate(members):
        mw = "%s.members[%d]" % (where, j)
        if not isinstance(m, dict):
            errs.append("%s is not an object" % mw)
            continue
        if not isinstance(m.get("address"), str) or not HEX.match(m.get("address", "")):
            errs.append("%s.address is %r, not a 0x hex string" % (mw, m.get("address")))
        if not is_int(m.get("size")) or m.get("size") < 0:
            errs.append("%s.size is %r" % (mw, m.get("size")))
        else:
            total += m["size"]
        li = m.get("leak")
        if not is_int(li) or not 0 <= li < len(leaks):
            errs.append("%s.leak is %r, not an index into leaks (0..%d)"
                        % (mw, li, len(leaks) - 1))
        elif isinstance(leaks[li], dict):
            if leaks[li].get("kind") != want_kind:
                errs.append("%s.leak points to leaks[%d] of kind %r; a %s cycle's "
                            "members are %s" % (mw, li, leaks[li].get("kind"),
                                                "root" if want_kind == "definite"
                                                else "non-root", want_kind))
            if leaks[li].get("in_cycle") is not True:
                errs.append("%s.leak points to leaks[%d] whose in_cycle is not true"
                            % (mw, li))
    if is_int(cy.get("blocks")) and cy["blocks"] != len(members):
        errs.append("%s.blocks is %d but it has %d members" % (where, cy["blocks"], len(members)))
    if is_int(cy.get("bytes")) and cy["bytes"] != total:
        errs.append("%s.bytes is %d but its members' sizes add up to %d"
                    % (where, cy["bytes"], total))
    addrs = [m.get("address") for m in members if isinstance(m, dict)]
    if len(set(addrs)) != len(addrs):
        errs.append("%s has the same member address twice" % where)
    edges = cy.get("edges")
    if not isinstance(edges, list):
        return errs + ["%s.edges is missing or not an array" % where]
    n = len(members)
    adj = [set() for _ in range(n)]
    radj = [set() for _ in range(n)]
    for j, e in enumerate(edges):
        ew = "%s.edges[%d]" % (where, j)
        if not isinstance(e, dict):
            errs.append("%s is not an object" % ew)
            continue
        f, t, off = e.get("from"), e.get("to"), e.get("offset")
        if not (is_int(f) and 0 <= f < n and is_int(t) and 0 <= t < n):
            errs.append("%s from/to is %r/%r, not member indexes (0..%d)" % (ew, f, t, n - 1))
            continue
        size = members[f].get("size") if isinstance(members[f], dict) else None
        if not is_int(off) or off < 0 or (is_int(size) and off + 1 > size):
            errs.append("%s.offset is %r, not inside member %d (%r bytes)" % (ew, off, f, size))
        adj[f].add(t)
        radj[t].add(f)
    # One strongly connected component: everything reachable from member 0
    # forwards and backwards; a lone member must point to itself.
    def reach(g):
        seen, todo = {0}, [0]
        while todo:
            for v in g[todo.pop()]:
                if v not in seen:
                    seen.add(v)
                    todo.append(v)
        return seen
    if n == 1 and 0 not in adj[0]:
        errs.append("%s has one member and no self edge" % where)
    elif n > 1 and (len(reach(adj)) != n or len(reach(radj)) != n):
        errs.append("%s: its edges do not make the members one strongly connected "
                    "component" % where)
    return errs


# ---------------------------------------------------------------- expectations

def has_functions(rep):
    return any(isinstance(f, dict) and f.get("function")
               for lk in rep.get("leaks", []) if isinstance(lk, dict)
               for f in lk.get("stack", []) or [])


def summary_value(rep, key):
    s = rep["summary"]
    leaks = rep["leaks"]
    if key in s:
        return s[key]
    if key == "leaks":
        return len(leaks)
    if key.startswith("leaks.") and key[6:] in KINDS:
        return sum(1 for lk in leaks if lk.get("kind") == key[6:])
    if key == "cycle_entries":
        return len(rep["cycles"])
    if key == "root_cycles":
        return sum(1 for c in rep["cycles"] if c.get("root") is True)
    raise Usage("unknown --expect key %r" % key)


def entry_matches(entry, conds, use_functions):
    for key, op, value in conds:
        if key == "function":
            if not use_functions:
                continue
            ok = leak_has_function(entry, value)
            if (op == "==") != ok:
                return False
            continue
        if key not in entry:
            return False
        if not compare(entry[key], op, convert(value, entry[key])):
            return False
    return True


def check_entries(entries, spec, what, allowed, use_functions):
    conds, count = [], None
    for part in spec.split(","):
        if not part.strip():
            continue
        key, op, value = parse_expr(part)
        if key not in allowed:
            raise Usage("%s spec key %r: allowed keys are %s" % (what, key, ", ".join(allowed)))
        if key == "count":
            if op != "==":
                raise Usage("count takes '=' only")
            count = int(value, 0)
        elif key == "function" and op not in ("==", "!="):
            raise Usage("function takes = or != only")
        else:
            conds.append((key, op, value))
    n = sum(1 for e in entries if isinstance(e, dict) and entry_matches(e, conds, use_functions))
    if count is None:
        return n >= 1, "at least 1 %s entry with %s: found %d" % (what, spec, n)
    return n == count, "%d %s entries with %s: found %d" % (count, what, spec, n)


def check_section(rep, exps, functions_mode):
    """Return (failures, notes) for one report's expectations."""
    fails, notes = [], []
    use_functions = functions_mode == "require" or (
        functions_mode == "auto" and has_functions(rep))
    if functions_mode == "auto" and not use_functions and any(
            t == "function" or (t in ("leak",) and "function" in v) for t, v in exps):
        notes.append("no function names in the report: function checks skipped "
                     "(--functions require to enforce them)")
    for kind, text in exps:
        if kind == "expect":
            key, op, value = parse_expr(text)
            actual = summary_value(rep, key)
            expected = convert(value, actual)
            if not compare(actual, op, expected):
                fails.append("%-22s expected %s %s, got %s" % (key, op, value, actual))
        elif kind == "leak":
            ok, msg = check_entries(rep["leaks"], text, "leak",
                                    ("kind", "blocks", "bytes", "in_cycle", "function", "count"),
                                    use_functions)
            if not ok:
                fails.append("expected " + msg)
        elif kind == "cycle":
            ok, msg = check_entries(rep["cycles"], text, "cycle",
                                    ("blocks", "bytes", "root", "count"), use_functions)
            if not ok:
                fails.append("expected " + msg)
        elif kind == "suppression":
            ok, msg = check_entries(rep.get("suppressions") or [], text, "suppression",
                                    ("type", "rule", "line", "blocks", "bytes", "count"),
                                    use_functions)
            if not ok:
                fails.append("expected " + msg)
        elif kind == "function":
            if not use_functions:
                continue
            if not any(leak_has_function(lk, text) for lk in rep["leaks"]):
                fails.append("expected a leak allocated in %s: none" % text)
    return fails, notes


def describe(rep, path):
    s = rep.get("summary", {})
    out = ["  report %s (pid %s, trigger %s)" % (path, rep.get("pid"), rep.get("trigger"))]
    out.append("    summary: " + " ".join(
        "%s=%s" % (k, s.get(k)) for k in SUMMARY_INT_FIELDS))
    for i, lk in enumerate(rep.get("leaks", [])[:20]):
        if isinstance(lk, dict):
            out.append("    leaks[%d]: %-8s %6s blocks %10s bytes%s  in %s" % (
                i, lk.get("kind"), lk.get("blocks"), lk.get("bytes"),
                "  in_cycle" if lk.get("in_cycle") else "", top_function(lk)))
    for sp in rep.get("suppressions", None) or []:
        if isinstance(sp, dict):
            out.append("    suppression %s %r (line %s): %s blocks %s bytes" % (
                sp.get("type"), sp.get("rule"), sp.get("line"), sp.get("blocks"),
                sp.get("bytes")))
    if len(rep.get("leaks", [])) > 20:
        out.append("    ... %d more leak entries" % (len(rep["leaks"]) - 20))
    for i, cy in enumerate(rep.get("cycles", [])[:10]):
        if isinstance(cy, dict):
            out.append("    cycles[%d]: %s blocks %s bytes root=%s" % (
                i, cy.get("blocks"), cy.get("bytes"), cy.get("root")))
    return out


# ---------------------------------------------------------------- driver

def parse_args(argv):
    opts = {"glob": None, "files": None, "main_pid": None, "functions": "auto",
            "exe": None, "trigger": None, "schema_only": False, "summary_out": None}
    sections = [["only", []]]
    it = iter(argv)
    for a in it:
        def val():
            try:
                return next(it)
            except StopIteration:
                raise Usage("%s needs a value" % a)
        if a == "--glob":
            opts["glob"] = val()
        elif a == "--files":
            opts["files"] = int(val())
        elif a == "--schema-only":
            opts["schema_only"] = True
        elif a == "--summary-out":
            opts["summary_out"] = val()
        elif a == "--main-pid":
            opts["main_pid"] = int(val())
        elif a == "--functions":
            opts["functions"] = val()
            if opts["functions"] not in ("auto", "require", "off"):
                raise Usage("--functions auto|require|off")
        elif a == "--exe":
            opts["exe"] = val()
        elif a == "--trigger":
            opts["trigger"] = val()
        elif a == "--report":
            sel = val()
            if sel not in ("only", "main", "child"):
                raise Usage("--report only|main|child")
            if sections[-1][0] == "only" and not sections[-1][1] and len(sections) == 1:
                sections[-1][0] = sel
            else:
                sections.append([sel, []])
        elif a == "--expect":
            sections[-1][1].append(("expect", val()))
        elif a == "--expect-leak":
            sections[-1][1].append(("leak", val()))
        elif a == "--expect-cycle":
            sections[-1][1].append(("cycle", val()))
        elif a == "--expect-leak-function":
            sections[-1][1].append(("function", val()))
        elif a == "--expect-suppression":
            sections[-1][1].append(("suppression", val()))
        else:
            raise Usage("unknown argument %r" % a)
    if not opts["glob"]:
        raise Usage("--glob PATTERN is required")
    for sel, _ in sections:
        if sel == "main" and opts["main_pid"] is None:
            raise Usage("--report main needs --main-pid")
    if opts["schema_only"]:
        if len(sections) > 1 or sections[0][0] != "only" or sections[0][1]:
            raise Usage("--schema-only takes no --report or expectations")
    elif opts["summary_out"]:
        raise Usage("--summary-out needs --schema-only")
    elif opts["files"] is None:
        opts["files"] = 1
    return opts, sections


SUMMARY_OUT_FIELDS = ("live", "definite", "indirect", "possible", "reachable", "suppressed")


def summary_line(rep):
    s = rep["summary"]
    cols = [str(rep["pid"]), rep["exe"], rep["trigger"]]
    for k in SUMMARY_OUT_FIELDS:
        cols += [str(s[k + "_blocks"]), str(s[k + "_bytes"])]
    cols += [str(s["cycles"]), str(len(rep["leaks"]))]
    return "\t".join(c.replace("\t", " ").replace("\n", " ") for c in cols)


def run_schema_only(opts, paths, out):
    """Every report matching the glob is valid and named after its pid."""
    problems, lines, pids = [], [], {}
    if opts["files"] is None and not paths:
        problems.append("no report file matches %s (is the exit-time leak check in the "
                        "preload, and was the preload loaded?)" % opts["glob"])
    elif opts["files"] is not None and len(paths) != opts["files"]:
        problems.append("expected %d report file(s) matching %s, found %d" % (
            opts["files"], opts["glob"], len(paths)))
    for p in paths:
        name = os.path.basename(p)
        try:
            with open(p, encoding="utf-8") as f:
                rep = json.load(f)
        except (OSError, ValueError) as e:
            problems.append("%s: not valid JSON: %s" % (p, e))
            continue
        errs = validate(rep, p)
        m = re.search(r"\.(\d+)\.json$", name)
        if not m:
            errs.append("file name %s does not end in .<pid>.json" % name)
        elif is_int(rep.get("pid")) and int(m.group(1)) != rep["pid"]:
            errs.append("pid %d differs from the pid in the file name %s" % (rep["pid"], name))
        if errs:
            problems.append("%s violates the schema-1 contract:" % p)
            problems.extend("    " + e for e in dict.fromkeys(errs))
            continue
        if opts["trigger"] and rep["trigger"] != opts["trigger"]:
            problems.append("%s: trigger is %r, expected %r" % (p, rep["trigger"], opts["trigger"]))
        if rep["pid"] in pids:
            problems.append("%s and %s both hold the report of pid %d"
                            % (pids[rep["pid"]], name, rep["pid"]))
        pids[rep["pid"]] = name
        lines.append(summary_line(rep))
    named = {int(m.group(1)) for m in (re.search(r"\.(\d+)\.json$", p) for p in paths) if m}
    if opts["main_pid"] is not None and paths and opts["main_pid"] not in named:
        problems.append("no valid report of the main process %d among %s" % (
            opts["main_pid"], ", ".join(sorted(os.path.basename(p) for p in paths))))
    if opts["summary_out"]:
        with open(opts["summary_out"], "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
    if problems:
        print("check_report: FAIL", file=out)
        for pr in problems:
            print("  " + pr, file=out)
        return 1
    print("check_report: OK (%d report%s, schema only)" % (len(paths), "" if len(paths) == 1 else "s"),
          file=out)
    return 0


def run(argv, out=sys.stdout):
    try:
        opts, sections = parse_args(argv)
    except (Usage, ValueError) as e:
        print("check_report: usage: %s" % e, file=out)
        return 2
    paths = sorted(glob.glob(opts["glob"]))
    if opts["schema_only"]:
        return run_schema_only(opts, paths, out)
    problems = []
    reports = {}
    if len(paths) != opts["files"]:
        problems.append("expected %d report file(s) matching %s, found %d%s" % (
            opts["files"], opts["glob"], len(paths),
            (": " + ", ".join(os.path.basename(p) for p in paths)) if paths else
            " (no report written: is the exit-time leak check in the preload, "
            "and was the preload loaded?)"))
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                rep = json.load(f)
        except (OSError, ValueError) as e:
            problems.append("%s: not valid JSON: %s" % (p, e))
            continue
        errs = validate(rep, p)
        if errs:
            problems.append("%s violates the schema-1 contract:" % p)
            problems.extend("    " + e for e in errs)
            continue
        if opts["trigger"] and rep["trigger"] != opts["trigger"]:
            problems.append("%s: trigger is %r, expected %r" % (p, rep["trigger"], opts["trigger"]))
        if opts["exe"] and os.path.basename(rep["exe"]) != os.path.basename(opts["exe"]):
            problems.append("%s: exe is %r, expected %r" % (p, rep["exe"], opts["exe"]))
        reports[p] = rep
    notes = []
    for sel, exps in sections:
        if sel == "only":
            chosen = list(reports) if len(paths) == 1 else []
        elif sel == "main":
            chosen = [p for p, r in reports.items() if r["pid"] == opts["main_pid"]]
        else:
            chosen = [p for p, r in reports.items() if r["pid"] != opts["main_pid"]]
        if len(chosen) != 1:
            if not problems:
                problems.append("--report %s: %d matching valid reports, need exactly 1"
                                % (sel, len(chosen)))
            continue
        try:
            fails, n = check_section(reports[chosen[0]], exps, opts["functions"])
        except (Usage, ValueError) as e:
            print("check_report: usage: %s" % e, file=out)
            return 2
        notes.extend(n)
        if fails:
            problems.append("%s report %s differs from the expectations:" % (sel, chosen[0]))
            problems.extend("    " + f for f in fails)
    for n in notes:
        print("check_report: note: " + n, file=out)
    if problems:
        print("check_report: FAIL", file=out)
        for pr in problems:
            print("  " + pr, file=out)
        if reports:
            print("what the report(s) say:", file=out)
            for p, r in reports.items():
                for line in describe(r, p):
                    print(line, file=out)
        return 1
    print("check_report: OK (%d report%s)" % (len(reports), "" if len(reports) == 1 else "s"),
          file=out)
    return 0


# ---------------------------------------------------------------- self-test

def _sample():
    frame = {"pc": "0x55d0c1a2b15d", "module": "/x/leak", "offset": "0x115d",
             "function": "make_cycle", "file": "leak.c", "line": 5}
    return {
        "tool": "leakmark", "schema": 1, "version": "0.1.0", "pid": 4242,
        "exe": "/x/leak", "trigger": "exit",
        "summary": {"live_blocks": 7, "live_bytes": 400,
                    "definite_blocks": 4, "definite_bytes": 196,
                    "indirect_blocks": 2, "indirect_bytes": 90,
                    "possible_blocks": 0, "possible_bytes": 0,
                    "reachable_blocks": 1, "reachable_bytes": 114,
                    "suppressed_blocks": 0, "suppressed_bytes": 0,
                    "cycles": 1, "scan_ms": 0.5, "pause_ms": 0.7},
        "leaks": [
            {"kind": "definite", "blocks": 1, "bytes": 100, "in_cycle": False,
             "stack": [dict(frame, function="make_plain")]},
            {"kind": "definite", "blocks": 3, "bytes": 96, "in_cycle": True,
             "stack": [frame]},
            {"kind": "indirect", "blocks": 2, "bytes": 90, "in_cycle": False,
             "stack": [{"pc": "0x1", "module": "/x/leak", "offset": "0x1"}]},
        ],
        "cycles": [
            {"id": 0, "blocks": 3, "bytes": 96, "root": True,
             "members": [{"address": "0x7f0000001040", "size": 32, "leak": 1},
                         {"address": "0x7f0000001060", "size": 32, "leak": 1},
                         {"address": "0x7f0000001080", "size": 32, "leak": 1}],
             "edges": [{"from": 0, "offset": 0, "to": 1},
                       {"from": 1, "offset": 0, "to": 2},
                       {"from": 2, "offset": 0, "to": 0}]}],
    }


def self_test():
    import copy
    import io
    import tempfile

    failures = []

    def case(name, mutate, args, want):
        rep = copy.deepcopy(_sample())
        files = mutate(rep) if mutate else None
        with tempfile.TemporaryDirectory() as d:
            if files is None:
                files = {"r.4242.json": rep}
            for fname, content in files.items():
                with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
                    f.write(content if isinstance(content, str) else json.dumps(content))
            buf = io.StringIO()
            got = run(["--glob", os.path.join(d, "r.*.json")] + args, buf)
        if got != want:
            failures.append("%s: exit %d, wanted %d\n%s" % (name, got, want, buf.getvalue()))

    ok_args = ["--expect", "definite_blocks=4", "--expect", "cycles=1",
               "--expect", "reachable_blocks>=1", "--expect", "leaks=3",
               "--expect", "leaks.definite=2", "--expect", "root_cycles=1",
               "--expect-leak", "kind=definite,blocks=1,bytes=100,function=make_plain",
               "--expect-leak", "kind=indirect,bytes=90,count=1",
               "--expect-leak", "bytes=12345,count=0",
               "--expect-cycle", "blocks=3,bytes=96,root=true",
               "--expect-leak-function", "make_cycle",
               "--trigger", "exit", "--exe", "/elsewhere/leak"]
    case("valid report, right expectations", None, ok_args, 0)
    case("wrong summary value", None, ["--expect", "definite_blocks=5"], 1)
    case("inequality", None, ["--expect", "reachable_bytes>200"], 1)
    case("wrong leak entry", None, ["--expect-leak", "kind=definite,bytes=101"], 1)
    case("wrong count", None, ["--expect-leak", "kind=definite,count=1"], 1)
    case("missing function", None, ["--expect-leak-function", "nowhere"], 1)
    case("functions off", None, ["--functions", "off", "--expect-leak-function", "nowhere"], 0)

    def strip_functions(r):
        for lk in r["leaks"]:
            for f in lk["stack"]:
                f.pop("function", None)
    case("auto skips without names", strip_functions, ["--expect-leak-function", "nowhere"], 0)
    case("require enforces", strip_functions,
         ["--functions", "require", "--expect-leak-function", "make_plain"], 1)
    case("wrong cycle", None, ["--expect-cycle", "blocks=2"], 1)
    case("wrong trigger", None, ["--trigger", "signal"], 1)
    case("no report", lambda r: {}, [], 1)
    case("two reports", lambda r: {"r.4242.json": r, "r.4243.json": dict(r, pid=4243)}, [], 1)
    case("bad JSON", lambda r: {"r.4242.json": "{\"tool\": "}, [], 1)
    case("usage error", None, ["--expect", "no_such_key=1"], 2)

    def bad(mut):
        def m(r):
            mut(r)
        return m
    breakages = {
        "tool": lambda r: r.update(tool="lsan"),
        "schema": lambda r: r.update(schema=2),
        "schema bool": lambda r: r.update(schema=True),
        "pid vs file name": lambda r: r.update(pid=4243),
        "trigger": lambda r: r.update(trigger="atexit"),
        "summary field missing": lambda r: r["summary"].pop("possible_bytes"),
        "summary string": lambda r: r["summary"].update(live_blocks="7"),
        "summary float ms missing": lambda r: r["summary"].pop("scan_ms"),
        "unsorted": lambda r: r["leaks"].reverse(),
        "kind": lambda r: r["leaks"][2].update(kind="lost"),
        "in_cycle type": lambda r: r["leaks"][0].update(in_cycle=0),
        "empty stack": lambda r: r["leaks"][0].update(stack=[]),
        "pc not hex": lambda r: r["leaks"][0]["stack"][0].update(pc="12"),
        "module missing": lambda r: r["leaks"][2]["stack"][0].pop("module"),
        "sum mismatch": lambda r: r["summary"].update(definite_blocks=5, live_blocks=8),
        "live mismatch": lambda r: r["summary"].update(live_blocks=9),
        "cycle count": lambda r: r["summary"].update(cycles=2),
        "member leak index": lambda r: r["cycles"][0]["members"][0].update(leak=7),
        "member kind": lambda r: r["cycles"][0]["members"][0].update(leak=2),
        "member not in_cycle": lambda r: r["leaks"][1].update(in_cycle=False),
        "root cycle of indirect": lambda r: r["cycles"][0].update(root=False),
        "cycle blocks": lambda r: r["cycles"][0].update(blocks=4),
        "cycle bytes": lambda r: r["cycles"][0].update(bytes=95),
        "edge index": lambda r: r["cycles"][0]["edges"][0].update(to=3),
        "edge offset": lambda r: r["cycles"][0]["edges"][0].update(offset=32),
        "not strongly connected": lambda r: r["cycles"][0]["edges"].pop(),
    }
    for name, mut in breakages.items():
        case("invalid: " + name, bad(mut), [], 1)

    def self_loop(r):
        cy = r["cycles"][0]
        cy.update(blocks=1, bytes=32, members=cy["members"][:1],
                  edges=[{"from": 0, "offset": 8, "to": 0}])
        return None
    case("valid self loop", self_loop, [], 0)

    def lone_without_edge(r):
        self_loop(r)
        r["cycles"][0]["edges"] = []
    case("invalid: lone member without self edge", lone_without_edge, [], 1)

    def fork_pair(r):
        child = copy.deepcopy(r)
        child["pid"] = 5000
        child["summary"].update(definite_blocks=3, definite_bytes=96, live_blocks=6,
                                live_bytes=300)
        child["leaks"].pop(0)
        for m in child["cycles"][0]["members"]:
            m["leak"] = 0
        return {"r.4242.json": r, "r.5000.json": child}
    case("fork: main and child", fork_pair,
         ["--files", "2", "--main-pid", "4242", "--report", "main",
          "--expect", "definite_bytes=196", "--report", "child", "--expect",
          "definite_bytes=96", "--expect-leak", "bytes=100,count=0"], 0)
    case("fork: child expectation fails", fork_pair,
         ["--files", "2", "--main-pid", "4242", "--report", "child",
          "--expect", "definite_bytes=196"], 1)

    # --schema-only: every file valid and named after its pid, no expectations.
    def child_of(r, pid):
        child = copy.deepcopy(r)
        child["pid"] = pid
        return child
    case("schema-only: one report", None, ["--schema-only", "--main-pid", "4242"], 0)
    case("schema-only: main and children",
         lambda r: {"r.4242.json": r, "r.5000.json": child_of(r, 5000),
                    "r.5001.json": child_of(r, 5001)},
         ["--schema-only", "--main-pid", "4242"], 0)
    case("schema-only: exact count", lambda r: {"r.4242.json": r, "r.5000.json": child_of(r, 5000)},
         ["--schema-only", "--files", "3"], 1)
    case("schema-only: no report", lambda r: {}, ["--schema-only"], 1)
    case("schema-only: main pid missing", lambda r: {"r.5000.json": child_of(r, 5000)},
         ["--schema-only", "--main-pid", "4242"], 1)
    case("schema-only: a child's report carries the parent's pid",
         lambda r: {"r.4242.json": r, "r.5000.json": r}, ["--schema-only"], 1)
    case("schema-only: one invalid among several",
         lambda r: {"r.4242.json": r, "r.5000.json": dict(child_of(r, 5000), tool="x")},
         ["--schema-only"], 1)
    case("schema-only: bad JSON", lambda r: {"r.4242.json": r, "r.5000.json": "{"},
         ["--schema-only"], 1)
    case("schema-only: trigger", None, ["--schema-only", "--trigger", "exit"], 0)
    case("schema-only: wrong trigger", None, ["--schema-only", "--trigger", "signal"], 1)
    case("schema-only: no expectations", None, ["--schema-only", "--expect", "cycles=1"], 2)
    case("summary-out needs schema-only", None, ["--summary-out", "/dev/null"], 2)

    def lm_named(r):
        return {"lm.4242.json": r, "lm.77.json": r}
    rep_dir = tempfile.mkdtemp()
    try:
        for fname, rep in lm_named(_sample()).items():
            with open(os.path.join(rep_dir, fname), "w", encoding="utf-8") as f:
                json.dump(rep, f)
        buf = io.StringIO()
        if run(["--schema-only", "--glob", os.path.join(rep_dir, "lm.*.json")], buf) != 1 \
                or "lm.77.json" not in buf.getvalue():
            failures.append("schema-only: pid vs lm.<pid>.json name not checked\n" + buf.getvalue())
        os.remove(os.path.join(rep_dir, "lm.77.json"))
        out_file = os.path.join(rep_dir, "summary.tsv")
        buf = io.StringIO()
        got = run(["--schema-only", "--glob", os.path.join(rep_dir, "lm.*.json"),
                   "--summary-out", out_file], buf)
        with open(out_file, encoding="utf-8") as f:
            line = f.read()
        want = "4242\t/x/leak\texit\t7\t400\t4\t196\t2\t90\t0\t0\t1\t114\t0\t0\t1\t3\n"
        if got != 0 or line != want:
            failures.append("schema-only: --summary-out wrote %r (exit %d), wanted %r\n%s"
                            % (line, got, want, buf.getvalue()))
    finally:
        for fname in os.listdir(rep_dir):
            os.remove(os.path.join(rep_dir, fname))
        os.rmdir(rep_dir)

    def with_supp(r):
        r["summary"].update(suppressed_blocks=3, suppressed_bytes=122, live_blocks=10,
                            live_bytes=522)
        r["suppressions"] = [
            {"type": "leak", "rule": "hidden_root", "line": 5, "blocks": 1, "bytes": 24},
            {"type": "valgrind", "rule": "cyc", "line": 9, "blocks": 2, "bytes": 98}]
        return None
    case("suppressions: right expectations", with_supp,
         ["--expect", "suppressed_blocks=3", "--expect", "suppressed_bytes>=100",
          "--expect-suppression", "type=leak,rule=hidden_root,blocks=1,bytes=24",
          "--expect-suppression", "type=valgrind,count=1",
          "--expect-suppression", "rule=nothing,count=0"], 0)
    case("suppressions: wrong hit count", with_supp,
         ["--expect-suppression", "rule=hidden_root,blocks=2"], 1)
    case("suppressions: missing rule", with_supp,
         ["--expect-suppression", "rule=absent"], 1)
    case("suppressions: none in the report", None,
         ["--expect-suppression", "rule=hidden_root"], 1)
    case("suppressions: bad key", with_supp, ["--expect-suppression", "kind=leak"], 2)
    supp_breakages = {
        "type": lambda r: r["suppressions"][0].update(type="lsan"),
        "rule": lambda r: r["suppressions"][0].pop("rule"),
        "line": lambda r: r["suppressions"][1].update(line=0),
        "blocks": lambda r: r["suppressions"][1].update(blocks=0),
        "more than suppressed": lambda r: r["suppressions"][1].update(blocks=5),
        "not an array": lambda r: r.update(suppressions={}),
    }
    for name, mut in supp_breakages.items():
        def m(r, mut=mut):
            with_supp(r)
            mut(r)
        case("invalid suppressions: " + name, m, [], 1)

    if failures:
        print("check_report self-test: %d failure(s)" % len(failures))
        for f in failures:
            print("  " + f)
        return 1
    print("check_report self-test: all cases behave")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(run(sys.argv[1:]))
