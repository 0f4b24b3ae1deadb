/*
 * cmd_ls.c: `sluice ls PATH`, a lake listing like `hadoop fs -ls`: type and
 * permissions, size, modification time (UTC), rows of Parquet files and
 * tables (src/sql sql_ls).
 */
#include <stdio.h>

#include "base/buf.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "sql/sql.h"

static const struct opt_cmd ls_cmd = {
    "ls",
    "sluice ls [PATH]",
    "list a lake path with sizes, rows and times (default ./lake)",
};

int cmd_ls(int argc, char **argv)
{
    const struct opt opts[] = { OPT_TABLE_END };
    int npos = opt_parse(&ls_cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    if (npos > 1)
        return opt_usage_error(&ls_cmd, "one PATH at a time");
    struct sl_error err = { 0 };
    struct sl_buf out;
    sl_buf_init(&out, 0);
    int rc = sql_ls(npos ? argv[1] : "lake", &out, &err);
    if (rc == SL_OK)
        fwrite(out.data, 1, out.len, stdout);
    sl_buf_release(&out);
    return rc == SL_OK ? 0 : cmd_fail("ls", &err);
}
