/*
 * leakcheck.h - the leak check: stop the world, gather the roots, mark,
 * report.  Run once at exit (exit(), return from main, _exit/_Exit called
 * by the program) and, later, on demand.
 */
#ifndef LM_LEAKCHECK_H
#define LM_LEAKCHECK_H

#include "internal.h"

/* Runs a check now.  trigger: "exit", "signal", "api" or "periodic".
 * Returns the number of leaked blocks (definite + indirect) or -1 when no
 * check ran (leak_check=0, a vfork child, or an error, which is logged). */
long lm_leakcheck_run(const char *trigger);

/* Arms the exit-time check: called by libleakmark.so's constructor (the
 * unit tests link the same code statically and must not run it). */
void lm_leakcheck_arm_exit(void);

/* The exit-time check: once per process, never in a vfork/clone child
 * that shares the parent's memory.  Applies exitcode=N. */
void lm_leakcheck_at_exit(void);

struct lm_roots;
struct lm_mark_result;

/* With the world stopped: every registered thread's saved registers, its
 * stack from the saved SP (a copy, for a thread that did not stop), its
 * static TLS; the thread table itself excluded.  Shared by the exit check
 * and the dump snapshot. */
void lm_leakcheck_thread_roots(struct lm_roots *r);
/* After the mark: glibc's DTVs (allocated by ld.so, held through an
 * interior pointer) count as reachable. */
void lm_leakcheck_forgive_loader(struct lm_mark_result *res);

/* Process identity, for telling a fork child (atfork handler ran: a
 * process of its own) from a vfork child (shares our memory: hands off). */
void lm_leakcheck_set_pid(void);
void lm_leakcheck_atfork_child(void);

#endif
