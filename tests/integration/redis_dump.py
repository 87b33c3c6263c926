#!/usr/bin/env python3
"""redis_dump.py - a real server dumped under load: Debian's redis-server.

    redis_dump.py PRELOAD ANALYZER [DUMPS]

Needs redis-server, redis-cli and redis-benchmark (Debian packages
redis-server and redis-tools; scripts/setup.sh installs them).  Every server
listens on 127.0.0.1 on a free port, without persistence (--save ''
--appendonly no) and with its own temporary directory.  Steps:
1. a plain server answers redis_commands.txt (redis-cli, one fixed command
   script whose replies do not depend on hash seeds, time or addresses):
   the reference replies;
2. a server under LD_PRELOAD=PRELOAD with
   LEAKMARK_OPTIONS=dump_path=D/d.%p.%n.dump:report=json:
   report_path=D/r.%p.json:quiet=1:log_path=D/lm.%p.log answers the same
   script with the same replies, byte for byte;
3. redis-benchmark (-n 30000 -c 20 -r 10000 -d 64 -q, six commands) runs
   against it; while it runs, the server gets SIGUSR1 DUMPS times (default
   6), each sent only after the previous dump has been renamed into place
   (leakmark folds requests that arrive during a dump into one), and each
   one while the benchmark is still running - a benchmark that ends first
   fails the test;
4. the benchmark exits 0 and reports every command; the server still
   answers PING and a SET/GET of a fresh key, and the command script again
   with the reference replies (the dumps changed nothing);
5. every dump passes check_dump.py (count, sequence numbers, pid, trigger
   "signal", at least 1000 live blocks, modules); `ANALYZER report`,
   `report --json` and `top` exit 0 on each with nothing on stderr; the
   JSON passes check_report.py --schema-only --trigger signal and its
   summary's live blocks and bytes equal the dump's; top names the pid;
6. SHUTDOWN NOSAVE: the server exits 0 within 30 s and writes exactly one
   exit report, r.<its pid>.json, valid per check_report.py (trigger exit);
   nothing but the dumps, that report and leakmark's log is left in D, and
   the log holds no failed dump.
Prints pauses and timings.  Exit 0 pass, 1 fail.
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
leaks_dir = os.path.join(os.path.dirname(here), "leaks")
sys.path.insert(0, leaks_dir)
import check_dump  # noqa: E402

COMMANDS = os.path.join(here, "redis_commands.txt")
CHECK_REPORT = os.path.join(leaks_dir, "check_report.py")
BENCH_TESTS = ["set", "get", "incr", "lpush", "hset", "sadd"]
BENCH_ARGS = ["-n", "30000", "-c", "20", "-r", "10000", "-d", "64", "-q"]
DUMP_TIMEOUT = 20.0
GAP = 0.15            # seconds between a dump landing and the next signal

servers = []          # (Popen) to kill on failure


def fail(msg):
    for p in servers:
        if p.poll() is None:
            p.kill()
    print("redis_dump: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def tool(name):
    path = shutil.which(name)
    if not path:
        fail("%s is not installed (Debian packages redis-server redis-tools; "
             "scripts/setup.sh installs them)" % name)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args, stdin=None, timeout=30):
    r = subprocess.run([tool("redis-cli"), "-h", "127.0.0.1", "-p", str(port)] + list(args),
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def start_server(workdir, env):
    """Starts redis-server on a free port; retries if the port was taken."""
    for attempt in range(3):
        port = free_port()
        log = open(os.path.join(workdir, "server.%d.log" % port), "wb")
        proc = subprocess.Popen([tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", workdir,
                                 "--daemonize", "no", "--logfile", ""],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=env, cwd=workdir)
        servers.append(proc)
        end = time.time() + 15
        while time.time() < end and proc.poll() is None:
            rc, out, _ = cli(port, "PING", timeout=5)
            if rc == 0 and out == b"PONG\n":
                return proc, port
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            fail("redis-server on port %d did not answer PING within 15 s" % port)
        # exited: most likely the port was taken meanwhile; try another
    fail("redis-server did not start; see %s" % workdir)


def stop_server(proc, port):
    cli(port, "SHUTDOWN", "NOSAVE", timeout=10)     # the connection drops: no status check
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("redis-server did not exit within 30 s of SHUTDOWN NOSAVE")


def script_replies(port, what):
    with open(COMMANDS, "rb") as fh:
        rc, out, err = cli(port, stdin=fh.read())
    if rc != 0 or err:
        fail("%s: redis-cli < redis_commands.txt: status %d, stderr %r" % (what, rc, err[:300]))
    return out


def plain_reference(base, env):
    d = tempfile.mkdtemp(prefix="plain.", dir=base)
    proc, port = start_server(d, env)
    ref = script_replies(port, "plain server")
    st = stop_server(proc, port)
    if st != 0:
        fail("plain redis-server exited with status %d" % st)
    shutil.rmtree(d)
    return ref


def wait_for(path, proc, what):
    t0 = time.time()
    while not os.path.exists(path):
        if proc.poll() is not None:
            fail("%s: the server exited (status %s) before %s appeared"
                 % (what, proc.returncode, os.path.basename(path)))
        if time.time() - t0 > DUMP_TIMEOUT:
            fail("%s: %s did not appear within %.0f s (deadlock?)"
                 % (what, os.path.basename(path), DUMP_TIMEOUT))
        time.sleep(0.001)
    return time.time() - t0


def dump_under_load(proc, port, ddir, ndumps):
    bench = subprocess.Popen([tool("redis-benchmark"), "-h", "127.0.0.1", "-p", str(port),
                              "-t", ",".join(BENCH_TESTS)] + BENCH_ARGS,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    time.sleep(0.3)                   # let the clients connect and the load build up
    latencies = []
    for i in range(ndumps):
        if bench.poll() is not None:
            fail("redis-benchmark finished after only %d of %d dumps: the dumps must "
                 "land while it runs (raise -n)" % (i, ndumps))
        proc.send_signal(signal.SIGUSR1)
        latencies.append(wait_for(os.path.join(ddir, "d.%d.%d.dump" % (proc.pid, i)),
                                  proc, "dump %d" % i))
        time.sleep(GAP)
    try:
        out, err = bench.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        bench.kill()
        fail("redis-benchmark did not finish within 120 s")
    text = out.decode(errors="replace")
    if bench.returncode != 0:
        fail("redis-benchmark: status %d, stderr %r" % (bench.returncode, err[-300:]))
    for t in BENCH_TESTS:
        if not any(line.split(":")[0].strip() == t.upper() and "requests per second" in line
                   for line in text.replace("\r", "\n").splitlines()):
            fail("redis-benchmark did not report %s:\n%s" % (t.upper(), text[-1000:]))
    return latencies


def analyze(analyzer, dump, pid, ddir):
    facts = {}
    for args in (["report"], ["report", "--json"], ["top"]):
        r = subprocess.run([analyzer] + args + [dump], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0 or r.stderr or not r.stdout:
            fail("leakmark-analyze %s %s: status %d, stderr %r"
                 % (" ".join(args), dump, r.returncode, r.stderr[:300]))
        facts[" ".join(args)] = r.stdout
    if ("of pid %d " % pid).encode() not in facts["top"]:
        fail("leakmark-analyze top %s does not name pid %d:\n%s"
             % (dump, pid, facts["top"][:300].decode(errors="replace")))
    jdir = tempfile.mkdtemp(prefix="json.", dir=ddir + ".json")
    jpath = os.path.join(jdir, "a.%d.json" % pid)
    with open(jpath, "wb") as fh:
        fh.write(facts["report --json"])
    r = subprocess.run([sys.executable, CHECK_REPORT, "--schema-only", "--glob", jpath,
                        "--files", "1", "--trigger", "signal"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail("check_report.py rejects `report --json %s`:\n%s" % (dump, r.stdout.decode()))
    return json.loads(facts["report --json"])["summary"]


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    preload, analyzer = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ndumps = int(sys.argv[3]) if len(sys.argv) == 4 else 6
    for t in ("redis-server", "redis-cli", "redis-benchmark"):
        tool(t)
    top = os.environ.get("LM_INTEGRATION_TMP") or tempfile.gettempdir()
    os.makedirs(top, exist_ok=True)
    base = tempfile.mkdtemp(prefix="redis_dump.", dir=top)
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "LEAKMARK_OPTIONS"):
        env.pop(k, None)

    t_start = time.time()
    ref = plain_reference(base, env)

    work = os.path.join(base, "server")
    ddir = os.path.join(base, "dumps")
    os.makedirs(work)
    os.makedirs(ddir)
    os.makedirs(ddir + ".json")
    env["LD_PRELOAD"] = preload
    env["LEAKMARK_OPTIONS"] = ("dump_path=%s/d.%%p.%%n.dump:report=json:report_path=%s/r.%%p.json:"
                               "quiet=1:log_path=%s/lm.%%p.log" % (ddir, ddir, ddir))
    proc, port = start_server(work, env)
    pid = proc.pid
    if script_replies(port, "preloaded server") != ref:
        fail("the preloaded server's replies differ from the plain server's")

    latencies = dump_under_load(proc, port, ddir, ndumps)

    rc, out, err = cli(port, "PING")
    if rc != 0 or out != b"PONG\n":
        fail("no PONG after the dumps: %r %r" % (out, err))
    rc, out, _ = cli(port, "SET", "lm:after-dumps", "still-serving")
    rc2, out2, _ = cli(port, "GET", "lm:after-dumps")
    if (rc, out, rc2, out2) != (0, b"OK\n", 0, b"still-serving\n"):
        fail("SET/GET after the dumps: %r %r" % (out, out2))
    if script_replies(port, "preloaded server after the dumps") != ref:
        fail("after the dumps, the replies differ from the plain server's")

    dumps = sorted(glob.glob(os.path.join(ddir, "d.%d.*.dump" % pid)))
    args = ["--count", str(ndumps), "--seqs", str(ndumps), "--pid", str(pid),
            "--trigger", "signal", "--expect", "live_blocks>=1000", "--expect", "modules>=5"]
    if check_dump.main(args + dumps) != 0:
        fail("check_dump rejected the dumps (kept in %s)" % ddir)
    pauses = []
    for f in dumps:
        with open(f, "rb") as fh:
            d = check_dump.parse(fh.read())
        s = analyze(analyzer, f, pid, ddir)
        if (s["live_blocks"], s["live_bytes"]) != (len(d["blocks"]), d["summary"]["live_bytes"]):
            fail("%s: analyzer says %d blocks %d bytes, the dump holds %d blocks %d bytes"
                 % (f, s["live_blocks"], s["live_bytes"], len(d["blocks"]),
                    d["summary"]["live_bytes"]))
        pauses.append((d["pause_ns"] / 1e6, d["summary"]["threads_not_stopped"],
                       len(d["blocks"])))

    st = stop_server(proc, port)
    if st != 0:
        fail("redis-server under leakmark exited with status %d" % st)
    reports = glob.glob(os.path.join(ddir, "r.*.json"))
    if reports != [os.path.join(ddir, "r.%d.json" % pid)]:
        fail("exit reports: %s, expected r.%d.json" % (reports, pid))
    r = subprocess.run([sys.executable, CHECK_REPORT, "--schema-only", "--glob", reports[0],
                        "--files", "1", "--main-pid", str(pid), "--trigger", "exit"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail("check_report.py rejects the exit report:\n%s" % r.stdout.decode())
    leftovers = [f for f in os.listdir(ddir)
                 if not (f.endswith(".dump") or f.endswith(".json") or f.startswith("lm."))]
    if leftovers:
        fail("files left in the dump directory: %s" % leftovers)
    log = ""
    for f in glob.glob(os.path.join(ddir, "lm.*.log")):
        with open(f, errors="replace") as fh:
            log += fh.read()
    if "failed" in log:
        fail("leakmark's log reports a failure:\n%s" % log[-1500:])
    with open(reports[0]) as fh:
        summary = json.load(fh)["summary"]

    print("ok: %d dumps of redis-server (pid %d) under redis-benchmark in %.1f s" %
          (ndumps, pid, time.time() - t_start))
    for i, (p, nstop, nblk) in enumerate(pauses):
        print("  dump %d: %d blocks, pause %.2f ms, signal->file %.1f ms, threads not stopped %d"
              % (i, nblk, p, latencies[i] * 1e3, nstop))
    print("  exit report: %d live blocks, definite %d, possible %d, pause %.2f ms"
          % (summary["live_blocks"], summary["definite_blocks"], summary["possible_blocks"],
             summary["pause_ms"]))
    shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
