/*
 * sql_session.c: one SQLite connection with the lake's tables registered,
 * running statement text the way both the one-shot `sluice sql "..."` and
 * the shell do: SQL statements one after another, plus `describe T`, which
 * is not SQL but pandas' describe() over a table or a query.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "sql/sql_int.h"

struct sql_session *sql_session_new(struct sl_error *err)
{
    struct sql_session *s = sl_xcalloc(1, sizeof *s);
    if (sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        sl_fail(err, SL_EIO, "cannot open SQLite: %s", s->db ? sqlite3_errmsg(s->db) : "no memory");
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    sql_vtab_register(s->db, s);
    sl_buf_init(&s->broken, 0);
    return s;
}

void sql_session_free(struct sql_session *s)
{
    if (!s)
        return;
    sqlite3_close(s->db); /* disconnects the virtual tables before the list goes */
    sql_tables_release(&s->tables);
    sl_buf_release(&s->broken);
    free(s->vtabs);
    free(s);
}

int sql_session_add_tables(struct sql_session *s, const struct sql_tables *tables,
                           struct sl_error *err)
{
    (void)err; /* unreadable tables are recorded, not fatal (sql.h) */
    for (size_t k = 0; k < tables->n; k++) {
        const struct sql_table *t = &tables->v[k];
        /* Keep a copy: the module reads the file list by index in xCreate. */
        s->tables.v = sl_xrealloc(s->tables.v, (s->tables.n + 1) * sizeof *s->tables.v);
        struct sql_table *c = &s->tables.v[s->tables.n];
        c->name = sl_xstrdup(t->name);
        c->path = sl_xstrdup(t->path);
        c->nfiles = t->nfiles;
        c->files = sl_xcalloc(t->nfiles + 1, sizeof *c->files);
        for (size_t f = 0; f < t->nfiles; f++)
            c->files[f] = sl_xstrdup(t->files[f]);
        size_t idx = s->tables.n++;
        s->vtabs = sl_xrealloc(s->vtabs, s->tables.n * sizeof *s->vtabs);
        s->vtabs[idx] = NULL;
        char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.\"%w\";"
                                    "CREATE VIRTUAL TABLE temp.\"%w\" USING sluice_parquet(%lld)",
                                    t->name, t->name, (long long)idx);
        char *msg = NULL;
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
        sqlite3_free(sql);
        if (rc != SQLITE_OK) {
            /* Not fatal: other tables stay usable; a query naming this one
             * gets the message (sql_error). */
            const char *m = msg ? msg : sqlite3_errmsg(s->db);
            sl_buf_appendf(&s->broken, "%s\t", t->name);
            for (const char *c = m; *c; c++)
                sl_buf_u8(&s->broken, *c == '\n' || *c == '\t' ? ' ' : (uint8_t)*c);
            sl_buf_u8(&s->broken, '\n');
            sqlite3_free(msg);
        }
    }
    return SL_OK;
}

void sql_session_set_agg_pushdown(struct sql_session *s, bool on)
{
    s->no_agg_pushdown = !on;
}

void sql_session_table_names(struct sql_session *s, struct sl_buf *out)
{
    sqlite3_stmt *st = NULL;
    const char *q = "SELECT name FROM sqlite_temp_master WHERE type IN ('table','view') "
                    "UNION SELECT name FROM sqlite_master WHERE type IN ('table','view') "
                    "ORDER BY 1";
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
        return;
    bool first = true;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!first)
            sl_buf_append_str(out, ", ");
        sl_buf_append_str(out, (const char *)sqlite3_column_text(st, 0));
        first = false;
    }
    sqlite3_finalize(st);
}

int sql_session_schema(struct sql_session *s, const char *name, struct sl_buf *out,
                       struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    const char *q = "SELECT name FROM sqlite_temp_master WHERE type IN ('table','view') "
                    "AND (?1 IS NULL OR name = ?1 COLLATE NOCASE) "
                    "UNION SELECT name FROM sqlite_master WHERE type IN ('table','view') "
                    "AND (?1 IS NULL OR name = ?1 COLLATE NOCASE) ORDER BY 1";
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_EUSAGE, "%s", sqlite3_errmsg(s->db));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        for (size_t k = 0; k < s->tables.n; k++)
            if (sqlite3_stricmp(s->tables.v[k].name, t) == 0)
                sl_buf_appendf(out, "-- %s: %zu file%s\n", s->tables.v[k].path,
                               s->tables.v[k].nfiles, s->tables.v[k].nfiles == 1 ? "" : "s");
        char *pq = sqlite3_mprintf("SELECT name, type FROM pragma_table_info(%Q)", t);
        sqlite3_stmt *ti = NULL;
        sl_buf_appendf(out, "CREATE TABLE \"%s\" (", t);
        if (sqlite3_prepare_v2(s->db, pq, -1, &ti, NULL) == SQLITE_OK) {
            int n = 0;
            while (sqlite3_step(ti) == SQLITE_ROW) {
                char *col = sqlite3_mprintf("\"%w\"", (const char *)sqlite3_column_text(ti, 0));
                sl_buf_appendf(out, "%s\n  %s %s", n++ ? "," : "", col,
                               (const char *)sqlite3_column_text(ti, 1));
                sqlite3_free(col);
            }
        }
        sqlite3_finalize(ti);
        sqlite3_free(pq);
        sl_buf_append_str(out, "\n);\n");
        found++;
    }
    sqlite3_finalize(st);
    if (name && !found)
        return sl_fail(err, SL_ENOTFOUND, "no such table: %s", name);
    return SL_OK;
}

bool sql_complete(const char *text)
{
    return sqlite3_complete(text) != 0;
}

/* ---------------------------------------------------------------- MARK: statements */

/* Fail with SQLite's message on one line, naming the tables after "no such table". */
static int sql_error(struct sql_session *s, struct sl_error *err)
{
    const char *msg = sqlite3_errmsg(s->db);
    struct sl_buf b;
    sl_buf_init(&b, SL_ERROR_MSG_MAX);
    for (const char *p = msg; *p; p++)
        sl_buf_u8(&b, *p == '\n' || *p == '\r' ? ' ' : (uint8_t)*p);
    if (strncmp(msg, "no such table: ", 15) == 0) {
        /* A table left out because its files cannot be read: say why. */
        const char *name = msg + 15, *dot = strrchr(name, '.');
        if (dot)
            name = dot + 1;
        size_t n = strlen(name);
        for (const char *line = (const char *)s->broken.data; *line;) {
            const char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
            if (tab && nl && (size_t)(tab - line) == n && strncasecmp(line, name, n) == 0) {
                sl_fail(err, SL_EUSAGE, "cannot read table '%.*s': %.*s", (int)n, line,
                        (int)(nl - tab - 1), tab + 1);
                sl_buf_release(&b);
                return SL_EUSAGE;
            }
            line = nl ? nl + 1 : line + strlen(line);
        }
        struct sl_buf names;
        sl_buf_init(&names, 0);
        sql_session_table_names(s, &names);
        if (names.len)
            sl_buf_appendf(&b, " (tables: %s)", (const char *)names.data);
        else
            sl_buf_append_str(&b, " (there are no tables: see --lake and --table)");
        sl_buf_release(&names);
    }
    sl_fail(err, SL_EUSAGE, "%s", (const char *)b.data);
    sl_buf_release(&b);
    return SL_EUSAGE;
}

static struct sql_cell column_cell(sqlite3_stmt *st, int k)
{
    struct sql_cell c = { .kind = SQL_NULL };
    switch (sqlite3_column_type(st, k)) {
    case SQLITE_INTEGER:
        c.kind = SQL_INT;
        c.i = sqlite3_column_int64(st, k);
        break;
    case SQLITE_FLOAT:
        c.kind = SQL_REAL;
        c.d = sqlite3_column_double(st, k);
        break;
    case SQLITE_TEXT:
        c.kind = SQL_TEXT;
        c.s = (const char *)sqlite3_column_text(st, k);
        c.len = (size_t)sqlite3_column_bytes(st, k);
        break;
    case SQLITE_BLOB:
        c.kind = SQL_BLOB;
        c.s = sqlite3_column_blob(st, k);
        c.len = (size_t)sqlite3_column_bytes(st, k);
        break;
    }
    return c;
}

int sql_session_run_stmt(struct sql_session *s, sqlite3_stmt *st, struct sql_out *out,
                         struct sl_error *err)
{
    int ncols = sqlite3_column_count(st);
    if (ncols == 0) {
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        return rc == SQLITE_DONE ? SL_OK : sql_error(s, err);
    }
    const char **names = sl_xcalloc((size_t)ncols, sizeof *names);
    for (int k = 0; k < ncols; k++)
        names[k] = sqlite3_column_name(st, k);
    sql_out_begin(out, (size_t)ncols, names);
    free(names);
    struct sql_cell *row = sl_xcalloc((size_t)ncols, sizeof *row);
    int rc, ret = SL_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int k = 0; k < ncols; k++)
            row[k] = column_cell(st, k);
        ret = sql_out_row(out, row, err);
        if (ret != SL_OK)
            break;
    }
    free(row);
    if (ret == SL_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = sql_error(s, err);
    if (ret != SL_OK) {
        struct sl_error ignored = { 0 };
        sql_out_end(out, &ignored); /* forget the buffered rows */
        return ret;
    }
    return sql_out_end(out, err);
}

static enum sql_describe_kind kind_of_decl(const char *decl)
{
    if (!decl)
        return SQL_DESCRIBE_AUTO;
    if (sqlite3_stricmp(decl, "BOOLEAN") == 0 || sqlite3_strlike("%TEXT%", decl, 0) == 0 ||
        sqlite3_strlike("%CHAR%", decl, 0) == 0)
        return SQL_DESCRIBE_TEXT;
    if (sqlite3_strlike("%INT%", decl, 0) == 0 || sqlite3_strlike("%REAL%", decl, 0) == 0 ||
        sqlite3_strlike("%FLOA%", decl, 0) == 0 || sqlite3_strlike("%DOUB%", decl, 0) == 0 ||
        sqlite3_strlike("%NUM%", decl, 0) == 0 || sqlite3_strlike("%DEC%", decl, 0) == 0)
        return SQL_DESCRIBE_NUMERIC;
    return SQL_DESCRIBE_AUTO;
}

/* describe over the rows of `query` (text, NUL-terminated). */
static int run_describe(struct sql_session *s, const char *query, struct sql_out *out,
                        struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, query, -1, &st, NULL) != SQLITE_OK || !st) {
        sqlite3_finalize(st);
        return st ? sql_error(s, err) : sql_error(s, err);
    }
    int ncols = sqlite3_column_count(st);
    const char **names = sl_xcalloc((size_t)ncols + 1, sizeof *names);
    enum sql_describe_kind *kinds = sl_xcalloc((size_t)ncols + 1, sizeof *kinds);
    for (int k = 0; k < ncols; k++) {
        names[k] = sqlite3_column_name(st, k);
        kinds[k] = kind_of_decl(sqlite3_column_decltype(st, k));
    }
    struct sql_describe *d = sql_describe_new((size_t)ncols, names, kinds);
    free(names);
    free(kinds);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int k = 0; k < ncols; k++) {
            struct sql_cell c = column_cell(st, k);
            sql_describe_add(d, (size_t)k, &c);
        }
    }
    int ret = rc == SQLITE_DONE ? SL_OK : sql_error(s, err);
    sqlite3_finalize(st);
    if (ret == SL_OK)
        ret = sql_describe_write(d, out, err);
    sql_describe_free(d);
    return ret;
}

/* Skip spaces, comments and empty statements. */
static const char *skip_blank(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ';')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* The end of the statement starting at p: its ';' (outside quotes and
 * comments) or the end of the text. */
static const char *stmt_end(const char *p)
{
    while (*p && *p != ';') {
        if (*p == '\'' || *p == '"' || *p == '`' || *p == '[') {
            char close = *p == '[' ? ']' : *p;
            for (p++; *p; p++) {
                if (*p == close) {
                    if (close != ']' && p[1] == close) {
                        p++;
                        continue;
                    }
                    break;
                }
            }
            if (*p)
                p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            p++;
        }
    }
    return p;
}

/* Length of keyword kw at p (case-insensitive, then a non-identifier char), or 0. */
static size_t keyword(const char *p, const char *kw)
{
    size_t n = strlen(kw);
    if (strncasecmp(p, kw, n) != 0)
        return 0;
    unsigned char c = (unsigned char)p[n];
    return isalnum(c) || c == '_' || c >= 0x80 ? 0 : n;
}

int sql_session_exec(struct sql_session *s, const char *sqltext, struct sql_out *out,
                     struct sl_error *err)
{
    const char *p = skip_blank(sqltext);
    while (*p) {
        size_t kw = keyword(p, "describe");
        if (!kw)
            kw = keyword(p, "desc");
        if (kw) {
            const char *end = stmt_end(p);
            const char *a = p + kw;
            while (isspace((unsigned char)*a))
                a++;
            size_t n = (size_t)(end - a);
            while (n && isspace((unsigned char)a[n - 1]))
                n--;
            if (n == 0)
                return sl_fail(err, SL_EUSAGE, "describe wants a table or a query: describe T");
            char *q;
            if (keyword(a, "select") || keyword(a, "with") || keyword(a, "values") || *a == '(')
                q = sqlite3_mprintf("%.*s", (int)n, a);
            else
                q = sqlite3_mprintf("SELECT * FROM %.*s", (int)n, a);
            int rc = run_describe(s, q, out, err);
            sqlite3_free(q);
            if (rc != SL_OK)
                return rc;
            p = skip_blank(end);
            continue;
        }
        const char *end = stmt_end(p);
        int pushed = s->no_agg_pushdown ? 0 : sql_agg_try(s, p, (size_t)(end - p), out, err);
        if (pushed < 0)
            return pushed;
        if (pushed == 1) {
            p = skip_blank(end);
            continue;
        }
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(s->db, p, -1, &st, &tail) != SQLITE_OK)
            return sql_error(s, err);
        int rc = st ? sql_session_run_stmt(s, st, out, err) : SL_OK;
        sqlite3_finalize(st);
        if (rc != SL_OK)
            return rc;
        p = skip_blank(tail ? tail : p + strlen(p));
    }
    return SL_OK;
}
