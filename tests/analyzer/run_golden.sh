#!/bin/bash
# run_golden.sh TOOL GEN_DUMP SRCDIR EXPECTED ARGS...
#
# Runs `TOOL ARGS...`, normalises what depends on the build (the gen_dump
# binary's path -> GEN_DUMP, the source tree -> SRC, pcs in the fake load
# ranges -> 0xPC, offsets inside gen_dump -> 0xOFF; line numbers are kept:
# gen_dump.c keeps its stack functions at the top) and compares stdout +
# stderr with EXPECTED.  Exit status must be 0.
#   LM_UPDATE_GOLDEN=1: rewrite EXPECTED instead (review the diff!).
set -u
tool=$1 gen=$2 src=$3 expected=$4
shift 4
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT
out=$("$tool" "$@" 2> "$errf")
rc=$?
if [ -s "$errf" ]; then
    out+=$'\n'"--- stderr ---"$'\n'"$(cat "$errf")"
fi
norm=$(printf '%s\n' "$out" | sed -E \
    -e "s|$gen|GEN_DUMP|g" -e "s|$src|SRC|g" \
    -e 's/0x(555555|560000)[0-9a-f]{6}/0xPC/g' \
    -e 's/\(GEN_DUMP\+0x[0-9a-f]+\)/(GEN_DUMP+0xOFF)/g' \
    -e 's/("module": "GEN_DUMP", "offset": ")0x[0-9a-f]+/\10xOFF/g' \
    -e 's/[0-9a-f]{40}/BUILDID/g' \
    -e "s|$(dirname "$gen")/dumps/|DUMPS/|g")
if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out"
    echo "FAIL: exit status $rc, expected 0" >&2
    exit 1
fi
if [ "${LM_UPDATE_GOLDEN-}" = 1 ]; then
    printf '%s\n' "$norm" > "$expected"
    echo "updated $expected"
    exit 0
fi
if ! diff -u "$expected" <(printf '%s\n' "$norm"); then
    echo "FAIL: output differs from $expected (LM_UPDATE_GOLDEN=1 rewrites it)" >&2
    exit 1
fi
echo "ok: $(basename "$expected")"
