/*
 * sql_int.h: internals shared by the files of src/sql only. The module's
 * contract is sql.h.
 */
#ifndef SQL_INT_H
#define SQL_INT_H

#include <sqlite3.h>

#include "sql/sql.h"

struct sql_session {
    sqlite3 *db;               /* owned */
    struct sql_tables tables;  /* owned: what sql_session_add_tables() registered */
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
