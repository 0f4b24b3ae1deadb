/*
 * thrift.c: the Thrift compact protocol, the encoding of every Parquet footer
 * and page header (design/parquet.md §2). The writer emits short-form field
 * headers with per-struct id deltas; the reader accepts long forms, skips
 * unknown fields of any type, caps nesting and checks every length against
 * the bytes left, so a hostile footer can only fail the cursor.
 */
#include <string.h>

#include "base/varint.h"
#include "parquet/pq_int.h"

/* ------------------------------------------------------------ MARK: writer */

void tc_w_init(struct tc_w *w, struct sl_buf *out)
{
    w->out = out;
    w->depth = 0;
    w->last[0] = 0;
}

static void put_uvarint(struct sl_buf *out, uint64_t v)
{
    uint8_t tmp[SL_VARINT_MAX];
    sl_buf_append(out, tmp, sl_uvarint_encode(tmp, v));
}

void tc_w_field(struct tc_w *w, int id, int type)
{
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        sl_buf_u8(w->out, (uint8_t)(delta << 4 | type));
    } else {
        sl_buf_u8(w->out, (uint8_t)type);
        put_uvarint(w->out, sl_zigzag_encode(id));
    }
    w->last[w->depth] = (int16_t)id;
}

void tc_w_i32(struct tc_w *w, int id, int32_t v)
{
    tc_w_field(w, id, TC_I32);
    put_uvarint(w->out, sl_zigzag_encode(v));
}

void tc_w_i64(struct tc_w *w, int id, int64_t v)
{
    tc_w_field(w, id, TC_I64);
    put_uvarint(w->out, sl_zigzag_encode(v));
}

void tc_w_bool(struct tc_w *w, int id, bool v)
{
    tc_w_field(w, id, v ? TC_TRUE : TC_FALSE);
}

void tc_w_bin(struct tc_w *w, int id, const void *p, size_t n)
{
    tc_w_field(w, id, TC_BINARY);
    tc_w_elem_bin(w, p, n);
}

void tc_w_str(struct tc_w *w, int id, const char *s)
{
    tc_w_bin(w, id, s, strlen(s));
}

void tc_w_struct_begin(struct tc_w *w, int id)
{
    if (id > 0)
        tc_w_field(w, id, TC_STRUCT);
    /* Our own writer nests at most 6 levels; overflow is a bug. */
    if (w->depth + 1 < TC_DEPTH_MAX)
        w->depth++;
    w->last[w->depth] = 0;
}

void tc_w_struct_end(struct tc_w *w)
{
    sl_buf_u8(w->out, TC_STOP);
    if (w->depth > 0)
        w->depth--;
}

void tc_w_list(struct tc_w *w, int id, int elem_type, size_t n)
{
    tc_w_field(w, id, TC_LIST);
    if (n < 15) {
        sl_buf_u8(w->out, (uint8_t)(n << 4 | (size_t)elem_type));
    } else {
        sl_buf_u8(w->out, (uint8_t)(0xf0 | elem_type));
        put_uvarint(w->out, n);
    }
}

void tc_w_elem_i32(struct tc_w *w, int32_t v)
{
    put_uvarint(w->out, sl_zigzag_encode(v));
}

void tc_w_elem_bin(struct tc_w *w, const void *p, size_t n)
{
    put_uvarint(w->out, n);
    sl_buf_append(w->out, p, n);
}

/* ------------------------------------------------------------ MARK: reader */

int tc_r_field(struct tc_r *r, int16_t *last, int16_t *id)
{
    uint8_t h = sl_cur_u8(&r->cur);
    if (r->cur.failed)
        return TC_STOP;
    int type = h & 0x0f;
    if (type == TC_STOP) {
        *id = 0;
        return TC_STOP;
    }
    int delta = h >> 4;
    if (delta) {
        *id = (int16_t)(*last + delta);
    } else {
        int64_t v = sl_zigzag_decode(sl_cur_uvarint32(&r->cur));
        if (v < INT16_MIN || v > INT16_MAX)
            sl_cur_fail(&r->cur);
        *id = (int16_t)v;
    }
    *last = *id;
    if (type > TC_UUID)
        sl_cur_fail(&r->cur);
    return r->cur.failed ? TC_STOP : type;
}

int32_t tc_r_i32(struct tc_r *r)
{
    return (int32_t)sl_zigzag_decode(sl_cur_uvarint32(&r->cur));
}

int64_t tc_r_i64(struct tc_r *r)
{
    return sl_zigzag_decode(sl_cur_uvarint(&r->cur));
}

struct sl_slice tc_r_bin(struct tc_r *r)
{
    uint64_t n = sl_cur_uvarint(&r->cur);
    if (n > sl_cur_left(&r->cur)) {
        sl_cur_fail(&r->cur);
        return sl_slice_make(NULL, 0);
    }
    return sl_cur_bytes(&r->cur, (size_t)n);
}

size_t tc_r_list(struct tc_r *r, int *elem_type)
{
    uint8_t h = sl_cur_u8(&r->cur);
    uint64_t n = h >> 4;
    *elem_type = h & 0x0f;
    if (n == 15)
        n = sl_cur_uvarint(&r->cur);
    /* Every element takes at least one byte, except in a list of nothing. */
    if (n > sl_cur_left(&r->cur) || (*elem_type == TC_STOP && n > 0)) {
        sl_cur_fail(&r->cur);
        return 0;
    }
    return (size_t)n;
}

int64_t tc_r_int(struct tc_r *r, int type)
{
    switch (type) {
    case TC_I8:
        return sl_cur_i8(&r->cur);
    case TC_I16:
    case TC_I32:
        return tc_r_i32(r);
    case TC_I64:
        return tc_r_i64(r);
    default:
        tc_r_skip(r, type);
        sl_cur_fail(&r->cur);
        return 0;
    }
}

void tc_r_skip(struct tc_r *r, int type)
{
    if (r->cur.failed)
        return;
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        return; /* struct field: no payload (list elements are handled below) */
    case TC_I8:
        sl_cur_skip(&r->cur, 1);
        return;
    case TC_I16:
    case TC_I32:
    case TC_I64:
        sl_cur_uvarint(&r->cur);
        return;
    case TC_DOUBLE:
        sl_cur_skip(&r->cur, 8);
        return;
    case TC_UUID:
        sl_cur_skip(&r->cur, 16);
        return;
    case TC_BINARY:
        tc_r_bin(r);
        return;
    default:
        break;
    }
    if (++r->depth > TC_DEPTH_MAX) {
        sl_cur_fail(&r->cur);
        return;
    }
    if (type == TC_STRUCT) {
        int16_t last = 0, id;
        int t;
        while ((t = tc_r_field(r, &last, &id)) != TC_STOP)
            tc_r_skip(r, t);
    } else if (type == TC_LIST || type == TC_SET) {
        int et;
        size_t n = tc_r_list(r, &et);
        for (size_t i = 0; i < n && !r->cur.failed; i++) {
            if (et == TC_TRUE || et == TC_FALSE)
                sl_cur_skip(&r->cur, 1); /* bool list elements are one byte */
            else
                tc_r_skip(r, et);
        }
    } else if (type == TC_MAP) {
        uint64_t n = sl_cur_uvarint(&r->cur);
        if (n > 0) {
            uint8_t kv = sl_cur_u8(&r->cur);
            if (n > sl_cur_left(&r->cur))
                sl_cur_fail(&r->cur);
            for (uint64_t i = 0; i < n && !r->cur.failed; i++) {
                int kt = kv >> 4, vt = kv & 0x0f;
                if (kt == TC_TRUE || kt == TC_FALSE)
                    sl_cur_skip(&r->cur, 1);
                else
                    tc_r_skip(r, kt);
                if (vt == TC_TRUE || vt == TC_FALSE)
                    sl_cur_skip(&r->cur, 1);
                else
                    tc_r_skip(r, vt);
            }
        }
    } else {
        sl_cur_fail(&r->cur);
    }
    r->depth--;
}
