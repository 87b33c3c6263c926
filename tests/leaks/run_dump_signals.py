#!/usr/bin/env python3
"""run_dump_signals.py - dumps on a signal, end to end.

    run_dump_signals.py PRELOAD EXE MODE N

1. Runs `EXE MODE` without leakmark (the same protocol, signals excepted
   where they would kill it) and keeps its stdout.
2. Runs it under LD_PRELOAD=PRELOAD with
   LEAKMARK_OPTIONS=dump_path=TMP/d.%p.%n.dump:leak_check=0, sends SIGUSR1
   N times - each time waiting (at most 20 s: a deadlock fails the test)
   until dump number i exists - then closes stdin so the program finishes.
   MODE "own": the program handles SIGUSR1 itself; each signal must reach
   its handler (a "usr1" line) and no dump may appear; stderr must hold
   exactly one leakmark line saying dumps on that signal are off.
3. Requires: the same stdout as the plain run (byte for byte), exit status
   0, nothing on stderr but that one line (MODE own), exactly N dumps with
   sequence numbers 0..N-1 that check_dump.py accepts (pid, trigger
   signal), no temporary file left behind.
Prints pause and bytes-per-block figures.  Exit 0 pass, 1 fail.
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import check_dump  # noqa: E402
from check_dump import read_line  # noqa: E402


def fail(msg):
    print("run_dump_signals: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(exe, mode, n, env, tmp, preload):
    proc = subprocess.Popen([exe, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=tmp)
    out = read_line(proc, 20)                       # the disposition line
    if not out:
        proc.kill()
        fail("no first line from the program")
    for i in range(n):
        if mode == "own":
            proc.send_signal(signal.SIGUSR1)
            line = read_line(proc, 20)
            if line != b"usr1\n":
                proc.kill()
                fail("signal %d: the program's own handler did not run (got %r)" % (i, line))
            out += line
        elif preload:
            proc.send_signal(signal.SIGUSR1)
            want = os.path.join(tmp, "d.%d.%d.dump" % (proc.pid, i))
            end = time.time() + 20
            while not os.path.exists(want):
                if time.time() > end or proc.poll() is not None:
                    proc.kill()
                    fail("dump %d never appeared (deadlock or crash?); files: %s"
                         % (i, os.listdir(tmp)))
                time.sleep(0.002)
        else:
            time.sleep(0.01)
    try:
        rest, err = proc.communicate(b"", timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("the program did not finish after stdin closed")
    return proc.pid, proc.returncode, out + rest, err


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    preload, exe, mode, n = (os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
                             sys.argv[3], int(sys.argv[4]))
    base = os.environ.get("LM_LEAKS_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="dumpsig.%s." % mode, dir=base)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LEAKMARK_OPTIONS", None)
    _, st0, out0, err0 = run(exe, mode, n if mode == "own" else 0, env, tmp, False)
    if st0 != 0:
        fail("plain run: status %d, stderr %r" % (st0, err0[-500:]))

    env["LD_PRELOAD"] = preload
    env["LEAKMARK_OPTIONS"] = "dump_path=%s/d.%%p.%%n.dump:leak_check=0" % tmp
    t0 = time.time()
    pid, st1, out1, err1 = run(exe, mode, n, env, tmp, True)
    elapsed = time.time() - t0
    if st1 != 0:
        fail("status %d under leakmark, stderr %r" % (st1, err1[-2000:]))
    if out1 != out0:
        fail("stdout differs:\n--- plain\n%s\n--- leakmark\n%s" % (out0.decode(errors="replace"),
                                                                 out1.decode(errors="replace")))
    lines = err1.decode(errors="replace").splitlines()
    if mode == "own":
        want = "leakmark: dump_signal SIGUSR1 is used by the program; dumps on that signal are off"
        if len(lines) != 1 or not lines[0].endswith(want):
            fail("stderr should be exactly one line '%s', got %r" % (want, lines))
        if glob.glob(os.path.join(tmp, "*")):
            fail("files written although the program owns SIGUSR1: %s" % os.listdir(tmp))
        shutil.rmtree(tmp)
        print("ok: %d signals reached the program's own handler" % n)
        return 0
    if lines:
        fail("stderr not empty: %r" % lines[:5])
    time.sleep(0.2)                       # the last child may still be renaming
    names = sorted(os.listdir(tmp))
    stray = [f for f in names if not f.endswith(".dump")]
    if stray:
        fail("files other than dumps left behind: %s" % stray)
    files = [os.path.join(tmp, f) for f in names if f.startswith("d.%d." % pid)]
    args = ["--count", str(n), "--seqs", str(n), "--pid", str(pid), "--trigger", "signal",
            "--expect", "live_blocks>=1",
            "--expect", "modules>=3"] + files
    if check_dump.main(args) != 0:
        fail("check_dump rejected the dumps (kept in %s)" % tmp)
    pauses, bpb = [], []
    for f in files:
        with open(f, "rb") as fh:
            d = check_dump.parse(fh.read())
        pauses.append(d["pause_ns"] / 1e6)
        bpb.append(d["block_bytes"] / max(len(d["blocks"]), 1))
    pauses.sort()
    print("ok: %d dumps in %.1f s; pause ms median %.3f max %.3f; bytes/block median %.2f"
          % (n, elapsed, pauses[len(pauses) // 2], pauses[-1], sorted(bpb)[len(bpb) // 2]))
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
