/* buf.c: growable byte buffers (see buf.h for the invariants). */
#include "base/buf.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/varint.h"

#define BUF_NO_CAP (SIZE_MAX / 2)

void sl_buf_init(struct sl_buf *buf, size_t max)
{
    buf->max = max ? max : BUF_NO_CAP;
    buf->cap = 0;
    buf->len = 0;
    buf->data = sl_xmalloc(1);
    buf->data[0] = '\0';
}

void sl_buf_release(struct sl_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

uint8_t *sl_buf_detach(struct sl_buf *buf, size_t *len)
{
    uint8_t *p = buf->data;
    if (len)
        *len = buf->len;
    sl_buf_init(buf, buf->max);
    return p;
}

void sl_buf_reset(struct sl_buf *buf)
{
    buf->len = 0;
    buf->data[0] = '\0';
}

int sl_buf_reserve(struct sl_buf *buf, size_t n)
{
    if (n > buf->max - buf->len)
        return SL_ELIMIT;
    size_t need = buf->len + n;
    if (need <= buf->cap)
        return SL_OK;
    size_t cap = buf->cap < 64 ? 64 : buf->cap;
    while (cap < need)
        cap = cap > BUF_NO_CAP / 2 ? need : cap * 2;
    if (cap > buf->max)
        cap = buf->max;
    buf->data = sl_xrealloc(buf->data, cap + 1);
    buf->cap = cap;
    return SL_OK;
}

void sl_buf_setlen(struct sl_buf *buf, size_t len)
{
    assert(len <= buf->cap || (len == 0 && buf->cap == 0));
    buf->len = len;
    buf->data[len] = '\0';
}

void sl_buf_consume(struct sl_buf *buf, size_t n)
{
    assert(n <= buf->len);
    memmove(buf->data, buf->data + n, buf->len - n);
    sl_buf_setlen(buf, buf->len - n);
}

int sl_buf_append(struct sl_buf *buf, const void *p, size_t n)
{
    if (sl_buf_reserve(buf, n) != SL_OK)
        return SL_ELIMIT;
    if (n)
        memcpy(buf->data + buf->len, p, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return SL_OK;
}

int sl_buf_append_str(struct sl_buf *buf, const char *s)
{
    return sl_buf_append(buf, s, strlen(s));
}

int sl_buf_append_slice(struct sl_buf *buf, struct sl_slice s)
{
    return sl_buf_append(buf, s.p, s.len);
}

int sl_buf_vappendf(struct sl_buf *buf, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return SL_EUSAGE;
    if (sl_buf_reserve(buf, (size_t)n) != SL_OK)
        return SL_ELIMIT;
    vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return SL_OK;
}

int sl_buf_appendf(struct sl_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sl_buf_vappendf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

int sl_buf_u8(struct sl_buf *buf, uint8_t v)
{
    return sl_buf_append(buf, &v, 1);
}

int sl_buf_be16(struct sl_buf *buf, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return sl_buf_append(buf, b, 2);
}

int sl_buf_be32(struct sl_buf *buf, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return sl_buf_append(buf, b, 4);
}

int sl_buf_be64(struct sl_buf *buf, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    return sl_buf_append(buf, b, 8);
}

int sl_buf_le32(struct sl_buf *buf, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    return sl_buf_append(buf, b, 4);
}

int sl_buf_uvarint(struct sl_buf *buf, uint64_t v)
{
    uint8_t b[SL_VARINT_MAX];
    return sl_buf_append(buf, b, sl_uvarint_encode(b, v));
}

int sl_buf_varint(struct sl_buf *buf, int64_t v)
{
    return sl_buf_uvarint(buf, sl_zigzag_encode(v));
}

void sl_buf_patch_be32(struct sl_buf *buf, size_t off, uint32_t v)
{
    assert(off + 4 <= buf->len);
    uint8_t *p = buf->data + off;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void sl_buf_patch_le32(struct sl_buf *buf, size_t off, uint32_t v)
{
    assert(off + 4 <= buf->len);
    uint8_t *p = buf->data + off;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
