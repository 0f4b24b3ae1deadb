/*
 * sql_int.h: internals shared by the files of src/sql only. The module's
 * contract is sql.h.
 */
#ifndef SQL_INT_H
#define SQL_INT_H

#include <signal.h>
#include <sqlite3.h>

#include "sql/sql.h"

struct sql_session {
    sqlite3 *db;               /* owned */
    struct sql_tables tables;  /* owned: what sql_session_add_tables() registered */
    void **vtabs;              /* borrowed: the live virtual table of tables.v[i], or NULL
                                  (set by the module's xConnect, cleared by xDisconnect) */
    bool no_agg_pushdown;      /* sql_session_set_agg_pushdown(s, false) */
    struct sl_buf broken;      /* owned: "name\tmessage\n" per table that could not be read */
};

/*
 * Register the "sluice_parquet" module on db. Its arguments are either an
 * index into s->tables (what sql_session_add_tables() writes) or a quoted
 * path of a directory or file:
 *   CREATE VIRTUAL TABLE temp.t USING sluice_parquet(0);
 *   CREATE VIRTUAL TABLE temp.t USING sluice_parquet('lake/purchases');
 * `s` is borrowed and must outlive db.
 */
int sql_vtab_register(sqlite3 *db, struct sql_session *s);

/* Set (from a signal handler) to stop the running statement: the shell's
 * Ctrl-C. Scans check it per batch and fail with "interrupted"; the shell
 * also calls sqlite3_interrupt(). Cleared before each statement. */
extern volatile sig_atomic_t sql_interrupted;

/* ---------------------------------------------------------------- aggregate push-down */

enum sql_agg_fn {
    SQL_AGG_COUNT_STAR = 1, SQL_AGG_COUNT, SQL_AGG_SUM, SQL_AGG_TOTAL, SQL_AGG_AVG,
    SQL_AGG_MIN, SQL_AGG_MAX,
};

/* Comparison operators of pushed constraints (also the vtab's own). */
enum { SQL_OP_EQ = 1, SQL_OP_GT, SQL_OP_LE, SQL_OP_LT, SQL_OP_GE, SQL_OP_ISNULL,
       SQL_OP_NOTNULL, SQL_OP_NE };

#define SQL_AGG_KEYS_MAX 8
#define SQL_AGG_FUNCS_MAX 64
#define SQL_AGG_CONS_MAX 32

/* A GROUP BY query over one sluice_parquet table, planned by sql_agg.c. */
struct sql_agg_plan {
    int table;                    /* index into session->tables */
    int nkeys;
    int keys[SQL_AGG_KEYS_MAX];   /* table columns grouped by */
    int naggs;
    struct {
        enum sql_agg_fn fn;
        int col;                  /* table column; -1 for count(*) */
    } aggs[SQL_AGG_FUNCS_MAX];
    int ncons;
    struct {
        int col;
        int op;                   /* SQL_OP_* */
        int kind;                 /* SQL_INT, SQL_REAL, SQL_TEXT; SQL_NULL for IS [NOT] NULL */
        int64_t i;
        double d;
        const char *s;            /* borrowed from the statement text for the call */
        size_t len;
    } cons[SQL_AGG_CONS_MAX];
};

/*
 * Run `plan` below SQLite: scan the table once (pruning row groups, reading
 * only the columns used), group and aggregate in C with SQLite's exact
 * semantics (sum: integer until a real or an overflow, avg/total in double
 * in scan order, min/max by SQLite's ordering), and bind each group as
 * ?1..?nkeys (keys) then the aggregates to `insert`, stepping it once per
 * group. Returns SL_OK, 1 when the plan does not apply exactly (a type that
 * SQLite would convert: the caller falls back to plain SQLite), or an error
 * (< 0) with the message in err (e.g. "integer overflow", a corrupt file).
 */
int sql_vtab_aggregate(struct sql_session *s, const struct sql_agg_plan *plan,
                       sqlite3_stmt *insert, struct sl_error *err);

/*
 * Stream the rows of plan->table that satisfy plan->cons (exactly; nothing
 * re-checks), columns cols[0..ncols) named names[], to `out`, skipping
 * `offset` rows and stopping after `limit` (-1: all). Rows come in scan
 * order, as SQLite's scan of the table would give them. Returns SL_OK, 1
 * when the constraints cannot be applied exactly (caller falls back), or
 * an error with err set.
 */
int sql_vtab_scan(struct sql_session *s, const struct sql_agg_plan *plan, const int *cols,
                  const char *const *names, int ncols, int64_t limit, int64_t offset,
                  struct sql_out *out, struct sl_error *err);

/* Declared type and name of column `col` of the table registered as
 * tables[table] (NULL when it is not live or col is out of range). */
const char *sql_vtab_column_name(struct sql_session *s, int table, int col);
int sql_vtab_column_count(struct sql_session *s, int table);

/*
 * Try to run one statement (text[0..len)) as an aggregate pushed below
 * SQLite. Returns 1 when it did (results written to out), 0 when the
 * statement is not of the supported shape (run it with SQLite), < 0 on
 * failure with err set.
 */
int sql_agg_try(struct sql_session *s, const char *text, size_t len, struct sql_out *out,
                struct sl_error *err);

/* Run a prepared statement, printing its result to out (sql_session.c);
 * SQLite errors as SL_EUSAGE with its message. */
int sql_session_run_stmt(struct sql_session *s, sqlite3_stmt *st, struct sql_out *out,
                         struct sl_error *err);

/* Collect the part files of `path` (a directory, recursively, skipping names
 * that start with `_` or `.`, or one file) into *files (sorted, owned).
 * SL_ENOTFOUND when path does not exist, SL_EIO when it cannot be read. */
int sql_files_collect(const char *path, char ***files, size_t *nfiles, struct sl_error *err);

/* Format a timestamp of `unit` (enum pq_time_unit) as 'YYYY-MM-DD HH:MM:SS.mmm'
 * (UTC) into buf (>= 32 bytes); returns the length. Milliseconds are rounded
 * down (toward the past) so the text order is the value order. */
size_t sql_format_timestamp(int64_t v, int unit, char *buf);
/* Format days since 1970-01-01 as 'YYYY-MM-DD'; returns the length. */
size_t sql_format_date(int64_t days, char *buf);

#endif
