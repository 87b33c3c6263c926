#!/usr/bin/python3
"""run_periodic.py - periodic scans (scan_interval) of periodic_hide.

Usage: run_periodic.py PRELOAD EXE

Runs EXE plainly, then under PRELOAD with scan_interval=1,
min_unref_scans=2, min_age_ms=500, gen1_threshold=2 (every second scan
examines the middle generation, so a leak born before the first scan is
confirmed by the second) and report=json, and requires:
  - the same exit status (0) and stdout as the plain run;
  - at least 2 periodic scans logged (verbosity=2), none failed, numbered
    from 0 (later ones may be skipped: the live block count hardly moves,
    gen0_threshold);
  - exactly two periodic JSON reports (s.<pid>.<n>.json), trigger
    "periodic": scan 1 reports the 777-byte leak lost at start, a later
    scan the 888-byte one lost at 2.2 s and not the first again (each scan
    lists the leaks new since the last); nothing of the 555-byte blocks the
    program hides for 400 ms at a time (check_report.py); a "scan" object
    with the options and confirmed counts;
  - the text reports on stderr name their periodic scans and the leaks;
  - the exit report (r.<pid>.json) reports both leaks;
  - no temporary file left behind.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_report(pattern, *args):
    cmd = [sys.executable, os.path.join(HERE, "check_report.py"), "--glob", pattern] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail("check_report.py %s:\n%s%s" % (" ".join(args), r.stdout, r.stderr))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    preload, exe = sys.argv[1], sys.argv[2]
    base = os.environ.get("LM_LEAKS_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="periodic.", dir=base)
    plain = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    env = dict(os.environ)
    env["LD_PRELOAD"] = preload
    env["LEAKMARK_OPTIONS"] = ":".join([
        "report=json", "report_path=%s/r.%%p.json" % work,
        "scan_report_path=%s/s.%%p.%%n.json" % work, "scan_interval=1", "min_unref_scans=2",
        "min_age_ms=500", "gen1_threshold=2", "verbosity=2"])
    run = subprocess.run([exe], capture_output=True, text=True, timeout=60, env=env,
                         cwd=work)
    err = run.stderr
    if run.returncode != plain.returncode or run.returncode != 0:
        fail("exit status %d under leakmark, %d plain\n%s" % (run.returncode, plain.returncode, err))
    if run.stdout != plain.stdout:
        fail("stdout differs: %r vs %r" % (run.stdout, plain.stdout))
    scans = re.findall(r"periodic scan (\d+) \(generations up to (\w+)\): (\d+) new leaked blocks", err)
    if len(scans) < 2:
        fail("%d periodic scans logged, expected >= 2:\n%s" % (len(scans), err))
    if "failed" in err:
        fail("a scan failed:\n" + err)
    if [int(s[0]) for s in scans] != list(range(len(scans))):
        fail("scan numbers not consecutive from 0: %s" % scans)
    new = [(int(s[0]), int(s[2])) for s in scans if int(s[2])]
    if len(new) != 2 or new[0] != (1, 1) or new[1][1] != 1:
        fail("new leaks per scan %s, expected one block at scan 1 and one later" % new)
    if err.count("leaks new since the last scan") != 2:
        fail("the text of exactly two periodic reports expected:\n" + err)
    if not re.search(r"Definite leak #0: 777 bytes in 1 block \(middle generation\)", err):
        fail("the periodic text report does not show the 777-byte leak:\n" + err)
    leftovers = [f for f in os.listdir(work) if ".tmp." in f]
    if leftovers:
        fail("temporary files left: %s" % leftovers)
    files = sorted(glob.glob(os.path.join(work, "s.*.json")))
    if len(files) != 2:
        fail("%d periodic reports, expected 2: %s" % (len(files), files))
    for path, (seq, size) in zip(files, ((1, 777), (new[1][0], 888))):
        pid = run_pid(path)
        if not path.endswith("s.%d.%d.json" % (pid, seq)):
            fail("periodic report %s: expected the name s.<pid>.%d.json" % (path, seq))
        check_report(path, "--trigger", "periodic", "--expect", "definite_blocks=1",
                     "--expect", "definite_bytes=%d" % size, "--expect", "indirect_blocks=0",
                     "--expect", "possible_blocks=0", "--expect", "cycles=0",
                     "--expect-leak", "bytes=555,count=0",
                     "--expect-leak", "kind=definite,blocks=1,bytes=%d,function=leak_once" % size)
        with open(path) as f:
            scan = json.load(f).get("scan")
        # Confirmed: every leak of the generations this scan examines (the
        # first leak is old by the second report: counted by old scans only).
        gen = scan and scan.get("generation")
        both = size == 888 and gen == "old"
        want = {"seq": seq, "generation": gen, "min_unref_scans": 2, "min_age_ms": 500,
                "confirmed_blocks": 2 if both else 1,
                "confirmed_bytes": 1665 if both else size}
        if scan != want or gen not in ("middle", "old"):
            fail("%s: scan object %s, expected %s" % (path, scan, want))
    check_report(os.path.join(work, "r.*.json"), "--trigger", "exit",
                 "--expect", "definite_blocks=2", "--expect", "definite_bytes=1665",
                 "--expect-leak", "bytes=555,count=0")
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)
    print("ok: %d scans; the leaks reported once each, by scans %s; hidden blocks never"
          % (len(scans), [n[0] for n in new]))
    return 0


def run_pid(path):
    with open(path) as f:
        return json.load(f)["pid"]


if __name__ == "__main__":
    sys.exit(main())
