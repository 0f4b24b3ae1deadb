/* flatten_test.c: tests of src/extract/flatten.c, JSON object -> flat typed row. */
#include <string.h>

#include "check.h"
#include "extract/extract.h"

static struct json_doc doc;
static struct extract_row row;

static int flat(const char *json)
{
    struct sl_error err = { 0 };
    extract_row_reset(&row);
    if (json_parse(&doc, sl_slice_str(json), &err) != SL_OK)
        return -100;
    return extract_flatten(&row, &doc, json_root(&doc), &err);
}

static const struct extract_field *field(const char *name)
{
    long i = extract_row_find(&row, name, strlen(name));
    return i < 0 ? NULL : &row.f[i];
}

static bool field_str(const char *name, const char *want)
{
    const struct extract_field *f = field(name);
    return f && f->kind == EXTRACT_STRING && f->s.len == strlen(want) &&
           memcmp(f->s.p, want, f->s.len) == 0;
}

static void test_flatten_types_each_scalar(void)
{
    CHECK_INT(flat("{\"s\":\"x\",\"i\":-7,\"d\":1.5,\"e\":1e2,\"b\":false,\"z\":null,"
                   "\"big\":99999999999999999999}"), SL_OK);
    CHECK_INT(row.n, 7);
    CHECK(field_str("s", "x"));
    CHECK(field("i")->kind == EXTRACT_INT && field("i")->i == -7);
    CHECK(field("d")->kind == EXTRACT_DOUBLE && field("d")->d == 1.5);
    CHECK(field("e")->kind == EXTRACT_DOUBLE && field("e")->d == 100);
    CHECK(field("b")->kind == EXTRACT_BOOL && !field("b")->b);
    CHECK(field("z")->kind == EXTRACT_NULL);
    CHECK(field("big")->kind == EXTRACT_DOUBLE && field("big")->d == 1e20);
}

static void test_flatten_nested_objects_join_names_with_underscore(void)
{
    CHECK_INT(flat("{\"a\":{\"b\":{\"c\":1},\"d\":\"x\"},\"e\":{}}"), SL_OK);
    CHECK_INT(row.n, 2);
    CHECK(strncmp((const char *)row.f[0].name.p, "a_b_c", 5) == 0 && row.f[0].name.len == 5);
    CHECK(field("a_b_c")->i == 1);
    CHECK(field_str("a_d", "x"));
    CHECK(field("e") == NULL); /* an empty object gives no column */
}

static void test_flatten_arrays_stay_json_text(void)
{
    CHECK_INT(flat("{\"tags\":[1, \"two\", {\"x\":null}]}"), SL_OK);
    CHECK(field_str("tags", "[1, \"two\", {\"x\":null}]"));
}

static void test_flatten_unescapes_keys_and_strings(void)
{
    CHECK_INT(flat("{\"k\\u00e9y\":\"a\\tb\"}"), SL_OK);
    CHECK(field_str("k\xc3\xa9y", "a\tb"));
}

static void test_flatten_rejects_non_objects(void)
{
    CHECK_INT(flat("[1]"), SL_EUSAGE);
    CHECK_INT(flat("\"str\""), SL_EUSAGE);
    CHECK_INT(flat("3"), SL_EUSAGE);
}

static void test_flatten_caps_field_count(void)
{
    row.max_fields = 3;
    CHECK_INT(flat("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}"), SL_ELIMIT);
    row.max_fields = EXTRACT_FIELDS_MAX;
}

static void test_row_set_replaces_case_insensitively_and_keeps_first_spelling(void)
{
    CHECK_INT(flat("{\"Host\":\"a\",\"x\":1,\"host\":\"b\"}"), SL_OK);
    extract_row_set_str(&row, sl_slice_str("HOST"), sl_slice_str("moe"));
    CHECK_INT(row.n, 2);
    CHECK(row.f[0].name.len == 4 && memcmp(row.f[0].name.p, "Host", 4) == 0);
    CHECK(field_str("host", "moe"));
    extract_row_set_str(&row, sl_slice_str("Cache-Control"), sl_slice_str("no-cache"));
    CHECK_INT(row.n, 3);
    CHECK(field_str("cache-control", "no-cache"));
}

static void test_ts_format_is_utc_with_millis(void)
{
    char out[24];
    extract_ts_format(0, out);
    CHECK_STR(out, "1970-01-01 00:00:00.000");
    extract_ts_format(1763900000123LL, out);
    CHECK_STR(out, "2025-11-23 12:13:20.123");
    extract_ts_format(-1, out);
    CHECK_STR(out, "1969-12-31 23:59:59.999");
}

int main(void)
{
    json_doc_init(&doc);
    extract_row_init(&row);
    RUN(test_flatten_types_each_scalar);
    RUN(test_flatten_nested_objects_join_names_with_underscore);
    RUN(test_flatten_arrays_stay_json_text);
    RUN(test_flatten_unescapes_keys_and_strings);
    RUN(test_flatten_rejects_non_objects);
    RUN(test_flatten_caps_field_count);
    RUN(test_row_set_replaces_case_insensitively_and_keeps_first_spelling);
    RUN(test_ts_format_is_utc_with_millis);
    extract_row_release(&row);
    json_doc_release(&doc);
    return CHECK_DONE();
}
