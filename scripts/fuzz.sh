#!/bin/bash
# fuzz.sh [SECONDS] - libFuzzer on the analyzer's dump reader and everything
# behind it (tests/analyzer/libfuzz_dump.c).  NOT part of CI or
# scripts/test.sh: run it by hand, e.g. `nice -n 10 scripts/fuzz.sh 1800`.
# What it keeps is replayed in CI by ctest analyzer.fuzz_corpus.
#
#   1. builds the target with clang -fsanitize=fuzzer,address,undefined
#      straight from the sources (no CMake), and gen_dump with gcc;
#   2. seeds a working corpus with gen_dump's golden and hostile dumps
#      (written by a copy of gen_dump that is deleted again, so the module
#      paths in the seeds name no file and no run symbolises through
#      libdw: that keeps executions fast and the corpus replayable
#      anywhere) plus tests/analyzer/corpus/, and writes a dictionary of
#      the format's magic, record tags and edge-case varints;
#   3. fuzzes for SECONDS (default 600; 0: skip to 4) with one worker;
#   4. minimises (-set_cover_merge=1: the -merge=1 of libFuzzer with a
#      greedy set cover, a quarter fewer files for the same features) the
#      kept corpus and the new inputs into
#      tests/analyzer/corpus/ (files named crash-* (inputs that found a
#      bug) and seed-* (hand-made seeds) are always kept as they are) and
#      prints the numbers.
#
# Environment: LM_FUZZ_WORK  work directory (default /tmp/leakmark-fuzz):
#              build/, corpus/ (working corpus, kept across runs),
#              artifacts/ (crash-*, leak-*, timeout-* inputs), fuzz.log
#              LM_FUZZ_ARGS  extra libFuzzer flags
#              CC_FUZZ       clang to use (default clang); the fuzzer
#                            runtime is Debian's libclang-rt-<ver>-dev
# Exit status: 0 nothing found; 1 libFuzzer reported a crash, leak, timeout
# or broken contract (the input is in artifacts/: fix the bug, then save the
# input as tests/analyzer/corpus/crash-<what> and run again); 2 set-up error.
set -u
secs=${1:-600}
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: fuzz.sh [SECONDS]" >&2; exit 2; }
secs=$((10#$secs))
src=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
work=${LM_FUZZ_WORK:-/tmp/leakmark-fuzz}
cc=${CC_FUZZ:-clang}
repo_corpus=$src/tests/analyzer/corpus
mkdir -p "$work/build" "$work/corpus" "$work/artifacts" "$work/seeds" "$repo_corpus" || exit 2

# ---- 1. build ----
version=$(sed -nE 's/^project\(leakmark VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
an_sources=()
for f in "$src"/analyzer/*.c; do
    [ "$(basename "$f")" = main.c ] || an_sources+=("$f")
done
read -ra dw_flags <<< "$(pkg-config --cflags --libs libdw libelf) -lm" || exit 2
fuzzer=$work/build/libfuzz_dump
echo "fuzz.sh: building $fuzzer with $cc" >&2
"$cc" -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -D_GNU_SOURCE -DLM_VERSION="\"$version\"" \
    -I"$src/include" -I"$src/analyzer" \
    "$src/tests/analyzer/libfuzz_dump.c" "${an_sources[@]}" \
    "${dw_flags[@]}" -o "$fuzzer" || {
    echo "fuzz.sh: cannot build the fuzzer (is libclang-rt-*-dev installed?)" >&2; exit 2; }
gcc -O0 -g -fno-omit-frame-pointer -fno-inline -D_GNU_SOURCE -I"$src/include" \
    "$src/tests/analyzer/gen_dump.c" "${dw_flags[@]}" \
    -o "$work/build/gen_dump" || exit 2

# ---- 2. seeds and dictionary ----
seedgen=$work/seeds/gen_dump
cp "$work/build/gen_dump" "$seedgen" && "$seedgen" "$work/seeds" || exit 2
rm -f "$seedgen"
cat > "$work/dump.dict" <<'DICT'
magic="LMDUMP\x00\x01"
version="\x01\x00\x00\x00"
header_size="\x40\x00\x00\x00"
ptr_size="\x08\x00\x00\x00"
rec_process="\x01\x00\x00\x00"
rec_module="\x02\x00\x00\x00"
rec_stack="\x03\x00\x00\x00"
rec_blocks="\x04\x00\x00\x00"
rec_edges="\x05\x00\x00\x00"
rec_gentotals="\x06\x00\x00\x00"
rec_summary="\x07\x00\x00\x00"
rec_end="\xff\xff\x00\x00"
rec_unknown="\x00\x01\x00\x00"
len_huge="\xff\xff\xff\xff"
varint_u32max="\xff\xff\xff\xff\x0f"
varint_u32max_minus1="\xfe\xff\xff\xff\x0f"
varint_2e63="\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"
varint_u64max="\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
varint_overlong="\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"
varint_zero_padded="\x80\x00"
class_definite="\x02"
class_indirect="\x03"
class_old_indirect="\x13"
DICT

# ---- 3. fuzz ----
log=$work/fuzz.log
start=$(date +%s)
rc=0
if [ "$secs" -gt 0 ]; then      # -max_total_time=0 would mean "forever"
    echo "fuzz.sh: fuzzing for ${secs}s, log in $log" >&2
    # shellcheck disable=SC2086
    "$fuzzer" -max_total_time="$secs" -close_fd_mask=3 -timeout=10 \
        -rss_limit_mb=2048 -max_len=2048 -dict="$work/dump.dict" -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" ${LM_FUZZ_ARGS-} \
        "$work/corpus" "$work/seeds" "$repo_corpus" > "$log" 2>&1
    rc=$?
else
    : > "$log"
fi
elapsed=$(( $(date +%s) - start ))

# ---- 4. minimise into the repository ----
merged=$work/merged
rm -rf "$merged" && mkdir -p "$merged" || exit 2
"$fuzzer" -set_cover_merge=1 -close_fd_mask=3 -timeout=10 -max_len=2048 "$merged" \
    "$repo_corpus" "$work/corpus" > "$work/merge.log" 2>&1 || {
    echo "fuzz.sh: merge failed, tests/analyzer/corpus left alone (see $work/merge.log)" >&2
    [ "$rc" -ne 0 ] || rc=1; }
if [ "$(ls -A "$merged")" ]; then
    for f in "$repo_corpus"/crash-* "$repo_corpus"/seed-*; do   # kept under their names
        [ -f "$f" ] && rm -f "$merged/$(sha1sum < "$f" | cut -c1-40)"
    done
    find "$repo_corpus" -maxdepth 1 -type f ! -name 'crash-*' ! -name 'seed-*' -delete
    cp "$merged"/* "$repo_corpus"/
fi

# ---- numbers ----
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
echo "fuzz.sh: ran ${elapsed}s, libFuzzer exit status $rc"
echo "  last status: ${last:-none}"
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" \
    | sed 's/^/  /'
echo "  tests/analyzer/corpus: $(find "$repo_corpus" -type f | wc -l) files," \
     "$(du -sk --apparent-size "$repo_corpus" | cut -f1) KiB ($(find "$repo_corpus" -name 'crash-*' | wc -l) crash-*)"
found=$(find "$work/artifacts" -type f -newermt "@$start" | sort)
if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
    echo "fuzz.sh: FOUND something (see $log):"
    [ -z "$found" ] || printf '  %s\n' "${found//$'\n'/$'\n  '}"
    grep -m 3 -E 'ERROR: |runtime error|contract broken|SUMMARY: ' "$log" | sed 's/^/  /'
    exit 1
fi
echo "fuzz.sh: nothing found"
