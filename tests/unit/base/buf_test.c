/* Tests of src/base/buf.c: growth, the hard cap, NUL termination, patching. */
#include <stdlib.h>

#include "base/buf.h"
#include "base/cur.h"
#include "base/err.h"
#include "check.h"

static void test_buf_starts_empty_and_nul_terminated(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    CHECK(buf.data != NULL);
    CHECK_INT(buf.len, 0);
    CHECK_INT(buf.data[0], 0);
    sl_buf_release(&buf);
    sl_buf_release(NULL);
}

static void test_buf_append_grows_and_keeps_nul(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(sl_buf_appendf(&buf, "%d,", i), SL_OK);
    CHECK(buf.len <= buf.cap);
    CHECK_INT(buf.data[buf.len], 0);
    CHECK(strncmp((char *)buf.data, "0,1,2,", 6) == 0);
    CHECK(strstr((char *)buf.data, "999,") != NULL);
    sl_buf_release(&buf);
}

static void test_buf_cap_refuses_growth_and_leaves_contents(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 10);
    CHECK_INT(sl_buf_append_str(&buf, "12345678"), SL_OK);
    CHECK_INT(sl_buf_append_str(&buf, "abc"), SL_ELIMIT);
    CHECK_INT(buf.len, 8);
    CHECK_STR((char *)buf.data, "12345678");
    CHECK_INT(sl_buf_append_str(&buf, "ab"), SL_OK);
    CHECK_INT(buf.len, 10);
    CHECK(buf.cap <= 10);
    CHECK_INT(sl_buf_reserve(&buf, (size_t)-1), SL_ELIMIT);
    sl_buf_release(&buf);
}

static void test_buf_big_endian_writers_read_back_through_cur(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    sl_buf_u8(&buf, 0xfe);
    sl_buf_be16(&buf, 0x1234);
    sl_buf_be32(&buf, 0xdeadbeef);
    sl_buf_be64(&buf, 0x0102030405060708ull);
    sl_buf_uvarint(&buf, 300);
    sl_buf_varint(&buf, -12345678901ll);
    sl_buf_le32(&buf, 0xcafef00d);
    struct sl_cur cur = sl_cur_make(sl_buf_slice(&buf));
    CHECK_UINT(sl_cur_u8(&cur), 0xfe);
    CHECK_UINT(sl_cur_i16be(&cur), 0x1234);
    CHECK_UINT(sl_cur_u32be(&cur), 0xdeadbeef);
    CHECK_UINT(sl_cur_i64be(&cur), 0x0102030405060708ull);
    CHECK_UINT(sl_cur_uvarint(&cur), 300);
    CHECK_INT(sl_cur_varint(&cur), -12345678901ll);
    CHECK_UINT(sl_cur_u32le(&cur), 0xcafef00d);
    CHECK(!cur.failed);
    CHECK_INT(sl_cur_left(&cur), 0);
    sl_buf_release(&buf);
}

static void test_buf_patch_fills_reserved_length(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    size_t at = buf.len;
    sl_buf_be32(&buf, 0);
    sl_buf_append_str(&buf, "body");
    sl_buf_patch_be32(&buf, at, (uint32_t)(buf.len - at - 4));
    CHECK_MEM(buf.data, "\0\0\0\4body", 8);
    sl_buf_release(&buf);
}

static void test_buf_detach_hands_over_bytes_and_resets(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 100);
    sl_buf_append_str(&buf, "hello");
    size_t len;
    uint8_t *p = sl_buf_detach(&buf, &len);
    CHECK_INT(len, 5);
    CHECK_STR((char *)p, "hello");
    CHECK_INT(buf.len, 0);
    CHECK_INT(buf.max, 100);
    free(p);
    sl_buf_release(&buf);
}

static void test_buf_consume_drops_prefix(void)
{
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    sl_buf_append_str(&buf, "abcdef");
    sl_buf_consume(&buf, 2);
    CHECK_STR((char *)buf.data, "cdef");
    sl_buf_consume(&buf, 4);
    CHECK_INT(buf.len, 0);
    sl_buf_release(&buf);
}

int main(void)
{
    RUN(test_buf_starts_empty_and_nul_terminated);
    RUN(test_buf_append_grows_and_keeps_nul);
    RUN(test_buf_cap_refuses_growth_and_leaves_contents);
    RUN(test_buf_big_endian_writers_read_back_through_cur);
    RUN(test_buf_patch_fills_reserved_length);
    RUN(test_buf_detach_hands_over_bytes_and_resets);
    RUN(test_buf_consume_drops_prefix);
    return CHECK_DONE();
}
