/*
 * buf.h: owned, growable bytes with a hard maximum.
 *
 * Invariants, after sl_buf_init() and until sl_buf_release():
 *   1. data is never NULL;
 *   2. len <= cap <= max (max is the cap given at init; 0 means SIZE_MAX/2);
 *   3. data[len] == '\0', so text in a buf is always a C string;
 *   4. bytes between len and cap belong to the caller after sl_buf_reserve().
 * Growing past max fails with SL_ELIMIT and leaves the buffer unchanged, so a
 * size taken from input can never make the process allocate without bound.
 * Pass `struct sl_buf *`: the handle never moves, only its data.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

struct sl_buf {
    uint8_t *data; /* owned; from malloc(); never NULL after init */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated, not counting the NUL slot */
    size_t max;    /* hard cap on len */
};

/* Initialise an empty buffer that may grow to `max` bytes (0: no cap). */
void sl_buf_init(struct sl_buf *buf, size_t max);
/* Free the bytes; the buf must be initialised again before reuse. NULL-safe. */
void sl_buf_release(struct sl_buf *buf);
/* Hand the bytes (NUL-terminated, from malloc) to the caller and reset buf. */
uint8_t *sl_buf_detach(struct sl_buf *buf, size_t *len);
/* Forget the contents, keep the allocation. */
void sl_buf_reset(struct sl_buf *buf);

/* Make room for `n` more bytes; returns SL_OK or SL_ELIMIT. */
int sl_buf_reserve(struct sl_buf *buf, size_t n);
/* Set len (after writing into reserved space); len must be <= cap. */
void sl_buf_setlen(struct sl_buf *buf, size_t len);
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void sl_buf_consume(struct sl_buf *buf, size_t n);

/* Appenders return SL_OK or SL_ELIMIT (buffer unchanged on failure). */
int sl_buf_append(struct sl_buf *buf, const void *p, size_t n);
int sl_buf_append_str(struct sl_buf *buf, const char *s);
int sl_buf_append_slice(struct sl_buf *buf, struct sl_slice s);
int sl_buf_appendf(struct sl_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sl_buf_vappendf(struct sl_buf *buf, const char *fmt, va_list ap);
int sl_buf_u8(struct sl_buf *buf, uint8_t v);
int sl_buf_be16(struct sl_buf *buf, uint16_t v);
int sl_buf_be32(struct sl_buf *buf, uint32_t v);
int sl_buf_be64(struct sl_buf *buf, uint64_t v);
int sl_buf_le32(struct sl_buf *buf, uint32_t v);
int sl_buf_uvarint(struct sl_buf *buf, uint64_t v); /* protobuf varint */
int sl_buf_varint(struct sl_buf *buf, int64_t v);   /* zigzag, then uvarint */

/* Reserve, then patch: overwrite bytes already written at `off`. */
void sl_buf_patch_be32(struct sl_buf *buf, size_t off, uint32_t v);
void sl_buf_patch_le32(struct sl_buf *buf, size_t off, uint32_t v);

/* Inline, as the Parquet writer appends every PLAIN number with it. */
static inline int sl_buf_le64(struct sl_buf *buf, uint64_t v)
{
    if (buf->cap - buf->len < 8 && sl_buf_reserve(buf, 8) != SL_OK)
        return SL_ELIMIT;
    for (int i = 0; i < 8; i++)
        buf->data[buf->len + i] = (uint8_t)(v >> (8 * i));
    buf->len += 8;
    buf->data[buf->len] = '\0';
    return SL_OK;
}

static inline struct sl_slice sl_buf_slice(const struct sl_buf *buf)
{
    return sl_slice_make(buf->data, buf->len);
}

#endif
