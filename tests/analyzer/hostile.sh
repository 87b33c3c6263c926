#!/bin/bash
# hostile.sh TOOL DUMPDIR - the analyzer on broken dumps.
#
#  1. every strict prefix of golden.lmd (truncation at every byte offset),
#     through `report` (and a sample through every subcommand): exit
#     status 2, exactly one stderr line "leakmark-analyze: FILE: offset N:
#     ..." with N <= the prefix length, nothing on stdout;
#  2. the bad_*.lmd dumps of gen_dump: the same, plus the words the error
#     must contain;
#  3. golden.lmd itself, which holds an unknown record type: accepted.
set -u
tool=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# check FILE LIMIT PATTERN CMD...: the one-line error contract
check() {
    local file=$1 limit=$2 pattern=$3
    shift 3
    "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$? lines
    lines=$(wc -l < "$tmp/err")
    if [ $rc -ne 2 ]; then fail "$*: exit status $rc, expected 2"; return; fi
    if [ "$lines" -ne 1 ]; then fail "$*: $lines stderr lines, expected 1:"; cat "$tmp/err" >&2; return; fi
    if [ -s "$tmp/out" ]; then fail "$*: wrote to stdout"; return; fi
    local line off
    line=$(cat "$tmp/err")
    if [[ ! $line =~ ^leakmark-analyze:\ $file:\ offset\ ([0-9]+):\ .+ ]]; then
        fail "$*: bad error line: $line"; return
    fi
    off=${BASH_REMATCH[1]}
    if [ "$off" -gt "$limit" ]; then fail "$*: offset $off beyond $limit: $line"; fi
    if [ -n "$pattern" ] && ! grep -qiE -- "$pattern" <<< "$line"; then
        fail "$*: error does not match /$pattern/: $line"
    fi
}

golden=$dir/golden.lmd
size=$(stat -c %s "$golden")
[ "$size" -gt 200 ] || { echo "FAIL: golden dump too small ($size bytes)" >&2; exit 1; }
"$tool" report "$golden" > /dev/null 2>&1 || fail "golden.lmd is rejected"

for ((n = 0; n < size; n++)); do
    head -c "$n" "$golden" > "$tmp/t.lmd"
    check "$tmp/t.lmd" "$n" "" "$tool" report "$tmp/t.lmd"
    if (( n % 37 == 0 )); then
        check "$tmp/t.lmd" "$n" "" "$tool" top "$tmp/t.lmd"
        check "$tmp/t.lmd" "$n" "" "$tool" cycles "$tmp/t.lmd" --dot
        check "$tmp/t.lmd" "$n" "" "$tool" diff "$tmp/t.lmd" "$golden"
    fi
done
echo "truncation: $size prefixes checked"

while read -r name pattern; do
    f=$dir/$name.lmd
    [ -f "$f" ] || { fail "$f missing"; continue; }
    check "$f" "$(stat -c %s "$f")" "$pattern" "$tool" report "$f"
    check "$f" "$(stat -c %s "$f")" "$pattern" "$tool" cycles "$f"
done <<'LIST'
bad_magic offset 0: bad magic
bad_version offset 8: unsupported dump version 2
bad_len_past_end BLOCKS record length .* runs past the end of the file
bad_huge_blocks block count 4294967294 cannot fit
bad_huge_frames frame count 127 needs
bad_overlong_varint varint .* (overflows|longer than 10)
bad_edge_range names block 99
bad_edge_class block 7 is reachable, not leaked
bad_stack_missing stack id 77 has no STACK record
bad_dup_stack second STACK record with id 2
bad_trailing bytes after the END record
bad_class bad class byte 0x07
LIST

before=$fails                     # check() itself must refuse a success
check "$tmp/none.lmd" 0 "" true 2> /dev/null
[ $fails -eq $((before + 1)) ] || { echo "FAIL: check() accepted a command with status 0" >&2; exit 1; }
fails=$before

"$tool" report "$tmp/missing.lmd" 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "cannot open" "$tmp/err" || fail "missing file: not status 2 / cannot open"

[ $fails -eq 0 ] || { echo "$fails failures" >&2; exit 1; }
echo "hostile: all rejected as expected"
