/* cur.c: bounds-checked reads with a sticky failure flag (see cur.h). */
#include "base/cur.h"

#include "base/varint.h"

/* Returns a pointer to n readable bytes and advances, or NULL and fails. */
static const uint8_t *take(struct sl_cur *cur, size_t n)
{
    if (cur->failed || n > cur->len - cur->pos) {
        cur->failed = true;
        return NULL;
    }
    const uint8_t *p = cur->p + cur->pos;
    cur->pos += n;
    return p;
}

uint8_t sl_cur_u8(struct sl_cur *cur)
{
    const uint8_t *p = take(cur, 1);
    return p ? p[0] : 0;
}

int8_t sl_cur_i8(struct sl_cur *cur)
{
    return (int8_t)sl_cur_u8(cur);
}

int16_t sl_cur_i16be(struct sl_cur *cur)
{
    const uint8_t *p = take(cur, 2);
    return p ? (int16_t)(((uint16_t)p[0] << 8) | p[1]) : 0;
}

uint32_t sl_cur_u32be(struct sl_cur *cur)
{
    const uint8_t *p = take(cur, 4);
    if (!p)
        return 0;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int32_t sl_cur_i32be(struct sl_cur *cur)
{
    return (int32_t)sl_cur_u32be(cur);
}

int64_t sl_cur_i64be(struct sl_cur *cur)
{
    const uint8_t *p = take(cur, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}

uint32_t sl_cur_u32le(struct sl_cur *cur)
{
    const uint8_t *p = take(cur, 4);
    if (!p)
        return 0;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t sl_cur_u64le(struct sl_cur *cur)
{
    const uint8_t *p = take(cur, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t read_uvarint(struct sl_cur *cur, int max_bytes)
{
    if (cur->failed)
        return 0;
    uint64_t v;
    int n = sl_uvarint_decode(cur->p + cur->pos, cur->len - cur->pos, max_bytes, &v);
    if (n <= 0) {
        cur->failed = true;
        return 0;
    }
    cur->pos += (size_t)n;
    return v;
}

uint32_t sl_cur_uvarint32(struct sl_cur *cur)
{
    uint64_t v = read_uvarint(cur, 5);
    if (v > UINT32_MAX) {
        cur->failed = true;
        return 0;
    }
    return (uint32_t)v;
}

uint64_t sl_cur_uvarint(struct sl_cur *cur)
{
    return read_uvarint(cur, 10);
}

int32_t sl_cur_varint32(struct sl_cur *cur)
{
    return (int32_t)sl_zigzag_decode(sl_cur_uvarint32(cur));
}

int64_t sl_cur_varint(struct sl_cur *cur)
{
    return sl_zigzag_decode(sl_cur_uvarint(cur));
}

struct sl_slice sl_cur_bytes(struct sl_cur *cur, size_t n)
{
    const uint8_t *p = take(cur, n);
    return p ? sl_slice_make(p, n) : sl_slice_make(NULL, 0);
}

void sl_cur_skip(struct sl_cur *cur, size_t n)
{
    take(cur, n);
}

struct sl_slice sl_cur_rest(const struct sl_cur *cur)
{
    if (cur->failed)
        return sl_slice_make(NULL, 0);
    return sl_slice_make(cur->p + cur->pos, cur->len - cur->pos);
}
