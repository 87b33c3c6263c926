#!/usr/bin/env bash
# bench.sh - time and peak memory of leakmark against glibc malloc, mimalloc
# and jemalloc (and, with --peers, LeakSanitizer, heaptrack and valgrind) on
# synthetic allocation workloads (tests/bench/wl_*.c) and on real programs;
# with --exit-check, the cost of the exit-time leak check alone; with --dumps,
# the pause, time and size of heap dumps.
#
#   scripts/bench.sh [-n RUNS] [--quick] [--peers] [--scale X] [--only REGEX]
#                    [--no-build] [-o FILE.tsv]
#   scripts/bench.sh --exit-check [-n RUNS] [--quick] [--sizes LIST]
#                    [--no-build] [-o FILE.tsv]
#   scripts/bench.sh --dumps [-n RUNS] [--big] [--sizes LIST] [--no-build]
#                    [-o FILE.tsv]
#
# Every run goes through tests/bench/lm-runstat (fork/execvp/wait4), so wall
# time and ru_maxrss come from the same run.  Runs are interleaved: run 1 of
# every (workload, allocator), then run 2 of each, ... so that drift of the
# machine hits all allocators alike.  Per workload the table shows the median
# wall time, its min-max spread and the median peak RSS of each allocator,
# with ratios against glibc and mimalloc; then geometric means of the ratios
# over the synthetic workloads and over the real programs, separately.  The
# stdout of every run is compared with glibc's (the workloads print
# address-independent checksums): a mismatch is flagged in the note column.
#
# leakmark runs in four configurations, so that the cost of each part shows:
#   leakmark           default options: tracking + full stacks + exit check
#   leakmark-scan1     the same plus a periodic scan every second
#                      (scan_interval=1); a table line gives its time over
#                      leakmark's (the target: at most 1.10)
#   leakmark-nocheck   LEAKMARK_OPTIONS=leak_check=0 (tracking + stacks)
#   leakmark-nostacks  LEAKMARK_OPTIONS=stack_depth=0:leak_check=0
# --peers adds LeakSanitizer twice (lsan: its defaults, whose frame-pointer
# unwinder gives 1-frame stacks in code built without frame pointers, which
# is most of Debian; lsan-dwarf: fast_unwind_on_malloc=0 and
# malloc_context_size=16, stacks like leakmark's)
# (preloaded liblsan, LSAN_OPTIONS=detect_leaks=1:
# exitcode=0:allocator_may_return_null=1: leak check on, a found leak is no
# failure, its report goes to stderr and only stdout is compared), heaptrack
# (recording to a temp file, no analysis) and valgrind memcheck
# --leak-check=full; valgrind runs at a tenth of the scale, next to glibc@vg
# and leakmark@vg (plain and leakmark runs at that scale).  A second table
# then gives leakmark's time and RSS divided by each peer's, per workload.
#
# --exit-check runs tests/bench/wl_exitcheck (a reachable heap of MIB MiB in
# BLOCKS blocks, plus 1000 leaked ones) with the check off and on, side by
# side, and reports the paired difference of wall time per GiB of live heap
# and per million live blocks, leakmark's own summary.scan_ms, and the same
# for LeakSanitizer (detect_leaks=0 vs 1) and, at sizes up to 100 MiB only,
# valgrind (--leak-check=no vs full).  --sizes "MIB:BLOCKS[:DENSITY] ..."
# (default "100:1000000 1024:10000000 4096:16384", pointer density 0.1).
# It also checks that every check found exactly the planted leaks.
#
# --dumps times heap dumps (SIGUSR1) of tests/bench/wl_dumpheap, a live heap
# of MIB MiB in BLOCKS blocks (reachable tree, pointer density 0.1) with a
# second thread churning small blocks.  tests/bench/lm-dumptime starts it
# under leakmark (leak_check=0), waits until the heap is built, then dumps
# it RUNS times, one signal per finished dump (leakmark folds requests that
# arrive during a dump into one), 0.5 s apart.  Per size: the pause (the
# dump's own pause_ms: how long the program was stopped), the total time
# from kill() to the renamed file, the mark time (scan_ms), the dump's size
# in bytes per live block, and the cost of a bare fork() of the same
# process (the workload times its own); median and min-max; pause per GiB
# against the target of 25 ms per GiB of live heap (issue #4).  --sizes
# default "100:1600 1024:16384 4096:65536 64:1000000 256:4000000" (64 KiB
# blocks for the heap sizes, 64-byte blocks for millions of blocks); sizes
# of 4 GiB and more run only with --big or when MemAvailable is at least
# three times the heap.
#
# Environment: LEAKMARK_BUILD_DIR (default <repo>/build).  LEAKMARK_OPTIONS
# and LSAN_OPTIONS of the caller are ignored: each configuration sets its own.
# Needs only bash, awk, coreutils, gcc and cmake; no python for the logic.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${LEAKMARK_BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
RUNS=""
QUICK=0
PEERS=0
SCALE=""
ONLY=""
OUT=""
DO_BUILD=1
EXIT_CHECK=0
SIZES="100:1000000 1024:10000000 4096:16384"
DUMPS=0
BIG=0
SIZES_SET=0
DUMP_SIZES="100:1600 1024:16384 4096:65536 64:1000000 256:4000000"
VG_FACTOR=0.1        # valgrind runs at SCALE * VG_FACTOR
VG_MAX_MIB=100       # --exit-check runs valgrind only on heaps up to this size

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case $1 in
    -n) RUNS=$2; shift ;;
    --quick) QUICK=1 ;;
    --peers) PEERS=1 ;;
    --scale) SCALE=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --exit-check) EXIT_CHECK=1 ;;
    --dumps) DUMPS=1 ;;
    --big) BIG=1 ;;
    --sizes) SIZES=$2; SIZES_SET=1; shift ;;
    --no-build) DO_BUILD=0 ;;
    -o) OUT=$2; shift ;;
    -h|--help) usage 0 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
  shift
done
if ((QUICK)); then RUNS=${RUNS:-3}; SCALE=${SCALE:-0.25}; fi
for sz in $SIZES; do
  [[ $sz =~ ^[0-9]+(\.[0-9]+)?:[1-9][0-9]*(:[0-9]*\.?[0-9]+)?$ ]] ||
    { echo "bench.sh: --sizes wants MIB:BLOCKS[:DENSITY] items, not '$sz'" >&2; exit 2; }
done
RUNS=${RUNS:-5}
SCALE=${SCALE:-1}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: -n needs a positive integer" >&2; exit 2; }
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "bench.sh: --scale needs a number" >&2; exit 2; }
VG_SCALE=$(awk -v s="$SCALE" -v f="$VG_FACTOR" 'BEGIN { printf "%g", s * f }')

export LC_ALL=C
unset LEAKMARK_OPTIONS LSAN_OPTIONS ASAN_OPTIONS LD_PRELOAD
WORK=$(mktemp -d /tmp/lm-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
log() { printf '%s\n' "$*" >&2; }

# ---- build ------------------------------------------------------------------
LIB=$BUILD/lib/libleakmark.so
if ((DO_BUILD)); then
  built=0
  if [[ -f $ROOT/scripts/setup.sh ]]; then
    log "bench: building with scripts/setup.sh (LEAKMARK_BUILD_DIR=$BUILD)"
    if LEAKMARK_BUILD_DIR=$BUILD bash "$ROOT/scripts/setup.sh" >"$WORK/build.log" 2>&1; then built=1
    else log "bench: scripts/setup.sh failed; trying the leakmark target alone"; fi
  fi
  if ((!built)); then
    { cmake -S "$ROOT" -B "$BUILD" >/dev/null &&
      cmake --build "$BUILD" --target leakmark -j "$(nproc)"; } >>"$WORK/build.log" 2>&1 ||
      { log "bench: building libleakmark.so failed:"; tail -n 15 "$WORK/build.log" >&2; }
  fi
fi
BIN=$BUILD/bench-bin
mkdir -p "$BIN"
for src in "$ROOT"/tests/bench/wl_*.c "$ROOT"/tests/bench/lm-runstat.c "$ROOT"/tests/bench/lm-dumptime.c; do
  exe=$BIN/$(basename "$src" .c)
  if [[ ! -x $exe || $src -nt $exe ]]; then
    gcc -O2 -g -Wall -Wextra -pthread -I"$ROOT/include" -o "$exe" "$src" ||
      { log "bench: cannot compile $src"; exit 1; }
  fi
done
RUNSTAT=$BIN/lm-runstat
LSAN=/usr/lib/x86_64-linux-gnu/liblsan.so.0

# ---- --exit-check: the exit-time leak check alone -----------------------------------
# Per size (MIB:BLOCKS[:DENSITY]) and tool, one run with the check off and one
# with it on, in every round; rounds interleaved like the main mode.
# raw: size tool mode run wall rss rc scan_ms found verdict
ec_json_num() {   # ec_json_num FILE KEY: a number of the JSON summary, or empty
  grep -m 1 -o "\"$2\": *[0-9.]*" "$1" 2>/dev/null | sed 's/.*: *//' || true
}
exit_check_mode() {
  local ec=$BIN/wl_exitcheck raw=$WORK/ec.tsv run sz mib blocks dens tool mode
  local expect_line="" pre envs wrapper wall rss rc scan found verdict want_d want_i want_l
  local tools=()
  : >"$raw"
  if [[ -f $LIB ]] && nm -D --defined-only "$LIB" 2>/dev/null | grep -w malloc >/dev/null; then tools+=(leakmark)
  else log "bench: leakmark skipped: $LIB missing or does not export malloc yet"; fi
  if [[ -f $LSAN ]]; then tools+=(lsan); else log "bench: lsan skipped: $LSAN missing"; fi
  if command -v valgrind >/dev/null; then tools+=(valgrind); else log "bench: valgrind skipped: not installed"; fi
  log "bench: exit check, $RUNS run(s), sizes: $SIZES; tools: ${tools[*]}"
  for ((run = 1; run <= RUNS; run++)); do
    for sz in $SIZES; do
      IFS=: read -r mib blocks dens <<<"$sz"
      dens=${dens:-0.1}
      for tool in "${tools[@]}"; do
        if [[ $tool == valgrind ]] && awk -v m="$mib" -v x="$VG_MAX_MIB" 'BEGIN { exit !(m > x) }'; then
          continue
        fi
        # Alternate which run goes first: the run after a process that
        # freed gigabytes pays kernel time for it (seen: 8.9 s vs 5.9 s).
        local modes=(nocheck check)
        ((run % 2)) || modes=(check nocheck)
        for mode in "${modes[@]}"; do
          envs=(); wrapper=()
          case $tool.$mode in
            leakmark.nocheck) envs=(-e "LD_PRELOAD=$LIB" -e "LEAKMARK_OPTIONS=leak_check=0") ;;
            leakmark.check) envs=(-e "LD_PRELOAD=$LIB"
                                  -e "LEAKMARK_OPTIONS=leak_check=1:report=json:report_path=$WORK/ec.json:quiet=1") ;;
            lsan.nocheck) envs=(-e "LD_PRELOAD=$LSAN" -e "LSAN_OPTIONS=detect_leaks=0") ;;
            lsan.check) envs=(-e "LD_PRELOAD=$LSAN" -e "LSAN_OPTIONS=detect_leaks=1:exitcode=0") ;;
            valgrind.nocheck) wrapper=(valgrind --leak-check=no) ;;
            valgrind.check) wrapper=(valgrind --leak-check=full) ;;
          esac
          rm -f "$WORK/stat" "$WORK/ec.json"
          "$RUNSTAT" -o "$WORK/stat" "${envs[@]}" -- "${wrapper[@]}" "$ec" "$mib" "$blocks" "$dens" \
            >"$WORK/ec.out" 2>"$WORK/ec.err" || true
          if [[ -s $WORK/stat ]]; then read -r wall rss rc user _ <"$WORK/stat"; else wall=0; rss=0; rc=127; user=0; fi
          # what the program says it planted
          read -r want_l want_d want_i < <(sed -n 's/.* leaked_blocks=\([0-9]*\) definite=\([0-9]*\) indirect=\([0-9]*\).*/\1 \2 \3/p;T;q' \
                                              "$WORK/ec.out"; echo)
          scan=-; found=-; verdict=ok
          if ((rc)) || [[ -z $want_l ]]; then
            verdict="FAILED(exit $rc)"
          elif [[ $mode == check ]]; then
            case $tool in
              leakmark)
                if [[ -s $WORK/ec.json ]]; then
                  local d i p
                  d=$(ec_json_num "$WORK/ec.json" definite_blocks); i=$(ec_json_num "$WORK/ec.json" indirect_blocks)
                  p=$(ec_json_num "$WORK/ec.json" possible_blocks); scan=$(ec_json_num "$WORK/ec.json" scan_ms)
                  found="$d+$i+$p"
                  if ((d + i + p > want_l)); then verdict="FALSE-LEAK"
                  elif ((d != want_d || i != want_i || p != 0)); then verdict="WRONG-COUNTS"; fi
                else verdict="NO-REPORT"; fi ;;
              lsan)
                found=$(sed -n 's/^SUMMARY: LeakSanitizer: [0-9]* byte(s) leaked in \([0-9]*\) allocation(s).*/\1/p;T;q' "$WORK/ec.err")
                found=${found:-0}
                ((found > want_l)) && verdict="FALSE-LEAK"
                ((found < want_l)) && verdict="MISSED" ;;
              valgrind)
                found=$(awk '/definitely lost:|indirectly lost:|possibly lost:/ {
                               for (k = 1; k < NF; k++) if ($k == "in") { gsub(/,/, "", $(k + 1)); s += $(k + 1) } }
                             END { print s + 0 }' "$WORK/ec.err")
                ((found > want_l)) && verdict="FALSE-LEAK"
                ((found < want_l)) && verdict="MISSED" ;;
            esac
          fi
          if [[ $verdict != ok ]] && [[ ! -e $WORK/ec-kept.$tool.$mode.$sz ]]; then
            # keep the evidence of the first failure of each kind
            cp "$WORK/ec.err" "$WORK/ec-kept.$tool.$mode.$sz"
            log "bench: $tool $mode $sz: $verdict; stderr:"; sed -n '1,8p' "$WORK/ec.err" | sed 's/^/    /' >&2
            [[ -s $WORK/ec.json ]] && sed -n '/"summary"/,/}/p' "$WORK/ec.json" | sed 's/^/    /' >&2
          fi
          [[ -z $expect_line ]] && expect_line=$(cat "$WORK/ec.out")
          printf '%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mib" "$blocks" "$dens" "$tool" "$run" "$mode" \
            "$wall" "$rss" "$rc" "$scan" "$found" "$verdict" "$user" >>"$raw"
          printf 'bench: run %d/%d %5s MiB %9s blocks %-8s %-7s %8.3fs %8.1f MiB  %s%s\n' "$run" "$RUNS" "$mib" \
            "$blocks" "$tool" "$mode" "$wall" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$verdict" \
            "$([[ $scan != - ]] && echo "  scan ${scan} ms" || true)" >&2
        done
      done
    done
  done

  awk -F'\t' -v runs="$RUNS" -v sizes="$SIZES" -v out="$OUT" '
  function median(list,   a, i, j, t, k) {
    k = split(list, a, " ")
    if (!k) return ""
    for (i = 2; i <= k; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (k % 2) return a[(k + 1) / 2]
    return (a[k / 2] + a[k / 2 + 1]) / 2
  }
  function minof(list,   a, i, k, m) { k = split(list, a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
  function maxof(list,   a, i, k, m) { k = split(list, a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
  {
    sz = $1 ":" $2 ":" $3; key = sz SUBSEP $4
    mib[sz] = $1; blk[sz] = $2; dens[sz] = $3
    if (!((sz, $4) in has)) { has[sz, $4] = 1; tl[sz] = tl[sz] " " $4 }
    wall[key, $5, $6] = $7; rss[key, $5, $6] = $8; user[key, $5, $6] = $13
    if ($9 != 0) bad[key]++
    if ($6 == "check") { if ($10 != "-") scan[key] = scan[key] " " $10; found[key] = $11 }
    if ($12 != "ok") { verdicts[key] = verdicts[key] " " $12 " (run " $5 ", " $6 ")" }
  }
  END {
    printf "\nexit-time leak check: wall time with the check minus without, paired per run (median of %d)\n", runs
    print "GiB = 2^30 bytes of live heap (requested sizes); budget = 0.3 s/GiB + 0.05 s per million live blocks (issue #3)"
    hdr = sprintf("%-6s %9s %7s %-8s %9s %9s %9s %15s %9s %9s %8s %8s %8s %8s %9s %-9s %s",
                  "MiB", "blocks", "blk_B", "tool", "off_s", "on_s", "delta_s", "delta_min-max", "scan_s",
                  "user_d_s", "s/GiB", "s/Mblk", "budget", "/budget", "drss_MiB", "found", "note")
    print hdr; h = hdr; gsub(/./, "-", h); print h
    if (out != "") print "mib\tblocks\tblock_bytes\tdensity\ttool\truns\toff_s\ton_s\tdelta_s\tdelta_min_s\tdelta_max_s\tscan_s\ts_per_gib\ts_per_mblock\tbudget_s\tdelta_rss_kib\tfound\tnote\tuser_delta_s" > out
    nsz = split(sizes, order, " ")
    for (z = 1; z <= nsz; z++) {
      split(order[z], f, ":"); sz = f[1] ":" f[2] ":" (f[3] == "" ? "0.1" : f[3])
      if (!(sz in mib)) continue
      bsize = int(mib[sz] * 1048576 / blk[sz] / 8) * 8
      gib = blk[sz] * bsize / 1073741824; mblk = blk[sz] / 1e6
      nt = split(tl[sz], tools, " ")
      for (t = 1; t <= nt; t++) {
        key = sz SUBSEP tools[t]
        offl = onl = dl = drl = ul = ""
        for (r = 1; r <= runs; r++) {
          if (!((key, r, "check") in wall) || !((key, r, "nocheck") in wall)) continue
          offl = offl " " wall[key, r, "nocheck"]; onl = onl " " wall[key, r, "check"]
          dl = dl " " (wall[key, r, "check"] - wall[key, r, "nocheck"])
          ul = ul " " (user[key, r, "check"] - user[key, r, "nocheck"])
          drl = drl " " (rss[key, r, "check"] - rss[key, r, "nocheck"])
        }
        if (dl == "") continue
        d = median(dl); sc = median(scan[key])
        budget = 0.3 * gib + 0.05 * mblk
        note = verdicts[key]
        printf "%-6s %9d %7d %-8s %9.3f %9.3f %9.3f %7.3f-%-7.3f %9s %9.3f %8.3f %8.3f %8.3f %8.2f %9.1f %-9s %s\n",
               mib[sz], blk[sz], bsize, tools[t], median(offl), median(onl), d, minof(dl), maxof(dl),
               sc == "" ? "-" : sprintf("%.3f", sc / 1000), median(ul), d / gib, d / mblk, budget, d / budget,
               median(drl) / 1024, found[key], note
        if (out != "")
          printf "%s\t%d\t%d\t%s\t%s\t%d\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%s\t%.6f\t%.6f\t%.6f\t%d\t%s\t%s\t%.6f\n",
                 mib[sz], blk[sz], bsize, dens[sz], tools[t], split(dl, tmp, " "), median(offl), median(onl), d,
                 minof(dl), maxof(dl), sc == "" ? "" : sc / 1000, d / gib, d / mblk, budget, median(drl),
                 found[key], note, median(ul) >> out
        # least squares without intercept: delta = a * GiB + b * Mblocks
        S11[tools[t]] += gib * gib; S12[tools[t]] += gib * mblk; S22[tools[t]] += mblk * mblk
        Y1[tools[t]] += gib * d; Y2[tools[t]] += mblk * d; npt[tools[t]]++
        if (tools[t] == "leakmark") { lmd[sz] = d } else if (tools[t] == "lsan") { lsd[sz] = d }
        if (tools[t] == "leakmark" && sc != "") {   # the check as timed inside the process, free of exit-time noise
          tt = "lm-scan"; sd = sc / 1000
          S11[tt] += gib * gib; S12[tt] += gib * mblk; S22[tt] += mblk * mblk
          Y1[tt] += gib * sd; Y2[tt] += mblk * sd; npt[tt]++
        }
        # user CPU time with the check minus without: the whole check
        # (report included), free of the kernel time of faulting in and
        # tearing down the heap, which swings by seconds on a VM
        ud = median(ul); tt = tools[t] "-user"; udelta[sz, tools[t]] = ud
        S11[tt] += gib * gib; S12[tt] += gib * mblk; S22[tt] += mblk * mblk
        Y1[tt] += gib * ud; Y2[tt] += mblk * ud; npt[tt]++
      }
    }
    print "found: leaked blocks reported (leakmark: definite+indirect+possible); every size plants 1000 (750 definite, 250 indirect)"
    print ""
    print "fit over the sizes, delta_s = a * GiB + b * million blocks (least squares, no intercept):"
    for (tt in npt) {
      if (npt[tt] < 2) continue
      det = S11[tt] * S22[tt] - S12[tt] * S12[tt]
      if (det <= 0) continue
      a = (Y1[tt] * S22[tt] - Y2[tt] * S12[tt]) / det; b = (S11[tt] * Y2[tt] - S12[tt] * Y1[tt]) / det
      printf "  %-8s a = %6.3f s/GiB   b = %6.3f s per million blocks   (%d sizes)\n", tt, a, b, npt[tt]
    }
    print "  (lm-scan: the scan_ms leakmark reports, the check timed inside the process;"
    print "   TOOL-user: user CPU seconds with the check minus without, median of the paired runs)"
    print "  target (issue #3): leakmark <= 0.3 s/GB + 0.05 s per million blocks; preloaded LSan ~0.6 s/GB + 0.5 s per million"
    first = 1
    for (sz in lmd) if (sz in lsd && lsd[sz] > 0) {
      if (first) { print ""; print "leakmark delta / lsan delta:"; first = 0 }
      printf "  %6s MiB %9d blocks: %.2f\n", mib[sz], blk[sz], lmd[sz] / lsd[sz]
    }
  }' "$raw"
  printf '\n%d run(s) per size, tool and mode, interleaved; pointer density as in --sizes (default 0.1); %s\n' \
    "$RUNS" "$(uname -srm), $(nproc) cpus"
  echo "wl_exitcheck's line at the first size: $expect_line"
  if [[ -n $OUT ]]; then echo "TSV written to $OUT"; fi
}

# ---- --dumps: pause and total time of heap dumps ------------------------------------
# raw: mib blocks dens fork_ms seq total_ms pause_ms scan_ms file_bytes live_blocks live_bytes not_stopped
dumps_mode() {
  local dt=$BIN/lm-dumptime wl=$BIN/wl_dumpheap raw=$WORK/dumps.tsv sizes=$SIZES
  local sz mib blocks dens avail fork_ms notes=()
  ((SIZES_SET)) || sizes=$DUMP_SIZES
  if [[ ! -f $LIB ]]; then log "bench: --dumps needs $LIB"; exit 1; fi
  avail=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
  : >"$raw"
  log "bench: heap dumps, $RUNS per size, sizes: $sizes"
  for sz in $sizes; do
    IFS=: read -r mib blocks dens <<<"$sz"
    dens=${dens:-0.1}
    if ((!BIG)) && awk -v m="$mib" -v a="$avail" 'BEGIN { exit !(m >= 4096 && a < 3 * m) }'; then
      notes+=("$mib MiB skipped: MemAvailable $avail MiB is below 3x the heap (use --big)")
      continue
    fi
    rm -rf "$WORK/dumps"; mkdir -p "$WORK/dumps"
    if ! "$dt" -n "$RUNS" -d "$WORK/dumps" -g 500 -e "LD_PRELOAD=$LIB" \
         -e "LEAKMARK_OPTIONS=leak_check=0:dump_path=$WORK/dumps/d.%p.%n.dump" \
         -- "$wl" "$mib" "$blocks" "$dens" >"$WORK/dt.out" 2>"$WORK/dt.err"; then
      log "bench: dumps of $mib MiB in $blocks blocks failed:"; sed -n '1,8p' "$WORK/dt.err" | sed 's/^/    /' >&2
      notes+=("$mib MiB in $blocks blocks: FAILED ($(tail -n 1 "$WORK/dt.err"))")
      continue
    fi
    fork_ms=$(sed -n 's/.* fork_ms=\([0-9.-]*\).*/\1/p' "$WORK/dt.err" | head -n 1)
    awk -v p="$mib	$blocks	$dens	${fork_ms:--}" '{ print p "\t" $0 }' "$WORK/dt.out" >>"$raw"
    awk -F'\t' -v m="$mib" -v b="$blocks" '{ printf "bench: %5s MiB %8s blocks: dump %d pause %8.2f ms total %9.1f ms scan %9.1f ms %10d bytes\n", m, b, $1, $3, $2, $4, $5 }' \
      "$WORK/dt.out" >&2
  done
  for n in "${notes[@]+"${notes[@]}"}"; do echo "note: $n"; done
  awk -F'\t' -v out="$OUT" '
  function median(list,   a, i, j, t, k) {
    k = split(list, a, " ")
    for (i = 2; i <= k; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  function minof(list,   a, i, k, m) { k = split(list, a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
  function maxof(list,   a, i, k, m) { k = split(list, a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
  {
    sz = $1 ":" $2 ":" $3
    if (!(sz in seen)) { seen[sz] = 1; order[++n] = sz; mib[sz] = $1; blk[sz] = $2; fork[sz] = $4 }
    total[sz] = total[sz] " " $6; pause[sz] = pause[sz] " " $7; scan[sz] = scan[sz] " " $8
    bytes[sz] = bytes[sz] " " $9; live[sz] = live[sz] " " $10; lbytes[sz] = lbytes[sz] " " $11
    if ($12 > 0) nstop[sz] += $12
    runs[sz]++
  }
  END {
    print ""
    print "heap dumps (SIGUSR1): median and min-max over the dumps of one process per size"
    print "pause = the dump header'"'"'s pause_ms (program stopped); total = kill() to renamed file; scan = start of the dump to end of the mark"
    hdr = sprintf("%-6s %8s %7s %9s %-17s %9s %-19s %9s %9s %8s %8s %9s %8s  %s",
                  "MiB", "blocks", "blk_B", "live_GiB", "pause_ms min-max", "pause_ms", "total_ms min-max", "total_ms",
                  "scan_ms", "fork_ms", "B/block", "dump_MiB", "ms/GiB", "note")
    print hdr; h = hdr; gsub(/./, "-", h); print h
    if (out != "") print "mib\tblocks\truns\tlive_bytes\tpause_ms\tpause_min_ms\tpause_max_ms\ttotal_ms\ttotal_min_ms\ttotal_max_ms\tscan_ms\tfork_ms\tfile_bytes\tbytes_per_block\tpause_ms_per_gib\tnote" > out
    for (i = 1; i <= n; i++) {
      sz = order[i]
      gib = median(lbytes[sz]) / 1073741824
      p = median(pause[sz]); t = median(total[sz]); fb = median(bytes[sz]); lb = median(live[sz])
      bpb = lb > 0 ? fb / lb : 0
      pg = gib > 0 ? p / gib : 0
      note = ""
      if (gib >= 0.5 && pg > 25) note = note "pause above 25 ms/GiB "
      if (nstop[sz]) note = note nstop[sz] " thread(s) not stopped "
      printf "%-6s %8d %7d %9.3f %8.2f-%-8.2f %9.2f %9.1f-%-9.1f %9.1f %9.1f %8s %8.2f %9.2f %8.1f  %s\n",
             mib[sz], blk[sz], int(mib[sz] * 1048576 / blk[sz] / 8) * 8, gib, minof(pause[sz]), maxof(pause[sz]), p,
             minof(total[sz]), maxof(total[sz]), t, median(scan[sz]), fork[sz], bpb, fb / 1048576, pg, note
      if (out != "")
        printf "%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%d\t%.2f\t%.2f\t%s\n",
               mib[sz], blk[sz], runs[sz], median(lbytes[sz]), p, minof(pause[sz]), maxof(pause[sz]), t,
               minof(total[sz]), maxof(total[sz]), median(scan[sz]), fork[sz], fb, bpb, pg, note >> out
    }
    print "target (issue #4): pause <= 25 ms per GiB of live heap (checked from 0.5 GiB up: below that the fixed cost of stopping the threads dominates)"
  }' "$raw"
  printf '\n%d dump(s) per size, 0.5 s apart, one process per size; %s\n' "$RUNS" "$(uname -srm), $(nproc) cpus"
  if [[ -n $OUT ]]; then echo "TSV written to $OUT"; fi
}

if ((DUMPS)); then
  dumps_mode
  exit 0
fi

if ((EXIT_CHECK)); then
  exit_check_mode
  exit 0
fi

# ---- allocators ---------------------------------------------------------------
# name|LD_PRELOAD|extra env|wrapper (words)|scale kind (main or vg)
MIMALLOC=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
# Extra env: VAR=VALUE words separated by spaces (no spaces inside values).
LM_DEFAULT="LEAKMARK_OPTIONS=leak_check=1"      # everything else at its default
LSAN_ENV="LSAN_OPTIONS=detect_leaks=1:exitcode=0:allocator_may_return_null=1"
CONFIGS=("glibc|||main")
NOTES=()
HAVE_LM=0
if [[ -f $LIB ]] && nm -D --defined-only "$LIB" 2>/dev/null | grep -w malloc >/dev/null; then
  HAVE_LM=1
  CONFIGS+=("leakmark|$LIB|$LM_DEFAULT|main"
            "leakmark-scan1|$LIB|LEAKMARK_OPTIONS=leak_check=1:scan_interval=1|main"
            "leakmark-nocheck|$LIB|LEAKMARK_OPTIONS=leak_check=0|main"
            "leakmark-nostacks|$LIB|LEAKMARK_OPTIONS=stack_depth=0:leak_check=0|main")
else
  NOTES+=("leakmark skipped: $LIB missing or does not export malloc yet")
fi
if [[ -f $MIMALLOC ]]; then CONFIGS+=("mimalloc|$MIMALLOC||main")
else NOTES+=("mimalloc skipped: $MIMALLOC missing (apt-get install libmimalloc2.0)"); fi
if [[ -f $JEMALLOC ]]; then CONFIGS+=("jemalloc|$JEMALLOC||main"); fi
if ((PEERS)); then
  if [[ -f $LSAN ]]; then
    CONFIGS+=("lsan|$LSAN|$LSAN_ENV|main")
    # Its default unwinder follows frame pointers, which Debian's binaries
    # do not keep (cc1's stacks are then 1 frame deep): lsan-dwarf asks for
    # stacks as deep and as right as leakmark's.
    CONFIGS+=("lsan-dwarf|$LSAN|$LSAN_ENV:fast_unwind_on_malloc=0:malloc_context_size=16|main")
  else NOTES+=("lsan skipped: $LSAN missing"); fi
  if command -v heaptrack >/dev/null; then CONFIGS+=("heaptrack|||main|heaptrack")
  else NOTES+=("heaptrack skipped: not installed"); fi
  if command -v valgrind >/dev/null; then
    CONFIGS+=("glibc@vg|||vg")
    ((HAVE_LM)) && CONFIGS+=("leakmark@vg|$LIB|$LM_DEFAULT|vg")
    CONFIGS+=("valgrind|||vg|valgrind")
    NOTES+=("valgrind (memcheck --leak-check=full) runs at scale $VG_SCALE; its ratios are against glibc@vg and leakmark@vg, runs at that scale")
  else NOTES+=("valgrind skipped: not installed"); fi
fi

# ---- inputs of the real programs ----------------------------------------------------
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
cat >"$WORK/alloc.py" <<'EOF'
import sys
n = int(sys.argv[1])
d = {}
for i in range(n):
    d["k%d" % i] = [i, str(i) * 3, {"a": i, "b": (i, i + 1)}]
items = sorted(d.items(), key=lambda kv: kv[1][1])
s = sum(len(k) + len(v[1]) for k, v in items[::7])
for r in range(3):
    t = [(str(i), [i] * 5, "x" * (i % 50)) for i in range(n // 2)]
    s += len(t) + len(t[-1][2])
    del t
del d, items
print(s)
EOF
cat >"$WORK/alloc.pl" <<'EOF'
use strict; use warnings;
my $n = shift;
my %h; my $s = 0;
for my $i (0 .. $n - 1) { $h{"k$i"} = [ $i, "v" x ($i % 40), { a => $i } ]; }
for my $k (sort keys %h) { $s += length($k) + length($h{$k}[1]); }
for my $r (1 .. 3) {
  my @t = map { [ "$_", ($_) x 4 ] } 0 .. $n / 2;
  $s += scalar(@t);
}
print "$s\n";
EOF

# Inputs depend on the scale; made once per scale in $WORK/in-<scale>/.
make_inputs() {
  local s=$1 d=$WORK/in-$1
  [[ -d $d ]] && return 0
  mkdir -p "$d"
  awk -v n="$(awk -v s="$s" 'BEGIN { printf "%d", 600000 * s + 1 }')" 'BEGIN {
        srand(1); split("alpha beta gamma delta eps zeta eta theta iota kappa lambda mu", w, " ")
        for (i = 0; i < n; i++)
          printf "%s %s %07d %s\n", w[int(rand() * 12) + 1], w[int(rand() * 12) + 1],
                 int(rand() * 10000000), substr("abcdefghijklmnopqrstuvwxyz", 1, int(rand() * 26))
      }' >"$d/words.txt"
  head -c "$(awk -v s="$s" 'BEGIN { printf "%d", 2500000 * s + 4096 }')" "$d/words.txt" >"$d/xz.txt"
  awk -v n="$(awk -v s="$s" 'BEGIN { printf "%d", 300 * s + 1 }')" 'BEGIN {
        print "#include <string.h>\nstruct S { int a[16]; double d; char name[32]; };"
        for (i = 0; i < n; i++) {
          printf "int f%d(struct S *s, int k) {\n  int t = 0;\n", i
          printf "  for (int j = 0; j < 16; j++) { t += s->a[j] * (j + %d) ^ k; if (t > %d) t -= k; }\n", i, i * 7
          printf "  switch (k %% 5) { case 0: t += %d; break; case 1: t *= 3; break; case 2: strcpy(s->name, \"n%d\"); break; default: t ^= %d; }\n", i, i, i
          printf "  s->d = s->d * 1.5 + t;\n  return t + (int)strlen(s->name);\n}\n"
        }
      }' >"$d/gen.c"
}

# cmd_for WORKLOAD SCALE: sets CMD (array) and KIND
cmd_for() {
  local w=$1 s=$2 d=$WORK/in-$2
  case $w in
    small|xthread|bigheap|realloc|mixed) KIND=synthetic; CMD=("$BIN/wl_$w" "$s") ;;
    python) KIND=real; CMD=("$PY" "$WORK/alloc.py" "$(awk -v s="$s" 'BEGIN { printf "%d", 300000 * s + 10 }')") ;;
    perl) KIND=real; CMD=(perl "$WORK/alloc.pl" "$(awk -v s="$s" 'BEGIN { printf "%d", 250000 * s + 10 }')") ;;
    sort) KIND=real; make_inputs "$s"; CMD=(sort "$d/words.txt") ;;
    xz) KIND=real; make_inputs "$s"; CMD=(xz -T1 -6 -c "$d/xz.txt") ;;
    gcc) KIND=real; make_inputs "$s"; CMD=(gcc -O2 -c "$d/gen.c" -o "$WORK/gen.o") ;;
    # cc1 alone, as the driver would run it: tools that do not follow exec
    # (heaptrack) see the same process as leakmark here.
    cc1) KIND=real; make_inputs "$s"
         CMD=("$(gcc -print-prog-name=cc1)" -quiet -imultiarch x86_64-linux-gnu -O2 "$d/gen.c" -o "$WORK/gen.s") ;;
    *) echo "bench.sh: unknown workload $w" >&2; exit 2 ;;
  esac
}

WORKLOADS=()
for w in small xthread bigheap realloc mixed python sort xz gcc cc1 perl; do
  [[ -z $ONLY || $w =~ $ONLY ]] && WORKLOADS+=("$w")
done
((${#WORKLOADS[@]})) || { echo "bench.sh: --only matches no workload" >&2; exit 2; }

# ht_strip FILE: remove what heaptrack's wrapper wrote to stdout before and
# after the program's own output.
ht_strip() {
  local f=$1 head="starting application, this might take some time..." tail="Heaptrack finished! Now run"
  local lo hi
  # (no "| head" here: with pipefail, a writer killed by SIGPIPE stops the script)
  lo=$(grep -a -b -o -m 1 -F "$head" "$f" | cut -d: -f1 || true)
  hi=$(grep -a -b -o -F "$tail" "$f" | tail -n 1 | cut -d: -f1 || true)
  [[ -n $lo ]] && lo=$((lo + ${#head} + 1)) || lo=0
  [[ -n $hi ]] || hi=$(stat -c %s "$f")
  ((hi >= lo)) || hi=$lo
  head -c "$hi" "$f" | tail -c +$((lo + 1)) >"$f.strip"
  mv "$f.strip" "$f"
}

# ---- runs -----------------------------------------------------------------------------
RAW=$WORK/raw.tsv
: >"$RAW"
names=""
for c in "${CONFIGS[@]}"; do names+=" ${c%%|*}"; done
log "bench: $RUNS run(s), scale $SCALE, allocators:$names; workloads: ${WORKLOADS[*]}"
for ((run = 1; run <= RUNS; run++)); do
  for w in "${WORKLOADS[@]}"; do
    for c in "${CONFIGS[@]}"; do
      IFS='|' read -r name pre extra sk wrap <<<"$c"
      s=$SCALE; [[ $sk == vg ]] && s=$VG_SCALE
      cmd_for "$w" "$s"
      envargs=()
      [[ -n $pre ]] && envargs+=(-e "LD_PRELOAD=$pre")
      for e in $extra; do envargs+=(-e "$e"); done
      wrapper=()
      case ${wrap:-} in
        heaptrack) wrapper=(heaptrack -o "$WORK/heaptrack.$w.$run") ;;
        valgrind) wrapper=(valgrind --leak-check=full --log-file="$WORK/valgrind.$w.log") ;;
      esac
      rm -f "$WORK/stat"
      "$RUNSTAT" -o "$WORK/stat" "${envargs[@]}" -- "${wrapper[@]}" "${CMD[@]}" \
        >"$WORK/stdout" 2>"$WORK/stderr.$w.$name" || true
      if [[ -s $WORK/stat ]]; then read -r wall rss rc _ <"$WORK/stat"
      else wall=0; rss=0; rc=127; fi
      if [[ ${wrap:-} == heaptrack ]]; then
        # heaptrack's script prints on stdout itself, around the program's
        # output (which may be binary and lack a final newline): cut its
        # lines off by byte offset
        ht_strip "$WORK/stdout"
        rm -f "$WORK/heaptrack.$w.$run"*
      fi
      ck=$(cksum <"$WORK/stdout" | cut -d' ' -f1)
      printf '%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$w" "$KIND" "$name" "$run" "$wall" "$rss" "$rc" "$ck" "$s" >>"$RAW"
      printf 'bench: run %d/%d %-8s %-10s %8.3fs %8.1f MiB%s\n' "$run" "$RUNS" "$w" "$name" \
        "$wall" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$( ((rc)) && echo "  exit $rc" || true)" >&2
      if ((rc)) && ((run == 1)); then
        sed -n '1,5p' "$WORK/stderr.$w.$name" | sed "s/^/    [$name $w] /" >&2
      fi
    done
  done
done

# ---- report ---------------------------------------------------------------------------
order=""
for c in "${CONFIGS[@]}"; do order+="${c%%|*} "; done
worder="${WORKLOADS[*]}"
for n in "${NOTES[@]+"${NOTES[@]}"}"; do echo "note: $n"; done
awk -F'\t' -v order="$order" -v worder="$worder" -v runs="$RUNS" -v scale="$SCALE" -v out="$OUT" '
function median(list, n,   a, i, j, t, k) {
  k = split(list, a, " ")
  for (i = 2; i <= k; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  if (k % 2) return a[(k + 1) / 2]
  return (a[k / 2] + a[k / 2 + 1]) / 2
}
function ratio(a, b) { return (b > 0 && a > 0) ? a / b : "" }
function fmt(r) { return r == "" ? "-" : sprintf("%.2f", r) }
{
  key = $1 SUBSEP $3
  kind[$1] = $2; wall[key] = wall[key] " " $5; rss[key] = rss[key] " " $6
  n[key]++
  if ($7 != 0) { fail[key]++; lastrc[key] = $7 }
  if (!(key in mn) || $5 < mn[key]) mn[key] = $5
  if (!(key in mx) || $5 > mx[key]) mx[key] = $5
  ck[key, $4] = $8; sc[key] = $9; seen[$3] = 1
}
END {
  nc = split(order, cfg, " "); nw = split(worder, wl, " ")
  hdr = sprintf("%-8s %-9s %-17s %9s %17s %7s %9s %8s %8s %8s %8s  %s",
                "workload", "kind", "allocator", "median_s", "min-max_s", "spread", "rss_MiB",
                "t/glibc", "m/glibc", "t/mimal", "m/mimal", "note")
  print ""; print hdr; gsub(/./, "-", hdr); print hdr
  if (out != "") print "workload\tkind\tallocator\tscale\truns\tmedian_s\tmin_s\tmax_s\tmedian_rss_kib\tt_vs_glibc\trss_vs_glibc\tt_vs_mimalloc\trss_vs_mimalloc\tfailed_runs\tnote" > out
  for (i = 1; i <= nw; i++) {
    w = wl[i]
    for (j = 1; j <= nc; j++) {
      c = cfg[j]; key = w SUBSEP c
      if (!(key in n)) continue
      mw[key] = median(wall[key]); mr[key] = median(rss[key])
    }
    for (j = 1; j <= nc; j++) {
      c = cfg[j]; key = w SUBSEP c
      if (!(key in n)) continue
      atvg = (c == "valgrind" || c ~ /@vg$/)
      ref = atvg ? "glibc@vg" : "glibc"
      rk = w SUBSEP ref; mk = w SUBSEP "mimalloc"
      tg = (c == ref) ? "" : ratio(mw[key], mw[rk]); rg = (c == ref) ? "" : ratio(mr[key], mr[rk])
      tm = (c == "mimalloc" || atvg || !(mk in mw)) ? "" : ratio(mw[key], mw[mk])
      rm = (tm == "") ? "" : ratio(mr[key], mr[mk])
      note = ""
      if (fail[key]) note = note sprintf("FAILED %d/%d (exit %d) ", fail[key], n[key], lastrc[key])
      diff = 0
      for (r = 1; r <= runs; r++)
        if (ck[key, r] != "-" && ck[rk, r] != "" && ck[key, r] != ck[rk, r]) diff = 1
      if (diff) note = note "output differs from " ref " "
      if (sc[key] != scale) note = note "scale " sc[key] " "
      if (!fail[key]) {
        if (tg != "") { lt[c, kind[w]] += log(tg); nt[c, kind[w]]++ }
        if (rg != "") { lr[c, kind[w]] += log(rg); nr[c, kind[w]]++ }
        if (tm != "") { ltm[c, kind[w]] += log(tm); ntm[c, kind[w]]++ }
        if (rm != "") { lrm[c, kind[w]] += log(rm); nrm[c, kind[w]]++ }
      }
      spread = mw[key] > 0 ? sprintf("%.0f%%", 100 * (mx[key] - mn[key]) / mw[key]) : "-"
      printf "%-8s %-9s %-17s %9.3f %8.3f-%-8.3f %7s %9.1f %8s %8s %8s %8s  %s\n",
             w, kind[w], c, mw[key], mn[key], mx[key], spread, mr[key] / 1024,
             fmt(tg), fmt(rg), fmt(tm), fmt(rm), note
      if (out != "")
        printf "%s\t%s\t%s\t%s\t%d\t%.6f\t%.6f\t%.6f\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n",
               w, kind[w], c, sc[key], n[key], mw[key], mn[key], mx[key], mr[key],
               tg, rg, tm, rm, fail[key] + 0, note >> out
    }
  }
  print ""
  print "geometric means of the ratios (t = median wall time, m = median peak RSS; failed workloads left out)"
  printf "%-17s %-9s %5s %8s %8s %8s %8s\n", "allocator", "kind", "n", "t/glibc", "m/glibc", "t/mimal", "m/mimal"
  split("synthetic real", kinds, " ")
  for (k = 1; k <= 2; k++)
    for (j = 1; j <= nc; j++) {
      c = cfg[j]; kk = kinds[k]
      if (!nt[c, kk] && !ntm[c, kk]) continue
      g1 = nt[c, kk] ? exp(lt[c, kk] / nt[c, kk]) : ""; g2 = nr[c, kk] ? exp(lr[c, kk] / nr[c, kk]) : ""
      g3 = ntm[c, kk] ? exp(ltm[c, kk] / ntm[c, kk]) : ""; g4 = nrm[c, kk] ? exp(lrm[c, kk] / nrm[c, kk]) : ""
      printf "%-17s %-9s %5d %8s %8s %8s %8s\n", c, kk, (nt[c, kk] > ntm[c, kk] ? nt[c, kk] : ntm[c, kk]), fmt(g1), fmt(g2), fmt(g3), fmt(g4)
      if (out != "")
        printf "GEOMEAN\t%s\t%s\t%s\t%d\t\t\t\t\t%s\t%s\t%s\t%s\t0\t\n", kk, c, scale, nt[c, kk],
               g1, g2, g3, g4 >> out
    }

  # periodic scanning: leakmark-scan1 (scan_interval=1) over leakmark, per workload
  if (("leakmark-scan1" in seen) && ("leakmark" in seen)) {
    print ""
    print "cost of periodic scans (scan_interval=1): leakmark-scan1 median time / leakmark median time (target <= 1.10)"
    for (i = 1; i <= nw; i++) {
      w = wl[i]; a = w SUBSEP "leakmark-scan1"; b = w SUBSEP "leakmark"
      if (!(a in mw) || !(b in mw) || fail[a] || fail[b]) continue
      t = ratio(mw[a], mw[b]); printf "  %-8s %-9s %s\n", w, kind[w], fmt(t)
      if (t != "") { lsc[kind[w]] += log(t); nsc[kind[w]]++ }
    }
    for (kk in nsc) printf "  %-8s %-9s %s\n", "geomean", kk, fmt(exp(lsc[kk] / nsc[kk]))
  }

  # leakmark against the other leak finders: leakmark / peer, per workload
  np = 0
  if (("lsan" in seen) && ("leakmark" in seen)) { np++; pn[np] = "lsan"; pl[np] = "leakmark" }
  if (("lsan-dwarf" in seen) && ("leakmark" in seen)) { np++; pn[np] = "lsan-dwarf"; pl[np] = "leakmark" }
  if (("heaptrack" in seen) && ("leakmark" in seen)) { np++; pn[np] = "heaptrack"; pl[np] = "leakmark" }
  if (("valgrind" in seen) && ("leakmark@vg" in seen)) { np++; pn[np] = "valgrind"; pl[np] = "leakmark@vg" }
  if (!np) exit
  print ""
  print "leakmark (default options: tracking + stacks + exit check) divided by each leak finder:"
  print "t = median wall time, m = median peak RSS; below 1 means leakmark is faster or smaller;"
  print "valgrind is compared with leakmark@vg at the reduced scale; FAIL = one of the two failed"
  line = sprintf("%-8s %-9s", "workload", "kind")
  for (p = 1; p <= np; p++) line = line sprintf(" %9s %9s", "t/" substr(pn[p], 1, 7), "m/" substr(pn[p], 1, 7))
  print line; hdr = line; gsub(/./, "-", hdr); print hdr
  for (i = 1; i <= nw; i++) {
    w = wl[i]; line = sprintf("%-8s %-9s", w, kind[w])
    for (p = 1; p <= np; p++) {
      a = w SUBSEP pl[p]; b = w SUBSEP pn[p]
      if (!(a in mw) || !(b in mw)) { line = line sprintf(" %9s %9s", "-", "-"); continue }
      if (fail[a] || fail[b]) { line = line sprintf(" %9s %9s", "FAIL", "FAIL"); continue }
      t = ratio(mw[a], mw[b]); m = ratio(mr[a], mr[b])
      line = line sprintf(" %9s %9s", fmt(t), fmt(m))
      if (t != "") { plt[p, kind[w]] += log(t); pnt[p, kind[w]]++ }
      if (m != "") { plm[p, kind[w]] += log(m); pnm[p, kind[w]]++ }
      if (out != "")
        printf "PEER\t%s\t%s/%s\t\t\t\t\t\t\t%s\t%s\t\t\t0\t\n", w, pl[p], pn[p], t, m >> out
    }
    print line
  }
  for (k = 1; k <= 2; k++) {
    kk = kinds[k]; line = sprintf("%-8s %-9s", "geomean", kk)
    for (p = 1; p <= np; p++)
      line = line sprintf(" %9s %9s", pnt[p, kk] ? fmt(exp(plt[p, kk] / pnt[p, kk])) : "-",
                          pnm[p, kk] ? fmt(exp(plm[p, kk] / pnm[p, kk])) : "-")
    print line
  }
}' "$RAW"
printf '\n%d run(s) per allocator and workload, interleaved; scale %s; %s\n' "$RUNS" "$SCALE" "$(uname -srm), $(nproc) cpus"
if [[ -n $OUT ]]; then echo "TSV written to $OUT"; fi
