/*
 * stackfmt.c - text of allocation stacks (see stackfmt.h).
 */
#include "stackfmt.h"

#include <string.h>

const char *an_basename(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

const char *an_plural(uint64_t n) { return n == 1 ? "" : "s"; }

static void frame(FILE *f, struct an_symtab *t, int i, uint64_t pc)
{
    struct an_sym s;
    an_sym_lookup(t, pc, &s);
    fprintf(f, "        #%d 0x%llx", i, (unsigned long long)pc);
    if (s.function)
        fprintf(f, " in %s", s.function);
    if (s.file)
        fprintf(f, " %s:%d", s.file, s.line);
    fprintf(f, " (%s+0x%llx)\n", s.module, (unsigned long long)(pc - s.bias));
}

void an_print_stack(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack)
{
    const struct an_stack *s = stack == AN_NONE ? NULL : &d->stacks[stack];
    if (!s || !s->nframes)
        fputs("        <no allocation stack recorded>\n", f);
    for (uint32_t i = 0; s && i < s->nframes; i++)
        frame(f, t, (int)i, s->pcs[i]);
}

void an_print_site(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack)
{
    const struct an_stack *st = stack == AN_NONE ? NULL : &d->stacks[stack];
    if (!st || !st->nframes) {
        fputs("<no stack>", f);
        return;
    }
    struct an_sym s;
    an_sym_lookup(t, st->pcs[0], &s);
    if (s.function)
        fputs(s.function, f);
    else
        fprintf(f, "%s+0x%llx", an_basename(s.module), (unsigned long long)(st->pcs[0] - s.bias));
    if (s.file)
        fprintf(f, " %s:%d", an_basename(s.file), s.line);
}
