#!/usr/bin/env bash
# bench.sh - time and peak memory of leakmark against glibc malloc, mimalloc
# and jemalloc (and, with --peers, LeakSanitizer, heaptrack and valgrind) on
# synthetic allocation workloads (tests/bench/wl_*.c) and on real programs.
#
#   scripts/bench.sh [-n RUNS] [--quick] [--peers] [--scale X] [--only REGEX]
#                    [--no-build] [-o FILE.tsv]
#
# Every run goes through tests/bench/lm-runstat (fork/execvp/wait4), so wall
# time and ru_maxrss come from the same run.  Runs are interleaved: run 1 of
# every (workload, allocator), then run 2 of each, ... so that drift of the
# machine hits all allocators alike.  Per workload the table shows the median
# wall time, its min-max spread and the median peak RSS of each allocator,
# with ratios against glibc and mimalloc (the leakmark/glibc,
# leakmark/mimalloc and mimalloc/glibc figures are the rows of those two);
# then geometric means of the ratios over the synthetic workloads and over
# the real programs, separately.  The stdout of every run is compared with
# glibc's (the workloads print address-independent checksums): a mismatch
# is flagged in the note column.
#
# Environment: LEAKMARK_BUILD_DIR (default <repo>/build).
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
VG_FACTOR=0.1        # valgrind runs at SCALE * VG_FACTOR

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case $1 in
    -n) RUNS=$2; shift ;;
    --quick) QUICK=1 ;;
    --peers) PEERS=1 ;;
    --scale) SCALE=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-build) DO_BUILD=0 ;;
    -o) OUT=$2; shift ;;
    -h|--help) usage 0 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
  shift
done
if ((QUICK)); then RUNS=${RUNS:-3}; SCALE=${SCALE:-0.25}; fi
RUNS=${RUNS:-5}
SCALE=${SCALE:-1}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: -n needs a positive integer" >&2; exit 2; }
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "bench.sh: --scale needs a number" >&2; exit 2; }
VG_SCALE=$(awk -v s="$SCALE" -v f="$VG_FACTOR" 'BEGIN { printf "%g", s * f }')

export LC_ALL=C
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
for src in "$ROOT"/tests/bench/wl_*.c "$ROOT"/tests/bench/lm-runstat.c; do
  exe=$BIN/$(basename "$src" .c)
  if [[ ! -x $exe || $src -nt $exe ]]; then
    gcc -O2 -g -Wall -Wextra -pthread -o "$exe" "$src" ||
      { log "bench: cannot compile $src"; exit 1; }
  fi
done
RUNSTAT=$BIN/lm-runstat

# ---- allocators ---------------------------------------------------------------
# name|LD_PRELOAD|extra env|wrapper (words)|scale kind (main or vg)
MIMALLOC=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
LSAN=/usr/lib/x86_64-linux-gnu/liblsan.so.0
CONFIGS=("glibc|||main")
NOTES=()
if [[ -f $LIB ]] && nm -D --defined-only "$LIB" 2>/dev/null | grep -qw malloc; then
  CONFIGS+=("leakmark|$LIB||main")
else
  NOTES+=("leakmark skipped: $LIB missing or does not export malloc yet")
fi
if [[ -f $MIMALLOC ]]; then CONFIGS+=("mimalloc|$MIMALLOC||main")
else NOTES+=("mimalloc skipped: $MIMALLOC missing (apt-get install libmimalloc2.0)"); fi
if [[ -f $JEMALLOC ]]; then CONFIGS+=("jemalloc|$JEMALLOC||main"); fi
if ((PEERS)); then
  if [[ -f $LSAN ]]; then CONFIGS+=("lsan|$LSAN|LSAN_OPTIONS=detect_leaks=1|main")
  else NOTES+=("lsan skipped: $LSAN missing"); fi
  if command -v heaptrack >/dev/null; then CONFIGS+=("heaptrack|||main|heaptrack")
  else NOTES+=("heaptrack skipped: not installed"); fi
  if command -v valgrind >/dev/null; then
    CONFIGS+=("glibc@vg|||vg" "valgrind|||vg|valgrind")
    NOTES+=("valgrind (memcheck --leak-check=full) runs at scale $VG_SCALE; its ratios are against glibc@vg, a plain run at that scale")
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
    *) echo "bench.sh: unknown workload $w" >&2; exit 2 ;;
  esac
}

WORKLOADS=()
for w in small xthread bigheap realloc mixed python sort xz gcc perl; do
  [[ -z $ONLY || $w =~ $ONLY ]] && WORKLOADS+=("$w")
done
((${#WORKLOADS[@]})) || { echo "bench.sh: --only matches no workload" >&2; exit 2; }

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
      [[ -n $extra ]] && envargs+=(-e "$extra")
      wrapper=()
      case ${wrap:-} in
        heaptrack) wrapper=(heaptrack -o "$WORK/heaptrack.$w.$run") ;;
        valgrind) wrapper=(valgrind --leak-check=full --log-file="$WORK/valgrind.$w.log") ;;
      esac
      rm -f "$WORK/stat"
      "$RUNSTAT" -o "$WORK/stat" "${envargs[@]}" -- "${wrapper[@]}" "${CMD[@]}" \
        >"$WORK/stdout" 2>"$WORK/stderr.$w.$name" || true
      if [[ -s $WORK/stat ]]; then read -r wall rss rc <"$WORK/stat"
      else wall=0; rss=0; rc=127; fi
      ck=$(cksum <"$WORK/stdout" | cut -d' ' -f1)
      [[ ${wrap:-} == heaptrack ]] && ck=-      # heaptrack prints on stdout itself
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
  ck[key, $4] = $8; sc[key] = $9
}
END {
  nc = split(order, cfg, " "); nw = split(worder, wl, " ")
  hdr = sprintf("%-8s %-9s %-10s %9s %17s %7s %9s %8s %8s %8s %8s  %s",
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
      ref = (c == "valgrind" || c == "glibc@vg") ? "glibc@vg" : "glibc"
      rk = w SUBSEP ref; mk = w SUBSEP "mimalloc"
      tg = (c == ref) ? "" : ratio(mw[key], mw[rk]); rg = (c == ref) ? "" : ratio(mr[key], mr[rk])
      tm = (c == "mimalloc" || c == "valgrind" || c == "glibc@vg" || !(mk in mw)) ? "" : ratio(mw[key], mw[mk])
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
      printf "%-8s %-9s %-10s %9.3f %8.3f-%-8.3f %7s %9.1f %8s %8s %8s %8s  %s\n",
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
  printf "%-10s %-9s %5s %8s %8s %8s %8s\n", "allocator", "kind", "n", "t/glibc", "m/glibc", "t/mimal", "m/mimal"
  split("synthetic real", kinds, " ")
  for (k = 1; k <= 2; k++)
    for (j = 1; j <= nc; j++) {
      c = cfg[j]; kk = kinds[k]
      if (!nt[c, kk] && !ntm[c, kk]) continue
      g1 = nt[c, kk] ? exp(lt[c, kk] / nt[c, kk]) : ""; g2 = nr[c, kk] ? exp(lr[c, kk] / nr[c, kk]) : ""
      g3 = ntm[c, kk] ? exp(ltm[c, kk] / ntm[c, kk]) : ""; g4 = nrm[c, kk] ? exp(lrm[c, kk] / nrm[c, kk]) : ""
      printf "%-10s %-9s %5d %8s %8s %8s %8s\n", c, kk, (nt[c, kk] > ntm[c, kk] ? nt[c, kk] : ntm[c, kk]), fmt(g1), fmt(g2), fmt(g3), fmt(g4)
      if (out != "")
        printf "GEOMEAN\t%s\t%s\t%s\t%d\t\t\t\t\t%s\t%s\t%s\t%s\t0\t\n", kk, c, scale, nt[c, kk],
               g1, g2, g3, g4 >> out
    }
}' "$RAW"
printf '\n%d run(s) per allocator and workload, interleaved; scale %s; %s\n' "$RUNS" "$SCALE" "$(uname -srm), $(nproc) cpus"
if [[ -n $OUT ]]; then echo "TSV written to $OUT"; fi
