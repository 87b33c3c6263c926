/*
 * cxx_new_array - C++ array allocations leaked:
 *   new int[25]      100 bytes (no array cookie for a trivially
 *                    destructible type);
 *   new Obj[3]       3 * 16 + 8 = 56 bytes: a type with a destructor gets
 *                    an 8-byte element-count cookie in front, and the
 *                    pointer the program holds is block + 8.  Lost anyway,
 *                    so definite - the size reported is what operator new[]
 *                    was asked for.
 * Expected: definite 2 blocks / 156 bytes (entries of 100 and 56 bytes).
 * Allocated and dropped in leak_ints / leak_objs; main clobbers the stack.
 */
#include "leaks_common.h"

struct Obj {
    long a, b;
    ~Obj() { a = b = 0; }
};
static_assert(sizeof(Obj) == 16, "expected numbers assume 16-byte objects");

extern "C" LK_NOINLINE void leak_ints()
{
    int *p = new int[25];
    for (int i = 0; i < 25; i++)
        p[i] = i;
}

extern "C" LK_NOINLINE void leak_objs()
{
    Obj *o = new Obj[3];
    for (int i = 0; i < 3; i++)
        o[i].a = o[i].b = 0x5a5a;
}

int main()
{
    leak_ints();
    leak_objs();
    lk_clobber_stack();
    return 0;
}
