#!/usr/bin/python3
"""run_api_case.py - run one public-API scenario (tests/leaks/api_*.c) plainly
and under the preload, and check what leakmark made of it.

    run_api_case.py NAME PRELOAD EXE [--options OPTS] [--log REGEX=N]...
                    [--exit CHECKER-ARGS...] [--api CHECKER-ARGS...]
                    [--dump N CHECK-DUMP-ARGS...]

In a fresh directory WORK=$LM_LEAKS_TMP/lkapi.NAME.XXXXXX (removed on
success, kept on failure or with LM_KEEP_TMP=1):
  1. EXE runs without LD_PRELOAD (cwd WORK/plain), then with
     LD_PRELOAD=PRELOAD (cwd WORK/reports = R) and
       LEAKMARK_OPTIONS=report=json:report_path=R/r.%p.json:quiet=1:
                        log_path=WORK/leakmark.log:dump_path=WORK/dumps/d.%p.%n.dump[:OPTS]
     and LK_REPORT_DIR=R in both runs (api_common.h moves the report of
     lm_check_now to R/api/).  A watchdog kills a run after 50 s.
  2. Both runs must exit 0 and print exactly the same stdout and stderr:
     the API is harmless without leakmark, and leakmark's own lines go to
     its log file.
  3. The exit report: check_report.py --glob 'R/r.*.json' --main-pid PID
     --exe EXE --trigger exit CHECKER-ARGS (after --exit; the report must
     exist and be valid even when no --exit section is given).
  4. --api: exactly one report of lm_check_now in R/api/, checked with
     --trigger api and the CHECKER-ARGS; without --api, R/api/ must be empty.
  5. --dump N: exactly N dumps in WORK/dumps, checked with check_dump.py
     --count N --pid PID --trigger api CHECK-DUMP-ARGS; without it, none.
  6. --log REGEX=N: exactly N lines of leakmark's log match REGEX (Python
     re.search); every line of that log starts with "==PID== leakmark: ".
Exit status 0 pass, 1 fail, 2 usage.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ("--exit", "--api", "--dump")


def usage(msg):
    sys.stderr.write("run_api_case: %s\n%s" % (msg, __doc__))
    sys.exit(2)


def parse(argv):
    if len(argv) < 3:
        usage("NAME PRELOAD EXE needed")
    opts = {"name": argv[0], "preload": argv[1], "exe": argv[2], "options": "",
            "log": [], "exit": [], "api": None, "dump": None}
    args = argv[3:]
    i = 0
    while i < len(args) and args[i] not in SECTIONS:
        if args[i] == "--options" and i + 1 < len(args):
            opts["options"] = args[i + 1]
        elif args[i] == "--log" and i + 1 < len(args) and "=" in args[i + 1]:
            regex, _, count = args[i + 1].rpartition("=")
            opts["log"].append((regex, int(count)))
        else:
            usage("unexpected argument %r" % args[i])
        i += 2
    section = None
    while i < len(args):
        a = args[i]
        if a in SECTIONS:
            section = a[2:]
            if section == "dump":
                if i + 1 >= len(args) or not args[i + 1].isdigit():
                    usage("--dump needs a count")
                opts["dump"] = (int(args[i + 1]), [])
                i += 2
                continue
            if section == "api" and opts["api"] is None:
                opts["api"] = []
        elif section == "dump":
            opts["dump"][1].append(a)
        else:
            opts[section].append(a)
        i += 1
    return opts


def run(exe, cwd, env, out_prefix):
    with open(out_prefix + ".stdout", "wb") as out, open(out_prefix + ".stderr", "wb") as err:
        p = subprocess.Popen([exe], cwd=cwd, env=env, stdout=out, stderr=err)
        try:
            status = p.wait(timeout=50)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            status = "killed after 50 s"
    with open(out_prefix + ".stdout", "rb") as f:
        stdout = f.read()
    with open(out_prefix + ".stderr", "rb") as f:
        stderr = f.read()
    return p.pid, status, stdout, stderr


def main(argv):
    o = parse(argv)
    name, exe = o["name"], o["exe"]
    if not os.access(o["preload"], os.R_OK):
        print("run_api_case: preload %s not found" % o["preload"])
        return 1
    base = os.environ.get("LM_LEAKS_TMP") or os.environ.get("TMPDIR") or "/tmp"
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="lkapi.%s." % name, dir=base)
    plain_dir, reports, dumps = (os.path.join(work, d) for d in ("plain", "reports", "dumps"))
    for d in (plain_dir, reports, os.path.join(reports, "api"), dumps):
        os.makedirs(d)
    log = os.path.join(work, "leakmark.log")
    failures = []

    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LEAKMARK_OPTIONS")}
    env["LK_REPORT_DIR"] = reports
    _, pstatus, pout, perr = run(exe, plain_dir, env, os.path.join(work, "plain"))

    lm_opts = ("report=json:report_path=%s/r.%%p.json:quiet=1:log_path=%s:dump_path=%s/d.%%p.%%n.dump"
               % (reports, log, dumps))
    if o["options"]:
        lm_opts += ":" + o["options"]
    penv = dict(env, LD_PRELOAD=o["preload"], LEAKMARK_OPTIONS=lm_opts)
    print("run_api_case: %s: LD_PRELOAD=%s LEAKMARK_OPTIONS=%s %s" % (name, o["preload"], lm_opts, exe))
    pid, status, out, err = run(exe, reports, penv, os.path.join(work, "preloaded"))
    print("run_api_case: %s: plain run exited %s, preloaded run (pid %d) %s" % (name, pstatus, pid, status))

    if pstatus != 0:
        failures.append("the plain run exited %s, not 0" % pstatus)
    if status != 0:
        failures.append("the preloaded run exited %s, not 0" % status)
    if out != pout:
        failures.append("stdout differs between the plain and the preloaded run")
    if err != perr:
        failures.append("stderr differs between the plain and the preloaded run")

    checker = [sys.executable, os.path.join(HERE, "check_report.py")]
    r = subprocess.run(checker + ["--glob", os.path.join(reports, "r.*.json"), "--main-pid", str(pid),
                                  "--exe", exe, "--trigger", "exit"] + o["exit"])
    if r.returncode != 0:
        failures.append("the exit report failed its checks")

    api_reports = glob.glob(os.path.join(reports, "api", "*"))
    if o["api"] is not None:
        r = subprocess.run(checker + ["--glob", os.path.join(reports, "api", "r.*.json"),
                                      "--main-pid", str(pid), "--exe", exe, "--trigger", "api"] + o["api"])
        if r.returncode != 0:
            failures.append("the lm_check_now report failed its checks")
    elif api_reports:
        failures.append("unexpected lm_check_now reports: %s" % api_reports)

    dump_files = sorted(glob.glob(os.path.join(dumps, "*")))
    if o["dump"] is not None:
        count, args = o["dump"]
        r = subprocess.run([sys.executable, os.path.join(HERE, "check_dump.py"), "--count", str(count),
                            "--pid", str(pid), "--trigger", "api"] + args + dump_files)
        if r.returncode != 0:
            failures.append("the dumps failed their checks")
    elif dump_files:
        failures.append("unexpected dumps: %s" % dump_files)

    lines = []
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
    for line in lines:      # (a dump's snapshot child logs with its own pid)
        if not re.match(r"==\d+== leakmark: ", line):
            failures.append("log line without the '==PID== leakmark: ' prefix: %r" % line)
    for regex, want in o["log"]:
        got = sum(1 for line in lines if re.search(regex, line))
        if got != want:
            failures.append("%d log lines match %r, wanted %d" % (got, regex, want))

    keep = os.environ.get("LM_KEEP_TMP") == "1" or failures
    if failures:
        for f in failures:
            print("run_api_case: %s: FAIL: %s" % (name, f))
        for label, data in (("plain stdout", pout), ("plain stderr", perr),
                            ("preloaded stdout", out), ("preloaded stderr", err)):
            print("---- %s\n%s" % (label, data.decode(errors="replace")), end="")
        print("---- leakmark.log\n%s\n----" % "\n".join(lines))
    if keep:
        print("run_api_case: files kept in %s" % work)
    else:
        shutil.rmtree(work)
    print("run_api_case: %s: %s" % (name, "FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
