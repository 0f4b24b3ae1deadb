/* Tests of src/base/cur.c: bounds checks and the sticky failure flag. */
#include "base/cur.h"
#include "check.h"

static void test_cur_read_past_end_sets_failed_and_returns_zero(void)
{
    uint8_t b[3] = { 1, 2, 3 };
    struct sl_cur cur = sl_cur_make(sl_slice_make(b, 3));
    CHECK_INT(sl_cur_i16be(&cur), 0x0102);
    CHECK(!cur.failed);
    CHECK_INT(sl_cur_i32be(&cur), 0);
    CHECK(cur.failed);
    /* Sticky: even a read that would fit now returns zero. */
    CHECK_INT(sl_cur_u8(&cur), 0);
    CHECK_INT(sl_cur_left(&cur), 0);
}

static void test_cur_bytes_borrow_from_input(void)
{
    const char *s = "abcdef";
    struct sl_cur cur = sl_cur_make(sl_slice_str(s));
    struct sl_slice a = sl_cur_bytes(&cur, 2);
    CHECK(a.p == (const uint8_t *)s);
    CHECK(sl_slice_eq_str(a, "ab"));
    sl_cur_skip(&cur, 1);
    CHECK(sl_slice_eq_str(sl_cur_rest(&cur), "def"));
    struct sl_slice big = sl_cur_bytes(&cur, 100);
    CHECK_INT(big.len, 0);
    CHECK(cur.failed);
}

static void test_cur_huge_length_does_not_wrap(void)
{
    uint8_t b[4] = { 0 };
    struct sl_cur cur = sl_cur_make(sl_slice_make(b, 4));
    sl_cur_skip(&cur, 2);
    sl_cur_skip(&cur, SIZE_MAX);
    CHECK(cur.failed);
}

static void test_cur_varints(void)
{
    uint8_t b[] = { 0xac, 0x02, 0x03, 0xff, 0xff, 0xff, 0xff, 0x1f };
    struct sl_cur cur = sl_cur_make(sl_slice_make(b, sizeof b));
    CHECK_INT(sl_cur_uvarint32(&cur), 300);
    CHECK_INT(sl_cur_varint32(&cur), -2);
    /* 5 bytes encoding 2^35-1: too big for a 32-bit varint. */
    sl_cur_uvarint32(&cur);
    CHECK(cur.failed);
}

static void test_cur_truncated_varint_fails(void)
{
    uint8_t b[] = { 0x80 };
    struct sl_cur cur = sl_cur_make(sl_slice_make(b, 1));
    CHECK_INT(sl_cur_uvarint(&cur), 0);
    CHECK(cur.failed);
}

int main(void)
{
    RUN(test_cur_read_past_end_sets_failed_and_returns_zero);
    RUN(test_cur_bytes_borrow_from_input);
    RUN(test_cur_huge_length_does_not_wrap);
    RUN(test_cur_varints);
    RUN(test_cur_truncated_varint_fails);
    return CHECK_DONE();
}
