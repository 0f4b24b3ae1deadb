/*
 * file.c: opening a Parquet file for `sluice sql` and `sluice parquet`: map
 * it, find the footer (design/parquet.md §1), decode FileMetaData (§3) into
 * struct pq_file, and derive each leaf column's sluice type from its physical
 * type and annotations (§8). Every count and offset from the footer is
 * checked against the file before use: a bad file fails with a message that
 * names it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "parquet/pq_int.h"

/* A SchemaElement as decoded, before it becomes a column. */
struct sel {
    int type;          /* -1: absent (a group) */
    int type_length;
    int repetition;    /* -1: absent */
    struct sl_slice name;
    bool has_name;
    int num_children;  /* -1: absent */
    int converted;     /* -1: absent */
    int scale, precision;
    int logical;       /* LogicalType member id, 0: absent */
    bool ts_utc;
    int ts_unit;       /* 1 millis, 2 micros, 3 nanos */
    int int_bits;
    bool int_signed;
};

/* Raw statistics (slices borrowed from the file). */
struct rstats {
    bool has_min, has_max, has_min_value, has_max_value, has_nulls;
    struct sl_slice min, max, min_value, max_value;
    int64_t null_count;
    bool min_exact, max_exact;
};

struct rchunk {
    struct pq_chunk c;
    struct rstats rs;
    int type;
    bool has_meta;
};

struct parse {
    struct tc_r r;
    struct pq_file *f;
    struct sl_error *err;
    struct sel *sels;
    size_t nsels;
    struct rchunk **rg_chunks; /* per row group */
    size_t *rg_nchunks;
};

/* A NUL-terminated copy of a slice (which may be empty with p == NULL). */
static char *slice_dup(struct sl_slice s)
{
    return sl_xstrndup(s.len ? (const char *)s.p : "", s.len);
}

static void sel_init(struct sel *s)
{
    memset(s, 0, sizeof *s);
    s->type = s->repetition = s->num_children = s->converted = -1;
    s->int_signed = true;
}

/* ------------------------------------------------------------ MARK: decoding */

static void read_time_unit(struct tc_r *r, int *unit)
{
    int16_t last = 0, id;
    int t;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        if (t == TC_STRUCT && id >= 1 && id <= 3)
            *unit = id;
        tc_r_skip(r, t);
    }
}

static void read_logical(struct tc_r *r, struct sel *s)
{
    int16_t last = 0, id;
    int t;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        if (t != TC_STRUCT) {
            tc_r_skip(r, t);
            continue;
        }
        s->logical = id;
        int16_t l2 = 0, id2;
        int t2;
        while ((t2 = tc_r_field(r, &l2, &id2)) != TC_STOP) {
            if ((id == 8 || id == 7) && id2 == 1 && (t2 == TC_TRUE || t2 == TC_FALSE))
                s->ts_utc = t2 == TC_TRUE;
            else if ((id == 8 || id == 7) && id2 == 2 && t2 == TC_STRUCT)
                read_time_unit(r, &s->ts_unit);
            else if (id == 5 && id2 == 1 && t2 == TC_I32)
                s->scale = tc_r_i32(r);
            else if (id == 5 && id2 == 2 && t2 == TC_I32)
                s->precision = tc_r_i32(r);
            else if (id == 10 && id2 == 1 && t2 == TC_I8)
                s->int_bits = sl_cur_i8(&r->cur);
            else if (id == 10 && id2 == 2 && (t2 == TC_TRUE || t2 == TC_FALSE))
                s->int_signed = t2 == TC_TRUE;
            else
                tc_r_skip(r, t2);
        }
    }
}

static void read_schema_element(struct tc_r *r, struct sel *s)
{
    int16_t last = 0, id;
    int t;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        switch (id) {
        case 1: s->type = (int)tc_r_int(r, t); break;
        case 2: s->type_length = (int)tc_r_int(r, t); break;
        case 3: s->repetition = (int)tc_r_int(r, t); break;
        case 4:
            if (t != TC_BINARY) {
                tc_r_skip(r, t);
                break;
            }
            s->name = tc_r_bin(r);
            s->has_name = true;
            break;
        case 5: s->num_children = (int)tc_r_int(r, t); break;
        case 6: s->converted = (int)tc_r_int(r, t); break;
        case 7: s->scale = (int)tc_r_int(r, t); break;
        case 8: s->precision = (int)tc_r_int(r, t); break;
        case 10:
            if (t == TC_STRUCT)
                read_logical(r, s);
            else
                tc_r_skip(r, t);
            break;
        default: tc_r_skip(r, t); break;
        }
    }
}

static void read_stats(struct tc_r *r, struct rstats *s)
{
    int16_t last = 0, id;
    int t;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        if (t == TC_BINARY && id >= 1 && id <= 6 && id != 3 && id != 4) {
            struct sl_slice v = tc_r_bin(r);
            switch (id) {
            case 1: s->max = v; s->has_max = true; break;
            case 2: s->min = v; s->has_min = true; break;
            case 5: s->max_value = v; s->has_max_value = true; break;
            case 6: s->min_value = v; s->has_min_value = true; break;
            }
        } else if (id == 3 && (t == TC_I64 || t == TC_I32)) {
            s->null_count = tc_r_int(r, t);
            s->has_nulls = true;
        } else if (id == 7 && (t == TC_TRUE || t == TC_FALSE)) {
            s->max_exact = t == TC_TRUE;
        } else if (id == 8 && (t == TC_TRUE || t == TC_FALSE)) {
            s->min_exact = t == TC_TRUE;
        } else {
            tc_r_skip(r, t);
        }
    }
}

static void read_column_meta(struct parse *p, struct rchunk *rc)
{
    struct tc_r *r = &p->r;
    int16_t last = 0, id;
    int t;
    rc->has_meta = true;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        switch (id) {
        case 1: rc->type = (int)tc_r_int(r, t); break;
        case 2: {
            if (t != TC_LIST) {
                tc_r_skip(r, t);
                break;
            }
            int et;
            size_t n = tc_r_list(r, &et);
            for (size_t i = 0; i < n && !r->cur.failed; i++) {
                int64_t e = tc_r_int(r, et);
                if (e >= 0 && e < 32)
                    rc->c.encodings |= 1u << e;
            }
            break;
        }
        case 3: {
            if (t != TC_LIST) {
                tc_r_skip(r, t);
                break;
            }
            int et;
            size_t n = tc_r_list(r, &et);
            for (size_t i = 0; i < n && !r->cur.failed; i++)
                tc_r_skip(r, et);
            break;
        }
        case 4: rc->c.codec = (int)tc_r_int(r, t); break;
        case 5: rc->c.num_values = tc_r_int(r, t); break;
        case 6: rc->c.uncompressed_size = tc_r_int(r, t); break;
        case 7: rc->c.compressed_size = tc_r_int(r, t); break;
        case 9: rc->c.data_page_offset = tc_r_int(r, t); break;
        case 11: rc->c.dictionary_page_offset = tc_r_int(r, t); break;
        case 12:
            if (t == TC_STRUCT)
                read_stats(r, &rc->rs);
            else
                tc_r_skip(r, t);
            break;
        default: tc_r_skip(r, t); break;
        }
    }
}

static int read_row_group(struct parse *p, size_t g, struct pq_row_group *rg)
{
    struct tc_r *r = &p->r;
    int16_t last = 0, id;
    int t;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        if (id == 1 && t == TC_LIST) {
            int et;
            size_t n = tc_r_list(r, &et);
            if (et != TC_STRUCT && n > 0) {
                sl_cur_fail(&r->cur);
                break;
            }
            if (p->rg_chunks[g])
                return sl_fail(p->err, SL_ECORRUPT, "'%s': row group %zu lists columns twice",
                               p->f->name, g);
            p->rg_chunks[g] = sl_xcalloc(n ? n : 1, sizeof(struct rchunk));
            p->rg_nchunks[g] = n;
            for (size_t i = 0; i < n && !r->cur.failed; i++) {
                struct rchunk *rc = &p->rg_chunks[g][i];
                int16_t l2 = 0, id2;
                int t2;
                while ((t2 = tc_r_field(r, &l2, &id2)) != TC_STOP) {
                    if (id2 == 1 && t2 == TC_BINARY) {
                        tc_r_bin(r);
                        return sl_fail(p->err, SL_EUNSUPPORTED,
                                       "'%s': column chunks in other files are not supported",
                                       p->f->name);
                    } else if (id2 == 3 && t2 == TC_STRUCT) {
                        read_column_meta(p, rc);
                    } else if (id2 == 8 || id2 == 9) {
                        return sl_fail(p->err, SL_EUNSUPPORTED,
                                       "'%s': encrypted columns are not supported", p->f->name);
                    } else {
                        tc_r_skip(r, t2);
                    }
                }
            }
        } else if (id == 2) {
            rg->total_byte_size = tc_r_int(r, t);
        } else if (id == 3) {
            rg->num_rows = tc_r_int(r, t);
        } else if (id == 6) {
            rg->total_compressed_size = tc_r_int(r, t);
        } else {
            tc_r_skip(r, t);
        }
    }
    return SL_OK;
}

static int read_file_meta(struct parse *p)
{
    struct tc_r *r = &p->r;
    struct pq_file *f = p->f;
    int16_t last = 0, id;
    int t;
    bool have_schema = false;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        if (id == 2 && t == TC_LIST && !have_schema) {
            int et;
            size_t n = tc_r_list(r, &et);
            if (n > PQ_COLUMNS_MAX + 1)
                return sl_fail(p->err, SL_ELIMIT, "'%s': schema of %zu elements is over the cap",
                               f->name, n);
            have_schema = true;
            p->sels = sl_xcalloc(n ? n : 1, sizeof *p->sels);
            p->nsels = n;
            for (size_t i = 0; i < n && !r->cur.failed; i++) {
                sel_init(&p->sels[i]);
                if (et != TC_STRUCT)
                    sl_cur_fail(&r->cur);
                else
                    read_schema_element(r, &p->sels[i]);
            }
        } else if (id == 3) {
            f->num_rows = tc_r_int(r, t);
        } else if (id == 4 && t == TC_LIST && !f->row_groups) {
            int et;
            size_t n = tc_r_list(r, &et);
            if (et != TC_STRUCT && n > 0) {
                sl_cur_fail(&r->cur);
                break;
            }
            f->row_groups = sl_xcalloc(n ? n : 1, sizeof *f->row_groups);
            p->rg_chunks = sl_xcalloc(n ? n : 1, sizeof *p->rg_chunks);
            p->rg_nchunks = sl_xcalloc(n ? n : 1, sizeof *p->rg_nchunks);
            f->nrow_groups = n;
            for (size_t g = 0; g < n && !r->cur.failed; g++) {
                int rc = read_row_group(p, g, &f->row_groups[g]);
                if (rc != SL_OK)
                    return rc;
            }
        } else if (id == 5 && t == TC_LIST && !f->kv) {
            int et;
            size_t n = tc_r_list(r, &et);
            if (et != TC_STRUCT && n > 0) {
                sl_cur_fail(&r->cur);
                break;
            }
            f->kv = sl_xcalloc(n ? n : 1, sizeof *f->kv);
            for (size_t i = 0; i < n && !r->cur.failed; i++) {
                int16_t l2 = 0, id2;
                int t2;
                struct sl_slice k = { 0 }, v = { 0 };
                bool hv = false;
                while ((t2 = tc_r_field(r, &l2, &id2)) != TC_STOP) {
                    if (id2 == 1 && t2 == TC_BINARY)
                        k = tc_r_bin(r);
                    else if (id2 == 2 && t2 == TC_BINARY)
                        v = tc_r_bin(r), hv = true;
                    else
                        tc_r_skip(r, t2);
                }
                if (r->cur.failed)
                    break;
                f->kv[i].key = slice_dup(k);
                f->kv[i].value = hv ? slice_dup(v) : NULL;
                f->nkv = i + 1;
            }
        } else if (id == 6 && t == TC_BINARY && !f->created_by) {
            struct sl_slice s = tc_r_bin(r);
            if (!r->cur.failed)
                f->created_by = slice_dup(s);
        } else if (id == 8) {
            return sl_fail(p->err, SL_EUNSUPPORTED, "'%s': encrypted files are not supported",
                           f->name);
        } else {
            tc_r_skip(r, t);
        }
    }
    if (r->cur.failed)
        return sl_fail_at(p->err, SL_ECORRUPT, r->cur.pos, "'%s': corrupt footer at byte %zu",
                          f->name, r->cur.pos);
    if (!have_schema || p->nsels < 2)
        return sl_fail(p->err, SL_ECORRUPT, "'%s': the schema has no columns", f->name);
    return SL_OK;
}

/* ------------------------------------------------------------ MARK: columns */

static int derive_column(struct pq_file *f, const struct sel *s, struct pq_column *col)
{
    col->name = slice_dup(s->name);
    col->physical = s->type;
    col->converted = s->converted;
    col->type_length = s->type_length;
    col->required = s->repetition == 0;
    col->scale = s->scale;
    col->precision = s->precision;
    if (s->repetition == 2)
        return sl_fail(NULL, SL_EUNSUPPORTED, "x");
    bool decimal = s->converted == 5 || s->logical == 5;
    switch (s->type) {
    case PQ_T_BOOLEAN:
        col->type = PQ_BOOL;
        break;
    case PQ_T_INT32:
        if (decimal)
            col->type = PQ_DOUBLE;
        else if (s->converted == 6 || s->logical == 6)
            col->type = PQ_DATE;
        else
            col->type = PQ_INT64;
        break;
    case PQ_T_INT64:
        if (decimal) {
            col->type = PQ_DOUBLE;
        } else if (s->converted == 9 || s->converted == 10 || s->logical == 8) {
            col->type = PQ_TIMESTAMP;
            col->unit = s->logical == 8 && s->ts_unit ? (enum pq_time_unit)s->ts_unit
                        : s->converted == 9             ? PQ_MILLIS
                                                        : PQ_MICROS;
            col->utc = s->logical == 8 ? s->ts_utc : true;
        } else {
            col->type = PQ_INT64;
        }
        break;
    case PQ_T_INT96:
        col->type = PQ_TIMESTAMP;
        col->unit = PQ_NANOS;
        col->utc = true;
        break;
    case PQ_T_FLOAT:
    case PQ_T_DOUBLE:
        col->type = PQ_DOUBLE;
        break;
    case PQ_T_BYTE_ARRAY:
    case PQ_T_FIXED:
        if (decimal && (s->type == PQ_T_BYTE_ARRAY || s->type_length <= 16)) {
            col->type = PQ_DOUBLE;
        } else {
            col->type = PQ_STRING;
            col->is_utf8 = s->converted == 0 || s->converted == 4 || s->converted == 19 ||
                           s->logical == 1 || s->logical == 4 || s->logical == 12;
        }
        if (s->type == PQ_T_FIXED && (s->type_length <= 0 || s->type_length > (1 << 20)))
            return sl_fail(NULL, SL_ECORRUPT, "x");
        break;
    default:
        return sl_fail(NULL, SL_ECORRUPT, "x");
    }
    (void)f;
    return SL_OK;
}

static double pow10i(int e)
{
    double d = 1;
    for (int i = 0; i < e && i < 64; i++)
        d *= 10;
    return d;
}

/* Big-endian two's complement bytes (DECIMAL in BYTE_ARRAY/FIXED) as double. */
double pq_decimal_be(const uint8_t *p, size_t n, int scale);
double pq_decimal_be(const uint8_t *p, size_t n, int scale)
{
    if (n == 0)
        return 0;
    bool neg = p[0] & 0x80;
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 256 + (neg ? (uint8_t)~p[i] : p[i]);
    if (neg)
        v = -(v + 1);
    return v / pow10i(scale);
}

/* One min or max statistic, decoded to the column's type; false if unusable. */
static bool stat_value(const struct pq_column *col, struct sl_slice s, struct pq_value *v)
{
    memset(v, 0, sizeof *v);
    int64_t i64;
    int32_t i32;
    switch (col->physical) {
    case PQ_T_BOOLEAN:
        if (s.len != 1)
            return false;
        v->b = s.p[0] != 0;
        return true;
    case PQ_T_INT32:
        if (s.len != 4)
            return false;
        memcpy(&i32, s.p, 4);
        if (col->type == PQ_DOUBLE)
            v->d = i32 / pow10i(col->scale);
        else if (col->converted >= 11 && col->converted <= 13)
            v->i = (uint32_t)i32;
        else
            v->i = i32;
        return true;
    case PQ_T_INT64:
        if (s.len != 8)
            return false;
        memcpy(&i64, s.p, 8);
        if (col->type == PQ_DOUBLE)
            v->d = (double)i64 / pow10i(col->scale);
        else if (col->converted == 14 && i64 < 0)
            return false; /* UINT_64 beyond int64 */
        else
            v->i = i64;
        return true;
    case PQ_T_FLOAT: {
        float fl;
        if (s.len != 4)
            return false;
        memcpy(&fl, s.p, 4);
        v->d = fl;
        return !isnan(v->d);
    }
    case PQ_T_DOUBLE:
        if (s.len != 8)
            return false;
        memcpy(&v->d, s.p, 8);
        return !isnan(v->d);
    case PQ_T_BYTE_ARRAY:
    case PQ_T_FIXED:
        if (col->type == PQ_DOUBLE)
            return false;
        v->s = s;
        return true;
    default:
        return false;
    }
}

static void convert_stats(const struct pq_column *col, const struct rstats *rs,
                          struct pq_stats *st)
{
    st->has_null_count = rs->has_nulls && rs->null_count >= 0;
    st->null_count = st->has_null_count ? rs->null_count : 0;
    struct sl_slice mn, mx;
    bool exact_min = true, exact_max = true;
    if (rs->has_min_value && rs->has_max_value) {
        mn = rs->min_value;
        mx = rs->max_value;
        /* absent is_*_exact means unknown; only an explicit true is exact */
        exact_min = rs->min_exact;
        exact_max = rs->max_exact;
    } else if (rs->has_min && rs->has_max && col->type != PQ_STRING &&
               !(col->converted >= 11 && col->converted <= 14)) {
        mn = rs->min;
        mx = rs->max;
    } else {
        return;
    }
    if (stat_value(col, mn, &st->min) && stat_value(col, mx, &st->max)) {
        st->has_min_max = true;
        st->min_exact = exact_min;
        st->max_exact = exact_max;
    } else {
        memset(&st->min, 0, sizeof st->min);
        memset(&st->max, 0, sizeof st->max);
    }
}

/* ------------------------------------------------------------ MARK: open */

static int parse_file(struct pq_file *f, struct sl_error *err)
{
    if (f->size < 12)
        return sl_fail(err, SL_ECORRUPT, "'%s' is not a parquet file (%zu bytes)", f->name,
                       f->size);
    if (memcmp(f->data, "PAR1", 4) != 0 || memcmp(f->data + f->size - 4, "PAR1", 4) != 0)
        return sl_fail(err, SL_ECORRUPT, "'%s' is not a parquet file (no PAR1 magic)", f->name);
    uint32_t len;
    memcpy(&len, f->data + f->size - 8, 4);
    if (len == 0 || len > f->size - 12)
        return sl_fail(err, SL_ECORRUPT, "'%s': footer length %u does not fit the file", f->name,
                       len);
    if (len > PQ_FOOTER_MAX)
        return sl_fail(err, SL_ELIMIT, "'%s': footer of %u bytes is over the cap", f->name, len);
    size_t footer_at = f->size - 8 - len;
    struct parse p;
    memset(&p, 0, sizeof p);
    p.f = f;
    p.err = err;
    p.r.cur = sl_cur_make(sl_slice_make(f->data + footer_at, len));
    int rc = read_file_meta(&p);
    if (rc == SL_OK) {
        /* Flat schemas only: root, then leaves. */
        const struct sel *root = &p.sels[0];
        if (root->num_children != (int)(p.nsels - 1)) {
            rc = sl_fail(err, SL_EUNSUPPORTED,
                         "'%s': nested schemas are not supported (root has %d children of %zu)",
                         f->name, root->num_children, p.nsels - 1);
        }
        f->ncols = 0;
        f->cols = sl_xcalloc(p.nsels, sizeof *f->cols);
        for (size_t i = 1; i < p.nsels && rc == SL_OK; i++) {
            const struct sel *s = &p.sels[i];
            if (s->num_children > 0 || s->type < 0) {
                rc = sl_fail(err, SL_EUNSUPPORTED, "'%s': nested column '%.*s' is not supported",
                             f->name, (int)s->name.len,
                             s->name.len ? (const char *)s->name.p : "");
                break;
            }
            if (!s->has_name || s->name.len > PQ_NAME_MAX) {
                rc = sl_fail(err, SL_ECORRUPT, "'%s': column %zu has no usable name", f->name, i);
                break;
            }
            f->ncols = i;
            if (derive_column(f, s, &f->cols[i - 1]) != SL_OK) {
                rc = sl_fail(err, s->repetition == 2 ? SL_EUNSUPPORTED : SL_ECORRUPT,
                             "'%s': column '%s' has an unsupported type or repetition", f->name,
                             f->cols[i - 1].name);
                break;
            }
        }
    }
    size_t data_end = footer_at;
    for (size_t g = 0; g < f->nrow_groups && rc == SL_OK; g++) {
        struct pq_row_group *rg = &f->row_groups[g];
        if (p.rg_nchunks[g] != f->ncols) {
            rc = sl_fail(err, SL_ECORRUPT, "'%s': row group %zu has %zu columns, the schema %zu",
                         f->name, g, p.rg_nchunks[g], f->ncols);
            break;
        }
        if (rg->num_rows < 0) {
            rc = sl_fail(err, SL_ECORRUPT, "'%s': row group %zu has %lld rows", f->name, g,
                         (long long)rg->num_rows);
            break;
        }
        rg->chunks = sl_xcalloc(f->ncols ? f->ncols : 1, sizeof *rg->chunks);
        for (size_t i = 0; i < f->ncols; i++) {
            struct rchunk *rc_ = &p.rg_chunks[g][i];
            struct pq_chunk *c = &rg->chunks[i];
            *c = rc_->c;
            int64_t start = c->data_page_offset;
            if (c->dictionary_page_offset > 0 && c->dictionary_page_offset < start)
                start = c->dictionary_page_offset;
            c->offset = start;
            if (!rc_->has_meta || rc_->type != f->cols[i].physical || start < 4 ||
                c->compressed_size <= 0 || (uint64_t)start > data_end ||
                (uint64_t)c->compressed_size > data_end - (uint64_t)start || c->num_values < 0) {
                rc = sl_fail(err, SL_ECORRUPT,
                             "'%s': column chunk '%s' of row group %zu lies outside the data",
                             f->name, f->cols[i].name, g);
                break;
            }
            convert_stats(&f->cols[i], &rc_->rs, &c->stats);
        }
    }
    free(p.sels);
    for (size_t g = 0; g < f->nrow_groups; g++)
        free(p.rg_chunks ? p.rg_chunks[g] : NULL);
    free(p.rg_chunks);
    free(p.rg_nchunks);
    return rc;
}

struct pq_file *pq_file_open_mem(const void *p, size_t len, const char *name,
                                 struct sl_error *err)
{
    struct pq_file *f = sl_xcalloc(1, sizeof *f);
    f->name = sl_xstrdup(name ? name : "(memory)");
    f->data = p;
    f->size = len;
    if (parse_file(f, err) != SL_OK) {
        pq_file_free(f);
        return NULL;
    }
    return f;
}

struct pq_file *pq_file_open(const char *path, struct sl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl_fail_errno(err, SL_EIO, "cannot open '%s'", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        sl_fail_errno(err, SL_EIO, "cannot stat '%s'", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 12) {
        close(fd);
        sl_fail(err, SL_ECORRUPT, "'%s' is not a parquet file (%s)", path,
                S_ISREG(st.st_mode) ? "too short" : "not a regular file");
        return NULL;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        sl_fail_errno(err, SL_EIO, "cannot map '%s'", path);
        return NULL;
    }
    struct pq_file *f = sl_xcalloc(1, sizeof *f);
    f->name = sl_xstrdup(path);
    f->data = m;
    f->size = (size_t)st.st_size;
    f->mapped = true;
    if (parse_file(f, err) != SL_OK) {
        pq_file_free(f);
        return NULL;
    }
    return f;
}

void pq_file_free(struct pq_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ncols; i++)
        free(f->cols[i].name);
    free(f->cols);
    for (size_t g = 0; g < f->nrow_groups; g++)
        free(f->row_groups[g].chunks);
    free(f->row_groups);
    for (size_t i = 0; i < f->nkv; i++) {
        free((char *)f->kv[i].key);
        free((char *)f->kv[i].value);
    }
    free(f->kv);
    free(f->created_by);
    if (f->mapped)
        munmap((void *)f->data, f->size);
    free(f->name);
    free(f);
}

int pq_file_column_index(const struct pq_file *f, const char *name)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return (int)i;
    for (size_t i = 0; i < f->ncols; i++)
        if (strcasecmp(f->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}
