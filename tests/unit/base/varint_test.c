/* Tests of src/base/varint.c: every length boundary, zigzag, malformed input. */
#include "base/err.h"
#include "base/varint.h"
#include "check.h"

static void test_uvarint_roundtrip_at_every_length_boundary(void)
{
    for (int bits = 0; bits <= 64; bits++) {
        uint64_t vals[3];
        uint64_t edge = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits);
        vals[0] = edge;
        vals[1] = edge - 1;
        vals[2] = edge + 1;
        for (int k = 0; k < 3; k++) {
            uint8_t b[SL_VARINT_MAX];
            size_t n = sl_uvarint_encode(b, vals[k]);
            uint64_t back = 0;
            CHECK_INT(sl_uvarint_decode(b, n, 10, &back), (int)n);
            CHECK_UINT(back, vals[k]);
        }
    }
}

static void test_uvarint_lengths(void)
{
    uint8_t b[SL_VARINT_MAX];
    CHECK_INT(sl_uvarint_encode(b, 0), 1);
    CHECK_INT(sl_uvarint_encode(b, 127), 1);
    CHECK_INT(sl_uvarint_encode(b, 128), 2);
    CHECK_INT(sl_uvarint_encode(b, 16383), 2);
    CHECK_INT(sl_uvarint_encode(b, 16384), 3);
    CHECK_INT(sl_uvarint_encode(b, UINT32_MAX), 5);
    CHECK_INT(sl_uvarint_encode(b, UINT64_MAX), 10);
    CHECK_UINT(b[9], 1);
}

static void test_uvarint_known_bytes(void)
{
    uint8_t b[SL_VARINT_MAX];
    CHECK_INT(sl_uvarint_encode(b, 300), 2);
    CHECK_UINT(b[0], 0xac);
    CHECK_UINT(b[1], 0x02);
}

static void test_uvarint_truncated_is_eagain(void)
{
    uint8_t b[] = { 0x80, 0x80 };
    uint64_t v;
    CHECK_INT(sl_uvarint_decode(b, 2, 10, &v), SL_EAGAIN);
    CHECK_INT(sl_uvarint_decode(b, 0, 10, &v), SL_EAGAIN);
}

static void test_uvarint_too_long_is_eproto(void)
{
    uint8_t b[11];
    for (int i = 0; i < 10; i++)
        b[i] = 0x80;
    b[10] = 0;
    uint64_t v;
    CHECK_INT(sl_uvarint_decode(b, 11, 10, &v), SL_EPROTO);
    CHECK_INT(sl_uvarint_decode(b, 11, 5, &v), SL_EPROTO);
    uint8_t over[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    CHECK_INT(sl_uvarint_decode(over, 10, 10, &v), SL_EPROTO);
}

static void test_zigzag_maps_small_magnitudes_to_small_codes(void)
{
    CHECK_UINT(sl_zigzag_encode(0), 0);
    CHECK_UINT(sl_zigzag_encode(-1), 1);
    CHECK_UINT(sl_zigzag_encode(1), 2);
    CHECK_UINT(sl_zigzag_encode(-2), 3);
    CHECK_UINT(sl_zigzag_encode(INT64_MAX), UINT64_MAX - 1);
    CHECK_UINT(sl_zigzag_encode(INT64_MIN), UINT64_MAX);
    int64_t vals[] = { 0, 1, -1, 63, -64, 64, -65, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        CHECK_INT(sl_zigzag_decode(sl_zigzag_encode(vals[i])), vals[i]);
}

int main(void)
{
    RUN(test_uvarint_roundtrip_at_every_length_boundary);
    RUN(test_uvarint_lengths);
    RUN(test_uvarint_known_bytes);
    RUN(test_uvarint_truncated_is_eagain);
    RUN(test_uvarint_too_long_is_eproto);
    RUN(test_zigzag_maps_small_magnitudes_to_small_codes);
    return CHECK_DONE();
}
