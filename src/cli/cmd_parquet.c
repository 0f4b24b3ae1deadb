/*
 * cmd_parquet.c: `sluice parquet FILE`, the parquet-tools of sluice: prints a
 * file's schema, row groups, column chunks (codec, encodings, sizes) and
 * statistics; with --rows, its rows as JSON lines (typed values, timestamps
 * as integers in the column's unit), which is how the tests compare sluice's
 * view of a file with DuckDB's and hyparquet's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "parquet/pq.h"

static const struct opt_cmd cmd = {
    "parquet",
    "sluice parquet [--rows [--columns <a,b,...>] [--limit <n>]] <file>",
    "describe a Parquet file: schema, row groups, column chunks, statistics",
};

static int print_rows(const struct pq_file *f, const char *columns, int64_t limit,
                      struct sl_error *err)
{
    size_t *cols = sl_xcalloc(f->ncols + 1, sizeof *cols);
    size_t ncols = 0;
    if (columns) {
        char *list = sl_xstrdup(columns), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int i = pq_file_column_index(f, tok);
            if (i < 0 || ncols == f->ncols) {
                sl_fail(err, SL_ENOTFOUND, "'%s' has no column '%s'", f->name, tok);
                free(list);
                free(cols);
                return SL_ENOTFOUND;
            }
            cols[ncols++] = (size_t)i;
        }
        free(list);
    } else {
        for (size_t i = 0; i < f->ncols; i++)
            cols[ncols++] = i;
    }
    struct sl_buf line;
    sl_buf_init(&line, 0);
    int rc = SL_OK;
    int64_t printed = 0;
    for (size_t g = 0; g < f->nrow_groups && rc == SL_OK; g++) {
        struct pq_rows *rows = pq_rows_new(f, g, cols, ncols, err);
        if (!rows) {
            rc = err->code;
            break;
        }
        while (limit < 0 || printed < limit) {
            int k = pq_rows_next(rows, err);
            if (k <= 0) {
                rc = k;
                break;
            }
            sl_buf_reset(&line);
            sl_buf_u8(&line, '{');
            for (size_t i = 0; i < ncols; i++) {
                const struct pq_column *c = &f->cols[cols[i]];
                struct pq_value v = pq_rows_value(rows, i);
                if (i)
                    sl_buf_u8(&line, ',');
                struct pq_value name = { .null = false };
                name.s = sl_slice_str(c->name);
                struct pq_column strcol = { .type = PQ_STRING };
                pq_value_json(&strcol, name, &line);
                sl_buf_u8(&line, ':');
                pq_value_json(c, v, &line);
            }
            sl_buf_append_str(&line, "}\n");
            fwrite(line.data, 1, line.len, stdout);
            printed++;
        }
        pq_rows_free(rows);
    }
    sl_buf_release(&line);
    free(cols);
    return rc;
}

int cmd_parquet(int argc, char **argv)
{
    bool rows = false;
    const char *columns = NULL;
    int64_t limit = -1;
    const struct opt opts[] = {
        { "rows", 'r', OPT_FLAG, &rows, NULL, "print the rows as JSON lines instead" },
        { "columns", 'c', OPT_STRING, &columns, "A,B", "with --rows: only these columns" },
        { "limit", 'n', OPT_INT, &limit, "N", "with --rows: at most N rows" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    if (npos != 1)
        return opt_usage_error(&cmd, "expected one file, got %d arguments", npos);
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open(argv[1], &err);
    if (!f)
        return cmd_fail(cmd.name, &err);
    int rc;
    if (rows) {
        rc = print_rows(f, columns, limit, &err);
    } else {
        struct sl_buf out;
        sl_buf_init(&out, 0);
        rc = pq_file_describe(f, &out);
        fwrite(out.data, 1, out.len, stdout);
        sl_buf_release(&out);
    }
    pq_file_free(f);
    return rc < 0 ? cmd_fail(cmd.name, &err) : 0;
}
