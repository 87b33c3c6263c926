#!/bin/bash
# run_compare.sh - run a real program plainly and under LD_PRELOAD, and
# require byte-identical stdout, stderr and exit status.
#
#   run_compare.sh [--runs N] [--plain-runs N] [--timeout SEC] [--reports require|off]
#                  CASE PRELOAD [ARGS...]
#
# CASE names a case in cases.sh (run_CASE, optional prepare_CASE); ARGS go to
# both.  PRELOAD is the shared object to preload (CMake passes
# $<TARGET_FILE:leakmark>, or LM_TEST_PRELOAD when set).
#
# What it does, in a per-test temporary directory that is removed at exit
# (LM_KEEP_TMP=1 keeps it):
#   1. sanity: `grep -q REALPATH /proc/self/maps` run with LD_PRELOAD=PRELOAD
#      must find the library mapped (else ld.so's "cannot be preloaded"
#      message is shown);
#   2. prepare_CASE once, without the preload, in data/;
#   3. the case --plain-runs times without the preload (default 2): all runs
#      must agree, or the test itself is not deterministic and we say so;
#   4. the case --runs times with LD_PRELOAD=PRELOAD (default 5): each run
#      must match the first plain run byte for byte (stdout, stderr, exit
#      status, including death by a signal);
#   5. the JSON leak reports of each preloaded run (unless --reports off, for
#      a preload that is not leakmark): every process that leakmark's exit
#      check ran in wrote DIR/lm.<pid>.json.  tests/leaks/check_report.py
#      --schema-only requires at least one, each valid schema 1 with trigger
#      "exit" and holding its own pid (so a forked child's report is its
#      own, and the pids are distinct); nothing else may be left in DIR (a
#      temporary name would mean a report written non-atomically).  Then
#      what the case's reports_CASE variable in cases.sh asks: the
#      top-level process's report (main), other processes' reports
#      (children), the same numbers in every preloaded run (stable,
#      stable-leaks).  The numbers are printed: run 1 in full (per
#      executable when several processes reported), the other runs in one
#      line each.
# Every run happens in a fresh empty work/ directory (always the same path,
# so paths a program prints are the same), under `timeout`, with a fixed
# environment (env -i): PATH, HOME=work, TMPDIR, LANG=C.UTF-8, and
# LEAKMARK_OPTIONS.  The plain and preloaded runs differ only by LD_PRELOAD.
# In every run the driving bash (which has the same environment as the
# program it starts) checks its own /proc/PID/maps, so we know that the
# library really was mapped in every preloaded run and in no plain run.
#
# Nothing of the programs' output is normalised.  leakmark's own messages
# (the leak report at exit) are sent to files with log_path= so that they do
# not mix with the program's stderr; they are shown when a run fails.  Every
# run has LEAKMARK_OPTIONS=log_path=DIR/leakmark.%p.log:report=json:
# report_path=DIR/lm.%p.json, DIR a fresh directory per run.
# Environment: LM_RUNS, LM_PLAIN_RUNS, LM_RUN_TIMEOUT override the options;
# LM_TEST_LEAKMARK_OPTIONS is appended to LEAKMARK_OPTIONS; LM_SUMMARY_DIR,
# when set, receives CASE.tsv: run 1's report summaries (the columns of
# check_report.py --summary-out); LM_PYTHON is the python3 that runs the
# checker (default /usr/bin/python3); LM_REPORTS replaces the case's
# reports_CASE words (to try whether a case is stable: LM_REPORTS="main stable").
#
# Exit status: 0 all runs matched, 1 a mismatch / timeout / preload not
# loaded / a report missing or invalid, 2 usage or set-up error.
set -u

# ---------------------------------------------------------------- inner mode
# `run_compare.sh --inner PROBE_FILE EXPECT CASE ARGS...` is what runs inside
# each timed run: record whether EXPECT is mapped in this shell, then run the
# case.  Not for direct use.
if [ "${1-}" = --inner ]; then
    probe_file=$2 expect=$3 case=$4
    shift 4
    # The pid of the top-level process: the case execs its program in this
    # shell or runs its commands from it.
    echo $$ > "${probe_file%.probe}.pid"
    maps=$(< /proc/$$/maps)
    if [[ $maps == *"$expect"* ]]; then echo loaded > "$probe_file"; else echo absent > "$probe_file"; fi
    unset maps probe_file expect
    # shellcheck source=cases.sh
    . "$LM_SRC/cases.sh"
    "run_$case" "$@"
    exit
fi

# ---------------------------------------------------------------- options
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runs=5 plain_runs=2 run_timeout=300 reports=require
usage() { echo "usage: run_compare.sh [--runs N] [--plain-runs N] [--timeout SEC] [--reports require|off] CASE PRELOAD [ARGS...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --plain-runs) plain_runs=${2:?}; shift 2 ;;
        --timeout) run_timeout=${2:?}; shift 2 ;;
        --reports) reports=${2:?}; shift 2 ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || usage
runs=${LM_RUNS:-$runs}
plain_runs=${LM_PLAIN_RUNS:-$plain_runs}
run_timeout=${LM_RUN_TIMEOUT:-$run_timeout}
case=$1 preload=$(realpath -s -m -- "$2")
shift 2
# Arguments naming existing files become absolute: runs happen elsewhere.
case_args=()
for a in "$@"; do
    if [ -e "$a" ]; then case_args+=("$(readlink -f -- "$a")"); else case_args+=("$a"); fi
done
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $plain_runs =~ ^[0-9]+$ && $plain_runs -ge 1 ]] || usage
[[ $reports == require || $reports == off ]] || usage
checker=$(readlink -f "$here/../leaks/check_report.py")
python=${LM_PYTHON:-/usr/bin/python3}

# shellcheck source=cases.sh
. "$here/cases.sh"
if ! declare -F "run_$case" > /dev/null; then
    echo "run_compare.sh: no case '$case' in $here/cases.sh" >&2
    exit 2
fi
if [ ! -f "$preload" ]; then
    echo "run_compare.sh: preload library $preload does not exist (not built?)" >&2
    exit 2
fi
real_preload=$(readlink -f "$preload")
reports_var=reports_$case
report_spec=" ${LM_REPORTS-${!reports_var-main}} "
for w in $report_spec; do
    case $w in main | children | stable | stable-leaks) ;; *) echo "run_compare.sh: $reports_var: unknown word '$w'" >&2; exit 2 ;; esac
done
if [ "$reports" = require ] && [ ! -f "$checker" ]; then
    echo "run_compare.sh: the report checker $checker is missing" >&2
    exit 2
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/leakmark-it-$case.XXXXXX") || exit 2
cleanup() { if [ "${LM_KEEP_TMP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/data" "$T/runs" "$T/logs"

fail() { echo "FAIL [$case]: $*"; exit 1; }

# ---------------------------------------------------------------- 1. sanity
# The same mechanism as the runs (env -i, LD_PRELOAD=preload, leakmark's
# messages to files): a child looks for the library in its own maps.
mkdir -p "$T/lm-probe"
# Judged by what it printed, not by its exit status (which a broken preload
# could change; the runs below catch that).
env -i PATH=/usr/bin:/bin LD_PRELOAD="$preload" LEAKMARK_OPTIONS="log_path=$T/lm-probe/leakmark.%p.log" \
    grep -F -- "$real_preload" /proc/self/maps > "$T/probe.out" 2> "$T/probe.err"
if ! grep -q -F -- "$real_preload" "$T/probe.out"; then
    cat "$T/probe.out" "$T/probe.err"
    fail "the preload $preload is not mapped in a process started with LD_PRELOAD"
fi

# ---------------------------------------------------------------- 2. prepare
if declare -F "prepare_$case" > /dev/null; then
    if ! (cd "$T/data" && LM_DATA=$T/data LM_SRC=$here "prepare_$case" "${case_args[@]}") > "$T/prepare.log" 2>&1; then
        cat "$T/prepare.log"
        echo "run_compare.sh: prepare_$case failed" >&2
        exit 2
    fi
fi

# ---------------------------------------------------------------- 3./4. runs
# run_one KIND INDEX: one timed run; leaves runs/KIND.INDEX.{out,err,status,probe}.
run_one() {
    local kind=$1 i=$2 base="$T/runs/$1.$2" work="$T/work" st=0
    local -a pre=()
    [ "$kind" = preload ] && pre=(LD_PRELOAD="$preload")
    rm -rf "$work" "$T/lm" && mkdir -p "$work/.tmp" "$T/lm" || exit 2
    local started=$SECONDS
    # The braces with 2>/dev/null keep bash's "Terminated" notice (when a
    # program dies by a signal) out of the test log; the program's own
    # stderr goes to the .err file.
    {
        (cd "$work" && exec timeout -k 10 "$run_timeout" env -i \
            PATH=/usr/bin:/bin HOME="$work" TMPDIR="$work/.tmp" LANG=C.UTF-8 \
            LM_DATA="$T/data" LM_SRC="$here" \
            LEAKMARK_OPTIONS="log_path=$T/lm/leakmark.%p.log:report=json:report_path=$T/lm/lm.%p.json${LM_TEST_LEAKMARK_OPTIONS:+:$LM_TEST_LEAKMARK_OPTIONS}" \
            "${pre[@]}" /bin/bash "$here/run_compare.sh" --inner "$base.probe" "$real_preload" "$case" "${case_args[@]}" \
            > "$base.out" 2> "$base.err" < /dev/null) || st=$?
    } 2> /dev/null
    echo "$st" > "$base.status"
    if ls "$T/lm"/* > /dev/null 2>&1; then
        mkdir -p "$T/logs/$kind.$i" && mv "$T/lm"/* "$T/logs/$kind.$i/"
    fi
    printf '  %-7s run %d: status %s, %d+%d bytes out+err, %ds%s\n' "$kind" "$i" "$st" \
        "$(stat -c %s "$base.out")" "$(stat -c %s "$base.err")" $((SECONDS - started)) \
        "$([ "$st" = 124 ] && echo ' (TIMED OUT)')"
}

# show_diff A B: how run B differs from run A.
show_diff() {
    local a="$T/runs/$1" b="$T/runs/$2" s
    for s in status out err; do
        if ! cmp -s "$a.$s" "$b.$s"; then
            echo "--- $s differs ($1 vs $2):"
            if [ "$s" = status ]; then
                echo "    $(cat "$a.status") vs $(cat "$b.status")"
            else
                cmp "$a.$s" "$b.$s" 2>&1 | sed 's/^/    /'
                diff -u --label "$1.$s" --label "$2.$s" "$a.$s" "$b.$s" | head -40 | cat -v
            fi
        fi
    done
}
same_run() {
    cmp -s "$T/runs/$1.out" "$T/runs/$2.out" && cmp -s "$T/runs/$1.err" "$T/runs/$2.err" &&
        cmp -s "$T/runs/$1.status" "$T/runs/$2.status"
}
show_logs() {
    local d="$T/logs/$1" f
    [ -d "$d" ] || return 0
    for f in "$d"/*; do
        [ -s "$f" ] || continue
        echo "--- leakmark log $(basename "$f") of $1 (first 40 lines):"
        head -40 "$f" | cat -v
    done
}

# ---------------------------------------------------------------- 5. reports
# Columns of a summary line (check_report.py --summary-out): 1 pid, 2 exe,
# 3 trigger, live 4 blocks 5 bytes, definite 6 7, indirect 8 9, possible
# 10 11, reachable 12 13, suppressed 14 15, 16 cycles, 17 leak entries.
# numbers_of: the awk program that prints the numbers of one line or total.
numbers_awk='function nums(c) {
    return sprintf("definite %d blocks / %d bytes, indirect %d / %d, possible %d / %d, reachable %d / %d, live %d / %d, %d cycle(s), %d leak entries",
                   c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[4], c[5], c[16], c[17])
}'

# describe_reports I FULL: the numbers of preloaded run I (the main
# process's report; with FULL, per executable too, sorted by name).
describe_reports() {
    local i=$1 full=$2
    awk -F'\t' -v main="$(cat "$T/runs/preload.$i.pid" 2> /dev/null)" -v full="$full" -v run="$i" "$numbers_awk"'
        { n++; exe[$2]++; for (k = 4; k <= 17; k++) { tot[k] += $k; per[$2, k] += $k }
          if ($1 == main) { mainline = $0; mainexe = $2; split($0, m, "\t") }
          else { split($0, other, "\t") } }
        END {
            if (mainline != "")
                printf "0\t\t  reports of run %d: %d process(es); top-level %s (pid %s): %s\n", run, n, mainexe, main, nums(m)
            else if (n == 1)
                printf "0\t\t  reports of run %d: 1 process, not the top-level pid %s: %s (pid %s): %s\n", run, main, other[2], other[1], nums(other)
            else
                printf "0\t\t  reports of run %d: %d process(es); none from the top-level pid %s\n", run, n, main
            if (full && n > 1) {
                for (e in exe) {
                    for (k = 4; k <= 17; k++) c[k] = per[e, k]
                    printf "1\t%s\t    %-40s x%-3d %s\n", e, e, exe[e], nums(c)
                }
                for (k = 4; k <= 17; k++) c[k] = tot[k]
                printf "2\t\t    %-40s x%-3d %s\n", "(all processes)", n, nums(c)
            }
        }' "$T/runs/preload.$i.summary" | sort -t "$(printf '\t')" -k1,1n -k2,2 | cut -f3-
}

# check_reports I: step 5 for preloaded run I; returns 1 (after saying why)
# when something is wrong.
check_reports() {
    local i=$1 main n f
    local d="$T/logs/preload.$i"
    local -a args=(--schema-only --glob "$d/lm.*.json" --trigger exit --summary-out "$T/runs/preload.$i.summary")
    main=$(cat "$T/runs/preload.$i.pid" 2> /dev/null)
    [[ $report_spec == *" main "* ]] && args+=(--main-pid "${main:-0}")
    if ! "$python" "$checker" "${args[@]}" > "$T/runs/preload.$i.check" 2>&1; then
        echo "preload run $i: the JSON reports in $d are wrong (top-level pid ${main:-unknown}):"
        sed 's/^/    /' "$T/runs/preload.$i.check"
        ls -l "$d" 2> /dev/null | sed 's/^/    /'
        show_logs "preload.$i"
        return 1
    fi
    for f in "$d"/*; do
        case ${f##*/} in
            lm.*.json | leakmark.*.log) ;;
            *) echo "preload run $i: $f is neither a report nor a log (a report written non-atomically?)"; return 1 ;;
        esac
    done
    n=$(cut -f1 "$T/runs/preload.$i.summary" | grep -c -v -x -F -e "${main:-0}")
    if [[ $report_spec == *" children "* ]] && [ "$n" -lt 1 ]; then
        echo "preload run $i: no report from a process other than the top-level one (pid ${main:-unknown});"
        echo "    the case forks processes that must report for themselves"
        ls -l "$d" | sed 's/^/    /'
        return 1
    fi
    if [ "$i" = 1 ]; then
        describe_reports 1 1
        [ -n "${LM_SUMMARY_DIR-}" ] && mkdir -p "$LM_SUMMARY_DIR" &&
            cp "$T/runs/preload.1.summary" "$LM_SUMMARY_DIR/$case.tsv"
        return 0
    fi
    describe_reports "$i" 0
    # stable: exe, trigger and every number; stable-leaks: exe, definite and
    # indirect blocks and bytes, cycles.  Compared as sorted lists over all
    # of the run's reports (pids differ from run to run).
    local cols=
    [[ $report_spec == *" stable-leaks "* ]] && cols=2,6-9,16
    [[ $report_spec == *" stable "* ]] && cols=2-
    if [ -n "$cols" ] &&
        ! cmp -s <(cut -f"$cols" "$T/runs/preload.1.summary" | sort) <(cut -f"$cols" "$T/runs/preload.$i.summary" | sort); then
        echo "preload run $i: the reports' numbers differ from run 1 (the case is marked$report_spec; fields $cols of"
        echo "    pid exe trigger live(blocks bytes) definite indirect possible reachable suppressed cycles leaks):"
        diff <(cut -f"$cols" "$T/runs/preload.1.summary" | sort) <(cut -f"$cols" "$T/runs/preload.$i.summary" | sort) |
            head -20 | sed 's/^/    /'
        return 1
    fi
    return 0
}

echo "integration [$case]: $plain_runs plain + $runs preloaded runs, preload $real_preload"
[ "$reports" = require ] && echo "  JSON reports: required from every run;$report_spec(see reports_ in cases.sh)"
for ((i = 1; i <= plain_runs; i++)); do
    run_one plain "$i"
    if [ "$(cat "$T/runs/plain.$i.probe" 2> /dev/null)" != absent ]; then
        fail "plain run $i: the preload is mapped although LD_PRELOAD was not set (or the probe did not run)"
    fi
    if [ "$i" -gt 1 ] && ! same_run plain.1 "plain.$i"; then
        show_diff plain.1 "plain.$i"
        fail "the case is not deterministic: plain run $i differs from plain run 1 (fix the case, not the preload)"
    fi
done
case $(cat "$T/runs/plain.1.status") in
    124) fail "plain run timed out after ${run_timeout}s" ;;
    126 | 127) cat "$T/runs/plain.1.err"; fail "plain run could not start a command (status 126/127): the case is broken" ;;
esac

bad=0
for ((i = 1; i <= runs; i++)); do
    run_one preload "$i"
    if [ "$(cat "$T/runs/preload.$i.probe" 2> /dev/null)" != loaded ]; then
        echo "preload run $i: $real_preload was NOT mapped in the run's shell"
        bad=$((bad + 1))
    elif ! same_run plain.1 "preload.$i"; then
        show_diff plain.1 "preload.$i"
        show_logs "preload.$i"
        bad=$((bad + 1))
    elif [ "$reports" = require ] && ! check_reports "$i"; then
        bad=$((bad + 1))
    fi
done
if [ "$bad" -gt 0 ]; then
    fail "$bad of $runs preloaded runs failed (output differs from the plain run, or the JSON reports are wrong: see above)"
fi
nlogs=$(find "$T/logs" -type f -name "leakmark.*.log" -size +0 | wc -l)
echo "PASS [$case]: $runs preloaded runs identical to the plain run (stdout $(stat -c %s "$T/runs/plain.1.out") bytes, stderr $(stat -c %s "$T/runs/plain.1.err") bytes, status $(cat "$T/runs/plain.1.status")); $nlogs non-empty leakmark log file(s)"
if [ "$reports" = require ]; then
    nrep=$(cat "$T/runs"/preload.*.summary | wc -l)
    echo "PASS [$case]: $nrep valid JSON report(s) in $runs runs, each named after its own pid$([[ $report_spec == *" stable "* ]] && echo ", the same numbers in every run")$([[ $report_spec == *" stable-leaks "* ]] && echo ", the same leak numbers in every run")"
fi
exit 0
