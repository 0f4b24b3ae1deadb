/* Tests of src/kafka/wire.c: primitive types, tag buffers, caps, headers. */
#include <stdlib.h>

#include "check.h"
#include "kafka/kafka.h"

static struct sl_cur cur_of(const void *p, size_t n)
{
    return sl_cur_make(sl_slice_make(p, n));
}

static void test_string_round_trips_null_empty_and_text(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_write_string(&b, sl_slice_make(NULL, 0));
    kafka_write_string(&b, sl_slice_str(""));
    kafka_write_string(&b, sl_slice_str("abc"));
    CHECK_INT(b.len, 2 + 2 + 5);
    CHECK_MEM(b.data,
              "\xff\xff\x00\x00\x00\x03"
              "abc",
              9);
    struct sl_cur cur = sl_cur_make(sl_buf_slice(&b));
    struct sl_slice s1 = kafka_read_string(&cur), s2 = kafka_read_string(&cur),
                    s3 = kafka_read_string(&cur);
    CHECK(!cur.failed);
    CHECK(s1.p == NULL);
    CHECK(s2.p != NULL && s2.len == 0);
    CHECK(sl_slice_eq_str(s3, "abc"));
    sl_buf_release(&b);
}

static void test_compact_forms_use_length_plus_one(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_write_compact_string(&b, sl_slice_make(NULL, 0));
    kafka_write_compact_string(&b, sl_slice_str("hi"));
    kafka_write_compact_bytes(&b, sl_slice_str(""));
    kafka_write_array_len(&b, true, -1);
    kafka_write_array_len(&b, true, 200);
    CHECK_INT(b.len, 1 + 3 + 1 + 1 + 2);
    CHECK_MEM(b.data, "\x00\x03hi\x01\x00\xc9\x01", 8);
    struct sl_cur cur = sl_cur_make(sl_buf_slice(&b));
    CHECK(kafka_read_compact_string(&cur).p == NULL);
    CHECK(sl_slice_eq_str(kafka_read_compact_string(&cur), "hi"));
    struct sl_slice e = kafka_read_compact_bytes(&cur);
    CHECK(e.p != NULL && e.len == 0);
    CHECK_INT(kafka_read_array_len(&cur, true, 1), -1);
    CHECK(!cur.failed);
    sl_buf_release(&b);
}

static void test_lengths_past_the_end_fail_without_reading(void)
{
    struct sl_cur cur = cur_of("\x00\x05"
                               "ab",
                               4);
    CHECK_INT(kafka_read_string(&cur).len, 0);
    CHECK(cur.failed);
    cur = cur_of("\x7f\xff\xff\xff"
                 "ab",
                 6);
    CHECK(kafka_read_bytes(&cur).p == NULL);
    CHECK(cur.failed);
    cur = cur_of("\x05"
                 "ab",
                 3); /* compact: 4 bytes announced */
    kafka_read_compact_string(&cur);
    CHECK(cur.failed);
    cur = cur_of("\xff\xfe", 2); /* -2 is not a length */
    kafka_read_string(&cur);
    CHECK(cur.failed);
}

static void test_array_count_is_capped_by_bytes_left(void)
{
    /* 1000 elements of at least 4 bytes cannot fit in 8 bytes. */
    struct sl_cur cur = cur_of("\x00\x00\x03\xe8"
                               "\0\0\0\0\0\0\0\0",
                               12);
    CHECK_INT(kafka_read_array_len(&cur, false, 4), 0);
    CHECK(cur.failed);
    cur = cur_of("\x00\x00\x00\x02"
                 "\0\0\0\0\0\0\0\0",
                 12);
    CHECK_INT(kafka_read_array_len(&cur, false, 4), 2);
    CHECK(!cur.failed);
    cur = cur_of("\x7f\xff\xff\xff", 4);
    kafka_read_array_len(&cur, false, 1);
    CHECK(cur.failed);
    cur = cur_of("\xff\xff\xff\xfe", 4); /* -2 */
    kafka_read_array_len(&cur, false, 1);
    CHECK(cur.failed);
    /* A compact count of 2^32-1 must not wrap into a small number. */
    cur = cur_of("\xff\xff\xff\xff\x0f", 5);
    kafka_read_array_len(&cur, true, 1);
    CHECK(cur.failed);
}

static void test_tag_buffer_skips_unknown_tags(void)
{
    /* two tags: (0, 2 bytes "ab") and (5, 0 bytes), then a trailing byte */
    struct sl_cur cur = cur_of("\x02\x00\x02"
                               "ab"
                               "\x05\x00"
                               "Z",
                               8);
    kafka_read_tags(&cur);
    CHECK(!cur.failed);
    CHECK_INT(sl_cur_u8(&cur), 'Z');
    cur = cur_of("\x01\x00\x09"
                 "ab",
                 5); /* size past the end */
    kafka_read_tags(&cur);
    CHECK(cur.failed);
}

static void test_header_versions_follow_flexible_versions(void)
{
    CHECK_INT(kafka_request_header_version(KAFKA_API_API_VERSIONS, 2), 1);
    CHECK_INT(kafka_request_header_version(KAFKA_API_API_VERSIONS, 3), 2);
    CHECK_INT(kafka_request_header_version(KAFKA_API_FETCH, 11), 1);
    CHECK_INT(kafka_request_header_version(KAFKA_API_FETCH, 12), 2);
    CHECK_INT(kafka_request_header_version(KAFKA_API_METADATA, 9), 2);
    CHECK_INT(kafka_request_header_version(999, 0), -1);
    /* KIP-511: the ApiVersions response header never has tags. */
    CHECK_INT(kafka_response_header_version(KAFKA_API_API_VERSIONS, 3), 0);
    CHECK_INT(kafka_response_header_version(KAFKA_API_PRODUCE, 9), 1);
    CHECK_INT(kafka_response_header_version(KAFKA_API_PRODUCE, 7), 0);
    CHECK_STR(kafka_api_name(KAFKA_API_JOIN_GROUP), "JoinGroup");
    CHECK_STR(kafka_api_name(-3), "Unknown");
}

/* The first frame of librdkafka 2.0.2 (design §2.1), without the size. */
static const uint8_t rdk_api_versions[] = {
    0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 'r', 'd',
    'k',  'a',  'f',  'k',  'a',  0x00, 0x0b, 'l',  'i',  'b',  'r', 'd',
    'k',  'a',  'f',  'k',  'a',  0x06, '2',  '.',  '0',  '.',  '2', 0x00,
};

static void test_request_header_v2_of_librdkafka_api_versions(void)
{
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    CHECK_INT(sizeof rdk_api_versions, 0x24);
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(rdk_api_versions, sizeof rdk_api_versions),
                                         &hdr, &body, &err),
              SL_OK);
    CHECK_INT(hdr.request_api_key, 18);
    CHECK_INT(hdr.request_api_version, 3);
    CHECK_INT(hdr.correlation_id, 1);
    CHECK_INT(hdr.header_version, 2);
    CHECK(sl_slice_eq_str(hdr.client_id, "rdkafka"));
    CHECK_INT(body.len, 18);
    struct sl_arena arena;
    sl_arena_init(&arena, 0);
    struct kafka_ApiVersionsRequest req;
    CHECK_INT(kafka_ApiVersionsRequest_decode(body, 3, &arena, &req, &err), SL_OK);
    CHECK(sl_slice_eq_str(req.client_software_name, "librdkafka"));
    CHECK(sl_slice_eq_str(req.client_software_version, "2.0.2"));
    /* And back: the same bytes, frame size included. */
    struct sl_buf b;
    sl_buf_init(&b, 0);
    size_t start = kafka_request_begin(&b, &hdr);
    kafka_ApiVersionsRequest_encode(&b, 3, &req);
    kafka_frame_end(&b, start, 0);
    CHECK_INT(b.len, 4 + sizeof rdk_api_versions);
    CHECK_MEM(b.data, "\x00\x00\x00\x24", 4);
    CHECK_MEM(b.data + 4, rdk_api_versions, sizeof rdk_api_versions);
    sl_buf_release(&b);
    sl_arena_release(&arena);
}

static void test_request_header_v1_of_kafkajs_and_null_client_id(void)
{
    /* kafkajs: ApiVersions v2, corr 0, client "kjs" (design §2.1). */
    static const uint8_t kjs[] = {0x00, 0x12, 0x00, 0x02, 0, 0, 0, 0, 0x00, 0x03, 'k', 'j', 's'};
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(kjs, sizeof kjs), &hdr, &body, &err), SL_OK);
    CHECK_INT(hdr.header_version, 1);
    CHECK_INT(hdr.correlation_id, 0);
    CHECK(sl_slice_eq_str(hdr.client_id, "kjs"));
    CHECK_INT(body.len, 0);
    static const uint8_t nul[] = {0x00, 0x03, 0x00, 0x01, 0, 0, 0, 9, 0xff, 0xff};
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(nul, sizeof nul), &hdr, &body, &err), SL_OK);
    CHECK(hdr.client_id.p == NULL);
}

static void test_truncated_header_fails_with_message(void)
{
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    static const uint8_t shortf[] = {0x00, 0x03, 0x00};
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(shortf, 3), &hdr, &body, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "truncated") != NULL);
    /* v2 header whose tag buffer is missing */
    static const uint8_t notags[] = {0x00, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x00};
    sl_error_clear(&err);
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(notags, sizeof notags), &hdr, &body, &err),
              SL_EPROTO);
}

static void test_response_header_and_frame_size(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    size_t s0 = kafka_response_begin(&b, 7, 0);
    kafka_frame_end(&b, s0, 0);
    size_t s1 = kafka_response_begin(&b, 8, 1);
    sl_buf_append(&b, "xy", 2);
    kafka_frame_end(&b, s1, 100); /* 100 bytes to be spliced in later */
    CHECK_INT(b.len, 8 + 11);
    CHECK_MEM(b.data, "\x00\x00\x00\x04\x00\x00\x00\x07", 8);
    CHECK_MEM(b.data + 8, "\x00\x00\x00\x6b\x00\x00\x00\x08\x00xy", 11);
    sl_buf_release(&b);
}

int main(void)
{
    RUN(test_string_round_trips_null_empty_and_text);
    RUN(test_compact_forms_use_length_plus_one);
    RUN(test_lengths_past_the_end_fail_without_reading);
    RUN(test_array_count_is_capped_by_bytes_left);
    RUN(test_tag_buffer_skips_unknown_tags);
    RUN(test_header_versions_follow_flexible_versions);
    RUN(test_request_header_v2_of_librdkafka_api_versions);
    RUN(test_request_header_v1_of_kafkajs_and_null_client_id);
    RUN(test_truncated_header_fails_with_message);
    RUN(test_response_header_and_frame_size);
    return CHECK_DONE();
}
