/* write_test.c: tests of src/json/write.c, escaping, the writer and the merge. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "json/json.h"

static void test_json_write_str_escapes_quotes_controls_and_keeps_utf8(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    const char in[] = "a\"b\\c\n\t\x01\x1f\x7f \xc3\xa9/";
    CHECK_INT(json_write_str(&b, in, sizeof in - 1), SL_OK);
    CHECK_STR((char *)b.data, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f \xc3\xa9/\"");
    sl_buf_release(&b);
}

static void test_json_write_str_replaces_invalid_utf8(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    CHECK_INT(json_write_str(&b, "x\xff\xc3y", 4), SL_OK);
    CHECK_STR((char *)b.data, "\"x\xef\xbf\xbd\xef\xbf\xbdy\"");
    sl_buf_release(&b);
}

static void test_json_write_str_fits_exactly_in_a_tight_buffer(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 8); /* "a\nb" -> "a\\nb" quoted = 6 bytes */
    CHECK_INT(json_write_str(&b, "a\nb", 3), SL_OK);
    CHECK_STR((char *)b.data, "\"a\\nb\"");
    CHECK_INT(json_write_str(&b, "abc", 3), SL_ELIMIT);
    CHECK_INT(b.len, 6);
    sl_buf_release(&b);
}

static void test_json_writer_output_round_trips_through_parser(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct json_writer w;
    json_writer_init(&w, &b);
    json_w_obj_begin(&w);
    json_w_key(&w, "s", 1);
    json_w_str(&w, "he said \"hi\"", 12);
    json_w_key(&w, "i", 1);
    json_w_int(&w, -42);
    json_w_key(&w, "d", 1);
    json_w_double(&w, 0.1);
    json_w_key(&w, "one", 3);
    json_w_double(&w, 1.0);
    json_w_key(&w, "nan", 3);
    json_w_double(&w, NAN);
    json_w_key(&w, "a", 1);
    json_w_arr_begin(&w);
    json_w_bool(&w, true);
    json_w_null(&w);
    json_w_arr_begin(&w);
    json_w_arr_end(&w);
    json_w_arr_end(&w);
    json_w_obj_end(&w);
    CHECK_INT(json_writer_finish(&w), SL_OK);
    CHECK_STR((char *)b.data, "{\"s\":\"he said \\\"hi\\\"\",\"i\":-42,\"d\":0.1,\"one\":1.0,"
                              "\"nan\":null,\"a\":[true,null,[]]}");
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(json_parse(&doc, sl_buf_slice(&b), &err), SL_OK);
    json_doc_release(&doc);
    sl_buf_release(&b);
}

static void test_json_writer_misuse_is_sticky(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct json_writer w;
    json_writer_init(&w, &b);
    json_w_obj_begin(&w);
    json_w_int(&w, 1); /* a value where a key is due */
    json_w_key(&w, "k", 1);
    CHECK_INT(json_writer_finish(&w), SL_EUSAGE);
    json_writer_init(&w, &b);
    json_w_arr_begin(&w);
    CHECK_INT(json_writer_finish(&w), SL_EUSAGE); /* unclosed */
    sl_buf_release(&b);
}

static void test_json_writer_full_buffer_fails_with_elimit(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 10);
    struct json_writer w;
    json_writer_init(&w, &b);
    json_w_arr_begin(&w);
    for (int i = 0; i < 10; i++)
        json_w_int(&w, 12345);
    json_w_arr_end(&w);
    CHECK_INT(json_writer_finish(&w), SL_ELIMIT);
    CHECK(b.len <= 10);
    sl_buf_release(&b);
}

static void test_json_double_writes_shortest_round_trip(void)
{
    double vals[] = { 0.1, 1.0 / 3, 1e300, -2.5, 123456789.0, 5e-324 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        struct sl_buf b;
        sl_buf_init(&b, 0);
        struct json_writer w;
        json_writer_init(&w, &b);
        json_w_double(&w, vals[i]);
        CHECK_INT(json_writer_finish(&w), SL_OK);
        struct json_doc doc;
        json_doc_init(&doc);
        struct sl_error err = { 0 };
        CHECK_INT(json_parse(&doc, sl_buf_slice(&b), &err), SL_OK);
        double d = 0;
        json_double(&doc, json_root(&doc), &d);
        CHECK(d == vals[i]);
        CHECK(json_root(&doc)->type == JSON_NUMBER && !(json_root(&doc)->flags & JSON_F_INT));
        json_doc_release(&doc);
        sl_buf_release(&b);
    }
}

static void test_json_merge_strings_overrides_like_python_update(void)
{
    const char *ev = "{\"event_type\":\"purchase_sword\",\"Host\":\"old\",\"n\":[1, 2]}";
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(json_parse(&doc, sl_slice_str(ev), &err), SL_OK);
    struct sl_slice keys[] = { sl_slice_str("Host"), sl_slice_str("User-Agent"),
                               sl_slice_str("Accept") };
    struct sl_slice vals[] = { sl_slice_str("user1.comcast.com"), sl_slice_str("curl/8.0"),
                               sl_slice_str("*/*") };
    struct sl_buf b;
    sl_buf_init(&b, 0);
    CHECK_INT(json_merge_strings(&b, &doc, json_root(&doc), keys, vals, 3), SL_OK);
    CHECK_STR((char *)b.data, "{\"event_type\":\"purchase_sword\",\"n\":[1, 2],"
                              "\"Host\":\"user1.comcast.com\",\"User-Agent\":\"curl/8.0\","
                              "\"Accept\":\"*/*\"}");
    sl_buf_reset(&b);
    CHECK_INT(json_parse(&doc, sl_slice_str("{}"), &err), SL_OK);
    CHECK_INT(json_merge_strings(&b, &doc, json_root(&doc), keys, vals, 1), SL_OK);
    CHECK_STR((char *)b.data, "{\"Host\":\"user1.comcast.com\"}");
    CHECK_INT(json_parse(&doc, sl_slice_str("[1]"), &err), SL_OK);
    CHECK_INT(json_merge_strings(&b, &doc, json_root(&doc), keys, vals, 1), SL_EUSAGE);
    sl_buf_release(&b);
    json_doc_release(&doc);
}

int main(void)
{
    RUN(test_json_write_str_escapes_quotes_controls_and_keeps_utf8);
    RUN(test_json_write_str_replaces_invalid_utf8);
    RUN(test_json_write_str_fits_exactly_in_a_tight_buffer);
    RUN(test_json_writer_output_round_trips_through_parser);
    RUN(test_json_writer_misuse_is_sticky);
    RUN(test_json_writer_full_buffer_fails_with_elimit);
    RUN(test_json_double_writes_shortest_round_trip);
    RUN(test_json_merge_strings_overrides_like_python_update);
    return CHECK_DONE();
}
