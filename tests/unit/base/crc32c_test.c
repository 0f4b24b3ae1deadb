/* Tests of src/base/crc32c.c: known vectors, chaining, hardware == table. */
#include <stdlib.h>

#include "base/crc32c.h"
#include "check.h"

static void test_crc32c_known_vector_123456789(void)
{
    CHECK_UINT(sl_crc32c(0, "123456789", 9), 0xe3069283u);
    CHECK_UINT(sl_crc32c_sw(0, "123456789", 9), 0xe3069283u);
}

static void test_crc32c_rfc3720_vectors(void)
{
    unsigned char zeros[32] = { 0 }, ones[32], inc[32], dec[32];
    for (int i = 0; i < 32; i++) {
        ones[i] = 0xff;
        inc[i] = (unsigned char)i;
        dec[i] = (unsigned char)(31 - i);
    }
    CHECK_UINT(sl_crc32c(0, zeros, 32), 0x8a9136aau);
    CHECK_UINT(sl_crc32c(0, ones, 32), 0x62a8ab43u);
    CHECK_UINT(sl_crc32c(0, inc, 32), 0x46dd794eu);
    CHECK_UINT(sl_crc32c(0, dec, 32), 0x113fdb5cu);
}

static void test_crc32c_empty_is_zero(void)
{
    CHECK_UINT(sl_crc32c(0, "", 0), 0);
}

static void test_crc32c_chained_equals_one_shot(void)
{
    unsigned char data[1000];
    srand(7);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)rand();
    uint32_t whole = sl_crc32c(0, data, sizeof data);
    for (size_t cut = 0; cut <= sizeof data; cut += 37) {
        uint32_t c = sl_crc32c(0, data, cut);
        CHECK_UINT(sl_crc32c(c, data + cut, sizeof data - cut), whole);
    }
}

static void test_crc32c_hardware_matches_table_at_every_length_and_alignment(void)
{
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof data; n += 13)
            CHECK_UINT(sl_crc32c(0, data + off, n), sl_crc32c_sw(0, data + off, n));
}

int main(void)
{
    printf("crc32c: hardware path %s\n", sl_crc32c_hw_available() ? "on" : "off");
    RUN(test_crc32c_known_vector_123456789);
    RUN(test_crc32c_rfc3720_vectors);
    RUN(test_crc32c_empty_is_zero);
    RUN(test_crc32c_chained_equals_one_shot);
    RUN(test_crc32c_hardware_matches_table_at_every_length_and_alignment);
    return CHECK_DONE();
}
