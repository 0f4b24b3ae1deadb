/* describe_test.c: tests of src/sql/sql_describe.c, pandas' describe() in C.
 * Expected values are pandas 2.x's for the same data (checked by hand with
 * numpy's linear quantiles: h = (n - 1) q). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sql/sql.h"

#define CHECK_NEAR(a, b)                                                           \
    do {                                                                           \
        double x_ = (a), y_ = (b);                                                 \
        if (!(fabs(x_ - y_) <= 1e-9 * (fabs(y_) + 1))) {                           \
            fprintf(stderr, "%s:%d: %s ~ %s failed: %.17g != %.17g\n", __FILE__,   \
                    __LINE__, #a, #b, x_, y_);                                     \
            check_failures_++;                                                     \
        }                                                                          \
    } while (0)

static void test_quantile_interpolates_linearly(void)
{
    double v[] = { 1, 2, 3, 4 };
    CHECK_NEAR(sql_quantile(v, 4, 0.25), 1.75);
    CHECK_NEAR(sql_quantile(v, 4, 0.5), 2.5);
    CHECK_NEAR(sql_quantile(v, 4, 0.75), 3.25);
    CHECK_NEAR(sql_quantile(v, 4, 0), 1);
    CHECK_NEAR(sql_quantile(v, 4, 1), 4);
    double one[] = { 7 };
    CHECK_NEAR(sql_quantile(one, 1, 0.25), 7);
}

/* Run describe over rows of (x numeric, s text) and return the JSON lines. */
static char *describe_json(const struct sql_cell *cells, size_t nrows)
{
    const char *names[] = { "x", "s" };
    enum sql_describe_kind kinds[] = { SQL_DESCRIBE_NUMERIC, SQL_DESCRIBE_TEXT };
    struct sql_describe *d = sql_describe_new(2, names, kinds);
    for (size_t r = 0; r < nrows; r++) {
        sql_describe_add(d, 0, &cells[2 * r]);
        sql_describe_add(d, 1, &cells[2 * r + 1]);
    }
    struct sql_out out;
    struct sl_error err = { 0 };
    sql_out_init(&out, SQL_MODE_JSON, NULL);
    CHECK_INT(sql_describe_write(d, &out, &err), SL_OK);
    char *s = strdup((const char *)out.buf.data);
    sql_out_release(&out);
    sql_describe_free(d);
    return s;
}

#define I(v) { .kind = SQL_INT, .i = (v) }
#define R(v) { .kind = SQL_REAL, .d = (v) }
#define T(v) { .kind = SQL_TEXT, .s = (v), .len = sizeof(v) - 1 }
#define N { .kind = SQL_NULL }

static void test_describe_matches_pandas_on_mixed_columns(void)
{
    /* pandas: pd.DataFrame({'x':[1,2,3,4,None], 's':['a','b','a',None,'a']})
     *         .describe(include='all') */
    struct sql_cell rows[] = { I(1), T("a"), R(2), T("b"), I(3), T("a"), I(4), N, N, T("a") };
    char *s = describe_json(rows, 5);
    CHECK_STR(s, "{\"summary\":\"count\",\"x\":4,\"s\":4}\n"
                 "{\"summary\":\"unique\",\"x\":null,\"s\":2}\n"
                 "{\"summary\":\"top\",\"x\":null,\"s\":\"a\"}\n"
                 "{\"summary\":\"freq\",\"x\":null,\"s\":3}\n"
                 "{\"summary\":\"mean\",\"x\":2.5,\"s\":null}\n"
                 "{\"summary\":\"std\",\"x\":1.2909944487358056,\"s\":null}\n"
                 "{\"summary\":\"min\",\"x\":1.0,\"s\":null}\n"
                 "{\"summary\":\"25%\",\"x\":1.75,\"s\":null}\n"
                 "{\"summary\":\"50%\",\"x\":2.5,\"s\":null}\n"
                 "{\"summary\":\"75%\",\"x\":3.25,\"s\":null}\n"
                 "{\"summary\":\"max\",\"x\":4.0,\"s\":null}\n");
    free(s);
}

static void test_describe_std_of_one_value_is_null(void)
{
    struct sql_cell rows[] = { I(5), T("z") };
    char *s = describe_json(rows, 1);
    CHECK(strstr(s, "{\"summary\":\"std\",\"x\":null,\"s\":null}") != NULL);
    CHECK(strstr(s, "{\"summary\":\"25%\",\"x\":5.0,\"s\":null}") != NULL);
    free(s);
}

static void test_describe_top_of_ties_is_the_first_seen(void)
{
    struct sql_cell rows[] = { N, T("b"), N, T("a"), N, T("a"), N, T("b") };
    char *s = describe_json(rows, 4);
    CHECK(strstr(s, "{\"summary\":\"top\",\"x\":null,\"s\":\"b\"}") != NULL);
    CHECK(strstr(s, "{\"summary\":\"freq\",\"x\":null,\"s\":2}") != NULL);
    CHECK(strstr(s, "{\"summary\":\"count\",\"x\":0,\"s\":4}") != NULL);
    CHECK(strstr(s, "{\"summary\":\"mean\",\"x\":null,\"s\":null}") != NULL);
    free(s);
}

static void test_describe_counts_many_distinct_values(void)
{
    const char *names[] = { "s" };
    enum sql_describe_kind kinds[] = { SQL_DESCRIBE_TEXT };
    struct sql_describe *d = sql_describe_new(1, names, kinds);
    char tmp[32];
    for (int k = 0; k < 100000; k++) {
        int v = k % 7000 == 0 ? 42 : k;  /* 42 repeats */
        int n = snprintf(tmp, sizeof tmp, "v%d", v);
        struct sql_cell c = { .kind = SQL_TEXT, .s = tmp, .len = (size_t)n };
        sql_describe_add(d, 0, &c);
    }
    struct sql_out out;
    struct sl_error err = { 0 };
    sql_out_init(&out, SQL_MODE_CSV, NULL);
    CHECK_INT(sql_describe_write(d, &out, &err), SL_OK);
    CHECK_STR((const char *)out.buf.data,
              "summary,s\ncount,100000\nunique,99985\ntop,v42\nfreq,16\n");
    sql_out_release(&out);
    sql_describe_free(d);
}

static void test_describe_numeric_only_prints_numeric_rows(void)
{
    const char *names[] = { "x" };
    enum sql_describe_kind kinds[] = { SQL_DESCRIBE_NUMERIC };
    struct sql_describe *d = sql_describe_new(1, names, kinds);
    for (int k = 1; k <= 10; k++) {
        struct sql_cell c = { .kind = SQL_INT, .i = k };
        sql_describe_add(d, 0, &c);
    }
    struct sql_out out;
    struct sl_error err = { 0 };
    sql_out_init(&out, SQL_MODE_CSV, NULL);
    CHECK_INT(sql_describe_write(d, &out, &err), SL_OK);
    /* pandas: pd.Series(range(1, 11)).describe() */
    CHECK_STR((const char *)out.buf.data,
              "summary,x\ncount,10\nmean,5.5\nstd,3.0276503540974917\nmin,1.0\n"
              "25%,3.25\n50%,5.5\n75%,7.75\nmax,10.0\n");
    sql_out_release(&out);
    sql_describe_free(d);
}

int main(void)
{
    RUN(test_quantile_interpolates_linearly);
    RUN(test_describe_matches_pandas_on_mixed_columns);
    RUN(test_describe_std_of_one_value_is_null);
    RUN(test_describe_top_of_ties_is_the_first_seen);
    RUN(test_describe_counts_many_distinct_values);
    RUN(test_describe_numeric_only_prints_numeric_rows);
    return CHECK_DONE();
}
