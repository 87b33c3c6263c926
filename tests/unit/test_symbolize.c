/*
 * test_symbolize.c - preload/symbolize.h: pcs of this test binary resolve
 * to their (static) function, to this file and to the right line (the
 * tests build with -g); a libc function resolves to its name and libc's
 * path; unknown pcs give module "?" without crashing; the per-session
 * cache resolves a pc once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backtrace.h"
#include "symbolize.h"

#define NOIPA __attribute__((noinline, noipa))

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static NOIPA uintptr_t return_address(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

/* Returns the return address of a call made on line *line. */
static NOIPA uintptr_t call_site(int *line)
{
    uintptr_t pc = return_address(); *line = __LINE__;
    return pc;
}

static void test_own_function_and_line(void **state)
{
    (void)state;
    int line = 0;
    uintptr_t pc = call_site(&line);
    lm_symbolize_begin();
    struct lm_sym s;
    assert_true(lm_symbolize(pc, true, &s));
    assert_non_null(s.function);
    assert_string_equal(s.function, "call_site");           /* a static function */
    assert_true(pc > s.fn_start && pc - s.fn_start < 4096);
    assert_non_null(s.file);
    assert_true(ends_with(s.file, "test_symbolize.c"));
    assert_int_equal(s.line, line);
    assert_string_equal(s.module, lm_exe_path());
    assert_true(ends_with(s.module, "/test_symbolize"));
    /* offset = pc - bias is the ELF vaddr: for the PIE test binary the load
     * bias is where the file is mapped, so the offset is small */
    assert_true(pc - s.bias < ((uintptr_t)64 << 20));
    lm_symbolize_end();
}

/* A captured stack (backtrace.h): frame 0 is in the capturing function. */
static NOIPA int capture_here(uintptr_t *pcs, int *line)
{
    int n = lm_backtrace(pcs, 8, 0); *line = __LINE__;
    return n;
}

static void test_captured_frame(void **state)
{
    (void)state;
    uintptr_t pcs[8];
    int line = 0;
    int n = capture_here(pcs, &line);
    assert_true(n >= 2);
    lm_symbolize_begin();
    struct lm_sym s;
    assert_true(lm_symbolize(pcs[0], true, &s));
    assert_string_equal(s.function, "capture_here");
    assert_int_equal(s.line, line);
    assert_true(lm_symbolize(pcs[1], true, &s));
    assert_string_equal(s.function, "test_captured_frame");
    assert_true(ends_with(s.file, "test_symbolize.c"));
    lm_symbolize_end();
}

static void test_libc_function(void **state)
{
    (void)state;
    uintptr_t fn = (uintptr_t)&getppid;
    lm_symbolize_begin();
    struct lm_sym s;
    assert_true(lm_symbolize(fn + 1, false, &s));
    assert_non_null(s.function);
    assert_non_null(strstr(s.function, "getppid"));
    assert_int_equal(s.fn_start, fn);
    assert_non_null(strstr(s.module, "libc.so"));
    assert_int_equal(s.module[0], '/');
    assert_true(fn > s.bias);
    /* a versioned symbol ("__libc_start_main@@GLIBC_2.34" in .symtab) is
     * printed without its version */
    uintptr_t lsm = (uintptr_t)dlsym(RTLD_DEFAULT, "__libc_start_main");
    assert_true(lsm != 0);
    assert_true(lm_symbolize(lsm + 2, true, &s));
    assert_string_equal(s.function, "__libc_start_main");
    assert_int_equal(s.fn_start, lsm);
    lm_symbolize_end();
}

static void test_unknown_pcs(void **state)
{
    (void)state;
    void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(anon != MAP_FAILED);
    uintptr_t pcs[] = { 0, 1, 0x10, (uintptr_t)anon + 16, UINTPTR_MAX };
    lm_symbolize_begin();
    for (size_t i = 0; i < sizeof pcs / sizeof pcs[0]; i++) {
        struct lm_sym s;
        bool found = lm_symbolize(pcs[i], true, &s);
        if (found) print_error("pc %#lx: module %s\n", (unsigned long)pcs[i], s.module);
        assert_false(found);
        assert_string_equal(s.module, "?");
        assert_int_equal(s.bias, 0);                 /* offset = pc */
        assert_null(s.function);
        assert_null(s.file);
        assert_int_equal(s.line, 0);
    }
    lm_symbolize_end();
    munmap(anon, 4096);
}

/* The same pc twice resolves once; a new session starts with an empty
 * cache; thousands of distinct lookups grow the table. */
static void test_cache(void **state)
{
    (void)state;
    int line;
    uintptr_t pc = call_site(&line);
    struct lm_sym a, b;
    struct lm_symbolize_stats st;
    lm_symbolize_begin();
    lm_symbolize(pc, true, &a);
    lm_symbolize(pc, true, &b);
    lm_symbolize(pc, true, &b);
    lm_symbolize_get_stats(&st);
    assert_int_equal(st.lookups, 3);
    assert_int_equal(st.resolved, 1);
    assert_true(st.dwfl_ok);
    assert_ptr_equal(a.function, b.function);
    assert_int_equal(a.line, b.line);
    /* pc + 1 as a return address is another key (pc instead of pc - 1) */
    lm_symbolize(pc + 1, true, &b);
    lm_symbolize_get_stats(&st);
    assert_int_equal(st.resolved, 2);

    lm_symbolize_begin();
    lm_symbolize(pc, true, &b);
    lm_symbolize_get_stats(&st);
    assert_int_equal(st.resolved, 1);
    assert_int_equal(b.line, line);
    /* 3000 distinct addresses inside libc, looked up twice */
    uintptr_t base = (uintptr_t)&getppid;
    for (int round = 0; round < 2; round++)
        for (uintptr_t i = 0; i < 3000; i++) {
            lm_symbolize(base + i, false, &b);
            assert_non_null(strstr(b.module, "libc.so"));
        }
    lm_symbolize_get_stats(&st);
    assert_int_equal(st.resolved, 1 + 3000);
    lm_symbolize_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_function_and_line),
        cmocka_unit_test(test_captured_frame),
        cmocka_unit_test(test_libc_function),
        cmocka_unit_test(test_unknown_pcs),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
