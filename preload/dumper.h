/*
 * dumper.h - heap dumps on demand: the dump signal (dump_signal, SIGUSR1 by
 * default), leakmark's dumper thread, the snapshot (stop the world, fork a
 * copy-on-write child, restart) and lm_dump_now for the API and tests.
 * See dumper.c for the protocol and its safety argument; dump.h for what
 * the file holds.
 */
#ifndef LM_DUMPER_H
#define LM_DUMPER_H

#include "internal.h"

#include <leakmark/dump_format.h>
#include <signal.h>

/* Parses a dump_signal value: "SIGUSR1", "USR1", "usr1", "10", "RTMIN+3",
 * "SIGRTMAX-2"; "0" or "" -> *sig = 0 (off).  Returns 0, or EINVAL for
 * anything else (unknown name, out of range, SIGKILL/SIGSTOP, glibc's
 * internal signals 32/33). */
int lm_dumper_parse_signal(const char *text, int *sig);
/* "SIGUSR1", "SIGRTMIN+3", ... into buf. */
void lm_dumper_signal_name(int sig, char *buf, size_t cap);

/* libleakmark.so's constructor: parses dump_signal (a bad value: one
 * lm_log line, dumps off), installs the handler unless the signal already
 * has one (inherited SIG_IGN: one line, off) and starts the dumper thread.
 * Idempotent. */
void lm_dumper_start(void);
/* The armed signal, 0 when signal dumps are off. */
int lm_dumper_signal(void);

/* One dump now, on the calling thread: stop, snapshot, restart, then wait
 * for the child that marks and writes dump_path.  Returns 0 or an errno
 * value (also logged).  Safe to call from any program thread (not from a
 * signal handler); concurrent calls run one after the other. */
int lm_dump_now(enum lm_dump_trigger trigger);

/* Statistics of the last dump this process completed (for tests and
 * verbosity >= 2 logs). */
struct lm_dump_last {
    uint32_t seq;
    int err;
    uint64_t pause_ns, scan_ns, bytes, blocks;
    char path[256];
};
void lm_dump_last_get(struct lm_dump_last *out);

/* Interposition (interpose.c exports sigaction / signal / sysv_signal and
 * their aliases and forwards here): the program's own handler for the
 * dump signal wins - installing one turns signal dumps off (one lm_log
 * line); SIG_DFL is recorded as the program's view and our handler stays.
 * Queries return the program's view, never our handler. */
int lm_dumper_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
enum lm_signal_flavour { LM_SIGNAL_BSD, LM_SIGNAL_SYSV };
__sighandler_t lm_dumper_signal_call(int sig, __sighandler_t h, enum lm_signal_flavour f);

/* 1 when the dumper thread holds a slot in the thread registry (it never
 * captures stacks, so init.c's fork handler does not count it). */
unsigned lm_dumper_thread_registered(void);

/* Serialises a whole leak check (leakcheck.c) with snapshots: a snapshot
 * child must not inherit the report's locks half-held. */
void lm_dumper_lock(void);
void lm_dumper_unlock(void);

/* fork child (init.c): a fresh dumper thread for the child. */
void lm_dumper_atfork_child(void);

#endif
