/*
 * parquet_read.c: fuzz target for the Parquet reader (src/parquet). Opens the
 * input as an in-memory file, describes it, and reads every column of every
 * row group in small batches (skipping a few rows first in odd columns),
 * touching each value. Any input must give a
 * clean error or values, never a crash, a sanitizer report, a hang or an
 * allocation beyond the reader's caps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "parquet/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open_mem(data, size, "fuzz.parquet", &err);
    if (!f)
        return 0;
    struct sl_buf out;
    sl_buf_init(&out, 0);
    pq_file_describe(f, &out);
    uint64_t sink = out.len;
    for (size_t g = 0; g < f->nrow_groups; g++) {
        for (size_t c = 0; c < f->ncols; c++) {
            struct sl_error e2 = { 0 };
            struct pq_column_reader *r = pq_column_reader_new(f, g, c, &e2);
            struct pq_batch b;
            int64_t n;
            if (r && c % 2 == 1 && pq_column_reader_skip(r, 1 + g * 7, &e2) < 0) {
                pq_column_reader_free(r);
                continue;
            }
            while (r && (n = pq_column_reader_read(r, 333, &b, &e2)) > 0) {
                for (size_t k = 0; k < (size_t)n; k++) {
                    if (!b.valid[k])
                        continue;
                    if (b.str)
                        sink += b.str[k].len ? b.str[k].p[b.str[k].len - 1] : 0;
                    else if (b.i64)
                        sink += (uint64_t)b.i64[k];
                    else if (b.b)
                        sink += b.b[k];
                    else if (b.f64)
                        sink += b.f64[k] > 0;
                }
            }
            pq_column_reader_free(r);
        }
    }
    if (f->nrow_groups > 0 && f->ncols > 0) {
        size_t cols[2] = { 0, f->ncols - 1 };
        struct pq_rows *rows = pq_rows_new(f, 0, cols, 2, &err);
        while (rows && pq_rows_next(rows, &err) == 1)
            sink += pq_rows_value(rows, 1).null;
        pq_rows_free(rows);
    }
    sl_buf_release(&out);
    pq_file_free(f);
    return (int)(sink & 0);
}
