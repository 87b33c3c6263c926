#!/bin/bash
# e2e.sh TOOL PRELOAD PROGRAM - the analyzer on a real dump: PROGRAM runs
# under PRELOAD, dumps its heap on SIGUSR1, then exits; the exit report
# (text and JSON) and `TOOL report` of the dump (text and --json) must be
# identical except for what differs between the two checks: the trigger
# ("signal" vs "exit") and the scan/pause times.
set -u
tool=$1 preload=$2 prog=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump=$tmp/heap.dump
LEAKMARK_OPTIONS="dump_path=$dump:report=json:report_path=$tmp/exit.json" \
    LD_PRELOAD=$preload "$prog" "$dump" 2> "$tmp/exit.txt"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: program exit status $rc (no dump?)"; cat "$tmp/exit.txt"; exit 1; }
"$tool" report "$dump" > "$tmp/an.txt" || { echo "FAIL: analyze report"; exit 1; }
"$tool" report "$dump" --json > "$tmp/an.json" || { echo "FAIL: analyze report --json"; exit 1; }
grep -q "Leaked cycle #0: 3 blocks" "$tmp/an.txt" || { echo "FAIL: no 3-cycle:"; cat "$tmp/an.txt"; exit 1; }
grep -q "in make_tree .*e2e_leak.c:" "$tmp/an.txt" || { echo "FAIL: not symbolised:"; cat "$tmp/an.txt"; exit 1; }
fails=0
if ! diff -u "$tmp/exit.txt" <(sed 's/\[signal check\]$/[exit check]/' "$tmp/an.txt"); then
    echo "FAIL: text report differs (- exit report, + analyzer)"; fails=1
fi
strip() { sed -E -e 's/"trigger": "[a-z]+"/"trigger": T/' -e 's/"(scan|pause)_ms": [0-9.]+/"\1_ms": N/' "$1"; }
if ! diff -u <(strip "$tmp/exit.json") <(strip "$tmp/an.json"); then
    echo "FAIL: JSON report differs (- exit report, + analyzer)"; fails=1
fi
grep -q '"trigger": "signal"' "$tmp/an.json" || { echo "FAIL: trigger is not the dump's"; fails=1; }
[ $fails -eq 0 ] && echo "ok: the analyzer's report of the dump is the exit report"
exit $fails
