#!/bin/bash
# run_case.sh - run one leak-check scenario under the preload and check its
# JSON report.
#
#   run_case.sh [--status N] [--options OPTS] [--files N] NAME PRELOAD EXE [CHECKER-ARGS...]
#
# In a fresh directory WORK=$LM_LEAKS_TMP/lkcase.NAME.XXXXXX (CMake points
# LM_LEAKS_TMP into the build tree; default $TMPDIR or /tmp), removed on
# success, kept and named on failure or always with LM_KEEP_TMP=1, runs EXE
# with WORK/reports (TMP below) as its working directory, stdout and stderr
# to WORK/stdout and WORK/stderr, and
#   LD_PRELOAD=PRELOAD
#   LEAKMARK_OPTIONS=report=json:report_path=TMP/r.%p.json:quiet=1[:OPTS]
# and requires:
#   - the exit status N (default 0); 77 from the program means "not
#     applicable here" and is passed on (ctest SKIP_RETURN_CODE 77);
#   - no text report on stderr (quiet=1): no "SUMMARY:" line;
#   - nothing in TMP but the reports (a temporary name left behind means the
#     report was not written atomically);
#   - check_report.py --glob 'TMP/r.*.json' --main-pid PID --files N
#     --exe EXE --trigger exit CHECKER-ARGS... to pass (PID: the program's).
# A watchdog kills the program after LM_CASE_TIMEOUT seconds (default 50,
# under ctest's TIMEOUT 60).  LM_TEST_LEAKMARK_OPTIONS is appended to the
# options.  Exit status: 0 pass, 1 fail, 2 usage, 77 skipped.
set -u

status_want=0
extra=""
files=1
while [ $# -gt 0 ]; do
    case "$1" in
    --status) status_want=$2; shift 2 ;;
    --options) extra=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    *) break ;;
    esac
done
if [ $# -lt 3 ]; then
    echo "usage: run_case.sh [--status N] [--options OPTS] [--files N] NAME PRELOAD EXE [CHECKER-ARGS...]" >&2
    exit 2
fi
name=$1 preload=$2 exe=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3

if [ ! -r "$preload" ]; then
    echo "run_case: preload $preload not found" >&2
    exit 1
fi
base=${LM_LEAKS_TMP:-${TMPDIR:-/tmp}}
mkdir -p "$base" || exit 2
work=$(mktemp -d "$base/lkcase.$name.XXXXXX") || exit 2
tmp=$work/reports       # the program's cwd: only reports may appear here
out=$work/stdout
err=$work/stderr
mkdir "$tmp" || exit 2
keep=${LM_KEEP_TMP:-0}
cleanup() {
    if [ "$keep" = 1 ]; then
        echo "run_case: files kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

opts="report=json:report_path=$tmp/r.%p.json:quiet=1"
[ -n "$extra" ] && opts="$opts:$extra"
[ -n "${LM_TEST_LEAKMARK_OPTIONS:-}" ] && opts="$opts:$LM_TEST_LEAKMARK_OPTIONS"

echo "run_case: $name: LD_PRELOAD=$preload LEAKMARK_OPTIONS=$opts $exe"
start=$(date +%s%N)
(cd "$tmp" && LD_PRELOAD=$preload LEAKMARK_OPTIONS=$opts exec "$exe") >"$out" 2>"$err" &
pid=$!
limit=${LM_CASE_TIMEOUT:-50}
(
    for _ in $(seq 1 $((limit * 10))); do
        sleep 0.1
        kill -0 "$pid" 2>/dev/null || exit 0
    done
    echo "run_case: $name: still running after ${limit}s, killing pid $pid" >&2
    kill -KILL "$pid" 2>/dev/null
) &
watchdog=$!
wait "$pid"
status=$?
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "run_case: $name: pid $pid exited with status $status in ${ms} ms"

fail=0
show_output() {
    echo "---- stdout of $name"; cat "$out"
    echo "---- stderr of $name"; cat "$err"
    echo "----"
}
if [ "$status" = 77 ] && [ "$status_want" != 77 ]; then
    show_output
    echo "run_case: $name: skipped by the program (status 77)"
    exit 77
fi
if [ "$status" != "$status_want" ]; then
    echo "run_case: $name: FAIL: exit status $status, expected $status_want"
    fail=1
fi
if grep -q "SUMMARY:" "$err"; then
    echo "run_case: $name: FAIL: a text report on stderr despite quiet=1"
    fail=1
fi
stray=$(cd "$tmp" && for f in * .*; do
    case "$f" in . | .. | '*' | '.*') ;; r.*.json) ;; *) printf '%s ' "$f" ;; esac
done)
if [ -n "$stray" ]; then
    echo "run_case: $name: FAIL: unexpected files next to the reports: $stray"
    fail=1
fi
for f in "$tmp"/r.*.json; do
    [ -e "$f" ] || continue
    # The child of a fork must not be able to overwrite the parent's report.
    case "$(basename "$f")" in r.[0-9]*.json) ;; *)
        echo "run_case: $name: FAIL: report name $(basename "$f") has no pid"; fail=1 ;;
    esac
done
"$python" "$here/check_report.py" --glob "$tmp/r.*.json" --main-pid "$pid" \
    --files "$files" --exe "$exe" --trigger exit "$@" || fail=1

if [ "$fail" != 0 ]; then
    show_output
    keep=1
    echo "run_case: $name: FAILED"
    exit 1
fi
echo "run_case: $name: passed"
exit 0
