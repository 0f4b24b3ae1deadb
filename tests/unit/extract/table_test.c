/* table_test.c: tests of src/extract/table.c (schema union, widening, column
 * order, part files read back with src/parquet) and src/extract/commit.c
 * (versions, modes, the lock, leftovers of crashed runs). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "extract/extract.h"
#include "parquet/pq.h"

static char tmpdir[128];

static void add_json(struct extract_table *t, const char *json, int64_t off)
{
    struct json_doc doc;
    json_doc_init(&doc);
    struct extract_row row;
    extract_row_init(&row);
    struct sl_error err = { 0 };
    CHECK_INT(json_parse(&doc, sl_slice_str(json), &err), SL_OK);
    CHECK_INT(extract_flatten(&row, &doc, json_root(&doc), &err), SL_OK);
    extract_table_add(t, &row, 0, off, 1700000000000 + off);
    extract_row_release(&row);
    json_doc_release(&doc);
}

static struct pq_file *write_and_open(struct extract_table *t, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    struct sl_error err = { 0 };
    CHECK_INT(extract_table_write(t, path, &err), SL_OK);
    struct pq_file *f = pq_file_open(path, &err);
    if (!f)
        fprintf(stderr, "  %s\n", err.msg);
    return f;
}

static void test_table_union_schema_sorted_with_meta_first(void)
{
    struct extract_table *t = extract_table_new("events", true);
    add_json(t, "{\"event_type\":\"default\",\"Host\":\"h1\"}", 0);
    add_json(t, "{\"event_type\":\"knife\",\"description\":\"sharp\"}", 1);
    CHECK_INT(extract_table_rows(t), 2);
    struct pq_file *f = write_and_open(t, "union.parquet");
    CHECK(f != NULL);
    if (f) {
        const char *want[] = { "_partition", "_offset", "_ts", "Host", "description", "event_type" };
        CHECK_INT(f->ncols, 6);
        for (size_t i = 0; i < 6 && i < f->ncols; i++)
            CHECK_STR(f->cols[i].name, want[i]);
        CHECK_INT(f->cols[2].type, PQ_TIMESTAMP);
        CHECK_INT(f->num_rows, 2);
        size_t cols[] = { 3, 4 };
        struct sl_error err = { 0 };
        struct pq_rows *rows = pq_rows_new(f, 0, cols, 2, &err);
        CHECK(rows != NULL);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        struct pq_value v = pq_rows_value(rows, 0);
        CHECK(!v.null && v.s.len == 2 && memcmp(v.s.p, "h1", 2) == 0);
        CHECK(pq_rows_value(rows, 1).null);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        CHECK(pq_rows_value(rows, 0).null);
        CHECK(!pq_rows_value(rows, 1).null);
        pq_rows_free(rows);
        pq_file_free(f);
    }
    CHECK_INT(extract_table_rows(t), 0);
    CHECK_INT(extract_table_written(t), 2);
    extract_table_free(t);
}

static void test_table_widens_int_to_double_and_mixed_to_string(void)
{
    struct extract_table *t = extract_table_new("w", false);
    add_json(t, "{\"a\":1,\"b\":1,\"c\":true,\"d\":null}", 0);
    add_json(t, "{\"a\":2.5,\"b\":\"x\",\"c\":3}", 1);
    struct pq_file *f = write_and_open(t, "widen.parquet");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->ncols, 4);
        CHECK_INT(f->cols[0].type, PQ_DOUBLE); /* a: int + double */
        CHECK_INT(f->cols[1].type, PQ_STRING); /* b: int + string */
        CHECK_INT(f->cols[2].type, PQ_STRING); /* c: bool + int */
        CHECK_INT(f->cols[3].type, PQ_STRING); /* d: only nulls */
        size_t cols[] = { 0, 1, 2 };
        struct sl_error err = { 0 };
        struct pq_rows *rows = pq_rows_new(f, 0, cols, 3, &err);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        CHECK(pq_rows_value(rows, 0).d == 1.0);
        struct pq_value b = pq_rows_value(rows, 1), c = pq_rows_value(rows, 2);
        CHECK(b.s.len == 1 && b.s.p[0] == '1');
        CHECK(c.s.len == 4 && memcmp(c.s.p, "true", 4) == 0);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        CHECK(pq_rows_value(rows, 0).d == 2.5);
        c = pq_rows_value(rows, 2);
        CHECK(c.s.len == 1 && c.s.p[0] == '3');
        pq_rows_free(rows);
        pq_file_free(f);
    }
    extract_table_free(t);
}

static void test_table_case_variants_share_one_column(void)
{
    struct extract_table *t = extract_table_new("c", false);
    add_json(t, "{\"Host\":\"a\"}", 0);
    add_json(t, "{\"host\":\"b\"}", 1);
    struct pq_file *f = write_and_open(t, "case.parquet");
    CHECK(f && f->ncols == 1);
    if (f) {
        CHECK_STR(f->cols[0].name, "Host");
        pq_file_free(f);
    }
    extract_table_free(t);
}

static void test_table_keeps_types_across_parts_and_trims_its_buffers(void)
{
    struct extract_table *t = extract_table_new("k", false);
    add_json(t, "{\"a\":\"x\"}", 0);
    struct pq_file *f = write_and_open(t, "k1.parquet");
    pq_file_free(f);
    extract_table_trim(t); /* buffers go, the schema stays */
    CHECK_INT(extract_table_mem(t), 0);
    add_json(t, "{\"a\":5}", 1);
    add_json(t, "{\"b\":true}", 2);
    f = write_and_open(t, "k2.parquet");
    CHECK(f && f->ncols == 2 && f->cols[0].type == PQ_STRING && f->num_rows == 2);
    if (f) {
        struct sl_error err = { 0 };
        size_t cols[] = { 0, 1 };
        struct pq_rows *rows = pq_rows_new(f, 0, cols, 2, &err);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        struct pq_value v = pq_rows_value(rows, 0);
        CHECK(!v.null && v.s.len == 1 && v.s.p[0] == '5');
        CHECK(pq_rows_value(rows, 1).null);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        CHECK(pq_rows_value(rows, 0).null);
        CHECK(!pq_rows_value(rows, 1).null);
        pq_rows_free(rows);
    }
    pq_file_free(f);
    CHECK_INT(extract_table_written(t), 3);
    extract_table_free(t);
}

static void test_table_strings_longer_than_16_mib_round_trip(void)
{
    size_t n = (16u << 20) + 5;
    char *big = malloc(n + 16);
    memcpy(big, "{\"s\":\"", 6);
    memset(big + 6, 'q', n);
    memcpy(big + 6 + n, "\"}", 3);
    struct extract_table *t = extract_table_new("long", false);
    add_json(t, "{\"s\":\"short\"}", 0);
    add_json(t, big, 1);
    add_json(t, "{\"s\":\"short\"}", 2);
    struct pq_file *f = write_and_open(t, "long.parquet");
    CHECK(f != NULL);
    if (f) {
        size_t cols[] = { 0 };
        struct sl_error err = { 0 };
        struct pq_rows *rows = pq_rows_new(f, 0, cols, 1, &err);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        CHECK_INT(pq_rows_value(rows, 0).s.len, 5);
        CHECK_INT(pq_rows_next(rows, &err), 1);
        struct pq_value v = pq_rows_value(rows, 0);
        CHECK_INT(v.s.len, n);
        CHECK(v.s.len == n && v.s.p[0] == 'q' && v.s.p[n - 1] == 'q');
        CHECK_INT(pq_rows_next(rows, &err), 1);
        v = pq_rows_value(rows, 0);
        CHECK(v.s.len == 5 && memcmp(v.s.p, "short", 5) == 0);
        pq_rows_free(rows);
        pq_file_free(f);
    }
    extract_table_free(t);
    free(big);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

/* Event k of a run whose schema turns at row `turn` the way `how` says. */
static void turning_event(char *out, size_t cap, int k, int turn, int how)
{
    bool after = k >= turn;
    const char *extra = "";
    char n[32];
    snprintf(n, sizeof n, "%d", k);
    if (how == 1 && after)
        extra = ",\"late\":\"x\"";                       /* a new column */
    if (how == 2 && after)
        snprintf(n, sizeof n, "%d.25", k);               /* int64 -> double */
    if (how == 3 && after)
        snprintf(n, sizeof n, "\"s%d\"", k);             /* int64 -> string */
    if (how == 4)
        extra = after ? ",\"z\":5" : ",\"z\":null";      /* only nulls -> int64 */
    if (how == 5)
        extra = k % 2 ? ",\"m\":\"t\"" : ",\"m\":7";     /* mixed from the start */
    char q[64];
    if (how == 7 || how == 8) { /* a double column with integers, some past 2^53 */
        if (how == 8 && after)
            snprintf(q, sizeof q, ",\"q\":\"x%d\"", k);
        else if (k % 3 == 0)
            snprintf(q, sizeof q, ",\"q\":%lld", 9007199254740993LL + k);
        else
            snprintf(q, sizeof q, ",\"q\":%d.5", k);
        extra = q;
    }
    snprintf(out, cap, "{\"event_type\":\"e%d\",\"Host\":\"h%d\",\"n\":%s,\"p\":%d.5%s}", k % 4,
             k % 3, n, k, extra);
}

/* The same rows, streamed in steps or buffered whole, make the same bytes:
 * while the schema holds (the part stays open) and after it turns (the
 * streamed rows are read back and written again). */
static void test_streamed_table_writes_the_same_file_as_a_buffered_one(void)
{
    struct { int how, rows, turn, step; } cases[] = {
        { 0, 2000, 2000, 300 }, { 1, 2000, 1000, 300 }, { 2, 2000, 1000, 300 },
        { 3, 2000, 1000, 300 }, { 4, 2000, 1000, 300 }, { 5, 2000, 2000, 300 },
        { 0, 140000, 140000, 16384 }, { 3, 140000, 139000, 16384 }, /* two row groups */
        { 6, 2000, 2000, 300 },  /* extract_table_unify adds a column at the end */
        { 7, 2000, 2000, 300 }, { 8, 2000, 1000, 300 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char pa[512], pb[512], ev[256];
        snprintf(pa, sizeof pa, "%s/buffered%zu.parquet", tmpdir, i);
        snprintf(pb, sizeof pb, "%s/streamed%zu.parquet", tmpdir, i);
        struct extract_table *a = extract_table_new("t", true), *b = extract_table_new("t", true);
        struct sl_error err = { 0 };
        bool seen_turn = false; /* by a stream call: it takes the part back */
        for (int k = 0; k < cases[i].rows; k++) {
            turning_event(ev, sizeof ev, k, cases[i].turn, cases[i].how);
            add_json(a, ev, k);
            add_json(b, ev, k);
            if (k % cases[i].step == cases[i].step - 1) {
                CHECK_INT(extract_table_stream(b, pb, &err), SL_OK);
                seen_turn = seen_turn || k >= cases[i].turn;
            }
        }
        CHECK(extract_table_streaming(b) == (cases[i].how != 5 && !seen_turn));
        if (extract_table_streaming(b) != (cases[i].how != 5 && !seen_turn))
            fprintf(stderr, "  case %zu\n", i);
        if (cases[i].how == 6) {
            struct extract_table *other = extract_table_new("t", true);
            add_json(other, "{\"only_elsewhere\":1}", 0);
            struct extract_table *ua[] = { a, other }, *ub[] = { b, other };
            extract_table_unify(ua, 2);
            extract_table_unify(ub, 2);
            extract_table_free(other);
        }
        CHECK_INT(extract_table_write(a, pa, &err), SL_OK);
        CHECK_INT(extract_table_write(b, pb, &err), SL_OK);
        CHECK_INT(extract_table_written(b), cases[i].rows);
        size_t la = 0, lb = 0;
        char *fa = slurp(pa, &la), *fb = slurp(pb, &lb);
        CHECK(fa && fb && la == lb && memcmp(fa, fb, la) == 0);
        if (!(fa && fb && la == lb && memcmp(fa, fb, la) == 0))
            fprintf(stderr, "  case %zu: %zu bytes buffered, %zu streamed\n", i, la, lb);
        free(fa);
        free(fb);
        extract_table_free(a);
        extract_table_free(b);
    }
}

/* Parts finished before the schema moved (spilled at --mem-max, or written
 * before extract_table_unify widened them) are written again by
 * extract_table_settle() with the final schema: the same bytes as if those
 * rows had been buffered until the schema was final. A part that already
 * has the final schema is left as it is. */
static void test_settle_rewrites_parts_the_schema_moved_past(void)
{
    int hows[] = { 0, 1, 2, 3, 4, 6, 7, 8 };
    const int rows = 2000, turn = 1000;
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        int how = hows[i];
        char first[512], second[512], ref[512], ev[256];
        snprintf(first, sizeof first, "%s/settle%zu-1.parquet", tmpdir, i);
        snprintf(second, sizeof second, "%s/settle%zu-2.parquet", tmpdir, i);
        snprintf(ref, sizeof ref, "%s/settle%zu-ref.parquet", tmpdir, i);
        struct extract_table *t = extract_table_new("t", true);
        struct extract_table *r = extract_table_new("t", true);
        struct extract_table *after = extract_table_new("t", true);
        struct extract_table *other = extract_table_new("t", true);
        add_json(other, "{\"only_elsewhere\":1}", 0);
        struct sl_error err = { 0 };
        for (int k = 0; k < rows; k++) {
            turning_event(ev, sizeof ev, k, turn, how);
            add_json(k < turn ? r : after, ev, k);
            add_json(t, ev, k);
            if (k == turn - 1)
                CHECK_INT(extract_table_write(t, first, &err), SL_OK); /* a spill */
        }
        CHECK_INT(extract_table_write(t, second, &err), SL_OK);
        struct extract_table *tu[] = { t, other }, *ru[] = { r, after, other };
        if (how == 6)
            extract_table_unify(tu, 2);
        extract_table_unify(ru, how == 6 ? 3 : 2);
        CHECK_INT(extract_table_write(r, ref, &err), SL_OK);
        struct stat before, now;
        CHECK_INT(stat(first, &before), 0);
        CHECK_INT(extract_table_settle(t, &err), SL_OK);
        CHECK_INT(stat(first, &now), 0);
        bool moved = how != 0 && how != 7; /* 7: a double column from the start */
        CHECK((before.st_ino != now.st_ino) == moved); /* rewritten: renamed over */
        size_t la = 0, lb = 0;
        char *fa = slurp(first, &la), *fb = slurp(ref, &lb);
        CHECK(fa && fb && la == lb && memcmp(fa, fb, la) == 0);
        if (!(fa && fb && la == lb && memcmp(fa, fb, la) == 0))
            fprintf(stderr, "  case %d: %zu bytes settled, %zu buffered\n", how, la, lb);
        free(fa);
        free(fb);
        CHECK_INT(extract_table_settle(t, &err), SL_OK); /* forgotten: nothing to do */
        CHECK_INT(stat(first, &before), 0);
        CHECK(before.st_ino == now.st_ino);
        extract_table_free(t);
        extract_table_free(r);
        extract_table_free(after);
        extract_table_free(other);
    }
}

/* ---- commit ---- */

static bool exists(const char *fmt, const char *a)
{
    char p[512];
    snprintf(p, sizeof p, fmt, tmpdir, a);
    struct stat st;
    return stat(p, &st) == 0;
}

static int count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static void test_commit_publishes_parts_success_and_offsets(void)
{
    char out[512];
    snprintf(out, sizeof out, "%s/lake/t1", tmpdir);
    struct sl_error err = { 0 };
    struct extract_commit *c = extract_commit_open(out, EXTRACT_MODE_ERROR, &err);
    CHECK(c != NULL);
    const char *p = extract_commit_part_path(c, NULL, &err);
    CHECK(p != NULL);
    touch(p);
    p = extract_commit_part_path(c, "_corrupt", &err);
    touch(p);
    CHECK(!exists("%s/lake/%s", "t1")); /* nothing visible before the commit */
    CHECK_INT(extract_commit_publish(c, "{\"x\":1}\n", &err), SL_OK);
    CHECK(exists("%s/lake/%s/_SUCCESS", "t1"));
    CHECK(exists("%s/lake/%s/_offsets", "t1"));
    CHECK(exists("%s/lake/%s/_corrupt/_SUCCESS", "t1"));
    CHECK_INT(count_entries(out, "part-"), 1);
    extract_commit_free(c);
    /* mode error now refuses */
    c = extract_commit_open(out, EXTRACT_MODE_ERROR, &err);
    CHECK(c == NULL);
    CHECK_INT(err.code, SL_EEXIST);
}

static void test_commit_append_keeps_parts_and_overwrite_replaces_them(void)
{
    char out[512], lake[512];
    snprintf(out, sizeof out, "%s/lake/t1", tmpdir);
    snprintf(lake, sizeof lake, "%s/lake", tmpdir);
    struct sl_error err = { 0 };
    struct extract_commit *c = extract_commit_open(out, EXTRACT_MODE_APPEND, &err);
    CHECK(c != NULL);
    CHECK(c && extract_commit_offsets(c) && strcmp(extract_commit_offsets(c), "{\"x\":1}\n") == 0);
    touch(extract_commit_part_path(c, NULL, &err));
    CHECK_INT(extract_commit_publish(c, NULL, &err), SL_OK);
    CHECK_INT(count_entries(out, "part-"), 2);
    CHECK(exists("%s/lake/%s/_corrupt/_SUCCESS", "t1"));
    /* a second commit in the same run also keeps everything */
    touch(extract_commit_part_path(c, NULL, &err));
    CHECK_INT(extract_commit_publish(c, NULL, &err), SL_OK);
    CHECK_INT(count_entries(out, "part-"), 3);
    /* the version swapped out last lives on for a grace period (readers
     * may be listing it); free deletes it */
    CHECK_INT(count_entries(lake, ".t1.v-"), 1);
    extract_commit_free(c);
    CHECK_INT(count_entries(lake, ".t1.v-"), 0);

    c = extract_commit_open(out, EXTRACT_MODE_OVERWRITE, &err);
    touch(extract_commit_part_path(c, NULL, &err));
    CHECK_INT(extract_commit_publish(c, NULL, &err), SL_OK);
    CHECK_INT(count_entries(out, "part-"), 1);
    CHECK(!exists("%s/lake/%s/_corrupt", "t1"));
    /* later commits of an overwrite run append to its own first commit */
    touch(extract_commit_part_path(c, NULL, &err));
    CHECK_INT(extract_commit_publish(c, NULL, &err), SL_OK);
    CHECK_INT(count_entries(out, "part-"), 2);
    extract_commit_free(c);
}

static void test_commit_overwrite_with_no_rows_publishes_an_empty_table(void)
{
    char out[512];
    snprintf(out, sizeof out, "%s/lake/t1", tmpdir);
    struct sl_error err = { 0 };
    struct extract_commit *c = extract_commit_open(out, EXTRACT_MODE_OVERWRITE, &err);
    CHECK_INT(extract_commit_publish(c, NULL, &err), SL_OK);
    CHECK_INT(count_entries(out, "part-"), 0);
    CHECK(exists("%s/lake/%s/_SUCCESS", "t1"));
    extract_commit_free(c);
}

static void test_commit_lock_refuses_a_second_writer(void)
{
    char out[512];
    snprintf(out, sizeof out, "%s/lake/t2", tmpdir);
    struct sl_error err = { 0 };
    struct extract_commit *c = extract_commit_open(out, EXTRACT_MODE_APPEND, &err);
    CHECK(c != NULL);
    struct sl_error err2 = { 0 };
    struct extract_commit *c2 = extract_commit_open(out, EXTRACT_MODE_APPEND, &err2);
    CHECK(c2 == NULL);
    CHECK_INT(err2.code, SL_EAGAIN);
    extract_commit_free(c);
}

static void test_commit_open_removes_versions_left_by_a_crash(void)
{
    char lake[400], junk[600];
    snprintf(lake, sizeof lake, "%s/lake", tmpdir);
    snprintf(junk, sizeof junk, "%s/.t3.v-999-0", lake);
    mkdir(junk, 0755);
    snprintf(junk, sizeof junk, "%s/.t3.v-999-0/part-x.parquet", lake);
    touch(junk);
    CHECK_INT(count_entries(lake, ".t3.v-"), 1);
    char out[512];
    snprintf(out, sizeof out, "%s/t3", lake);
    struct sl_error err = { 0 };
    struct extract_commit *c = extract_commit_open(out, EXTRACT_MODE_ERROR, &err);
    CHECK(c != NULL);
    CHECK_INT(count_entries(lake, ".t3.v-"), 0);
    /* an unpublished pending version is dropped by free */
    touch(extract_commit_part_path(c, NULL, &err));
    CHECK_INT(count_entries(lake, ".t3.v-"), 1);
    extract_commit_free(c);
    CHECK_INT(count_entries(lake, ".t3.v-"), 0);
    CHECK(!exists("%s/lake/%s", "t3"));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-extract-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(test_table_union_schema_sorted_with_meta_first);
    RUN(test_table_widens_int_to_double_and_mixed_to_string);
    RUN(test_table_case_variants_share_one_column);
    RUN(test_table_keeps_types_across_parts_and_trims_its_buffers);
    RUN(test_table_strings_longer_than_16_mib_round_trip);
    RUN(test_streamed_table_writes_the_same_file_as_a_buffered_one);
    RUN(test_settle_rewrites_parts_the_schema_moved_past);
    RUN(test_commit_publishes_parts_success_and_offsets);
    RUN(test_commit_append_keeps_parts_and_overwrite_replaces_them);
    RUN(test_commit_overwrite_with_no_rows_publishes_an_empty_table);
    RUN(test_commit_lock_refuses_a_second_writer);
    RUN(test_commit_open_removes_versions_left_by_a_crash);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return CHECK_DONE();
}
