/* session_test.c: tests of src/sql's session, virtual table, push-downs and
 * lake discovery, over Parquet files written by src/parquet's writer. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "parquet/pq.h"
#include "sql/sql.h"
#include "sql/sql_int.h"

static char dir[64];

/* lake/t/part-0.parquet (rows 0..9) and part-1.parquet (rows 10..19, plus a
 * column `extra`), row groups of 4 rows; _SUCCESS and .hidden ignored. */
static void write_lake(void)
{
    strcpy(dir, "/tmp/sluice-sql-test-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/t", dir);
    mkdir(path, 0755);
    for (int f = 0; f < 2; f++) {
        struct pq_column_def cols[] = {
            { .name = "id", .type = PQ_INT64 },
            { .name = "Host", .type = PQ_STRING },
            { .name = "price", .type = PQ_DOUBLE },
            { .name = "ok", .type = PQ_BOOL },
            { .name = "ts", .type = PQ_TIMESTAMP, .unit = PQ_MICROS },
            { .name = "extra", .type = PQ_STRING },
        };
        struct pq_writer_opts opts = { .row_group_rows = 4 };
        struct sl_error err = { 0 };
        snprintf(path, sizeof path, "%s/t/part-%d.parquet", dir, f);
        struct pq_writer *w = pq_writer_open(path, cols, f ? 6 : 5, &opts, &err);
        CHECK(w != NULL);
        if (!w)
            return;
        for (int64_t i = f * 10; i < f * 10 + 10; i++) {
            pq_writer_set_int64(w, 0, i);
            const char *h = i % 2 ? "a.com" : "b.com";
            pq_writer_set_string(w, 1, h, strlen(h));
            if (i % 3)
                pq_writer_set_double(w, 2, (double)i / 2);
            pq_writer_set_bool(w, 3, i % 4 == 0);
            pq_writer_set_int64(w, 4, 1700000000000000 + i * 1500000);
            if (f)
                pq_writer_set_string(w, 5, "x", 1);
            CHECK_INT(pq_writer_end_row(w, &err), SL_OK);
        }
        CHECK_INT(pq_writer_finish(w, &err), SL_OK);
        pq_writer_free(w);
    }
    snprintf(path, sizeof path, "%s/t/_SUCCESS", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/t/.part-2.parquet.tmp", dir);
    fclose(fopen(path, "w"));
}

static void remove_lake(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

/* Run sql in a fresh session over the lake; returns CSV (caller frees) or
 * NULL with the message in *msg. */
static char *query(const char *sql, bool pushdown, char *msg)
{
    struct sl_error err = { 0 };
    struct sql_tables tables = { 0 };
    CHECK_INT(sql_lake_scan(dir, &tables, &err), SL_OK);
    struct sql_session *s = sql_session_new(&err);
    CHECK_INT(sql_session_add_tables(s, &tables, &err), SL_OK);
    sql_session_set_agg_pushdown(s, pushdown);
    struct sql_out out;
    sql_out_init(&out, SQL_MODE_CSV, NULL);
    char *res = NULL;
    if (sql_session_exec(s, sql, &out, &err) == SL_OK)
        res = strdup((const char *)out.buf.data);
    else if (msg)
        strcpy(msg, err.msg);
    sql_out_release(&out);
    sql_session_free(s);
    sql_tables_release(&tables);
    return res;
}

static void check_query(const char *sql, const char *want)
{
    for (int pd = 0; pd < 2; pd++) {
        char *got = query(sql, pd, NULL);
        CHECK_STR(got, want);
        if (got && strcmp(got, want) != 0)
            fprintf(stderr, "  query (pushdown %d): %s\n", pd, sql);
        free(got);
    }
}

static void test_lake_scan_finds_the_table_and_skips_hidden_files(void)
{
    struct sl_error err = { 0 };
    struct sql_tables tables = { 0 };
    CHECK_INT(sql_lake_scan(dir, &tables, &err), SL_OK);
    CHECK_INT(tables.n, 1);
    if (tables.n == 1) {
        CHECK_STR(tables.v[0].name, "t");
        CHECK_INT(tables.v[0].nfiles, 2);
    }
    sql_tables_release(&tables);
    CHECK_INT(sql_lake_scan("/nonexistent-lake", &tables, &err), SL_OK);
    CHECK_INT(tables.n, 0);
}

static void test_union_schema_reads_missing_columns_as_null(void)
{
    check_query("select count(*), count(extra), count(price) from t", "count(*),count(extra),count(price)\n20,10,13\n");
}

static void test_filters_equal_with_and_without_pushdown(void)
{
    check_query("select id from t where id >= 7 and id < 12", "id\n7\n8\n9\n10\n11\n");
    check_query("select id, price from t where price > 8.5", "id,price\n19,9.5\n");
    check_query("select count(*) from t where price is null", "count(*)\n7\n");
    check_query("select id from t where host = 'a.com' and id > 14", "id\n15\n17\n19\n");
    check_query("select id from t where ok = true and extra is not null", "id\n12\n16\n");
    check_query("select id, ts from t where ts >= '2023-11-14 22:13:33' limit 2",
                "id,ts\n9,2023-11-14 22:13:33.500\n10,2023-11-14 22:13:35.000\n");
}

static void test_group_by_equals_with_and_without_pushdown(void)
{
    check_query("select host, count(*), sum(id), avg(price), min(ts), max(extra) from t group by host",
                "Host,count(*),sum(id),avg(price),min(ts),max(extra)\n"
                "a.com,10,100,5.214285714285714,2023-11-14 22:13:21.500,x\n"
                "b.com,10,90,4.5,2023-11-14 22:13:20.000,x\n");
    check_query("select extra, count(*) c from t group by extra having c > 5 order by c desc, extra",
                "extra,c\n,10\nx,10\n");
}

static void test_unknown_table_names_the_tables(void)
{
    char msg[SL_ERROR_MSG_MAX] = "";
    CHECK(query("select * from nope", true, msg) == NULL);
    CHECK_STR(msg, "no such table: nope (tables: t)");
}

static void test_describe_counts_every_column(void)
{
    char *got = query("describe select id, host from t", true, NULL);
    CHECK_STR(got, "summary,id,Host\ncount,20,20\nunique,,2\ntop,,b.com\nfreq,,10\nmean,9.5,\n"
                   "std,5.916079783099616,\nmin,0.0,\n25%,4.75,\n50%,9.5,\n75%,14.25,\nmax,19.0,\n");
    free(got);
}

static void test_timestamps_format_as_text_in_utc(void)
{
    char buf[48];
    CHECK_INT(sql_format_timestamp(0, PQ_MICROS, buf), 23);
    CHECK_STR(buf, "1970-01-01 00:00:00.000");
    sql_format_timestamp(-1, PQ_MILLIS, buf); /* toward the past */
    CHECK_STR(buf, "1969-12-31 23:59:59.999");
    sql_format_timestamp(951782400123456789LL, PQ_NANOS, buf);
    CHECK_STR(buf, "2000-02-29 00:00:00.123");
    sql_format_date(-719468, buf);
    CHECK_STR(buf, "0000-03-01");
}

int main(void)
{
    write_lake();
    RUN(test_lake_scan_finds_the_table_and_skips_hidden_files);
    RUN(test_union_schema_reads_missing_columns_as_null);
    RUN(test_filters_equal_with_and_without_pushdown);
    RUN(test_group_by_equals_with_and_without_pushdown);
    RUN(test_unknown_table_names_the_tables);
    RUN(test_describe_counts_every_column);
    RUN(test_timestamps_format_as_text_in_utc);
    remove_lake();
    return CHECK_DONE();
}
