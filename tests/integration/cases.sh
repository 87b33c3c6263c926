# cases.sh - the programs the integration tests run, one case per ctest.
# Sourced by run_compare.sh (see there for the protocol); not a program.
#
# For a case NAME:
#   prepare_NAME ARGS...  optional; runs once, without the preload, in the
#                         empty directory $LM_DATA, to generate input files.
#   run_NAME ARGS...      runs once per plain or preloaded run, in a fresh
#                         empty directory (the current one, also $HOME), with
#                         a fixed environment.  Everything it prints, and its
#                         exit status, must be the same in every run: the
#                         harness runs it plainly twice to check that.
# ARGS are the extra arguments given to run_compare.sh (CMake passes the
# paths of the programs it built).  $LM_SRC is this directory.
#
# Keep runs deterministic without normalising output: fixed seeds, fixed
# dates, sorted hash iteration, and `exec` for a program that may die by a
# signal (bash would otherwise print a "Terminated" line with a PID).
#
# reports_NAME (a variable, optional): what the JSON leak reports of each
# preloaded run must show, beyond "every lm.<pid>.json is valid schema 1 and
# holds its own pid" (always checked).  Words:
#   main    the top-level process (the run's shell, which execs the program
#           or runs the case's commands) wrote a report.  Absent only where
#           it cannot: a process killed by a signal runs no exit check.
#   children  at least one report from another process: the case forks
#           processes that report for themselves, each in its own file.
#   stable  the reports' summary numbers (every count and byte total, not
#           the timings) are the same in every preloaded run.  Only for
#           cases whose allocations do not depend on thread scheduling,
#           pids, hash seeds, time or how far a pipe's reader read.
#   stable-leaks  the same, for the leak numbers only: definite and
#           indirect blocks and bytes, and cycles.  For a program whose
#           heap varies a little from run to run (randomised hash seeds)
#           while what it leaks does not.
# Unset means "main".  Every run's numbers are printed, so a case left
# without a stable word still shows how its numbers move.

# -- python3: threads, json, sqlite3 (:memory:), zlib, hashlib, gc ----------
# Single process (exec).  Its heap size varies a little from run to run:
# str/bytes hashing is randomised per process and -I ignores PYTHONHASHSEED,
# so dict and set layouts differ; what it leaks does not.
reports_python="main stable-leaks"
run_python() {
    exec /usr/bin/python3 -I -B "$LM_SRC/workload.py"
}

# -- perl: hashes, regexes, sort, sprintf ----------------------------------
# Single process.  Perl randomises its hash seed per process (PERL_HASH_SEED
# unset), which moves possible/reachable/live by a few blocks.  Its leaks
# (about 34 definite blocks) are not required to be stable either: with
# addresses and seeds changing per run, a stale copy of a pointer can now and
# then make a leaked block look reachable (a conservative scan's nature; seen
# once in several hundred runs), which would make this test flaky.
reports_perl="main"
run_perl() {
    exec /usr/bin/perl "$LM_SRC/workload.pl"
}

# -- bash: pipelines, subshells, process substitution, jobs ----------------
# Forks subshells and runs ~20 commands; pids and job timing reach the
# top-level shell's heap (its variables), so no stable numbers.
reports_bash="main children"
run_bash() {
    exec /bin/bash "$LM_SRC/workload.sh"
}

# -- git: a generated repository with fixed identities and dates -----------
# ~90 processes (git runs git, pipelines end early on head/sed -n): the
# number of reports varies by one or two when a writer dies by SIGPIPE
# before its exit check, and git gc is threaded.  No stable numbers.
reports_git="main children"
run_git() {
    export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
    export GIT_AUTHOR_NAME="Ada Author" GIT_AUTHOR_EMAIL=ada@example.org
    export GIT_COMMITTER_NAME="Carl Committer" GIT_COMMITTER_EMAIL=carl@example.org
    local day
    git init -q -b main repo && cd repo || return
    git config user.useConfigOnly true
    for day in 01 02 03 04 05 06; do
        export GIT_AUTHOR_DATE="2024-01-$day 12:00:00 +0000" GIT_COMMITTER_DATE="2024-01-$day 13:00:00 +0000"
        seq 1 $((day * 400)) | awk -v d="$day" '{ print "line " $1 " of day " d }' > "file$day.txt"
        seq 1 2000 | awk -v d="$day" '{ print ($1 % d == 0) ? "changed " d : "same " $1 }' > common.txt
        mkdir -p "dir$((10#$day % 3))" && echo "day $day" > "dir$((10#$day % 3))/note.txt"
        git add -A && git commit -q -m "day $day" -m "Adds file$day.txt and rewrites common.txt."
        if [ "$day" = 03 ]; then
            git tag -a v1 -m "version one"
            git checkout -q -b side
            echo "side work" > side.txt && git add side.txt && git commit -q -m "side branch"
            git checkout -q main
        fi
    done
    export GIT_COMMITTER_DATE="2024-01-07 09:00:00 +0000" GIT_AUTHOR_DATE="2024-01-07 09:00:00 +0000"
    git merge -q --no-edit side
    git log --graph --stat --format='%H %an <%ae> %ad%n  %s%n  committed by %cn at %cd' --date=iso-strict
    git log --format='%h %s' v1..main
    git diff --stat v1 main
    git diff HEAD~3 HEAD -- common.txt | head -60
    git show --format=fuller HEAD~1 | head -30
    git blame -s common.txt | sed -n '1,12p'
    git grep -c "day 05"
    git describe --tags
    git rev-list --count --all
    git -c pack.threads=2 gc -q --aggressive
    git count-objects -v | grep -v '^size'   # sizes depend on the pack
    git fsck --full --strict && echo "fsck ok"
    git archive --format=tar HEAD | tar -tf - | sort
}

# -- gcc: compile a generated C file and run the result --------------------
prepare_gcc() {
    # 500 functions with loops, switch statements and string tables: enough
    # work for cc1's own allocator and GC.
    awk 'BEGIN {
        print "#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>";
        for (f = 0; f < 500; f++) {
            printf "static const char *names%d[] = { \"a%d\", \"bb%d\", \"ccc%d\" };\n", f, f, f, f;
            printf "static long fn%d(long x) {\n  long acc = %d;\n", f, f;
            printf "  for (int i = 0; i < %d; i++) {\n    switch ((x + i) %% 4) {\n", 3 + f % 7;
            printf "    case 0: acc += x * %d; break;\n    case 1: acc ^= (long)strlen(names%d[i %% 3]); break;\n", f % 13 + 1, f;
            printf "    case 2: acc = acc * 31 + i; break;\n    default: acc -= %d;\n    }\n  }\n", f % 17;
            printf "  return acc %% 1000003;\n}\n";
        }
        print "int main(int argc, char **argv) {\n  long x = argc > 1 ? atol(argv[1]) : 7, sum = 0;";
        for (f = 0; f < 500; f++) printf "  sum += fn%d(x + %d);\n", f, f;
        print "  printf(\"sum %ld\\n\", sum);\n  return (int)(sum % 256) == 0;\n}";
    }' > "$LM_DATA/gen.c"
}
# The gcc driver forks cc1, as, collect2 and ld: each reports for itself.
reports_gcc="main children"
run_gcc() {
    cp "$LM_DATA/gen.c" gen.c
    gcc -std=gnu11 -O2 -g -Wall -Wextra -c gen.c -o gen.o || return
    gcc -O0 -c "$LM_SRC/../programs/signals.c" -o signals.o || return
    gcc gen.o -o gen || return
    ./gen 11
    ./gen 12345
    sha256sum gen.o signals.o gen
}

# -- sort --parallel=2 on ~50 MB -------------------------------------------
prepare_sort() {
    awk 'BEGIN {
        srand(20240611);
        for (i = 0; i < 1400000; i++)
            printf "%08d %s %.6f line-%d\n", int(rand() * 100000000),
                   substr("abcdefghijklmnopqrstuvwxyz", int(rand() * 22) + 1, 5), rand(), i;
    }' > "$LM_DATA/big.txt"
}
# sort --parallel=2 is threaded: its heap depends on scheduling.
reports_sort="main children"
run_sort() {
    mkdir -p tmp
    # Default buffer: sort first asks malloc for a huge block and copes
    # with NULL; then a small buffer, which forces temporary files and merges.
    LC_ALL=C sort --parallel=2 "$LM_DATA/big.txt" | sha256sum
    LC_ALL=C sort --parallel=2 -S 8M -T tmp -k2,2 -k3,3r "$LM_DATA/big.txt" | sha256sum
    LC_ALL=C.UTF-8 sort --parallel=2 -S 32M -T tmp -n -u "$LM_DATA/big.txt" | tail -2
    ls tmp | wc -l
}

# -- xz -T2: compress, list, decompress, compare ---------------------------
prepare_xz() {
    awk 'BEGIN {
        srand(7);
        for (i = 0; i < 300000; i++)
            printf "%d %s %x\n", i, substr("lorem ipsum dolor sit amet consectetur", int(rand() * 30) + 1, 8), int(rand() * 65536);
    }' > "$LM_DATA/in.txt"
}
# xz -T2 is threaded: its heap depends on scheduling.
reports_xz="main children"
run_xz() {
    cp "$LM_DATA/in.txt" in.txt
    xz -T2 -2 --block-size=1MiB -k in.txt || return
    xz -l in.txt.xz
    sha256sum in.txt.xz
    xz -T2 -dc in.txt.xz > out.txt || return
    cmp in.txt out.txt && echo "round trip ok"
    xz -T2 -2e --format=xz --check=sha256 -c in.txt | xz -T2 -d | sha256sum
    sha256sum in.txt
}

# -- sqlite3, the command-line shell: a file database, an index, joins, ----
# -- recursive CTEs, JSON, window functions, a rolled-back transaction -------
prepare_sqlite3() {
    awk 'BEGIN {
        srand(11);
        print "BEGIN;";
        print "CREATE TABLE t(id INTEGER PRIMARY KEY, grp TEXT, v REAL, s TEXT);";
        for (i = 0; i < 60000; i++)
            printf "INSERT INTO t(grp, v, s) VALUES (%cg%d%c, %.4f, %c%s%c);\n", 39, i % 37, 39, rand() * 1000,
                   39, substr("abcdefghijklmnopqrstuvwxyz", int(rand() * 20) + 1, 6), 39;
        print "COMMIT;";
    }' > "$LM_DATA/load.sql"
    cat > "$LM_DATA/query.sql" <<'SQL'
CREATE INDEX t_grp ON t(grp);
SELECT grp, COUNT(*), printf('%.2f', SUM(v)) FROM t GROUP BY grp ORDER BY grp LIMIT 5;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
    SELECT COUNT(*), SUM(x) FROM c;
SELECT a.grp, COUNT(*) FROM t a JOIN t b ON a.grp = b.grp AND a.id < b.id
    WHERE a.id % 101 = 0 AND b.id % 103 = 0 GROUP BY a.grp ORDER BY a.grp LIMIT 3;
SELECT json_group_array(json_object('id', id, 's', s)) FROM (SELECT id, s FROM t ORDER BY id LIMIT 3);
SELECT id, grp, rank() OVER (PARTITION BY grp ORDER BY v DESC) FROM t WHERE id <= 200 ORDER BY id LIMIT 5;
BEGIN;
DELETE FROM t WHERE id % 2 = 0;
SELECT COUNT(*) FROM t;
ROLLBACK;
SELECT COUNT(*), group_concat(DISTINCT substr(s, 1, 1)) FROM t;
PRAGMA integrity_check;
SQL
}
reports_sqlite3="main children stable"
run_sqlite3() {
    sqlite3 -batch db.sqlite < "$LM_DATA/load.sql" || return
    sqlite3 -batch db.sqlite < "$LM_DATA/query.sql" || return
    sqlite3 -batch db.sqlite .dump | sha256sum
    sqlite3 -batch -json :memory: "SELECT 1 AS one, 'two' AS two;"
}

# -- programs built by tests/programs --------------------------------------
# Threads, but it joins them all and frees what they made before exit.  Its
# leaks (none) must be stable; the reachable counts are not required to be:
# thread timing decides what the runtime keeps around.
reports_cxx_threads_regex="main stable-leaks"
run_cxx_threads_regex() { exec "$1"; }
# The program dies by SIGTERM (default action): no exit check, so no report
# of its own; the child it forks exits with _exit and must report.
reports_signals="children stable"
run_signals() { exec "$1"; }
reports_leak_demo="main stable"
run_leak_demo() { exec "$1"; }
