/*
 * cmd_sql.c: `sluice sql`, SQL over the lake's Parquet tables (src/sql).
 * One-shot with a QUERY argument or a query on stdin; the interactive shell
 * when neither is given and stdin is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "sql/sql.h"

static const struct opt_cmd sql_cmd = {
    "sql",
    "sluice sql [--lake DIR] [--table NAME=PATH]... [--csv|--json|--markdown] [QUERY]\n"
    "sluice sql [--lake DIR] \"describe TABLE\"",
    "SQL (SQLite's dialect) over the lake's Parquet tables; no QUERY: a shell",
};

#define STDIN_MAX (64u << 20) /* bytes of SQL read from stdin */

int cmd_sql(int argc, char **argv)
{
    const char *lake = NULL, *mode_name = NULL;
    bool csv = false, json = false, markdown = false, no_pushdown = false;
    int64_t truncate = SQL_TRUNCATE_DEFAULT;
    struct opt_list tables = { 0 };
    const struct opt opts[] = {
        { "lake", 0, OPT_STRING, &lake, "DIR", "every directory of Parquet files under DIR is a table (default ./lake)" },
        { "table", 't', OPT_LIST, &tables, "NAME=PATH", "also a table NAME over a directory or file" },
        { "csv", 0, OPT_FLAG, &csv, NULL, "print CSV (header line, NULL as an empty field)" },
        { "json", 0, OPT_FLAG, &json, NULL, "print one JSON object per row" },
        { "markdown", 0, OPT_FLAG, &markdown, NULL, "print a Markdown table" },
        { "mode", 'm', OPT_STRING, &mode_name, "MODE", "table (default), csv, json or markdown" },
        { "no-pushdown", 0, OPT_FLAG, &no_pushdown, NULL, "run every statement in SQLite alone: no aggregate or scan push-down" },
        { "truncate", 0, OPT_INT, &truncate, "N", "table cells past N characters are cut (default 20, 0: never)" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&sql_cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    int status = 2;
    enum sql_mode mode = SQL_MODE_TABLE;
    if (csv + json + markdown + (mode_name != NULL) > 1) {
        opt_usage_error(&sql_cmd, "choose one of --csv, --json, --markdown, --mode");
        goto out_usage;
    }
    if (csv)
        mode = SQL_MODE_CSV;
    if (json)
        mode = SQL_MODE_JSON;
    if (markdown)
        mode = SQL_MODE_MARKDOWN;
    if (mode_name && sql_mode_parse(mode_name, &mode) != SL_OK) {
        opt_usage_error(&sql_cmd, "unknown mode '%s': table, csv, json or markdown", mode_name);
        goto out_usage;
    }
    if (truncate != 0 && (truncate < 4 || truncate > 1000000)) {
        opt_usage_error(&sql_cmd, "--truncate wants 0 (never) or a width of at least 4");
        goto out_usage;
    }

    /* The Parquet reader allocates a buffer per page (about 1 MiB in DuckDB's
     * files); mapped fresh, each cost a third of a scan's time (bench/RESULTS.md). */
    sl_mem_keep_large_buffers();

    struct sl_error err = { 0 };
    struct sql_tables list = { 0 };
    struct sql_session *s = NULL;
    struct sql_out out;
    sql_out_init(&out, mode, stdout);
    out.truncate = (int)truncate;
    status = 1;
    struct stat st;
    if (lake && stat(lake, &st) != 0) {
        sl_fail(&err, SL_ENOTFOUND, "no such lake directory '%s'", lake);
        goto out_fail;
    }
    if (sql_lake_scan(lake ? lake : "lake", &list, &err) != SL_OK)
        goto out_fail;
    for (int k = 0; k < tables.n; k++) {
        const char *eq = strchr(tables.items[k], '=');
        if (!eq || eq == tables.items[k] || !eq[1]) {
            status = opt_usage_error(&sql_cmd, "--table wants NAME=PATH, not '%s'", tables.items[k]);
            goto out;
        }
        char *name = sl_xstrndup(tables.items[k], (size_t)(eq - tables.items[k]));
        int rc = sql_table_add(&list, name, eq + 1, &err);
        free(name);
        if (rc != SL_OK)
            goto out_fail;
    }
    s = sql_session_new(&err);
    if (!s || sql_session_add_tables(s, &list, &err) != SL_OK)
        goto out_fail;
    sql_session_set_agg_pushdown(s, !no_pushdown);

    if (npos > 0) {
        struct sl_buf q;
        sl_buf_init(&q, 0);
        for (int k = 1; k <= npos; k++) {
            if (k > 1)
                sl_buf_u8(&q, ' ');
            sl_buf_append_str(&q, argv[k]);
        }
        int rc = sql_script_run(s, (const char *)q.data, &out, &err);
        sl_buf_release(&q);
        if (rc != SL_OK)
            goto out_fail;
    } else if (!isatty(STDIN_FILENO)) {
        struct sl_buf q;
        sl_buf_init(&q, STDIN_MAX);
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
            if (sl_buf_append(&q, chunk, n) != SL_OK) {
                sl_buf_release(&q);
                sl_fail(&err, SL_ELIMIT, "the query on stdin is larger than %u MiB", STDIN_MAX >> 20);
                goto out_fail;
            }
        }
        int rc = sql_script_run(s, (const char *)q.data, &out, &err);
        sl_buf_release(&q);
        if (rc != SL_OK)
            goto out_fail;
    } else {
        const char *home = getenv("HOME");
        char *hist = NULL;
        if (home && *home) {
            hist = sl_xmalloc(strlen(home) + 32);
            sprintf(hist, "%s/.sluice_history", home);
        }
        sql_shell_run(s, &out, hist, &err);
        free(hist);
    }
    status = 0;
    goto out;
out_fail:
    status = out.write_failed ? 1 : cmd_fail("sql", &err);
out:
    sql_session_free(s);
    sql_tables_release(&list);
    sql_out_release(&out);
out_usage:
    opt_list_release(&tables);
    return status;
}
