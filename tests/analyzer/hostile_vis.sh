#!/bin/bash
# hostile_vis.sh TOOL DUMPDIR - `flamegraph` and `html` on broken dumps and
# bad command lines (hostile.sh does the same for the other subcommands).
#
#  1. the bad_*.lmd dumps of gen_dump and every 11th strict prefix of
#     golden.lmd, through flamegraph (SVG, --folded, --leaked -o FILE) and
#     html (alone, after a good dump, with -o FILE): exit status 2, exactly
#     one stderr line "leakmark-analyze: FILE: offset N: ...", nothing on
#     stdout, and no -o file left behind;
#  2. a missing dump: status 2, "cannot open";
#  3. usage errors (no dump, two dumps to flamegraph, unknown option, -o
#     without a name): status 2 and the usage; an -o FILE that cannot be
#     created: status 1 and one line naming it.
set -u
tool=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# check FILE CMD...: the one-line error contract for a bad dump FILE
check() {
    local file=$1
    shift
    rm -f "$tmp/out.file"
    "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$? lines
    lines=$(wc -l < "$tmp/err")
    if [ $rc -ne 2 ]; then fail "$*: exit status $rc, expected 2"; return; fi
    if [ "$lines" -ne 1 ]; then fail "$*: $lines stderr lines, expected 1:"; cat "$tmp/err" >&2; return; fi
    if [ -s "$tmp/out" ]; then fail "$*: wrote to stdout"; return; fi
    if [ -e "$tmp/out.file" ]; then fail "$*: left the -o file behind"; return; fi
    if ! grep -qE "^leakmark-analyze: $file: offset [0-9]+: .+" "$tmp/err"; then
        fail "$*: bad error line: $(cat "$tmp/err")"
    fi
}

all_ways() {
    local f=$1
    check "$f" "$tool" flamegraph "$f"
    check "$f" "$tool" flamegraph "$f" --folded
    check "$f" "$tool" flamegraph --leaked "$f" -o "$tmp/out.file"
    check "$f" "$tool" html "$f"
    check "$f" "$tool" html "$dir/golden.lmd" "$f" -o "$tmp/out.file"
}

n=0
for f in "$dir"/bad_*.lmd; do
    all_ways "$f"
    n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n bad_*.lmd dumps in $dir"

golden=$dir/golden.lmd
size=$(stat -c %s "$golden")
for ((k = 0; k < size; k += 11)); do
    head -c "$k" "$golden" > "$tmp/t.lmd"
    all_ways "$tmp/t.lmd"
done
echo "bad dumps: $n files and $(( (size + 10) / 11 )) prefixes through flamegraph and html"

before=$fails                     # check() itself must refuse a success
check "$golden" "$tool" flamegraph "$golden" 2> /dev/null
[ $fails -eq $((before + 1)) ] || { echo "FAIL: check() accepted a good dump" >&2; exit 1; }
fails=$before

for cmd in flamegraph html; do
    "$tool" $cmd "$tmp/missing.lmd" > /dev/null 2> "$tmp/err"
    [ $? -eq 2 ] && grep -q "cannot open" "$tmp/err" || fail "$cmd missing file: not status 2 / cannot open"
done

usage() {
    "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$?
    [ $rc -eq 2 ] && grep -q "^usage:" "$tmp/err" && [ ! -s "$tmp/out" ] ||
        fail "$*: exit status $rc, want 2 and the usage on stderr"
}
usage "$tool" flamegraph
usage "$tool" flamegraph "$golden" "$golden"
usage "$tool" flamegraph "$golden" --bogus
usage "$tool" flamegraph "$golden" -o
usage "$tool" html
usage "$tool" html "$golden" --bogus
usage "$tool" html "$golden" -o

for cmd in flamegraph html; do
    "$tool" $cmd "$golden" -o "$tmp/no/such/dir/x" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "^leakmark-analyze: $tmp/no/such/dir/x: cannot create it" "$tmp/err" &&
        [ ! -s "$tmp/out" ] || fail "$cmd -o into a missing directory: status $rc: $(cat "$tmp/err")"
done

[ $fails -eq 0 ] || { echo "$fails failures" >&2; exit 1; }
echo "hostile_vis: all rejected as expected"
