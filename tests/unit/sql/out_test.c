/* out_test.c: tests of src/sql/sql_out.c, the result printer of `sluice sql`. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sql/sql.h"

static struct sql_cell txt(const char *s)
{
    return (struct sql_cell){ .kind = SQL_TEXT, .s = s, .len = strlen(s) };
}
static struct sql_cell num(int64_t i) { return (struct sql_cell){ .kind = SQL_INT, .i = i }; }
static struct sql_cell real(double d) { return (struct sql_cell){ .kind = SQL_REAL, .d = d }; }
static struct sql_cell null(void) { return (struct sql_cell){ .kind = SQL_NULL }; }

/* Print a two-column result (host, n) in `mode` and return the text (caller frees). */
static char *render(enum sql_mode mode, int truncate, const struct sql_cell *rows, size_t nrows)
{
    struct sql_out out;
    struct sl_error err = { 0 };
    sql_out_init(&out, mode, NULL);
    out.truncate = truncate;
    const char *names[] = { "host", "n" };
    sql_out_begin(&out, 2, names);
    for (size_t r = 0; r < nrows; r++)
        CHECK_INT(sql_out_row(&out, rows + 2 * r, &err), SL_OK);
    CHECK_INT(sql_out_end(&out, &err), SL_OK);
    char *s = strdup((const char *)out.buf.data);
    sql_out_release(&out);
    return s;
}

static void test_out_table_aligns_text_left_and_numbers_right(void)
{
    struct sql_cell rows[] = { txt("user1.comcast.com"), num(5), txt("a"), num(12345) };
    char *s = render(SQL_MODE_TABLE, 20, rows, 2);
    CHECK_STR(s, "+-----------------+-----+\n"
                 "|host             |    n|\n"
                 "+-----------------+-----+\n"
                 "|user1.comcast.com|    5|\n"
                 "|a                |12345|\n"
                 "+-----------------+-----+\n");
    free(s);
}

static void test_out_table_truncates_wide_cells_like_spark_show(void)
{
    struct sql_cell rows[] = { txt("Mozilla/5.0 (X11; Linux x86_64)"), null() };
    char *s = render(SQL_MODE_TABLE, 20, rows, 1);
    CHECK_STR(s, "+--------------------+----+\n"
                 "|host                |n   |\n"
                 "+--------------------+----+\n"
                 "|Mozilla/5.0 (X11;...|NULL|\n"
                 "+--------------------+----+\n");
    free(s);
    s = render(SQL_MODE_TABLE, 0, rows, 1); /* 0: never truncate */
    CHECK(strstr(s, "|Mozilla/5.0 (X11; Linux x86_64)|") != NULL);
    free(s);
}

static void test_out_table_counts_utf8_characters_not_bytes(void)
{
    struct sql_cell rows[] = { txt("\xc3\xa9t\xc3\xa9"), num(1), txt("abcd"), num(2) };
    char *s = render(SQL_MODE_TABLE, 20, rows, 2);
    CHECK(strstr(s, "|\xc3\xa9t\xc3\xa9 |") != NULL);
    free(s);
    struct sql_cell wide[] = { txt("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), num(1) };
    s = render(SQL_MODE_TABLE, 5, wide, 1); /* 2 characters + "..." */
    CHECK(strstr(s, "|\xc3\xa9\xc3\xa9...|") != NULL);
    free(s);
}

static void test_out_table_of_no_rows_prints_the_header(void)
{
    char *s = render(SQL_MODE_TABLE, 20, NULL, 0);
    CHECK_STR(s, "+----+-+\n|host|n|\n+----+-+\n+----+-+\n");
    free(s);
}

static void test_out_csv_quotes_only_when_needed_and_null_is_empty(void)
{
    struct sql_cell rows[] = { txt("a,b"), num(1), txt("say \"hi\""), null(), txt(""), real(2) };
    char *s = render(SQL_MODE_CSV, 20, rows, 3);
    CHECK_STR(s, "host,n\n\"a,b\",1\n\"say \"\"hi\"\"\",\n\"\",2.0\n");
    free(s);
}

static void test_out_csv_of_no_rows_prints_the_header(void)
{
    char *s = render(SQL_MODE_CSV, 20, NULL, 0);
    CHECK_STR(s, "host,n\n");
    free(s);
}

static void test_out_json_lines_escape_and_type_values(void)
{
    struct sql_cell rows[] = { txt("a\"b\\c\n\x01"), real(0.1), null(), null() };
    char *s = render(SQL_MODE_JSON, 20, rows, 2);
    CHECK_STR(s, "{\"host\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":0.1}\n{\"host\":null,\"n\":null}\n");
    free(s);
}

static void test_out_markdown_escapes_pipes_and_marks_numeric_columns(void)
{
    struct sql_cell rows[] = { txt("a|b"), num(7) };
    char *s = render(SQL_MODE_MARKDOWN, 20, rows, 1);
    CHECK_STR(s, "| host |   n |\n| ---- | --: |\n| a\\|b |   7 |\n");
    free(s);
}

static void test_real_format_is_shortest_round_trip(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    sql_real_format(0.1, &b);
    sl_buf_u8(&b, ' ');
    sql_real_format(2, &b);
    sl_buf_u8(&b, ' ');
    sql_real_format(1.0 / 3, &b);
    sl_buf_u8(&b, ' ');
    sql_real_format(1e20, &b);
    sl_buf_u8(&b, ' ');
    sql_real_format(-2.5, &b);
    CHECK_STR((const char *)b.data, "0.1 2.0 0.3333333333333333 1e+20 -2.5");
    sl_buf_release(&b);
}

static void test_mode_parse_knows_the_four_modes(void)
{
    enum sql_mode m;
    CHECK_INT(sql_mode_parse("csv", &m), SL_OK);
    CHECK_INT(m, SQL_MODE_CSV);
    CHECK_INT(sql_mode_parse("md", &m), SL_OK);
    CHECK_INT(m, SQL_MODE_MARKDOWN);
    CHECK_INT(sql_mode_parse("box", &m), SL_EUSAGE);
}

int main(void)
{
    RUN(test_out_table_aligns_text_left_and_numbers_right);
    RUN(test_out_table_truncates_wide_cells_like_spark_show);
    RUN(test_out_table_counts_utf8_characters_not_bytes);
    RUN(test_out_table_of_no_rows_prints_the_header);
    RUN(test_out_csv_quotes_only_when_needed_and_null_is_empty);
    RUN(test_out_csv_of_no_rows_prints_the_header);
    RUN(test_out_json_lines_escape_and_type_values);
    RUN(test_out_markdown_escapes_pipes_and_marks_numeric_columns);
    RUN(test_real_format_is_shortest_round_trip);
    RUN(test_mode_parse_knows_the_four_modes);
    return CHECK_DONE();
}
