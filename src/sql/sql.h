/*
 * sql.h: `sluice sql` and `sluice ls`, the last stage of the pipeline: SQL
 * (SQLite's dialect, through the Debian libsqlite3) over the Parquet tables
 * that `sluice extract` writes into the lake, and over any Parquet a user has.
 * This header is the whole contract of src/sql (prefix sql_); the design is
 * in docs/internals/sql.md.
 *
 *   lake dir ──sql_lake_*──▶ table list ──sql_session_add_table──▶ SQLite
 *   virtual table "sluice_parquet" (sql_vtab.c) over src/parquet's reader:
 *   projection push-down (colUsed), constraint push-down (=, <, <=, >, >=,
 *   IS NULL, IS NOT NULL) with row-group pruning by statistics and filtering
 *   in the cursor, rows streamed one batch at a time.
 *   sql_agg.c: GROUP BY queries and filtered projections of a simple shape
 *   run below SQLite (one pass in C), SQLite finishing the rest.
 *   results ──sql_out_*──▶ aligned table | csv | json lines | markdown
 *   `describe T` ──sql_describe_*──▶ pandas' describe() statistics
 *
 * Parquet kinds map to SQLite values (docs/internals/sql.md): int64 and date
 * ordinals -> INTEGER, double -> REAL, string -> TEXT, bool -> INTEGER 0/1
 * (declared BOOLEAN), timestamp -> TEXT 'YYYY-MM-DD HH:MM:SS.mmm' UTC
 * (declared TIMESTAMP_TEXT), date -> TEXT 'YYYY-MM-DD' (declared DATE_TEXT).
 *
 * Threads: every object here belongs to one thread at a time. Inside
 * sql_session_exec() a pushed-down scan may decode on two worker threads of
 * its own, joined before the statement returns (docs/internals/sql.md).
 */
#ifndef SQL_H
#define SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

/* ---------------------------------------------------------------- MARK: cells */

enum sql_kind {
    SQL_NULL = 0,
    SQL_INT = 1,  /* .i */
    SQL_REAL = 2, /* .d */
    SQL_TEXT = 3, /* .s, .len (UTF-8, not NUL-terminated) */
    SQL_BLOB = 4, /* .s, .len (shown as hex) */
};

/* One value of a result row. Text is borrowed for the call it is passed to. */
struct sql_cell {
    enum sql_kind kind;
    int64_t i;
    double d;
    const char *s; /* borrowed */
    size_t len;    /* bytes of s */
};

/* Append the text of a REAL as SQL shells print it: the shortest form that
 * reads back to the same double (15 significant digits, else 16, else 17), with ".0"
 * added to whole numbers ("2.0", "0.1", "1e+20"); NaN and infinities as
 * "NaN", "Inf", "-Inf". Returns SL_OK or SL_ELIMIT. */
int sql_real_format(double d, struct sl_buf *out);

/* ---------------------------------------------------------------- MARK: output */

enum sql_mode {
    SQL_MODE_TABLE = 0, /* aligned, bordered like Spark's show(); buffers the result */
    SQL_MODE_CSV = 1,   /* RFC 4180, header line, NULL as an empty field */
    SQL_MODE_JSON = 2,  /* one JSON object per row (JSON lines); streams */
    SQL_MODE_MARKDOWN = 3, /* GitHub table; buffers the result */
};

/* Parse "table", "csv", "json" or "markdown" (also "md"); SL_OK or SL_EUSAGE. */
int sql_mode_parse(const char *name, enum sql_mode *mode);
const char *sql_mode_name(enum sql_mode mode);

#define SQL_TRUNCATE_DEFAULT 20 /* table cells: longer ones print as 17 chars + "..." */
#define SQL_OUT_ROWS_MAX 10000000 /* table/markdown rows buffered; more is SL_ELIMIT */

/*
 * A result writer. Text accumulates in `buf` and goes to `fp` whenever it
 * passes 64 KiB and at sql_out_end(); with fp NULL it stays in buf (tests).
 * Per result: sql_out_begin(), sql_out_row() per row, sql_out_end().
 */
struct sql_out {
    enum sql_mode mode;
    int truncate;          /* table mode: max characters per cell, 0 = never (>= 4) */
    bool footer;           /* table mode: print "(N rows)" after the table */
    FILE *fp;              /* borrowed; NULL = keep everything in buf */
    struct sl_buf buf;     /* owned: text not yet written to fp */
    /* private: the current result */
    size_t ncols;
    char **names;          /* owned; ncols column names */
    bool *numeric;         /* owned; 2 ncols flags: [k] a number seen in column k,
                              [ncols + k] text seen; numbers-only columns align right */
    struct sl_buf cells;   /* owned: buffered cells (table/markdown), see sql_out.c */
    size_t nrows;          /* rows of the current result so far */
    bool write_failed;     /* fwrite to fp failed (errno kept) */
};

void sql_out_init(struct sql_out *out, enum sql_mode mode, FILE *fp);
void sql_out_release(struct sql_out *out); /* NULL-safe */

/* Start a result with `ncols` columns named names[0..ncols) (copied). */
void sql_out_begin(struct sql_out *out, size_t ncols, const char *const *names);
/* Add a row of ncols cells (text copied as needed). SL_OK, SL_ELIMIT (too
 * many rows to buffer) or SL_EIO (writing to fp failed). */
int sql_out_row(struct sql_out *out, const struct sql_cell *cells, struct sl_error *err);
/* Finish the result: print buffered modes, flush to fp. SL_OK or SL_EIO. */
int sql_out_end(struct sql_out *out, struct sl_error *err);
/* Forget the current result without printing what is buffered (rows already
 * streamed in CSV/JSON mode stay printed). */
void sql_out_discard(struct sql_out *out);
/* Write buf to fp now (no-op with fp NULL). SL_OK or SL_EIO. */
int sql_out_flush(struct sql_out *out, struct sl_error *err);

/* ---------------------------------------------------------------- MARK: describe */

/* Linear-interpolation quantile of sorted[0..n) (n >= 1), q in [0, 1]: pandas'
 * and numpy's default, h = (n - 1) q, x[floor h] + (h - floor h)(x[ceil h] - x[floor h]). */
double sql_quantile(const double *sorted, size_t n, double q);

enum sql_describe_kind {
    SQL_DESCRIBE_AUTO = 0,    /* decided by the first non-NULL value: INT/REAL numeric */
    SQL_DESCRIBE_NUMERIC = 1, /* count, mean, std, min, 25%, 50%, 75%, max */
    SQL_DESCRIBE_TEXT = 2,    /* count, unique, top, freq (also booleans) */
};

struct sql_describe;

/* Statistics over `ncols` columns (names copied; kinds per column, see
 * above). Caller frees with sql_describe_free(). Memory grows with the
 * values of numeric columns (8 bytes each, for the quantiles) and with the
 * distinct values of text columns. */
struct sql_describe *sql_describe_new(size_t ncols, const char *const *names,
                                      const enum sql_describe_kind *kinds);
/* Add one value of column col. NULLs count nowhere (as pandas' NaN/None).
 * A numeric column takes INT and REAL (TEXT/BLOB are skipped); a text column
 * takes everything, counting values by their text. */
void sql_describe_add(struct sql_describe *d, size_t col, const struct sql_cell *cell);
/*
 * Write the statistics as a result to `out`: the first column "summary"
 * names the statistic, then one column per described column. Rows are
 * pandas' (describe(include='all') when kinds are mixed): count, unique,
 * top, freq (when any text column), mean, std, min, 25%, 50%, 75%, max
 * (when any numeric column). Not-applicable cells are NULL; std of one
 * value is NULL (pandas: NaN, ddof = 1); top of ties is the value seen first.
 */
int sql_describe_write(struct sql_describe *d, struct sql_out *out, struct sl_error *err);
void sql_describe_free(struct sql_describe *d); /* NULL-safe */

/* ---------------------------------------------------------------- MARK: lake */

/* One table: a name and its Parquet files. */
struct sql_table {
    char *name;    /* owned */
    char *path;    /* owned: the directory or file given */
    char **files;  /* owned: part files, sorted; `_`/`.`-prefixed names skipped */
    size_t nfiles;
};

struct sql_tables {
    struct sql_table *v; /* owned */
    size_t n;
};

/*
 * Tables of a lake: every directory directly under `dir` that holds Parquet
 * files (recursively, hidden names skipped) is a table named after the
 * directory. A missing `dir` is no tables (SL_OK); an unreadable one SL_EIO.
 * Appends to `tables`, sorted by name.
 */
int sql_lake_scan(const char *dir, struct sql_tables *tables, struct sl_error *err);
/* Append table `name` over `path` (a directory of part files or one file).
 * SL_ENOTFOUND (no such path, or a directory with no Parquet files), SL_EIO. */
int sql_table_add(struct sql_tables *tables, const char *name, const char *path,
                  struct sl_error *err);
void sql_tables_release(struct sql_tables *tables); /* NULL-safe */

/*
 * `sluice ls PATH` (like `hadoop fs -ls`): append to `out` "Found N items"
 * and a line per entry: type and permissions, size in bytes, modification
 * time (UTC), rows (Parquet files; a directory holding Parquet files shows
 * its total), path. A directory that is a table ends with a "total" line.
 * SL_OK, SL_ENOTFOUND or SL_EIO. A Parquet file whose footer fails to decode
 * shows rows "?" and is named in a warning line at the end (still SL_OK).
 */
int sql_ls(const char *path, struct sl_buf *out, struct sl_error *err);

/* ---------------------------------------------------------------- MARK: session */

struct sql_session;

/* An in-memory SQLite database with the sluice_parquet module. Returns a
 * session the caller frees, or NULL with err set (SL_EIO). */
struct sql_session *sql_session_new(struct sl_error *err);
void sql_session_free(struct sql_session *s); /* NULL-safe */

/* Register every table (CREATE VIRTUAL TABLE temp."name" USING sluice_parquet).
 * Reads each file's footer. A table with a file that cannot be read still
 * registers, and queries touching it fail with the reader's message naming
 * the file; a table none of whose files can be read is left out, and a query
 * naming it fails with that message (other tables keep working). A name
 * registered twice keeps the last (--table after --lake). */
int sql_session_add_tables(struct sql_session *s, const struct sql_tables *tables,
                           struct sl_error *err);

/*
 * Run every statement in `sqltext` (SQL separated by `;`, plus
 * `describe T` / `describe SELECT ...`), writing each result that has
 * columns to `out`. Stops at the first failure: SL_EUSAGE for anything
 * SQLite reports (its message on one line; "no such table: x" goes on to
 * name the tables that exist; a Parquet file that fails to decode arrives
 * this way too, the message naming the file), SL_EIO for output errors.
 */
int sql_session_exec(struct sql_session *s, const char *sqltext, struct sql_out *out,
                     struct sl_error *err);

/* Aggregate push-down (docs/internals/sql.md): GROUP BY queries of a simple
 * shape over one table are aggregated below SQLite. On by default; off, every
 * statement runs in SQLite alone (for comparisons and benchmarks). */
void sql_session_set_agg_pushdown(struct sql_session *s, bool on);

/* The table names registered, comma-separated, appended to out. */
void sql_session_table_names(struct sql_session *s, struct sl_buf *out);

/* CREATE statements of table `name` (or of all with NULL), appended to out;
 * SL_ENOTFOUND when there is no such table. */
int sql_session_schema(struct sql_session *s, const char *name, struct sl_buf *out,
                       struct sl_error *err);

/* true when `text` ends a complete statement: a `;` outside quotes and
 * comments (sqlite3_complete; `describe T;` follows the same rule). */
bool sql_complete(const char *text);

/*
 * Run a script as the shell would, without a terminal: statements (a last
 * one may lack its `;`) and, at the start of a line between statements, dot
 * commands (.tables, .schema [T], .mode MODE, .truncate N, .help, .quit).
 * What `sluice sql QUERY` and `... | sluice sql` run. Stops at the first
 * failure (as sql_session_exec()).
 */
int sql_script_run(struct sql_session *s, const char *text, struct sql_out *out,
                   struct sl_error *err);

/*
 * The interactive shell on a terminal: line editing and history (libedit;
 * history in `history_path` when not NULL), statements over several lines
 * until `;`, dot commands .tables, .schema [T], .mode [MODE], .help, .quit.
 * Errors print on stderr and the shell goes on. Returns SL_OK at end of input.
 */
int sql_shell_run(struct sql_session *s, struct sql_out *out, const char *history_path,
                  struct sl_error *err);

#endif
