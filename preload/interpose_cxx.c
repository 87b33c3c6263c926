/*
 * interpose_cxx.c - C++ operator new and delete in every form (plain,
 * array, nothrow, sized, aligned), written in C with their mangled names so
 * libleakmark.so does not pull libstdc++ into C programs.
 *
 * A throwing new that finds no memory behaves as the standard says: it
 * calls the installed new_handler and retries, and throws std::bad_alloc
 * when there is none.  Both live in libstdc++, which is loaded whenever the
 * program uses operator new; they are looked up only on that failure path.
 */
#include "alloc.h"
#include "capture.h"

#include <dlfcn.h>

typedef void (*new_handler_fn)(void);

LM_COLD static void *new_failed(size_t size, size_t align)
{
    for (;;) {
        new_handler_fn (*get_handler)(void) =
            (new_handler_fn (*)(void))dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
        new_handler_fn handler = get_handler ? get_handler() : NULL;
        if (!handler) {
            void (*throw_bad_alloc)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
            if (throw_bad_alloc)
                throw_bad_alloc();
            __builtin_trap();    /* no C++ runtime loaded: cannot happen from C++ code */
        }
        handler();
        void *p = align ? lm_memalign(align, size) : lm_malloc(size);
        if (p)
            return p;
    }
}

static inline void *new_plain(size_t size)
{
    lm_capture_stack();
    void *p = lm_malloc(size);
    return lm_likely(p != NULL) ? p : new_failed(size, 0);
}

static inline void *new_aligned(size_t size, size_t align)
{
    lm_capture_stack();
    void *p = lm_memalign(align, size);
    return lm_likely(p != NULL) ? p : new_failed(size, align);
}

/* new */
LM_EXPORT void *_Znwm(size_t n) { return new_plain(n); }
LM_EXPORT void *_Znam(size_t n) { return new_plain(n); }
LM_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt) { (void)nt; lm_capture_stack(); return lm_malloc(n); }
LM_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt) { (void)nt; lm_capture_stack(); return lm_malloc(n); }
LM_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t al) { return new_aligned(n, al); }
LM_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t al) { return new_aligned(n, al); }
LM_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt) { (void)nt; lm_capture_stack(); return lm_memalign(al, n); }
LM_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt) { (void)nt; lm_capture_stack(); return lm_memalign(al, n); }

/* delete */
LM_EXPORT void _ZdlPv(void *p) { lm_free(p); }
LM_EXPORT void _ZdaPv(void *p) { lm_free(p); }
LM_EXPORT void _ZdlPvm(void *p, size_t n) { (void)n; lm_free(p); }
LM_EXPORT void _ZdaPvm(void *p, size_t n) { (void)n; lm_free(p); }
LM_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt; lm_free(p); }
LM_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt; lm_free(p); }
LM_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t al) { (void)al; lm_free(p); }
LM_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t al) { (void)al; lm_free(p); }
LM_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al) { (void)n; (void)al; lm_free(p); }
LM_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al) { (void)n; (void)al; lm_free(p); }
LM_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt) { (void)al; (void)nt; lm_free(p); }
LM_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt) { (void)al; (void)nt; lm_free(p); }
