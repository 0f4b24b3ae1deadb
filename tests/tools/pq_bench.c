/*
 * pq_bench.c: sluice's side of bench/parquet/run. Writes an event-shaped
 * table with the Parquet writer, then reads it back touching every value of
 * every column (string lengths, sums of numbers), on one thread. The rows
 * are a pure function of the row number i, the same SQL expressions that
 * tests/node/parquet_bench.mjs gives DuckDB, so both write identical tables.
 *
 *   pq_bench write FILE ROWS [none|snappy|gzip|zstd]   -> "write ROWS SECONDS BYTES cpu=S ..."
 *   pq_bench read FILE                                 -> "read ROWS SECONDS CHECKSUM cpu=S ..."
 * (cpu= is the process CPU time: steadier than wall time on a shared machine)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "parquet/pq.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

static const char *const events[] = { "default", "purchase_sword", "purchase_knife", "join_guild" };
static const char *const hosts[] = { "localhost:5000", "user1.comcast.com", "user2.att.com" };
static const char *const accepts[] = { "*/*", "text/html,application/xhtml+xml", "application/json" };

enum { C_EVENT, C_HOST, C_UA, C_ACCEPT, C_TS, C_USER, C_SESSION, C_PRICE, C_NEW, C_REMOTE, NCOLS };

static const struct pq_column_def defs[NCOLS] = {
    { "event_type", PQ_STRING, 0, false }, { "Host", PQ_STRING, 0, false },
    { "User-Agent", PQ_STRING, 0, false }, { "Accept", PQ_STRING, 0, false },
    { "timestamp", PQ_TIMESTAMP, PQ_MICROS, false }, { "user_id", PQ_INT64, 0, false },
    { "session_id", PQ_INT64, 0, false }, { "price", PQ_DOUBLE, 0, false },
    { "is_new", PQ_BOOL, 0, false }, { "remote_user", PQ_STRING, 0, false },
};

static int bench_write(const char *path, int64_t rows, const char *codec)
{
    char uas[20][96];
    size_t ualen[20];
    for (int k = 0; k < 20; k++)
        ualen[k] = (size_t)snprintf(uas[k], sizeof uas[k],
                                    "Mozilla/5.0 (X11; Linux x86_64; agent %d) Gecko/20100101", k);
    static char remotes[5000][16];
    static size_t remlen[5000];
    for (int k = 0; k < 5000; k++)
        remlen[k] = (size_t)snprintf(remotes[k], sizeof remotes[k], "user-%d", k);
    struct pq_writer_opts o = { 0 };
    o.use_codec = true;
    o.no_dictionary = getenv("PQ_BENCH_NO_DICT") != NULL;
    o.codec = !strcmp(codec, "none") ? PQ_UNCOMPRESSED : !strcmp(codec, "gzip") ? PQ_GZIP
              : !strcmp(codec, "zstd") ? PQ_ZSTD : PQ_SNAPPY;
    struct sl_error err = { 0 };
    double t0 = now(), c0 = cpu();
    struct pq_writer *w = pq_writer_open(path, defs, NCOLS, &o, &err);
    if (!w) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        return 1;
    }
    for (int64_t i = 0; i < rows; i++) {
        uint64_t h = (uint64_t)i * 2654435761u;
        const char *e = events[h % 4];
        pq_writer_set_string(w, C_EVENT, e, strlen(e));
        const char *host = hosts[(i * 7919) % 3];
        pq_writer_set_string(w, C_HOST, host, strlen(host));
        int u = (int)((i * 31) % 20);
        pq_writer_set_string(w, C_UA, uas[u], ualen[u]);
        if (i % 10 != 0) {
            const char *a = accepts[(i * 13) % 3];
            pq_writer_set_string(w, C_ACCEPT, a, strlen(a));
        }
        pq_writer_set_int64(w, C_TS, 1700000000000000 + i * 1000 + (i * 7) % 1000);
        pq_writer_set_int64(w, C_USER, (int64_t)(h % 100000));
        pq_writer_set_int64(w, C_SESSION, i / 50);
        if (i % 5 != 0)
            pq_writer_set_double(w, C_PRICE, (double)((i * 37) % 10000) / 100.0);
        pq_writer_set_bool(w, C_NEW, i % 3 == 0);
        if (i % 7 != 0) {
            int r = (int)(i % 5000);
            pq_writer_set_string(w, C_REMOTE, remotes[r], remlen[r]);
        }
        if (pq_writer_end_row(w, &err) != SL_OK) {
            fprintf(stderr, "pq_bench: %s\n", err.msg);
            return 1;
        }
    }
    if (pq_writer_finish(w, &err) != SL_OK) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        return 1;
    }
    int64_t bytes = pq_writer_bytes(w);
    pq_writer_free(w);
    double t = now() - t0, c = cpu() - c0;
    printf("write %lld %.3f %lld cpu=%.3f maxrss_mb=%ld\n", (long long)rows, t, (long long)bytes, c,
           maxrss_mb());
    return 0;
}

static int bench_read(const char *path)
{
    double t0 = now(), c0 = cpu();
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open(path, &err);
    if (!f) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        return 1;
    }
    uint64_t check = 0;
    int64_t rows = 0;
    for (size_t g = 0; g < f->nrow_groups; g++) {
        rows += f->row_groups[g].num_rows;
        for (size_t c = 0; c < f->ncols; c++) {
            struct pq_column_reader *r = pq_column_reader_new(f, g, c, &err);
            if (!r) {
                fprintf(stderr, "pq_bench: %s\n", err.msg);
                return 1;
            }
            struct pq_batch b;
            int64_t n;
            /* Touch every value: the byte length of each string (plus its
             * first byte), the sum of each number, the count of trues; the
             * same work as the DuckDB side's sum(strlen(s)), sum(x). */
            while ((n = pq_column_reader_read(r, 2048, &b, &err)) > 0) {
                if (b.str) {
                    for (size_t k = 0; k < (size_t)n; k++)
                        check += b.str[k].len ? b.str[k].len + b.str[k].p[0] : 0;
                } else if (b.i64) {
                    for (size_t k = 0; k < (size_t)n; k++)
                        check += (uint64_t)b.i64[k];
                } else if (b.f64) {
                    double sum = 0;
                    for (size_t k = 0; k < (size_t)n; k++)
                        sum += b.f64[k];
                    check += (uint64_t)sum;
                } else if (b.b) {
                    for (size_t k = 0; k < (size_t)n; k++)
                        check += b.b[k];
                }
            }
            if (n < 0) {
                fprintf(stderr, "pq_bench: %s\n", err.msg);
                return 1;
            }
            pq_column_reader_free(r);
        }
    }
    pq_file_free(f);
    double t = now() - t0, c = cpu() - c0;
    printf("read %lld %.3f %llu cpu=%.3f maxrss_mb=%ld\n", (long long)rows, t,
           (unsigned long long)check, c, maxrss_mb());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "write"))
        return bench_write(argv[2], atoll(argv[3]), argc > 4 ? argv[4] : "snappy");
    if (argc == 3 && !strcmp(argv[1], "read"))
        return bench_read(argv[2]);
    fprintf(stderr, "usage: pq_bench write FILE ROWS [codec] | pq_bench read FILE\n");
    return 2;
}
