/*
 * pq_gen.c: writes a deterministic random event-shaped table with sluice's
 * Parquet writer and prints the rows it wrote as JSON lines (the format of
 * `sluice parquet --rows`), so the integration tests can check that DuckDB
 * and hyparquet read back exactly these values and types.
 *
 *   pq_gen OUT.parquet [--codec none|snappy|gzip|zstd] [--rows N] [--seed S]
 *          [--row-group-rows N] [--page-rows N] [--no-dict] [--long] [--quiet]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "parquet/pq.h"

static uint64_t state;

static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

enum { C_EVENT, C_HOST, C_UA, C_N, C_ID, C_PRICE, C_FLAG, C_TS, C_TSMS, C_NOTHING, C_NOTHING_I,
       C_LONG, NCOLS };

static const struct pq_column_def defs[NCOLS] = {
    { "event_type", PQ_STRING, 0, false },
    { "Host", PQ_STRING, 0, false },
    { "User-Agent", PQ_STRING, 0, false },
    { "n", PQ_INT64, 0, false },
    { "id", PQ_INT64, 0, true },
    { "price", PQ_DOUBLE, 0, false },
    { "flag", PQ_BOOL, 0, false },
    { "ts", PQ_TIMESTAMP, PQ_MICROS, false },
    { "ts_ms", PQ_TIMESTAMP, PQ_MILLIS, false },
    { "nothing", PQ_STRING, 0, false },
    { "nothing_i", PQ_INT64, 0, false },
    { "text", PQ_STRING, 0, false },
};

static const char *const events[] = { "default", "purchase_sword", "purchase_knife",
                                      "join_guild" };
static const char *const hosts[] = { "localhost:5000", "user1.comcast.com", "user2.att.com" };
static const char *const uas[] = { "ApacheBench/2.3", "curl/7.88.1", "",
                                   "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0",
                                   "héllo wörld ✓ 日本語 🗡️", "quote \" backslash \\ tab \t nl \n" };

int main(int argc, char **argv)
{
    const char *out = NULL, *codec = "snappy";
    long long rows = 1000, seed = 1, rg_rows = 0, page_rows = 0;
    bool no_dict = false, longs = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--codec") && v) codec = v, i++;
        else if (!strcmp(a, "--rows") && v) rows = atoll(v), i++;
        else if (!strcmp(a, "--seed") && v) seed = atoll(v), i++;
        else if (!strcmp(a, "--row-group-rows") && v) rg_rows = atoll(v), i++;
        else if (!strcmp(a, "--page-rows") && v) page_rows = atoll(v), i++;
        else if (!strcmp(a, "--no-dict")) no_dict = true;
        else if (!strcmp(a, "--long")) longs = true;
        else if (!strcmp(a, "--quiet")) quiet = true;
        else if (a[0] != '-' && !out) out = a;
        else {
            fprintf(stderr, "pq_gen: bad argument '%s'\n", a);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "usage: pq_gen OUT.parquet [--codec C] [--rows N] [--seed S] ...\n");
        return 2;
    }
    state = 0x9e3779b97f4a7c15ull ^ (uint64_t)seed * 0xff51afd7ed558ccdull;
    struct pq_writer_opts o = { 0 };
    o.use_codec = true;
    o.codec = !strcmp(codec, "none") ? PQ_UNCOMPRESSED : !strcmp(codec, "gzip") ? PQ_GZIP
              : !strcmp(codec, "zstd") ? PQ_ZSTD : PQ_SNAPPY;
    o.row_group_rows = (size_t)rg_rows;
    o.page_rows = (size_t)page_rows;
    o.no_dictionary = no_dict;
    struct pq_kv kv = { "generator", "pq_gen" };
    o.kv = &kv;
    o.nkv = 1;
    struct sl_error err = { 0 };
    struct pq_writer *w = pq_writer_open(out, defs, NCOLS, &o, &err);
    if (!w) {
        fprintf(stderr, "pq_gen: %s\n", err.msg);
        return 1;
    }
    size_t big = (5u << 20) / 4;
    char *longbuf = malloc(big + 1);
    for (size_t k = 0; k < big; k++)
        longbuf[k] = (char)('a' + k % 26);
    struct sl_buf line;
    sl_buf_init(&line, 0);
    struct pq_column cols[NCOLS];
    memset(cols, 0, sizeof cols);
    for (int c = 0; c < NCOLS; c++)
        cols[c].type = defs[c].type;
    for (long long r = 0; r < rows; r++) {
        struct pq_value v[NCOLS];
        memset(v, 0, sizeof v);
        for (int c = 0; c < NCOLS; c++)
            v[c].null = true;
        if (rnd() % 10) v[C_EVENT] = (struct pq_value){ .null = false, .s = sl_slice_str(events[rnd() % 4]) };
        if (rnd() % 20) v[C_HOST] = (struct pq_value){ .null = false, .s = sl_slice_str(hosts[rnd() % 3]) };
        if (rnd() % 7) v[C_UA] = (struct pq_value){ .null = false, .s = sl_slice_str(uas[rnd() % 6]) };
        if (rnd() % 4) v[C_N] = (struct pq_value){ .null = false, .i = (int64_t)rnd() >> (rnd() % 64) };
        v[C_ID] = (struct pq_value){ .null = false, .i = r };
        if (rnd() % 5) v[C_PRICE] = (struct pq_value){ .null = false, .d = (double)(int64_t)(rnd() % 2000000) / 100.0 - 5000 };
        if (rnd() % 3) v[C_FLAG] = (struct pq_value){ .null = false, .b = rnd() % 2 };
        v[C_TS] = (struct pq_value){ .null = false, .i = 1700000000000000 + (int64_t)(rnd() % 100000000000) };
        if (rnd() % 6) v[C_TSMS] = (struct pq_value){ .null = false, .i = 1700000000000 + (int64_t)(rnd() % 100000000) };
        if (longs && r % 97 == 3)
            v[C_LONG] = (struct pq_value){ .null = false, .s = sl_slice_make(longbuf, big - (size_t)(r % 13)) };
        else if (rnd() % 3)
            v[C_LONG] = (struct pq_value){ .null = false, .s = sl_slice_make(longbuf + rnd() % 100, rnd() % 300) };
        for (int c = 0; c < NCOLS; c++) {
            if (v[c].null) {
                if (rnd() % 2)
                    pq_writer_set_null(w, (size_t)c);
                continue;
            }
            switch (defs[c].type) {
            case PQ_STRING: pq_writer_set_string(w, (size_t)c, v[c].s.p, v[c].s.len); break;
            case PQ_DOUBLE: pq_writer_set_double(w, (size_t)c, v[c].d); break;
            case PQ_BOOL: pq_writer_set_bool(w, (size_t)c, v[c].b); break;
            default: pq_writer_set_int64(w, (size_t)c, v[c].i); break;
            }
        }
        if (pq_writer_end_row(w, &err) != SL_OK) {
            fprintf(stderr, "pq_gen: %s\n", err.msg);
            return 1;
        }
        if (quiet)
            continue;
        sl_buf_reset(&line);
        sl_buf_u8(&line, '{');
        for (int c = 0; c < NCOLS; c++) {
            struct pq_column sc = { .type = PQ_STRING };
            struct pq_value name = { .null = false, .s = sl_slice_str(defs[c].name) };
            if (c)
                sl_buf_u8(&line, ',');
            pq_value_json(&sc, name, &line);
            sl_buf_u8(&line, ':');
            pq_value_json(&cols[c], v[c], &line);
        }
        sl_buf_append_str(&line, "}\n");
        fwrite(line.data, 1, line.len, stdout);
    }
    if (pq_writer_finish(w, &err) != SL_OK) {
        fprintf(stderr, "pq_gen: %s\n", err.msg);
        return 1;
    }
    pq_writer_free(w);
    sl_buf_release(&line);
    free(longbuf);
    return 0;
}
