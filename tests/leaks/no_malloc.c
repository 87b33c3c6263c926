/*
 * no_malloc.c - a program that never calls malloc (no stdio either): no
 * heap, no registered thread, and with dump_signal=0 no leakmark thread
 * either.  The exit check must still run and finish (it once waited for
 * ever on its own mapping lock while creating the thread table), with
 * nothing leaked.  With an argument the program leaves through _exit.
 */
#include <unistd.h>

int main(int argc, char **argv)
{
    (void)argv;
    static const char msg[] = "no malloc\n";
    if (write(1, msg, sizeof msg - 1) < 0)
        return 1;
    if (argc > 1)
        _exit(0);
    return 0;
}
