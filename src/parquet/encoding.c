/*
 * encoding.c: the integer encodings inside pages (design/parquet.md §5): the
 * RLE/bit-packed hybrid for definition levels, dictionary indices and
 * booleans, and DELTA_BINARY_PACKED. Encoders write only what readers of
 * every make accept (bit-packed runs padded to whole groups of 8); decoders
 * check each run against the bytes left and stop after the values asked for.
 */
#include <string.h>

#include "base/varint.h"
#include "parquet/pq_int.h"

/* ------------------------------------------------------------ MARK: names */

const char *pq_type_name(enum pq_type type)
{
    switch (type) {
    case PQ_BOOL: return "bool";
    case PQ_INT64: return "int64";
    case PQ_DOUBLE: return "double";
    case PQ_STRING: return "string";
    case PQ_TIMESTAMP: return "timestamp";
    case PQ_DATE: return "date";
    }
    return "?";
}

const char *pq_codec_name(int codec)
{
    static const char *const names[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                         "BROTLI", "LZ4", "ZSTD", "LZ4_RAW" };
    return codec >= 0 && codec < 8 ? names[codec] : "?";
}

const char *pq_encoding_name(int enc)
{
    static const char *const names[] = { "PLAIN", "?", "PLAIN_DICTIONARY", "RLE",
                                         "BIT_PACKED", "DELTA_BINARY_PACKED",
                                         "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                         "RLE_DICTIONARY", "BYTE_STREAM_SPLIT" };
    return enc >= 0 && enc < 10 ? names[enc] : "?";
}

/* ------------------------------------------------------------ MARK: hash */

uint64_t pq_hash(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t t = 0;
    memcpy(&t, s, n);
    h = (h ^ t) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h;
}

/* ------------------------------------------------------------ MARK: RLE hybrid */

static void put_uvarint(struct sl_buf *out, uint64_t v)
{
    uint8_t tmp[SL_VARINT_MAX];
    sl_buf_append(out, tmp, sl_uvarint_encode(tmp, v));
}

/* Pack 8 values at `width` bits LSB-first into width bytes. */
static void pack8(const uint32_t *v, int width, uint8_t *dst)
{
    uint64_t acc = 0;
    int bits = 0;
    for (int i = 0; i < 8; i++) {
        acc |= (uint64_t)v[i] << bits;
        bits += width;
        while (bits >= 8) {
            *dst++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
}

static size_t run_at(const uint32_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && v[j] == v[i])
        j++;
    return j - i;
}

void pq_rle_encode(const uint32_t *v, size_t n, int width, struct sl_buf *out)
{
    size_t vbytes = (size_t)(width + 7) / 8;
    size_t i = 0;
    while (i < n) {
        size_t run = run_at(v, i, n);
        if (run >= 8 || (run == n - i)) {
            put_uvarint(out, (uint64_t)run << 1);
            uint32_t x = v[i];
            for (size_t b = 0; b < vbytes; b++)
                sl_buf_u8(out, (uint8_t)(x >> (8 * b)));
            i += run;
            continue;
        }
        /* Bit-packed groups until a run of >= 8 starts at a group boundary. */
        size_t start = i;
        do {
            i += 8;
        } while (i < n && run_at(v, i, i + 8 < n ? i + 8 : n) < 8 && (i - start) / 8 < 1000000);
        size_t end = i < n ? i : n;
        size_t groups = (end - start + 7) / 8;
        put_uvarint(out, (uint64_t)groups << 1 | 1);
        if (sl_buf_reserve(out, groups * (size_t)width) != SL_OK)
            return;
        uint8_t *dst = out->data + out->len;
        for (size_t g = 0; g < groups; g++) {
            uint32_t tmp[8];
            size_t base = start + g * 8;
            if (base + 8 <= n) {
                memcpy(tmp, v + base, sizeof tmp);
            } else {
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, v + base, (n - base) * sizeof *v);
            }
            pack8(tmp, width, dst);
            dst += width;
        }
        sl_buf_setlen(out, out->len + groups * (size_t)width);
        i = end;
    }
}

/* Unpack `count` values at `width` from src (which holds at least
 * ceil(count * width / 8) bytes). */
static void unpack(const uint8_t *src, size_t srclen, int width, uint32_t *out, size_t count)
{
    if (width == 0) {
        memset(out, 0, count * sizeof *out);
        return;
    }
    uint64_t mask = width == 32 ? 0xffffffffull : ((1ull << width) - 1);
    size_t k = 0, bit = 0;
    if (width <= 8) {
        /* Fast path: a group of 8 values is `width` bytes, one 64-bit load. */
        size_t w = (size_t)width;
        for (; k + 8 <= count && (k / 8) * w + 8 <= srclen; k += 8) {
            uint64_t g;
            memcpy(&g, src + (k / 8) * w, 8);
            for (int j = 0; j < 8; j++)
                out[k + (size_t)j] = (uint32_t)((g >> (j * width)) & mask);
        }
        bit = k * w;
    }
    for (; k < count; k++, bit += (size_t)width) {
        size_t byte = bit >> 3;
        uint64_t w;
        if (byte + 8 <= srclen) {
            memcpy(&w, src + byte, 8);
        } else {
            w = 0;
            memcpy(&w, src + byte, srclen - byte);
        }
        out[k] = (uint32_t)((w >> (bit & 7)) & mask);
    }
}

int pq_rle_decode(struct sl_slice in, int width, uint32_t *out, size_t n)
{
    if (width < 0 || width > 32)
        return SL_ECORRUPT;
    size_t vbytes = (size_t)(width + 7) / 8;
    size_t pos = 0, got = 0;
    while (got < n) {
        uint64_t h;
        int used = sl_uvarint_decode(in.p + pos, in.len - pos, 5, &h);
        if (used <= 0)
            return SL_ECORRUPT;
        pos += (size_t)used;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > (in.len - pos) / (width ? (size_t)width : 1) + 1)
                return SL_ECORRUPT;
            size_t nbytes = (size_t)groups * (size_t)width;
            size_t avail = in.len - pos;
            size_t values = (size_t)groups * 8;
            size_t take = values < n - got ? values : n - got;
            /* A writer may end the stream inside the padding of the last group. */
            size_t need = (take * (size_t)width + 7) / 8;
            if (need > avail)
                return SL_ECORRUPT;
            unpack(in.p + pos, nbytes < avail ? nbytes : avail, width, out + got, take);
            got += take;
            pos += nbytes < avail ? nbytes : avail;
        } else {
            uint64_t count = h >> 1;
            if (count == 0 || vbytes > in.len - pos)
                return SL_ECORRUPT;
            uint32_t x = 0;
            for (size_t b = 0; b < vbytes; b++)
                x |= (uint32_t)in.p[pos + b] << (8 * b);
            pos += vbytes;
            if (width < 32 && (x >> width) != 0)
                return SL_ECORRUPT;
            size_t take = count < n - got ? (size_t)count : n - got;
            if (x == 0) {
                memset(out + got, 0, take * sizeof *out);
            } else {
                for (size_t k = 0; k < take; k++)
                    out[got + k] = x;
            }
            got += take;
        }
    }
    return SL_OK;
}

/* Definition levels of a flat optional column: the hybrid at bit width 1,
 * straight to bytes, counting the zeros (nulls) on the way. */
int pq_levels_decode(struct sl_slice in, uint8_t *out, size_t n, size_t *zeros)
{
    size_t pos = 0, got = 0, z = 0;
    while (got < n) {
        uint64_t h;
        int used = sl_uvarint_decode(in.p + pos, in.len - pos, 5, &h);
        if (used <= 0)
            return SL_ECORRUPT;
        pos += (size_t)used;
        if (h & 1) {
            size_t groups = (size_t)(h >> 1);
            if (groups == 0)
                return SL_ECORRUPT;
            size_t avail = in.len - pos;
            size_t take = n - got < groups * 8 ? n - got : groups * 8;
            if ((take + 7) / 8 > avail)
                return SL_ECORRUPT;
            size_t k = 0;
            for (; k + 8 <= take; k += 8) {
                /* spread each nibble's 4 bits over 4 bytes */
                uint8_t byte = in.p[pos + k / 8];
                uint32_t lo = ((uint32_t)(byte & 15) * 0x00204081u) & 0x01010101u;
                uint32_t hi = ((uint32_t)(byte >> 4) * 0x00204081u) & 0x01010101u;
                memcpy(out + got + k, &lo, 4);
                memcpy(out + got + k + 4, &hi, 4);
                z += 8 - (((lo + hi) * 0x01010101u) >> 24); /* 8 - set bits */
            }
            for (; k < take; k++) {
                uint8_t bit = (in.p[pos + k / 8] >> (k % 8)) & 1;
                out[got + k] = bit;
                z += !bit;
            }
            got += take;
            pos += groups < avail ? groups : avail;
        } else {
            uint64_t count = h >> 1;
            if (count == 0 || pos >= in.len)
                return SL_ECORRUPT;
            uint8_t x = in.p[pos++];
            if (x > 1)
                return SL_ECORRUPT;
            size_t take = count < n - got ? (size_t)count : n - got;
            memset(out + got, x, take);
            if (!x)
                z += take;
            got += take;
        }
    }
    *zeros = z;
    return SL_OK;
}

/* ------------------------------------------------------------ MARK: delta */

int pq_delta_decode(struct sl_slice in, int64_t *out, size_t n, size_t *used)
{
    struct sl_cur cur = sl_cur_make(in);
    uint64_t block = sl_cur_uvarint(&cur);
    uint64_t minis = sl_cur_uvarint(&cur);
    uint64_t total = sl_cur_uvarint(&cur);
    int64_t last = sl_cur_varint(&cur);
    if (cur.failed || block == 0 || block % 128 || minis == 0 || block % minis ||
        (block / minis) % 32 || block > (1u << 20))
        return SL_ECORRUPT;
    if (total < n)
        return SL_ECORRUPT;
    size_t per_mini = (size_t)(block / minis);
    size_t got = 0;
    if (total > 0 && n > 0)
        out[got++] = last;
    uint32_t tmp[1024];
    /* total values: the first plus (total - 1) deltas, in blocks. */
    uint64_t left = total ? total - 1 : 0;
    while (left > 0) {
        int64_t min_delta = sl_cur_varint(&cur);
        if (cur.failed || minis > sl_cur_left(&cur))
            return SL_ECORRUPT;
        struct sl_slice widths = sl_cur_bytes(&cur, (size_t)minis);
        for (size_t m = 0; m < minis && left > 0; m++) {
            int w = widths.p[m];
            if (w > 64)
                return SL_ECORRUPT;
            size_t nbytes = per_mini * (size_t)w / 8;
            if (nbytes > sl_cur_left(&cur))
                return SL_ECORRUPT;
            struct sl_slice body = sl_cur_bytes(&cur, nbytes);
            size_t take = left < per_mini ? (size_t)left : per_mini;
            for (size_t k0 = 0; k0 < take; k0 += 1024) {
                size_t cnt = take - k0 < 1024 ? take - k0 : 1024;
                for (size_t k = 0; k < cnt; k++) {
                    uint64_t d;
                    if (w <= 32) {
                        if (k == 0) {
                            /* decode a chunk of 32-bit-or-less widths at once */
                            size_t bitoff = (k0 * (size_t)w);
                            if (bitoff % 8 == 0)
                                unpack(body.p + bitoff / 8, body.len - bitoff / 8, w, tmp, cnt);
                            else
                                return SL_ECORRUPT;
                        }
                        d = tmp[k];
                    } else {
                        size_t bit = (k0 + k) * (size_t)w;
                        d = 0;
                        for (int b = 0; b < w; b++, bit++)
                            d |= (uint64_t)((body.p[bit >> 3] >> (bit & 7)) & 1) << b;
                    }
                    last = (int64_t)((uint64_t)last + (uint64_t)min_delta + d);
                    if (got < n)
                        out[got] = last;
                    got++;
                }
            }
            left -= take;
        }
    }
    *used = cur.pos;
    return SL_OK;
}
