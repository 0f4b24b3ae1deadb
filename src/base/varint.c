/* varint.c: varint codec (see varint.h). */
#include "base/varint.h"

#include "base/err.h"

size_t sl_uvarint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

int sl_uvarint_decode(const uint8_t *p, size_t len, int max_bytes, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < max_bytes; i++) {
        if ((size_t)i >= len)
            return SL_EAGAIN;
        uint8_t b = p[i];
        /* The 10th byte of a 64-bit varint may only carry the top bit. */
        if (i == 9 && b > 1)
            return SL_EPROTO;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return SL_EPROTO;
}
