/*
 * json_parse.c: libFuzzer target for the JSON reader (src/json/read.c).
 *
 * Each input is parsed as one document, as one line's value (json_parse_line:
 * it succeeds only where the value has no newline, and then agrees with
 * json_parse_prefix) and as an NDJSON stream. On success
 * the tape's invariants are checked (every entry inside the input, `next`
 * nesting properly, keys where keys belong), every string is decoded and
 * re-escaped by the writer and the result must parse again to the same
 * decoded text; numbers are converted both ways. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

#define REQUIRE(c)     \
    do {               \
        if (!(c))      \
            abort();   \
    } while (0)

static void check_tape(const struct json_doc *doc, size_t in_len)
{
    REQUIRE(doc->nvals > 0);
    REQUIRE(doc->vals[0].next == doc->nvals);
    for (uint32_t i = 0; i < doc->nvals; i++) {
        const struct json_val *v = &doc->vals[i];
        REQUIRE((size_t)v->off + v->len <= in_len);
        REQUIRE(v->next > i && v->next <= doc->nvals);
        if (v->type != JSON_OBJECT && v->type != JSON_ARRAY)
            REQUIRE(v->next == i + 1);
        if (v->type == JSON_OBJECT) {
            /* children alternate key, value */
            for (uint32_t k = i + 1; k < v->next;) {
                REQUIRE(doc->vals[k].type == JSON_STRING && (doc->vals[k].flags & JSON_F_KEY));
                REQUIRE(k + 1 < v->next);
                k = doc->vals[k + 1].next;
                REQUIRE(k <= v->next);
            }
        }
    }
}

static void check_values(const struct json_doc *doc)
{
    struct sl_buf scratch, out;
    sl_buf_init(&scratch, 0);
    sl_buf_init(&out, 0);
    struct json_doc again;
    json_doc_init(&again);
    for (uint32_t i = 0; i < doc->nvals; i++) {
        const struct json_val *v = &doc->vals[i];
        if (v->type == JSON_STRING) {
            struct sl_slice s;
            sl_buf_reset(&scratch);
            REQUIRE(json_str(doc, v, &scratch, &s) == SL_OK);
            REQUIRE(json_str_eq(doc, v, s.p, s.len));
            /* decoded -> escaped -> parsed -> decoded is the identity */
            sl_buf_reset(&out);
            REQUIRE(json_write_str(&out, s.p, s.len) == SL_OK);
            struct sl_error err = { 0 };
            REQUIRE(json_parse(&again, sl_buf_slice(&out), &err) == SL_OK);
            REQUIRE(json_str_eq(&again, json_root(&again), s.p, s.len));
        } else if (v->type == JSON_NUMBER) {
            double d;
            int64_t x;
            REQUIRE(json_double(doc, v, &d) == SL_OK);
            if (json_int(doc, v, &x) == SL_OK && (v->flags & JSON_F_INT))
                REQUIRE((double)x == d || llabs(x) > (1LL << 53));
        }
    }
    /* Copying the root through the writer gives the same text. */
    struct json_writer w;
    sl_buf_reset(&out);
    json_writer_init(&w, &out);
    json_w_val(&w, doc, json_root(doc));
    REQUIRE(json_writer_finish(&w) == SL_OK);
    struct sl_slice t = json_text(doc, json_root(doc));
    REQUIRE(out.len == t.len && memcmp(out.data, t.p, t.len) == 0);
    json_doc_release(&again);
    sl_buf_release(&scratch);
    sl_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_doc doc;
    json_doc_init(&doc);
    doc.max_vals = 1u << 16;
    struct sl_error err = { 0 };
    int rc = json_parse(&doc, sl_slice_make(data, size), &err);
    if (rc == SL_OK) {
        check_tape(&doc, size);
        check_values(&doc);
    } else {
        REQUIRE(rc == SL_EPROTO || rc == SL_ELIMIT);
        REQUIRE(err.msg[0] != '\0' && err.pos <= size);
    }

    /* As the value of one line: never across a newline, else as a prefix. */
    size_t used = 0, used2 = 0;
    sl_error_clear(&err);
    if (json_parse_line(&doc, sl_slice_make(data, size), &used, &err) == SL_OK) {
        REQUIRE(used <= size && memchr(data, '\n', used) == NULL);
        check_tape(&doc, used);
        sl_error_clear(&err);
        REQUIRE(json_parse_prefix(&doc, sl_slice_make(data, size), &used2, &err) == SL_OK);
        REQUIRE(used2 == used);
    } else {
        REQUIRE(err.pos <= size);
    }

    /* The same bytes as an NDJSON stream: must terminate and stay in bounds. */
    struct json_stream st = json_stream_make(sl_slice_make(data, size));
    struct sl_slice raw;
    size_t line = 0, prev = 0;
    for (int guard = 0; guard < 100000; guard++) {
        sl_error_clear(&err);
        int r = json_stream_next(&st, &doc, &raw, &line, &err);
        if (r == 0)
            break;
        if (r == 1) {
            REQUIRE(raw.p >= data && raw.p + raw.len <= data + size);
            check_tape(&doc, raw.len);
        } else {
            REQUIRE(err.pos <= size);
        }
        REQUIRE(st.pos > prev || r == 0 || st.pos == size);
        if (st.pos >= size)
            break;
        prev = st.pos;
    }
    json_doc_release(&doc);
    return 0;
}
