#!/usr/bin/env python3
"""run_dump_pause.py - how long a dump stops the program.

    run_dump_pause.py PRELOAD EXE DUMPS MAX_MEDIAN_MS [--not-stopped N]

Runs EXE (which prints one line when it is ready and runs until EOF on
stdin) under LD_PRELOAD=PRELOAD with
LEAKMARK_OPTIONS=dump_path=TMP/d.%p.%n.dump:leak_check=0, sends SIGUSR1
DUMPS times, each after the previous dump has been renamed into place
(leakmark folds requests made during a dump into one; at most 20 s each:
a deadlock fails), 50 ms apart, then closes stdin.  Requires exit status 0,
DUMPS dumps that check_dump.py accepts, each with threads_not_stopped == N
when --not-stopped is given, and the median of the dumps' pause_ms at most
MAX_MEDIAN_MS.  The median, not the maximum: one dump delayed by a loaded
machine must not fail the test, a pause that every dump pays must.
Prints every pause.  Exit 0 pass, 1 fail.
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import check_dump  # noqa: E402


def fail(msg):
    print("run_dump_pause: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    not_stopped = None
    if "--not-stopped" in args:
        i = args.index("--not-stopped")
        not_stopped = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    preload, exe = os.path.abspath(args[0]), os.path.abspath(args[1])
    n, max_ms = int(args[2]), float(args[3])
    base = os.environ.get("LM_LEAKS_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="dumppause.", dir=base)
    env = dict(os.environ)
    env["LD_PRELOAD"] = preload
    env["LEAKMARK_OPTIONS"] = "dump_path=%s/d.%%p.%%n.dump:leak_check=0" % tmp
    proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=tmp)
    r, _, _ = select.select([proc.stdout], [], [], 20)
    if not r or not proc.stdout.readline():
        proc.kill()
        fail("no ready line from %s" % exe)
    for i in range(n):
        t0 = time.time()
        proc.send_signal(signal.SIGUSR1)
        want = os.path.join(tmp, "d.%d.%d.dump" % (proc.pid, i))
        while not os.path.exists(want):
            if time.time() - t0 > 20 or proc.poll() is not None:
                proc.kill()
                fail("dump %d did not appear within 20 s (status %s)" % (i, proc.poll()))
            time.sleep(0.001)
        time.sleep(0.05)
    try:
        _, err = proc.communicate(b"", timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("the program did not finish after stdin closed")
    if proc.returncode != 0:
        fail("status %d, stderr %r" % (proc.returncode, err[-1000:]))
    files = sorted(os.path.join(tmp, f) for f in os.listdir(tmp))
    cargs = ["--count", str(n), "--seqs", str(n), "--pid", str(proc.pid), "--trigger", "signal"]
    if not_stopped is not None:
        cargs += ["--expect", "threads_not_stopped=%d" % not_stopped]
    if check_dump.main(cargs + files) != 0:
        fail("check_dump rejected the dumps (kept in %s)" % tmp)
    pauses = []
    for f in files:
        with open(f, "rb") as fh:
            pauses.append(check_dump.parse(fh.read())["pause_ns"] / 1e6)
    med = sorted(pauses)[n // 2]
    print("pauses ms: %s; median %.2f (limit %.2f)" % (" ".join("%.2f" % p for p in pauses),
                                                      med, max_ms))
    if med > max_ms:
        fail("median pause %.2f ms is above %.2f ms" % (med, max_ms))
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
