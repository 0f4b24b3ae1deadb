/*
 * pq_int.h: internals shared by the files of src/parquet only (thrift compact
 * protocol, codecs, level/index encodings). Nothing outside src/parquet
 * includes this; the module's contract is pq.h.
 */
#ifndef PQ_INT_H
#define PQ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/cur.h"
#include "base/err.h"
#include "parquet/pq.h"

/* Parquet physical types (parquet.thrift Type). */
enum {
    PQ_T_BOOLEAN = 0,
    PQ_T_INT32 = 1,
    PQ_T_INT64 = 2,
    PQ_T_INT96 = 3,
    PQ_T_FLOAT = 4,
    PQ_T_DOUBLE = 5,
    PQ_T_BYTE_ARRAY = 6,
    PQ_T_FIXED = 7,
};

/* Page types. */
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICT = 2, PQ_PAGE_DATA_V2 = 3 };

/* ---------------------------------------------------------- thrift compact */

/* Compact-protocol type ids (field header low nibble / list element type). */
enum {
    TC_STOP = 0,
    TC_TRUE = 1,
    TC_FALSE = 2,
    TC_I8 = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12,
    TC_UUID = 13,
};

#define TC_DEPTH_MAX 32 /* nesting of structs/lists a reader accepts */

/* Writer: appends to `out` (borrowed); tracks the last field id per level. */
struct tc_w {
    struct sl_buf *out;
    int depth;
    int16_t last[TC_DEPTH_MAX];
};

void tc_w_init(struct tc_w *w, struct sl_buf *out);
void tc_w_field(struct tc_w *w, int id, int type);
void tc_w_i32(struct tc_w *w, int id, int32_t v);
void tc_w_i64(struct tc_w *w, int id, int64_t v);
void tc_w_bool(struct tc_w *w, int id, bool v);
void tc_w_bin(struct tc_w *w, int id, const void *p, size_t n);
void tc_w_str(struct tc_w *w, int id, const char *s);
/* Begin a struct field (id > 0) or a struct list element (id == 0). */
void tc_w_struct_begin(struct tc_w *w, int id);
void tc_w_struct_end(struct tc_w *w); /* writes STOP, pops */
void tc_w_list(struct tc_w *w, int id, int elem_type, size_t n);
/* Bare element values inside a list. */
void tc_w_elem_i32(struct tc_w *w, int32_t v);
void tc_w_elem_bin(struct tc_w *w, const void *p, size_t n);

/* Reader over a cursor: one call per field header. */
struct tc_r {
    struct sl_cur cur;
    int depth;
};

/* Next field header of the struct whose last id is *last: returns the field
 * type (TC_STOP at the end) and sets *id. Fails the cursor on bad input. */
int tc_r_field(struct tc_r *r, int16_t *last, int16_t *id);
int32_t tc_r_i32(struct tc_r *r);
int64_t tc_r_i64(struct tc_r *r);
struct sl_slice tc_r_bin(struct tc_r *r);
/* A list header: element type and count (count <= bytes left, else failed). */
size_t tc_r_list(struct tc_r *r, int *elem_type);
/* Skip a value of `type` (recursively, depth-capped). */
void tc_r_skip(struct tc_r *r, int type);
/* Read a value of integer type `type` (i8/i16/i32/i64), or skip and fail. */
int64_t tc_r_int(struct tc_r *r, int type);

/* ---------------------------------------------------------- codecs */

struct pq_codec_ctx {
    void *zc; /* ZSTD_CCtx, lazily created */
    void *zd; /* ZSTD_DCtx, lazily created */
};

void pq_codec_ctx_release(struct pq_codec_ctx *ctx);
/* Compress in[0..n) with `codec` into out (reset first). SL_OK or error. */
int pq_compress(struct pq_codec_ctx *ctx, int codec, int level, const uint8_t *in, size_t n,
                struct sl_buf *out, struct sl_error *err);
/* Decompress exactly `out_len` bytes into out (reset first, capped by the
 * caller). Errors name nothing: the caller prefixes the file. */
int pq_decompress(struct pq_codec_ctx *ctx, int codec, const uint8_t *in, size_t n,
                  size_t out_len, struct sl_buf *out, struct sl_error *err);

/* ---------------------------------------------------------- encodings */

/* Bits needed to store v (0 for 0). */
static inline int pq_bit_width(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* Append the RLE/bit-packed hybrid encoding of v[0..n) at `width` bits. */
void pq_rle_encode(const uint32_t *v, size_t n, int width, struct sl_buf *out);

/* Decode `n` values of the hybrid at `width` (0..32) from in into out.
 * Returns SL_OK or SL_ECORRUPT (truncated or oversized runs). */
int pq_rle_decode(struct sl_slice in, int width, uint32_t *out, size_t n);

/* Decode n definition levels at bit width 1 into bytes (0/1); *zeros gets
 * the count of 0 levels. SL_OK or SL_ECORRUPT. */
int pq_levels_decode(struct sl_slice in, uint8_t *out, size_t n, size_t *zeros);

/* Decode DELTA_BINARY_PACKED: up to `n` values into out (int64, wrapping);
 * *used gets bytes consumed. SL_OK or SL_ECORRUPT. */
int pq_delta_decode(struct sl_slice in, int64_t *out, size_t n, size_t *used);

/* Strings-parsing helpers. */
uint64_t pq_hash(const void *p, size_t n);

#endif
