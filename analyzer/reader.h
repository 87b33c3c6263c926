/*
 * reader.h - the strictly validating parser of heap dumps
 * (include/leakmark/dump_format.h, version 1) into an an_dump (model.h).
 *
 * Every length and count is checked against what remains of the file and
 * of the enclosing record before anything is read or allocated; varints
 * are at most 10 bytes and must fit their field; indexes (module index,
 * stack ids, edge endpoints) are checked once the whole file is known.
 * Unknown record types are skipped; unknown versions, a bad magic, a
 * missing or misplaced END record, trailing bytes inside a known record
 * and duplicated singleton records (PROCESS, GENTOTALS, SUMMARY) are
 * errors.  An error is described by the file offset where the wrong bytes
 * start and one sentence (struct an_err); nothing past the buffer is ever
 * read, whatever the input.
 *
 * The cursor functions (an_rd_*) are exposed for unit tests.
 */
#ifndef AN_READER_H
#define AN_READER_H

#include "model.h"

#define AN_ERR_NO_OFFSET UINT64_MAX   /* I/O errors: no offset to name */

struct an_err {
    uint64_t offset;
    char msg[256];
};

/* A cursor over buf[0, end): pos only moves forward, never past end. */
struct an_rd {
    const uint8_t *buf;
    size_t pos, end;
};

/* Each returns 0, or -1 with *e filled (offset = the field's first byte). */
int an_rd_u8(struct an_rd *r, const char *what, uint8_t *out, struct an_err *e);
int an_rd_u32(struct an_rd *r, const char *what, uint32_t *out, struct an_err *e);
int an_rd_u64(struct an_rd *r, const char *what, uint64_t *out, struct an_err *e);
/* Unsigned LEB128, at most 10 bytes, value <= max. */
int an_rd_varint(struct an_rd *r, const char *what, uint64_t max, uint64_t *out,
                 struct an_err *e);
/* A varint length followed by that many bytes; *out points into buf. */
int an_rd_bytes(struct an_rd *r, const char *what, const uint8_t **out, size_t *len,
                struct an_err *e);

/* Parses buf[0, len) into d (initialised by the caller with an_dump_init).
 * Returns 0, or -1 with *e filled; d is then to be freed. */
int an_dump_parse(const uint8_t *buf, size_t len, struct an_dump *d, struct an_err *e);
/* Reads the file d->name and parses it.  I/O errors get AN_ERR_NO_OFFSET. */
int an_dump_load(struct an_dump *d, struct an_err *e);

#endif
