/* read_test.c: tests of src/json/read.c, the tape parser and its accessors. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json/json.h"

static int parse_str(struct json_doc *doc, const char *s, struct sl_error *err)
{
    sl_error_clear(err);
    return json_parse(doc, sl_slice_str(s), err);
}

static void test_json_parse_event_builds_tape_in_document_order(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    const char *s = "{\"event_type\":\"default\",\"n\":[1,2],\"o\":{\"x\":true}}";
    CHECK_INT(parse_str(&doc, s, &err), SL_OK);
    /* OBJECT k s k ARRAY 1 2 k OBJECT k true */
    CHECK_INT(doc.nvals, 11);
    const struct json_val *root = json_root(&doc);
    CHECK_INT(root->type, JSON_OBJECT);
    CHECK_INT(root->next, 11);
    CHECK_INT(root->len, strlen(s));
    CHECK_INT(doc.vals[1].type, JSON_STRING);
    CHECK(doc.vals[1].flags & JSON_F_KEY);
    CHECK_INT(doc.vals[4].type, JSON_ARRAY);
    CHECK_INT(doc.vals[4].next, 7);
    CHECK_INT(doc.vals[8].type, JSON_OBJECT);
    CHECK_INT(doc.vals[10].type, JSON_TRUE);
    CHECK_INT(doc.vals[10].depth, 2);
    CHECK_INT(json_len(&doc, root), 3);
    CHECK_INT(json_len(&doc, &doc.vals[4]), 2);
    struct sl_slice t = json_text(&doc, &doc.vals[4]);
    CHECK(t.len == 5 && memcmp(t.p, "[1,2]", 5) == 0);
    json_doc_release(&doc);
}

static void test_json_iter_visits_members_and_skips_subtrees(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(parse_str(&doc, "{\"a\":{\"deep\":[[1],[2]]},\"b\":2,\"c\":\"x\"}", &err), SL_OK);
    struct json_iter it = json_iter_make(&doc, json_root(&doc));
    const struct json_val *k, *v;
    const char *want[] = { "a", "b", "c" };
    int n = 0;
    while (json_obj_next(&it, &k, &v)) {
        CHECK(n < 3 && json_str_eq(&doc, k, want[n], 1));
        n++;
    }
    CHECK_INT(n, 3);
    json_doc_release(&doc);
}

static void test_json_obj_get_returns_last_duplicate(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(parse_str(&doc, "{\"a\":1,\"b\":2,\"a\":3}", &err), SL_OK);
    const struct json_val *v = json_obj_get(&doc, json_root(&doc), "a", 1);
    int64_t i = 0;
    CHECK(v && json_int(&doc, v, &i) == SL_OK);
    CHECK_INT(i, 3);
    CHECK(json_obj_get(&doc, json_root(&doc), "zz", 2) == NULL);
    json_doc_release(&doc);
}

static void test_json_str_borrows_plain_and_decodes_escaped(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    const char *s = "[\"plain\",\"a\\n\\u00e9\\ud83d\\ude00\\\"\"]";
    CHECK_INT(parse_str(&doc, s, &err), SL_OK);
    struct sl_buf scratch;
    sl_buf_init(&scratch, 0);
    struct sl_slice out;
    CHECK_INT(json_str(&doc, &doc.vals[1], &scratch, &out), SL_OK);
    CHECK(out.p == (const uint8_t *)s + 2 && out.len == 5);
    CHECK_INT(scratch.len, 0);
    CHECK_INT(json_str(&doc, &doc.vals[2], &scratch, &out), SL_OK);
    const char want[] = "a\n\xc3\xa9\xf0\x9f\x98\x80\"";
    CHECK_INT(out.len, sizeof want - 1);
    CHECK_MEM(out.p, want, sizeof want - 1);
    CHECK(json_str_eq(&doc, &doc.vals[2], want, sizeof want - 1));
    CHECK(!json_str_eq(&doc, &doc.vals[2], "a\n", 2));
    CHECK_INT(json_str(&doc, &doc.vals[0], &scratch, &out), SL_EUSAGE);
    sl_buf_release(&scratch);
    json_doc_release(&doc);
}

static void test_json_int_bounds_and_integral_doubles(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(parse_str(&doc, "[9223372036854775807,-9223372036854775808,"
                              "9223372036854775808,2.0,2.5,1e3,\"x\"]", &err), SL_OK);
    int64_t i = 0;
    CHECK_INT(json_int(&doc, &doc.vals[1], &i), SL_OK);
    CHECK(i == INT64_MAX);
    CHECK_INT(json_int(&doc, &doc.vals[2], &i), SL_OK);
    CHECK(i == INT64_MIN);
    CHECK_INT(json_int(&doc, &doc.vals[3], &i), SL_ELIMIT);
    CHECK_INT(json_int(&doc, &doc.vals[4], &i), SL_OK);
    CHECK_INT(i, 2);
    CHECK_INT(json_int(&doc, &doc.vals[5], &i), SL_ELIMIT);
    CHECK_INT(json_int(&doc, &doc.vals[6], &i), SL_OK);
    CHECK_INT(i, 1000);
    CHECK_INT(json_int(&doc, &doc.vals[7], &i), SL_EUSAGE);
    json_doc_release(&doc);
}

static void test_json_double_matches_strtod(void)
{
    const char *nums[] = { "0", "-0", "1.5", "0.1", "3.14159", "1e22", "1e23", "123456789012345678",
                           "2.2250738585072014e-308", "1.7976931348623157e308", "1e400",
                           "-12.5e-3", "0.000001", "9007199254740993", "4.35", "1e-5" };
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        CHECK_INT(parse_str(&doc, nums[k], &err), SL_OK);
        double d = -1;
        CHECK_INT(json_double(&doc, json_root(&doc), &d), SL_OK);
        double want = strtod(nums[k], NULL);
        if (memcmp(&d, &want, sizeof d) != 0)
            fprintf(stderr, "json_double(%s) = %.17g, want %.17g\n", nums[k], d, want);
        CHECK(memcmp(&d, &want, sizeof d) == 0);
    }
    json_doc_release(&doc);
}

static void test_json_error_reports_byte_offset_and_cause(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(parse_str(&doc, "{\"a\":1,}", &err), SL_EPROTO);
    CHECK_INT(err.pos, 7);
    CHECK(strstr(err.msg, "byte 7") != NULL);
    CHECK(strstr(err.msg, "'}'") != NULL);
    CHECK_INT(parse_str(&doc, "[\"ok\", \"\xff\"]", &err), SL_EPROTO);
    CHECK_INT(err.pos, 8);
    CHECK(strstr(err.msg, "UTF-8") != NULL);
    CHECK_INT(parse_str(&doc, "{\"a\" 1}", &err), SL_EPROTO);
    CHECK(strstr(err.msg, "':'") != NULL);
    CHECK_INT(parse_str(&doc, "", &err), SL_EPROTO);
    CHECK(strstr(err.msg, "empty") != NULL);
    json_doc_release(&doc);
}

static void test_json_depth_cap_is_enforced_and_adjustable(void)
{
    char deep[300];
    for (int i = 0; i < 150; i++) {
        deep[i] = '[';
        deep[299 - i] = ']';
    }
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    CHECK_INT(json_parse(&doc, sl_slice_make(deep, 300), &err), SL_ELIMIT);
    CHECK_INT(err.pos, JSON_DEPTH_MAX);
    doc.max_depth = 200;
    sl_error_clear(&err);
    CHECK_INT(json_parse(&doc, sl_slice_make(deep, 300), &err), SL_OK);
    json_doc_release(&doc);
}

static void test_json_vals_cap_fails_with_elimit(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    doc.max_vals = 3;
    struct sl_error err = { 0 };
    CHECK_INT(parse_str(&doc, "[1,2]", &err), SL_OK);
    CHECK_INT(parse_str(&doc, "[1,2,3]", &err), SL_ELIMIT);
    json_doc_release(&doc);
}

static void test_json_strings_crossing_sse_blocks_are_exact(void)
{
    /* Put the quote, a backslash and a multi-byte character at every
     * position relative to a 16-byte block. */
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    char buf[128];
    for (int n = 0; n < 40; n++) {
        int o = 0;
        buf[o++] = '"';
        for (int i = 0; i < n; i++)
            buf[o++] = (char)('a' + i % 26);
        buf[o++] = '\\';
        buf[o++] = 'n';
        buf[o++] = (char)0xc3;
        buf[o++] = (char)0xa9;
        buf[o++] = '"';
        CHECK_INT(json_parse(&doc, sl_slice_make(buf, (size_t)o), &err), SL_OK);
        CHECK_INT(json_root(&doc)->len, n + 4);
        /* and a raw control character at the same spot is rejected */
        buf[n + 1] = '\t';
        sl_error_clear(&err);
        CHECK_INT(json_parse(&doc, sl_slice_make(buf, (size_t)o), &err), SL_EPROTO);
        CHECK_INT(err.pos, n + 1);
        sl_error_clear(&err);
    }
    json_doc_release(&doc);
}

static void test_json_stream_reads_ndjson_and_names_bad_line(void)
{
    const char *body = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":,}\n{\"d\":4}\n";
    struct json_stream st = json_stream_make(sl_slice_str(body));
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    struct sl_slice raw;
    size_t line = 0;
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), 1);
    CHECK_INT(line, 1);
    CHECK(raw.len == 7 && memcmp(raw.p, "{\"a\":1}", 7) == 0);
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), 1);
    CHECK_INT(line, 3);
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), SL_EPROTO);
    CHECK(strncmp(err.msg, "line 4: ", 8) == 0);
    CHECK(strstr(err.msg, "byte 5 of the line") != NULL);
    sl_error_clear(&err);
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), 1);
    CHECK_INT(line, 5);
    CHECK(json_obj_get(&doc, json_root(&doc), "d", 1) != NULL);
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), 0);
    json_doc_release(&doc);
}

static void test_json_parse_line_stops_at_the_value_and_fails_across_lines(void)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    size_t used = 0;
    const char *two = "{\"a\": [1, 2]} \n{\"b\":2}\n";
    CHECK_INT(json_parse_line(&doc, sl_slice_str(two), &used, &err), SL_OK);
    CHECK_INT(used, 13);
    CHECK(json_obj_get(&doc, json_root(&doc), "a", 1) != NULL);
    const char *spread = "{\"a\":\n1}\n";
    CHECK_INT(json_parse_line(&doc, sl_slice_str(spread), &used, &err), SL_EPROTO);
    CHECK_INT(err.pos, 5);
    sl_error_clear(&err);
    /* the same text is one value to json_parse_prefix */
    CHECK_INT(json_parse_prefix(&doc, sl_slice_str(spread), &used, &err), SL_OK);
    CHECK_INT(used, 8);
    json_doc_release(&doc);
}

static void test_json_stream_accepts_one_pretty_object(void)
{
    const char *body = "{\n  \"event_type\": \"x\",\n  \"n\": 1\n}\n";
    struct json_stream st = json_stream_make(sl_slice_str(body));
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    struct sl_slice raw;
    size_t line = 0;
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), 1);
    CHECK_INT(json_len(&doc, json_root(&doc)), 2);
    CHECK_INT(json_stream_next(&st, &doc, &raw, &line, &err), 0);
    json_doc_release(&doc);
}

/* ---- the data suite: tests/data/json/{y,n,i}_*.json ---- */

static int suite_run(char prefix, int *count)
{
    DIR *d = opendir("tests/data/json");
    if (!d) {
        fprintf(stderr, "cannot open tests/data/json (run from the repo root)\n");
        return 1;
    }
    int bad = 0;
    struct dirent *e;
    struct json_doc doc;
    json_doc_init(&doc);
    while ((e = readdir(d))) {
        if (e->d_name[0] != prefix || e->d_name[1] != '_')
            continue;
        char path[512];
        snprintf(path, sizeof path, "tests/data/json/%s", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            bad++;
            continue;
        }
        static uint8_t data[1 << 16];
        size_t n = fread(data, 1, sizeof data, f);
        fclose(f);
        /* Copy to an exact-size heap block so ASan sees any over-read. */
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, data, n);
        struct sl_error err = { 0 };
        int rc = json_parse(&doc, sl_slice_make(p, n), &err);
        (*count)++;
        if (prefix == 'y' && rc != SL_OK) {
            fprintf(stderr, "%s: rejected: %s\n", e->d_name, err.msg);
            bad++;
        }
        if (prefix == 'n' && rc == SL_OK) {
            fprintf(stderr, "%s: accepted\n", e->d_name);
            bad++;
        }
        if (prefix == 'n' && rc != SL_OK && (err.msg[0] == '\0' || err.pos > n)) {
            fprintf(stderr, "%s: bad error report\n", e->d_name);
            bad++;
        }
        free(p);
    }
    closedir(d);
    json_doc_release(&doc);
    return bad;
}

static void test_json_data_suite_y_files_parse(void)
{
    int count = 0;
    CHECK_INT(suite_run('y', &count), 0);
    CHECK(count >= 20);
}

static void test_json_data_suite_n_files_are_rejected(void)
{
    int count = 0;
    CHECK_INT(suite_run('n', &count), 0);
    CHECK(count >= 40);
}

static void test_json_data_suite_i_files_do_not_crash(void)
{
    /* i_deep_64: accepted (the cap is 64 levels); i_huge_int: accepted, json_int
     * fails, json_double rounds; i_u0000_in_key: accepted. */
    int count = 0;
    suite_run('i', &count);
    CHECK(count >= 3);
}

int main(void)
{
    RUN(test_json_parse_event_builds_tape_in_document_order);
    RUN(test_json_iter_visits_members_and_skips_subtrees);
    RUN(test_json_obj_get_returns_last_duplicate);
    RUN(test_json_str_borrows_plain_and_decodes_escaped);
    RUN(test_json_int_bounds_and_integral_doubles);
    RUN(test_json_double_matches_strtod);
    RUN(test_json_error_reports_byte_offset_and_cause);
    RUN(test_json_depth_cap_is_enforced_and_adjustable);
    RUN(test_json_vals_cap_fails_with_elimit);
    RUN(test_json_strings_crossing_sse_blocks_are_exact);
    RUN(test_json_stream_reads_ndjson_and_names_bad_line);
    RUN(test_json_stream_accepts_one_pretty_object);
    RUN(test_json_parse_line_stops_at_the_value_and_fails_across_lines);
    RUN(test_json_data_suite_y_files_parse);
    RUN(test_json_data_suite_n_files_are_rejected);
    RUN(test_json_data_suite_i_files_do_not_crash);
    return CHECK_DONE();
}
