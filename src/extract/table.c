/*
 * table.c: one output table of extract: the union schema of the rows added,
 * type widening, rows buffered column by column, and the Parquet part files
 * written from them (through src/parquet).
 *
 * Why buffer: a Parquet file's schema is fixed when it is opened, but the
 * schema of a table is only known after its rows have been seen ("the union
 * of the fields seen", widened on conflicts). So rows are kept in memory as
 * typed cells until a part is written; the job spills parts early when the
 * buffers pass --mem-max. Strings go to one byte heap per table (a cell
 * holds an offset), so a value costs 8 bytes (9 in a column of mixed
 * kinds) plus its string bytes, and nothing is allocated per value.
 *
 * Why stream anyway: most tables keep their schema from the first rows on,
 * and whole-run buffers were most of extract's memory traffic and page
 * faults. So a part can be opened early with the schema seen so far and
 * take the rows as they come (extract_table_stream); if the schema moves
 * after all, part_reload() reads the rows back from the part and the table
 * goes on buffering, with the same bytes in the end.
 *
 * Why parts are kept after they are written: a part spilled at --mem-max
 * (or written before extract_table_unify) has the schema of its moment;
 * extract_table_settle() writes it again with the final one, reading its
 * rows back the way part_reload() does, so all parts of a version agree.
 *
 * Why widen at write time: a cell keeps the value's own kind; the column's
 * type is the widest kind seen so far, and values are converted only when
 * the part is written. So a column that turns from int64 to string halfway
 * through a part costs nothing until then, and no row is ever rejected for
 * its types.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "extract/extract.h"
#include "json/json.h"
#include "parquet/pq.h"

#define EXTRACT_DICT_MAX_BYTES (256u << 10)
/* Row groups of about DuckDB's size (122,880): a part file's data goes out
 * in steps while it is encoded, instead of all at its end. */
#define EXTRACT_ROW_GROUP_ROWS 131072

/*
 * One buffered value, as read back for writing: the field's own kind and
 * its payload. Stored split in two arrays per column (a kind byte and 8
 * payload bytes), 9 bytes a value instead of a 16-byte struct: the buffers
 * are most of extract's memory traffic.
 */
struct cell {
    uint8_t kind; /* enum extract_kind */
    uint64_t len; /* EXTRACT_STRING: bytes */
    union {
        int64_t i;    /* EXTRACT_INT (and meta columns) */
        double d;     /* EXTRACT_DOUBLE */
        uint64_t off; /* EXTRACT_STRING: offset of the bytes in the table's heap */
        bool b;       /* EXTRACT_BOOL */
    } v;
};

/* A string's payload: heap offset << 24 | length; a length of STR_LONG
 * means the heap holds an 8-byte length before the bytes. */
#define STR_LONG 0xffffffu

enum col_role { ROLE_DATA = 0, ROLE_PARTITION, ROLE_OFFSET, ROLE_TS };

/* Event columns are full of repeats (event_type, Host, User-Agent, the
 * timestamp text of one millisecond): each column remembers its last few
 * short strings and points repeats at the same heap bytes, which keeps the
 * heap, and the memory the kernel has to hand out, small. */
#define RECENT 4
#define RECENT_MAX_LEN 64

struct col {
    char *name;          /* owned; the first spelling seen */
    size_t name_len;
    uint64_t hash;       /* of the ASCII-lowercased name */
    uint8_t type;        /* enum extract_kind: widest kind seen (NULL: none yet) */
    uint8_t role;        /* enum col_role */
    uint8_t *kinds;      /* owned; kinds[r]: enum extract_kind of row r < n, while mixed */
    bool mixed;          /* false: every row < n is of kind `uniform` (kinds unused) */
    uint8_t uniform;
    uint64_t *vals;      /* owned; vals[r]: its payload (int64, double bits, bool, string) */
    size_t n;            /* rows with a value (later rows are null) */
    size_t cap;
    /* recent short strings of this column, so repeats share heap bytes */
    uint64_t recent_off[RECENT];
    uint32_t recent_len[RECENT]; /* 0: empty slot */
    unsigned recent_next;        /* slot to replace next */
};

struct part;

struct extract_table {
    char *name;          /* owned */
    bool meta;           /* has _partition, _offset, _ts */
    struct col *cols;    /* owned */
    size_t ncols, cols_cap;
    uint32_t *slots;     /* owned: open-addressing hash of column index + 1 */
    size_t nslots;       /* power of two, > 2 * ncols */
    size_t *last;        /* owned: column of field i in the previous row (cache) */
    size_t last_cap;
    struct sl_buf heap;  /* owned: string bytes of the buffered rows */
    int64_t rows;        /* buffered rows */
    int64_t written;     /* rows written to parts so far (an open part's included) */
    struct part *part;   /* owned; the part being streamed to, or NULL */
    bool no_stream;      /* its part was taken back: buffer until written */
    struct part **done;  /* owned: parts finished since extract_table_settle(), */
    size_t ndone, done_cap; /* kept in case the schema moves on after them */
};

static void part_free(struct part *p);

/* ---------------------------------------------------------------- MARK: columns */

static inline int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static uint64_t name_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint64_t)fold(p[i])) * 1099511628211ull;
    return h;
}

static bool name_eq_fold(const char *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (fold((unsigned char)a[i]) != fold(b[i]))
            return false;
    return true;
}

static void rehash(struct extract_table *t)
{
    free(t->slots);
    t->nslots = t->nslots ? t->nslots * 2 : 64;
    t->slots = sl_xcalloc(t->nslots, sizeof *t->slots);
    for (size_t c = 0; c < t->ncols; c++) {
        size_t s = t->cols[c].hash & (t->nslots - 1);
        while (t->slots[s])
            s = (s + 1) & (t->nslots - 1);
        t->slots[s] = (uint32_t)(c + 1);
    }
}

static size_t col_add(struct extract_table *t, const uint8_t *name, size_t n, uint8_t role)
{
    if (t->ncols == t->cols_cap) {
        t->cols_cap = t->cols_cap ? t->cols_cap * 2 : 16;
        t->cols = sl_xrealloc(t->cols, t->cols_cap * sizeof *t->cols);
    }
    struct col *c = &t->cols[t->ncols++];
    memset(c, 0, sizeof *c);
    c->name = sl_xstrndup((const char *)name, n);
    c->name_len = n;
    c->hash = name_hash(name, n);
    c->role = role;
    if (role != ROLE_DATA)
        c->type = EXTRACT_INT; /* _ts too: its values are ms, written as a timestamp */
    if (t->ncols * 2 >= t->nslots) {
        rehash(t);
    } else {
        size_t s = c->hash & (t->nslots - 1);
        while (t->slots[s])
            s = (s + 1) & (t->nslots - 1);
        t->slots[s] = (uint32_t)t->ncols;
    }
    return t->ncols - 1;
}

static size_t col_find_or_add(struct extract_table *t, struct sl_slice name)
{
    uint64_t h = name_hash(name.p, name.len);
    size_t s = h & (t->nslots - 1);
    while (t->slots[s]) {
        struct col *c = &t->cols[t->slots[s] - 1];
        if (c->hash == h && name_eq_fold(c->name, c->name_len, name.p, name.len))
            return t->slots[s] - 1;
        s = (s + 1) & (t->nslots - 1);
    }
    return col_add(t, name.p, name.len, ROLE_DATA);
}

static uint8_t widen(uint8_t cur, uint8_t k)
{
    if (k == EXTRACT_NULL || cur == k)
        return cur;
    if (cur == EXTRACT_NULL)
        return k;
    if ((cur == EXTRACT_INT && k == EXTRACT_DOUBLE) || (cur == EXTRACT_DOUBLE && k == EXTRACT_INT))
        return EXTRACT_DOUBLE;
    return EXTRACT_STRING;
}

/* Column of one kind so far: most are (an event field keeps its type), and
 * then the kinds array is neither written nor read: a write stream less per
 * column while rows are added. */
static void col_mix(struct col *c)
{
    if (c->mixed)
        return;
    c->kinds = sl_xrealloc(c->kinds, c->cap);
    memset(c->kinds, c->uniform, c->n);
    c->mixed = true;
}

static inline uint8_t col_kind(const struct col *c, size_t r)
{
    return c->mixed ? c->kinds[r] : c->uniform;
}

/* The bytes of a string payload in `heap`. */
static inline struct sl_slice str_in(const struct sl_buf *heap, uint64_t bits)
{
    uint64_t off = bits >> 24, len = bits & STR_LONG;
    if (len == STR_LONG) {
        memcpy(&len, heap->data + off, 8);
        off += 8;
    }
    return sl_slice_make(heap->data + off, (size_t)len);
}

static inline struct sl_slice str_at(const struct extract_table *t, uint64_t bits)
{
    return str_in(&t->heap, bits);
}

/* Append a string's bytes to t's heap; returns its payload. The heap has no
 * cap: the job spills parts at --mem-max. */
static uint64_t heap_put(struct extract_table *t, const uint8_t *p, size_t len)
{
    uint64_t bits = (uint64_t)t->heap.len << 24;
    if (len < STR_LONG) {
        bits |= len;
    } else {
        uint64_t l64 = len;
        bits |= STR_LONG;
        sl_buf_append(&t->heap, &l64, 8);
    }
    sl_buf_append(&t->heap, p, len);
    return bits;
}

/* Make row r of column c writable, padding nulls for rows it was absent from. */
static void col_reserve(struct col *c, size_t r)
{
    if (c->n > r)
        return; /* duplicate field in one row: the last wins */
    if (r + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < r + 1)
            cap *= 2;
        if (c->mixed)
            c->kinds = sl_xrealloc(c->kinds, cap);
        c->vals = sl_xrealloc(c->vals, cap * sizeof *c->vals);
        c->cap = cap;
    }
    if (c->n < r) {
        if (!c->mixed && c->n == 0) {
            c->uniform = EXTRACT_NULL;
        } else {
            col_mix(c);
            memset(&c->kinds[c->n], EXTRACT_NULL, r - c->n);
        }
        c->n = r;
    }
}

static inline void col_put(struct col *c, size_t r, uint8_t kind, uint64_t bits)
{
    col_reserve(c, r);
    if (!c->mixed) {
        if (r == 0) /* rows come in order: the column's first row (or its duplicate) */
            c->uniform = kind;
        else if (kind != c->uniform)
            col_mix(c);
    }
    if (c->mixed)
        c->kinds[r] = kind;
    c->vals[r] = bits;
    if (c->n <= r)
        c->n = r + 1;
}

static struct cell col_get(const struct extract_table *t, const struct col *c, size_t r)
{
    struct cell cell = { 0 };
    if (r >= c->n)
        return cell;
    cell.kind = col_kind(c, r);
    uint64_t bits = c->vals[r];
    if (cell.kind == EXTRACT_STRING) {
        struct sl_slice str = str_at(t, bits);
        cell.v.off = (uint64_t)(str.p - t->heap.data);
        cell.len = str.len;
    } else if (cell.kind == EXTRACT_BOOL) {
        cell.v.b = bits != 0;
    } else {
        memcpy(&cell.v, &bits, 8);
    }
    return cell;
}

/* ---------------------------------------------------------------- MARK: table */

struct extract_table *extract_table_new(const char *name, bool meta)
{
    struct extract_table *t = sl_xcalloc(1, sizeof *t);
    t->name = sl_xstrdup(name);
    t->meta = meta;
    rehash(t);
    sl_buf_init(&t->heap, 0);
    if (meta) {
        col_add(t, (const uint8_t *)"_partition", 10, ROLE_PARTITION);
        col_add(t, (const uint8_t *)"_offset", 7, ROLE_OFFSET);
        col_add(t, (const uint8_t *)"_ts", 3, ROLE_TS);
    }
    return t;
}

void extract_table_free(struct extract_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ndone; i++)
        part_free(t->done[i]);
    free(t->done);
    for (size_t c = 0; c < t->ncols; c++) {
        free(t->cols[c].name);
        free(t->cols[c].kinds);
        free(t->cols[c].vals);
    }
    free(t->cols);
    free(t->slots);
    free(t->last);
    sl_buf_release(&t->heap);
    free(t->name);
    if (t->part)
        part_free(t->part);
    free(t);
}

const char *extract_table_name(const struct extract_table *t)
{
    return t->name;
}

int64_t extract_table_rows(const struct extract_table *t)
{
    return t->rows;
}

int64_t extract_table_written(const struct extract_table *t)
{
    return t->written;
}

size_t extract_table_mem(const struct extract_table *t)
{
    size_t m = t->heap.cap;
    for (size_t c = 0; c < t->ncols; c++)
        m += t->cols[c].cap * ((t->cols[c].mixed ? 1 : 0) + sizeof(uint64_t));
    return m;
}

void extract_table_add(struct extract_table *t, const struct extract_row *row,
                       int32_t partition, int64_t offset, int64_t ts_ms)
{
    size_t r = (size_t)t->rows;
    if (row->n > t->last_cap) {
        t->last_cap = row->n * 2;
        t->last = sl_xrealloc(t->last, t->last_cap * sizeof *t->last);
        memset(t->last, 0xff, t->last_cap * sizeof *t->last);
    }
    for (size_t i = 0; i < row->n; i++) {
        const struct extract_field *f = &row->f[i];
        /* Events of one kind repeat their fields in the same order, so the
         * column of field i is usually the one field i had last time. */
        size_t ci = t->last[i];
        if (ci >= t->ncols || t->cols[ci].name_len != f->name.len ||
            !sl_mem_eq(t->cols[ci].name, f->name.p, f->name.len)) {
            ci = col_find_or_add(t, f->name);
            t->last[i] = ci;
        }
        struct col *c = &t->cols[ci];
        if (c->role != ROLE_DATA)
            continue; /* the meta columns are the job's, not the record's */
        uint64_t bits = 0;
        switch (f->kind) {
        case EXTRACT_BOOL:
            bits = f->b;
            break;
        case EXTRACT_INT:
            memcpy(&bits, &f->i, 8);
            break;
        case EXTRACT_DOUBLE:
            memcpy(&bits, &f->d, 8);
            break;
        case EXTRACT_STRING: {
            size_t len = f->s.len;
            if (len > 0 && len <= RECENT_MAX_LEN) {
                int k = 0;
                for (; k < RECENT; k++)
                    if (c->recent_len[k] == len &&
                        sl_mem_eq(t->heap.data + c->recent_off[k], f->s.p, len))
                        break;
                if (k < RECENT) {
                    bits = c->recent_off[k] << 24 | len;
                    break;
                }
                unsigned slot = c->recent_next++ % RECENT;
                c->recent_off[slot] = t->heap.len;
                c->recent_len[slot] = (uint32_t)len;
            }
            bits = heap_put(t, f->s.p, len);
            break;
        }
        default:
            break;
        }
        col_put(c, r, f->kind, bits);
        c->type = widen(c->type, f->kind);
    }
    if (t->meta) {
        col_put(&t->cols[0], r, EXTRACT_INT, (uint64_t)(int64_t)partition);
        col_put(&t->cols[1], r, EXTRACT_INT, (uint64_t)offset);
        if (ts_ms >= 0)
            col_put(&t->cols[2], r, EXTRACT_INT, (uint64_t)ts_ms);
    }
    t->rows++;
}

void extract_table_trim(struct extract_table *t)
{
    if (t->rows != 0)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        struct col *col = &t->cols[c];
        free(col->kinds);
        free(col->vals);
        col->kinds = NULL;
        col->vals = NULL;
        col->n = col->cap = 0;
        col->mixed = false;
    }
    sl_buf_release(&t->heap);
    sl_buf_init(&t->heap, 0);
}

void extract_table_unify(struct extract_table *const *ts, size_t n)
{
    if (n < 2)
        return;
    /* the union and widest types, gathered in ts[0] ... */
    for (size_t k = 1; k < n; k++) {
        for (size_t c = 0; c < ts[k]->ncols; c++) {
            const struct col *src = &ts[k]->cols[c];
            size_t i = col_find_or_add(ts[0], sl_slice_make(src->name, src->name_len));
            ts[0]->cols[i].type = widen(ts[0]->cols[i].type, src->type);
        }
    }
    /* ... then handed to every other table */
    for (size_t k = 1; k < n; k++) {
        for (size_t c = 0; c < ts[0]->ncols; c++) {
            const struct col *src = &ts[0]->cols[c];
            size_t i = col_find_or_add(ts[k], sl_slice_make(src->name, src->name_len));
            ts[k]->cols[i].type = src->type;
        }
    }
}

/* ---------------------------------------------------------------- MARK: writing */

static int cmp_cols(const void *a, const void *b, void *arg)
{
    const struct extract_table *t = arg;
    const struct col *x = &t->cols[*(const size_t *)a], *y = &t->cols[*(const size_t *)b];
    if (x->role != y->role) {
        /* meta columns first, in role order; data after */
        int rx = x->role == ROLE_DATA ? 99 : x->role, ry = y->role == ROLE_DATA ? 99 : y->role;
        return rx - ry;
    }
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len < y->name_len ? -1 : x->name_len > y->name_len);
}

static enum pq_type pq_type_of(const struct col *c)
{
    if (c->role == ROLE_TS)
        return PQ_TIMESTAMP;
    switch (c->type) {
    case EXTRACT_BOOL: return PQ_BOOL;
    case EXTRACT_INT: return PQ_INT64;
    case EXTRACT_DOUBLE: return PQ_DOUBLE;
    default: return PQ_STRING; /* strings, mixed kinds, and columns of only nulls */
    }
}

/* A number or bool of a column widened to string, as JSON text. */
static size_t cell_text(const struct cell *cell, char *out, size_t cap)
{
    switch (cell->kind) {
    case EXTRACT_BOOL:
        return (size_t)snprintf(out, cap, "%s", cell->v.b ? "true" : "false");
    case EXTRACT_INT:
        return (size_t)snprintf(out, cap, "%lld", (long long)cell->v.i);
    default: {
        struct sl_buf b = { 0 };
        sl_buf_init(&b, 64);
        struct json_writer w;
        json_writer_init(&w, &b);
        json_w_double(&w, cell->v.d);
        size_t n = b.len < cap ? b.len : cap - 1;
        memcpy(out, b.data, n);
        out[n] = '\0';
        sl_buf_release(&b);
        return n;
    }
    }
}

/* Rows per pq_writer batch: a batch's slice of every column stays in cache
 * while its values go to the writer a column at a time. */
#define WRITE_BATCH 8192

/* Scratch of one part's writing, reused by every batch. */
struct put_scratch {
    struct sl_arena texts;  /* numbers of string columns, as text, for one batch */
    struct sl_slice *strs;  /* owned; WRITE_BATCH entries */
};

/* Rows [r0, r0 + n) of column c as column i of the writer; rows past c->n are null. */
static void put_column(struct pq_writer *w, size_t i, enum pq_type type,
                       const struct extract_table *t, const struct col *c, size_t r0, size_t n,
                       struct put_scratch *scratch)
{
    size_t end = r0 + n, have = c->n < end ? c->n : end;
    const uint64_t *vals = c->vals;
    size_t r = r0;
    /* the common column: values of the column's own type, no nulls */
    uint8_t own = type == PQ_DOUBLE ? EXTRACT_DOUBLE : type == PQ_STRING ? EXTRACT_STRING
                                                                           : EXTRACT_INT;
    if (type != PQ_BOOL && !c->mixed && c->uniform == own && have > r) {
        if (type == PQ_STRING) {
            for (size_t k = r; k < have; k++)
                scratch->strs[k - r] = str_at(t, vals[k]);
            pq_writer_put_strings(w, i, scratch->strs, have - r);
        } else {
            pq_writer_put_fixed64(w, i, vals + r, have - r);
        }
        r = have;
    }
    switch (type) {
    case PQ_BOOL:
        for (; r < have; r++)
            if (col_kind(c, r) == EXTRACT_NULL)
                pq_writer_put_null(w, i);
            else
                pq_writer_put_bool(w, i, vals[r] != 0);
        break;
    case PQ_INT64:
    case PQ_TIMESTAMP:
        for (; r < have; r++)
            if (col_kind(c, r) == EXTRACT_NULL)
                pq_writer_put_null(w, i);
            else
                pq_writer_put_int64(w, i, (int64_t)vals[r]);
        break;
    case PQ_DOUBLE:
        for (; r < have; r++) {
            double d;
            if (col_kind(c, r) == EXTRACT_NULL) {
                pq_writer_put_null(w, i);
                continue;
            }
            if (col_kind(c, r) == EXTRACT_INT)
                d = (double)(int64_t)vals[r];
            else
                memcpy(&d, &vals[r], 8);
            pq_writer_put_double(w, i, d);
        }
        break;
    default:
        for (; r < have; r++) {
            if (col_kind(c, r) == EXTRACT_STRING) {
                struct sl_slice str = str_at(t, vals[r]);
                pq_writer_put_string(w, i, str.p, str.len);
            } else if (col_kind(c, r) == EXTRACT_NULL) {
                pq_writer_put_null(w, i);
            } else {
                /* the writer keys repeats by address: each text gets its own bytes */
                char num[64];
                const struct cell cell = col_get(t, c, r);
                size_t len = cell_text(&cell, num, sizeof num);
                pq_writer_put_string(w, i, sl_arena_strndup(&scratch->texts, num, len), len);
            }
        }
        break;
    }
    for (; r < end; r++)
        pq_writer_put_null(w, i);
}

/*
 * A part being written: its file, its writer, and the schema it was opened
 * with (the table's columns in file order, and their types then).
 */
struct part {
    struct pq_writer *w;        /* owned */
    int fd;
    char *path;                 /* owned */
    size_t ncols;               /* table columns when it was opened */
    size_t *order;              /* owned; writer column i is table column order[i] */
    struct pq_column_def *defs; /* owned; ncols */
    uint8_t *types;             /* owned; the extract kind of each table column then */
    int64_t rows;               /* rows written to it */
    struct put_scratch scratch;
    /* int64 values it holds as doubles (a double column's integers), so a
     * reload gives them back as int64: they are written as "5", not "5.0",
     * if the column turns to text later, and keep all 64 bits */
    struct int_note { size_t col, row; int64_t v; } *notes; /* owned */
    size_t nnotes, notes_cap;
};

static void part_free(struct part *p)
{
    pq_writer_free(p->w);
    if (p->fd >= 0)
        close(p->fd);
    free(p->path);
    free(p->order);
    free(p->defs);
    free(p->types);
    sl_arena_release(&p->scratch.texts);
    free(p->scratch.strs);
    free(p->notes);
    free(p);
}

/* Create the part file at path for t's columns as they are now. */
static struct part *part_open(const struct extract_table *t, const char *path,
                              struct sl_error *err)
{
    struct part *p = sl_xcalloc(1, sizeof *p);
    size_t n = t->ncols;
    p->fd = -1;
    p->path = sl_xstrdup(path);
    p->ncols = n;
    p->order = sl_xmalloc(n * sizeof *p->order);
    for (size_t i = 0; i < n; i++)
        p->order[i] = i;
    qsort_r(p->order, n, sizeof *p->order, cmp_cols, (void *)t);
    p->defs = sl_xcalloc(n, sizeof *p->defs);
    p->types = sl_xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        const struct col *c = &t->cols[p->order[i]];
        p->defs[i].name = c->name;
        p->defs[i].type = pq_type_of(c);
        p->defs[i].unit = PQ_MILLIS;
        p->types[i] = t->cols[i].type;
    }
    sl_arena_init(&p->scratch.texts, 0);
    p->scratch.strs = sl_xmalloc(WRITE_BATCH * sizeof *p->scratch.strs);
    p->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (p->fd < 0) {
        sl_fail_errno(err, SL_EIO, "cannot create part file '%s'", path);
        part_free(p);
        return NULL;
    }
    struct pq_kv kv[] = { { "sluice.extract.table", t->name } };
    struct pq_writer_opts opts = { 0 };
    opts.kv = kv;
    opts.nkv = 1;
    /* A smaller dictionary cap than the writer's default: event columns are
     * either low-cardinality (event_type, Host: a few entries) or nearly
     * unique (ids, times), and for the latter a 1 MiB dictionary only means
     * a bigger hash table to miss in before falling back to PLAIN. Measured
     * on 1 M events: 2.3 s -> 1.2 s of CPU, same file size. */
    opts.dict_max_bytes = EXTRACT_DICT_MAX_BYTES;
    opts.row_group_rows = EXTRACT_ROW_GROUP_ROWS;
    p->w = pq_writer_open_fd(p->fd, path, p->defs, n, &opts, err);
    if (!p->w) {
        part_free(p);
        return NULL;
    }
    return p;
}

/* Note the int64 values of t's double columns that are about to go into
 * the part, in case part_reload() or extract_table_settle() has to give
 * them back. */
static void part_note_ints(struct part *p, const struct extract_table *t)
{
    for (size_t c = 0; c < t->ncols; c++) {
        const struct col *col = &t->cols[c];
        if (col->type != EXTRACT_DOUBLE || (!col->mixed && col->uniform != EXTRACT_INT))
            continue;
        for (size_t r = 0; r < col->n; r++) {
            if (col_kind(col, r) != EXTRACT_INT)
                continue;
            if (p->nnotes == p->notes_cap) {
                p->notes_cap = p->notes_cap ? p->notes_cap * 2 : 64;
                p->notes = sl_xrealloc(p->notes, p->notes_cap * sizeof *p->notes);
            }
            p->notes[p->nnotes++] =
                (struct int_note){ c, (size_t)p->rows + r, (int64_t)col->vals[r] };
        }
    }
}

/* Write t's buffered rows to the part, then clear them. */
static int part_put_rows(struct part *p, struct extract_table *t, struct sl_error *err)
{
    int rc = SL_OK;
    for (size_t r0 = 0, nb = 0; r0 < (size_t)t->rows && rc == SL_OK; r0 += nb) {
        size_t left = (size_t)t->rows - r0;
        rc = pq_writer_batch_begin(p->w, left < WRITE_BATCH ? left : WRITE_BATCH, &nb, err);
        for (size_t i = 0; i < p->ncols && rc == SL_OK; i++)
            put_column(p->w, i, p->defs[i].type, t, &t->cols[p->order[i]], r0, nb, &p->scratch);
        if (rc == SL_OK)
            rc = pq_writer_batch_end(p->w, err);
        sl_arena_clear(&p->scratch.texts);
        p->rows += (int64_t)nb;
        /* start writing back the row groups written so far, so that the
         * fsync at the end waits for the last one only (advice: that fsync
         * reports any write error) */
        if (rc == SL_OK && p->rows % EXTRACT_ROW_GROUP_ROWS == 0)
            (void)sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    }
    if (rc != SL_OK)
        return rc;
    t->written += t->rows;
    t->rows = 0;
    sl_buf_reset(&t->heap);
    for (size_t c = 0; c < t->ncols; c++) {
        t->cols[c].n = 0;
        t->cols[c].mixed = false;
        memset(t->cols[c].recent_len, 0, sizeof t->cols[c].recent_len);
    }
    return SL_OK;
}

/* Finish the part: footer, fsync, close (p keeps its schema and notes). */
static int part_close(struct part *p, struct sl_error *err)
{
    int rc = pq_writer_finish(p->w, err);
    pq_writer_free(p->w);
    p->w = NULL;
    if (rc == SL_OK && fsync(p->fd) != 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot fsync part file '%s'", p->path);
    if (close(p->fd) != 0 && rc == SL_OK)
        rc = sl_fail_errno(err, SL_EIO, "cannot close part file '%s'", p->path);
    p->fd = -1;
    sl_arena_release(&p->scratch.texts);
    free(p->scratch.strs);
    p->scratch.strs = NULL;
    return rc;
}

/*
 * Whether every buffered value is of its column's type (or null, or an
 * int64 in a double column, which the part notes): then reading a part
 * back gives each value its own kind again (a number that a later string
 * turns into text must still be that number when the text is made).
 */
static bool rows_pure(const struct extract_table *t)
{
    for (size_t c = 0; c < t->ncols; c++) {
        const struct col *col = &t->cols[c];
        bool dbl = col->type == EXTRACT_DOUBLE;
        if (!col->mixed) {
            uint8_t k = col->uniform;
            if (col->n > 0 && k != col->type && k != EXTRACT_NULL && !(dbl && k == EXTRACT_INT))
                return false;
            continue;
        }
        for (size_t r = 0; r < col->n; r++) {
            uint8_t k = col->kinds[r];
            if (k != col->type && k != EXTRACT_NULL && !(dbl && k == EXTRACT_INT))
                return false;
        }
    }
    return true;
}

/* Whether t's buffered rows can go on into its open part: the columns and
 * their types it began with, and pure rows. */
static bool part_fits(const struct part *p, const struct extract_table *t)
{
    if (t->ncols != p->ncols)
        return false;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].type != p->types[c])
            return false;
    return rows_pure(t);
}

/*
 * Read the rows of part p (file f) into t's buffers, from row 0: each value
 * with the kind of its column in p, int64s noted in double columns as int64.
 * t's columns must be indexed as when p was opened (columns are only ever
 * appended).
 */
static int part_load(struct extract_table *t, const struct part *p, const struct pq_file *f,
                     struct sl_error *err)
{
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < p->ncols; i++) {
        size_t ci = p->order[i];
        struct col *c = &t->cols[ci];
        uint8_t kind = p->types[ci];
        size_t r = 0, note = 0; /* notes of a column come in row order */
        for (size_t g = 0; rc == SL_OK && g < f->nrow_groups; g++) {
            struct pq_column_reader *cr = pq_column_reader_new(f, g, i, err);
            if (!cr) {
                rc = err && err->code ? err->code : SL_ECORRUPT;
                break;
            }
            struct pq_batch b;
            int64_t got;
            while ((got = pq_column_reader_read(cr, WRITE_BATCH, &b, err)) > 0) {
                for (size_t k = 0; k < b.n; k++, r++) {
                    if (!b.valid[k])
                        continue; /* rows a column has no value for are null */
                    uint64_t bits = 0;
                    if (kind == EXTRACT_STRING) {
                        bits = heap_put(t, b.str[k].p, b.str[k].len);
                    } else if (kind == EXTRACT_DOUBLE) {
                        while (note < p->nnotes &&
                               (p->notes[note].col != ci || p->notes[note].row < r))
                            note++;
                        if (note < p->nnotes && p->notes[note].row == r) {
                            col_put(c, r, EXTRACT_INT, (uint64_t)p->notes[note].v);
                            continue;
                        }
                        memcpy(&bits, &b.f64[k], 8);
                    } else if (kind == EXTRACT_BOOL) {
                        bits = b.b[k];
                    } else {
                        bits = (uint64_t)b.i64[k];
                    }
                    col_put(c, r, kind, bits);
                }
            }
            if (got < 0)
                rc = (int)got;
            pq_column_reader_free(cr);
        }
    }
    return rc;
}

/*
 * Take back the rows of t's open part: read them from the file into fresh
 * buffers, append the rows buffered since, and remove the file. The table
 * is then as if it had never streamed (part_fits() made sure each value
 * comes back with its own kind).
 */
static int part_reload(struct extract_table *t, struct sl_error *err)
{
    struct part *p = t->part;
    t->part = NULL;
    int rc = pq_writer_finish(p->w, err);
    struct pq_file *f = rc == SL_OK ? pq_file_open(p->path, err) : NULL;
    if (!f) {
        part_free(p);
        return err && err->code ? err->code : SL_EIO;
    }
    /* the rows buffered since the part was last written, set aside */
    size_t nc = t->ncols, since = (size_t)t->rows;
    struct col *kept = sl_xmalloc((nc ? nc : 1) * sizeof *kept);
    memcpy(kept, t->cols, nc * sizeof *kept);
    struct sl_buf kept_heap = t->heap;
    sl_buf_init(&t->heap, 0);
    for (size_t c = 0; c < nc; c++) {
        t->cols[c].kinds = NULL;
        t->cols[c].vals = NULL;
        t->cols[c].n = t->cols[c].cap = 0;
        t->cols[c].mixed = false;
        memset(t->cols[c].recent_len, 0, sizeof t->cols[c].recent_len);
    }
    size_t base = (size_t)p->rows;
    rc = part_load(t, p, f, err);
    /* then the rows buffered since, after them */
    for (size_t ci = 0; rc == SL_OK && ci < nc; ci++) {
        const struct col *from = &kept[ci];
        for (size_t r = 0; r < from->n; r++) {
            uint8_t kind = from->mixed ? from->kinds[r] : from->uniform;
            uint64_t bits = from->vals[r];
            if (kind == EXTRACT_NULL)
                continue;
            if (kind == EXTRACT_STRING) {
                struct sl_slice str = str_in(&kept_heap, bits);
                bits = heap_put(t, str.p, str.len);
            }
            col_put(&t->cols[ci], base + r, kind, bits);
        }
    }
    for (size_t c = 0; c < nc; c++) {
        free(kept[c].kinds);
        free(kept[c].vals);
    }
    free(kept);
    sl_buf_release(&kept_heap);
    pq_file_free(f);
    unlink(p->path);
    part_free(p);
    if (rc != SL_OK)
        return rc;
    t->rows = (int64_t)(base + since);
    t->written -= (int64_t)base;
    return SL_OK;
}

int extract_table_stream(struct extract_table *t, const char *path, struct sl_error *err)
{
    if (t->rows == 0 || t->no_stream)
        return SL_OK;
    if (t->part && !part_fits(t->part, t)) {
        t->no_stream = true;
        return part_reload(t, err);
    }
    if (!t->part) {
        if (!rows_pure(t)) { /* a column of mixed kinds already: buffer */
            t->no_stream = true;
            return SL_OK;
        }
        t->part = part_open(t, path, err);
        if (!t->part)
            return err && err->code ? err->code : SL_EIO;
    }
    /* only a part that stays open can be taken back */
    part_note_ints(t->part, t);
    return part_put_rows(t->part, t, err);
}

bool extract_table_streaming(const struct extract_table *t)
{
    return t->part != NULL;
}

bool extract_table_may_stream(const struct extract_table *t)
{
    return !t->no_stream;
}

int extract_table_write(struct extract_table *t, const char *path, struct sl_error *err)
{
    int rc = SL_OK;
    if (t->part && !part_fits(t->part, t))
        rc = part_reload(t, err);
    if (rc == SL_OK && !t->part && t->rows > 0) {
        t->part = part_open(t, path, err);
        if (!t->part)
            rc = err && err->code ? err->code : SL_EIO;
    }
    if (rc != SL_OK || !t->part)
        return rc;
    struct part *p = t->part;
    t->part = NULL;
    part_note_ints(p, t);
    rc = part_put_rows(p, t, err);
    if (rc == SL_OK)
        rc = part_close(p, err);
    if (rc != SL_OK) {
        part_free(p);
        return rc;
    }
    if (t->ndone == t->done_cap) {
        t->done_cap = t->done_cap ? t->done_cap * 2 : 8;
        t->done = sl_xrealloc(t->done, t->done_cap * sizeof *t->done);
    }
    t->done[t->ndone++] = p;
    return SL_OK;
}

/* Whether part p was written with t's columns and types as they are now. */
static bool part_current(const struct part *p, const struct extract_table *t)
{
    if (p->ncols != t->ncols)
        return false;
    for (size_t c = 0; c < t->ncols; c++)
        if (p->types[c] != t->cols[c].type)
            return false;
    return true;
}

/* Write part p again with t's columns and types: its rows are read into a
 * table of t's schema, written beside it, and renamed over it. */
static int part_rewrite(const struct extract_table *t, const struct part *p, struct sl_error *err)
{
    struct pq_file *f = pq_file_open(p->path, err);
    if (!f)
        return err && err->code ? err->code : SL_EIO;
    /* the same column indexes as t (meta columns first, then in t's order) */
    struct extract_table *tmp = extract_table_new(t->name, t->meta);
    for (size_t c = tmp->ncols; c < t->ncols; c++)
        col_add(tmp, (const uint8_t *)t->cols[c].name, t->cols[c].name_len, ROLE_DATA);
    for (size_t c = 0; c < t->ncols; c++)
        tmp->cols[c].type = t->cols[c].type;
    int rc = part_load(tmp, p, f, err);
    pq_file_free(f);
    tmp->rows = p->rows;
    size_t n = strlen(p->path) + 8;
    char *path = sl_xmalloc(n);
    snprintf(path, n, "%s.tmp", p->path);
    if (rc == SL_OK)
        rc = extract_table_write(tmp, path, err);
    if (rc == SL_OK && rename(path, p->path) != 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot rename '%s' to '%s'", path, p->path);
    if (rc != SL_OK)
        unlink(path);
    free(path);
    extract_table_free(tmp);
    return rc;
}

int extract_table_settle(struct extract_table *t, struct sl_error *err)
{
    int rc = SL_OK;
    for (size_t i = 0; i < t->ndone; i++) {
        if (rc == SL_OK && !part_current(t->done[i], t))
            rc = part_rewrite(t, t->done[i], err);
        part_free(t->done[i]);
    }
    t->ndone = 0;
    return rc;
}
