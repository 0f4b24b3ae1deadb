/*
 * writer.c: the Parquet writer behind `sluice extract` (contract in pq.h,
 * format in design/parquet.md §0-§9).
 *
 * Data flow, per column:
 *   pq_writer_set_*()  stages one value of the current row (strings copied
 *                      into w->stage, so the caller's bytes may go away);
 *   pq_writer_end_row() commits every staged value (col_commit): a definition
 *                      level into col->defs, the value into col->vals (PLAIN
 *                      bytes) or a dictionary index into col->idx, and the
 *                      chunk stats;
 *   pq_writer_put_*()  (batch mode) commits one value at once, unstaged;
 *   flush_page()       encodes levels + values into one v1 data page body,
 *                      compresses it, and appends header + body to col->pages;
 *   flush_row_group()  writes, per column in schema order, the dictionary
 *                      page (if any) and then col->pages, and keeps the
 *                      ColumnChunk metadata for the footer;
 *   pq_writer_finish() writes FileMetaData, its length and "PAR1".
 *
 * Invariants:
 *   1. col->defs holds exactly col->page_rows levels, and col->vals/col->idx
 *      exactly the non-null values among them.
 *   2. A page is either all dictionary indices or all PLAIN: falling back
 *      from dictionary to PLAIN flushes the page first (design §5.4).
 *   3. Memory is bounded by the open row group: pages live in col->pages
 *      until flush_row_group() writes them out; only per-chunk metadata
 *      (a few hundred bytes per column and row group) stays until the footer.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "parquet/pq_int.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

#define PC_SLOTS 16 /* a power of two */
#define DICT_PROBE 4096 /* values after which a chunk's dictionary is judged */

/* A dictionary slot of an 8-byte column: the value beside its entry, so a
 * probe touches one cache line instead of slot, offset and entry. */
struct fslot {
    uint64_t v;
    uint32_t e1; /* entry + 1; 0: empty */
};

/* Footer metadata of one written column chunk. */
struct wchunk {
    int64_t data_page_offset;
    int64_t dict_page_offset; /* 0: none */
    int64_t total_uncompressed, total_compressed;
    int64_t num_values, nulls;
    uint32_t encodings;      /* bits (1u << enum pq_encoding) */
    int npages_plain, npages_dict;
    bool has_mm, min_exact, max_exact;
    uint8_t *min, *max;      /* owned (malloc); encoded stats bytes */
    size_t min_len, max_len;
};

struct wrg {
    int64_t num_rows, file_offset, total_byte_size, total_compressed;
    struct wchunk *chunks; /* owned; ncols */
};

struct wcol {
    char *name; /* owned */
    enum pq_type type;
    enum pq_time_unit unit;
    bool required;
    int physical;

    /* staged value of the current row */
    int staged; /* 0 unset, 1 null, 2 value */
    struct pq_value sv;
    size_t soff, slen; /* PQ_STRING: bytes in w->stage */
    const uint8_t *sp;  /* PQ_STRING: the bytes being committed (stage or caller's) */

    /* current page */
    uint32_t *defs; /* owned; page_rows_max entries */
    size_t page_rows, page_nulls;
    struct sl_buf vals;  /* PLAIN values */
    size_t bool_bits;    /* PQ_BOOL: values packed in vals */
    uint32_t *idx;       /* owned; dictionary indices of the page */
    size_t nidx;

    /* chunk dictionary (strings) */
    bool dict_on;
    bool dict_tried; /* the first page's cardinality check is done */
    struct sl_buf dict;  /* PLAIN entries (u32 length + bytes) */
    uint32_t *dict_off;  /* owned; entry -> offset of its length prefix in dict */
    uint64_t *dict_hash; /* owned; entry -> hash */
    size_t ndict, dict_cap;
    uint32_t *slots;     /* owned; strings: open addressing, hash tag << 20 | entry + 1; 0 empty */
    struct fslot *fslots; /* owned; 8-byte types: open addressing on the value itself */
    size_t nslots;       /* of slots or fslots */
    int64_t last;        /* entry of the previous value, -1: none (runs are common) */
    uint64_t last_bits;  /* 8-byte types: that value */
    /* batch mode: dictionary entries of recent strings by the caller's
     * address (valid while the batch lasts; see pq_writer_batch_begin) */
    const uint8_t *pc_p[PC_SLOTS];
    uint32_t pc_len[PC_SLOTS], pc_e[PC_SLOTS];

    /* chunk so far */
    struct sl_buf pages; /* data page headers + stored bodies */
    int64_t chunk_unc, chunk_rows, chunk_nulls;
    uint32_t encodings;
    int npages_plain, npages_dict;
    bool has_mm;
    int64_t imin, imax;
    double dmin, dmax;
    bool bmin, bmax;
    struct sl_buf smin, smax;
};

struct pq_writer {
    char *name;           /* owned; for messages */
    int fd;               /* -1 when writing to a buffer */
    bool own_fd;
    struct sl_buf *out;   /* borrowed; NULL when writing to fd */
    int64_t offset;       /* bytes written so far */
    bool failed;          /* an I/O error happened: only free remains */
    bool finished;

    int codec, level;
    size_t rg_rows_max, rg_bytes_max, page_rows_max, page_bytes_max, dict_max;
    bool no_dict;
    char *created_by;     /* owned */
    size_t nkv;
    struct pq_kv *kv;     /* owned strings */

    size_t ncols;
    struct wcol *cols;    /* owned */
    struct sl_buf stage;  /* staged string bytes of the current row */
    bool in_batch;        /* between batch_begin and batch_end */
    size_t batch_rows;    /* rows of the open batch */
    int batch_rc;         /* first failure of a put, reported by batch_end */
    struct sl_error batch_err;

    int64_t rows;         /* rows ended */
    int64_t rg_rows;      /* rows in the open row group */
    int64_t rg_bytes;     /* uncompressed estimate of the open row group */
    size_t nrgs, rgs_cap;
    struct wrg *rgs;      /* owned; written row groups */

    struct pq_codec_ctx codec_ctx;
    struct sl_buf body, cbuf, hdr; /* scratch for page encoding */
};

/* ------------------------------------------------------------ MARK: output */

static int out_write(struct pq_writer *w, const void *p, size_t n, struct sl_error *err)
{
    if (w->failed)
        return sl_fail(err, SL_EIO, "cannot write '%s': earlier write failed", w->name);
    if (w->out) {
        if (sl_buf_append(w->out, p, n) != SL_OK) {
            w->failed = true;
            return sl_fail(err, SL_ELIMIT, "cannot write '%s': buffer full", w->name);
        }
    } else {
        const uint8_t *s = p;
        size_t left = n;
        while (left > 0) {
            ssize_t k = write(w->fd, s, left);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                w->failed = true;
                return sl_fail_errno(err, SL_EIO, "cannot write '%s'", w->name);
            }
            s += k;
            left -= (size_t)k;
        }
    }
    w->offset += (int64_t)n;
    return SL_OK;
}

/* ------------------------------------------------------------ MARK: open */

static int schema_check(const struct pq_column_def *cols, size_t ncols, struct sl_error *err)
{
    if (ncols == 0 || ncols > PQ_COLUMNS_MAX)
        return sl_fail(err, SL_EUSAGE, "a parquet schema needs 1 to %d columns, not %zu",
                       PQ_COLUMNS_MAX, ncols);
    for (size_t i = 0; i < ncols; i++) {
        const struct pq_column_def *c = &cols[i];
        if (!c->name || !c->name[0] || strlen(c->name) > PQ_NAME_MAX)
            return sl_fail(err, SL_EUSAGE, "column %zu has no usable name", i);
        if (c->type < PQ_BOOL || c->type > PQ_TIMESTAMP)
            return sl_fail(err, SL_EUSAGE, "column '%s' has an unknown type", c->name);
        if (c->type == PQ_TIMESTAMP && c->unit != 0 && c->unit != PQ_MILLIS &&
            c->unit != PQ_MICROS)
            return sl_fail(err, SL_EUSAGE, "column '%s': timestamps are millis or micros",
                           c->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, c->name) == 0)
                return sl_fail(err, SL_EUSAGE, "column '%s' appears twice", c->name);
    }
    return SL_OK;
}

static void dict_reset(struct wcol *col, bool on)
{
    sl_buf_reset(&col->dict);
    col->ndict = 0;
    if (col->slots)
        memset(col->slots, 0, col->nslots * sizeof *col->slots);
    if (col->fslots)
        memset(col->fslots, 0, col->nslots * sizeof *col->fslots);
    col->dict_on = on;
    col->dict_tried = false;
    col->last = -1;
    memset(col->pc_p, 0, sizeof col->pc_p);
}

static struct pq_writer *writer_new(const char *name, const struct pq_column_def *cols,
                                    size_t ncols, const struct pq_writer_opts *opts,
                                    struct sl_error *err)
{
    if (schema_check(cols, ncols, err) != SL_OK)
        return NULL;
    static const struct pq_writer_opts none;
    if (!opts)
        opts = &none;
    int codec = opts->use_codec || opts->codec ? (int)opts->codec : PQ_SNAPPY;
    if (codec != PQ_UNCOMPRESSED && codec != PQ_SNAPPY && codec != PQ_GZIP && codec != PQ_ZSTD) {
        sl_fail(err, SL_EUSAGE, "cannot write parquet codec %s", pq_codec_name(codec));
        return NULL;
    }
    struct pq_writer *w = sl_xcalloc(1, sizeof *w);
    w->name = sl_xstrdup(name);
    w->fd = -1;
    w->codec = codec;
    w->level = opts->level;
    w->rg_rows_max = opts->row_group_rows ? opts->row_group_rows : PQ_ROW_GROUP_ROWS;
    w->rg_bytes_max = opts->row_group_bytes ? opts->row_group_bytes : PQ_ROW_GROUP_BYTES;
    w->page_rows_max = opts->page_rows ? opts->page_rows : PQ_PAGE_ROWS;
    w->page_bytes_max = opts->page_bytes ? opts->page_bytes : PQ_PAGE_BYTES;
    w->dict_max = opts->dict_max_bytes ? opts->dict_max_bytes : PQ_DICT_MAX_BYTES;
    w->no_dict = opts->no_dictionary;
    w->created_by = sl_xstrdup(opts->created_by ? opts->created_by
                                                : "sluice version " SLUICE_VERSION
                                                  " (build sluice)");
    w->nkv = opts->nkv;
    w->kv = sl_xcalloc(opts->nkv + 1, sizeof *w->kv);
    for (size_t i = 0; i < opts->nkv; i++) {
        w->kv[i].key = sl_xstrdup(opts->kv[i].key ? opts->kv[i].key : "");
        w->kv[i].value = opts->kv[i].value ? sl_xstrdup(opts->kv[i].value) : NULL;
    }
    w->ncols = ncols;
    w->cols = sl_xcalloc(ncols, sizeof *w->cols);
    for (size_t i = 0; i < ncols; i++) {
        struct wcol *col = &w->cols[i];
        col->name = sl_xstrdup(cols[i].name);
        col->type = cols[i].type;
        col->unit = cols[i].unit ? cols[i].unit : PQ_MICROS;
        col->required = cols[i].required;
        switch (col->type) {
        case PQ_BOOL: col->physical = PQ_T_BOOLEAN; break;
        case PQ_DOUBLE: col->physical = PQ_T_DOUBLE; break;
        case PQ_STRING: col->physical = PQ_T_BYTE_ARRAY; break;
        default: col->physical = PQ_T_INT64; break;
        }
        col->defs = sl_xmalloc(w->page_rows_max * sizeof *col->defs);
        sl_buf_init(&col->vals, 0);
        sl_buf_init(&col->dict, 0);
        sl_buf_init(&col->pages, 0);
        sl_buf_init(&col->smin, 0);
        sl_buf_init(&col->smax, 0);
        if (col->type != PQ_BOOL && !w->no_dict) {
            col->idx = sl_xmalloc(w->page_rows_max * sizeof *col->idx);
            col->nslots = 1024;
            if (col->type == PQ_STRING) {
                col->slots = sl_xcalloc(col->nslots, sizeof *col->slots);
                col->dict_cap = 256;
                col->dict_off = sl_xmalloc(col->dict_cap * sizeof *col->dict_off);
                col->dict_hash = sl_xmalloc(col->dict_cap * sizeof *col->dict_hash);
            } else {
                col->fslots = sl_xcalloc(col->nslots, sizeof *col->fslots);
            }
            col->dict_on = true;
            col->last = -1;
        }
    }
    sl_buf_init(&w->stage, 0);
    sl_buf_init(&w->body, 0);
    sl_buf_init(&w->cbuf, 0);
    sl_buf_init(&w->hdr, 0);
    return w;
}

static struct pq_writer *writer_start(struct pq_writer *w, struct sl_error *err)
{
    if (out_write(w, "PAR1", 4, err) != SL_OK) {
        pq_writer_free(w);
        return NULL;
    }
    return w;
}

struct pq_writer *pq_writer_open(const char *path, const struct pq_column_def *cols,
                                 size_t ncols, const struct pq_writer_opts *opts,
                                 struct sl_error *err)
{
    struct pq_writer *w = writer_new(path, cols, ncols, opts, err);
    if (!w)
        return NULL;
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        sl_fail_errno(err, SL_EIO, "cannot create '%s'", path);
        pq_writer_free(w);
        return NULL;
    }
    w->own_fd = true;
    return writer_start(w, err);
}

struct pq_writer *pq_writer_open_fd(int fd, const char *name, const struct pq_column_def *cols,
                                    size_t ncols, const struct pq_writer_opts *opts,
                                    struct sl_error *err)
{
    struct pq_writer *w = writer_new(name ? name : "(fd)", cols, ncols, opts, err);
    if (!w)
        return NULL;
    w->fd = fd;
    return writer_start(w, err);
}

struct pq_writer *pq_writer_open_buf(struct sl_buf *out, const struct pq_column_def *cols,
                                     size_t ncols, const struct pq_writer_opts *opts,
                                     struct sl_error *err)
{
    struct pq_writer *w = writer_new("(memory)", cols, ncols, opts, err);
    if (!w)
        return NULL;
    w->out = out;
    return writer_start(w, err);
}

static void wchunk_release(struct wchunk *c)
{
    free(c->min);
    free(c->max);
}

void pq_writer_free(struct pq_writer *w)
{
    if (!w)
        return;
    if (w->own_fd && w->fd >= 0)
        close(w->fd);
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *col = &w->cols[i];
        free(col->name);
        free(col->defs);
        free(col->idx);
        free(col->dict_off);
        free(col->dict_hash);
        free(col->slots);
        free(col->fslots);
        sl_buf_release(&col->vals);
        sl_buf_release(&col->dict);
        sl_buf_release(&col->pages);
        sl_buf_release(&col->smin);
        sl_buf_release(&col->smax);
    }
    free(w->cols);
    for (size_t r = 0; r < w->nrgs; r++) {
        for (size_t i = 0; i < w->ncols; i++)
            wchunk_release(&w->rgs[r].chunks[i]);
        free(w->rgs[r].chunks);
    }
    free(w->rgs);
    for (size_t i = 0; i < w->nkv; i++) {
        free((char *)w->kv[i].key);
        free((char *)w->kv[i].value);
    }
    free(w->kv);
    free(w->created_by);
    free(w->name);
    sl_buf_release(&w->stage);
    sl_buf_release(&w->body);
    sl_buf_release(&w->cbuf);
    sl_buf_release(&w->hdr);
    pq_codec_ctx_release(&w->codec_ctx);
    free(w);
}

/* ------------------------------------------------------------ MARK: staging */

void pq_writer_set_null(struct pq_writer *w, size_t col)
{
    assert(col < w->ncols);
    w->cols[col].staged = 1;
}

void pq_writer_set_bool(struct pq_writer *w, size_t col, bool v)
{
    assert(col < w->ncols && w->cols[col].type == PQ_BOOL);
    w->cols[col].staged = 2;
    w->cols[col].sv.b = v;
}

void pq_writer_set_int64(struct pq_writer *w, size_t col, int64_t v)
{
    assert(col < w->ncols &&
           (w->cols[col].type == PQ_INT64 || w->cols[col].type == PQ_TIMESTAMP));
    w->cols[col].staged = 2;
    w->cols[col].sv.i = v;
}

void pq_writer_set_double(struct pq_writer *w, size_t col, double v)
{
    assert(col < w->ncols && w->cols[col].type == PQ_DOUBLE);
    w->cols[col].staged = 2;
    w->cols[col].sv.d = v;
}

void pq_writer_set_string(struct pq_writer *w, size_t col, const void *p, size_t len)
{
    assert(col < w->ncols && w->cols[col].type == PQ_STRING);
    struct wcol *c = &w->cols[col];
    c->staged = 2;
    c->soff = w->stage.len;
    c->slen = len;
    if (sl_buf_append(&w->stage, p, len) != SL_OK)
        c->slen = SIZE_MAX; /* reported by end_row */
}

/* ------------------------------------------------------------ MARK: pages */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Append a PageHeader for a body of `unc` bytes stored as `comp` bytes. */
static void page_header(struct sl_buf *hdr, int type, size_t unc, size_t comp, size_t nvalues,
                        int encoding)
{
    struct tc_w tw;
    sl_buf_reset(hdr);
    tc_w_init(&tw, hdr);
    tc_w_i32(&tw, 1, type);
    tc_w_i32(&tw, 2, (int32_t)unc);
    tc_w_i32(&tw, 3, (int32_t)comp);
    if (type == PQ_PAGE_DATA) {
        tc_w_struct_begin(&tw, 5);
        tc_w_i32(&tw, 1, (int32_t)nvalues);
        tc_w_i32(&tw, 2, encoding);
        tc_w_i32(&tw, 3, PQ_ENC_RLE);
        tc_w_i32(&tw, 4, PQ_ENC_RLE);
        tc_w_struct_end(&tw);
    } else {
        tc_w_struct_begin(&tw, 7);
        tc_w_i32(&tw, 1, (int32_t)nvalues);
        tc_w_i32(&tw, 2, PQ_ENC_PLAIN);
        tc_w_struct_end(&tw);
    }
    sl_buf_u8(hdr, TC_STOP);
}

static int flush_page(struct pq_writer *w, struct wcol *col, struct sl_error *err)
{
    if (col->page_rows == 0)
        return SL_OK;
    struct sl_buf *body = &w->body;
    sl_buf_reset(body);
    if (!col->required) {
        sl_buf_le32(body, 0);
        size_t start = body->len;
        pq_rle_encode(col->defs, col->page_rows, 1, body);
        put_le32(body->data + start - 4, (uint32_t)(body->len - start));
    }
    bool dict = col->dict_on;
    if (dict) {
        int width = pq_bit_width(col->ndict ? col->ndict - 1 : 0);
        if (width < 1)
            width = 1;
        sl_buf_u8(body, (uint8_t)width);
        pq_rle_encode(col->idx, col->nidx, width, body);
    } else {
        sl_buf_append(body, col->vals.data, col->vals.len);
    }
    if (body->len > PQ_PAGE_MAX)
        return sl_fail(err, SL_ELIMIT, "cannot write '%s': page of column '%s' over %u bytes",
                       w->name, col->name, PQ_PAGE_MAX);
    int rc = pq_compress(&w->codec_ctx, w->codec, w->level, body->data, body->len, &w->cbuf, err);
    if (rc != SL_OK)
        return rc;
    int enc = dict ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN;
    page_header(&w->hdr, PQ_PAGE_DATA, body->len, w->cbuf.len, col->page_rows, enc);
    sl_buf_append(&col->pages, w->hdr.data, w->hdr.len);
    sl_buf_append(&col->pages, w->cbuf.data, w->cbuf.len);
    col->chunk_unc += (int64_t)(w->hdr.len + body->len);
    col->encodings |= 1u << enc;
    if (!col->required)
        col->encodings |= 1u << PQ_ENC_RLE;
    if (dict)
        col->npages_dict++;
    else
        col->npages_plain++;
    /* High-cardinality strings: after the first page, a dictionary that is
     * most of the values costs more than it saves; go PLAIN for the chunk. */
    if (dict && !col->dict_tried) {
        col->dict_tried = true;
        if (col->nidx >= 1000 && col->ndict * 2 > col->nidx)
            col->dict_on = false;
    }
    col->page_rows = col->page_nulls = 0;
    col->nidx = 0;
    col->bool_bits = 0;
    sl_buf_reset(&col->vals);
    return SL_OK;
}

/* ------------------------------------------------------------ MARK: dictionary */

/* A slot packs 12 bits of the hash (a tag that rules out most mismatches
 * without touching the entry) with entry + 1 in 20 bits: 4-byte slots keep
 * the table small enough to stay in cache. */
#define DICT_ENTRIES_MAX ((1u << 20) - 2)
#define SLOT_TAG(h) ((uint32_t)((h) >> 52) << 20)

static inline uint32_t slot_of(uint64_t h, size_t e)
{
    return SLOT_TAG(h) | (uint32_t)(e + 1);
}

static void dict_grow_slots(struct wcol *col)
{
    size_t n = col->nslots * 2;
    uint32_t *slots = sl_xcalloc(n, sizeof *slots);
    for (size_t e = 0; e < col->ndict; e++) {
        size_t i = (size_t)col->dict_hash[e] & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = slot_of(col->dict_hash[e], e);
    }
    free(col->slots);
    col->slots = slots;
    col->nslots = n;
}

static inline uint32_t load_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t fmix64(uint64_t x) /* murmur3's finaliser */
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static void dict_grow_fslots(struct wcol *col)
{
    size_t n = col->nslots * 2;
    struct fslot *fs = sl_xcalloc(n, sizeof *fs);
    for (size_t k = 0; k < col->nslots; k++) {
        if (!col->fslots[k].e1)
            continue;
        size_t i = (size_t)fmix64(col->fslots[k].v) & (n - 1);
        while (fs[i].e1)
            i = (i + 1) & (n - 1);
        fs[i] = col->fslots[k];
    }
    free(col->fslots);
    col->fslots = fs;
    col->nslots = n;
}

/* Index of an 8-byte value (its bits) in the chunk dictionary, inserting it;
 * -1 when the dictionary would grow past its cap. */
static int64_t dict_index_fixed(struct pq_writer *w, struct wcol *col, uint64_t x)
{
    if (col->last >= 0 && col->last_bits == x)
        return col->last;
    size_t mask = col->nslots - 1;
    size_t i = (size_t)fmix64(x) & mask;
    for (;;) {
        struct fslot *f = &col->fslots[i];
        if (!f->e1)
            break;
        if (f->v == x) {
            col->last = f->e1 - 1;
            col->last_bits = x;
            return col->last;
        }
        i = (i + 1) & mask;
    }
    if (col->dict.len + 8 > w->dict_max || col->ndict >= DICT_ENTRIES_MAX)
        return -1;
    uint32_t e = (uint32_t)col->ndict++;
    sl_buf_le64(&col->dict, x); /* PLAIN: the 8 little-endian bytes */
    col->fslots[i].v = x;
    col->fslots[i].e1 = e + 1;
    if (col->ndict * 2 > col->nslots)
        dict_grow_fslots(col);
    col->last = e;
    col->last_bits = x;
    return e;
}

/* Index of a string in the chunk dictionary, inserting it; -1 when the
 * dictionary would grow past its cap. *fresh says whether it was new. */
static int64_t dict_index(struct pq_writer *w, struct wcol *col, const uint8_t *p, size_t len,
                          bool *fresh)
{
    /* entries are stored PLAIN: u32 length + bytes */
    *fresh = false;
    if (col->last >= 0) {
        const uint8_t *d = col->dict.data + col->dict_off[col->last];
        if (load_le32(d) == len && memcmp(d + 4, p, len) == 0)
            return col->last;
    }
    uint64_t h = pq_hash(p, len);
    uint32_t tag = SLOT_TAG(h);
    size_t mask = col->nslots - 1;
    size_t i = (size_t)h & mask;
    uint32_t sl;
    while ((sl = col->slots[i]) != 0) {
        if ((sl & 0xfff00000u) == tag) {
            uint32_t e = (sl & 0xfffffu) - 1;
            const uint8_t *d = col->dict.data + col->dict_off[e];
            if (load_le32(d) == len && memcmp(d + 4, p, len) == 0) {
                col->last = e;
                return e;
            }
        }
        i = (i + 1) & mask;
    }
    if (col->dict.len + 4 + len > w->dict_max || col->ndict >= DICT_ENTRIES_MAX)
        return -1;
    if (col->ndict == col->dict_cap) {
        col->dict_cap *= 2;
        col->dict_off = sl_xrealloc(col->dict_off, col->dict_cap * sizeof *col->dict_off);
        col->dict_hash = sl_xrealloc(col->dict_hash, col->dict_cap * sizeof *col->dict_hash);
    }
    uint32_t e = (uint32_t)col->ndict++;
    col->dict_off[e] = (uint32_t)col->dict.len;
    col->dict_hash[e] = h;
    sl_buf_le32(&col->dict, (uint32_t)len);
    sl_buf_append(&col->dict, p, len);
    col->slots[i] = slot_of(h, e);
    if (col->ndict * 2 > col->nslots)
        dict_grow_slots(col);
    col->last = e;
    *fresh = true;
    return e;
}

/* dict_index() for a string, through the batch mode's address cache: a
 * batch caller's bytes stay put until batch_end, so an address and length
 * seen before are the same string (no hashing, no compare). Lengths are
 * capped at PQ_PAGE_MAX / 2 before they get here, so they fit 32 bits. */
static int64_t string_entry(struct pq_writer *w, struct wcol *col, const uint8_t *p, size_t len,
                            bool *fresh)
{
    if (!w->in_batch)
        return dict_index(w, col, p, len, fresh);
    size_t k = (size_t)(((uintptr_t)p * 0x9e3779b97f4a7c15ull) >> 60) & (PC_SLOTS - 1);
    if (col->pc_p[k] == p && col->pc_len[k] == len) {
        *fresh = false;
        return col->pc_e[k];
    }
    int64_t e = dict_index(w, col, p, len, fresh);
    if (e >= 0) {
        col->pc_p[k] = p;
        col->pc_len[k] = (uint32_t)len;
        col->pc_e[k] = (uint32_t)e;
    }
    return e;
}

/* ------------------------------------------------------------ MARK: rows */

static void stats_string(struct wcol *col, const uint8_t *p, size_t len)
{
    if (!col->has_mm) {
        sl_buf_reset(&col->smin);
        sl_buf_append(&col->smin, p, len);
        sl_buf_reset(&col->smax);
        sl_buf_append(&col->smax, p, len);
        col->has_mm = true;
        return;
    }
    size_t m = len < col->smin.len ? len : col->smin.len;
    int c = memcmp(p, col->smin.data, m);
    if (c < 0 || (c == 0 && len < col->smin.len)) {
        sl_buf_reset(&col->smin);
        sl_buf_append(&col->smin, p, len);
        return;
    }
    m = len < col->smax.len ? len : col->smax.len;
    c = memcmp(p, col->smax.data, m);
    if (c > 0 || (c == 0 && len > col->smax.len)) {
        sl_buf_reset(&col->smax);
        sl_buf_append(&col->smax, p, len);
    }
}

static inline void stats_int(struct wcol *col, int64_t v)
{
    if (!col->has_mm) {
        col->imin = col->imax = v;
        col->has_mm = true;
    } else if (v < col->imin) {
        col->imin = v;
    } else if (v > col->imax) {
        col->imax = v;
    }
}

static inline void stats_double(struct wcol *col, double v)
{
    if (isnan(v))
        return;
    if (!col->has_mm) {
        col->dmin = col->dmax = v;
        col->has_mm = true;
    } else {
        if (v < col->dmin || (v == 0 && col->dmin == 0 && signbit(v)))
            col->dmin = v;
        if (v > col->dmax || (v == 0 && col->dmax == 0 && !signbit(v)))
            col->dmax = v;
    }
}

/* Append an 8-byte value: a dictionary index while the chunk's dictionary
 * works, else the PLAIN bytes. False only when a page flush failed. */
static bool append_fixed(struct pq_writer *w, struct wcol *col, uint64_t bits,
                         struct sl_error *err)
{
    if (col->dict_on) {
        int64_t e = dict_index_fixed(w, col, bits);
        if (e >= 0) {
            col->idx[col->nidx++] = (uint32_t)e;
            return true;
        }
        if (flush_page(w, col, err) != SL_OK)
            return false;
        col->dict_on = false;
    }
    sl_buf_le64(&col->vals, bits);
    return true;
}

static int commit_value(struct pq_writer *w, struct wcol *col, struct sl_error *err)
{
    switch (col->type) {
    case PQ_INT64:
    case PQ_TIMESTAMP: {
        int64_t v = col->sv.i;
        if (!append_fixed(w, col, (uint64_t)v, err))
            return err ? err->code : SL_EIO;
        stats_int(col, v);
        w->rg_bytes += 8;
        break;
    }
    case PQ_DOUBLE: {
        double v = col->sv.d;
        uint64_t bits;
        memcpy(&bits, &v, 8);
        if (!append_fixed(w, col, bits, err))
            return err ? err->code : SL_EIO;
        stats_double(col, v);
        w->rg_bytes += 8;
        break;
    }
    case PQ_BOOL: {
        bool v = col->sv.b;
        if (col->bool_bits % 8 == 0)
            sl_buf_u8(&col->vals, 0);
        if (v)
            col->vals.data[col->vals.len - 1] |= (uint8_t)(1u << (col->bool_bits % 8));
        col->bool_bits++;
        if (!col->has_mm) {
            col->bmin = col->bmax = v;
            col->has_mm = true;
        } else {
            col->bmin = col->bmin && v;
            col->bmax = col->bmax || v;
        }
        w->rg_bytes += 1;
        break;
    }
    case PQ_STRING: {
        const uint8_t *p = col->sp;
        size_t len = col->slen;
        if (col->dict_on) {
            bool fresh;
            int64_t e = string_entry(w, col, p, len, &fresh);
            if (e < 0) {
                int rc = flush_page(w, col, err);
                if (rc != SL_OK)
                    return rc;
                col->dict_on = false;
            } else {
                col->idx[col->nidx++] = (uint32_t)e;
                if (fresh)
                    stats_string(col, p, len);
            }
        }
        if (!col->dict_on) {
            sl_buf_le32(&col->vals, (uint32_t)len);
            sl_buf_append(&col->vals, p, len);
            stats_string(col, p, len);
        }
        w->rg_bytes += (int64_t)len + 4;
        break;
    }
    default:
        break;
    }
    return SL_OK;
}

static int flush_row_group(struct pq_writer *w, struct sl_error *err);

/* A string longer than a page may hold. */
static int too_long(const struct pq_writer *w, const struct wcol *col, struct sl_error *err)
{
    return sl_fail(err, SL_ELIMIT, "cannot write '%s': a value of column '%s' is over %u bytes",
                   w->name, col->name, PQ_PAGE_MAX / 2);
}

/* After values were added to col's page: end the page when it is full, or
 * at the dictionary probe. */
static int col_page_check(struct pq_writer *w, struct wcol *col, struct sl_error *err)
{
    if (col->page_rows >= w->page_rows_max || col->vals.len >= w->page_bytes_max)
        return flush_page(w, col, err);
    /* Mostly distinct values (ids, times): the page flush drops the
     * dictionary for the chunk; deciding after DICT_PROBE values instead of a
     * whole page saves thousands of inserts that would be thrown away. */
    if (col->dict_on && !col->dict_tried && col->nidx == DICT_PROBE &&
        col->ndict * 2 > col->nidx)
        return flush_page(w, col, err);
    return SL_OK;
}

/* Commit one value (or a null) of col's next row; may flush its page. */
static inline int col_commit(struct pq_writer *w, struct wcol *col, bool present,
                             struct sl_error *err)
{
    int rc = SL_OK;
    if (present) {
        rc = commit_value(w, col, err);
        col->defs[col->page_rows++] = 1;
    } else {
        col->defs[col->page_rows++] = 0;
        col->page_nulls++;
        col->chunk_nulls++;
    }
    col->chunk_rows++;
    return rc == SL_OK ? col_page_check(w, col, err) : rc;
}

/* n rows are complete in every column: count them, and end a full row group. */
static int rows_done(struct pq_writer *w, size_t n, struct sl_error *err)
{
    w->rows += (int64_t)n;
    w->rg_rows += (int64_t)n;
    if ((size_t)w->rg_rows >= w->rg_rows_max || (size_t)w->rg_bytes >= w->rg_bytes_max)
        return flush_row_group(w, err);
    return SL_OK;
}

int pq_writer_end_row(struct pq_writer *w, struct sl_error *err)
{
    if (w->failed || w->finished || w->in_batch)
        return sl_fail(err, SL_EUSAGE, "cannot add rows to '%s' any more", w->name);
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *col = &w->cols[i];
        if (col->required && col->staged != 2) {
            for (size_t j = 0; j < w->ncols; j++)
                w->cols[j].staged = 0;
            sl_buf_reset(&w->stage);
            return sl_fail(err, SL_EUSAGE, "required column '%s' of '%s' has no value",
                           col->name, w->name);
        }
        if (col->staged == 2 && col->type == PQ_STRING && col->slen > PQ_PAGE_MAX / 2) {
            for (size_t j = 0; j < w->ncols; j++)
                w->cols[j].staged = 0;
            sl_buf_reset(&w->stage);
            return too_long(w, col, err);
        }
    }
    int rc = SL_OK;
    for (size_t i = 0; i < w->ncols && rc == SL_OK; i++) {
        struct wcol *col = &w->cols[i];
        col->sp = w->stage.data + col->soff;
        rc = col_commit(w, col, col->staged == 2, err);
        col->staged = 0;
    }
    sl_buf_reset(&w->stage);
    if (rc != SL_OK) {
        w->failed = true;
        return rc;
    }
    return rows_done(w, 1, err);
}

/* ------------------------------------------------------------ MARK: batches */

int pq_writer_batch_begin(struct pq_writer *w, size_t want, size_t *n, struct sl_error *err)
{
    *n = 0;
    if (w->failed || w->finished || w->in_batch || want == 0)
        return sl_fail(err, SL_EUSAGE, "cannot start a batch of rows for '%s'", w->name);
    size_t room = w->rg_rows_max - (size_t)w->rg_rows; /* >= 1: full groups are flushed */
    w->batch_rows = want < room ? want : room;
    w->in_batch = true;
    w->batch_rc = SL_OK;
    memset(&w->batch_err, 0, sizeof w->batch_err);
    *n = w->batch_rows;
    return SL_OK;
}

/* Whether n more values of col fit the open batch (else the failure is recorded). */
static bool batch_room(struct pq_writer *w, struct wcol *col, size_t n)
{
    if (w->batch_rc != SL_OK)
        return false;
    if ((size_t)col->chunk_rows - (size_t)w->rg_rows + n > w->batch_rows) {
        w->batch_rc = sl_fail(&w->batch_err, SL_EUSAGE, "column '%s' of '%s' got more values "
                              "than its batch has rows", col->name, w->name);
        return false;
    }
    return true;
}

static void batch_put(struct pq_writer *w, struct wcol *col, bool present)
{
    if (!batch_room(w, col, 1))
        return;
    if (!present && col->required)
        w->batch_rc = sl_fail(&w->batch_err, SL_EUSAGE, "required column '%s' of '%s' has no value",
                              col->name, w->name);
    else
        w->batch_rc = col_commit(w, col, present, &w->batch_err);
}

/*
 * Runs: the bulk puts take a column's values as col_commit() would one by
 * one, but in one loop per step. A run never crosses a point where
 * col_commit() would check the page (its end, the dictionary probe), so the
 * pages come out the same. run_room() is how many values the next run may
 * hold; run_done() counts the `done` values a run added and ends the page
 * where col_commit() would have (dict_full: the dictionary refused the next
 * value, so the page goes out with it and the rest of the chunk is PLAIN).
 */
static size_t run_room(const struct pq_writer *w, const struct wcol *col, size_t n)
{
    size_t m = w->page_rows_max - col->page_rows;
    if (col->dict_on && !col->dict_tried && col->nidx < DICT_PROBE && DICT_PROBE - col->nidx < m)
        m = DICT_PROBE - col->nidx;
    return m < n ? m : n;
}

static bool run_done(struct pq_writer *w, struct wcol *col, size_t done, bool dict_full)
{
    for (size_t k = 0; k < done; k++)
        col->defs[col->page_rows + k] = 1;
    col->page_rows += done;
    col->chunk_rows += (int64_t)done;
    int rc;
    if (dict_full) {
        rc = flush_page(w, col, &w->batch_err);
        col->dict_on = false;
    } else {
        rc = col_page_check(w, col, &w->batch_err);
    }
    w->batch_rc = rc;
    return rc == SL_OK;
}

void pq_writer_put_fixed64(struct pq_writer *w, size_t ci, const uint64_t *bits, size_t n)
{
    assert(ci < w->ncols && w->in_batch);
    struct wcol *col = &w->cols[ci];
    assert(col->type == PQ_INT64 || col->type == PQ_TIMESTAMP || col->type == PQ_DOUBLE);
    if (!batch_room(w, col, n))
        return;
    while (n > 0) {
        size_t m = run_room(w, col, n);
        if (!col->dict_on && (w->page_bytes_max - col->vals.len + 7) / 8 < m)
            m = (w->page_bytes_max - col->vals.len + 7) / 8;
        size_t done = 0;
        if (col->dict_on) {
            for (int64_t e; done < m && (e = dict_index_fixed(w, col, bits[done])) >= 0; done++)
                col->idx[col->nidx++] = (uint32_t)e;
        } else {
            if (sl_buf_reserve(&col->vals, 8 * m) != SL_OK) {
                w->batch_rc = sl_fail(&w->batch_err, SL_ELIMIT, "cannot write '%s': buffer full",
                                      w->name);
                return;
            }
            uint8_t *dst = col->vals.data + col->vals.len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            memcpy(dst, bits, 8 * m);
#else
            for (size_t k = 0; k < m; k++)
                for (int b = 0; b < 8; b++)
                    dst[8 * k + (size_t)b] = (uint8_t)(bits[k] >> (8 * b));
#endif
            done = m;
            sl_buf_setlen(&col->vals, col->vals.len + 8 * m);
        }
        if (col->type == PQ_DOUBLE) {
            for (size_t k = 0; k < done; k++) {
                double d;
                memcpy(&d, &bits[k], 8);
                stats_double(col, d);
            }
        } else {
            for (size_t k = 0; k < done; k++)
                stats_int(col, (int64_t)bits[k]);
        }
        w->rg_bytes += 8 * (int64_t)done;
        if (!run_done(w, col, done, done < m))
            return;
        bits += done;
        n -= done;
    }
}

void pq_writer_put_strings(struct pq_writer *w, size_t ci, const struct sl_slice *s, size_t n)
{
    assert(ci < w->ncols && w->in_batch && w->cols[ci].type == PQ_STRING);
    struct wcol *col = &w->cols[ci];
    if (!batch_room(w, col, n))
        return;
    for (size_t k = 0; k < n; k++) {
        if (s[k].len > PQ_PAGE_MAX / 2) {
            w->batch_rc = too_long(w, col, &w->batch_err);
            return;
        }
    }
    while (n > 0) {
        size_t m = run_room(w, col, n), done = 0;
        bool dict_full = false;
        if (col->dict_on) {
            /* the same bytes as the value before: the same entry, no lookup */
            int64_t e = -1;
            for (; done < m; done++) {
                if (e < 0 || s[done].p != s[done - 1].p || s[done].len != s[done - 1].len) {
                    bool fresh;
                    e = string_entry(w, col, s[done].p, s[done].len, &fresh);
                    if (e < 0) {
                        dict_full = true;
                        break;
                    }
                    if (fresh)
                        stats_string(col, s[done].p, s[done].len);
                }
                col->idx[col->nidx++] = (uint32_t)e;
                w->rg_bytes += (int64_t)s[done].len + 4;
            }
        } else {
            while (done < m && col->vals.len < w->page_bytes_max) {
                sl_buf_le32(&col->vals, (uint32_t)s[done].len);
                sl_buf_append(&col->vals, s[done].p, s[done].len);
                stats_string(col, s[done].p, s[done].len);
                w->rg_bytes += (int64_t)s[done].len + 4;
                done++;
            }
        }
        if (!run_done(w, col, done, dict_full))
            return;
        s += done;
        n -= done;
    }
}

void pq_writer_put_null(struct pq_writer *w, size_t col)
{
    assert(col < w->ncols && w->in_batch);
    batch_put(w, &w->cols[col], false);
}

void pq_writer_put_bool(struct pq_writer *w, size_t col, bool v)
{
    assert(col < w->ncols && w->in_batch && w->cols[col].type == PQ_BOOL);
    w->cols[col].sv.b = v;
    batch_put(w, &w->cols[col], true);
}

void pq_writer_put_int64(struct pq_writer *w, size_t col, int64_t v)
{
    assert(col < w->ncols && w->in_batch &&
           (w->cols[col].type == PQ_INT64 || w->cols[col].type == PQ_TIMESTAMP));
    w->cols[col].sv.i = v;
    batch_put(w, &w->cols[col], true);
}

void pq_writer_put_double(struct pq_writer *w, size_t col, double v)
{
    assert(col < w->ncols && w->in_batch && w->cols[col].type == PQ_DOUBLE);
    w->cols[col].sv.d = v;
    batch_put(w, &w->cols[col], true);
}

void pq_writer_put_string(struct pq_writer *w, size_t col, const void *p, size_t len)
{
    assert(col < w->ncols && w->in_batch && w->cols[col].type == PQ_STRING);
    struct wcol *c = &w->cols[col];
    if (len > PQ_PAGE_MAX / 2) {
        if (w->batch_rc == SL_OK)
            w->batch_rc = too_long(w, c, &w->batch_err);
        return;
    }
    c->sp = p;
    c->slen = len;
    batch_put(w, c, true);
}

int pq_writer_batch_end(struct pq_writer *w, struct sl_error *err)
{
    if (!w->in_batch)
        return sl_fail(err, SL_EUSAGE, "no batch of rows is open for '%s'", w->name);
    w->in_batch = false;
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *col = &w->cols[i];
        memset(col->pc_p, 0, sizeof col->pc_p); /* the caller's bytes may change now */
        if (w->batch_rc == SL_OK && (size_t)col->chunk_rows != (size_t)w->rg_rows + w->batch_rows)
            w->batch_rc = sl_fail(&w->batch_err, SL_EUSAGE, "column '%s' of '%s' got fewer values "
                                  "than its batch has rows", col->name, w->name);
    }
    if (w->batch_rc != SL_OK) {
        w->failed = true;
        if (err)
            *err = w->batch_err;
        return w->batch_rc;
    }
    return rows_done(w, w->batch_rows, err);
}

/* ------------------------------------------------------------ MARK: row groups */

static void encode_stats(struct wcol *col, struct wchunk *c)
{
    c->has_mm = col->has_mm;
    c->min_exact = c->max_exact = true;
    if (!col->has_mm)
        return;
    uint8_t tmp[8];
    switch (col->type) {
    case PQ_INT64:
    case PQ_TIMESTAMP:
        c->min = sl_xmalloc(8);
        c->max = sl_xmalloc(8);
        for (int i = 0; i < 8; i++) {
            c->min[i] = (uint8_t)((uint64_t)col->imin >> (8 * i));
            c->max[i] = (uint8_t)((uint64_t)col->imax >> (8 * i));
        }
        c->min_len = c->max_len = 8;
        break;
    case PQ_DOUBLE: {
        double mn = col->dmin, mx = col->dmax;
        if (mn == 0)
            mn = -0.0;
        if (mx == 0)
            mx = 0.0;
        c->min = sl_xmalloc(8);
        c->max = sl_xmalloc(8);
        memcpy(c->min, &mn, 8); /* x86-64 and aarch64 are little-endian */
        memcpy(c->max, &mx, 8);
        c->min_len = c->max_len = 8;
        break;
    }
    case PQ_BOOL:
        tmp[0] = col->bmin;
        c->min = sl_xmalloc(1);
        c->min[0] = tmp[0];
        c->max = sl_xmalloc(1);
        c->max[0] = col->bmax;
        c->min_len = c->max_len = 1;
        break;
    case PQ_STRING: {
        /* Long bounds are cut at a character boundary so they stay valid
         * UTF-8 (readers decode them as text): min keeps a prefix; max keeps a
         * prefix whose last character, made ASCII below DEL by dropping any
         * later ones, is incremented - still above every string it prefixes. */
        const uint8_t *mn = col->smin.data, *mx = col->smax.data;
        size_t n = col->smin.len;
        if (n > PQ_STAT_TRUNC) {
            n = PQ_STAT_TRUNC;
            while (n > 0 && (mn[n] & 0xc0) == 0x80)
                n--;
        }
        c->min = sl_xmalloc(n + 1);
        memcpy(c->min, mn, n);
        c->min_len = n;
        c->min_exact = n == col->smin.len;
        n = col->smax.len;
        c->max_exact = n <= PQ_STAT_TRUNC;
        if (!c->max_exact) {
            n = PQ_STAT_TRUNC;
            while (n > 0 && (mx[n] & 0xc0) == 0x80)
                n--;
            while (n > 0 && mx[n - 1] >= 0x7f) {
                n--; /* drop DEL, or a whole multi-byte character */
                while (n > 0 && mx[n] >= 0x80 && (mx[n] & 0xc0) == 0x80)
                    n--;
            }
        }
        c->max = sl_xmalloc(n + 1);
        memcpy(c->max, mx, n);
        c->max_len = n;
        if (!c->max_exact) {
            if (n == 0) {
                c->has_mm = false; /* no short upper bound exists */
                break;
            }
            c->max[n - 1]++;
        }
        break;
    }
    default:
        break;
    }
}

static int flush_row_group(struct pq_writer *w, struct sl_error *err)
{
    if (w->rg_rows == 0)
        return SL_OK;
    for (size_t i = 0; i < w->ncols; i++) {
        int rc = flush_page(w, &w->cols[i], err);
        if (rc != SL_OK) {
            w->failed = true;
            return rc;
        }
    }
    if (w->nrgs == w->rgs_cap) {
        w->rgs_cap = w->rgs_cap ? w->rgs_cap * 2 : 8;
        w->rgs = sl_xrealloc(w->rgs, w->rgs_cap * sizeof *w->rgs);
    }
    struct wrg *rg = &w->rgs[w->nrgs++];
    memset(rg, 0, sizeof *rg);
    rg->chunks = sl_xcalloc(w->ncols, sizeof *rg->chunks);
    rg->num_rows = w->rg_rows;
    rg->file_offset = w->offset;
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *col = &w->cols[i];
        struct wchunk *c = &rg->chunks[i];
        int64_t start = w->offset;
        int64_t unc = col->chunk_unc;
        if (col->npages_dict > 0) {
            int rc = pq_compress(&w->codec_ctx, w->codec, w->level, col->dict.data, col->dict.len,
                                 &w->cbuf, err);
            if (rc != SL_OK) {
                w->failed = true;
                return rc;
            }
            page_header(&w->hdr, PQ_PAGE_DICT, col->dict.len, w->cbuf.len, col->ndict, 0);
            c->dict_page_offset = w->offset;
            unc += (int64_t)(w->hdr.len + col->dict.len);
            if (out_write(w, w->hdr.data, w->hdr.len, err) != SL_OK ||
                out_write(w, w->cbuf.data, w->cbuf.len, err) != SL_OK)
                return err ? err->code : SL_EIO;
            col->encodings |= 1u << PQ_ENC_PLAIN;
        }
        c->data_page_offset = w->offset;
        if (out_write(w, col->pages.data, col->pages.len, err) != SL_OK)
            return err ? err->code : SL_EIO;
        c->total_compressed = w->offset - start;
        c->total_uncompressed = unc;
        c->num_values = col->chunk_rows;
        c->nulls = col->chunk_nulls;
        c->encodings = col->encodings;
        c->npages_plain = col->npages_plain;
        c->npages_dict = col->npages_dict;
        encode_stats(col, c);
        rg->total_byte_size += unc;
        rg->total_compressed += c->total_compressed;
        /* reset the chunk */
        sl_buf_reset(&col->pages);
        col->chunk_unc = col->chunk_rows = col->chunk_nulls = 0;
        col->encodings = 0;
        col->npages_plain = col->npages_dict = 0;
        col->has_mm = false;
        if (col->idx)
            dict_reset(col, true);
    }
    w->rg_rows = 0;
    w->rg_bytes = 0;
    return SL_OK;
}

int pq_writer_flush(struct pq_writer *w, struct sl_error *err)
{
    if (w->failed)
        return sl_fail(err, SL_EIO, "cannot write '%s': earlier write failed", w->name);
    if (w->in_batch)
        return sl_fail(err, SL_EUSAGE, "cannot flush '%s' inside a batch of rows", w->name);
    return flush_row_group(w, err);
}

int64_t pq_writer_rows(const struct pq_writer *w)
{
    return w->rows;
}

int64_t pq_writer_bytes(const struct pq_writer *w)
{
    return w->offset;
}

/* ------------------------------------------------------------ MARK: footer */

static void json_str(struct sl_buf *b, const char *s)
{
    sl_buf_u8(b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            sl_buf_appendf(b, "\\%c", ch);
        else if (ch < 0x20)
            sl_buf_appendf(b, "\\u%04x", ch);
        else
            sl_buf_u8(b, ch);
    }
    sl_buf_u8(b, '"');
}

/* The schema as sluice knows it, for the "sluice.schema" key. */
static void schema_json(const struct pq_writer *w, struct sl_buf *b)
{
    sl_buf_append_str(b, "{\"columns\":[");
    for (size_t i = 0; i < w->ncols; i++) {
        const struct wcol *col = &w->cols[i];
        sl_buf_append_str(b, i ? ",{\"name\":" : "{\"name\":");
        json_str(b, col->name);
        sl_buf_appendf(b, ",\"type\":\"%s\"", pq_type_name(col->type));
        if (col->type == PQ_TIMESTAMP)
            sl_buf_appendf(b, ",\"unit\":\"%s\"", col->unit == PQ_MILLIS ? "ms" : "us");
        sl_buf_appendf(b, ",\"nullable\":%s}", col->required ? "false" : "true");
    }
    sl_buf_append_str(b, "]}");
}

static void write_schema(struct pq_writer *w, struct tc_w *tw)
{
    tc_w_list(tw, 2, TC_STRUCT, w->ncols + 1);
    tc_w_struct_begin(tw, 0);
    tc_w_str(tw, 4, "schema");
    tc_w_i32(tw, 5, (int32_t)w->ncols);
    tc_w_struct_end(tw);
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *col = &w->cols[i];
        tc_w_struct_begin(tw, 0);
        tc_w_i32(tw, 1, col->physical);
        tc_w_i32(tw, 3, col->required ? 0 : 1);
        tc_w_str(tw, 4, col->name);
        if (col->type == PQ_STRING) {
            tc_w_i32(tw, 6, 0); /* UTF8 */
            tc_w_struct_begin(tw, 10);
            tc_w_struct_begin(tw, 1); /* STRING */
            tc_w_struct_end(tw);
            tc_w_struct_end(tw);
        } else if (col->type == PQ_TIMESTAMP) {
            tc_w_i32(tw, 6, col->unit == PQ_MILLIS ? 9 : 10);
            tc_w_struct_begin(tw, 10);
            tc_w_struct_begin(tw, 8); /* TIMESTAMP */
            tc_w_bool(tw, 1, true);   /* isAdjustedToUTC */
            tc_w_struct_begin(tw, 2); /* unit */
            tc_w_struct_begin(tw, col->unit == PQ_MILLIS ? 1 : 2);
            tc_w_struct_end(tw);
            tc_w_struct_end(tw);
            tc_w_struct_end(tw);
            tc_w_struct_end(tw);
        }
        tc_w_struct_end(tw);
    }
}

static void write_chunk(struct pq_writer *w, struct tc_w *tw, struct wcol *col,
                        struct wchunk *c)
{
    tc_w_struct_begin(tw, 0);    /* ColumnChunk */
    tc_w_i64(tw, 2, 0);          /* file_offset (required, deprecated meaning) */
    tc_w_struct_begin(tw, 3);    /* ColumnMetaData */
    tc_w_i32(tw, 1, col->physical);
    int nenc = 0;
    for (int e = 0; e < 32; e++)
        nenc += (c->encodings >> e) & 1;
    tc_w_list(tw, 2, TC_I32, (size_t)nenc);
    for (int e = 0; e < 32; e++)
        if ((c->encodings >> e) & 1)
            tc_w_elem_i32(tw, e);
    tc_w_list(tw, 3, TC_BINARY, 1);
    tc_w_elem_bin(tw, col->name, strlen(col->name));
    tc_w_i32(tw, 4, w->codec);
    tc_w_i64(tw, 5, c->num_values);
    tc_w_i64(tw, 6, c->total_uncompressed);
    tc_w_i64(tw, 7, c->total_compressed);
    tc_w_i64(tw, 9, c->data_page_offset);
    if (c->dict_page_offset)
        tc_w_i64(tw, 11, c->dict_page_offset);
    tc_w_struct_begin(tw, 12); /* Statistics */
    bool signed_order = col->type != PQ_STRING;
    if (c->has_mm && signed_order) {
        tc_w_bin(tw, 1, c->max, c->max_len);
        tc_w_bin(tw, 2, c->min, c->min_len);
    }
    tc_w_i64(tw, 3, c->nulls);
    if (c->has_mm) {
        tc_w_bin(tw, 5, c->max, c->max_len);
        tc_w_bin(tw, 6, c->min, c->min_len);
        tc_w_bool(tw, 7, c->max_exact);
        tc_w_bool(tw, 8, c->min_exact);
    }
    tc_w_struct_end(tw);
    /* encoding_stats: what kinds of pages the chunk holds */
    size_t nstats = (c->dict_page_offset ? 1 : 0) + (c->npages_dict ? 1 : 0) +
                    (c->npages_plain ? 1 : 0);
    tc_w_list(tw, 13, TC_STRUCT, nstats);
    if (c->dict_page_offset) {
        tc_w_struct_begin(tw, 0);
        tc_w_i32(tw, 1, PQ_PAGE_DICT);
        tc_w_i32(tw, 2, PQ_ENC_PLAIN);
        tc_w_i32(tw, 3, 1);
        tc_w_struct_end(tw);
    }
    if (c->npages_dict) {
        tc_w_struct_begin(tw, 0);
        tc_w_i32(tw, 1, PQ_PAGE_DATA);
        tc_w_i32(tw, 2, PQ_ENC_RLE_DICTIONARY);
        tc_w_i32(tw, 3, c->npages_dict);
        tc_w_struct_end(tw);
    }
    if (c->npages_plain) {
        tc_w_struct_begin(tw, 0);
        tc_w_i32(tw, 1, PQ_PAGE_DATA);
        tc_w_i32(tw, 2, PQ_ENC_PLAIN);
        tc_w_i32(tw, 3, c->npages_plain);
        tc_w_struct_end(tw);
    }
    tc_w_struct_end(tw); /* ColumnMetaData */
    tc_w_struct_end(tw); /* ColumnChunk */
}

int pq_writer_finish(struct pq_writer *w, struct sl_error *err)
{
    if (w->finished)
        return sl_fail(err, SL_EUSAGE, "'%s' is already finished", w->name);
    int rc = pq_writer_flush(w, err);
    if (rc != SL_OK)
        return rc;
    w->finished = true;
    struct sl_buf meta, sj;
    sl_buf_init(&meta, 0);
    sl_buf_init(&sj, 0);
    schema_json(w, &sj);
    struct tc_w tw;
    tc_w_init(&tw, &meta);
    tc_w_i32(&tw, 1, 1);
    write_schema(w, &tw);
    tc_w_i64(&tw, 3, w->rows);
    tc_w_list(&tw, 4, TC_STRUCT, w->nrgs);
    for (size_t r = 0; r < w->nrgs; r++) {
        struct wrg *rg = &w->rgs[r];
        tc_w_struct_begin(&tw, 0);
        tc_w_list(&tw, 1, TC_STRUCT, w->ncols);
        for (size_t i = 0; i < w->ncols; i++)
            write_chunk(w, &tw, &w->cols[i], &rg->chunks[i]);
        tc_w_i64(&tw, 2, rg->total_byte_size);
        tc_w_i64(&tw, 3, rg->num_rows);
        tc_w_i64(&tw, 5, rg->file_offset);
        tc_w_i64(&tw, 6, rg->total_compressed);
        tc_w_struct_end(&tw);
    }
    tc_w_list(&tw, 5, TC_STRUCT, w->nkv + 1);
    tc_w_struct_begin(&tw, 0);
    tc_w_str(&tw, 1, "sluice.schema");
    tc_w_bin(&tw, 2, sj.data, sj.len);
    tc_w_struct_end(&tw);
    for (size_t i = 0; i < w->nkv; i++) {
        tc_w_struct_begin(&tw, 0);
        tc_w_str(&tw, 1, w->kv[i].key);
        if (w->kv[i].value)
            tc_w_str(&tw, 2, w->kv[i].value);
        tc_w_struct_end(&tw);
    }
    tc_w_str(&tw, 6, w->created_by);
    tc_w_list(&tw, 7, TC_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        tc_w_struct_begin(&tw, 0);
        tc_w_struct_begin(&tw, 1); /* TYPE_ORDER */
        tc_w_struct_end(&tw);
        tc_w_struct_end(&tw);
    }
    sl_buf_u8(&meta, TC_STOP);
    sl_buf_le32(&meta, (uint32_t)meta.len);
    sl_buf_append(&meta, "PAR1", 4);
    rc = out_write(w, meta.data, meta.len, err);
    sl_buf_release(&meta);
    sl_buf_release(&sj);
    return rc;
}
