/*
 * e2e_leak.c - a program for the end-to-end analyzer test (e2e.sh): it
 * leaks a 3-cycle, a plain block and a root holding two blocks, keeps one
 * block reachable, asks for a heap dump with SIGUSR1, waits until the dump
 * file (argv[1]) exists, then exits (the exit check reports the same heap).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node { struct node *next; char pad[24]; };

__attribute__((noinline)) static void make_cycle(void)
{
    struct node *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);
    a->next = b;
    b->next = c;
    c->next = a;
}

__attribute__((noinline)) static void make_plain(void)
{
    void *p = malloc(100);
    memset(p, 1, 100);
}

__attribute__((noinline)) static void make_tree(void)
{
    void **r = malloc(16);
    r[0] = malloc(40);
    r[1] = malloc(50);
}

void *e2e_keep;

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    make_cycle();
    make_plain();
    make_tree();
    e2e_keep = malloc(64);
    raise(SIGUSR1);
    for (int i = 0; i < 1000 && access(argv[1], F_OK) != 0; i++)
        usleep(10000);
    return access(argv[1], F_OK) == 0 ? 0 : 3;
}
