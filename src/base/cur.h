/*
 * cur.h: a bounds-checked read cursor over a slice.
 *
 * Reading past the end, or a malformed varint, sets `failed` and returns zero
 * values; every later read also returns zeros. So a decoder reads all its
 * fields and checks `cur.failed` once at the end, and no read can ever touch
 * memory outside the slice. Slices returned by sl_cur_bytes() borrow from the
 * cursor's input.
 */
#ifndef SL_CUR_H
#define SL_CUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

struct sl_cur {
    const uint8_t *p; /* borrowed input */
    size_t len;       /* bytes in input */
    size_t pos;       /* next byte to read; <= len */
    bool failed;      /* sticky: a read ran past the end or was malformed */
};

static inline struct sl_cur sl_cur_make(struct sl_slice s)
{
    struct sl_cur cur = { s.p, s.len, 0, false };
    return cur;
}

static inline size_t sl_cur_left(const struct sl_cur *cur)
{
    return cur->failed ? 0 : cur->len - cur->pos;
}

/* Mark the cursor failed (a decoder found a semantic error). */
static inline void sl_cur_fail(struct sl_cur *cur)
{
    cur->failed = true;
}

uint8_t sl_cur_u8(struct sl_cur *cur);
int8_t sl_cur_i8(struct sl_cur *cur);
int16_t sl_cur_i16be(struct sl_cur *cur);
int32_t sl_cur_i32be(struct sl_cur *cur);
int64_t sl_cur_i64be(struct sl_cur *cur);
uint32_t sl_cur_u32be(struct sl_cur *cur);
uint32_t sl_cur_u32le(struct sl_cur *cur);
uint64_t sl_cur_u64le(struct sl_cur *cur);
/* Unsigned varint of at most 5 (uvarint32) or 10 (uvarint) bytes. */
uint32_t sl_cur_uvarint32(struct sl_cur *cur);
uint64_t sl_cur_uvarint(struct sl_cur *cur);
/* Zigzag varints (Kafka VARINT / VARLONG, Thrift i32/i64). */
int32_t sl_cur_varint32(struct sl_cur *cur);
int64_t sl_cur_varint(struct sl_cur *cur);
/* The next n bytes as a borrowed slice (empty slice on failure). */
struct sl_slice sl_cur_bytes(struct sl_cur *cur, size_t n);
/* Skip n bytes. */
void sl_cur_skip(struct sl_cur *cur, size_t n);
/* The unread rest as a slice (does not advance). */
struct sl_slice sl_cur_rest(const struct sl_cur *cur);

#endif
