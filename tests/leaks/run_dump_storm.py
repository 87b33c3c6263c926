#!/usr/bin/env python3
"""run_dump_storm.py - 200 heap dumps of a busy two-thread program.

    run_dump_storm.py PRELOAD DUMP_STORM ANALYZER [SIGNALS]

DUMP_STORM (dump_storm.c) does one fixed round of allocation work per byte
it reads on stdin.  This script is a separate process that:
1. runs it without leakmark, feeding all LEAD + SIGNALS * PER_SIGNAL bytes
   at once, and keeps its stdout;
2. runs it under LD_PRELOAD=PRELOAD with
   LEAKMARK_OPTIONS=dump_path=TMP/d.%p.%n.dump:leak_check=0, feeds LEAD
   rounds, then SIGNALS (default 200) times: sleeps a random 0-3 ms, sends
   SIGUSR1, feeds PER_SIGNAL more rounds (so the threads are still
   allocating while the dump runs) and waits - at most 20 s, a deadlock
   fails the test - until dump number i has been renamed into place.  Then
   it closes stdin and the program finishes its remaining rounds.
Why wait for each dump: the kernel keeps one pending SIGUSR1 per process,
and leakmark's dumper thread folds every request that arrives while a dump
is running into a single next dump.  Signals sent back to back would give
fewer than SIGNALS dumps, legitimately; one signal per finished dump gives
exactly one dump each, so the count is something the test can demand.
3. requires: stdout byte for byte the same as the plain run (the program
   prints checksums of its own data, and an EINTR on its stdin read),
   exit status 0, nothing on stderr, exactly SIGNALS files d.PID.0..N-1.dump
   and nothing else in the directory (no temporary file left behind);
   check_dump.py accepts every dump (full parse, pid, trigger "signal",
   sequence numbers 0..N-1, no definite or indirect leak: every live block
   of the program is reachable at every instant, from a global, a stack or
   a register of a stopped thread), and
   `ANALYZER report DUMP` exits 0 on every dump and says "no leaks".
Prints the random seed (LM_STORM_SEED=... reproduces the intervals), the
pause median and maximum, and bytes per block.  Exit 0 pass, 1 fail.
"""
import os
import random
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

LEAD = 4               # rounds fed before the first signal
PER_SIGNAL = 10        # rounds fed right after each signal (about 1 ms each)
DUMP_TIMEOUT = 20.0    # seconds for one dump to appear


def fail(msg):
    print("run_dump_storm: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def finish(proc, head):
    try:
        rest, err = proc.communicate(b"", timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("the program did not finish within 60 s after its stdin closed")
    return head + rest, err


def plain_run(exe, env, tmp, rounds):
    proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=tmp)
    out, err = proc.communicate(b"r" * rounds, timeout=120)
    if proc.returncode != 0 or err:
        fail("plain run: status %d, stderr %r" % (proc.returncode, err[-500:]))
    return out


def storm_run(exe, env, tmp, n, rng):
    proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=tmp)
    head = read_line(proc, 20)
    if not head:
        proc.kill()
        fail("no first line from the program")
    proc.stdin.write(b"r" * LEAD)
    proc.stdin.flush()
    waits = []
    for i in range(n):
        time.sleep(rng.uniform(0, 0.003))
        t0 = time.time()
        proc.send_signal(signal.SIGUSR1)
        proc.stdin.write(b"r" * PER_SIGNAL)
        proc.stdin.flush()
        want = os.path.join(tmp, "d.%d.%d.dump" % (proc.pid, i))
        while not os.path.exists(want):
            if time.time() - t0 > DUMP_TIMEOUT or proc.poll() is not None:
                proc.kill()
                fail("dump %d did not appear within %.0f s (deadlock, crash, or a lost "
                     "request?); status %s; files: %s"
                     % (i, DUMP_TIMEOUT, proc.poll(), sorted(os.listdir(tmp))[-5:]))
            time.sleep(0.0005)
        waits.append(time.time() - t0)
    out, err = finish(proc, head)
    return proc.pid, proc.returncode, out, err, waits


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    preload, exe, analyzer = (os.path.abspath(a) for a in sys.argv[1:4])
    n = int(sys.argv[4]) if len(sys.argv) == 5 else 200
    seed = int(os.environ.get("LM_STORM_SEED") or time.time_ns() % 1000000007)
    rng = random.Random(seed)
    base = os.environ.get("LM_LEAKS_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="dumpstorm.", dir=base)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LEAKMARK_OPTIONS", None)

    t0 = time.time()
    out0 = plain_run(exe, env, tmp, LEAD + n * PER_SIGNAL)
    t_plain = time.time() - t0

    env["LD_PRELOAD"] = preload
    env["LEAKMARK_OPTIONS"] = "dump_path=%s/d.%%p.%%n.dump:leak_check=0" % tmp
    t0 = time.time()
    pid, st, out1, err1, waits = storm_run(exe, env, tmp, n, rng)
    t_storm = time.time() - t0
    if st != 0:
        fail("status %d under leakmark, stderr %r (seed %d)" % (st, err1[-2000:], seed))
    if out1 != out0:
        fail("stdout differs (seed %d):\n--- plain\n%s--- leakmark\n%s"
             % (seed, out0.decode(errors="replace"), out1.decode(errors="replace")))
    if err1:
        fail("stderr not empty: %r" % err1[:500])

    names = sorted(os.listdir(tmp))
    want = sorted("d.%d.%d.dump" % (pid, i) for i in range(n))
    if names != want:
        extra = sorted(set(names) - set(want))
        missing = sorted(set(want) - set(names))
        fail("files in the dump directory: extra %s, missing %s" % (extra[:5], missing[:5]))
    files = [os.path.join(tmp, f) for f in names]
    args = ["--count", str(n), "--seqs", str(n), "--pid", str(pid), "--trigger", "signal",
            "--expect", "live_blocks>=2", "--expect", "modules>=3",
            "--expect", "definite_blocks=0", "--expect", "indirect_blocks=0"] + files
    if check_dump.main(args) != 0:
        fail("check_dump rejected dumps (kept in %s, seed %d)" % (tmp, seed))

    t0 = time.time()
    for f in files:
        r = subprocess.run([analyzer, "report", f], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0 or r.stderr or b"no leaks" not in r.stdout:
            fail("leakmark-analyze report %s: status %d, stderr %r, stdout %r"
                 % (f, r.returncode, r.stderr[:300], r.stdout[:300]))
    t_report = time.time() - t0

    pauses, bpb = [], []
    for f in files:
        with open(f, "rb") as fh:
            d = check_dump.parse(fh.read())
        pauses.append(d["pause_ns"] / 1e6)
        bpb.append(d["block_bytes"] / max(len(d["blocks"]), 1))
    pauses.sort()
    waits.sort()
    print("ok: %d dumps, seed %d; plain run %.1f s, stormed run %.1f s, %d reports %.1f s; "
          "pause ms median %.3f max %.3f; signal->file ms median %.1f max %.1f; "
          "bytes/block median %.2f"
          % (n, seed, t_plain, t_storm, n, t_report, pauses[n // 2], pauses[-1],
             waits[n // 2] * 1e3, waits[-1] * 1e3, sorted(bpb)[n // 2]))
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
