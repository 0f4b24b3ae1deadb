/* batch_test.c: tests for src/kafka/batch.c, the RecordBatch v2 codec. */
#include "kafka/batch.h"

#include <snappy-c.h>
#include <stdlib.h>

#include "base/crc32c.h"
#include "check.h"

/* The batch kcat 2.0.2 sent for `printf 'k1:hello\nk2:world\n' | kcat -P -K:`
 * (design/kafka-protocol.md §5.3). */
static const uint8_t kcat_batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* base_offset */
    0x00, 0x00, 0x00, 0x4d,                         /* batch_length 77 */
    0x00, 0x00, 0x00, 0x00,                         /* leader epoch */
    0x02,                                           /* magic */
    0x11, 0x17, 0x99, 0x23,                         /* crc */
    0x00, 0x00,                                     /* attributes */
    0x00, 0x00, 0x00, 0x01,                         /* last_offset_delta */
    0x00, 0x00, 0x01, 0xa2, 0x07, 0x9f, 0x11, 0x38, /* base_timestamp */
    0x00, 0x00, 0x01, 0xa2, 0x07, 0x9f, 0x11, 0x38, /* max_timestamp */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producer_id */
    0xff, 0xff,                                     /* producer_epoch */
    0xff, 0xff, 0xff, 0xff,                         /* base_sequence */
    0x00, 0x00, 0x00, 0x02,                         /* records_count */
    0x1a, 0x00, 0x00, 0x00, 0x04, 'k',  '1',  0x0a, 'h', 'e', 'l', 'l', 'o', 0x00,
    0x1a, 0x00, 0x00, 0x02, 0x04, 'k',  '2',  0x0a, 'w', 'o', 'r', 'l', 'd', 0x00,
};

#define KCAT_TS INT64_C(0x000001a2079f1138)

static struct sl_slice sv(const char *s)
{
    return sl_slice_str(s);
}

static void test_batch_parse_known_kcat_bytes(void)
{
    struct kafka_batch b;
    struct sl_error err = {0};
    CHECK_INT(sizeof kcat_batch, 89);
    int64_t n = kafka_batch_parse(sl_slice_make(kcat_batch, sizeof kcat_batch), &b, &err);
    CHECK_INT(n, 89);
    CHECK_INT(b.base_offset, 0);
    CHECK_INT(b.batch_length, 77);
    CHECK_INT(b.magic, 2);
    CHECK_UINT(b.crc, 0x11179923);
    CHECK_INT(b.last_offset_delta, 1);
    CHECK_INT(b.base_timestamp, KCAT_TS);
    CHECK_INT(b.max_timestamp, KCAT_TS);
    CHECK_INT(b.producer_id, -1);
    CHECK_INT(b.producer_epoch, -1);
    CHECK_INT(b.base_sequence, -1);
    CHECK_INT(b.records_count, 2);
    CHECK_INT(kafka_batch_codec(&b), KAFKA_CODEC_NONE);
    CHECK_INT(kafka_batch_validate_produce(&b, &err), SL_OK);

    struct kafka_batch_reader rd;
    struct kafka_record rec;
    CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
    CHECK(sl_slice_eq_str(rec.key, "k1"));
    CHECK(sl_slice_eq_str(rec.value, "hello"));
    CHECK_INT(rec.offset, 0);
    CHECK_INT(rec.timestamp, KCAT_TS);
    CHECK_INT(rec.headers_count, 0);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
    CHECK(sl_slice_eq_str(rec.key, "k2"));
    CHECK(sl_slice_eq_str(rec.value, "world"));
    CHECK_INT(rec.offset, 1);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 0);
    kafka_batch_reader_release(&rd);
    CHECK_INT(err.code, SL_OK);
}

static void test_batch_writer_reproduces_kcat_bytes(void)
{
    struct kafka_batch_writer w;
    struct sl_buf out;
    struct sl_error err = {0};
    sl_buf_init(&out, 0);
    kafka_batch_writer_init(&w, KAFKA_CODEC_NONE, KCAT_TS);
    CHECK_INT(kafka_batch_writer_add(&w, KCAT_TS, sv("k1"), sv("hello"), NULL, 0), SL_OK);
    CHECK_INT(kafka_batch_writer_add(&w, KCAT_TS, sv("k2"), sv("world"), NULL, 0), SL_OK);
    CHECK_INT(kafka_batch_writer_finish(&w, 0, &out, &err), SL_OK);
    CHECK_INT(out.len, sizeof kcat_batch);
    if (out.len == sizeof kcat_batch)
        CHECK_MEM(out.data, kcat_batch, sizeof kcat_batch);
    kafka_batch_writer_release(&w);
    sl_buf_release(&out);
}

static void test_batch_crc_mismatch_rejected(void)
{
    uint8_t copy[sizeof kcat_batch];
    memcpy(copy, kcat_batch, sizeof copy);
    copy[sizeof copy - 3] ^= 0x20; /* "world" -> "woRld" */
    struct kafka_batch b;
    struct sl_error err = {0};
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), SL_ECORRUPT);
    CHECK(strstr(err.msg, "crc mismatch") != NULL);
    CHECK(strstr(err.msg, "0x11179923") != NULL);
    /* The header-only parse does not look at the CRC. */
    sl_error_clear(&err);
    CHECK_INT(kafka_batch_parse_header(sl_slice_make(copy, sizeof copy), &b, &err), 89);
}

static void test_batch_patch_base_offset_keeps_crc_valid(void)
{
    uint8_t copy[sizeof kcat_batch];
    memcpy(copy, kcat_batch, sizeof copy);
    kafka_batch_set_base_offset(copy, 1234567890123LL);
    kafka_batch_set_leader_epoch(copy, 7);
    struct kafka_batch b;
    struct sl_error err = {0};
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(b.base_offset, 1234567890123LL);
    CHECK_INT(b.partition_leader_epoch, 7);
    CHECK_INT(kafka_batch_last_offset(&b), 1234567890124LL);
    CHECK_MEM(copy + 16, kcat_batch + 16, sizeof copy - 16);
}

static void test_batch_log_append_time_recomputes_crc(void)
{
    uint8_t copy[sizeof kcat_batch];
    memcpy(copy, kcat_batch, sizeof copy);
    kafka_batch_set_log_append_time(copy, sizeof copy, 42);
    struct kafka_batch b;
    struct sl_error err = {0};
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(b.max_timestamp, 42);
    CHECK(b.attributes & KAFKA_BATCH_ATTR_LOG_APPEND_TIME);
    struct kafka_batch_reader rd;
    struct kafka_record rec;
    CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
    CHECK_INT(rec.timestamp, 42);
    kafka_batch_reader_release(&rd);
}

static void test_batch_every_truncation_returns_eagain(void)
{
    for (size_t n = 0; n < sizeof kcat_batch; n++) {
        struct kafka_batch b;
        struct sl_error err = {0};
        int64_t rc = kafka_batch_parse(sl_slice_make(kcat_batch, n), &b, &err);
        if (rc != SL_EAGAIN)
            fprintf(stderr, "prefix %zu\n", n);
        CHECK_INT(rc, SL_EAGAIN);
    }
}

static void test_batch_legacy_and_bad_magic_rejected(void)
{
    uint8_t copy[sizeof kcat_batch];
    memcpy(copy, kcat_batch, sizeof copy);
    struct kafka_batch b;
    struct sl_error err = {0};
    copy[16] = 1;
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), SL_EUNSUPPORTED);
    CHECK(strstr(err.msg, "magic 1") != NULL);
    sl_error_clear(&err);
    copy[16] = 3;
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), SL_EPROTO);
    sl_error_clear(&err);
    memcpy(copy, kcat_batch, sizeof copy);
    copy[11] = 48; /* batch_length below the header size */
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "too small") != NULL);
    sl_error_clear(&err);
    memcpy(copy, kcat_batch, sizeof copy);
    copy[8] = 0x80; /* negative length */
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), SL_EPROTO);
}

/* Rewrite a batch's CRC after a test edits bytes it covers. */
static void fix_crc(uint8_t *p, size_t len)
{
    uint32_t crc = sl_crc32c(0, p + 21, len - 21);
    p[17] = (uint8_t)(crc >> 24);
    p[18] = (uint8_t)(crc >> 16);
    p[19] = (uint8_t)(crc >> 8);
    p[20] = (uint8_t)crc;
}

static void test_batch_validate_produce_rules(void)
{
    uint8_t copy[sizeof kcat_batch];
    struct kafka_batch b;
    struct sl_error err = {0};

    memcpy(copy, kcat_batch, sizeof copy);
    copy[26] = 5; /* last_offset_delta 5 with 2 records */
    fix_crc(copy, sizeof copy);
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(kafka_batch_validate_produce(&b, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "last offset delta") != NULL);

    sl_error_clear(&err);
    memcpy(copy, kcat_batch, sizeof copy);
    copy[22] = KAFKA_BATCH_ATTR_CONTROL;
    fix_crc(copy, sizeof copy);
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(kafka_batch_validate_produce(&b, &err), SL_EPROTO);

    sl_error_clear(&err);
    memcpy(copy, kcat_batch, sizeof copy);
    memset(copy + 43, 0, 8); /* producer_id 0, base_sequence still -1 */
    fix_crc(copy, sizeof copy);
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(kafka_batch_validate_produce(&b, &err), SL_EPROTO);

    sl_error_clear(&err);
    memcpy(copy, kcat_batch, sizeof copy);
    copy[22] = 5; /* codec 5 */
    fix_crc(copy, sizeof copy);
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "codec") != NULL);
}

/* Build a batch of `n` varied records with `codec` into out. */
static void build_batch(int codec, int n, int64_t base_offset, struct sl_buf *out)
{
    struct kafka_batch_writer w;
    struct sl_error err = {0};
    kafka_batch_writer_init(&w, codec, 1700000000000LL);
    w.producer_id = 77;
    w.producer_epoch = 3;
    w.base_sequence = 10;
    for (int i = 0; i < n; i++) {
        char key[32], val[128];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "{\"event_type\":\"purchase\",\"n\":%d,\"pad\":\"%0*d\"}", i,
                 i % 40, 0);
        struct kafka_record_header hdrs[2] = {
            {sv("Host"), sv("localhost")},
            {sv("null-header"), sl_slice_make(NULL, 0)},
        };
        struct sl_slice k = i % 5 == 0 ? sl_slice_make(NULL, 0) : sv(key);
        struct sl_slice v = i % 7 == 3 ? sl_slice_make("", 0) : sv(val);
        CHECK_INT(kafka_batch_writer_add(&w, 1700000000000LL + i * 3 - (i % 2), k, v, hdrs,
                                         (size_t)(i % 3)),
                  SL_OK);
    }
    CHECK_INT(kafka_batch_writer_finish(&w, base_offset, out, &err), SL_OK);
    kafka_batch_writer_release(&w);
}

static void check_batch_records(struct sl_slice bytes, int codec, int n, int64_t base_offset)
{
    struct kafka_batch b;
    struct sl_error err = {0};
    CHECK_INT(kafka_batch_parse(bytes, &b, &err), (int64_t)bytes.len);
    CHECK_INT(kafka_batch_codec(&b), codec);
    CHECK_INT(b.records_count, n);
    CHECK_INT(b.last_offset_delta, n - 1);
    CHECK_INT(b.producer_id, 77);
    CHECK_INT(b.producer_epoch, 3);
    CHECK_INT(b.base_sequence, 10);
    CHECK_INT(kafka_batch_validate_produce(&b, &err), SL_OK);
    struct kafka_batch_reader rd;
    CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
    int64_t max_ts = INT64_MIN;
    for (int i = 0; i < n; i++) {
        struct kafka_record rec;
        if (kafka_batch_reader_next(&rd, &rec, &err) != 1) {
            CHECK(0);
            fprintf(stderr, "record %d: %s\n", i, err.msg);
            break;
        }
        char key[32], val[128];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "{\"event_type\":\"purchase\",\"n\":%d,\"pad\":\"%0*d\"}", i,
                 i % 40, 0);
        CHECK_INT(rec.offset, base_offset + i);
        CHECK_INT(rec.timestamp, 1700000000000LL + i * 3 - (i % 2));
        if (rec.timestamp > max_ts)
            max_ts = rec.timestamp;
        if (i % 5 == 0)
            CHECK(rec.key.p == NULL);
        else
            CHECK(sl_slice_eq_str(rec.key, key));
        if (i % 7 == 3) {
            CHECK(rec.value.p != NULL);
            CHECK_INT(rec.value.len, 0);
        } else {
            CHECK(sl_slice_eq_str(rec.value, val));
        }
        CHECK_INT(rec.headers_count, i % 3);
        struct sl_cur hc = sl_cur_make(rec.headers);
        for (int h = 0; h < rec.headers_count; h++) {
            struct kafka_record_header hdr;
            CHECK_INT(kafka_batch_header_next(&hc, &hdr, &err), SL_OK);
            if (h == 0) {
                CHECK(sl_slice_eq_str(hdr.key, "Host"));
                CHECK(sl_slice_eq_str(hdr.value, "localhost"));
            } else {
                CHECK(sl_slice_eq_str(hdr.key, "null-header"));
                CHECK(hdr.value.p == NULL);
            }
        }
    }
    struct kafka_record rec;
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 0);
    CHECK_INT(b.max_timestamp, max_ts);
    kafka_batch_reader_release(&rd);
    if (err.code)
        fprintf(stderr, "error: %s\n", err.msg);
}

static void test_batch_roundtrip_every_codec(void)
{
    for (int codec = KAFKA_CODEC_NONE; codec <= KAFKA_CODEC_ZSTD; codec++) {
        for (int n = 1; n <= 300; n += 299) {
            struct sl_buf out;
            sl_buf_init(&out, 0);
            build_batch(codec, n, 1000, &out);
            check_batch_records(sl_buf_slice(&out), codec, n, 1000);
            if (codec != KAFKA_CODEC_NONE && n == 300) {
                struct sl_buf plain;
                sl_buf_init(&plain, 0);
                build_batch(KAFKA_CODEC_NONE, n, 1000, &plain);
                CHECK(out.len < plain.len / 2); /* really compressed */
                sl_buf_release(&plain);
            }
            sl_buf_release(&out);
        }
    }
}

static void test_batch_snappy_xerial_framing_decoded(void)
{
    /* Take a raw-snappy batch, decompress its records, and re-frame them the
     * way snappy-java does: magic, version 1, compat 1, then chunks. */
    struct sl_buf raw, plain, framed;
    struct sl_error err = {0};
    sl_buf_init(&raw, 0);
    sl_buf_init(&plain, 0);
    sl_buf_init(&framed, 0);
    build_batch(KAFKA_CODEC_SNAPPY, 50, 0, &raw);
    struct kafka_batch b;
    CHECK(kafka_batch_parse(sl_buf_slice(&raw), &b, &err) > 0);
    CHECK_INT(kafka_batch_decompress(KAFKA_CODEC_SNAPPY, b.records, &plain, &err), SL_OK);

    sl_buf_append(&framed, raw.data, KAFKA_BATCH_HEADER_SIZE);
    sl_buf_append(&framed, "\x82SNAPPY\0", 8);
    sl_buf_be32(&framed, 1);
    sl_buf_be32(&framed, 1);
    size_t chunk = 1000; /* several chunks */
    for (size_t off = 0; off < plain.len; off += chunk) {
        size_t n = plain.len - off < chunk ? plain.len - off : chunk;
        size_t clen = snappy_max_compressed_length(n);
        char *tmp = malloc(clen);
        CHECK(snappy_compress((const char *)plain.data + off, n, tmp, &clen) == SNAPPY_OK);
        sl_buf_be32(&framed, (uint32_t)clen);
        sl_buf_append(&framed, tmp, clen);
        free(tmp);
    }
    sl_buf_patch_be32(&framed, 8, (uint32_t)(framed.len - 12));
    fix_crc(framed.data, framed.len);
    check_batch_records(sl_buf_slice(&framed), KAFKA_CODEC_SNAPPY, 50, 0);

    sl_buf_release(&raw);
    sl_buf_release(&plain);
    sl_buf_release(&framed);
}

static void test_batch_decompression_cap_enforced(void)
{
    /* 4 MiB of one repeated record value compresses to almost nothing. */
    for (int codec = KAFKA_CODEC_GZIP; codec <= KAFKA_CODEC_ZSTD; codec++) {
        struct kafka_batch_writer w;
        struct sl_buf out;
        struct sl_error err = {0};
        char *big = calloc(1, 1 << 20);
        sl_buf_init(&out, 0);
        kafka_batch_writer_init(&w, codec, 0);
        for (int i = 0; i < 4; i++)
            kafka_batch_writer_add(&w, 0, sl_slice_make(NULL, 0), sl_slice_make(big, 1 << 20), NULL,
                                   0);
        CHECK_INT(kafka_batch_writer_finish(&w, 0, &out, &err), SL_OK);
        CHECK(out.len < (1 << 20));
        struct kafka_batch b;
        CHECK(kafka_batch_parse(sl_buf_slice(&out), &b, &err) > 0);
        struct kafka_batch_reader rd;
        CHECK_INT(kafka_batch_reader_init(&rd, &b, 256 << 10, &err), SL_ELIMIT);
        CHECK(strstr(err.msg, "decompress to more than") != NULL);
        kafka_batch_reader_release(&rd);
        sl_error_clear(&err);
        CHECK_INT(kafka_batch_reader_init(&rd, &b, 8 << 20, &err), SL_OK);
        kafka_batch_reader_release(&rd);
        kafka_batch_writer_release(&w);
        sl_buf_release(&out);
        free(big);
    }
}

static void test_batch_next_splits_concatenated_batches(void)
{
    struct sl_buf out;
    struct sl_error err = {0};
    sl_buf_init(&out, 0);
    build_batch(KAFKA_CODEC_NONE, 3, 0, &out);
    build_batch(KAFKA_CODEC_LZ4, 5, 3, &out);
    sl_buf_append(&out, kcat_batch, sizeof kcat_batch);
    struct sl_slice rest = sl_buf_slice(&out);
    struct kafka_batch b;
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(b.records_count, 3);
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(b.records_count, 5);
    CHECK_INT(b.base_offset, 3);
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(b.crc, 0x11179923);
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 0);
    /* A cut-off trailing batch is reported as partial. */
    rest = sl_slice_make(out.data, out.len - 10);
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), SL_EAGAIN);
    CHECK_INT(err.code, SL_OK);
    sl_buf_release(&out);
}

static void test_batch_record_with_overlong_key_rejected(void)
{
    uint8_t copy[sizeof kcat_batch];
    memcpy(copy, kcat_batch, sizeof copy);
    copy[61 + 4] = 0x7e; /* key length 63 in a 13-byte record */
    fix_crc(copy, sizeof copy);
    struct kafka_batch b;
    struct sl_error err = {0};
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    struct kafka_batch_reader rd;
    struct kafka_record rec;
    CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "record 0") != NULL);
    kafka_batch_reader_release(&rd);

    /* Record count larger than the records present. */
    memcpy(copy, kcat_batch, sizeof copy);
    copy[60] = 3;
    fix_crc(copy, sizeof copy);
    sl_error_clear(&err);
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), SL_EPROTO);
    kafka_batch_reader_release(&rd);

    /* Fewer records declared than present: trailing bytes. */
    memcpy(copy, kcat_batch, sizeof copy);
    copy[60] = 1;
    fix_crc(copy, sizeof copy);
    sl_error_clear(&err);
    CHECK_INT(kafka_batch_parse(sl_slice_make(copy, sizeof copy), &b, &err), 89);
    CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
    CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "after the last record") != NULL);
    kafka_batch_reader_release(&rd);
}

static void test_batch_every_byte_mutation_is_handled(void)
{
    /* Flip each byte of records in every codec's batch (CRC fixed up): the
     * reader must fail cleanly or succeed, never read out of bounds. */
    for (int codec = KAFKA_CODEC_NONE; codec <= KAFKA_CODEC_ZSTD; codec++) {
        struct sl_buf out;
        sl_buf_init(&out, 0);
        build_batch(codec, 4, 0, &out);
        for (size_t i = KAFKA_BATCH_HEADER_SIZE; i < out.len; i++) {
            uint8_t *copy = malloc(out.len);
            memcpy(copy, out.data, out.len);
            copy[i] ^= 0x41;
            fix_crc(copy, out.len);
            struct kafka_batch b;
            struct sl_error err = {0};
            if (kafka_batch_parse(sl_slice_make(copy, out.len), &b, &err) > 0) {
                struct kafka_batch_reader rd;
                struct kafka_record rec;
                if (kafka_batch_reader_init(&rd, &b, 1 << 20, &err) == SL_OK)
                    while (kafka_batch_reader_next(&rd, &rec, &err) == 1)
                        ;
                kafka_batch_reader_release(&rd);
            }
            free(copy);
        }
        sl_buf_release(&out);
    }
}

/*
 * Batches librdkafka 2.0.2 (kcat -z snappy|gzip|zstd) produced for six lines
 * {"event_type":"purchase_sword","Host":"localhost","n":1..6}, as stored by
 * the broker. Snappy is raw (no xerial framing), as the protocol brief says.
 */
static const uint8_t rdk_snappy[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa2, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x56, 0x2e, 0xad, 0x5e, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0xa2, 0x08,
    0x6c, 0x2f, 0xff, 0x00, 0x00, 0x01, 0xa2, 0x08, 0x6c, 0x2f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x06, 0xfa, 0x02, 0xc8,
    0x7c, 0x00, 0x00, 0x00, 0x01, 0x70, 0x7b, 0x22, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x5f, 0x74, 0x79,
    0x70, 0x65, 0x22, 0x3a, 0x22, 0x70, 0x75, 0x72, 0x63, 0x68, 0x61, 0x73, 0x65, 0x5f, 0x73, 0x77,
    0x6f, 0x72, 0x64, 0x22, 0x2c, 0x22, 0x48, 0x6f, 0x73, 0x74, 0x22, 0x3a, 0x22, 0x6c, 0x6f, 0x63,
    0x61, 0x6c, 0x68, 0x01, 0x0c, 0x30, 0x2c, 0x22, 0x6e, 0x22, 0x3a, 0x31, 0x7d, 0x00, 0x7c, 0x00,
    0x00, 0x02, 0x01, 0xda, 0x3f, 0x00, 0x00, 0x32, 0x05, 0x3f, 0x00, 0x04, 0xde, 0x3f, 0x00, 0x00,
    0x33, 0x05, 0x3f, 0x00, 0x06, 0xde, 0x3f, 0x00, 0x00, 0x34, 0x05, 0x3f, 0x00, 0x08, 0xde, 0x3f,
    0x00, 0x00, 0x35, 0x05, 0x3f, 0x00, 0x0a, 0xde, 0x3f, 0x00, 0x08, 0x36, 0x7d, 0x00,
};

static const uint8_t rdk_gzip[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa3, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x10, 0x32, 0xfd, 0x5d, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0xa2, 0x08,
    0x6c, 0x30, 0x1e, 0x00, 0x00, 0x01, 0xa2, 0x08, 0x6c, 0x30, 0x1e, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x06, 0x1f, 0x8b, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x61, 0x60, 0x60, 0x60, 0x2c, 0xa8, 0x56, 0x4a,
    0x2d, 0x4b, 0xcd, 0x2b, 0x89, 0x2f, 0xa9, 0x2c, 0x48, 0x55, 0xb2, 0x52, 0x2a, 0x28, 0x2d, 0x4a,
    0xce, 0x48, 0x2c, 0x4e, 0x8d, 0x2f, 0x2e, 0xcf, 0x2f, 0x4a, 0x51, 0xd2, 0x51, 0xf2, 0xc8, 0x2f,
    0x2e, 0x01, 0x8a, 0xe7, 0xe4, 0x27, 0x27, 0xe6, 0x64, 0x80, 0xd8, 0x3a, 0x4a, 0x79, 0x4a, 0x56,
    0x86, 0xb5, 0x0c, 0x35, 0x0c, 0x0c, 0x4c, 0xe4, 0x6a, 0x37, 0x02, 0x6b, 0x67, 0x21, 0x57, 0xbb,
    0x31, 0x58, 0x3b, 0x1b, 0xb9, 0xda, 0x4d, 0xc0, 0xda, 0x39, 0xc8, 0xd5, 0x6e, 0x0a, 0xd6, 0xce,
    0x45, 0xae, 0x76, 0xb3, 0x5a, 0x06, 0x00, 0x30, 0xe8, 0xf9, 0x7d, 0x7a, 0x01, 0x00, 0x00,
};

static const uint8_t rdk_zstd[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa1, 0x00, 0x00, 0x00, 0x00,
    0x02, 0xb7, 0xca, 0x90, 0x74, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0xa2, 0x08,
    0x6c, 0x30, 0x5b, 0x00, 0x00, 0x01, 0xa2, 0x08, 0x6c, 0x30, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x06, 0x28, 0xb5, 0x2f,
    0xfd, 0x00, 0x58, 0x3d, 0x03, 0x00, 0xe4, 0x04, 0x7c, 0x00, 0x00, 0x00, 0x01, 0x70, 0x7b, 0x22,
    0x65, 0x76, 0x65, 0x6e, 0x74, 0x5f, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x70, 0x75, 0x72,
    0x63, 0x68, 0x61, 0x73, 0x65, 0x5f, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x22, 0x2c, 0x22, 0x48, 0x6f,
    0x73, 0x74, 0x22, 0x3a, 0x22, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73, 0x74, 0x22, 0x2c,
    0x22, 0x6e, 0x22, 0x3a, 0x31, 0x7d, 0x00, 0x7c, 0x00, 0x00, 0x02, 0x32, 0x04, 0x33, 0x06, 0x34,
    0x08, 0x35, 0x0a, 0x36, 0x7d, 0x00, 0x09, 0x00, 0x05, 0x47, 0x80, 0x70, 0x05, 0x87, 0x01, 0x41,
    0x0a, 0xce, 0x01, 0x81, 0x15, 0x1c, 0x01, 0xe1, 0x86, 0x0a, 0x67, 0x38, 0x03,
};

static void test_batch_decodes_librdkafka_compressed_batches(void)
{
    const struct {
        const uint8_t *p;
        size_t n;
        int codec;
    } cases[] = {
        {rdk_snappy, sizeof rdk_snappy, KAFKA_CODEC_SNAPPY},
        {rdk_gzip, sizeof rdk_gzip, KAFKA_CODEC_GZIP},
        {rdk_zstd, sizeof rdk_zstd, KAFKA_CODEC_ZSTD},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct kafka_batch b;
        struct sl_error err = {0};
        CHECK_INT(kafka_batch_parse(sl_slice_make(cases[c].p, cases[c].n), &b, &err),
                  (int64_t)cases[c].n);
        CHECK_INT(kafka_batch_codec(&b), cases[c].codec);
        CHECK_INT(b.records_count, 6);
        CHECK_INT(kafka_batch_validate_produce(&b, &err), SL_OK);
        struct kafka_batch_reader rd;
        struct kafka_record rec;
        CHECK_INT(kafka_batch_reader_init(&rd, &b, 0, &err), SL_OK);
        for (int i = 1; i <= 6; i++) {
            char want[96];
            snprintf(want, sizeof want,
                     "{\"event_type\":\"purchase_sword\",\"Host\":\"localhost\",\"n\":%d}", i);
            CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 1);
            CHECK(sl_slice_eq_str(rec.value, want));
            CHECK(rec.key.p == NULL);
            CHECK_INT(rec.offset, i - 1);
            CHECK_INT(rec.timestamp, b.base_timestamp);
        }
        CHECK_INT(kafka_batch_reader_next(&rd, &rec, &err), 0);
        kafka_batch_reader_release(&rd);
        if (err.code)
            fprintf(stderr, "%s: %s\n", kafka_codec_name(cases[c].codec), err.msg);
    }
}

static void test_codec_names_roundtrip(void)
{
    for (int c = 0; c <= KAFKA_CODEC_ZSTD; c++)
        CHECK_INT(kafka_codec_parse(kafka_codec_name(c)), c);
    CHECK_INT(kafka_codec_parse("brotli"), SL_EUSAGE);
    CHECK_STR(kafka_codec_name(6), "invalid");
}

int main(void)
{
    RUN(test_batch_parse_known_kcat_bytes);
    RUN(test_batch_writer_reproduces_kcat_bytes);
    RUN(test_batch_crc_mismatch_rejected);
    RUN(test_batch_patch_base_offset_keeps_crc_valid);
    RUN(test_batch_log_append_time_recomputes_crc);
    RUN(test_batch_every_truncation_returns_eagain);
    RUN(test_batch_legacy_and_bad_magic_rejected);
    RUN(test_batch_validate_produce_rules);
    RUN(test_batch_roundtrip_every_codec);
    RUN(test_batch_snappy_xerial_framing_decoded);
    RUN(test_batch_decompression_cap_enforced);
    RUN(test_batch_next_splits_concatenated_batches);
    RUN(test_batch_record_with_overlong_key_rejected);
    RUN(test_batch_every_byte_mutation_is_handled);
    RUN(test_batch_decodes_librdkafka_compressed_batches);
    RUN(test_codec_names_roundtrip);
    return CHECK_DONE();
}
