/*
 * markup.h - writing text from a dump into XML, SVG and HTML, and the
 * human forms of numbers that the pictures print.
 *
 * Every string that comes from a dump (paths, command lines) or from a
 * file on disk (function and file names) goes through an_esc: the result
 * is always well-formed XML 1.0 and safe HTML text or attribute content,
 * whatever the bytes were:
 *   - & < > " ' become entities;
 *   - bytes that are not valid UTF-8 (stray continuation bytes, overlong
 *     forms, surrogates, code points past U+10FFFF, truncated sequences),
 *     control characters other than tab and newline, and U+FFFE / U+FFFF
 *     become U+FFFD, one per bad byte or character.
 * Stateless; no allocation.
 */
#ifndef AN_MARKUP_H
#define AN_MARKUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s escaped. */
void an_esc(FILE *f, const char *s);
/* Writes at most max_chars characters of s escaped; when s is longer, the
 * first max_chars - 2 characters and "..".  max_chars >= 3. */
void an_esc_clip(FILE *f, const char *s, size_t max_chars);
/* Characters (code points, a bad byte counting as one) in s. */
size_t an_text_chars(const char *s);

/* "0 B", "512 B", "1.5 KiB", "12.0 MiB", "3.25 GiB" (3 significant
 * digits from KiB up). */
void an_fmt_bytes(char *buf, size_t cap, uint64_t bytes);
/* 1234567 -> "1,234,567". */
void an_fmt_count(char *buf, size_t cap, uint64_t n);
/* ns since the epoch -> "2023-11-14 22:13:20.123 UTC". */
void an_fmt_time(char *buf, size_t cap, uint64_t ns);

/* A stable colour for a frame name: the flame graph's warm palette, the
 * same name always giving the same colour.  Writes "rgb(r,g,b)". */
void an_name_color(char *buf, size_t cap, const char *name, int palette);
enum { AN_PALETTE_HOT, AN_PALETTE_LEAK, AN_PALETTE_GREY };

#endif
