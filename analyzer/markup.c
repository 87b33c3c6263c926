/*
 * markup.c - escaping and number formats for the SVG and HTML writers
 * (see markup.h).  UTF-8 is decoded by the rules of RFC 3629 (table 3-7
 * of the Unicode standard): only shortest forms, no surrogates, nothing
 * past U+10FFFF.
 */
#include "markup.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#define REPLACEMENT 0xfffdu

/* Decodes one character at s (not at the NUL); *len gets the bytes it
 * took.  A bad sequence takes one byte and decodes as U+FFFD. */
static uint32_t decode(const unsigned char *s, size_t *len)
{
    unsigned b = s[0];
    *len = 1;
    if (b < 0x80)
        return b;
    unsigned need, lo = 0x80, hi = 0xbf;
    uint32_t cp;
    if (b >= 0xc2 && b <= 0xdf) {
        need = 1, cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 2, cp = b & 0x0f;
        if (b == 0xe0) lo = 0xa0;           /* no overlong forms */
        if (b == 0xed) hi = 0x9f;           /* no surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3, cp = b & 0x07;
        if (b == 0xf0) lo = 0x90;
        if (b == 0xf4) hi = 0x8f;           /* nothing past U+10FFFF */
    } else {
        return REPLACEMENT;
    }
    for (unsigned i = 1; i <= need; i++) {
        unsigned c = s[i];                  /* a NUL stops here: not in range */
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xbf))
            return REPLACEMENT;
        cp = cp << 6 | (c & 0x3f);
    }
    *len = need + 1;
    return cp;
}

static bool xml_char_ok(uint32_t cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n';
    return cp != 0xfffe && cp != 0xffff && cp != 0x7f;
}

/* Writes one character (already decoded) escaped. */
static void put_char(FILE *f, const unsigned char *at, size_t len, uint32_t cp)
{
    if (!xml_char_ok(cp)) {
        fputs("\xef\xbf\xbd", f);
        return;
    }
    switch (cp) {
    case '&': fputs("&amp;", f); return;
    case '<': fputs("&lt;", f); return;
    case '>': fputs("&gt;", f); return;
    case '"': fputs("&quot;", f); return;
    case '\'': fputs("&#39;", f); return;
    }
    if (cp == REPLACEMENT && len == 1)
        fputs("\xef\xbf\xbd", f);
    else
        fwrite(at, 1, len, f);
}

size_t an_text_chars(const char *s)
{
    size_t n = 0, len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len, n++)
        decode(p, &len);
    return n;
}

static void esc_n(FILE *f, const char *s, size_t max)
{
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p && max; p += len, max--) {
        uint32_t cp = decode(p, &len);
        put_char(f, p, len, cp);
    }
}

void an_esc(FILE *f, const char *s) { esc_n(f, s, SIZE_MAX); }

void an_esc_clip(FILE *f, const char *s, size_t max_chars)
{
    if (max_chars < 3)
        max_chars = 3;
    if (an_text_chars(s) <= max_chars) {
        esc_n(f, s, SIZE_MAX);
        return;
    }
    esc_n(f, s, max_chars - 2);
    fputs("..", f);
}

void an_fmt_bytes(char *buf, size_t cap, uint64_t bytes)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (bytes < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    /* 3 significant digits; a value that rounds up to 1024 shows as 1024 */
    snprintf(buf, cap, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void an_fmt_count(char *buf, size_t cap, uint64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < len && o + 1 < cap; i++) {
        if (i && (len - i) % 3 == 0 && o + 2 < cap)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (cap)
        buf[o < cap ? o : cap - 1] = 0;
}

void an_fmt_time(char *buf, size_t cap, uint64_t ns)
{
    time_t secs = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, cap, "%llu ns", (unsigned long long)ns);
        return;
    }
    char day[64];
    strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03u UTC", day, (unsigned)(ns / 1000000u % 1000u));
}

void an_name_color(char *buf, size_t cap, const char *name, int palette)
{
    uint32_t h = 2166136261u;                   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    unsigned a = h % 1000, b = (h / 1000) % 1000, c = (h / 1000000) % 1000;
    int r, g, bl;
    switch (palette) {
    case AN_PALETTE_LEAK:                       /* reds and magentas */
        r = 200 + (int)(a * 55 / 1000);
        g = 40 + (int)(b * 80 / 1000);
        bl = 60 + (int)(c * 100 / 1000);
        break;
    case AN_PALETTE_GREY:
        r = g = bl = 190 + (int)(a * 30 / 1000);
        break;
    default:                                    /* flamegraph.pl's "hot" */
        r = 205 + (int)(a * 50 / 1000);
        g = (int)(b * 230 / 1000);
        bl = (int)(c * 55 / 1000);
        break;
    }
    snprintf(buf, cap, "rgb(%d,%d,%d)", r, g, bl);
}
