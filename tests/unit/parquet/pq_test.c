/*
 * pq_test.c: tests of src/parquet: known byte vectors from the format brief
 * first (thrift, RLE hybrid, delta, the worked example page), then
 * properties: random tables written with every codec and read back equal,
 * with statistics that bound the values, and corrupted files that fail
 * cleanly instead of crashing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "check.h"
#include "parquet/pq.h"
#include "parquet/pq_int.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ------------------------------------------------------------ known vectors */

static void test_thrift_writes_short_and_long_field_headers(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct tc_w w;
    tc_w_init(&w, &b);
    tc_w_i32(&w, 1, 5);       /* 15 0a */
    tc_w_i32(&w, 30, -1);     /* long form: 05 3c 01 */
    tc_w_bool(&w, 31, true);  /* 11 */
    tc_w_struct_begin(&w, 32);/* 1c */
    tc_w_struct_end(&w);      /* 00 */
    sl_buf_u8(&b, 0);
    const uint8_t want[] = { 0x15, 0x0a, 0x05, 0x3c, 0x01, 0x11, 0x1c, 0x00, 0x00 };
    CHECK_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);

    struct tc_r r = { sl_cur_make(sl_buf_slice(&b)), 0 };
    int16_t last = 0, id;
    CHECK_INT(tc_r_field(&r, &last, &id), TC_I32);
    CHECK_INT(id, 1);
    CHECK_INT(tc_r_i32(&r), 5);
    CHECK_INT(tc_r_field(&r, &last, &id), TC_I32);
    CHECK_INT(id, 30);
    CHECK_INT(tc_r_i32(&r), -1);
    CHECK_INT(tc_r_field(&r, &last, &id), TC_TRUE);
    CHECK_INT(tc_r_field(&r, &last, &id), TC_STRUCT);
    tc_r_skip(&r, TC_STRUCT);
    CHECK_INT(tc_r_field(&r, &last, &id), TC_STOP);
    CHECK(!r.cur.failed);
    sl_buf_release(&b);
}

static void test_thrift_skip_rejects_deep_nesting(void)
{
    uint8_t deep[200];
    for (int i = 0; i < 200; i++)
        deep[i] = 0x1c; /* field +1, struct: nests forever */
    struct tc_r r = { sl_cur_make(sl_slice_make(deep, sizeof deep)), 0 };
    tc_r_skip(&r, TC_STRUCT);
    CHECK(r.cur.failed);
    /* a list claiming more elements than bytes left */
    const uint8_t big[] = { 0xf5, 0xff, 0xff, 0xff, 0x0f };
    struct tc_r r2 = { sl_cur_make(sl_slice_make(big, sizeof big)), 0 };
    int et;
    tc_r_list(&r2, &et);
    CHECK(r2.cur.failed);
}

static void test_rle_bitpacked_width3_matches_spec_bytes(void)
{
    uint32_t v[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    struct sl_buf b;
    sl_buf_init(&b, 0);
    pq_rle_encode(v, 8, 3, &b);
    const uint8_t want[] = { 0x03, 0x88, 0xc6, 0xfa };
    CHECK_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    uint32_t back[8];
    CHECK_INT(pq_rle_decode(sl_buf_slice(&b), 3, back, 8), SL_OK);
    CHECK_MEM(back, v, sizeof v);
    sl_buf_release(&b);
}

static void test_rle_roundtrips_random_runs_at_every_width(void)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    uint32_t *v = sl_xmalloc(5000 * sizeof *v), *back = sl_xmalloc(5000 * sizeof *v);
    for (int width = 1; width <= 32; width++) {
        for (int trial = 0; trial < 5; trial++) {
            size_t n = rnd() % 5000;
            uint64_t mask = width == 32 ? 0xffffffffull : (1ull << width) - 1;
            for (size_t i = 0; i < n;) {
                size_t run = rnd() % 3 ? 1 : rnd() % 40 + 1;
                uint32_t x = (uint32_t)(rnd() & mask);
                for (size_t k = 0; k < run && i < n; k++)
                    v[i++] = x;
            }
            sl_buf_reset(&b);
            pq_rle_encode(v, n, width, &b);
            CHECK_INT(pq_rle_decode(sl_buf_slice(&b), width, back, n), SL_OK);
            CHECK(n == 0 || memcmp(v, back, n * sizeof *v) == 0);
        }
    }
    /* truncated input fails instead of reading past the end */
    uint32_t x[16];
    const uint8_t bad[] = { 0x05, 0xff };
    CHECK_INT(pq_rle_decode(sl_slice_make(bad, sizeof bad), 8, x, 16), SL_ECORRUPT);
    free(v);
    free(back);
    sl_buf_release(&b);
}

static void test_delta_binary_packed_decodes_spec_example(void)
{
    const uint8_t in[] = { 0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00 };
    int64_t out[5];
    size_t used;
    CHECK_INT(pq_delta_decode(sl_slice_make(in, sizeof in), out, 5, &used), SL_OK);
    for (int i = 0; i < 5; i++)
        CHECK_INT(out[i], i + 1);
    CHECK_INT(used, sizeof in);
}

/* ------------------------------------------------------------ hand-made files */

/* DELTA_BINARY_PACKED of v[0..n), n <= 129: one block of 4 miniblocks of 32. */
static void delta_encode(const int64_t *v, size_t n, struct sl_buf *out)
{
    sl_buf_uvarint(out, 128);
    sl_buf_uvarint(out, 4);
    sl_buf_uvarint(out, n);
    sl_buf_varint(out, n ? v[0] : 0);
    if (n < 2)
        return;
    int64_t mind = v[1] - v[0];
    for (size_t i = 2; i < n; i++)
        if (v[i] - v[i - 1] < mind)
            mind = v[i] - v[i - 1];
    sl_buf_varint(out, mind);
    uint64_t d[128] = { 0 };
    int width = 0;
    for (size_t i = 1; i < n; i++) {
        d[i - 1] = (uint64_t)(v[i] - v[i - 1] - mind);
        if (pq_bit_width(d[i - 1]) > width)
            width = pq_bit_width(d[i - 1]);
    }
    size_t minis = (n - 1 + 31) / 32;
    for (size_t m = 0; m < 4; m++)
        sl_buf_u8(out, m < minis ? (uint8_t)width : 0);
    for (size_t m = 0; m < minis; m++) {
        uint8_t bytes[32 * 8] = { 0 };
        for (size_t k = 0; k < 32; k++)
            for (int b = 0; b < width; b++)
                if ((d[m * 32 + k] >> b) & 1)
                    bytes[(k * (size_t)width + (size_t)b) / 8] |=
                        (uint8_t)(1u << ((k * (size_t)width + (size_t)b) % 8));
        sl_buf_append(out, bytes, 32 * (size_t)width / 8);
    }
}

/* A file with one REQUIRED column of `physical` type holding one
 * uncompressed data page (v1) of n values in `encoding`. */
static void craft_file(struct sl_buf *file, int physical, int converted, int encoding,
                       const struct sl_buf *body, size_t n)
{
    sl_buf_append(file, "PAR1", 4);
    struct sl_buf hdr;
    sl_buf_init(&hdr, 0);
    struct tc_w w;
    tc_w_init(&w, &hdr);
    tc_w_i32(&w, 1, 0);
    tc_w_i32(&w, 2, (int32_t)body->len);
    tc_w_i32(&w, 3, (int32_t)body->len);
    tc_w_struct_begin(&w, 5);
    tc_w_i32(&w, 1, (int32_t)n);
    tc_w_i32(&w, 2, encoding);
    tc_w_i32(&w, 3, 3);
    tc_w_i32(&w, 4, 3);
    tc_w_struct_end(&w);
    sl_buf_u8(&hdr, 0);
    size_t chunk = hdr.len + body->len;
    sl_buf_append(file, hdr.data, hdr.len);
    sl_buf_append(file, body->data, body->len);
    struct sl_buf meta;
    sl_buf_init(&meta, 0);
    tc_w_init(&w, &meta);
    tc_w_i32(&w, 1, 1);
    tc_w_list(&w, 2, TC_STRUCT, 2);
    tc_w_struct_begin(&w, 0);
    tc_w_str(&w, 4, "spark_schema");
    tc_w_i32(&w, 5, 1);
    tc_w_struct_end(&w);
    tc_w_struct_begin(&w, 0);
    tc_w_i32(&w, 1, physical);
    tc_w_i32(&w, 3, 0);
    tc_w_str(&w, 4, "v");
    if (converted >= 0)
        tc_w_i32(&w, 6, converted);
    tc_w_struct_end(&w);
    tc_w_i64(&w, 3, (int64_t)n);
    tc_w_list(&w, 4, TC_STRUCT, 1);
    tc_w_struct_begin(&w, 0);
    tc_w_list(&w, 1, TC_STRUCT, 1);
    tc_w_struct_begin(&w, 0);
    tc_w_i64(&w, 2, 0);
    tc_w_struct_begin(&w, 3);
    tc_w_i32(&w, 1, physical);
    tc_w_list(&w, 2, TC_I32, 1);
    tc_w_elem_i32(&w, encoding);
    tc_w_list(&w, 3, TC_BINARY, 1);
    tc_w_elem_bin(&w, "v", 1);
    tc_w_i32(&w, 4, 0);
    tc_w_i64(&w, 5, (int64_t)n);
    tc_w_i64(&w, 6, (int64_t)chunk);
    tc_w_i64(&w, 7, (int64_t)chunk);
    tc_w_i64(&w, 9, 4);
    tc_w_struct_end(&w);
    tc_w_struct_end(&w);
    tc_w_i64(&w, 2, (int64_t)chunk);
    tc_w_i64(&w, 3, (int64_t)n);
    tc_w_struct_end(&w);
    tc_w_i32(&w, 32767, 7); /* an unknown field in long form must be skipped */
    sl_buf_u8(&meta, 0);
    sl_buf_append(file, meta.data, meta.len);
    sl_buf_le32(file, (uint32_t)meta.len);
    sl_buf_append(file, "PAR1", 4);
    sl_buf_release(&hdr);
    sl_buf_release(&meta);
}

static void test_reads_delta_byte_array_strings(void)
{
    const char *vals[] = { "hello", "help", "x", "", "xylophone", "xylem" };
    int64_t prefix[6] = { 0, 3, 0, 0, 0, 3 }, suffix[6];
    struct sl_buf body, file;
    sl_buf_init(&body, 0);
    sl_buf_init(&file, 0);
    for (int i = 0; i < 6; i++)
        suffix[i] = (int64_t)strlen(vals[i]) - prefix[i];
    delta_encode(prefix, 6, &body);
    delta_encode(suffix, 6, &body);
    for (int i = 0; i < 6; i++)
        sl_buf_append_str(&body, vals[i] + prefix[i]);
    craft_file(&file, PQ_T_BYTE_ARRAY, 0, PQ_ENC_DELTA_BYTE_ARRAY, &body, 6);
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "dba", &err);
    CHECK(f != NULL);
    if (f) {
        struct pq_column_reader *r = pq_column_reader_new(f, 0, 0, &err);
        struct pq_batch b;
        CHECK_INT(pq_column_reader_read(r, 10, &b, &err), 6);
        CHECK(b.str != NULL);
        for (int i = 0; i < 6 && b.str; i++)
            CHECK(sl_slice_eq_str(b.str[i], vals[i]));
        pq_column_reader_free(r);
        pq_file_free(f);
    }
    sl_buf_release(&body);
    sl_buf_release(&file);
}

static void test_reads_int96_timestamps_as_nanoseconds(void)
{
    struct sl_buf body, file;
    sl_buf_init(&body, 0);
    sl_buf_init(&file, 0);
    /* 1970-01-02T00:00:01Z and 1969-12-31T12:00:00Z */
    sl_buf_le64(&body, 1000000000ull);
    sl_buf_le32(&body, 2440589);
    sl_buf_le64(&body, 43200ull * 1000000000ull);
    sl_buf_le32(&body, 2440587);
    craft_file(&file, PQ_T_INT96, -1, PQ_ENC_PLAIN, &body, 2);
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "int96", &err);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->cols[0].type, PQ_TIMESTAMP);
        CHECK_INT(f->cols[0].unit, PQ_NANOS);
        CHECK(f->cols[0].required);
        struct pq_column_reader *r = pq_column_reader_new(f, 0, 0, &err);
        struct pq_batch b;
        CHECK_INT(pq_column_reader_read(r, 10, &b, &err), 2);
        CHECK_INT(b.i64[0], 86401000000000ll);
        CHECK_INT(b.i64[1], -43200000000000ll);
        pq_column_reader_free(r);
        pq_file_free(f);
    }
    sl_buf_release(&body);
    sl_buf_release(&file);
}

/* ------------------------------------------------------------ worked example */

static void test_writer_emits_the_worked_example_page(void)
{
    struct pq_column_def def = { "i", PQ_INT64, 0, false };
    struct pq_writer_opts o = { 0 };
    o.use_codec = true;
    o.codec = PQ_UNCOMPRESSED;
    o.no_dictionary = true; /* the brief's bytes are PLAIN */
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, &def, 1, &o, &err);
    CHECK(w != NULL);
    int64_t vals[5] = { 1, 0, 3, 0, 5 };
    for (int i = 0; i < 5; i++) {
        if (i % 2 == 0)
            pq_writer_set_int64(w, 0, vals[i]);
        CHECK_INT(pq_writer_end_row(w, &err), SL_OK);
    }
    CHECK_INT(pq_writer_finish(w, &err), SL_OK);
    pq_writer_free(w);
    const uint8_t page[] = { 0x15, 0x00, 0x15, 0x3c, 0x15, 0x3c, 0x2c, 0x15, 0x0a, 0x15, 0x00,
                             0x15, 0x06, 0x15, 0x06, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
                             0x15, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0,
                             0, 0, 0, 0 };
    CHECK(file.len > 4 + sizeof page);
    CHECK_MEM(file.data, "PAR1", 4);
    CHECK_MEM(file.data + 4, page, sizeof page);

    struct pq_file *f = pq_file_open_mem(file.data, file.len, "example", &err);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->num_rows, 5);
        CHECK_INT(f->nrow_groups, 1);
        const struct pq_chunk *ch = &f->row_groups[0].chunks[0];
        CHECK_INT(ch->compressed_size, 47);
        CHECK_INT(ch->uncompressed_size, 47);
        CHECK_INT(ch->data_page_offset, 4);
        CHECK(ch->stats.has_min_max);
        CHECK_INT(ch->stats.min.i, 1);
        CHECK_INT(ch->stats.max.i, 5);
        CHECK_INT(ch->stats.null_count, 2);
        CHECK_STR(f->created_by, "sluice version " "0.1.0" " (build sluice)");
        pq_file_free(f);
    }
    sl_buf_release(&file);
}

/* ------------------------------------------------------------ random tables */

struct tcol {
    struct pq_column_def def;
    uint8_t *valid;
    int64_t *i;
    double *d;
    char **s;
    size_t *slen;
};

static char *rand_string(size_t *len, int mode)
{
    static const char *const pool[] = { "", "a", "default", "purchase_sword", "héllo wörld",
                                        "日本語テキスト", "emoji 🗡️", "Mozilla/5.0 (X11; Linux)" };
    if (mode == 0) { /* low cardinality */
        const char *s = pool[rnd() % 8];
        *len = strlen(s);
        return sl_xstrdup(s);
    }
    size_t n = rnd() % (mode == 2 ? 300 : 40);
    char *s = sl_xmalloc(n + 1);
    for (size_t k = 0; k < n; k++)
        s[k] = (char)(' ' + rnd() % 94);
    s[n] = 0;
    *len = n;
    return s;
}

static void table_free(struct tcol *t, size_t ncols, size_t nrows)
{
    for (size_t c = 0; c < ncols; c++) {
        if (t[c].s)
            for (size_t r = 0; r < nrows; r++)
                free(t[c].s[r]);
        free(t[c].s);
        free(t[c].slen);
        free(t[c].valid);
        free(t[c].i);
        free(t[c].d);
        free((char *)t[c].def.name);
    }
    free(t);
}

/* Make a random table: null rate per column 0, ~30% or 100%. */
static struct tcol *table_make(size_t ncols, size_t nrows)
{
    struct tcol *t = sl_xcalloc(ncols, sizeof *t);
    for (size_t c = 0; c < ncols; c++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", c);
        t[c].def.name = sl_xstrdup(name);
        t[c].def.type = (enum pq_type)(1 + rnd() % 5);
        if (t[c].def.type == PQ_TIMESTAMP)
            t[c].def.unit = rnd() % 2 ? PQ_MILLIS : PQ_MICROS;
        t[c].def.required = rnd() % 4 == 0;
        int nullmode = t[c].def.required ? 0 : (int)(rnd() % 3);
        int smode = (int)(rnd() % 3);
        t[c].valid = sl_xmalloc(nrows + 1);
        t[c].i = sl_xcalloc(nrows + 1, sizeof *t[c].i);
        t[c].d = sl_xcalloc(nrows + 1, sizeof *t[c].d);
        if (t[c].def.type == PQ_STRING) {
            t[c].s = sl_xcalloc(nrows + 1, sizeof *t[c].s);
            t[c].slen = sl_xcalloc(nrows + 1, sizeof *t[c].slen);
        }
        for (size_t r = 0; r < nrows; r++) {
            bool v = nullmode == 0 ? true : nullmode == 2 ? false : rnd() % 10 >= 3;
            t[c].valid[r] = v;
            if (!v)
                continue;
            switch (t[c].def.type) {
            case PQ_BOOL: t[c].i[r] = rnd() % 2; break;
            case PQ_INT64:
            case PQ_TIMESTAMP:
                t[c].i[r] = rnd() % 2 ? (int64_t)(rnd() % 100) - 50 : (int64_t)rnd();
                break;
            case PQ_DOUBLE: {
                uint64_t k = rnd() % 20;
                t[c].d[r] = k == 0 ? -0.0 : k == 1 ? 0.0 : k == 2 ? INFINITY
                                            : ((double)(int64_t)rnd()) / 1e6;
                break;
            }
            case PQ_STRING: t[c].s[r] = rand_string(&t[c].slen[r], smode); break;
            default: break;
            }
        }
    }
    return t;
}

static struct pq_column_def *table_defs(struct tcol *t, size_t ncols)
{
    struct pq_column_def *defs = sl_xcalloc(ncols, sizeof *defs);
    for (size_t c = 0; c < ncols; c++)
        defs[c] = t[c].def;
    return defs;
}

static int table_write(struct tcol *t, size_t ncols, size_t nrows, const struct pq_writer_opts *o,
                       struct sl_buf *file)
{
    struct sl_error err = { 0 };
    struct pq_column_def *defs = table_defs(t, ncols);
    struct pq_writer *w = pq_writer_open_buf(file, defs, ncols, o, &err);
    free(defs);
    if (!w) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            if (!t[c].valid[r]) {
                if (rnd() % 2)
                    pq_writer_set_null(w, c);
                continue;
            }
            switch (t[c].def.type) {
            case PQ_BOOL: pq_writer_set_bool(w, c, t[c].i[r] != 0); break;
            case PQ_INT64:
            case PQ_TIMESTAMP: pq_writer_set_int64(w, c, t[c].i[r]); break;
            case PQ_DOUBLE: pq_writer_set_double(w, c, t[c].d[r]); break;
            case PQ_STRING: pq_writer_set_string(w, c, t[c].s[r], t[c].slen[r]); break;
            default: break;
            }
        }
        if (pq_writer_end_row(w, &err) != SL_OK) {
            fprintf(stderr, "end_row: %s\n", err.msg);
            pq_writer_free(w);
            return -1;
        }
    }
    int rc = pq_writer_finish(w, &err);
    pq_writer_free(w);
    return rc;
}

/* Read every column back and compare; check stats bound the values. */
static int table_check(struct tcol *t, size_t ncols, size_t nrows, const struct sl_buf *file)
{
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open_mem(file->data, file->len, "t", &err);
    if (!f) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    int bad = 0;
    if ((size_t)f->num_rows != nrows || f->ncols != ncols)
        bad++;
    size_t base = 0;
    for (size_t g = 0; g < f->nrow_groups && !bad; g++) {
        size_t rows = (size_t)f->row_groups[g].num_rows;
        for (size_t c = 0; c < ncols && !bad; c++) {
            const struct pq_column *pc = &f->cols[c];
            if (pc->type != t[c].def.type || pc->required != t[c].def.required ||
                strcmp(pc->name, t[c].def.name) != 0) {
                bad++;
                break;
            }
            if (pc->type == PQ_TIMESTAMP && pc->unit != (t[c].def.unit ? t[c].def.unit : PQ_MICROS))
                bad++;
            const struct pq_stats *st = &f->row_groups[g].chunks[c].stats;
            struct pq_column_reader *r = pq_column_reader_new(f, g, c, &err);
            if (!r) {
                fprintf(stderr, "reader: %s\n", err.msg);
                bad++;
                break;
            }
            size_t done = 0, nulls = 0;
            while (done < rows) {
                struct pq_batch b;
                int64_t n = pq_column_reader_read(r, 1 + rnd() % 3000, &b, &err);
                if (n <= 0) {
                    fprintf(stderr, "read: %lld %s\n", (long long)n, err.msg);
                    bad++;
                    break;
                }
                for (size_t k = 0; k < (size_t)n; k++) {
                    size_t row = base + done + k;
                    if (b.valid[k] != t[c].valid[row]) {
                        fprintf(stderr, "col %zu row %zu: valid %d want %d\n", c, row,
                                b.valid[k], t[c].valid[row]);
                        bad++;
                        break;
                    }
                    if (!b.valid[k]) {
                        nulls++;
                        continue;
                    }
                    bool ok = true;
                    switch (pc->type) {
                    case PQ_BOOL:
                        ok = b.b[k] == t[c].i[row];
                        if (st->has_min_max)
                            ok = ok && b.b[k] >= st->min.b && b.b[k] <= st->max.b;
                        break;
                    case PQ_INT64:
                    case PQ_TIMESTAMP:
                        ok = b.i64[k] == t[c].i[row] &&
                             (!st->has_min_max || (b.i64[k] >= st->min.i && b.i64[k] <= st->max.i));
                        break;
                    case PQ_DOUBLE:
                        ok = memcmp(&b.f64[k], &t[c].d[row], 8) == 0 &&
                             (!st->has_min_max || (b.f64[k] >= st->min.d && b.f64[k] <= st->max.d));
                        break;
                    case PQ_STRING: {
                        ok = b.str[k].len == t[c].slen[row] &&
                             (b.str[k].len == 0 || memcmp(b.str[k].p, t[c].s[row], b.str[k].len) == 0);
                        if (st->has_min_max) {
                            struct sl_slice v = b.str[k], mn = st->min.s, mx = st->max.s;
                            size_t m1 = v.len < mn.len ? v.len : mn.len;
                            int c1 = m1 ? memcmp(v.p, mn.p, m1) : 0;
                            size_t m2 = v.len < mx.len ? v.len : mx.len;
                            int c2 = m2 ? memcmp(v.p, mx.p, m2) : 0;
                            ok = ok && (c1 > 0 || (c1 == 0 && v.len >= mn.len));
                            ok = ok && (c2 < 0 || (c2 == 0 && (v.len <= mx.len || !st->max_exact)));
                        }
                        break;
                    }
                    default: break;
                    }
                    if (!ok) {
                        fprintf(stderr, "col %zu (%s) row %zu differs\n", c, pq_type_name(pc->type), row);
                        bad++;
                        break;
                    }
                }
                done += (size_t)n;
                if (bad)
                    break;
            }
            if (!st->has_null_count || (size_t)st->null_count != nulls) {
                fprintf(stderr, "col %zu: null_count %lld want %zu\n", c, (long long)st->null_count, nulls);
                bad++;
            }
            if (nulls == rows && st->has_min_max)
                bad++;
            struct pq_batch b;
            if (pq_column_reader_read(r, 10, &b, &err) != 0)
                bad++;
            pq_column_reader_free(r);
        }
        base += rows;
    }
    if (!bad && base != nrows)
        bad++;
    pq_file_free(f);
    return bad ? -1 : 0;
}

static void roundtrip(size_t ncols, size_t nrows, struct pq_writer_opts *o)
{
    struct tcol *t = table_make(ncols, nrows);
    struct sl_buf file;
    sl_buf_init(&file, 0);
    CHECK_INT(table_write(t, ncols, nrows, o, &file), SL_OK);
    CHECK_INT(table_check(t, ncols, nrows, &file), 0);
    sl_buf_release(&file);
    table_free(t, ncols, nrows);
}

static void test_random_tables_roundtrip_with_every_codec(void)
{
    const int codecs[] = { PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_ZSTD };
    for (int ci = 0; ci < 4; ci++) {
        for (int trial = 0; trial < 6; trial++) {
            struct pq_writer_opts o = { 0 };
            o.use_codec = true;
            o.codec = (enum pq_codec)codecs[ci];
            o.no_dictionary = trial % 3 == 2;
            if (trial % 2) {
                o.page_rows = 1 + rnd() % 500;
                o.row_group_rows = 1 + rnd() % 3000;
                o.dict_max_bytes = 1 + rnd() % 2000;
            }
            roundtrip(1 + rnd() % 12, rnd() % 5000, &o);
        }
    }
}

/* Interleaved skips and reads return the same rows as reading everything. */
static void test_skip_then_read_matches_full_read(void)
{
    for (int trial = 0; trial < 8; trial++) {
        size_t ncols = 1 + rnd() % 6, nrows = 1 + rnd() % 4000;
        struct tcol *t = table_make(ncols, nrows);
        struct sl_buf file;
        sl_buf_init(&file, 0);
        struct pq_writer_opts o = { 0 };
        o.page_rows = 1 + rnd() % 300;
        o.use_codec = true;
        o.codec = trial % 2 ? PQ_ZSTD : PQ_SNAPPY;
        CHECK_INT(table_write(t, ncols, nrows, &o, &file), SL_OK);
        struct sl_error err = { 0 };
        struct pq_file *f = pq_file_open_mem(file.data, file.len, "skip", &err);
        CHECK(f != NULL);
        for (size_t c = 0; f && c < ncols; c++) {
            struct pq_column_reader *r = pq_column_reader_new(f, 0, c, &err);
            size_t row = 0;
            while (row < nrows) {
                size_t k = 1 + rnd() % 700;
                if (rnd() % 2) {
                    int64_t got = pq_column_reader_skip(r, k, &err);
                    CHECK(got > 0);
                    if (got <= 0)
                        break;
                    row += (size_t)got;
                    continue;
                }
                struct pq_batch b;
                int64_t got = pq_column_reader_read(r, k, &b, &err);
                CHECK(got > 0);
                if (got <= 0)
                    break;
                for (size_t j = 0; j < (size_t)got; j++, row++) {
                    CHECK_INT(b.valid[j], t[c].valid[row]);
                    if (!b.valid[j] || !t[c].valid[row])
                        continue;
                    if (b.i64)
                        CHECK_INT(b.i64[j], t[c].i[row]);
                    else if (b.b)
                        CHECK_INT(b.b[j], t[c].i[row]);
                    else if (b.f64)
                        CHECK(memcmp(&b.f64[j], &t[c].d[row], 8) == 0);
                    else
                        CHECK(b.str[j].len == t[c].slen[row] &&
                              (!b.str[j].len || !memcmp(b.str[j].p, t[c].s[row], b.str[j].len)));
                }
            }
            CHECK_INT(row, nrows);
            pq_column_reader_free(r);
        }
        pq_file_free(f);
        sl_buf_release(&file);
        table_free(t, ncols, nrows);
    }
}

static void test_empty_table_has_schema_and_no_row_groups(void)
{
    struct pq_writer_opts o = { 0 };
    struct tcol *t = table_make(4, 0);
    struct sl_buf file;
    sl_buf_init(&file, 0);
    CHECK_INT(table_write(t, 4, 0, &o, &file), SL_OK);
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "empty", &err);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->num_rows, 0);
        CHECK_INT(f->nrow_groups, 0);
        CHECK_INT(f->ncols, 4);
        pq_file_free(f);
    }
    sl_buf_release(&file);
    table_free(t, 4, 0);
}

static void test_long_strings_over_one_mib_roundtrip(void)
{
    struct pq_column_def def[2] = { { "s", PQ_STRING, 0, false }, { "n", PQ_INT64, 0, true } };
    size_t big = (3u << 20) / 2;
    char *s = sl_xmalloc(big);
    for (size_t k = 0; k < big; k++)
        s[k] = (char)('a' + k % 26);
    const int codecs[] = { PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_ZSTD };
    for (int ci = 0; ci < 4; ci++) {
        struct pq_writer_opts o = { 0 };
        o.use_codec = true;
        o.codec = (enum pq_codec)codecs[ci];
        struct sl_buf file;
        sl_buf_init(&file, 0);
        struct sl_error err = { 0 };
        struct pq_writer *w = pq_writer_open_buf(&file, def, 2, &o, &err);
        for (int r = 0; r < 5; r++) {
            if (r != 2)
                pq_writer_set_string(w, 0, s, big - (size_t)r);
            pq_writer_set_int64(w, 1, r);
            CHECK_INT(pq_writer_end_row(w, &err), SL_OK);
        }
        CHECK_INT(pq_writer_finish(w, &err), SL_OK);
        pq_writer_free(w);
        struct pq_file *f = pq_file_open_mem(file.data, file.len, "long", &err);
        CHECK(f != NULL);
        if (f) {
            const struct pq_stats *st = &f->row_groups[0].chunks[0].stats;
            CHECK(st->has_min_max);
            CHECK(!st->min_exact && !st->max_exact);
            CHECK_INT(st->min.s.len, PQ_STAT_TRUNC);
            size_t cols[2] = { 0, 1 };
            struct pq_rows *rows = pq_rows_new(f, 0, cols, 2, &err);
            int r = 0;
            while (rows && pq_rows_next(rows, &err) == 1) {
                struct pq_value v = pq_rows_value(rows, 0);
                CHECK(v.null == (r == 2));
                if (!v.null) {
                    CHECK_INT(v.s.len, big - (size_t)r);
                    CHECK(memcmp(v.s.p, s, v.s.len) == 0);
                }
                CHECK_INT(pq_rows_value(rows, 1).i, r);
                r++;
            }
            CHECK_INT(r, 5);
            pq_rows_free(rows);
            pq_file_free(f);
        }
        sl_buf_release(&file);
    }
    free(s);
}

static bool utf8_valid(struct sl_slice s)
{
    size_t i = 0;
    while (i < s.len) {
        uint8_t c = s.p[i];
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0 || i + n > s.len)
            return false;
        for (size_t k = 1; k < n; k++)
            if ((s.p[i + k] & 0xc0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

static void test_truncated_string_bounds_stay_valid_utf8(void)
{
    struct pq_column_def def = { "s", PQ_STRING, 0, false };
    char a[512], b[512];
    size_t al = 0, bl = 0;
    a[al++] = 'a';
    while (al + 2 <= 401) {
        a[al++] = (char)0xc3; /* é */
        a[al++] = (char)0xa9;
    }
    memcpy(b, "zz", 2);
    bl = 2;
    while (bl + 3 <= 400) { /* 日 */
        b[bl++] = (char)0xe6;
        b[bl++] = (char)0x97;
        b[bl++] = (char)0xa5;
    }
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, &def, 1, NULL, &err);
    pq_writer_set_string(w, 0, a, al);
    pq_writer_end_row(w, &err);
    pq_writer_set_string(w, 0, b, bl);
    pq_writer_end_row(w, &err);
    CHECK_INT(pq_writer_finish(w, &err), SL_OK);
    pq_writer_free(w);
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "utf8", &err);
    CHECK(f != NULL);
    if (f) {
        const struct pq_stats *st = &f->row_groups[0].chunks[0].stats;
        CHECK(st->has_min_max && !st->min_exact && !st->max_exact);
        CHECK(utf8_valid(st->min.s) && utf8_valid(st->max.s));
        CHECK(st->min.s.len <= PQ_STAT_TRUNC && st->max.s.len <= PQ_STAT_TRUNC);
        CHECK(memcmp(st->min.s.p, a, st->min.s.len) == 0); /* a prefix of the min */
        CHECK(sl_slice_eq_str(st->max.s, "z{"));          /* "zz…" < "z{" */
        pq_file_free(f);
    }
    sl_buf_release(&file);
}

static void test_dictionary_falls_back_to_plain_when_too_big(void)
{
    struct pq_column_def def = { "s", PQ_STRING, 0, false };
    struct pq_writer_opts o = { 0 };
    o.dict_max_bytes = 4096;
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, &def, 1, &o, &err);
    char tmp[32];
    for (int r = 0; r < 3000; r++) {
        int n = snprintf(tmp, sizeof tmp, "value-%d", r < 100 ? r % 7 : r);
        pq_writer_set_string(w, 0, tmp, (size_t)n);
        CHECK_INT(pq_writer_end_row(w, &err), SL_OK);
    }
    CHECK_INT(pq_writer_finish(w, &err), SL_OK);
    pq_writer_free(w);
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "fallback", &err);
    CHECK(f != NULL);
    if (f) {
        const struct pq_chunk *ch = &f->row_groups[0].chunks[0];
        CHECK(ch->encodings & (1u << PQ_ENC_RLE_DICTIONARY));
        CHECK(ch->encodings & (1u << PQ_ENC_PLAIN));
        CHECK(ch->dictionary_page_offset > 0);
        struct pq_column_reader *r = pq_column_reader_new(f, 0, 0, &err);
        struct pq_batch b;
        CHECK_INT(pq_column_reader_read(r, 5000, &b, &err), 3000);
        for (int i = 0; i < 3000; i++) {
            int n = snprintf(tmp, sizeof tmp, "value-%d", i < 100 ? i % 7 : i);
            CHECK(b.str[i].len == (size_t)n && memcmp(b.str[i].p, tmp, (size_t)n) == 0);
        }
        pq_column_reader_free(r);
        pq_file_free(f);
    }
    sl_buf_release(&file);
}

/* Ids and times are nearly all distinct: their dictionary is given up after
 * a probe of DICT_PROBE (4096) values, not after a whole 20,000-row page. */
static void test_distinct_numbers_give_up_the_dictionary_after_a_probe(void)
{
    struct pq_column_def def[2] = { { "id", PQ_INT64, 0, false }, { "qty", PQ_INT64, 0, false } };
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, def, 2, NULL, &err);
    for (int64_t r = 0; r < 30000; r++) {
        pq_writer_set_int64(w, 0, r * 7919);
        pq_writer_set_int64(w, 1, r % 9);
        CHECK_INT(pq_writer_end_row(w, &err), SL_OK);
    }
    CHECK_INT(pq_writer_finish(w, &err), SL_OK);
    pq_writer_free(w);
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "probe", &err);
    CHECK(f != NULL);
    const struct pq_chunk *id = &f->row_groups[0].chunks[0], *qty = &f->row_groups[0].chunks[1];
    CHECK(id->dictionary_page_offset > 0);
    CHECK(id->data_page_offset - id->dictionary_page_offset <= 4096 * 8 + 64);
    CHECK(id->encodings & (1u << PQ_ENC_PLAIN));
    CHECK(qty->dictionary_page_offset > 0);
    CHECK(qty->compressed_size < 30000 / 2);
    for (size_t c = 0; c < 2; c++) {
        struct pq_column_reader *r = pq_column_reader_new(f, 0, c, &err);
        struct pq_batch b;
        CHECK_INT(pq_column_reader_read(r, 30000, &b, &err), 30000);
        for (int64_t i = 0; i < 30000; i++)
            if (b.i64[i] != (c == 0 ? i * 7919 : i % 9)) {
                CHECK_INT(b.i64[i], c == 0 ? i * 7919 : i % 9);
                break;
            }
        pq_column_reader_free(r);
    }
    pq_file_free(f);
    sl_buf_release(&file);
}

static void test_required_column_left_null_fails_the_row(void)
{
    struct pq_column_def def[2] = { { "a", PQ_INT64, 0, true }, { "b", PQ_INT64, 0, false } };
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, def, 2, NULL, &err);
    pq_writer_set_int64(w, 1, 7);
    CHECK_INT(pq_writer_end_row(w, &err), SL_EUSAGE);
    CHECK(strstr(err.msg, "'a'") != NULL);
    pq_writer_set_int64(w, 0, 1);
    struct sl_error err2 = { 0 };
    CHECK_INT(pq_writer_end_row(w, &err2), SL_OK);
    CHECK_INT(pq_writer_finish(w, &err2), SL_OK);
    CHECK_INT(pq_writer_rows(w), 1);
    pq_writer_free(w);
    sl_buf_release(&file);
}

/* Row r's string of column c, at the address of its first copy in the batch
 * from row r0 on: repeats share bytes, as extract's do. */
static const char *batch_string(const struct tcol *t, size_t c, size_t r0, size_t r)
{
    for (size_t q = r0; q < r; q++)
        if (t[c].valid[q] && t[c].slen[q] == t[c].slen[r] &&
            memcmp(t[c].s[q], t[c].s[r], t[c].slen[r]) == 0)
            return t[c].s[q];
    return t[c].s[r];
}

/* Write t column by column in batches of random sizes; strings equal to an
 * earlier one of the same column and batch are passed at that one's address,
 * as extract does, so the writer's by-address dictionary path is taken;
 * runs of values go in with one bulk put half of the time. */
static int table_write_batches(struct tcol *t, size_t ncols, size_t nrows,
                               const struct pq_writer_opts *o, struct sl_buf *file)
{
    struct sl_error err = { 0 };
    struct pq_column_def *defs = table_defs(t, ncols);
    struct pq_writer *w = pq_writer_open_buf(file, defs, ncols, o, &err);
    free(defs);
    if (!w)
        return -1;
    int rc = SL_OK;
    for (size_t r0 = 0, n = 0; r0 < nrows && rc == SL_OK; r0 += n) {
        size_t want = 1 + rnd() % 700;
        rc = pq_writer_batch_begin(w, want < nrows - r0 ? want : nrows - r0, &n, &err);
        for (size_t c = 0; c < ncols && rc == SL_OK; c++) {
            for (size_t r = r0; r < r0 + n; r++) {
                if (!t[c].valid[r]) {
                    pq_writer_put_null(w, c);
                    continue;
                }
                size_t run = 0; /* values from r on, for a bulk put half of the time */
                while (r + run < r0 + n && t[c].valid[r + run])
                    run++;
                if (t[c].def.type == PQ_STRING && rnd() % 2) {
                    struct sl_slice *sv = sl_xmalloc(run * sizeof *sv);
                    for (size_t k = 0; k < run; k++)
                        sv[k] = sl_slice_make(batch_string(t, c, r0, r + k), t[c].slen[r + k]);
                    pq_writer_put_strings(w, c, sv, run);
                    free(sv);
                    r += run - 1;
                    continue;
                }
                if (t[c].def.type != PQ_BOOL && t[c].def.type != PQ_STRING && rnd() % 2) {
                    uint64_t *bits = sl_xmalloc(run * sizeof *bits);
                    bool dbl = t[c].def.type == PQ_DOUBLE;
                    for (size_t k = 0; k < run; k++)
                        memcpy(&bits[k], dbl ? (const void *)&t[c].d[r + k]
                                             : (const void *)&t[c].i[r + k], 8);
                    pq_writer_put_fixed64(w, c, bits, run);
                    free(bits);
                    r += run - 1;
                    continue;
                }
                switch (t[c].def.type) {
                case PQ_BOOL: pq_writer_put_bool(w, c, t[c].i[r] != 0); break;
                case PQ_INT64:
                case PQ_TIMESTAMP: pq_writer_put_int64(w, c, t[c].i[r]); break;
                case PQ_DOUBLE: pq_writer_put_double(w, c, t[c].d[r]); break;
                case PQ_STRING:
                    pq_writer_put_string(w, c, batch_string(t, c, r0, r), t[c].slen[r]);
                    break;
                default: break;
                }
            }
        }
        if (rc == SL_OK)
            rc = pq_writer_batch_end(w, &err);
    }
    if (rc == SL_OK)
        rc = pq_writer_finish(w, &err);
    if (rc != SL_OK)
        fprintf(stderr, "batches: %s\n", err.msg);
    pq_writer_free(w);
    return rc;
}

static void test_batches_write_the_same_file_as_rows(void)
{
    for (int trial = 0; trial < 16; trial++) {
        struct pq_writer_opts o = { 0 };
        o.no_dictionary = trial % 4 == 3;
        if (trial % 2) {
            o.page_rows = 1 + rnd() % 500;
            o.row_group_rows = 1 + rnd() % 3000;
            o.dict_max_bytes = 1 + rnd() % 2000;
        }
        if (trial % 3 == 2)
            o.page_bytes = 8 + rnd() % 4000;
        /* past the dictionary probe (4,096 values) in half of the trials */
        size_t ncols = 1 + rnd() % 12, nrows = trial < 8 ? rnd() % 5000 : 4096 + rnd() % 6000;
        struct tcol *t = table_make(ncols, nrows);
        struct sl_buf rows, batches;
        sl_buf_init(&rows, 0);
        sl_buf_init(&batches, 0);
        uint64_t keep = rng_state; /* table_write draws for its optional set_null calls */
        CHECK_INT(table_write(t, ncols, nrows, &o, &rows), SL_OK);
        rng_state = keep;
        CHECK_INT(table_write_batches(t, ncols, nrows, &o, &batches), SL_OK);
        CHECK_INT(batches.len, rows.len);
        CHECK(batches.len == rows.len && memcmp(batches.data, rows.data, rows.len) == 0);
        CHECK_INT(table_check(t, ncols, nrows, &batches), 0);
        sl_buf_release(&rows);
        sl_buf_release(&batches);
        table_free(t, ncols, nrows);
    }
}

/* One address, two lengths: the by-address dictionary paths (the address
 * cache, and put_strings' same-as-before check) must key on both. */
static void test_batch_strings_at_one_address_with_two_lengths(void)
{
    for (int bulk = 0; bulk < 2; bulk++) {
        struct pq_column_def def = { "event_type", PQ_STRING, 0, false };
        struct sl_buf file;
        sl_buf_init(&file, 0);
        struct sl_error err = { 0 };
        struct pq_writer *w = pq_writer_open_buf(&file, &def, 1, NULL, &err);
        static const char text[] = "purchase_sword";
        size_t n;
        CHECK_INT(pq_writer_batch_begin(w, 4, &n, &err), SL_OK);
        CHECK_INT(n, 4);
        struct sl_slice sv[4];
        for (int i = 0; i < 4; i++)
            sv[i] = sl_slice_make(text, i % 2 ? 8 : 14);
        if (bulk)
            pq_writer_put_strings(w, 0, sv, 4);
        else
            for (int i = 0; i < 4; i++)
                pq_writer_put_string(w, 0, sv[i].p, sv[i].len);
        CHECK_INT(pq_writer_batch_end(w, &err), SL_OK);
        CHECK_INT(pq_writer_finish(w, &err), SL_OK);
        pq_writer_free(w);
        struct pq_file *f = pq_file_open_mem(file.data, file.len, "t", &err);
        CHECK(f != NULL);
        struct pq_column_reader *r = pq_column_reader_new(f, 0, 0, &err);
        struct pq_batch b;
        CHECK_INT(pq_column_reader_read(r, 10, &b, &err), 4);
        for (int i = 0; i < 4; i++)
            CHECK_INT(b.str[i].len, i % 2 ? 8u : 14u);
        CHECK_MEM(b.str[3].p, "purchase", 8);
        pq_column_reader_free(r);
        pq_file_free(f);
        sl_buf_release(&file);
    }
}

static void test_batch_with_a_missing_value_or_required_null_fails(void)
{
    struct pq_column_def def[2] = { { "a", PQ_INT64, 0, true }, { "b", PQ_DOUBLE, 0, false } };
    for (int c = 0; c < 3; c++) {
        struct sl_buf file;
        sl_buf_init(&file, 0);
        struct sl_error err = { 0 };
        struct pq_writer *w = pq_writer_open_buf(&file, def, 2, NULL, &err);
        size_t n;
        CHECK_INT(pq_writer_batch_begin(w, 2, &n, &err), SL_OK);
        CHECK_INT(pq_writer_end_row(w, &err), SL_EUSAGE); /* not inside a batch */
        pq_writer_put_int64(w, 0, 1);
        if (c == 0)
            pq_writer_put_int64(w, 0, 2); /* b gets one value of two */
        else if (c == 1)
            pq_writer_put_null(w, 0);     /* a is REQUIRED */
        else
            for (int k = 0; k < 2; k++)   /* a gets three */
                pq_writer_put_int64(w, 0, k);
        pq_writer_put_double(w, 1, 1.5);
        if (c != 0)
            pq_writer_put_double(w, 1, 2.5);
        struct sl_error e2 = { 0 };
        CHECK_INT(pq_writer_batch_end(w, &e2), SL_EUSAGE);
        CHECK(strstr(e2.msg, c == 0 ? "'b'" : "'a'") != NULL);
        CHECK_INT(pq_writer_batch_begin(w, 1, &n, &err), SL_EUSAGE); /* failed writer */
        pq_writer_free(w);
        sl_buf_release(&file);
    }
}

static void test_bad_schemas_are_usage_errors(void)
{
    struct pq_column_def dup[2] = { { "a", PQ_INT64, 0, false }, { "a", PQ_BOOL, 0, false } };
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    CHECK(pq_writer_open_buf(&file, dup, 2, NULL, &err) == NULL);
    CHECK_INT(err.code, SL_EUSAGE);
    struct sl_error err2 = { 0 };
    CHECK(pq_writer_open_buf(&file, dup, 0, NULL, &err2) == NULL);
    CHECK_INT(err2.code, SL_EUSAGE);
    sl_buf_release(&file);
}

static void test_row_groups_split_by_rows_and_stats_per_group(void)
{
    struct pq_column_def def = { "n", PQ_INT64, 0, false };
    struct pq_writer_opts o = { 0 };
    o.row_group_rows = 100;
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, &def, 1, &o, &err);
    for (int r = 0; r < 250; r++) {
        pq_writer_set_int64(w, 0, r);
        pq_writer_end_row(w, &err);
    }
    pq_writer_finish(w, &err);
    pq_writer_free(w);
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "rg", &err);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->nrow_groups, 3);
        CHECK_INT(f->row_groups[2].num_rows, 50);
        CHECK_INT(f->row_groups[1].chunks[0].stats.min.i, 100);
        CHECK_INT(f->row_groups[1].chunks[0].stats.max.i, 199);
        CHECK_INT(pq_file_column_index(f, "N"), 0);
        CHECK_INT(pq_file_column_index(f, "x"), -1);
        pq_file_free(f);
    }
    sl_buf_release(&file);
}

static void test_row_groups_are_bounded_by_bytes(void)
{
    struct pq_column_def def = { "s", PQ_STRING, 0, false };
    struct pq_writer_opts o = { 0 };
    o.row_group_bytes = 64 * 1024;
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, &def, 1, &o, &err);
    char v[1000];
    memset(v, 'x', sizeof v);
    int64_t mid = 0;
    for (int r = 0; r < 1000; r++) {
        v[r % 1000] = (char)('a' + r % 26);
        pq_writer_set_string(w, 0, v, sizeof v);
        CHECK_INT(pq_writer_end_row(w, &err), SL_OK);
        if (r == 499)
            mid = pq_writer_bytes(w);
    }
    CHECK(mid > 0); /* row groups already went out while rows streamed in */
    CHECK_INT(pq_writer_finish(w, &err), SL_OK);
    pq_writer_free(w);
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "rgbytes", &err);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->nrow_groups >= 15);
        for (size_t g = 0; g < f->nrow_groups; g++)
            CHECK(f->row_groups[g].num_rows <= 70);
        CHECK_INT(f->num_rows, 1000);
        pq_file_free(f);
    }
    sl_buf_release(&file);
}

static void test_corrupted_files_fail_without_crashing(void)
{
    struct tcol *t = table_make(6, 700);
    struct sl_buf file;
    sl_buf_init(&file, 0);
    struct pq_writer_opts o = { 0 };
    o.page_rows = 100;
    CHECK_INT(table_write(t, 6, 700, &o, &file), SL_OK);
    uint8_t *copy = sl_xmalloc(file.len);
    int opened = 0;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(copy, file.data, file.len);
        size_t len = file.len;
        int flips = 1 + (int)(rnd() % 4);
        for (int k = 0; k < flips; k++)
            copy[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
        if (trial % 5 == 0)
            len = rnd() % len;
        struct sl_error err = { 0 };
        struct pq_file *f = pq_file_open_mem(copy, len, "bad.parquet", &err);
        if (!f) {
            CHECK(strstr(err.msg, "bad.parquet") != NULL);
            continue;
        }
        opened++;
        for (size_t g = 0; g < f->nrow_groups; g++)
            for (size_t c = 0; c < f->ncols; c++) {
                struct pq_column_reader *r = pq_column_reader_new(f, g, c, &err);
                struct pq_batch b;
                while (r && pq_column_reader_read(r, 256, &b, &err) > 0)
                    ;
                pq_column_reader_free(r);
            }
        pq_file_free(f);
    }
    CHECK(opened > 0);
    free(copy);
    sl_buf_release(&file);
    table_free(t, 6, 700);
}

/* Files DuckDB 1.5.6 wrote (kept as fuzz seeds): every codec, data page v2.
 * The table: i BIGINT 0..39, i32 = i % 7, f32 = i / 3 (FLOAT), f64 = i * 1.5
 * or NULL when i % 3 = 0, b = i even, s = ['a','bb','ccc'][i % 3] or NULL when
 * i % 4 = 0, s2 = 'u' || i, ts = 2024-01-01 + i seconds, dt = 2020-01-01 + i
 * days, dec = i / 4 as DECIMAL(8,2). */
static void test_reads_duckdb_files_of_every_codec_and_page_version(void)
{
    static const char *const names[] = { "none", "snappy", "gzip", "zstd", "lz4", "v2" };
    static const char *const s3[] = { "a", "bb", "ccc" };
    for (int n = 0; n < 6; n++) {
        char path[128];
        snprintf(path, sizeof path, "fuzz/corpus/parquet_read/duckdb_%s.parquet", names[n]);
        struct sl_error err = { 0 };
        struct pq_file *f = pq_file_open(path, &err);
        CHECK(f != NULL);
        if (!f) {
            fprintf(stderr, "%s\n", err.msg);
            continue;
        }
        CHECK_INT(f->num_rows, 40);
        CHECK_INT(f->ncols, 10);
        const char *want[] = { "i64", "i32", "f32", "f64", "b", "s", "s2", "ts", "dt", "dec" };
        size_t cols[10];
        for (size_t c = 0; c < 10; c++) {
            CHECK_INT(pq_file_column_index(f, want[c]), (int)c);
            cols[c] = c;
        }
        CHECK_INT(f->cols[1].type, PQ_INT64);
        CHECK_INT(f->cols[2].type, PQ_DOUBLE);
        CHECK_INT(f->cols[7].type, PQ_TIMESTAMP);
        CHECK_INT(f->cols[7].unit, PQ_MICROS);
        CHECK_INT(f->cols[8].type, PQ_DATE);
        CHECK_INT(f->cols[9].type, PQ_DOUBLE);
        int64_t i = 0;
        for (size_t g = 0; g < f->nrow_groups; g++) {
            struct pq_rows *rows = pq_rows_new(f, g, cols, 10, &err);
            while (rows && pq_rows_next(rows, &err) == 1) {
                CHECK_INT(pq_rows_value(rows, 0).i, i);
                CHECK_INT(pq_rows_value(rows, 1).i, i % 7);
                CHECK(pq_rows_value(rows, 2).d == (double)(float)(i / 3.0));
                struct pq_value v = pq_rows_value(rows, 3);
                CHECK(v.null == (i % 3 == 0) && (v.null || v.d == i * 1.5));
                CHECK_INT(pq_rows_value(rows, 4).b, i % 2 == 0);
                v = pq_rows_value(rows, 5);
                CHECK(v.null == (i % 4 == 0));
                if (!v.null)
                    CHECK(sl_slice_eq_str(v.s, s3[i % 3]));
                char u[32];
                snprintf(u, sizeof u, "u%lld", (long long)i);
                CHECK(sl_slice_eq_str(pq_rows_value(rows, 6).s, u));
                CHECK_INT(pq_rows_value(rows, 7).i, 1704067200000000 + i * 1000000);
                CHECK_INT(pq_rows_value(rows, 8).i, 18262 + i);
                CHECK(fabs(pq_rows_value(rows, 9).d - i / 4.0) < 0.006);
                i++;
            }
            pq_rows_free(rows);
        }
        CHECK_INT(i, 40);
        pq_file_free(f);
    }
}

static void test_value_json_escapes_controls_and_non_utf8_bytes(void)
{
    struct pq_column col = { .type = PQ_STRING };
    struct pq_value v = { .null = false };
    const char in[] = "a\"\\\n\x01 \xc3\xa9 \xff\xc3";
    v.s = sl_slice_make(in, sizeof in - 1);
    struct sl_buf out;
    sl_buf_init(&out, 0);
    pq_value_json(&col, v, &out);
    CHECK_STR((const char *)out.data, "\"a\\\"\\\\\\n\\u0001 \xc3\xa9 \\u00ff\\u00c3\"");
    sl_buf_release(&out);
}

static void test_describe_names_codec_encodings_and_stats(void)
{
    struct pq_column_def def[2] = { { "event_type", PQ_STRING, 0, false },
                                    { "ts", PQ_TIMESTAMP, PQ_MILLIS, false } };
    struct sl_buf file, out;
    sl_buf_init(&file, 0);
    sl_buf_init(&out, 0);
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open_buf(&file, def, 2, NULL, &err);
    pq_writer_set_string(w, 0, "b", 1);
    pq_writer_set_int64(w, 1, 1700000000000);
    pq_writer_end_row(w, &err);
    pq_writer_set_string(w, 0, "a", 1);
    pq_writer_end_row(w, &err);
    pq_writer_finish(w, &err);
    pq_writer_free(w);
    struct pq_file *f = pq_file_open_mem(file.data, file.len, "d.parquet", &err);
    CHECK(f != NULL);
    if (f) {
        pq_file_describe(f, &out);
        const char *s = (const char *)out.data;
        CHECK(strstr(s, "SNAPPY") != NULL);
        CHECK(strstr(s, "RLE_DICTIONARY") != NULL);
        CHECK(strstr(s, "min \"a\", max \"b\"") != NULL);
        CHECK(strstr(s, "timestamp(ms, utc)") != NULL);
        CHECK(strstr(s, "sluice.schema") != NULL);
        pq_file_free(f);
    }
    sl_buf_release(&out);
    sl_buf_release(&file);
}

int main(void)
{
    const char *seed = getenv("PQ_TEST_SEED"); /* default: a fixed seed */
    if (seed && *seed)
        rng_state = strtoull(seed, NULL, 0) | 1;
    RUN(test_thrift_writes_short_and_long_field_headers);
    RUN(test_thrift_skip_rejects_deep_nesting);
    RUN(test_rle_bitpacked_width3_matches_spec_bytes);
    RUN(test_rle_roundtrips_random_runs_at_every_width);
    RUN(test_delta_binary_packed_decodes_spec_example);
    RUN(test_writer_emits_the_worked_example_page);
    RUN(test_reads_delta_byte_array_strings);
    RUN(test_reads_int96_timestamps_as_nanoseconds);
    RUN(test_random_tables_roundtrip_with_every_codec);
    RUN(test_skip_then_read_matches_full_read);
    RUN(test_empty_table_has_schema_and_no_row_groups);
    RUN(test_long_strings_over_one_mib_roundtrip);
    RUN(test_truncated_string_bounds_stay_valid_utf8);
    RUN(test_dictionary_falls_back_to_plain_when_too_big);
    RUN(test_distinct_numbers_give_up_the_dictionary_after_a_probe);
    RUN(test_required_column_left_null_fails_the_row);
    RUN(test_bad_schemas_are_usage_errors);
    RUN(test_batches_write_the_same_file_as_rows);
    RUN(test_batch_strings_at_one_address_with_two_lengths);
    RUN(test_batch_with_a_missing_value_or_required_null_fails);
    RUN(test_row_groups_split_by_rows_and_stats_per_group);
    RUN(test_row_groups_are_bounded_by_bytes);
    RUN(test_corrupted_files_fail_without_crashing);
    RUN(test_reads_duckdb_files_of_every_codec_and_page_version);
    RUN(test_value_json_escapes_controls_and_non_utf8_bytes);
    RUN(test_describe_names_codec_encodings_and_stats);
    return CHECK_DONE();
}
