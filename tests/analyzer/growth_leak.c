/*
 * growth_leak.c - a small request loop whose heap grows and leaks, dumped
 * after every round: the real dump series of the html test (html.py) and
 * of the README's picture.
 *
 *   growth_leak DUMPDIR ROUNDS     (run with dump_path=DUMPDIR/heap.%n.dump)
 *
 * Each round handles REQUESTS requests.  A request allocates a session
 * and its connection, which point to each other, parses headers into a
 * buffer and builds a reply (freed).  Two sessions in three go into a
 * cache (reachable from a global list); the third is dropped, so it and
 * its connection leak as a two-block cycle.  One header buffer in four is
 * never freed (a plain definite leak).  After each round the program
 * raises SIGUSR1 and waits until DUMPDIR/heap.<round>.dump exists, so
 * live and leaked bytes grow strictly from one dump to the next.  Exit
 * status 3 when a dump did not appear within 10 s (without the preload,
 * SIGUSR1 simply ends the program).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUESTS 12

struct conn;
struct session {
    struct conn *conn;
    struct session *next_cached;
    char user[48];
    char data[200];
};
struct conn {
    struct session *owner;
    char buf[112];
};

static struct session *cache;

__attribute__((noinline)) static void *xalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    memset(p, 0, n);
    return p;
}

__attribute__((noinline)) static struct session *new_session(int id)
{
    struct session *s = xalloc(sizeof *s);
    snprintf(s->user, sizeof s->user, "user-%d", id);
    s->conn = xalloc(sizeof *s->conn);
    s->conn->owner = s;
    return s;
}

__attribute__((noinline)) static char *parse_headers(int id)
{
    size_t n = 64 + (size_t)(id % 7) * 32;
    char *h = xalloc(n);
    snprintf(h, n, "GET /item/%d HTTP/1.1", id);
    return h;
}

__attribute__((noinline)) static char *build_reply(const struct session *s, const char *h)
{
    char *r = xalloc(1024);
    snprintf(r, 1024, "200 OK for %s: %s", s->user, h);
    return r;
}

__attribute__((noinline)) static void handle_request(int id)
{
    struct session *s = new_session(id);
    char *h = parse_headers(id);
    free(build_reply(s, h));
    if (id % 3 != 2) {
        s->next_cached = cache;
        cache = s;
    }
    if (id % 4 != 3)
        free(h);
}

__attribute__((noinline)) static int serve_round(const char *dir, int round)
{
    for (int i = 0; i < REQUESTS; i++)
        handle_request(round * REQUESTS + i);
    char path[4096];
    snprintf(path, sizeof path, "%s/heap.%d.dump", dir, round);
    raise(SIGUSR1);
    for (int i = 0; i < 1000 && access(path, F_OK) != 0; i++)
        usleep(10000);
    return access(path, F_OK) == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[2]) < 1) {
        fprintf(stderr, "usage: growth_leak DUMPDIR ROUNDS\n");
        return 2;
    }
    for (int r = 0; r < atoi(argv[2]); r++) {
        if (serve_round(argv[1], r))
            return 3;
        usleep(100000);
    }
    return 0;
}
