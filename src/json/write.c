/*
 * write.c: the JSON writer (json.h): string escaping, a small streaming
 * writer that places commas and colons itself, and the header merge that
 * collect uses to build the event it sends to Kafka.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

/* ---------------------------------------------------------------- MARK: escaping */

/* Which ASCII bytes need an escape: 0 no, else the letter after '\' ('u' for \u00XX). */
static const char esc_tab[128] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

/* Length of a valid UTF-8 sequence at s[i] (s[i] >= 0x80), or 0. */
static size_t utf8_ok(const uint8_t *s, size_t i, size_t n)
{
    uint8_t c = s[i];
    size_t left = n - i;
    if (c >= 0xc2 && c <= 0xdf)
        return left >= 2 && (s[i + 1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
            (s[i + 3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* Exact bytes json_write_str() writes for s[0..n), quotes included. */
static size_t escaped_len(const uint8_t *s, size_t n)
{
    size_t out = 2;
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c < 0x80) {
            out += !esc_tab[c] ? 1 : esc_tab[c] == 'u' ? 6 : 2;
            i++;
            continue;
        }
        size_t k = utf8_ok(s, i, n);
        out += k ? k : 3;
        i += k ? k : 1;
    }
    return out;
}

int json_write_str(struct sl_buf *buf, const void *sv, size_t n)
{
    const uint8_t *s = sv;
    /* Worst case: every byte becomes \u00XX (6 bytes) or U+FFFD (3 bytes).
     * If that much room is not allowed, size the output exactly. */
    if (n > (SIZE_MAX - 2) / 6 || sl_buf_reserve(buf, n * 6 + 2) != SL_OK) {
        if (sl_buf_reserve(buf, escaped_len(s, n)) != SL_OK)
            return SL_ELIMIT;
    }
    uint8_t *o = buf->data + buf->len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && s[run] < 0x80 && !esc_tab[s[run]])
            run++;
        memcpy(o, s + i, run - i);
        o += run - i;
        i = run;
        if (i >= n)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            char e = esc_tab[c];
            *o++ = '\\';
            if (e == 'u') {
                static const char hex[] = "0123456789abcdef";
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = (uint8_t)hex[c >> 4];
                *o++ = (uint8_t)hex[c & 15];
            } else {
                *o++ = (uint8_t)e;
            }
            i++;
            continue;
        }
        size_t k = utf8_ok(s, i, n);
        if (k) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            *o++ = 0xef; /* U+FFFD */
            *o++ = 0xbf;
            *o++ = 0xbd;
            i++;
        }
    }
    *o++ = '"';
    sl_buf_setlen(buf, (size_t)(o - buf->data));
    return SL_OK;
}

/* ---------------------------------------------------------------- MARK: writer */

void json_writer_init(struct json_writer *w, struct sl_buf *buf)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
}

/* Before a value: the comma, and checks that a value may come here. */
static bool before_value(struct json_writer *w)
{
    if (w->err)
        return false;
    if (w->depth > 0) {
        int d = w->depth - 1;
        if (w->is_obj[d]) {
            if (!w->want_value) {
                w->err = SL_EUSAGE;
                return false;
            }
            w->want_value = false;
        } else {
            if (!w->first[d] && sl_buf_u8(w->buf, ',') != SL_OK) {
                w->err = SL_ELIMIT;
                return false;
            }
            w->first[d] = 0;
        }
    }
    return true;
}

static void put(struct json_writer *w, const void *p, size_t n)
{
    if (!w->err && sl_buf_append(w->buf, p, n) != SL_OK)
        w->err = SL_ELIMIT;
}

static void open_container(struct json_writer *w, bool obj)
{
    if (!before_value(w))
        return;
    if (w->depth >= JSON_WRITER_DEPTH_MAX) {
        w->err = SL_EUSAGE;
        return;
    }
    w->first[w->depth] = 1;
    w->is_obj[w->depth] = obj;
    w->depth++;
    put(w, obj ? "{" : "[", 1);
}

static void close_container(struct json_writer *w, bool obj)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->is_obj[w->depth - 1] != obj || w->want_value) {
        w->err = SL_EUSAGE;
        return;
    }
    w->depth--;
    put(w, obj ? "}" : "]", 1);
}

void json_w_obj_begin(struct json_writer *w) { open_container(w, true); }
void json_w_obj_end(struct json_writer *w) { close_container(w, true); }
void json_w_arr_begin(struct json_writer *w) { open_container(w, false); }
void json_w_arr_end(struct json_writer *w) { close_container(w, false); }

void json_w_key(struct json_writer *w, const void *s, size_t n)
{
    if (w->err)
        return;
    int d = w->depth - 1;
    if (d < 0 || !w->is_obj[d] || w->want_value) {
        w->err = SL_EUSAGE;
        return;
    }
    if (!w->first[d])
        put(w, ",", 1);
    w->first[d] = 0;
    if (!w->err && json_write_str(w->buf, s, n) != SL_OK)
        w->err = SL_ELIMIT;
    put(w, ":", 1);
    w->want_value = true;
}

void json_w_str(struct json_writer *w, const void *s, size_t n)
{
    if (before_value(w) && json_write_str(w->buf, s, n) != SL_OK)
        w->err = SL_ELIMIT;
}

void json_w_int(struct json_writer *w, int64_t v)
{
    if (!before_value(w))
        return;
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    put(w, tmp, (size_t)n);
}

void json_w_double(struct json_writer *w, double v)
{
    if (!before_value(w))
        return;
    if (!isfinite(v)) {
        put(w, "null", 4);
        return;
    }
    char tmp[40];
    int n = 0;
    /* The shortest of %.15g .. %.17g that reads back exactly. */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* Keep it a double for readers that care: "1" -> "1.0". */
    if (!strpbrk(tmp, ".eEn") && n + 2 < (int)sizeof tmp) {
        tmp[n++] = '.';
        tmp[n++] = '0';
        tmp[n] = '\0';
    }
    put(w, tmp, (size_t)n);
}

void json_w_bool(struct json_writer *w, bool v)
{
    if (before_value(w))
        put(w, v ? "true" : "false", v ? 4 : 5);
}

void json_w_null(struct json_writer *w)
{
    if (before_value(w))
        put(w, "null", 4);
}

void json_w_val(struct json_writer *w, const struct json_doc *doc, const struct json_val *v)
{
    if (before_value(w)) {
        struct sl_slice t = json_text(doc, v);
        put(w, t.p, t.len);
    }
}

void json_w_raw(struct json_writer *w, struct sl_slice json)
{
    if (before_value(w))
        put(w, json.p, json.len);
}

int json_writer_finish(struct json_writer *w)
{
    if (w->err)
        return w->err;
    if (w->depth != 0 || w->want_value)
        return SL_EUSAGE;
    return SL_OK;
}

/* ---------------------------------------------------------------- MARK: merge */

int json_merge_strings(struct sl_buf *buf, const struct json_doc *doc, const struct json_val *obj,
                       const struct sl_slice *add_keys, const struct sl_slice *add_vals,
                       size_t nadd)
{
    if (obj->type != JSON_OBJECT)
        return SL_EUSAGE;
    struct json_writer w;
    json_writer_init(&w, buf);
    json_w_obj_begin(&w);
    const struct json_val *k, *v;
    struct json_iter it = json_iter_make(doc, obj);
    while (json_obj_next(&it, &k, &v)) {
        bool replaced = false;
        for (size_t i = 0; i < nadd && !replaced; i++)
            replaced = json_str_eq(doc, k, add_keys[i].p, add_keys[i].len);
        if (replaced)
            continue;
        /* Keys are copied as they were written (already valid JSON). */
        if (w.err)
            break;
        int d = w.depth - 1;
        if (!w.first[d])
            put(&w, ",", 1);
        w.first[d] = 0;
        struct sl_slice kt = json_text(doc, k);
        put(&w, kt.p, kt.len);
        put(&w, ":", 1);
        w.want_value = true;
        json_w_val(&w, doc, v);
    }
    for (size_t i = 0; i < nadd; i++) {
        json_w_key(&w, add_keys[i].p, add_keys[i].len);
        json_w_str(&w, add_vals[i].p, add_vals[i].len);
    }
    json_w_obj_end(&w);
    return json_writer_finish(&w);
}
