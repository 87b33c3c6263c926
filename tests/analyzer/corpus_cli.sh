#!/bin/bash
# corpus_cli.sh TOOL CORPUSDIR - every input the fuzzer kept
# (tests/analyzer/corpus/, written by scripts/fuzz.sh) through the real
# `leakmark-analyze report`:
#   - exit status 0 or 2, never a signal or anything else;
#   - status 2: exactly one stderr line, "leakmark-analyze: FILE: ...",
#     and nothing on stdout;
#   - status 0: stderr holds only "leakmark-analyze: warning: ..." lines
#     (modules of the dump that cannot be read), no error line.
# Fails when the corpus is empty, and checks that check() itself refuses a
# crash, so that it cannot pass by accident.
set -u
tool=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0 ok=0 rejected=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# check FILE CMD...
check() {
    local file=$1 rc errors
    shift
    "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    errors=$(grep -vc '^leakmark-analyze: warning: ' "$tmp/err")
    case $rc in
    0)  if [ "$errors" -ne 0 ]; then fail "$file: status 0 with error lines:"; cat "$tmp/err" >&2
        else ok=$((ok + 1)); fi ;;
    2)  if [ "$errors" -ne 1 ] || [ "$(wc -l < "$tmp/err")" -ne 1 ]; then
            fail "$file: status 2 with $(wc -l < "$tmp/err") stderr lines:"; cat "$tmp/err" >&2
        elif ! grep -qF "leakmark-analyze: $file: " "$tmp/err"; then
            fail "$file: bad error line: $(cat "$tmp/err")"
        elif [ -s "$tmp/out" ]; then
            fail "$file: status 2 but wrote to stdout"
        else
            rejected=$((rejected + 1))
        fi ;;
    *)  fail "$file: exit status $rc$( ((rc > 128)) && echo " (signal $((rc - 128)))")"
        head -n 5 "$tmp/err" >&2 ;;
    esac
}

for f in "$dir"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    check "$f" "$tool" report "$f"
done
[ "$n" -gt 0 ] || { echo "FAIL: no inputs in $dir" >&2; exit 1; }

before=$fails                      # a crash must be caught
check "self-test" sh -c 'kill -SEGV $$' 2> /dev/null
[ $fails -eq $((before + 1)) ] || { echo "FAIL: check() accepted a crash" >&2; exit 1; }
fails=$before

echo "corpus: $n inputs, $ok accepted, $rejected rejected with one line, $fails failures"
[ $fails -eq 0 ]
