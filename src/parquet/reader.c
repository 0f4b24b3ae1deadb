/*
 * reader.c: reading column chunks for `sluice sql` (contract in pq.h).
 *
 * A column reader walks the pages of one chunk (design/parquet.md §1 step 4):
 * the dictionary page, if any, is decoded once into typed arrays; each data
 * page (v1 or v2) is decompressed, its definition levels decoded into
 * r->defs and its non-null values into typed page arrays (r->pv). A read
 * then scatters levels and values into the caller's batch, row-aligned,
 * crossing page boundaries as needed.
 *
 * Lifetimes: string slices point into the file map (uncompressed PLAIN
 * pages), the dictionary buffer (lives for the chunk) or a page buffer. Page
 * buffers come from r->pool: a read may load several pages, so every buffer
 * a batch may point into stays untouched until the next read, when all but
 * the current page's buffer are recycled.
 *
 * Caps: a page is at most PQ_PAGE_MAX bytes either side of the codec and at
 * most PQ_PAGE_VALUES_MAX level entries; every count is checked against the
 * bytes that must hold it before anything is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "parquet/pq_int.h"

#define PQ_PAGE_VALUES_MAX (4u << 20) /* level entries per page */
#define PQ_JULIAN_EPOCH 2440588       /* Julian day of 1970-01-01 */

/* Where a decoded page keeps its values (saves a copy per value). */
enum { PM_ARR, PM_DICT, PM_RAW };

double pq_decimal_be(const uint8_t *p, size_t n, int scale);

/* Typed value arrays (one of them is used, by the column's pq_type). */
struct vals {
    int64_t *i;
    double *d;
    uint8_t *b;
    struct sl_slice *s;
    size_t cap;
};

struct pool_buf {
    struct sl_buf page;  /* decompressed page */
    struct sl_buf extra; /* materialised strings (DELTA_BYTE_ARRAY, decimals) */
};

struct pq_column_reader {
    const struct pq_file *f;  /* borrowed */
    const struct pq_column *c; /* borrowed from f */
    const struct pq_chunk *ch; /* borrowed from f */
    size_t rg, col;
    struct sl_cur pages;      /* the chunk's bytes in the file */
    int64_t rows_left;        /* rows not yet returned */
    bool seen_data;           /* a data page was read (a dictionary must come first) */
    struct pq_codec_ctx codec;

    /* dictionary */
    bool has_dict;
    size_t ndict;
    struct vals dict;
    struct sl_buf dict_buf;   /* decompressed dictionary page */
    struct sl_buf dict_extra;

    /* current page */
    size_t page_rows, page_pos, page_nulls, val_pos;
    uint8_t *defs;            /* owned; page_rows entries */
    size_t defs_cap;
    uint32_t *u32;            /* owned scratch for levels and indices */
    size_t u32_cap;
    int64_t *i64tmp;          /* owned scratch for delta-encoded lengths */
    size_t i64tmp_cap;
    struct vals pv;           /* owned; the page's non-null values (PM_ARR) */
    int pmode;                /* where the page's values are: PM_ARR, PM_DICT, PM_RAW */
    uint32_t *pidx;           /* owned; PM_DICT: dictionary index per value */
    size_t pidx_cap;
    const uint8_t *praw;      /* PM_RAW: 8-byte little-endian values in the page */

    /* page buffers */
    struct pool_buf *pool;    /* owned */
    size_t npool, pool_used, cur_buf;

    /* batch */
    uint8_t *bvalid;
    struct vals bv;
    size_t bcap;
};

static int fail_page(struct pq_column_reader *r, struct sl_error *err, int code, const char *what)
{
    return sl_fail(err, code, "'%s': column '%s' of row group %zu: %s", r->f->name, r->c->name,
                   r->rg, what);
}

static void vals_reserve(struct vals *v, enum pq_type type, size_t n)
{
    if (n <= v->cap)
        return;
    size_t cap = v->cap ? v->cap : 1024;
    while (cap < n)
        cap *= 2;
    switch (type) {
    case PQ_BOOL: v->b = sl_xrealloc(v->b, cap); break;
    case PQ_DOUBLE: v->d = sl_xrealloc(v->d, cap * sizeof *v->d); break;
    case PQ_STRING: v->s = sl_xrealloc(v->s, cap * sizeof *v->s); break;
    default: v->i = sl_xrealloc(v->i, cap * sizeof *v->i); break;
    }
    v->cap = cap;
}

static void vals_free(struct vals *v)
{
    free(v->i);
    free(v->d);
    free(v->b);
    free(v->s);
}

static uint32_t *u32_scratch(struct pq_column_reader *r, size_t n)
{
    if (n > r->u32_cap) {
        r->u32_cap = n < 1024 ? 1024 : n;
        free(r->u32);
        r->u32 = sl_xmalloc(r->u32_cap * sizeof *r->u32);
    }
    return r->u32;
}

static int64_t *i64_scratch(struct pq_column_reader *r, size_t n)
{
    if (n > r->i64tmp_cap) {
        r->i64tmp_cap = n < 1024 ? 1024 : n;
        free(r->i64tmp);
        r->i64tmp = sl_xmalloc(r->i64tmp_cap * sizeof *r->i64tmp);
    }
    return r->i64tmp;
}

static struct pool_buf *pool_take(struct pq_column_reader *r)
{
    if (r->pool_used == r->npool) {
        r->pool = sl_xrealloc(r->pool, (r->npool + 1) * sizeof *r->pool);
        sl_buf_init(&r->pool[r->npool].page, PQ_PAGE_MAX);
        sl_buf_init(&r->pool[r->npool].extra, PQ_PAGE_MAX);
        r->npool++;
    }
    r->cur_buf = r->pool_used;
    return &r->pool[r->pool_used++];
}

/* ------------------------------------------------------------ MARK: values */

static double pow10d(int e)
{
    double d = 1;
    for (int i = 0; i < e && i < 64; i++)
        d *= 10;
    return d;
}

/* Decode nn PLAIN values of the column into v (reserved by the caller). */
static int decode_plain(struct pq_column_reader *r, struct sl_slice in, size_t nn, struct vals *v,
                        struct sl_buf *extra, struct sl_error *err)
{
    const struct pq_column *c = r->c;
    const uint8_t *p = in.p;
    if (nn == 0)
        return SL_OK;
    switch (c->physical) {
    case PQ_T_BOOLEAN:
        if ((nn + 7) / 8 > in.len)
            return fail_page(r, err, SL_ECORRUPT, "boolean page too short");
        for (size_t k = 0; k < nn; k++)
            v->b[k] = (p[k >> 3] >> (k & 7)) & 1;
        return SL_OK;
    case PQ_T_INT32:
        if (nn > in.len / 4)
            return fail_page(r, err, SL_ECORRUPT, "int32 page too short");
        for (size_t k = 0; k < nn; k++) {
            int32_t x;
            memcpy(&x, p + 4 * k, 4);
            if (c->type == PQ_DOUBLE)
                v->d[k] = x / pow10d(c->scale);
            else if (c->converted >= 11 && c->converted <= 13)
                v->i[k] = (uint32_t)x;
            else
                v->i[k] = x;
        }
        return SL_OK;
    case PQ_T_INT64:
        if (nn > in.len / 8)
            return fail_page(r, err, SL_ECORRUPT, "int64 page too short");
        if (c->type == PQ_DOUBLE) {
            for (size_t k = 0; k < nn; k++) {
                int64_t x;
                memcpy(&x, p + 8 * k, 8);
                v->d[k] = (double)x / pow10d(c->scale);
            }
        } else {
            memcpy(v->i, p, nn * 8);
        }
        return SL_OK;
    case PQ_T_INT96:
        if (nn > in.len / 12)
            return fail_page(r, err, SL_ECORRUPT, "int96 page too short");
        for (size_t k = 0; k < nn; k++) {
            uint64_t nanos;
            uint32_t day;
            memcpy(&nanos, p + 12 * k, 8);
            memcpy(&day, p + 12 * k + 8, 4);
            v->i[k] = (int64_t)(((uint64_t)((int64_t)day - PQ_JULIAN_EPOCH)) * 86400000000000ull +
                                nanos);
        }
        return SL_OK;
    case PQ_T_FLOAT:
        if (nn > in.len / 4)
            return fail_page(r, err, SL_ECORRUPT, "float page too short");
        for (size_t k = 0; k < nn; k++) {
            float x;
            memcpy(&x, p + 4 * k, 4);
            v->d[k] = x;
        }
        return SL_OK;
    case PQ_T_DOUBLE:
        if (nn > in.len / 8)
            return fail_page(r, err, SL_ECORRUPT, "double page too short");
        memcpy(v->d, p, nn * 8);
        return SL_OK;
    case PQ_T_BYTE_ARRAY: {
        size_t pos = 0;
        for (size_t k = 0; k < nn; k++) {
            if (in.len - pos < 4)
                return fail_page(r, err, SL_ECORRUPT, "byte array page too short");
            uint32_t len;
            memcpy(&len, p + pos, 4);
            pos += 4;
            if (len > in.len - pos)
                return fail_page(r, err, SL_ECORRUPT, "byte array value runs past its page");
            if (c->type == PQ_DOUBLE)
                v->d[k] = pq_decimal_be(p + pos, len, c->scale);
            else
                v->s[k] = sl_slice_make(p + pos, len);
            pos += len;
        }
        return SL_OK;
    }
    case PQ_T_FIXED: {
        size_t w = (size_t)c->type_length;
        if (nn > in.len / w)
            return fail_page(r, err, SL_ECORRUPT, "fixed-length page too short");
        for (size_t k = 0; k < nn; k++) {
            if (c->type == PQ_DOUBLE)
                v->d[k] = pq_decimal_be(p + k * w, w, c->scale);
            else
                v->s[k] = sl_slice_make(p + k * w, w);
        }
        return SL_OK;
    }
    default:
        (void)extra;
        return fail_page(r, err, SL_EUNSUPPORTED, "unknown physical type");
    }
}

/* Integers from DELTA_BINARY_PACKED, as the column's type. */
static int decode_delta_ints(struct pq_column_reader *r, struct sl_slice in, size_t nn,
                             struct vals *v, struct sl_error *err)
{
    const struct pq_column *c = r->c;
    if (c->physical != PQ_T_INT32 && c->physical != PQ_T_INT64)
        return fail_page(r, err, SL_ECORRUPT, "DELTA_BINARY_PACKED on a non-integer column");
    int64_t *dst = c->type == PQ_DOUBLE ? i64_scratch(r, nn) : v->i;
    size_t used;
    if (pq_delta_decode(in, dst, nn, &used) != SL_OK)
        return fail_page(r, err, SL_ECORRUPT, "corrupt DELTA_BINARY_PACKED values");
    for (size_t k = 0; k < nn; k++) {
        int64_t x = dst[k];
        if (c->physical == PQ_T_INT32)
            x = (c->converted >= 11 && c->converted <= 13) ? (int64_t)(uint32_t)x : (int32_t)x;
        if (c->type == PQ_DOUBLE)
            v->d[k] = (double)x / pow10d(c->scale);
        else
            v->i[k] = x;
    }
    return SL_OK;
}

static int decode_delta_strings(struct pq_column_reader *r, struct sl_slice in, size_t nn,
                                bool prefixed, struct vals *v, struct sl_buf *extra,
                                struct sl_error *err)
{
    if (r->c->physical != PQ_T_BYTE_ARRAY || r->c->type != PQ_STRING)
        return fail_page(r, err, SL_EUNSUPPORTED, "delta strings on a non-string column");
    int64_t *prefix = NULL;
    size_t used = 0;
    if (prefixed) {
        prefix = sl_xmalloc((nn ? nn : 1) * sizeof *prefix);
        if (pq_delta_decode(in, prefix, nn, &used) != SL_OK) {
            free(prefix);
            return fail_page(r, err, SL_ECORRUPT, "corrupt DELTA_BYTE_ARRAY prefix lengths");
        }
        in.p += used;
        in.len -= used;
    }
    int64_t *lens = i64_scratch(r, nn);
    int rc = SL_OK;
    if (pq_delta_decode(in, lens, nn, &used) != SL_OK) {
        rc = fail_page(r, err, SL_ECORRUPT, "corrupt delta string lengths");
        goto out;
    }
    const uint8_t *p = in.p + used;
    size_t left = in.len - used;
    size_t total = 0;
    for (size_t k = 0; k < nn; k++) {
        if (lens[k] < 0 || (uint64_t)lens[k] > left - total) {
            rc = fail_page(r, err, SL_ECORRUPT, "delta string runs past its page");
            goto out;
        }
        total += (size_t)lens[k];
    }
    if (!prefixed) {
        for (size_t k = 0; k < nn; k++) {
            v->s[k] = sl_slice_make(p, (size_t)lens[k]);
            p += lens[k];
        }
        goto out;
    }
    /* Materialise prefix + suffix; offsets first, slices after (extra may move). */
    sl_buf_reset(extra);
    size_t prev_off = 0, prev_len = 0;
    for (size_t k = 0; k < nn; k++) {
        if (prefix[k] < 0 || (uint64_t)prefix[k] > prev_len) {
            rc = fail_page(r, err, SL_ECORRUPT, "DELTA_BYTE_ARRAY prefix longer than the previous value");
            goto out;
        }
        size_t off = extra->len;
        size_t len = (size_t)prefix[k] + (size_t)lens[k];
        if (sl_buf_reserve(extra, len) != SL_OK) {
            rc = fail_page(r, err, SL_ELIMIT, "DELTA_BYTE_ARRAY values over the page cap");
            goto out;
        }
        memcpy(extra->data + off, extra->data + prev_off, (size_t)prefix[k]);
        memcpy(extra->data + off + prefix[k], p, (size_t)lens[k]);
        sl_buf_setlen(extra, off + len);
        p += lens[k];
        v->s[k] = sl_slice_make((const void *)(uintptr_t)off, len);
        prev_off = off;
        prev_len = len;
    }
    for (size_t k = 0; k < nn; k++)
        v->s[k].p = extra->data + (uintptr_t)v->s[k].p;
out:
    free(prefix);
    return rc;
}

static int decode_split(struct pq_column_reader *r, struct sl_slice in, size_t nn, struct vals *v,
                        struct sl_error *err)
{
    const struct pq_column *c = r->c;
    size_t w = c->physical == PQ_T_FLOAT || c->physical == PQ_T_INT32   ? 4
               : c->physical == PQ_T_DOUBLE || c->physical == PQ_T_INT64 ? 8
                                                                        : 0;
    if (w == 0 || nn > in.len / w)
        return fail_page(r, err, SL_ECORRUPT, "bad BYTE_STREAM_SPLIT page");
    uint8_t *tmp = sl_xmalloc(nn * w + 1);
    for (size_t k = 0; k < nn; k++)
        for (size_t b = 0; b < w; b++)
            tmp[k * w + b] = in.p[b * nn + k];
    int rc = decode_plain(r, sl_slice_make(tmp, nn * w), nn, v, NULL, err);
    free(tmp);
    return rc;
}

static int decode_values(struct pq_column_reader *r, int enc, struct sl_slice in, size_t nn,
                         struct pool_buf *pb, struct sl_error *err)
{
    struct vals *v = &r->pv;
    r->pmode = PM_ARR;
    switch (enc) {
    case PQ_ENC_PLAIN:
        if ((r->c->physical == PQ_T_INT64 && r->c->type != PQ_DOUBLE) ||
            r->c->physical == PQ_T_DOUBLE) {
            if (nn > in.len / 8)
                return fail_page(r, err, SL_ECORRUPT, "8-byte values past the page");
            r->pmode = PM_RAW;
            r->praw = in.p;
            return SL_OK;
        }
        vals_reserve(v, r->c->type, nn);
        return decode_plain(r, in, nn, v, &pb->extra, err);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        if (!r->has_dict)
            return fail_page(r, err, SL_ECORRUPT, "dictionary-encoded page without a dictionary");
        if (nn == 0)
            return SL_OK;
        if (in.len < 1 || in.p[0] > 32)
            return fail_page(r, err, SL_ECORRUPT, "bad dictionary index bit width");
        if (nn > r->pidx_cap) {
            r->pidx_cap = nn < 1024 ? 1024 : nn;
            free(r->pidx);
            r->pidx = sl_xmalloc(r->pidx_cap * sizeof *r->pidx);
        }
        uint32_t *idx = r->pidx;
        if (pq_rle_decode(sl_slice_make(in.p + 1, in.len - 1), in.p[0], idx, nn) != SL_OK)
            return fail_page(r, err, SL_ECORRUPT, "corrupt dictionary indices");
        uint32_t nd = (uint32_t)r->ndict, bad = 0;
        for (size_t k = 0; k < nn; k++)
            bad |= idx[k] >= nd;
        if (bad)
            return fail_page(r, err, SL_ECORRUPT, "dictionary index out of range");
        r->pmode = PM_DICT;
        return SL_OK;
    }
    case PQ_ENC_RLE: {
        vals_reserve(v, r->c->type, nn);
        if (r->c->physical != PQ_T_BOOLEAN)
            return fail_page(r, err, SL_EUNSUPPORTED, "RLE values on a non-boolean column");
        if (in.len < 4)
            return fail_page(r, err, SL_ECORRUPT, "RLE boolean page too short");
        uint32_t len;
        memcpy(&len, in.p, 4);
        if (len > in.len - 4)
            return fail_page(r, err, SL_ECORRUPT, "RLE boolean length past the page");
        uint32_t *tmp = u32_scratch(r, nn);
        if (pq_rle_decode(sl_slice_make(in.p + 4, len), 1, tmp, nn) != SL_OK)
            return fail_page(r, err, SL_ECORRUPT, "corrupt RLE booleans");
        for (size_t k = 0; k < nn; k++)
            v->b[k] = (uint8_t)tmp[k];
        return SL_OK;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        vals_reserve(v, r->c->type, nn);
        return decode_delta_ints(r, in, nn, v, err);
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        vals_reserve(v, r->c->type, nn);
        return decode_delta_strings(r, in, nn, false, v, &pb->extra, err);
    case PQ_ENC_DELTA_BYTE_ARRAY:
        vals_reserve(v, r->c->type, nn);
        return decode_delta_strings(r, in, nn, true, v, &pb->extra, err);
    case PQ_ENC_BYTE_STREAM_SPLIT:
        vals_reserve(v, r->c->type, nn);
        return decode_split(r, in, nn, v, err);
    default:
        return fail_page(r, err, SL_EUNSUPPORTED, "unsupported value encoding");
    }
}

/* ------------------------------------------------------------ MARK: pages */

struct page_header {
    int type;
    int64_t unc, comp;
    bool has_v1, has_v2, has_dict;
    int64_t num_values, num_nulls, num_rows;
    int encoding;
    int64_t def_len, rep_len;
    bool is_compressed;
};

static void read_page_header(struct tc_r *r, struct page_header *h)
{
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->unc = h->comp = -1;
    h->is_compressed = true;
    int16_t last = 0, id;
    int t;
    while ((t = tc_r_field(r, &last, &id)) != TC_STOP) {
        if (id == 1) {
            h->type = (int)tc_r_int(r, t);
        } else if (id == 2) {
            h->unc = tc_r_int(r, t);
        } else if (id == 3) {
            h->comp = tc_r_int(r, t);
        } else if ((id == 5 || id == 7 || id == 8) && t == TC_STRUCT) {
            if (id == 5)
                h->has_v1 = true;
            else if (id == 7)
                h->has_dict = true;
            else
                h->has_v2 = true;
            int16_t l2 = 0, id2;
            int t2;
            while ((t2 = tc_r_field(r, &l2, &id2)) != TC_STOP) {
                if (id2 == 1)
                    h->num_values = tc_r_int(r, t2);
                else if (id2 == 2 && id != 8)
                    h->encoding = (int)tc_r_int(r, t2);
                else if (id == 8 && id2 == 2)
                    h->num_nulls = tc_r_int(r, t2);
                else if (id == 8 && id2 == 3)
                    h->num_rows = tc_r_int(r, t2);
                else if (id == 8 && id2 == 4)
                    h->encoding = (int)tc_r_int(r, t2);
                else if (id == 8 && id2 == 5)
                    h->def_len = tc_r_int(r, t2);
                else if (id == 8 && id2 == 6)
                    h->rep_len = tc_r_int(r, t2);
                else if (id == 8 && id2 == 7 && (t2 == TC_TRUE || t2 == TC_FALSE))
                    h->is_compressed = t2 == TC_TRUE;
                else
                    tc_r_skip(r, t2);
            }
        } else {
            tc_r_skip(r, t);
        }
    }
}

/* The body of a page, decompressed into a pool buffer unless stored as is. */
static int page_body(struct pq_column_reader *r, struct sl_slice stored, size_t unc,
                     struct sl_buf *buf, struct sl_slice *out, struct sl_error *err)
{
    if (r->ch->codec == PQ_UNCOMPRESSED) {
        if (stored.len != unc)
            return fail_page(r, err, SL_ECORRUPT, "uncompressed page sizes differ");
        *out = stored;
        return SL_OK;
    }
    struct sl_error e2 = { 0 };
    if (pq_decompress(&r->codec, r->ch->codec, stored.p, stored.len, unc, buf, &e2) != SL_OK)
        return fail_page(r, err, e2.code, e2.msg);
    *out = sl_buf_slice(buf);
    return SL_OK;
}

static int load_dictionary(struct pq_column_reader *r, const struct page_header *h,
                           struct sl_slice stored, struct sl_error *err)
{
    if (r->has_dict || r->seen_data)
        return fail_page(r, err, SL_ECORRUPT, "dictionary page after data pages");
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return fail_page(r, err, SL_EUNSUPPORTED, "dictionary page not PLAIN");
    struct sl_slice body;
    int rc = page_body(r, stored, (size_t)h->unc, &r->dict_buf, &body, err);
    if (rc != SL_OK)
        return rc;
    int64_t n = h->num_values;
    /* Each entry takes at least one byte, except booleans (one bit). */
    if (n < 0 || (uint64_t)n > (uint64_t)body.len * 8 || n > PQ_PAGE_VALUES_MAX)
        return fail_page(r, err, SL_ECORRUPT, "dictionary entry count does not fit its page");
    vals_reserve(&r->dict, r->c->type, (size_t)n + 1);
    rc = decode_plain(r, body, (size_t)n, &r->dict, &r->dict_extra, err);
    if (rc != SL_OK)
        return rc;
    r->has_dict = true;
    r->ndict = (size_t)n;
    return SL_OK;
}

static void defs_reserve(struct pq_column_reader *r, size_t n)
{
    if (n > r->defs_cap) {
        r->defs_cap = n < 1024 ? 1024 : n;
        free(r->defs);
        r->defs = sl_xmalloc(r->defs_cap);
    }
}

/* Decode n definition levels (max level 1) from a hybrid stream. */
static int decode_defs(struct pq_column_reader *r, struct sl_slice in, size_t n,
                       struct sl_error *err)
{
    size_t nulls;
    if (pq_levels_decode(in, r->defs, n, &nulls) != SL_OK)
        return fail_page(r, err, SL_ECORRUPT, "corrupt definition levels");
    r->page_nulls = nulls;
    return SL_OK;
}

/* Load the next data page (skipping index pages, reading a dictionary). */
static int load_page(struct pq_column_reader *r, struct sl_error *err)
{
    for (;;) {
        if (sl_cur_left(&r->pages) == 0)
            return fail_page(r, err, SL_ECORRUPT, "chunk ends before its last row");
        struct tc_r tr = { r->pages, 0 };
        struct page_header h;
        read_page_header(&tr, &h);
        if (tr.cur.failed || h.type < 0 || h.unc < 0 || h.comp < 0)
            return fail_page(r, err, SL_ECORRUPT, "corrupt page header");
        r->pages.pos = tr.cur.pos;
        if ((uint64_t)h.comp > sl_cur_left(&r->pages))
            return fail_page(r, err, SL_ECORRUPT, "page runs past its chunk");
        if (h.unc > PQ_PAGE_MAX || h.comp > PQ_PAGE_MAX)
            return fail_page(r, err, SL_ELIMIT, "page over the size cap");
        struct sl_slice stored = sl_cur_bytes(&r->pages, (size_t)h.comp);
        if (h.type == PQ_PAGE_DICT) {
            if (!h.has_dict)
                return fail_page(r, err, SL_ECORRUPT, "dictionary page without its header");
            int rc = load_dictionary(r, &h, stored, err);
            if (rc != SL_OK)
                return rc;
            continue;
        }
        if (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DATA_V2)
            continue; /* index pages and unknown kinds: skip */
        bool v2 = h.type == PQ_PAGE_DATA_V2;
        if ((v2 && !h.has_v2) || (!v2 && !h.has_v1))
            return fail_page(r, err, SL_ECORRUPT, "data page without its header");
        r->seen_data = true;
        int64_t n = h.num_values;
        if (n < 0 || n > r->rows_left + (int64_t)(r->page_rows - r->page_pos))
            return fail_page(r, err, SL_ECORRUPT, "page holds more values than its chunk");
        if (n > PQ_PAGE_VALUES_MAX)
            return fail_page(r, err, SL_ELIMIT, "page over the value-count cap");
        if (n == 0)
            continue;
        struct pool_buf *pb = pool_take(r);
        struct sl_slice values;
        defs_reserve(r, (size_t)n);
        r->page_nulls = 0;
        if (!v2) {
            struct sl_slice body;
            int rc = page_body(r, stored, (size_t)h.unc, &pb->page, &body, err);
            if (rc != SL_OK)
                return rc;
            if (!r->c->required) {
                if (body.len < 4)
                    return fail_page(r, err, SL_ECORRUPT, "definition levels missing");
                uint32_t len;
                memcpy(&len, body.p, 4);
                if (len > body.len - 4)
                    return fail_page(r, err, SL_ECORRUPT, "definition levels past the page");
                rc = decode_defs(r, sl_slice_make(body.p + 4, len), (size_t)n, err);
                if (rc != SL_OK)
                    return rc;
                values = sl_slice_make(body.p + 4 + len, body.len - 4 - len);
            } else {
                values = body;
            }
        } else {
            if (h.def_len < 0 || h.rep_len < 0 || (uint64_t)h.def_len + (uint64_t)h.rep_len > stored.len ||
                h.def_len + h.rep_len > h.unc)
                return fail_page(r, err, SL_ECORRUPT, "v2 level lengths past the page");
            size_t lv = (size_t)(h.def_len + h.rep_len);
            if (!r->c->required) {
                int rc = decode_defs(r, sl_slice_make(stored.p + h.rep_len, (size_t)h.def_len),
                                     (size_t)n, err);
                if (rc != SL_OK)
                    return rc;
            }
            struct sl_slice vs = sl_slice_make(stored.p + lv, stored.len - lv);
            size_t unc = (size_t)h.unc - lv;
            if (h.is_compressed && r->ch->codec != PQ_UNCOMPRESSED) {
                struct sl_error e2 = { 0 };
                if (pq_decompress(&r->codec, r->ch->codec, vs.p, vs.len, unc, &pb->page, &e2) !=
                    SL_OK)
                    return fail_page(r, err, e2.code, e2.msg);
                values = sl_buf_slice(&pb->page);
            } else {
                if (vs.len != unc)
                    return fail_page(r, err, SL_ECORRUPT, "v2 page sizes differ");
                values = vs;
            }
        }
        if (r->c->required)
            memset(r->defs, 1, (size_t)n);
        size_t nn = (size_t)n - r->page_nulls;
        int rc = decode_values(r, h.encoding, values, nn, pb, err);
        if (rc != SL_OK)
            return rc;
        r->page_rows = (size_t)n;
        r->page_pos = 0;
        r->val_pos = 0;
        return SL_OK;
    }
}

/* ------------------------------------------------------------ MARK: reading */

struct pq_column_reader *pq_column_reader_new(const struct pq_file *f, size_t rg, size_t col,
                                              struct sl_error *err)
{
    if (rg >= f->nrow_groups || col >= f->ncols) {
        sl_fail(err, SL_EUSAGE, "'%s' has no column %zu in row group %zu", f->name, col, rg);
        return NULL;
    }
    const struct pq_chunk *ch = &f->row_groups[rg].chunks[col];
    if (ch->num_values != f->row_groups[rg].num_rows) {
        sl_fail(err, SL_ECORRUPT, "'%s': column '%s' of row group %zu has %lld values for %lld rows",
                f->name, f->cols[col].name, rg, (long long)ch->num_values,
                (long long)f->row_groups[rg].num_rows);
        return NULL;
    }
    struct pq_column_reader *r = sl_xcalloc(1, sizeof *r);
    r->f = f;
    r->c = &f->cols[col];
    r->ch = ch;
    r->rg = rg;
    r->col = col;
    r->pages = sl_cur_make(sl_slice_make(f->data + ch->offset, (size_t)ch->compressed_size));
    r->rows_left = ch->num_values;
    sl_buf_init(&r->dict_buf, PQ_PAGE_MAX);
    sl_buf_init(&r->dict_extra, PQ_PAGE_MAX);
    return r;
}

void pq_column_reader_free(struct pq_column_reader *r)
{
    if (!r)
        return;
    pq_codec_ctx_release(&r->codec);
    vals_free(&r->dict);
    vals_free(&r->pv);
    free(r->pidx);
    vals_free(&r->bv);
    sl_buf_release(&r->dict_buf);
    sl_buf_release(&r->dict_extra);
    for (size_t i = 0; i < r->npool; i++) {
        sl_buf_release(&r->pool[i].page);
        sl_buf_release(&r->pool[i].extra);
    }
    free(r->pool);
    free(r->defs);
    free(r->u32);
    free(r->i64tmp);
    free(r->bvalid);
    free(r);
}

/* Copy k rows of the current page into the batch at `at`; returns nulls.
 * GET(vp) reads the page's vp-th non-null value from wherever it is. */
#define SCATTER(DST, GET, ZERO)                                   \
    do {                                                          \
        if (r->page_nulls == 0) {                                 \
            for (size_t j = 0; j < k; j++, vp++)                  \
                (DST)[at + j] = GET(vp);                          \
        } else {                                                  \
            for (size_t j = 0; j < k; j++) {                      \
                bool v_ = defs[j] != 0;                           \
                valid[j] = v_;                                    \
                (DST)[at + j] = v_ ? GET(vp) : (ZERO);            \
                vp += v_;                                         \
                nulls += !v_;                                     \
            }                                                     \
        }                                                         \
    } while (0)

static inline int64_t raw64(const uint8_t *p, size_t vp)
{
    int64_t x;
    memcpy(&x, p + vp * 8, 8);
    return x;
}

static inline double rawd(const uint8_t *p, size_t vp)
{
    double x;
    memcpy(&x, p + vp * 8, 8);
    return x;
}

static size_t scatter(struct pq_column_reader *r, size_t at, size_t k)
{
    enum pq_type t = r->c->type;
    const uint8_t *defs = r->defs + r->page_pos;
    size_t vp = r->val_pos, nulls = 0;
    uint8_t *valid = r->bvalid + at;
    const struct sl_slice empty = { NULL, 0 };
    if (r->page_nulls == 0)
        memset(valid, 1, k);
    if (r->page_nulls == 0 && r->pmode == PM_ARR) {
        switch (t) {
        case PQ_BOOL: memcpy(r->bv.b + at, r->pv.b + vp, k); break;
        case PQ_DOUBLE: memcpy(r->bv.d + at, r->pv.d + vp, k * sizeof(double)); break;
        case PQ_STRING: memcpy(r->bv.s + at, r->pv.s + vp, k * sizeof(struct sl_slice)); break;
        default: memcpy(r->bv.i + at, r->pv.i + vp, k * sizeof(int64_t)); break;
        }
        r->val_pos += k;
        return 0;
    }
    if (r->page_nulls == 0 && r->pmode == PM_RAW) {
        if (t == PQ_DOUBLE)
            memcpy(r->bv.d + at, r->praw + vp * 8, k * 8);
        else
            memcpy(r->bv.i + at, r->praw + vp * 8, k * 8);
        r->val_pos += k;
        return 0;
    }
    const uint32_t *idx = r->pidx;
#define G_ARR_B(x) r->pv.b[x]
#define G_ARR_D(x) r->pv.d[x]
#define G_ARR_S(x) r->pv.s[x]
#define G_ARR_I(x) r->pv.i[x]
#define G_DICT_B(x) r->dict.b[idx[x]]
#define G_DICT_D(x) r->dict.d[idx[x]]
#define G_DICT_S(x) r->dict.s[idx[x]]
#define G_DICT_I(x) r->dict.i[idx[x]]
#define G_RAW_D(x) rawd(r->praw, x)
#define G_RAW_I(x) raw64(r->praw, x)
    switch (r->pmode) {
    case PM_DICT:
        switch (t) {
        case PQ_BOOL: SCATTER(r->bv.b, G_DICT_B, 0); break;
        case PQ_DOUBLE: SCATTER(r->bv.d, G_DICT_D, 0); break;
        case PQ_STRING: SCATTER(r->bv.s, G_DICT_S, empty); break;
        default: SCATTER(r->bv.i, G_DICT_I, 0); break;
        }
        break;
    case PM_RAW:
        if (t == PQ_DOUBLE)
            SCATTER(r->bv.d, G_RAW_D, 0);
        else
            SCATTER(r->bv.i, G_RAW_I, 0);
        break;
    default:
        switch (t) {
        case PQ_BOOL: SCATTER(r->bv.b, G_ARR_B, 0); break;
        case PQ_DOUBLE: SCATTER(r->bv.d, G_ARR_D, 0); break;
        case PQ_STRING: SCATTER(r->bv.s, G_ARR_S, empty); break;
        default: SCATTER(r->bv.i, G_ARR_I, 0); break;
        }
        break;
    }
    r->val_pos = vp;
    return nulls;
}

/* Recycle page buffers: only the current page's may still be needed. */
static void recycle(struct pq_column_reader *r)
{
    if (r->pool_used > 0) {
        if (r->cur_buf != 0) {
            struct pool_buf tmp = r->pool[0];
            r->pool[0] = r->pool[r->cur_buf];
            r->pool[r->cur_buf] = tmp;
            r->cur_buf = 0;
        }
        r->pool_used = 1;
    }
}

int64_t pq_column_reader_read(struct pq_column_reader *r, size_t max, struct pq_batch *b,
                              struct sl_error *err)
{
    memset(b, 0, sizeof *b);
    recycle(r);
    size_t n = (uint64_t)r->rows_left < max ? (size_t)r->rows_left : max;
    if (n == 0)
        return 0;
    if (n > r->bcap) {
        size_t cap = r->bcap ? r->bcap : 256;
        while (cap < n)
            cap *= 2;
        r->bvalid = sl_xrealloc(r->bvalid, cap);
        vals_reserve(&r->bv, r->c->type, cap);
        r->bcap = cap;
    }
    size_t out = 0, nulls = 0;
    while (out < n) {
        if (r->page_pos == r->page_rows) {
            int rc = load_page(r, err);
            if (rc != SL_OK)
                return rc;
        }
        size_t k = r->page_rows - r->page_pos;
        if (k > n - out)
            k = n - out;
        nulls += scatter(r, out, k);
        r->page_pos += k;
        out += k;
    }
    r->rows_left -= (int64_t)n;
    b->n = n;
    b->nulls = nulls;
    b->valid = r->bvalid;
    switch (r->c->type) {
    case PQ_BOOL: b->b = r->bv.b; break;
    case PQ_DOUBLE: b->f64 = r->bv.d; break;
    case PQ_STRING: b->str = r->bv.s; break;
    default: b->i64 = r->bv.i; break;
    }
    return (int64_t)n;
}

/* Peek at the next page: if it is a data page whose rows all fall within
 * `n`, step over it without decompressing and return its row count; else 0
 * (the caller loads it normally). */
static size_t skip_whole_page(struct pq_column_reader *r, size_t n)
{
    if (!r->seen_data || sl_cur_left(&r->pages) == 0)
        return 0; /* the dictionary (first page) must be loaded */
    struct tc_r tr = { r->pages, 0 };
    struct page_header h;
    read_page_header(&tr, &h);
    if (tr.cur.failed || h.comp < 0 || (uint64_t)h.comp > sl_cur_left(&tr.cur))
        return 0;
    if (!((h.type == PQ_PAGE_DATA && h.has_v1) || (h.type == PQ_PAGE_DATA_V2 && h.has_v2)))
        return 0;
    if (h.num_values <= 0 || (uint64_t)h.num_values > n ||
        h.num_values > r->rows_left)
        return 0;
    r->pages.pos = tr.cur.pos + (size_t)h.comp;
    r->rows_left -= h.num_values;
    return (size_t)h.num_values;
}

int64_t pq_column_reader_skip(struct pq_column_reader *r, size_t n, struct sl_error *err)
{
    size_t done = 0;
    recycle(r);
    if ((uint64_t)n > (uint64_t)r->rows_left)
        n = (size_t)r->rows_left;
    while (done < n) {
        size_t in_page = r->page_rows - r->page_pos;
        if (in_page > 0) {
            size_t k = n - done < in_page ? n - done : in_page;
            size_t vals = k;
            if (r->page_nulls) {
                vals = 0;
                for (size_t j = 0; j < k; j++)
                    vals += r->defs[r->page_pos + j];
            }
            r->page_pos += k;
            r->val_pos += vals;
            r->rows_left -= (int64_t)k;
            done += k;
            continue;
        }
        size_t whole = skip_whole_page(r, n - done);
        if (whole) {
            done += whole;
            continue;
        }
        recycle(r);
        int rc = load_page(r, err);
        if (rc != SL_OK)
            return rc;
    }
    return (int64_t)done;
}

/* ------------------------------------------------------------ MARK: rows */

#define PQ_ROWS_BATCH 1024

struct pq_rows {
    size_t ncols;
    struct pq_column_reader **readers; /* owned */
    struct pq_batch *batches;
    const struct pq_column **cols;     /* borrowed from the file */
    size_t pos, n;
    int64_t left;
};

struct pq_rows *pq_rows_new(const struct pq_file *f, size_t rg, const size_t *cols, size_t ncols,
                            struct sl_error *err)
{
    if (rg >= f->nrow_groups) {
        sl_fail(err, SL_EUSAGE, "'%s' has no row group %zu", f->name, rg);
        return NULL;
    }
    struct pq_rows *rows = sl_xcalloc(1, sizeof *rows);
    rows->ncols = ncols;
    rows->readers = sl_xcalloc(ncols ? ncols : 1, sizeof *rows->readers);
    rows->batches = sl_xcalloc(ncols ? ncols : 1, sizeof *rows->batches);
    rows->cols = sl_xcalloc(ncols ? ncols : 1, sizeof *rows->cols);
    rows->left = f->row_groups[rg].num_rows;
    for (size_t i = 0; i < ncols; i++) {
        rows->readers[i] = pq_column_reader_new(f, rg, cols[i], err);
        if (!rows->readers[i]) {
            pq_rows_free(rows);
            return NULL;
        }
        rows->cols[i] = &f->cols[cols[i]];
    }
    return rows;
}

int pq_rows_next(struct pq_rows *rows, struct sl_error *err)
{
    if (rows->pos + 1 < rows->n) {
        rows->pos++;
        return 1;
    }
    if (rows->left <= 0)
        return 0;
    size_t want = rows->left < PQ_ROWS_BATCH ? (size_t)rows->left : PQ_ROWS_BATCH;
    for (size_t i = 0; i < rows->ncols; i++) {
        int64_t got = pq_column_reader_read(rows->readers[i], want, &rows->batches[i], err);
        if (got < 0)
            return (int)got;
        if ((size_t)got != want)
            return sl_fail(err, SL_ECORRUPT, "column chunk ended early");
    }
    rows->left -= (int64_t)want;
    rows->n = want;
    rows->pos = 0;
    return 1;
}

struct pq_value pq_rows_value(const struct pq_rows *rows, size_t i)
{
    struct pq_value v;
    memset(&v, 0, sizeof v);
    const struct pq_batch *b = &rows->batches[i];
    size_t k = rows->pos;
    if (!b->valid || !b->valid[k]) {
        v.null = true;
        return v;
    }
    switch (rows->cols[i]->type) {
    case PQ_BOOL: v.b = b->b[k]; break;
    case PQ_DOUBLE: v.d = b->f64[k]; break;
    case PQ_STRING: v.s = b->str[k]; break;
    default: v.i = b->i64[k]; break;
    }
    return v;
}

void pq_rows_free(struct pq_rows *rows)
{
    if (!rows)
        return;
    for (size_t i = 0; i < rows->ncols; i++)
        pq_column_reader_free(rows->readers[i]);
    free(rows->readers);
    free(rows->batches);
    free(rows->cols);
    free(rows);
}
