/*
 * libc_blocks - blocks that libc allocated on the program's behalf, then
 * lost by the program:
 *   strdup of a 26-character string    -> 27 bytes (leak_strdup)
 *   the buffer getline() allocated     -> glibc asks for 120 bytes for a
 *                                         short first line (leak_getline);
 *                                         asserted only as >= 12 (the line
 *                                         "hello, leak\n" plus NUL)
 * The getline stream is an fmemopen over a static string, closed before
 * the end (fclose frees libc's own FILE blocks), so the buffer is the only
 * libc block left and only the program pointed to it.
 * Expected: definite 2 blocks; an entry of 27 bytes; definite_bytes >= 39.
 * Made and dropped in their own functions; main clobbers the stack.
 */
#define _GNU_SOURCE
#include "leaks_common.h"

#include <string.h>

static char text[] = "hello, leak\nsecond line\n";

LK_NOINLINE void leak_strdup(void)
{
    char *s = strdup("abcdefghijklmnopqrstuvwxyz");
    LK_REQUIRE(s != NULL && strlen(s) == 26);
}

LK_NOINLINE void leak_getline(void)
{
    FILE *f = fmemopen(text, strlen(text), "r");
    LK_REQUIRE(f != NULL);
    char *line = NULL;
    size_t cap = 0;
    LK_REQUIRE(getline(&line, &cap, f) == 12);
    LK_REQUIRE(line != NULL && cap >= 13);
    fclose(f);
}

int main(void)
{
    leak_strdup();
    leak_getline();
    lk_clobber_stack();
    return 0;
}
