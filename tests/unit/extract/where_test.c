/* where_test.c: tests of src/extract/where.c, the --where predicate language. */
#include <string.h>

#include "check.h"
#include "extract/extract.h"

/* Evaluate `expr` against the flattened JSON object `json`: 1 kept, 0 not, -1 compile error. */
static int eval(const char *expr, const char *json)
{
    struct sl_error err = { 0 };
    struct extract_where *w = extract_where_compile(expr, &err);
    if (!w) {
        fprintf(stderr, "  compile '%s': %s\n", expr, err.msg);
        return -1;
    }
    struct json_doc doc;
    json_doc_init(&doc);
    struct extract_row row;
    extract_row_init(&row);
    int r = -2;
    if (json_parse(&doc, sl_slice_str(json), &err) == SL_OK &&
        extract_flatten(&row, &doc, json_root(&doc), &err) == SL_OK)
        r = extract_where_eval(w, &row);
    extract_row_release(&row);
    json_doc_release(&doc);
    extract_where_free(w);
    return r;
}

static const char *ev = "{\"event_type\":\"purchase_sword\",\"Host\":\"user1.comcast.com\","
                        "\"n\":5,\"price\":2.5,\"ok\":true,\"none\":null,\"User-Agent\":\"ab/2.3\","
                        "\"meta\":{\"level\":3}}";

static void test_where_equality_on_strings_and_the_reference_filter(void)
{
    CHECK_INT(eval("event_type = 'purchase_sword'", ev), 1);
    CHECK_INT(eval("event_type = 'default'", ev), 0);
    CHECK_INT(eval("event_type != 'default'", ev), 1);
    CHECK_INT(eval("event_type <> 'purchase_sword'", ev), 0);
    CHECK_INT(eval("event_type == 'purchase_sword'", ev), 1);
}

static void test_where_column_names_are_case_insensitive(void)
{
    CHECK_INT(eval("host = 'user1.comcast.com'", ev), 1);
    CHECK_INT(eval("HOST LIKE 'user1.%'", ev), 1);
    CHECK_INT(eval("\"user-agent\" = 'ab/2.3'", ev), 1);
    CHECK_INT(eval("`User-Agent` = 'ab/2.3'", ev), 1);
    CHECK_INT(eval("META_LEVEL = 3", ev), 1);
}

static void test_where_numbers_compare_numerically(void)
{
    CHECK_INT(eval("n > 4", ev), 1);
    CHECK_INT(eval("n >= 5 AND n <= 5", ev), 1);
    CHECK_INT(eval("n < 5", ev), 0);
    CHECK_INT(eval("price > 2", ev), 1);
    CHECK_INT(eval("price = 2.5", ev), 1);
    CHECK_INT(eval("n = 5.0", ev), 1);
    CHECK_INT(eval("n BETWEEN 1 AND 10", ev), 1);
    CHECK_INT(eval("n NOT BETWEEN 1 AND 10", ev), 0);
    CHECK_INT(eval("n = '5'", ev), 1);  /* a numeric string converts */
    CHECK_INT(eval("n = 'five'", ev), 0); /* unknown, so not kept */
    CHECK_INT(eval("n > -1e3", ev), 1);
}

static void test_where_in_like_and_null_tests(void)
{
    CHECK_INT(eval("event_type IN ('default', 'purchase_sword')", ev), 1);
    CHECK_INT(eval("event_type NOT IN ('default', 'purchase_sword')", ev), 0);
    CHECK_INT(eval("n IN (1, 2, 5)", ev), 1);
    CHECK_INT(eval("event_type LIKE 'purchase%'", ev), 1);
    CHECK_INT(eval("event_type LIKE 'purchase_swor_'", ev), 1);
    CHECK_INT(eval("event_type LIKE 'Purchase%'", ev), 0); /* case-sensitive */
    CHECK_INT(eval("event_type NOT LIKE '%knife'", ev), 1);
    CHECK_INT(eval("event_type LIKE '%'", ev), 1);
    CHECK_INT(eval("none IS NULL", ev), 1);
    CHECK_INT(eval("missing IS NULL", ev), 1);
    CHECK_INT(eval("n IS NOT NULL", ev), 1);
    CHECK_INT(eval("n IS NULL", ev), 0);
}

static void test_where_three_valued_logic_with_missing_columns(void)
{
    CHECK_INT(eval("missing = 1", ev), 0);
    CHECK_INT(eval("NOT (missing = 1)", ev), 0); /* NOT unknown is unknown */
    CHECK_INT(eval("missing = 1 OR n = 5", ev), 1);
    CHECK_INT(eval("missing = 1 AND n = 5", ev), 0);
    CHECK_INT(eval("NOT (missing = 1 AND n = 6)", ev), 1); /* unknown AND false = false */
    CHECK_INT(eval("missing NOT IN (1, 2)", ev), 0);
}

static void test_where_precedence_and_parentheses(void)
{
    CHECK_INT(eval("n = 1 OR n = 5 AND event_type = 'x'", ev), 0); /* AND binds tighter */
    CHECK_INT(eval("(n = 1 OR n = 5) AND event_type LIKE 'p%'", ev), 1);
    CHECK_INT(eval("NOT n = 1", ev), 1);
    CHECK_INT(eval("not not ok", ev), 1);
    CHECK_INT(eval("ok = TRUE AND ok", ev), 1);
}

static void test_where_string_literals_escape_quotes(void)
{
    CHECK_INT(eval("s = 'it''s'", "{\"s\":\"it's\"}"), 1);
    CHECK_INT(eval("s LIKE '%\xc3\xa9_'", "{\"s\":\"caf\xc3\xa9\xe2\x82\xac\"}"), 1);
}

static void test_where_bad_expressions_fail_with_column(void)
{
    const char *bad[] = { "", "event_type =", "event_type = 'x", "(a = 1", "a = 1)", "a = = 1",
                          "a IN 1", "a IN ()", "a LIKE 5", "a IS 5", "'x'", "5", "a AND",
                          "a = 1 b = 2", "a ! 1", "a = 1 OR", "a NOT 1", "a # 1", "\"\" = 1",
                          "a BETWEEN 1", "5 AND a", NULL };
    for (int i = 0; bad[i]; i++) {
        struct sl_error err = { 0 };
        struct extract_where *w = extract_where_compile(bad[i], &err);
        if (w)
            fprintf(stderr, "  accepted bad expression '%s'\n", bad[i]);
        CHECK(w == NULL);
        CHECK_INT(err.code, SL_EUSAGE);
        CHECK(strstr(err.msg, "bad --where expression") != NULL);
        extract_where_free(w);
    }
    struct sl_error err = { 0 };
    CHECK(extract_where_compile("a = 1 AND (b = ", &err) == NULL);
    CHECK(strstr(err.msg, "column 16") != NULL);
}

static void test_where_deep_nesting_is_capped(void)
{
    char buf[2100];
    int n = 0;
    for (int i = 0; i < 1000; i++)
        buf[n++] = '(';
    buf[n++] = 'a';
    buf[n] = '\0';
    struct sl_error err = { 0 };
    CHECK(extract_where_compile(buf, &err) == NULL);
    CHECK(strstr(err.msg, "too deeply") != NULL);
}

int main(void)
{
    RUN(test_where_equality_on_strings_and_the_reference_filter);
    RUN(test_where_column_names_are_case_insensitive);
    RUN(test_where_numbers_compare_numerically);
    RUN(test_where_in_like_and_null_tests);
    RUN(test_where_three_valued_logic_with_missing_columns);
    RUN(test_where_precedence_and_parentheses);
    RUN(test_where_string_literals_escape_quotes);
    RUN(test_where_bad_expressions_fail_with_column);
    RUN(test_where_deep_nesting_is_capped);
    return CHECK_DONE();
}
