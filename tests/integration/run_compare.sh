#!/bin/bash
# run_compare.sh - run a real program plainly and under LD_PRELOAD, and
# require byte-identical stdout, stderr and exit status.
#
#   run_compare.sh [--runs N] [--plain-runs N] [--timeout SEC] CASE PRELOAD [ARGS...]
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
#      status, including death by a signal).
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
# not mix with the program's stderr; they are shown when a run fails.
# Environment: LM_RUNS, LM_PLAIN_RUNS, LM_RUN_TIMEOUT override the options;
# LM_TEST_LEAKMARK_OPTIONS is appended to LEAKMARK_OPTIONS.
#
# Exit status: 0 all runs matched, 1 a mismatch / timeout / preload not
# loaded, 2 usage or set-up error.
set -u

# ---------------------------------------------------------------- inner mode
# `run_compare.sh --inner PROBE_FILE EXPECT CASE ARGS...` is what runs inside
# each timed run: record whether EXPECT is mapped in this shell, then run the
# case.  Not for direct use.
if [ "${1-}" = --inner ]; then
    probe_file=$2 expect=$3 case=$4
    shift 4
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
runs=5 plain_runs=2 run_timeout=300
usage() { echo "usage: run_compare.sh [--runs N] [--plain-runs N] [--timeout SEC] CASE PRELOAD [ARGS...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --plain-runs) plain_runs=${2:?}; shift 2 ;;
        --timeout) run_timeout=${2:?}; shift 2 ;;
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
            LEAKMARK_OPTIONS="log_path=$T/lm/leakmark.%p.log${LM_TEST_LEAKMARK_OPTIONS:+:$LM_TEST_LEAKMARK_OPTIONS}" \
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

echo "integration [$case]: $plain_runs plain + $runs preloaded runs, preload $real_preload"
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
    fi
done
if [ "$bad" -gt 0 ]; then
    fail "$bad of $runs preloaded runs differ from the plain run"
fi
nlogs=$(find "$T/logs" -type f -size +0 | wc -l)
echo "PASS [$case]: $runs preloaded runs identical to the plain run (stdout $(stat -c %s "$T/runs/plain.1.out") bytes, stderr $(stat -c %s "$T/runs/plain.1.err") bytes, status $(cat "$T/runs/plain.1.status")); $nlogs non-empty leakmark log file(s)"
exit 0
