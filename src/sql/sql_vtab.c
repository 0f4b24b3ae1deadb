/*
 * sql_vtab.c: the SQLite virtual-table module "sluice_parquet", which lets
 * SQLite query a table directory of Parquet part files (or one file) where
 * it lies, without loading it.
 *
 * NOTES ON THE DESIGN
 *
 * Definitions. A *table* is a list of part files; its schema is the union of
 * the files' columns by name (first file first; a column's declared type is
 * the one it has where first seen; a file without a column reads it as NULL),
 * which is DuckDB's union_by_name and what `extract --mode append` needs when
 * a later part gains a field. A *unit* is one row group of one file. A *slot*
 * is a column the current query needs, with its column reader in the current
 * unit.
 *
 * What is pushed below SQLite:
 *   1. Projection: xBestIndex passes colUsed to xFilter in idxStr; the cursor
 *      opens column readers only for those columns (a column whose chunk is
 *      never opened is never read from disk: the file is mmapped).
 *   2. Constraints =, <, <=, >, >=, IS NULL, IS NOT NULL on a column: every
 *      one SQLite calls usable is passed to xFilter (the comparisons with
 *      their right-hand value in argv). Each unit is skipped when its
 *      statistics (null_count, min, max) prove no row can match; inside a
 *      unit, each batch of rows is filtered before SQLite sees it.
 *   3. Rows stream one batch (SQL_BATCH rows) at a time per column.
 *
 * Invariants.
 *   1. The cursor never drops a row that SQLite would keep: a constraint is
 *      applied only when its semantics here are exactly SQLite's (numeric
 *      column vs INTEGER/REAL value; text column vs TEXT value under BINARY
 *      collation); any other constraint is left to SQLite alone.
 *   2. `omit` is never set, so SQLite evaluates every constraint again on the
 *      rows it gets: the filter here is an accelerator, never the only check
 *      (this costs a comparison per *surviving* row only).
 *   3. All slots of a unit advance in lockstep, batch by batch: after
 *      load_batch() every slot's batch covers the same rows, and sel[0..nsel)
 *      lists the rows of the batch that passed the constraints.
 *
 * Cursor states: unit closed -> (next_unit: prune or open readers) -> unit
 * open -> (load_batch, repeatedly) -> unit exhausted -> next unit ... -> eof.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "parquet/pq.h"
#include "sql/sql_int.h"

#define SQL_BATCH 4096 /* rows decoded per column per step */
#define MAX_CONS 32    /* constraints passed to xFilter */

enum {
    OP_EQ = SQL_OP_EQ, OP_GT = SQL_OP_GT, OP_LE = SQL_OP_LE, OP_LT = SQL_OP_LT,
    OP_GE = SQL_OP_GE, OP_ISNULL = SQL_OP_ISNULL, OP_NOTNULL = SQL_OP_NOTNULL, OP_NE = SQL_OP_NE,
};
enum { RHS_SKIP = 0, RHS_NUM, RHS_TEXT, RHS_NULL };

/* ---------------------------------------------------------------- MARK: time */

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Digits of v (0 <= v < 10^w) into p[0..w), zero-padded. */
static void put_digits(char *p, unsigned v, int w)
{
    while (w-- > 0) {
        p[w] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* 'YYYY-MM-DD' into buf; years outside 0..9999 through snprintf. */
static size_t put_date(int64_t days, char *buf)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return (size_t)snprintf(buf, 32, "%04lld-%02u-%02u", (long long)y, m, d);
    put_digits(buf, (unsigned)y, 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = 0;
    return 10;
}

size_t sql_format_date(int64_t days, char *buf)
{
    return put_date(days, buf);
}

size_t sql_format_timestamp(int64_t v, int unit, char *buf)
{
    int64_t ms = unit == PQ_MILLIS ? v : floor_div(v, unit == PQ_NANOS ? 1000000 : 1000);
    int64_t days = floor_div(ms, 86400000), rem = ms - days * 86400000;
    size_t n = put_date(days, buf);
    unsigned sec = (unsigned)(rem / 1000);
    char *p = buf + n;
    p[0] = ' ';
    put_digits(p + 1, sec / 3600, 2);
    p[3] = ':';
    put_digits(p + 4, sec / 60 % 60, 2);
    p[6] = ':';
    put_digits(p + 7, sec % 60, 2);
    p[9] = '.';
    put_digits(p + 10, (unsigned)(rem % 1000), 3);
    p[13] = 0;
    return n + 13;
}

/* ---------------------------------------------------------------- MARK: table */

struct pfile {
    char *path;          /* owned */
    struct pq_file *pq;  /* owned; NULL when it failed to open (see tab.bad) */
    int *map;            /* owned; table column -> file column, or -1 */
};

struct tcol {
    char *name;          /* owned */
    enum pq_type type;   /* as first seen */
};

struct ptab {
    sqlite3_vtab base;
    size_t nfiles;
    struct pfile *files; /* owned */
    size_t ncols;
    struct tcol *cols;   /* owned */
    int64_t rows;        /* total over the files */
    char *bad;           /* owned: the first file that failed to open; queries fail */
    struct sql_session *s; /* borrowed: the session that registered it, or NULL */
    long idx;            /* its index in s->tables and s->vtabs */
};

static bool is_text_type(enum pq_type t)
{
    return t == PQ_STRING || t == PQ_TIMESTAMP || t == PQ_DATE;
}

static const char *decl_type(enum pq_type t)
{
    switch (t) {
    case PQ_BOOL:
        return "BOOLEAN";
    case PQ_INT64:
        return "INTEGER";
    case PQ_DOUBLE:
        return "REAL";
    case PQ_STRING:
        return "TEXT";
    case PQ_TIMESTAMP:
        return "TIMESTAMP_TEXT";
    case PQ_DATE:
        return "DATE_TEXT";
    }
    return "";
}

static void ptab_free(struct ptab *t)
{
    if (!t)
        return;
    for (size_t k = 0; k < t->nfiles; k++) {
        free(t->files[k].path);
        pq_file_free(t->files[k].pq);
        free(t->files[k].map);
    }
    free(t->files);
    for (size_t k = 0; k < t->ncols; k++)
        free(t->cols[k].name);
    free(t->cols);
    free(t->bad);
    free(t);
}

static int find_col(const struct ptab *t, const char *name)
{
    for (size_t k = 0; k < t->ncols; k++)
        if (sqlite3_stricmp(t->cols[k].name, name) == 0)
            return (int)k;
    return -1;
}

/* Dequote a module argument ('x' or "x"); returns an owned copy. */
static char *dequote(const char *a)
{
    size_t n = strlen(a);
    if (n >= 2 && (a[0] == '\'' || a[0] == '"') && a[n - 1] == a[0]) {
        char *s = sl_xmalloc(n), q = a[0];
        size_t o = 0;
        for (size_t k = 1; k + 1 < n; k++) {
            s[o++] = a[k];
            if (a[k] == q && a[k + 1] == q)
                k++;
        }
        s[o] = 0;
        return s;
    }
    return sl_xstrdup(a);
}

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                     sqlite3_vtab **out, char **errmsg)
{
    struct sql_session *s = aux;
    struct sl_error err = { 0 };
    if (argc != 4) {
        *errmsg = sqlite3_mprintf("sluice_parquet wants one argument: a path or a table index");
        return SQLITE_ERROR;
    }
    char **paths = NULL;
    size_t npaths = 0;
    char *arg = dequote(argv[3]);
    char *end = NULL;
    long idx = strtol(arg, &end, 10);
    bool by_index = argv[3][0] != '\'' && argv[3][0] != '"' && end && *end == 0 && idx >= 0 &&
                    (size_t)idx < s->tables.n;
    if (by_index) {
        const struct sql_table *tb = &s->tables.v[idx];
        npaths = tb->nfiles;
        paths = sl_xcalloc(npaths + 1, sizeof *paths);
        for (size_t k = 0; k < npaths; k++)
            paths[k] = sl_xstrdup(tb->files[k]);
    } else if (sql_files_collect(arg, &paths, &npaths, &err) != SL_OK) {
        *errmsg = sqlite3_mprintf("%s", err.msg);
        free(arg);
        return SQLITE_ERROR;
    }
    free(arg);

    struct ptab *t = sl_xcalloc(1, sizeof *t);
    if (by_index && s->vtabs) {
        t->s = s;
        t->idx = idx;
    }
    t->nfiles = npaths;
    t->files = sl_xcalloc(npaths + 1, sizeof *t->files);
    for (size_t k = 0; k < npaths; k++) {
        struct pfile *f = &t->files[k];
        f->path = paths[k];
        sl_error_clear(&err);
        f->pq = pq_file_open(f->path, &err);
        if (!f->pq) {
            if (!t->bad)
                t->bad = sl_xstrdup(err.msg);
            continue;
        }
        t->rows += f->pq->num_rows;
        for (size_t c = 0; c < f->pq->ncols; c++) {
            if (find_col(t, f->pq->cols[c].name) >= 0)
                continue;
            t->cols = sl_xrealloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
            t->cols[t->ncols].name = sl_xstrdup(f->pq->cols[c].name);
            t->cols[t->ncols].type = f->pq->cols[c].type;
            t->ncols++;
        }
    }
    free(paths);
    for (size_t k = 0; k < npaths; k++) {
        struct pfile *f = &t->files[k];
        f->map = sl_xcalloc(t->ncols + 1, sizeof *f->map);
        for (size_t c = 0; c < t->ncols; c++)
            f->map[c] = f->pq ? pq_file_column_index(f->pq, t->cols[c].name) : -1;
    }

    if (t->ncols == 0 && t->bad) { /* no file could be read: no schema to declare */
        *errmsg = sqlite3_mprintf("%s", t->bad);
        ptab_free(t);
        return SQLITE_ERROR;
    }
    sqlite3_str *ddl = sqlite3_str_new(db);
    sqlite3_str_appendall(ddl, "CREATE TABLE x(");
    for (size_t c = 0; c < t->ncols; c++)
        sqlite3_str_appendf(ddl, "%s\"%w\" %s", c ? ", " : "", t->cols[c].name,
                            decl_type(t->cols[c].type));
    if (t->ncols == 0) /* no file could be read, or none has a column: still a table */
        sqlite3_str_appendall(ddl, "\"_error\" TEXT");
    sqlite3_str_appendall(ddl, ")");
    char *sql = sqlite3_str_finish(ddl);
    int rc = sqlite3_declare_vtab(db, sql);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        *errmsg = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        ptab_free(t);
        return rc;
    }
    if (t->s)
        t->s->vtabs[t->idx] = t;
    *out = &t->base;
    return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *vt)
{
    struct ptab *t = (struct ptab *)vt;
    if (t->s && t->s->vtabs[t->idx] == t)
        t->s->vtabs[t->idx] = NULL;
    ptab_free(t);
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- MARK: planning */

static int op_of(unsigned char sqlop)
{
    switch (sqlop) {
    case SQLITE_INDEX_CONSTRAINT_EQ:
        return OP_EQ;
    case SQLITE_INDEX_CONSTRAINT_GT:
        return OP_GT;
    case SQLITE_INDEX_CONSTRAINT_LE:
        return OP_LE;
    case SQLITE_INDEX_CONSTRAINT_LT:
        return OP_LT;
    case SQLITE_INDEX_CONSTRAINT_GE:
        return OP_GE;
    case SQLITE_INDEX_CONSTRAINT_ISNULL:
        return OP_ISNULL;
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL:
        return OP_NOTNULL;
    }
    return 0;
}

/*
 * idxStr is "<colUsed hex>" then ";<col>:<op>:<flag>" per constraint, where
 * flag 1 means "argv holds its value, in order" and 0 "no value (IS [NOT]
 * NULL) or a text comparison under a collation other than BINARY (value
 * passed but not used)".
 */
static int x_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    struct ptab *t = (struct ptab *)vt;
    sqlite3_str *idx = sqlite3_str_new(NULL);
    sqlite3_str_appendf(idx, "%llx", (unsigned long long)info->colUsed);
    int argv_n = 0, ncons = 0;
    double sel = 1;
    for (int i = 0; i < info->nConstraint && ncons < MAX_CONS; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        int op = op_of(c->op);
        if (!c->usable || c->iColumn < 0 || (size_t)c->iColumn >= t->ncols || !op)
            continue;
        int flag = 0;
        if (op != OP_ISNULL && op != OP_NOTNULL) {
            const char *coll = sqlite3_vtab_collation(info, i);
            bool binary = !coll || sqlite3_stricmp(coll, "BINARY") == 0;
            if (!binary && is_text_type(t->cols[c->iColumn].type))
                continue;
            info->aConstraintUsage[i].argvIndex = ++argv_n;
            flag = 1;
        }
        info->aConstraintUsage[i].omit = 0; /* invariant 2 */
        sqlite3_str_appendf(idx, ";%d:%d:%d", c->iColumn, op, flag);
        sel *= op == OP_EQ ? 0.1 : op == OP_ISNULL ? 0.2 : 0.5;
        ncons++;
    }
    double rows = t->rows > 0 ? (double)t->rows : 1;
    info->estimatedRows = (sqlite3_int64)(rows * sel) + 1;
    /* Every plan reads the whole table (minus pruned row groups): the cost
     * is the scan, a little lower when statistics may skip row groups. */
    info->estimatedCost = rows * (0.5 + 0.5 * sel) + 10;
    info->idxStr = sqlite3_str_finish(idx);
    info->needToFreeIdxStr = 1;
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- MARK: cursor */

struct cons {
    int col;        /* table column */
    int op;         /* OP_* */
    int rhs;        /* RHS_*: what the value is, or RHS_SKIP (SQLite alone checks) */
    int64_t i;      /* RHS_NUM: value when is_int */
    long double ld; /* RHS_NUM: value (exact for every int64 and double) */
    bool is_int;
    char *s;        /* RHS_TEXT: owned */
    size_t len;
};

struct slot {
    int col;                        /* table column */
    int fcol;                       /* column in the current file, or -1 (all NULL) */
    enum pq_type type;              /* in the current file */
    int unit;                       /* PQ_TIMESTAMP unit in the current file */
    struct pq_column_reader *r;     /* owned; NULL when fcol < 0 */
    struct pq_batch batch;          /* borrowed from r: the current rows */
    bool loaded;                    /* batch covers the current rows */
};

struct cursor {
    sqlite3_vtab_cursor base;
    struct cons cons[MAX_CONS];
    size_t ncons;
    bool empty;                     /* a comparison with NULL: no row matches */
    struct slot *slots;             /* owned; nslots */
    size_t nslots;
    int *slot_of;                   /* owned; table column -> slot, or -1 */
    size_t file, rg;                /* the next unit to consider */
    bool open;                      /* readers of a unit are open */
    int64_t left;                   /* rows of the open unit not yet loaded */
    size_t batch_n;                 /* rows in the current batch */
    uint32_t sel[SQL_BATCH];        /* rows of the batch that passed */
    size_t nsel, pos;
    sqlite3_int64 rowid;
    bool eof;
    char tbuf[48];
    /* counters of the current scan, for the debug log */
    size_t units_read, units_pruned;
    long unit_budget;               /* units next_unit() may still consider; -1: all */
    bool own_err;                   /* errors go to err below, not the shared vtab (threads) */
    char err[SL_ERROR_MSG_MAX];
    int64_t rows_read, rows_passed;
};

static struct ptab *tab_of(struct cursor *cur)
{
    return (struct ptab *)cur->base.pVtab;
}

static int x_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    struct ptab *t = (struct ptab *)vt;
    struct cursor *cur = sl_xcalloc(1, sizeof *cur);
    cur->slot_of = sl_xcalloc(t->ncols + 1, sizeof *cur->slot_of);
    cur->unit_budget = -1;
    *out = &cur->base;
    return SQLITE_OK;
}

static void close_unit(struct cursor *cur)
{
    for (size_t k = 0; k < cur->nslots; k++) {
        pq_column_reader_free(cur->slots[k].r);
        cur->slots[k].r = NULL;
        cur->slots[k].loaded = false;
    }
    cur->open = false;
}

static void reset(struct cursor *cur)
{
    if (cur->units_read || cur->units_pruned)
        sl_debug("sql: scan read %zu row groups, pruned %zu, %lld rows decoded, %lld passed, "
                 "%zu columns", cur->units_read, cur->units_pruned, (long long)cur->rows_read,
                 (long long)cur->rows_passed, cur->nslots);
    cur->units_read = cur->units_pruned = 0;
    cur->rows_read = cur->rows_passed = 0;
    close_unit(cur);
    for (size_t k = 0; k < cur->ncons; k++)
        free(cur->cons[k].s);
    cur->ncons = 0;
    free(cur->slots);
    cur->slots = NULL;
    cur->nslots = 0;
}

static int x_close(sqlite3_vtab_cursor *vc)
{
    struct cursor *cur = (struct cursor *)vc;
    reset(cur);
    free(cur->slot_of);
    free(cur);
    return SQLITE_OK;
}

static int fail(struct cursor *cur, const char *msg)
{
    if (cur->own_err) {
        size_t n = strlen(msg);
        if (n >= sizeof cur->err)
            n = sizeof cur->err - 1;
        memcpy(cur->err, msg, n);
        cur->err[n] = 0;
        return SQLITE_ERROR;
    }
    sqlite3_free(cur->base.pVtab->zErrMsg);
    cur->base.pVtab->zErrMsg = sqlite3_mprintf("%s", msg);
    return SQLITE_ERROR;
}

/* Compare a value of a column of `type` with the constraint's value:
 * < 0, 0, > 0. Only called when the kinds agree (numeric/text). */
static int cmp_num(long double v, const struct cons *c)
{
    return (v > c->ld) - (v < c->ld);
}

static int cmp_text(const uint8_t *p, size_t len, const struct cons *c)
{
    size_t n = len < c->len ? len : c->len;
    int r = n ? memcmp(p, c->s, n) : 0;
    if (r)
        return r;
    return (len > c->len) - (len < c->len);
}

static bool holds(int op, int cmp)
{
    switch (op) {
    case OP_EQ:
        return cmp == 0;
    case OP_GT:
        return cmp > 0;
    case OP_GE:
        return cmp >= 0;
    case OP_LT:
        return cmp < 0;
    case OP_LE:
        return cmp <= 0;
    case OP_NE:
        return cmp != 0;
    }
    return true;
}

/* The comparison of a statistic with the constraint (stats are the column's type). */
static int cmp_stat(const struct pq_column *pc, struct pq_value v, const struct cons *c)
{
    char buf[48];
    switch (pc->type) {
    case PQ_BOOL:
        return cmp_num(v.b ? 1 : 0, c);
    case PQ_INT64:
        return cmp_num((long double)v.i, c);
    case PQ_DOUBLE:
        return cmp_num((long double)v.d, c);
    case PQ_STRING:
        return cmp_text(v.s.p, v.s.len, c);
    case PQ_TIMESTAMP:
        return cmp_text((const uint8_t *)buf, sql_format_timestamp(v.i, pc->unit, buf), c);
    case PQ_DATE:
        return cmp_text((const uint8_t *)buf, sql_format_date(v.i, buf), c);
    }
    return 0;
}

/* true when the constraint's kind of value matches the column's in this file
 * and the file's column has the kind the table declares (a part file that
 * disagrees with the table's type is left to SQLite alone). */
static bool applies(const struct cons *c, enum pq_type type, enum pq_type declared)
{
    if (c->op == OP_ISNULL || c->op == OP_NOTNULL)
        return true;
    if (is_text_type(type) != is_text_type(declared))
        return false;
    if (c->rhs == RHS_NUM)
        return !is_text_type(type);
    if (c->rhs == RHS_TEXT)
        return is_text_type(type);
    return false;
}

/* true when statistics prove no row of unit (f, rg) can satisfy every constraint. */
static bool prune(const struct ptab *t, const struct cursor *cur, size_t f, size_t rg)
{
    const struct pfile *pf = &t->files[f];
    const struct pq_row_group *g = &pf->pq->row_groups[rg];
    if (g->num_rows == 0)
        return true;
    for (size_t k = 0; k < cur->ncons; k++) {
        const struct cons *c = &cur->cons[k];
        int fc = pf->map[c->col];
        if (fc < 0) { /* the column is NULL throughout this file */
            if (c->op != OP_ISNULL)
                return true;
            continue;
        }
        const struct pq_column *pc = &pf->pq->cols[fc];
        const struct pq_stats *st = &g->chunks[fc].stats;
        bool all_null = st->has_null_count && st->null_count >= g->num_rows;
        if (c->op == OP_ISNULL) {
            if (pc->required || (st->has_null_count && st->null_count == 0))
                return true;
            continue;
        }
        if (all_null)
            return true;
        if (c->op == OP_NOTNULL || !applies(c, pc->type, t->cols[c->col].type) || !st->has_min_max)
            continue;
        int lo = cmp_stat(pc, st->min, c), hi = cmp_stat(pc, st->max, c);
        switch (c->op) {
        case OP_EQ:
            if (lo > 0 || hi < 0)
                return true;
            break;
        case OP_GT:
            if (hi <= 0)
                return true;
            break;
        case OP_GE:
            if (hi < 0)
                return true;
            break;
        case OP_LT:
            if (lo >= 0)
                return true;
            break;
        case OP_LE:
            if (lo > 0)
                return true;
            break;
        }
    }
    return false;
}

/* Open the next unit that survives pruning; false at the end. */
static int next_unit(struct cursor *cur, bool *found)
{
    struct ptab *t = tab_of(cur);
    struct sl_error err = { 0 };
    *found = false;
    while (cur->file < t->nfiles) {
        struct pfile *pf = &t->files[cur->file];
        if (!pf->pq || cur->rg >= pf->pq->nrow_groups) {
            cur->file++;
            cur->rg = 0;
            continue;
        }
        if (cur->unit_budget == 0)
            return SQLITE_OK; /* this cursor's share of the units is done */
        if (cur->unit_budget > 0)
            cur->unit_budget--;
        size_t rg = cur->rg++;
        if (prune(t, cur, cur->file, rg)) {
            cur->units_pruned++;
            continue;
        }
        cur->units_read++;
        for (size_t k = 0; k < cur->nslots; k++) {
            struct slot *s = &cur->slots[k];
            s->fcol = pf->map[s->col];
            s->loaded = false;
            if (s->fcol < 0)
                continue;
            s->type = pf->pq->cols[s->fcol].type;
            s->unit = pf->pq->cols[s->fcol].unit;
            s->r = pq_column_reader_new(pf->pq, rg, (size_t)s->fcol, &err);
            if (!s->r) {
                close_unit(cur);
                return fail(cur, err.msg);
            }
        }
        cur->open = true;
        cur->left = pf->pq->row_groups[rg].num_rows;
        *found = true;
        return SQLITE_OK;
    }
    return SQLITE_OK;
}

static int load_slot(struct cursor *cur, struct slot *s, size_t n)
{
    struct sl_error err = { 0 };
    if (s->loaded || !s->r)
        return SQLITE_OK;
    int64_t got = pq_column_reader_read(s->r, n, &s->batch, &err);
    if (got < 0)
        return fail(cur, err.msg);
    if ((size_t)got != n) {
        char msg[SL_ERROR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "column chunk of '%s' ends early in '%s'",
                 tab_of(cur)->cols[s->col].name, tab_of(cur)->files[cur->file].path);
        return fail(cur, msg);
    }
    s->loaded = true;
    return SQLITE_OK;
}

/* Keep the rows of sel[0..n) that satisfy c; returns the new count. */
static size_t filter(struct cursor *cur, const struct cons *c, const struct slot *s, size_t n)
{
    uint32_t *sel = cur->sel;
    size_t o = 0;
    if (!s->r) /* all NULL */
        return c->op == OP_ISNULL ? n : 0;
    const struct pq_batch *b = &s->batch;
    const uint8_t *valid = b->valid;
    if (c->op == OP_ISNULL || c->op == OP_NOTNULL) {
        uint8_t want = c->op == OP_NOTNULL;
        for (size_t k = 0; k < n; k++)
            if ((valid[sel[k]] != 0) == want)
                sel[o++] = sel[k];
        return o;
    }
    if (!applies(c, s->type, tab_of(cur)->cols[c->col].type))
        return n;
    int op = c->op;
#define FILTER_LOOP(EXPR)                                    \
    for (size_t k = 0; k < n; k++) {                         \
        uint32_t r = sel[k];                                 \
        if (valid[r] && (EXPR))                              \
            sel[o++] = r;                                    \
    }
    switch (s->type) {
    case PQ_INT64:
        if (c->is_int) {
            int64_t v = c->i;
            const int64_t *x = b->i64;
            switch (op) {
            case OP_EQ: FILTER_LOOP(x[r] == v); break;
            case OP_GT: FILTER_LOOP(x[r] > v); break;
            case OP_GE: FILTER_LOOP(x[r] >= v); break;
            case OP_LT: FILTER_LOOP(x[r] < v); break;
            case OP_LE: FILTER_LOOP(x[r] <= v); break;
            case OP_NE: FILTER_LOOP(x[r] != v); break;
            }
        } else {
            FILTER_LOOP(holds(op, cmp_num((long double)b->i64[r], c)));
        }
        break;
    case PQ_DOUBLE: {
        const double *x = b->f64;
        double v = (double)c->ld;
        if ((long double)v != c->ld) { /* an integer no double holds exactly */
            FILTER_LOOP(holds(op, cmp_num((long double)x[r], c)));
            break;
        }
        switch (op) {
        case OP_EQ: FILTER_LOOP(x[r] == v); break;
        case OP_GT: FILTER_LOOP(x[r] > v); break;
        case OP_GE: FILTER_LOOP(x[r] >= v); break;
        case OP_LT: FILTER_LOOP(x[r] < v); break;
        case OP_LE: FILTER_LOOP(x[r] <= v); break;
        case OP_NE: FILTER_LOOP(x[r] != v); break;
        }
        break;
    }
    case PQ_BOOL:
        FILTER_LOOP(holds(op, cmp_num(b->b[r] ? 1 : 0, c)));
        break;
    case PQ_STRING: {
        const struct sl_slice *x = b->str;
        if (op == OP_EQ) {
            size_t len = c->len;
            const char *v = c->s;
            FILTER_LOOP(x[r].len == len && (len == 0 || memcmp(x[r].p, v, len) == 0));
        } else {
            FILTER_LOOP(holds(op, cmp_text(x[r].p, x[r].len, c)));
        }
        break;
    }
    case PQ_TIMESTAMP: {
        char buf[48];
        FILTER_LOOP(holds(op, cmp_text((const uint8_t *)buf,
                                       sql_format_timestamp(b->i64[r], s->unit, buf), c)));
        break;
    }
    case PQ_DATE: {
        char buf[48];
        FILTER_LOOP(holds(op, cmp_text((const uint8_t *)buf, sql_format_date(b->i64[r], buf), c)));
        break;
    }
    }
#undef FILTER_LOOP
    return o;
}

volatile sig_atomic_t sql_interrupted;

/* Make the next batch with at least one passing row current, or set eof. */
static int advance(struct cursor *cur)
{
    struct sl_error err = { 0 };
    for (;;) {
        if (sql_interrupted)
            return fail(cur, "interrupted");
        if (!cur->open || cur->left == 0) {
            close_unit(cur);
            bool found;
            int rc = next_unit(cur, &found);
            if (rc != SQLITE_OK)
                return rc;
            if (!found) {
                cur->eof = true;
                return SQLITE_OK;
            }
        }
        size_t n = cur->left < SQL_BATCH ? (size_t)cur->left : SQL_BATCH;
        cur->left -= (int64_t)n;
        cur->batch_n = n;
        for (size_t k = 0; k < cur->nslots; k++)
            cur->slots[k].loaded = false;
        for (size_t k = 0; k < n; k++)
            cur->sel[k] = (uint32_t)k;
        size_t nsel = n;
        /* Filter columns first: the others are decoded only if a row survives. */
        for (size_t k = 0; k < cur->ncons && nsel > 0; k++) {
            const struct cons *c = &cur->cons[k];
            struct slot *s = &cur->slots[cur->slot_of[c->col]];
            int rc = load_slot(cur, s, n);
            if (rc != SQLITE_OK)
                return rc;
            nsel = filter(cur, c, s, nsel);
        }
        for (size_t k = 0; k < cur->nslots; k++) {
            struct slot *s = &cur->slots[k];
            if (s->loaded || !s->r)
                continue;
            if (nsel == 0) {
                if (pq_column_reader_skip(s->r, n, &err) < 0)
                    return fail(cur, err.msg);
                continue;
            }
            int rc = load_slot(cur, s, n);
            if (rc != SQLITE_OK)
                return rc;
        }
        cur->rowid += (sqlite3_int64)n;
        cur->rows_read += (int64_t)n;
        cur->rows_passed += (int64_t)nsel;
        if (nsel > 0) {
            cur->nsel = nsel;
            cur->pos = 0;
            return SQLITE_OK;
        }
    }
}

static int x_filter(sqlite3_vtab_cursor *vc, int idxNum, const char *idxStr, int argc,
                    sqlite3_value **argv)
{
    (void)idxNum;
    struct cursor *cur = (struct cursor *)vc;
    struct ptab *t = tab_of(cur);
    reset(cur);
    cur->eof = false;
    cur->empty = false;
    cur->file = cur->rg = 0;
    cur->rowid = 0;
    cur->nsel = cur->pos = 0;
    if (t->bad)
        return fail(cur, t->bad);

    /* Columns to read: colUsed (bit 63 stands for every column from 63 on). */
    unsigned long long used = strtoull(idxStr ? idxStr : "0", NULL, 16);
    for (size_t c = 0; c < t->ncols; c++)
        cur->slot_of[c] = -1;
    cur->slots = sl_xcalloc(t->ncols + 1, sizeof *cur->slots);
    for (size_t c = 0; c < t->ncols; c++) {
        if (used & (1ull << (c < 63 ? c : 63))) {
            cur->slot_of[c] = (int)cur->nslots;
            cur->slots[cur->nslots++].col = (int)c;
        }
    }
    /* Constraints, in idxStr order; argv holds the values of those flagged 1. */
    const char *p = idxStr ? strchr(idxStr, ';') : NULL;
    int argi = 0;
    while (p && cur->ncons < MAX_CONS) {
        int col, op, flag;
        if (sscanf(p, ";%d:%d:%d", &col, &op, &flag) != 3)
            break;
        p = strchr(p + 1, ';');
        struct cons *c = &cur->cons[cur->ncons];
        memset(c, 0, sizeof *c);
        c->col = col;
        c->op = op;
        if (flag) {
            if (argi >= argc)
                break;
            sqlite3_value *v = argv[argi++];
            switch (sqlite3_value_type(v)) {
            case SQLITE_INTEGER:
                c->rhs = RHS_NUM;
                c->is_int = true;
                c->i = sqlite3_value_int64(v);
                c->ld = (long double)c->i;
                break;
            case SQLITE_FLOAT:
                c->rhs = RHS_NUM;
                c->ld = sqlite3_value_double(v);
                break;
            case SQLITE_TEXT:
                c->rhs = RHS_TEXT;
                c->len = (size_t)sqlite3_value_bytes(v);
                c->s = sl_xmalloc(c->len + 1);
                memcpy(c->s, sqlite3_value_text(v), c->len + 1);
                break;
            case SQLITE_NULL:
                cur->empty = true; /* x op NULL is never true */
                break;
            default:
                c->rhs = RHS_SKIP;
            }
            if (c->rhs == RHS_SKIP)
                continue; /* SQLite alone checks it (invariant 1) */
        }
        /* The constraint's column must be read even when SQLite did not list it. */
        if (cur->slot_of[col] < 0) {
            cur->slot_of[col] = (int)cur->nslots;
            cur->slots[cur->nslots++].col = col;
        }
        cur->ncons++;
    }
    if (cur->empty) {
        cur->eof = true;
        return SQLITE_OK;
    }
    return advance(cur);
}

static int x_next(sqlite3_vtab_cursor *vc)
{
    struct cursor *cur = (struct cursor *)vc;
    if (++cur->pos < cur->nsel)
        return SQLITE_OK;
    return advance(cur);
}

static int x_eof(sqlite3_vtab_cursor *vc)
{
    return ((struct cursor *)vc)->eof;
}

static int x_column(sqlite3_vtab_cursor *vc, sqlite3_context *ctx, int col)
{
    struct cursor *cur = (struct cursor *)vc;
    if (col < 0 || cur->slot_of[col] < 0) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    struct slot *s = &cur->slots[cur->slot_of[col]];
    if (!s->r) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    uint32_t r = cur->sel[cur->pos];
    const struct pq_batch *b = &s->batch;
    if (!b->valid[r]) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    switch (s->type) {
    case PQ_INT64:
        sqlite3_result_int64(ctx, b->i64[r]);
        break;
    case PQ_DOUBLE:
        sqlite3_result_double(ctx, b->f64[r]);
        break;
    case PQ_BOOL:
        sqlite3_result_int(ctx, b->b[r] ? 1 : 0);
        break;
    case PQ_STRING:
        sqlite3_result_text(ctx, b->str[r].len ? (const char *)b->str[r].p : "",
                            (int)b->str[r].len, SQLITE_TRANSIENT);
        break;
    case PQ_TIMESTAMP:
        sqlite3_result_text(ctx, cur->tbuf,
                            (int)sql_format_timestamp(b->i64[r], s->unit, cur->tbuf),
                            SQLITE_TRANSIENT);
        break;
    case PQ_DATE:
        sqlite3_result_text(ctx, cur->tbuf, (int)sql_format_date(b->i64[r], cur->tbuf),
                            SQLITE_TRANSIENT);
        break;
    }
    return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *vc, sqlite3_int64 *rowid)
{
    struct cursor *cur = (struct cursor *)vc;
    *rowid = cur->rowid - (sqlite3_int64)cur->batch_n + cur->sel[cur->pos];
    return SQLITE_OK;
}

static sqlite3_module parquet_module = {
    .iVersion = 0,
    .xCreate = x_connect,
    .xConnect = x_connect,
    .xBestIndex = x_best_index,
    .xDisconnect = x_disconnect,
    .xDestroy = x_disconnect,
    .xOpen = x_open,
    .xClose = x_close,
    .xFilter = x_filter,
    .xNext = x_next,
    .xEof = x_eof,
    .xColumn = x_column,
    .xRowid = x_rowid,
};

int sql_vtab_register(sqlite3 *db, struct sql_session *s)
{
    return sqlite3_create_module(db, "sluice_parquet", &parquet_module, s);
}

/* ---------------------------------------------------------------- MARK: aggregate push-down */

/*
 * sql_vtab_aggregate() runs a planned GROUP BY (sql_agg.c) over the same
 * cursor machinery as the module: the cursor prunes and filters, and the
 * groups are kept in a hash table keyed by the encoded key values:
 *   NULL: [0]; integer: [1][8 bytes]; real: [2][8 bytes] (-0.0 as 0.0);
 *   text: [3][u32 length][bytes].
 * Exactness is the contract (nothing re-checks): every constraint must
 * compare a column with a value of its own kind, and every file must agree
 * with the table's type of each column used; otherwise the caller falls
 * back to SQLite (return 1).
 */

struct agg_acc {
    int64_t cnt;
    int64_t isum;
    double rsum;
    bool approx, overflow;
    bool has;        /* min/max: best is set */
    int64_t bi;      /* best integer */
    double bd;       /* best real */
    char *bs;        /* best text (owned) */
    size_t bslen;
};

struct agg_tab {
    size_t naggs;
    uint64_t *hash;          /* owned; nslots, 0 = empty */
    uint32_t *slot_group;    /* owned; nslots */
    size_t nslots;
    size_t ngroups;
    size_t *key_off;         /* owned; ngroups + 1 entries into keys */
    struct sl_buf keys;      /* owned */
    struct agg_acc *acc;     /* owned; ngroups * naggs */
    size_t cap;              /* groups allocated */
};

static uint64_t hash_key(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static size_t agg_group(struct agg_tab *a, const uint8_t *key, size_t n)
{
    if (2 * (a->ngroups + 1) > a->nslots) {
        size_t ns = a->nslots ? 2 * a->nslots : 256;
        uint64_t *h = sl_xcalloc(ns, sizeof *h);
        uint32_t *g = sl_xcalloc(ns, sizeof *g);
        for (size_t k = 0; k < a->nslots; k++) {
            if (!a->hash[k])
                continue;
            size_t at = a->hash[k] & (ns - 1);
            while (h[at])
                at = (at + 1) & (ns - 1);
            h[at] = a->hash[k];
            g[at] = a->slot_group[k];
        }
        free(a->hash);
        free(a->slot_group);
        a->hash = h;
        a->slot_group = g;
        a->nslots = ns;
    }
    uint64_t h = hash_key(key, n);
    size_t at = h & (a->nslots - 1);
    while (a->hash[at]) {
        if (a->hash[at] == h) {
            size_t g = a->slot_group[at];
            size_t off = a->key_off[g], len = a->key_off[g + 1] - off;
            if (len == n && memcmp(a->keys.data + off, key, n) == 0)
                return g;
        }
        at = (at + 1) & (a->nslots - 1);
    }
    if (a->ngroups == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->acc = sl_xrealloc(a->acc, a->cap * a->naggs * sizeof *a->acc + 1);
        a->key_off = sl_xrealloc(a->key_off, (a->cap + 1) * sizeof *a->key_off);
    }
    size_t g = a->ngroups++;
    memset(a->acc + g * a->naggs, 0, a->naggs * sizeof *a->acc);
    if (sl_buf_append(&a->keys, key, n) != SL_OK)
        abort(); /* no cap on this buffer: only out of memory, which aborts anyway */
    a->key_off[g + 1] = a->keys.len;
    a->hash[at] = h;
    a->slot_group[at] = (uint32_t)g;
    return g;
}

/* The value of slot s at batch row r, as SQLite would see it. Timestamps and
 * dates are formatted into buf (>= 48 bytes). */
static struct sql_cell slot_cell(const struct slot *s, uint32_t r, char *buf)
{
    struct sql_cell c = { .kind = SQL_NULL };
    if (!s->r || !s->batch.valid[r])
        return c;
    const struct pq_batch *b = &s->batch;
    switch (s->type) {
    case PQ_INT64:
        c.kind = SQL_INT;
        c.i = b->i64[r];
        break;
    case PQ_BOOL:
        c.kind = SQL_INT;
        c.i = b->b[r] ? 1 : 0;
        break;
    case PQ_DOUBLE:
        if (!isnan(b->f64[r])) { /* SQLite stores NaN as NULL */
            c.kind = SQL_REAL;
            c.d = b->f64[r];
        }
        break;
    case PQ_STRING:
        c.kind = SQL_TEXT;
        c.s = (const char *)b->str[r].p;
        c.len = b->str[r].len;
        break;
    case PQ_TIMESTAMP:
        c.kind = SQL_TEXT;
        c.s = buf;
        c.len = sql_format_timestamp(b->i64[r], s->unit, buf);
        break;
    case PQ_DATE:
        c.kind = SQL_TEXT;
        c.s = buf;
        c.len = sql_format_date(b->i64[r], buf);
        break;
    }
    return c;
}

/* SQLite's order of two non-NULL values of one column kind: < 0, 0, > 0. */
static int cell_cmp(const struct sql_cell *x, const struct agg_acc *a)
{
    if (x->kind == SQL_INT)
        return (x->i > a->bi) - (x->i < a->bi);
    if (x->kind == SQL_REAL)
        return (x->d > a->bd) - (x->d < a->bd);
    size_t n = x->len < a->bslen ? x->len : a->bslen;
    int r = n ? memcmp(x->s, a->bs, n) : 0;
    return r ? r : (x->len > a->bslen) - (x->len < a->bslen);
}

static void acc_update(struct agg_acc *a, enum sql_agg_fn fn, const struct sql_cell *x)
{
    if (fn == SQL_AGG_COUNT_STAR) {
        a->cnt++;
        return;
    }
    if (x->kind == SQL_NULL)
        return;
    switch (fn) {
    case SQL_AGG_COUNT:
        a->cnt++;
        break;
    case SQL_AGG_SUM:
    case SQL_AGG_TOTAL:
    case SQL_AGG_AVG:
        a->cnt++;
        if (x->kind == SQL_INT) {
            a->rsum += (double)x->i;
            if (!(a->approx | a->overflow) && __builtin_add_overflow(a->isum, x->i, &a->isum))
                a->approx = a->overflow = true;
        } else {
            a->rsum += x->d;
            a->approx = true;
        }
        break;
    case SQL_AGG_MIN:
    case SQL_AGG_MAX: {
        if (a->has) {
            int c = cell_cmp(x, a);
            if (fn == SQL_AGG_MIN ? c >= 0 : c <= 0)
                break;
        }
        a->has = true;
        a->bi = x->i;
        a->bd = x->d;
        if (x->kind == SQL_TEXT) {
            a->bs = sl_xrealloc(a->bs, x->len + 1);
            memcpy(a->bs, x->s, x->len);
            a->bslen = x->len;
        }
        break;
    }
    default:
        break;
    }
}

static size_t key_encode(uint8_t *out, const struct sql_cell *c)
{
    switch (c->kind) {
    case SQL_INT:
        out[0] = 1;
        memcpy(out + 1, &c->i, 8);
        return 9;
    case SQL_REAL: {
        double d = c->d == 0 ? 0.0 : c->d;
        out[0] = 2;
        memcpy(out + 1, &d, 8);
        return 9;
    }
    case SQL_TEXT: {
        uint32_t n = (uint32_t)c->len;
        out[0] = 3;
        memcpy(out + 1, &n, 4);
        if (c->len)
            memcpy(out + 5, c->s, c->len);
        return 5 + c->len;
    }
    default:
        out[0] = 0;
        return 1;
    }
}

/* Bind key value at *p (advancing it) to parameter i. */
static const uint8_t *key_bind(sqlite3_stmt *st, int i, const uint8_t *p)
{
    switch (p[0]) {
    case 1: {
        int64_t v;
        memcpy(&v, p + 1, 8);
        sqlite3_bind_int64(st, i, v);
        return p + 9;
    }
    case 2: {
        double d;
        memcpy(&d, p + 1, 8);
        sqlite3_bind_double(st, i, d);
        return p + 9;
    }
    case 3: {
        uint32_t n;
        memcpy(&n, p + 1, 4);
        sqlite3_bind_text(st, i, (const char *)p + 5, (int)n, SQLITE_TRANSIENT);
        return p + 5 + n;
    }
    default:
        sqlite3_bind_null(st, i);
        return p + 1;
    }
}

static bool same_kind_everywhere(const struct ptab *t, int col)
{
    for (size_t f = 0; f < t->nfiles; f++) {
        const struct pfile *pf = &t->files[f];
        int fc = pf->pq ? pf->map[col] : -1;
        if (fc >= 0 && pf->pq->cols[fc].type != t->cols[col].type)
            return false;
    }
    return true;
}

static void need_slot(struct cursor *cur, int col)
{
    if (cur->slot_of[col] < 0) {
        cur->slot_of[col] = (int)cur->nslots;
        cur->slots[cur->nslots++].col = col;
    }
}

static inline void acc_int(struct agg_acc *a, enum sql_agg_fn fn, int64_t v)
{
    switch (fn) {
    case SQL_AGG_COUNT:
        a->cnt++;
        break;
    case SQL_AGG_SUM:
    case SQL_AGG_TOTAL:
    case SQL_AGG_AVG:
        a->cnt++;
        a->rsum += (double)v;
        if (!(a->approx | a->overflow) && __builtin_add_overflow(a->isum, v, &a->isum))
            a->approx = a->overflow = true;
        break;
    case SQL_AGG_MIN:
        if (!a->has || v < a->bi) {
            a->bi = v;
            a->has = true;
        }
        break;
    case SQL_AGG_MAX:
        if (!a->has || v > a->bi) {
            a->bi = v;
            a->has = true;
        }
        break;
    default:
        break;
    }
}

static inline void acc_real(struct agg_acc *a, enum sql_agg_fn fn, double v)
{
    switch (fn) {
    case SQL_AGG_COUNT:
        a->cnt++;
        break;
    case SQL_AGG_SUM:
    case SQL_AGG_TOTAL:
    case SQL_AGG_AVG:
        a->cnt++;
        a->rsum += v;
        a->approx = true;
        break;
    case SQL_AGG_MIN:
        if (!a->has || v < a->bd) {
            a->bd = v;
            a->has = true;
        }
        break;
    case SQL_AGG_MAX:
        if (!a->has || v > a->bd) {
            a->bd = v;
            a->has = true;
        }
        break;
    default:
        break;
    }
}

/* Aggregate k over the selected rows of a batch; gidx[i] is the group of
 * sel[i]. Numbers take tight loops; text goes through slot_cell(). */
static void agg_batch(struct agg_tab *a, int k, enum sql_agg_fn fn, const struct slot *s,
                      const uint32_t *sel, size_t nsel, const uint32_t *gidx)
{
    size_t na = a->naggs;
    struct agg_acc *acc = a->acc + k;
    if (fn == SQL_AGG_COUNT_STAR) {
        for (size_t i = 0; i < nsel; i++)
            acc[gidx[i] * na].cnt++;
        return;
    }
    if (!s->r)
        return; /* the column is NULL throughout this file */
    const struct pq_batch *b = &s->batch;
    const uint8_t *valid = b->valid;
    switch (s->type) {
    case PQ_INT64:
        for (size_t i = 0; i < nsel; i++)
            if (valid[sel[i]])
                acc_int(&acc[gidx[i] * na], fn, b->i64[sel[i]]);
        return;
    case PQ_BOOL:
        for (size_t i = 0; i < nsel; i++)
            if (valid[sel[i]])
                acc_int(&acc[gidx[i] * na], fn, b->b[sel[i]] ? 1 : 0);
        return;
    case PQ_DOUBLE:
        for (size_t i = 0; i < nsel; i++)
            if (valid[sel[i]] && !isnan(b->f64[sel[i]]))
                acc_real(&acc[gidx[i] * na], fn, b->f64[sel[i]]);
        return;
    default: {
        char buf[48];
        for (size_t i = 0; i < nsel; i++) {
            struct sql_cell c = slot_cell(s, sel[i], buf);
            acc_update(&acc[gidx[i] * na], fn, &c);
        }
    }
    }
}

/* A cursor over plan->table with plan->cons applied exactly (see above);
 * NULL when a constraint cannot be (the caller falls back to SQLite). */
static struct cursor *plan_cursor(struct ptab *t, const struct sql_agg_plan *plan)
{
    struct cursor *cur = sl_xcalloc(1, sizeof *cur);
    cur->base.pVtab = &t->base;
    cur->unit_budget = -1;
    cur->slot_of = sl_xcalloc(t->ncols + 1, sizeof *cur->slot_of);
    cur->slots = sl_xcalloc(t->ncols + 1, sizeof *cur->slots);
    for (size_t c = 0; c < t->ncols; c++)
        cur->slot_of[c] = -1;
    for (int k = 0; k < plan->ncons; k++) {
        int col = plan->cons[k].col;
        struct cons *c = &cur->cons[cur->ncons];
        memset(c, 0, sizeof *c);
        c->col = col;
        c->op = plan->cons[k].op;
        if (c->op != OP_ISNULL && c->op != OP_NOTNULL) {
            bool text = is_text_type(t->cols[col].type);
            int kind = plan->cons[k].kind;
            if (kind == SQL_NULL) {
                cur->empty = true;
            } else if (!same_kind_everywhere(t, col) || text != (kind == SQL_TEXT)) {
                reset(cur);
                free(cur->slot_of);
                free(cur);
                return NULL;
            } else if (kind == SQL_TEXT) {
                c->rhs = RHS_TEXT;
                c->s = sl_xmalloc(plan->cons[k].len + 1);
                memcpy(c->s, plan->cons[k].s, plan->cons[k].len);
                c->s[plan->cons[k].len] = 0;
                c->len = plan->cons[k].len;
            } else {
                c->rhs = RHS_NUM;
                c->is_int = kind == SQL_INT;
                c->i = plan->cons[k].i;
                c->ld = c->is_int ? (long double)c->i : (long double)plan->cons[k].d;
            }
        }
        need_slot(cur, col);
        cur->ncons++;
    }
    return cur;
}

static void cursor_free(struct cursor *cur)
{
    reset(cur);
    free(cur->slot_of);
    free(cur);
}

/* A row handler: SL_OK to go on, 1 to stop (enough rows), < 0 to fail. */
typedef int (*row_fn)(void *ctx, const struct sql_cell *cells, struct sl_error *err);
static int scan_run(struct ptab *t, const struct sql_agg_plan *plan, const int *cols, int ncols,
                    bool empty, row_fn fn, void *ctx, struct sl_error *err);

/* Rows in the row groups that statistics do not prune: the scan's size. */
static int64_t rows_to_scan(const struct ptab *t, const struct cursor *cur)
{
    int64_t rows = 0;
    for (size_t f = 0; f < t->nfiles; f++) {
        const struct pq_file *pq = t->files[f].pq;
        for (size_t rg = 0; pq && rg < pq->nrow_groups; rg++)
            if (!prune(t, cur, f, rg))
                rows += pq->row_groups[rg].num_rows;
    }
    return rows;
}

/* A filtered aggregate over at least this many rows decodes on the scanner
 * threads (both cores), grouping the rows that pass here, in table order. */
#define THREAD_MIN_ROWS 2000000

struct agg_ctx {
    const struct sql_agg_plan *plan;
    struct agg_tab *a;
    uint8_t **key;     /* the caller's key buffer (grown here) */
    size_t *key_cap;
    const int *ci;     /* aggregate k -> its cell, or -1 (count(*)) */
};

static int agg_row(void *ctx, const struct sql_cell *cells, struct sl_error *err)
{
    (void)err;
    struct agg_ctx *x = ctx;
    const struct sql_agg_plan *plan = x->plan;
    static const struct sql_cell none = { .kind = SQL_NULL };
    size_t kn = 0;
    for (int k = 0; k < plan->nkeys; k++) {
        if (kn + 9 + cells[k].len > *x->key_cap) {
            *x->key_cap = 2 * (kn + 9 + cells[k].len);
            *x->key = sl_xrealloc(*x->key, *x->key_cap);
        }
        kn += key_encode(*x->key + kn, &cells[k]);
    }
    size_t g = plan->nkeys ? agg_group(x->a, *x->key, kn) : 0;
    struct agg_acc *acc = x->a->acc + g * x->a->naggs;
    for (int k = 0; k < plan->naggs; k++)
        acc_update(&acc[k], plan->aggs[k].fn, x->ci[k] >= 0 ? &cells[x->ci[k]] : &none);
    return SL_OK;
}

int sql_vtab_aggregate(struct sql_session *s, const struct sql_agg_plan *plan,
                       sqlite3_stmt *insert, struct sl_error *err)
{
    if (plan->table < 0 || (size_t)plan->table >= s->tables.n || !s->vtabs[plan->table])
        return 1;
    struct ptab *t = s->vtabs[plan->table];
    if (t->bad)
        return sl_fail(err, SL_ECORRUPT, "%s", t->bad);
    /* Exactness checks (see above). */
    for (int k = 0; k < plan->nkeys; k++)
        if (!same_kind_everywhere(t, plan->keys[k]))
            return 1;
    for (int k = 0; k < plan->naggs; k++) {
        int col = plan->aggs[k].col;
        if (col < 0)
            continue;
        if (!same_kind_everywhere(t, col))
            return 1;
        enum sql_agg_fn fn = plan->aggs[k].fn;
        if ((fn == SQL_AGG_SUM || fn == SQL_AGG_TOTAL || fn == SQL_AGG_AVG) &&
            is_text_type(t->cols[col].type))
            return 1;
    }
    struct cursor *cur = plan_cursor(t, plan);
    if (!cur)
        return 1;
    for (int k = 0; k < plan->nkeys; k++)
        need_slot(cur, plan->keys[k]);
    for (int k = 0; k < plan->naggs; k++)
        if (plan->aggs[k].col >= 0)
            need_slot(cur, plan->aggs[k].col);

    struct agg_tab a = { .naggs = (size_t)plan->naggs ? (size_t)plan->naggs : 1 };
    sl_buf_init(&a.keys, 0);
    a.key_off = sl_xcalloc(1, sizeof *a.key_off);
    uint8_t *key = sl_xmalloc(64);
    size_t key_cap = 64;
    if (plan->nkeys == 0)
        agg_group(&a, key, 0); /* one group even over no rows */
    int rc = SQLITE_OK;
    if (cur->nslots == 0 && !cur->empty) {
        /* count(*) alone, unfiltered: the footers know. */
        int64_t rows = 0;
        for (size_t f = 0; f < t->nfiles; f++)
            rows += t->files[f].pq ? t->files[f].pq->num_rows : 0;
        for (int k = 0; k < plan->naggs; k++)
            a.acc[k].cnt = rows;
        cur->empty = true;
    }
    bool early_fail = false;
    if (plan->ncons > 0 && !cur->empty && rows_to_scan(t, cur) >= THREAD_MIN_ROWS) {
        int cols[SQL_AGG_KEYS_MAX + SQL_AGG_FUNCS_MAX], ci[SQL_AGG_FUNCS_MAX], ncells = 0;
        for (int k = 0; k < plan->nkeys; k++)
            cols[ncells++] = plan->keys[k];
        for (int k = 0; k < plan->naggs; k++) {
            ci[k] = plan->aggs[k].col >= 0 ? ncells : -1;
            if (plan->aggs[k].col >= 0)
                cols[ncells++] = plan->aggs[k].col;
        }
        struct agg_ctx x = { plan, &a, &key, &key_cap, ci };
        int r = ncells > 0 ? scan_run(t, plan, cols, ncells, false, agg_row, &x, err) : 1;
        if (r == SL_OK)
            cur->empty = true; /* done: skip the loop below */
        else if (r < 0)
            early_fail = cur->empty = true;
        /* r == 1: no threads; the loop below does it */
    }
    if (!cur->empty)
        rc = advance(cur);
    else
        cur->eof = true;
    int kslot[SQL_AGG_KEYS_MAX], aslot[SQL_AGG_FUNCS_MAX];
    for (int k = 0; k < plan->nkeys; k++)
        kslot[k] = cur->slot_of[plan->keys[k]];
    for (int k = 0; k < plan->naggs; k++)
        aslot[k] = plan->aggs[k].col >= 0 ? cur->slot_of[plan->aggs[k].col] : -1;
    char tb[SQL_AGG_KEYS_MAX][48];
    uint32_t *gidx = sl_xmalloc(SQL_BATCH * sizeof *gidx); /* group of each selected row */
    /* One string key: within a batch, equal dictionary entries share their
     * bytes, so a small cache by (pointer, length) skips most hashing. The
     * cache is cleared per batch: pointers are only stable that long. */
    struct {
        const uint8_t *p;
        size_t len;
        uint32_t g;
    } pcache[256];
    while (rc == SQLITE_OK && !cur->eof) {
        bool str_key = plan->nkeys == 1 && cur->slots[kslot[0]].r &&
                       cur->slots[kslot[0]].type == PQ_STRING;
        if (str_key)
            memset(pcache, 0, sizeof pcache);
        for (size_t i = 0; i < cur->nsel; i++) {
            uint32_t r = cur->sel[i];
            size_t g;
            if (str_key && cur->slots[kslot[0]].batch.valid[r]) {
                const struct sl_slice *v = &cur->slots[kslot[0]].batch.str[r];
                size_t h = (((uintptr_t)v->p >> 3) ^ v->len) & 255;
                if (pcache[h].p == v->p && pcache[h].len == v->len && v->p) {
                    g = pcache[h].g;
                } else {
                    struct sql_cell c = { .kind = SQL_TEXT, .s = (const char *)v->p, .len = v->len };
                    if (9 + c.len > key_cap) {
                        key_cap = 2 * (9 + c.len);
                        key = sl_xrealloc(key, key_cap);
                    }
                    g = agg_group(&a, key, key_encode(key, &c));
                    pcache[h].p = v->p;
                    pcache[h].len = v->len;
                    pcache[h].g = (uint32_t)g;
                }
                goto update;
            }
            size_t kn = 0;
            for (int k = 0; k < plan->nkeys; k++) {
                struct sql_cell c = slot_cell(&cur->slots[kslot[k]], r, tb[k]);
                if (kn + 9 + c.len > key_cap) {
                    key_cap = 2 * (kn + 9 + c.len);
                    key = sl_xrealloc(key, key_cap);
                }
                kn += key_encode(key + kn, &c);
            }
            g = plan->nkeys ? agg_group(&a, key, kn) : 0;
        update:
            gidx[i] = (uint32_t)g;
        }
        for (int k = 0; k < plan->naggs; k++)
            agg_batch(&a, k, plan->aggs[k].fn, aslot[k] >= 0 ? &cur->slots[aslot[k]] : NULL,
                      cur->sel, cur->nsel, gidx);
        cur->pos = cur->nsel;
        rc = advance(cur);
    }
    free(key);
    free(gidx);
    int ret = early_fail ? SL_ECORRUPT : SL_OK;
    if (rc != SQLITE_OK) {
        ret = sl_fail(err, SL_ECORRUPT, "%s", t->base.zErrMsg ? t->base.zErrMsg : "scan failed");
        sqlite3_free(t->base.zErrMsg);
        t->base.zErrMsg = NULL;
    }
    for (size_t g = 0; ret == SL_OK && g < a.ngroups; g++) {
        const uint8_t *p = a.keys.data + a.key_off[g];
        int pi = 1;
        for (int k = 0; k < plan->nkeys; k++)
            p = key_bind(insert, pi++, p);
        struct agg_acc *acc = a.acc + g * a.naggs;
        for (int k = 0; k < plan->naggs; k++, pi++) {
            struct agg_acc *x = &acc[k];
            switch (plan->aggs[k].fn) {
            case SQL_AGG_COUNT_STAR:
            case SQL_AGG_COUNT:
                sqlite3_bind_int64(insert, pi, x->cnt);
                break;
            case SQL_AGG_SUM:
                if (x->cnt == 0)
                    sqlite3_bind_null(insert, pi);
                else if (x->overflow)
                    ret = sl_fail(err, SL_EUSAGE, "integer overflow");
                else if (x->approx)
                    sqlite3_bind_double(insert, pi, x->rsum);
                else
                    sqlite3_bind_int64(insert, pi, x->isum);
                break;
            case SQL_AGG_TOTAL:
                sqlite3_bind_double(insert, pi, x->rsum);
                break;
            case SQL_AGG_AVG:
                if (x->cnt == 0)
                    sqlite3_bind_null(insert, pi);
                else
                    sqlite3_bind_double(insert, pi, x->rsum / (double)x->cnt);
                break;
            case SQL_AGG_MIN:
            case SQL_AGG_MAX: {
                int col = plan->aggs[k].col;
                enum pq_type ty = t->cols[col].type;
                if (!x->has)
                    sqlite3_bind_null(insert, pi);
                else if (is_text_type(ty))
                    sqlite3_bind_text(insert, pi, x->bs ? x->bs : "", (int)x->bslen, SQLITE_TRANSIENT);
                else if (ty == PQ_DOUBLE)
                    sqlite3_bind_double(insert, pi, x->bd);
                else
                    sqlite3_bind_int64(insert, pi, x->bi);
                break;
            }
            }
        }
        if (ret == SL_OK && sqlite3_step(insert) != SQLITE_DONE)
            ret = sl_fail(err, SL_EUSAGE, "%s", sqlite3_errmsg(sqlite3_db_handle(insert)));
        sqlite3_reset(insert);
    }
    for (size_t g = 0; g < a.ngroups; g++)
        for (size_t k = 0; k < a.naggs; k++)
            free(a.acc[g * a.naggs + k].bs);
    free(a.acc);
    free(a.hash);
    free(a.slot_group);
    free(a.key_off);
    sl_buf_release(&a.keys);
    reset(cur);
    free(cur->slot_of);
    free(cur);
    return ret;
}

/*
 * Scans run on worker threads: each decodes and filters its share of the
 * units (row groups) with its own cursor — worker w takes units w, w + n,
 * w + 2n, ... — turning each selected row into cells in chunks (text copied,
 * timestamps formatted); the caller's thread prints the chunks unit by unit
 * in table order, so the rows come out exactly as one cursor would give
 * them. Decoding is most of a scan's time: two workers use both cores, as
 * DuckDB does, and the printing overlaps with them.
 */
#define CHUNK_ROWS 8192
#define CHUNKS_QUEUED 4
#define SCAN_THREADS 2

struct chunk {
    size_t nrows;
    struct sql_cell *cells;  /* owned; nrows * ncols; TEXT .s into text after fix-up */
    struct sl_buf text;      /* owned: the bytes of the text cells */
    bool unit_end;           /* the last chunk of its unit */
    bool failed;             /* the worker stopped on an error: msg */
    char msg[SL_ERROR_MSG_MAX];
};

struct scanner {
    struct cursor *cur;      /* owned; used only by the worker thread while it runs */
    struct ptab *t;          /* borrowed */
    int ncols;
    const int *slot;         /* borrowed: column k -> cursor slot */
    const size_t (*units)[2]; /* borrowed: (file, row group) of every unit, in order */
    size_t nunits, phase, stride; /* this worker's units: phase, phase + stride, ... */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct chunk *q[CHUNKS_QUEUED]; /* ring of chunks ready to print */
    size_t head, count;
    bool done;               /* worker: no more chunks */
    bool stop;               /* consumer: stop early (LIMIT, error) */
};

static struct chunk *chunk_new(int ncols)
{
    struct chunk *c = sl_xcalloc(1, sizeof *c);
    c->cells = sl_xmalloc((size_t)CHUNK_ROWS * (size_t)ncols * sizeof *c->cells + 1);
    sl_buf_init(&c->text, 0);
    return c;
}

static void chunk_free(struct chunk *c)
{
    if (!c)
        return;
    free(c->cells);
    sl_buf_release(&c->text);
    free(c);
}

/* Hand a chunk to the consumer (which then owns it); false when it asked us
 * to stop (the chunk is freed). */
static bool scanner_push(struct scanner *sc, struct chunk *c)
{
    size_t ncells = c->nrows * (size_t)sc->ncols;
    for (size_t k = 0; k < ncells; k++) /* offsets become pointers: text no longer moves */
        if (c->cells[k].kind == SQL_TEXT)
            c->cells[k].s = (const char *)c->text.data + c->cells[k].i;
    pthread_mutex_lock(&sc->mu);
    while (sc->count == CHUNKS_QUEUED && !sc->stop)
        pthread_cond_wait(&sc->cv, &sc->mu);
    bool ok = !sc->stop;
    if (ok) {
        sc->q[(sc->head + sc->count) % CHUNKS_QUEUED] = c;
        sc->count++;
        pthread_cond_broadcast(&sc->cv);
    }
    pthread_mutex_unlock(&sc->mu);
    if (!ok)
        chunk_free(c);
    return ok;
}

static bool scanner_stopped(struct scanner *sc)
{
    pthread_mutex_lock(&sc->mu);
    bool stop = sc->stop;
    pthread_mutex_unlock(&sc->mu);
    return stop;
}

static void *scanner_main(void *arg)
{
    struct scanner *sc = arg;
    struct cursor *cur = sc->cur;
    struct chunk *c = chunk_new(sc->ncols);
    char buf[48];
    for (size_t u = sc->phase; u < sc->nunits; u += sc->stride) {
        /* Point the cursor at unit u alone. */
        close_unit(cur);
        cur->file = sc->units[u][0];
        cur->rg = sc->units[u][1];
        cur->left = 0;
        cur->nsel = cur->pos = 0;
        cur->eof = false;
        cur->unit_budget = 1;
        int rc = SQLITE_OK;
        if (cur->empty)
            cur->eof = true;
        else
            rc = advance(cur);
        while (rc == SQLITE_OK && !cur->eof) {
            for (size_t i = 0; i < cur->nsel; i++) {
                struct sql_cell *row = c->cells + c->nrows * (size_t)sc->ncols;
                for (int k = 0; k < sc->ncols; k++) {
                    row[k] = slot_cell(&cur->slots[sc->slot[k]], cur->sel[i], buf);
                    if (row[k].kind == SQL_TEXT) {
                        row[k].i = (int64_t)c->text.len;
                        if (sl_buf_append(&c->text, row[k].s, row[k].len) != SL_OK)
                            abort(); /* no cap on this buffer: only out of memory */
                    }
                }
                if (++c->nrows == CHUNK_ROWS) {
                    if (!scanner_push(sc, c)) { /* it freed c */
                        c = NULL;
                        goto out;
                    }
                    c = chunk_new(sc->ncols);
                }
            }
            if (scanner_stopped(sc))
                goto out;
            cur->pos = cur->nsel;
            rc = advance(cur);
        }
        c->unit_end = true;
        if (rc != SQLITE_OK) {
            c->failed = true;
            snprintf(c->msg, sizeof c->msg, "%s", cur->err[0] ? cur->err : "scan failed");
        }
        bool failed = c->failed;
        bool ok = scanner_push(sc, c);
        c = NULL;
        if (!ok || failed)
            goto out;
        c = chunk_new(sc->ncols);
    }
out:
    chunk_free(c);
    pthread_mutex_lock(&sc->mu);
    sc->done = true;
    pthread_cond_broadcast(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
    return NULL;
}

/* The next chunk in order, or NULL once the worker is done. */
static struct chunk *scanner_pop(struct scanner *sc)
{
    pthread_mutex_lock(&sc->mu);
    while (sc->count == 0 && !sc->done)
        pthread_cond_wait(&sc->cv, &sc->mu);
    struct chunk *c = NULL;
    if (sc->count) {
        c = sc->q[sc->head];
        sc->head = (sc->head + 1) % CHUNKS_QUEUED;
        sc->count--;
        pthread_cond_broadcast(&sc->cv);
    }
    pthread_mutex_unlock(&sc->mu);
    return c;
}


/*
 * Run plan over table t on the scanner threads, calling fn(ctx, cells) for
 * each selected row (cells of cols[0..ncols)) in table order on this thread.
 * Returns SL_OK, 1 when the plan cannot run exactly or no thread could be
 * started (nothing was called then), or an error.
 */
static int scan_run(struct ptab *t, const struct sql_agg_plan *plan, const int *cols, int ncols,
                    bool empty, row_fn fn, void *ctx, struct sl_error *err)
{
    size_t nunits = 0;
    for (size_t f = 0; f < t->nfiles; f++)
        nunits += t->files[f].pq ? t->files[f].pq->nrow_groups : 0;
    size_t (*units)[2] = sl_xcalloc(nunits + 1, sizeof *units);
    for (size_t f = 0, u = 0; f < t->nfiles; f++)
        for (size_t rg = 0; t->files[f].pq && rg < t->files[f].pq->nrow_groups; rg++, u++) {
            units[u][0] = f;
            units[u][1] = rg;
        }
    int nth = nunits >= SCAN_THREADS ? SCAN_THREADS : 1;
    struct scanner sc[SCAN_THREADS];
    pthread_t th[SCAN_THREADS];
    int *slot = sl_xcalloc((size_t)ncols + 1, sizeof *slot);
    int started = 0, ret = SL_OK;
    memset(sc, 0, sizeof sc);
    /* All cursors first (they fill the shared slot map), then the threads. */
    for (int w = 0; w < nth && ret == SL_OK; w++) {
        struct cursor *cur = plan_cursor(t, plan);
        if (!cur) {
            ret = 1;
            break;
        }
        cur->own_err = true;
        for (int k = 0; k < ncols; k++)
            need_slot(cur, cols[k]);
        for (int k = 0; k < ncols; k++) /* the same in every cursor */
            slot[k] = cur->slot_of[cols[k]];
        if (empty)
            cur->empty = true;
        sc[w] = (struct scanner){ .cur = cur, .t = t, .ncols = ncols, .slot = slot,
                                  .units = (const size_t(*)[2])units, .nunits = nunits,
                                  .phase = (size_t)w, .stride = (size_t)nth };
        pthread_mutex_init(&sc[w].mu, NULL);
        pthread_cond_init(&sc[w].cv, NULL);
    }
    for (int w = 0; w < nth && ret == SL_OK; w++) {
        if (pthread_create(&th[w], NULL, scanner_main, &sc[w]) != 0)
            ret = 1; /* no thread to be had: let SQLite run the statement */
        else
            started++;
    }
    bool enough = false;
    for (size_t u = 0; ret == SL_OK && !enough && u < nunits; u++) {
        struct scanner *w = &sc[u % (size_t)nth];
        for (;;) {
            struct chunk *c = scanner_pop(w);
            if (!c) { /* the worker stopped without finishing its units */
                ret = sl_fail(err, SL_ECORRUPT, "scan of '%s' stopped early",
                              t->files[units[u][0]].path);
                break;
            }
            for (size_t r = 0; r < c->nrows && ret == SL_OK && !enough; r++) {
                int rc = fn(ctx, c->cells + r * (size_t)ncols, err);
                if (rc == 1)
                    enough = true;
                else
                    ret = rc;
            }
            if (ret == SL_OK && c->failed)
                ret = sl_fail(err, SL_ECORRUPT, "%s", c->msg);
            bool end = c->unit_end;
            chunk_free(c);
            if (end || ret != SL_OK || enough)
                break;
        }
    }
    /* Stop the workers (LIMIT reached, an error, or done) and drain their queues. */
    for (int w = 0; w < started; w++) {
        pthread_mutex_lock(&sc[w].mu);
        sc[w].stop = true;
        pthread_cond_broadcast(&sc[w].cv);
        pthread_mutex_unlock(&sc[w].mu);
    }
    for (int w = 0; w < started; w++) {
        pthread_join(th[w], NULL);
        while (sc[w].count) {
            chunk_free(sc[w].q[sc[w].head]);
            sc[w].head = (sc[w].head + 1) % CHUNKS_QUEUED;
            sc[w].count--;
        }
    }
    for (int w = 0; w < nth; w++) {
        if (!sc[w].cur)
            continue;
        pthread_cond_destroy(&sc[w].cv);
        pthread_mutex_destroy(&sc[w].mu);
        cursor_free(sc[w].cur);
    }
    free(slot);
    free(units);
    return ret;
}

struct print_ctx {
    struct sql_out *out;
    int64_t skip, left; /* OFFSET still to skip; LIMIT left (-1: none) */
};

static int print_row(void *ctx, const struct sql_cell *cells, struct sl_error *err)
{
    struct print_ctx *p = ctx;
    if (p->skip > 0) {
        p->skip--;
        return SL_OK;
    }
    int rc = sql_out_row(p->out, cells, err);
    if (rc == SL_OK && p->left > 0 && --p->left == 0)
        return 1;
    return rc;
}

int sql_vtab_scan(struct sql_session *s, const struct sql_agg_plan *plan, const int *cols,
                  const char *const *names, int ncols, int64_t limit, int64_t offset,
                  struct sql_out *out, struct sl_error *err)
{
    if (plan->table < 0 || (size_t)plan->table >= s->tables.n || !s->vtabs[plan->table])
        return 1;
    struct ptab *t = s->vtabs[plan->table];
    if (t->bad)
        return sl_fail(err, SL_ECORRUPT, "%s", t->bad);
    struct print_ctx pc = { out, offset, limit };
    sql_out_begin(out, (size_t)ncols, names);
    int ret = scan_run(t, plan, cols, ncols, limit == 0, print_row, &pc, err);
    if (ret == SL_OK)
        ret = sql_out_end(out, err);
    else
        sql_out_discard(out); /* declined (1) or failed: print nothing of it */
    return ret;
}

const char *sql_vtab_column_name(struct sql_session *s, int table, int col)
{
    if (table < 0 || (size_t)table >= s->tables.n || !s->vtabs[table])
        return NULL;
    struct ptab *t = s->vtabs[table];
    return col >= 0 && (size_t)col < t->ncols ? t->cols[col].name : NULL;
}

int sql_vtab_column_count(struct sql_session *s, int table)
{
    if (table < 0 || (size_t)table >= s->tables.n || !s->vtabs[table])
        return 0;
    return (int)((struct ptab *)s->vtabs[table])->ncols;
}
