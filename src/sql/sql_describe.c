/*
 * sql_describe.c: the statistics of `describe T`, as pandas' describe()
 * computes them, so that `sluice sql "describe purchases"` answers what the
 * week-12 notebook's `toPandas().describe()` printed.
 *
 * Numeric columns keep every value (8 bytes each): the quartiles need the
 * sorted values, and the standard deviation is computed in two passes
 * (mean first, then the squared deviations), which is what keeps it exact
 * to the last digits pandas prints. Text columns count each distinct value
 * in an open-addressing hash table whose keys live in one growing buffer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "sql/sql.h"

/* ---------------------------------------------------------------- MARK: quantile */

double sql_quantile(const double *sorted, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h), hi = (size_t)ceil(h);
    if (hi >= n)
        hi = n - 1;
    double frac = h - (double)lo;
    if (frac == 0 || sorted[lo] == sorted[hi])
        return sorted[lo];
    return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---------------------------------------------------------------- MARK: counting */

struct slot {
    uint64_t hash;   /* 0 = empty (hashes are forced non-zero) */
    size_t key;      /* offset of [kind u8][len u32][bytes] in keys */
    int64_t count;
    size_t first;    /* order of first appearance, for ties */
};

struct column {
    char *name;                 /* owned */
    enum sql_describe_kind kind;
    int64_t count;              /* non-null values */
    /* numeric */
    double *vals;               /* owned; count entries */
    size_t cap;
    /* text */
    struct slot *slots;         /* owned; nslots entries, a power of two */
    size_t nslots, used;
    struct sl_buf keys;         /* owned: the distinct values */
};

struct sql_describe {
    size_t ncols;
    struct column *cols; /* owned */
};

static uint64_t hash_bytes(uint8_t kind, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ kind;
    for (size_t k = 0; k < len; k++) {
        h ^= (unsigned char)s[k];
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

static bool key_eq(const struct column *c, const struct slot *sl, uint8_t kind, const char *s,
                   size_t len)
{
    const uint8_t *k = c->keys.data + sl->key;
    uint32_t klen;
    memcpy(&klen, k + 1, sizeof klen);
    return k[0] == kind && klen == len && memcmp(k + 5, s, len) == 0;
}

static void grow(struct column *c)
{
    size_t n = c->nslots ? c->nslots * 2 : 64;
    struct slot *slots = sl_xcalloc(n, sizeof *slots);
    for (size_t k = 0; k < c->nslots; k++) {
        if (!c->slots[k].hash)
            continue;
        size_t at = c->slots[k].hash & (n - 1);
        while (slots[at].hash)
            at = (at + 1) & (n - 1);
        slots[at] = c->slots[k];
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = n;
}

static void count_text(struct column *c, uint8_t kind, const char *s, size_t len)
{
    if (2 * (c->used + 1) > c->nslots)
        grow(c);
    uint64_t h = hash_bytes(kind, s, len);
    size_t at = h & (c->nslots - 1);
    while (c->slots[at].hash) {
        if (c->slots[at].hash == h && key_eq(c, &c->slots[at], kind, s, len)) {
            c->slots[at].count++;
            return;
        }
        at = (at + 1) & (c->nslots - 1);
    }
    uint32_t len32 = (uint32_t)len;
    struct slot sl = { h, c->keys.len, 1, c->used++ };
    if (sl_buf_u8(&c->keys, kind) || sl_buf_append(&c->keys, &len32, sizeof len32) ||
        sl_buf_append(&c->keys, s, len))
        abort(); /* the buffer has no cap: only out of memory gets here, and that aborts */
    c->slots[at] = sl;
}

/* ---------------------------------------------------------------- MARK: api */

struct sql_describe *sql_describe_new(size_t ncols, const char *const *names,
                                      const enum sql_describe_kind *kinds)
{
    struct sql_describe *d = sl_xcalloc(1, sizeof *d);
    d->ncols = ncols;
    d->cols = sl_xcalloc(ncols ? ncols : 1, sizeof *d->cols);
    for (size_t k = 0; k < ncols; k++) {
        d->cols[k].name = sl_xstrdup(names[k]);
        d->cols[k].kind = kinds[k];
        sl_buf_init(&d->cols[k].keys, 0);
    }
    return d;
}

void sql_describe_free(struct sql_describe *d)
{
    if (!d)
        return;
    for (size_t k = 0; k < d->ncols; k++) {
        free(d->cols[k].name);
        free(d->cols[k].vals);
        free(d->cols[k].slots);
        sl_buf_release(&d->cols[k].keys);
    }
    free(d->cols);
    free(d);
}

void sql_describe_add(struct sql_describe *d, size_t col, const struct sql_cell *cell)
{
    struct column *c = &d->cols[col];
    if (cell->kind == SQL_NULL)
        return;
    if (c->kind == SQL_DESCRIBE_AUTO)
        c->kind = cell->kind == SQL_INT || cell->kind == SQL_REAL ? SQL_DESCRIBE_NUMERIC
                                                                  : SQL_DESCRIBE_TEXT;
    if (c->kind == SQL_DESCRIBE_NUMERIC) {
        double v;
        if (cell->kind == SQL_INT)
            v = (double)cell->i;
        else if (cell->kind == SQL_REAL)
            v = cell->d;
        else
            return;
        if (isnan(v))
            return; /* NaN is missing, as in pandas */
        if ((size_t)c->count == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1024;
            c->vals = sl_xrealloc(c->vals, c->cap * sizeof *c->vals);
        }
        c->vals[c->count++] = v;
        return;
    }
    c->count++;
    if (cell->kind == SQL_INT) {
        count_text(c, SQL_INT, (const char *)&cell->i, sizeof cell->i);
    } else if (cell->kind == SQL_REAL) {
        count_text(c, SQL_REAL, (const char *)&cell->d, sizeof cell->d);
    } else {
        count_text(c, (uint8_t)cell->kind, cell->s, cell->len);
    }
}

/* The most frequent value of a text column (first seen among ties). */
static const struct slot *top_slot(const struct column *c)
{
    const struct slot *best = NULL;
    for (size_t k = 0; k < c->nslots; k++) {
        const struct slot *sl = &c->slots[k];
        if (sl->hash && (!best || sl->count > best->count ||
                         (sl->count == best->count && sl->first < best->first)))
            best = sl;
    }
    return best;
}

static struct sql_cell key_cell(const struct column *c, const struct slot *sl)
{
    struct sql_cell cell = { .kind = SQL_NULL };
    const uint8_t *k = c->keys.data + sl->key;
    uint32_t len;
    memcpy(&len, k + 1, sizeof len);
    cell.kind = (enum sql_kind)k[0];
    if (cell.kind == SQL_INT)
        memcpy(&cell.i, k + 5, sizeof cell.i);
    else if (cell.kind == SQL_REAL)
        memcpy(&cell.d, k + 5, sizeof cell.d);
    else {
        cell.s = (const char *)k + 5;
        cell.len = len;
    }
    return cell;
}

enum stat { ST_COUNT, ST_UNIQUE, ST_TOP, ST_FREQ, ST_MEAN, ST_STD, ST_MIN, ST_Q25, ST_Q50,
            ST_Q75, ST_MAX, ST_N };
static const char *const stat_names[ST_N] = { "count", "unique", "top", "freq", "mean", "std",
                                              "min",   "25%",    "50%", "75%",  "max" };

static struct sql_cell stat_cell(struct column *c, enum stat st)
{
    struct sql_cell cell = { .kind = SQL_NULL };
    if (st == ST_COUNT) {
        cell.kind = SQL_INT;
        cell.i = c->count;
        return cell;
    }
    if (c->kind == SQL_DESCRIBE_TEXT) {
        if (st > ST_FREQ)
            return cell;
        if (st == ST_UNIQUE) {
            cell.kind = SQL_INT;
            cell.i = (int64_t)c->used;
            return cell;
        }
        const struct slot *top = top_slot(c);
        if (!top)
            return cell;
        if (st == ST_TOP)
            return key_cell(c, top);
        cell.kind = SQL_INT;
        cell.i = top->count;
        return cell;
    }
    if (st <= ST_FREQ || c->count == 0)
        return cell;
    size_t n = (size_t)c->count;
    cell.kind = SQL_REAL;
    double mean = 0;
    switch (st) {
    case ST_MEAN:
    case ST_STD:
        for (size_t k = 0; k < n; k++)
            mean += c->vals[k];
        mean /= (double)n;
        if (st == ST_MEAN) {
            cell.d = mean;
        } else if (n < 2) {
            cell.kind = SQL_NULL;
        } else {
            double ss = 0;
            for (size_t k = 0; k < n; k++)
                ss += (c->vals[k] - mean) * (c->vals[k] - mean);
            cell.d = sqrt(ss / (double)(n - 1));
        }
        break;
    case ST_MIN:
        cell.d = c->vals[0];
        break;
    case ST_MAX:
        cell.d = c->vals[n - 1];
        break;
    default:
        cell.d = sql_quantile(c->vals, n, st == ST_Q25 ? 0.25 : st == ST_Q50 ? 0.5 : 0.75);
    }
    return cell;
}

int sql_describe_write(struct sql_describe *d, struct sql_out *out, struct sl_error *err)
{
    bool any_text = false, any_num = false;
    for (size_t k = 0; k < d->ncols; k++) {
        struct column *c = &d->cols[k];
        if (c->kind == SQL_DESCRIBE_AUTO)
            c->kind = SQL_DESCRIBE_NUMERIC; /* only NULLs: count 0, the rest NULL */
        if (c->kind == SQL_DESCRIBE_NUMERIC) {
            any_num = true;
            if (c->count > 1)
                qsort(c->vals, (size_t)c->count, sizeof *c->vals, cmp_double);
        } else {
            any_text = true;
        }
    }
    const char **names = sl_xcalloc(d->ncols + 1, sizeof *names);
    names[0] = "summary";
    for (size_t k = 0; k < d->ncols; k++)
        names[k + 1] = d->cols[k].name;
    sql_out_begin(out, d->ncols + 1, names);
    free(names);
    struct sql_cell *row = sl_xcalloc(d->ncols + 1, sizeof *row);
    int rc = SL_OK;
    for (int st = 0; rc == SL_OK && st < ST_N; st++) {
        if (st != ST_COUNT && ((st <= ST_FREQ && !any_text) || (st > ST_FREQ && !any_num)))
            continue;
        row[0] = (struct sql_cell){ .kind = SQL_TEXT, .s = stat_names[st],
                                    .len = strlen(stat_names[st]) };
        for (size_t k = 0; k < d->ncols; k++)
            row[k + 1] = stat_cell(&d->cols[k], (enum stat)st);
        rc = sql_out_row(out, row, err);
    }
    free(row);
    return rc ? rc : sql_out_end(out, err);
}
