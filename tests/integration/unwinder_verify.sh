#!/bin/bash
# unwinder_verify.sh - leakmark's own stack walker must agree with libunwind
# frame for frame on real programs.
#
#   unwinder_verify.sh PRELOAD CXX_THREADS_REGEX SIGNALS
#
# Runs the integration cases python, perl, bash, git, gcc, xz,
# cxx_threads_regex and signals (cases.sh) under the preload with
# LEAKMARK_OPTIONS=unwinder=verify, which walks every allocation stack with
# both unwinders and logs, at exit, "N captures compared, W walked,
# M mismatched" (the first mismatches in full).  Requires, for every
# process that logged: M = 0; and over each case, the walker answered for at
# least 95% of the captures (the rest are signal frames, the first
# allocation of each thread, code without unwind information).
set -u
preload=$1
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lm-unwverify.XXXXXX")
trap 'rm -rf "$work"' EXIT
export LM_SRC=$src LM_DATA=$work/data
mkdir -p "$LM_DATA"
# shellcheck source=cases.sh
source "$src/cases.sh"
(cd "$LM_DATA" && prepare_gcc && prepare_xz) || { echo "FAIL: preparing inputs"; exit 1; }

fail=0
run_one() {
    local name=$1; shift
    local dir=$work/run-$name logs=$work/logs-$name
    mkdir -p "$dir" "$logs"
    (cd "$dir" && HOME=$dir LD_PRELOAD=$preload \
        LEAKMARK_OPTIONS="unwinder=verify:leak_check=0:dump_signal=0:log_path=$logs/v.%p" \
        "run_$name" "$@") >/dev/null 2>&1
    local compared=0 walked=0 mismatched=0 procs=0
    while read -r c w m; do
        procs=$((procs + 1))
        compared=$((compared + c)); walked=$((walked + w)); mismatched=$((mismatched + m))
    done < <(sed -n 's/.*unwinder=verify: \([0-9]*\) captures compared, \([0-9]*\) walked, \([0-9]*\) mismatched.*/\1 \2 \3/p' "$logs"/v.* 2>/dev/null)
    echo "$name: $procs processes, $compared captures compared, $walked walked, $mismatched mismatched"
    if [ "$procs" -eq 0 ] || [ "$compared" -lt 100 ]; then
        echo "FAIL: $name: too few captures compared"; fail=1
    fi
    if [ "$mismatched" -ne 0 ]; then
        echo "FAIL: $name: the walker disagreed with libunwind:"
        grep -h -A40 "the walker found" "$logs"/v.* | head -80
        fail=1
    fi
    if [ $((walked * 100)) -lt $((compared * 95)) ]; then
        echo "FAIL: $name: the walker answered only $walked of $compared"; fail=1
    fi
}

run_one python
run_one perl
run_one bash
run_one git
run_one gcc
run_one xz
run_one cxx_threads_regex "$2"
run_one signals "$3"
[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
