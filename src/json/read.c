/*
 * read.c: the JSON reader (json.h): a validating one-pass parser that
 * records values on a tape, plus the accessors that decode strings and
 * numbers on demand.
 *
 * Why a tape: extract parses tens of millions of small records, so the parser
 * must not allocate per value. The tape array is owned by the doc and reused,
 * and every entry refers to the input by offset. Most strings in events have
 * no escapes, so json_str() can usually hand out a slice of the input.
 *
 * Why SSE2: string contents are most of an event's bytes. The string scanner
 * looks at 16 bytes per step for the three things that stop it: a quote, a
 * backslash, or a byte that is a control character or non-ASCII (one signed
 * compare catches both: bytes >= 0x80 are negative). Pure-ASCII runs cost a
 * load, three compares and a movemask per 16 bytes. SSE2 is part of x86-64,
 * so there is no run-time dispatch; other CPUs take the scalar loop.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "json/json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define JSON_SSE2 1
#endif

/* Hard limit on the parser's own stack: max_depth is clamped to this. */
#define DEPTH_HARD_MAX 1024

/* ---------------------------------------------------------------- MARK: doc */

void json_doc_init(struct json_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    doc->max_vals = JSON_VALS_MAX;
    doc->max_depth = JSON_DEPTH_MAX;
}

void json_doc_release(struct json_doc *doc)
{
    if (!doc)
        return;
    free(doc->vals);
    doc->vals = NULL;
    doc->nvals = doc->cap = 0;
}

/* ---------------------------------------------------------------- MARK: parser */

struct parser {
    const uint8_t *p;   /* input */
    size_t len;         /* input bytes */
    size_t pos;         /* next byte */
    struct json_doc *doc;
    struct sl_error *err;
    int code;           /* SL_OK or the failure */
    bool one_line;      /* a newline is not whitespace: it ends the input */
};

static int perr(struct parser *ps, int code, size_t pos, const char *what)
{
    if (ps->code == SL_OK) {
        ps->code = code;
        if (code == SL_ELIMIT)
            sl_fail_at(ps->err, code, pos, "JSON too large at byte %zu: %s", pos, what);
        else
            sl_fail_at(ps->err, code, pos, "invalid JSON at byte %zu: %s", pos, what);
    }
    return code;
}

static int perr_char(struct parser *ps, size_t pos, const char *ctx)
{
    char what[96];
    if (pos >= ps->len) {
        snprintf(what, sizeof what, "unexpected end of input %s", ctx);
    } else {
        uint8_t c = ps->p[pos];
        if (c >= 0x21 && c < 0x7f)
            snprintf(what, sizeof what, "unexpected character '%c' %s", c, ctx);
        else
            snprintf(what, sizeof what, "unexpected byte 0x%02x %s", c, ctx);
    }
    return perr(ps, SL_EPROTO, pos, what);
}

/* Grow the tape (cold path of push()); false after a failure. */
static __attribute__((noinline)) bool grow(struct parser *ps, size_t off)
{
    struct json_doc *doc = ps->doc;
    if (doc->nvals >= doc->max_vals) {
        perr(ps, SL_ELIMIT, off, "more values than the cap");
        return false;
    }
    uint32_t cap = doc->cap < 64 ? 64 : doc->cap * 2;
    if (cap > doc->max_vals || cap < doc->cap)
        cap = doc->max_vals;
    doc->vals = sl_xrealloc(doc->vals, (size_t)cap * sizeof *doc->vals);
    doc->cap = cap;
    return true;
}

/* Append a tape entry; returns its index or UINT32_MAX after a failure. */
static inline uint32_t push(struct parser *ps, uint8_t type, size_t off)
{
    struct json_doc *doc = ps->doc;
    if (__builtin_expect(doc->nvals == doc->cap, 0) && !grow(ps, off))
        return UINT32_MAX;
    uint32_t i = doc->nvals++;
    struct json_val *v = &doc->vals[i];
    v->off = (uint32_t)off;
    v->len = 0;
    v->next = i + 1;
    v->type = type;
    v->flags = 0;
    v->depth = 0;
    return i;
}

static inline size_t skip_ws(const uint8_t *p, size_t pos, size_t len, bool nl)
{
    while (pos < len) {
        uint8_t c = p[pos];
        if (c == ' ' || (c == '\n' && nl) || c == '\r' || c == '\t')
            pos++;
        else
            break;
    }
    return pos;
}

/*
 * Validate one UTF-8 sequence starting at p[pos] (p[pos] >= 0x80). Returns
 * its length, or 0 if invalid (overlong, surrogate, > U+10FFFF, truncated).
 */
static size_t utf8_seq(const uint8_t *p, size_t pos, size_t len)
{
    uint8_t c = p[pos];
    size_t left = len - pos;
    if (c >= 0xc2 && c <= 0xdf) {
        if (left < 2 || (p[pos + 1] & 0xc0) != 0x80)
            return 0;
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3)
            return 0;
        uint8_t c1 = p[pos + 1], c2 = p[pos + 2];
        if ((c1 & 0xc0) != 0x80 || (c2 & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && c1 < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && c1 >= 0xa0)
            return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4)
            return 0;
        uint8_t c1 = p[pos + 1], c2 = p[pos + 2], c3 = p[pos + 3];
        if ((c1 & 0xc0) != 0x80 || (c2 & 0xc0) != 0x80 || (c3 & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && c1 < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && c1 >= 0x90)
            return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static inline int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Read 4 hex digits at p[pos]; -1 if not all hex or truncated. */
static long hex4(const uint8_t *p, size_t pos, size_t len)
{
    if (len - pos < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[pos + i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/*
 * Scan a string whose opening quote is at p[pos - 1]. On success returns the
 * position of the closing quote and sets *escaped. On failure returns
 * SIZE_MAX (error recorded).
 */
static size_t scan_string(struct parser *ps, size_t pos, uint8_t *escaped)
{
    const uint8_t *p = ps->p;
    size_t len = ps->len;
    for (;;) {
#ifdef JSON_SSE2
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i bslash = _mm_set1_epi8('\\');
        const __m128i space = _mm_set1_epi8(0x20);
        while (pos + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + pos));
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                  _mm_cmpeq_epi8(v, bslash)),
                                     _mm_cmplt_epi8(v, space));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                pos += (size_t)__builtin_ctz(mask);
                goto special;
            }
            pos += 16;
        }
#endif
        while (pos < len) {
            uint8_t c = p[pos];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                goto special;
            pos++;
        }
        perr(ps, SL_EPROTO, len, "unexpected end of input inside a string");
        return SIZE_MAX;
special:;
        uint8_t c = p[pos];
        if (c == '"')
            return pos;
        if (c == '\\') {
            *escaped = 1;
            if (pos + 1 >= len) {
                perr(ps, SL_EPROTO, len, "unexpected end of input inside a string");
                return SIZE_MAX;
            }
            uint8_t e = p[pos + 1];
            switch (e) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                pos += 2;
                continue;
            case 'u': {
                long u = hex4(p, pos + 2, len);
                if (u < 0) {
                    perr(ps, SL_EPROTO, pos, "invalid \\u escape (want 4 hex digits)");
                    return SIZE_MAX;
                }
                if (u >= 0xdc00 && u <= 0xdfff) {
                    perr(ps, SL_EPROTO, pos, "lone low surrogate in \\u escape");
                    return SIZE_MAX;
                }
                if (u >= 0xd800 && u <= 0xdbff) {
                    long lo = -1;
                    if (pos + 7 < len && p[pos + 6] == '\\' && p[pos + 7] == 'u')
                        lo = hex4(p, pos + 8, len);
                    if (lo < 0xdc00 || lo > 0xdfff) {
                        perr(ps, SL_EPROTO, pos, "lone high surrogate in \\u escape");
                        return SIZE_MAX;
                    }
                    pos += 12;
                } else {
                    pos += 6;
                }
                continue;
            }
            default:
                perr(ps, SL_EPROTO, pos, "invalid escape in string");
                return SIZE_MAX;
            }
        }
        if (c < 0x20) {
            perr(ps, SL_EPROTO, pos, "control character in string (must be escaped)");
            return SIZE_MAX;
        }
        size_t n = utf8_seq(p, pos, len);
        if (n == 0) {
            perr(ps, SL_EPROTO, pos, "invalid UTF-8 in string");
            return SIZE_MAX;
        }
        pos += n;
    }
}

/*
 * Scan a number starting at p[pos] ('-' or a digit). Returns the position
 * after it, or SIZE_MAX. *is_int is set when it has no fraction or exponent.
 */
static size_t scan_number(struct parser *ps, size_t pos, uint8_t *is_int)
{
    const uint8_t *p = ps->p;
    size_t len = ps->len, start = pos;
    if (p[pos] == '-')
        pos++;
    if (pos >= len || (unsigned)(p[pos] - '0') > 9) {
        perr(ps, SL_EPROTO, pos, "invalid number (digit expected)");
        return SIZE_MAX;
    }
    if (p[pos] == '0') {
        pos++;
        if (pos < len && (unsigned)(p[pos] - '0') <= 9) {
            perr(ps, SL_EPROTO, start, "invalid number (leading zero)");
            return SIZE_MAX;
        }
    } else {
        while (pos < len && (unsigned)(p[pos] - '0') <= 9)
            pos++;
    }
    *is_int = 1;
    if (pos < len && p[pos] == '.') {
        *is_int = 0;
        pos++;
        if (pos >= len || (unsigned)(p[pos] - '0') > 9) {
            perr(ps, SL_EPROTO, pos, "invalid number (digit expected after '.')");
            return SIZE_MAX;
        }
        while (pos < len && (unsigned)(p[pos] - '0') <= 9)
            pos++;
    }
    if (pos < len && (p[pos] | 0x20) == 'e') {
        *is_int = 0;
        pos++;
        if (pos < len && (p[pos] == '+' || p[pos] == '-'))
            pos++;
        if (pos >= len || (unsigned)(p[pos] - '0') > 9) {
            perr(ps, SL_EPROTO, pos, "invalid number (digit expected in exponent)");
            return SIZE_MAX;
        }
        while (pos < len && (unsigned)(p[pos] - '0') <= 9)
            pos++;
    }
    return pos;
}

static bool literal(const uint8_t *p, size_t pos, size_t len, const char *word, size_t n)
{
    return len - pos >= n && memcmp(p + pos, word, n) == 0;
}

/*
 * The parse proper: an explicit stack of open containers (tape indexes), so
 * deep input cannot overflow the C stack. After each value the state machine
 * looks at the innermost container to decide what may follow.
 */
static int parse(struct parser *ps, size_t *used)
{
    struct json_doc *doc = ps->doc;
    const uint8_t *p = ps->p;
    size_t len = ps->len;
    uint32_t stack[DEPTH_HARD_MAX];
    uint32_t max_depth = doc->max_depth > DEPTH_HARD_MAX ? DEPTH_HARD_MAX : doc->max_depth;
    uint32_t depth = 0;
    bool nl = !ps->one_line;
    size_t pos = skip_ws(p, 0, len, nl);

    doc->nvals = 0;
    if (len >= JSON_INPUT_MAX)
        return perr(ps, SL_ELIMIT, 0, "input of 4 GiB or more");
    if (pos >= len)
        return perr(ps, SL_EPROTO, pos, pos == 0 ? "empty input" : "no value, only whitespace");

value:
    /* p[pos] starts a value (pos < len is checked here). */
    if (pos >= len)
        return perr_char(ps, pos, "where a value was expected");
    {
        uint8_t c = p[pos];
        uint32_t i;
        switch (c) {
        case '{':
        case '[':
            if (depth >= max_depth)
                return perr(ps, SL_ELIMIT, pos, "nesting deeper than the depth cap");
            i = push(ps, c == '{' ? JSON_OBJECT : JSON_ARRAY, pos);
            if (i == UINT32_MAX)
                return ps->code;
            doc->vals[i].depth = (uint16_t)depth;
            stack[depth++] = i;
            pos = skip_ws(p, pos + 1, len, nl);
            if (c == '{') {
                if (pos < len && p[pos] == '}')
                    goto close;
                goto key;
            }
            if (pos < len && p[pos] == ']')
                goto close;
            goto value;
        case '"': {
            i = push(ps, JSON_STRING, pos + 1);
            if (i == UINT32_MAX)
                return ps->code;
            uint8_t esc = 0;
            size_t end = scan_string(ps, pos + 1, &esc);
            if (end == SIZE_MAX)
                return ps->code;
            struct json_val *v = &doc->vals[i];
            v->len = (uint32_t)(end - pos - 1);
            v->flags = esc ? JSON_F_ESCAPED : 0;
            v->depth = (uint16_t)depth;
            pos = end + 1;
            break;
        }
        case 't':
        case 'f':
        case 'n': {
            const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
            size_t n = c == 'f' ? 5 : 4;
            if (!literal(p, pos, len, word, n))
                return perr_char(ps, pos, "where a value was expected");
            i = push(ps, c == 't' ? JSON_TRUE : c == 'f' ? JSON_FALSE : JSON_NULL, pos);
            if (i == UINT32_MAX)
                return ps->code;
            doc->vals[i].len = (uint32_t)n;
            doc->vals[i].depth = (uint16_t)depth;
            pos += n;
            break;
        }
        default: {
            if (c != '-' && (unsigned)(c - '0') > 9)
                return perr_char(ps, pos, "where a value was expected");
            i = push(ps, JSON_NUMBER, pos);
            if (i == UINT32_MAX)
                return ps->code;
            uint8_t is_int = 0;
            size_t end = scan_number(ps, pos, &is_int);
            if (end == SIZE_MAX)
                return ps->code;
            struct json_val *v = &doc->vals[i];
            v->len = (uint32_t)(end - pos);
            v->flags = is_int ? JSON_F_INT : 0;
            v->depth = (uint16_t)depth;
            pos = end;
            break;
        }
        }
    }

after_value:
    if (depth == 0)
        goto done;
    pos = skip_ws(p, pos, len, nl);
    if (pos >= len)
        return perr_char(ps, pos, doc->vals[stack[depth - 1]].type == JSON_OBJECT
                                      ? "inside an object" : "inside an array");
    if (p[pos] == ',') {
        pos = skip_ws(p, pos + 1, len, nl);
        if (doc->vals[stack[depth - 1]].type == JSON_OBJECT)
            goto key;
        goto value;
    }
    if (p[pos] == (doc->vals[stack[depth - 1]].type == JSON_OBJECT ? '}' : ']'))
        goto close;
    return perr_char(ps, pos, doc->vals[stack[depth - 1]].type == JSON_OBJECT
                                  ? "after an object member (want ',' or '}')"
                                  : "after an array element (want ',' or ']')");

key:
    /* p[pos] must start a key string. */
    if (pos >= len || p[pos] != '"')
        return perr_char(ps, pos, "where an object key was expected");
    {
        uint32_t i = push(ps, JSON_STRING, pos + 1);
        if (i == UINT32_MAX)
            return ps->code;
        uint8_t esc = 0;
        size_t end = scan_string(ps, pos + 1, &esc);
        if (end == SIZE_MAX)
            return ps->code;
        struct json_val *v = &doc->vals[i];
        v->len = (uint32_t)(end - pos - 1);
        v->flags = (uint8_t)(JSON_F_KEY | (esc ? JSON_F_ESCAPED : 0));
        v->depth = (uint16_t)depth;
        pos = skip_ws(p, end + 1, len, nl);
        if (pos >= len || p[pos] != ':')
            return perr_char(ps, pos, "after an object key (want ':')");
        pos = skip_ws(p, pos + 1, len, nl);
        goto value;
    }

close: {
    /* p[pos] is the closing bracket of stack[depth - 1]. */
    uint32_t i = stack[--depth];
    struct json_val *v = &doc->vals[i];
    v->len = (uint32_t)(pos + 1 - v->off);
    v->next = doc->nvals;
    pos++;
    goto after_value;
}

done:
    *used = pos;
    return SL_OK;
}

int json_parse(struct json_doc *doc, struct sl_slice in, struct sl_error *err)
{
    struct parser ps = { in.p, in.len, 0, doc, err, SL_OK, false };
    size_t used = 0;
    doc->src = in.p;
    int rc = parse(&ps, &used);
    if (rc != SL_OK) {
        doc->nvals = 0;
        return rc;
    }
    size_t end = skip_ws(in.p, used, in.len, true);
    if (end != in.len) {
        doc->nvals = 0;
        perr_char(&ps, end, "after the JSON value");
        return ps.code;
    }
    doc->src_len = used;
    return SL_OK;
}

static int parse_prefix(struct json_doc *doc, struct sl_slice in, size_t *used,
                        struct sl_error *err, bool one_line)
{
    struct parser ps = { in.p, in.len, 0, doc, err, SL_OK, one_line };
    size_t u = 0;
    doc->src = in.p;
    int rc = parse(&ps, &u);
    if (rc != SL_OK) {
        doc->nvals = 0;
        return rc;
    }
    doc->src_len = u;
    *used = u;
    return SL_OK;
}

int json_parse_prefix(struct json_doc *doc, struct sl_slice in, size_t *used,
                      struct sl_error *err)
{
    return parse_prefix(doc, in, used, err, false);
}

int json_parse_line(struct json_doc *doc, struct sl_slice in, size_t *used,
                    struct sl_error *err)
{
    return parse_prefix(doc, in, used, err, true);
}

/* ---------------------------------------------------------------- MARK: strings */

/* Encode code point cp (valid, not a surrogate) as UTF-8 into out; returns bytes. */
static size_t utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Decode the escapes of raw (already validated by the parser) into out,
 * which has room for raw.len bytes (decoding never grows a string: every
 * escape is at least as long as what it stands for). Returns bytes written.
 */
static size_t unescape(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c != '\\') {
            out[o++] = c;
            i++;
            continue;
        }
        uint8_t e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            uint32_t cp = (uint32_t)hex4(s, i, n);
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo = (uint32_t)hex4(s, i + 2, n);
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            o += utf8_put(out + o, cp);
            break;
        }
        default: out[o++] = e; break; /* " \ / */
        }
    }
    return o;
}

int json_str(const struct json_doc *doc, const struct json_val *v, struct sl_buf *scratch,
             struct sl_slice *out)
{
    if (v->type != JSON_STRING)
        return SL_EUSAGE;
    const uint8_t *s = doc->src + v->off;
    if (!(v->flags & JSON_F_ESCAPED)) {
        *out = sl_slice_make(s, v->len);
        return SL_OK;
    }
    if (sl_buf_reserve(scratch, v->len) != SL_OK)
        return SL_ELIMIT;
    size_t start = scratch->len;
    size_t n = unescape(s, v->len, scratch->data + start);
    sl_buf_setlen(scratch, start + n);
    *out = sl_slice_make(scratch->data + start, n);
    return SL_OK;
}

bool json_str_eq(const struct json_doc *doc, const struct json_val *v, const void *s, size_t n)
{
    if (v->type != JSON_STRING)
        return false;
    const uint8_t *raw = doc->src + v->off;
    if (!(v->flags & JSON_F_ESCAPED))
        return v->len == n && memcmp(raw, s, n) == 0;
    if (n > v->len)
        return false;
    /* Decode in small pieces so that no allocation is needed. */
    const uint8_t *want = s;
    size_t w = 0;
    for (size_t i = 0; i < v->len;) {
        uint8_t tmp[8];
        size_t k, adv;
        if (raw[i] != '\\') {
            tmp[0] = raw[i];
            k = 1;
            adv = 1;
        } else if (raw[i + 1] == 'u') {
            adv = (size_t)(raw[i + 1] == 'u' ? 6 : 2);
            uint32_t cp = (uint32_t)hex4(raw, i + 2, v->len);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo = (uint32_t)hex4(raw, i + 8, v->len);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                adv = 12;
            }
            k = utf8_put(tmp, cp);
        } else {
            k = unescape(raw + i, 2, tmp);
            adv = 2;
        }
        if (w + k > n || memcmp(want + w, tmp, k) != 0)
            return false;
        w += k;
        i += adv;
    }
    return w == n;
}

/* ---------------------------------------------------------------- MARK: numbers */

static const double pow10_tab[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int json_int(const struct json_doc *doc, const struct json_val *v, int64_t *out)
{
    if (v->type != JSON_NUMBER)
        return SL_EUSAGE;
    const uint8_t *s = doc->src + v->off;
    size_t n = v->len, i = 0;
    if (v->flags & JSON_F_INT) {
        bool neg = s[0] == '-';
        i = neg;
        uint64_t acc = 0;
        uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (n - i <= 18) { /* cannot overflow: no division per digit */
            for (; i < n; i++)
                acc = acc * 10 + (uint64_t)(s[i] - '0');
        }
        for (; i < n; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (acc > (lim - d) / 10)
                return SL_ELIMIT;
            acc = acc * 10 + d;
        }
        *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
        return SL_OK;
    }
    double d;
    json_double(doc, v, &d);
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
        return SL_ELIMIT;
    *out = (int64_t)d;
    return SL_OK;
}

int json_double(const struct json_doc *doc, const struct json_val *v, double *out)
{
    if (v->type != JSON_NUMBER)
        return SL_EUSAGE;
    const uint8_t *s = doc->src + v->off;
    size_t n = v->len, i = 0;
    bool neg = s[0] == '-';
    i = neg;
    /* Fast path (Clinger): at most 15 significant digits and a small power of
     * ten are exact in a double, so one multiply or divide rounds correctly. */
    uint64_t mant = 0;
    int digits = 0, exp10 = 0;
    bool fast = true;
    for (; i < n && (unsigned)(s[i] - '0') <= 9; i++) {
        if (digits > 0 || s[i] != '0')
            digits++;
        mant = mant * 10 + (uint64_t)(s[i] - '0');
        if (digits > 15) {
            fast = false;
            break;
        }
    }
    if (fast && i < n && s[i] == '.') {
        for (i++; i < n && (unsigned)(s[i] - '0') <= 9; i++) {
            if (digits > 0 || s[i] != '0')
                digits++;
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            exp10--;
            if (digits > 15) {
                fast = false;
                break;
            }
        }
    }
    if (fast && i < n && (s[i] | 0x20) == 'e') {
        i++;
        bool eneg = false;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        int e = 0;
        for (; i < n; i++) {
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        }
        exp10 += eneg ? -e : e;
    }
    if (fast && i == n && exp10 >= -22 && exp10 <= 22) {
        double d = (double)mant;
        d = exp10 < 0 ? d / pow10_tab[-exp10] : d * pow10_tab[exp10];
        *out = neg ? -d : d;
        return SL_OK;
    }
    char tmp[128];
    char *buf = n < sizeof tmp ? tmp : sl_xmalloc(n + 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    if (buf != tmp)
        free(buf);
    return SL_OK;
}

/* ---------------------------------------------------------------- MARK: access */

size_t json_len(const struct json_doc *doc, const struct json_val *v)
{
    if (v->type != JSON_OBJECT && v->type != JSON_ARRAY)
        return 0;
    size_t n = 0;
    uint32_t end = v->next;
    for (uint32_t i = (uint32_t)(v - doc->vals) + 1; i < end; i = doc->vals[i].next) {
        if (v->type == JSON_OBJECT)
            i = doc->vals[i].next; /* skip the key, land on the value */
        n++;
    }
    return n;
}

const struct json_val *json_obj_get(const struct json_doc *doc, const struct json_val *obj,
                                    const char *key, size_t n)
{
    if (obj->type != JSON_OBJECT)
        return NULL;
    const struct json_val *found = NULL, *k, *val;
    struct json_iter it = json_iter_make(doc, obj);
    while (json_obj_next(&it, &k, &val)) {
        if (json_str_eq(doc, k, key, n))
            found = val;
    }
    return found;
}

/* ---------------------------------------------------------------- MARK: streams */

int json_stream_next(struct json_stream *st, struct json_doc *doc, struct sl_slice *raw,
                     size_t *line, struct sl_error *err)
{
    const uint8_t *p = st->in.p;
    size_t len = st->in.len;
    size_t pos = st->pos;
    while (pos < len) {
        uint8_t c = p[pos];
        if (c == '\n')
            st->line++;
        else if (c != ' ' && c != '\r' && c != '\t')
            break;
        pos++;
    }
    st->pos = pos;
    if (pos >= len)
        return 0;
    size_t line_start = pos;
    while (line_start > 0 && p[line_start - 1] != '\n')
        line_start--;
    struct sl_error perr_; /* cleared, not zeroed: this runs per record */
    sl_error_clear(&perr_);
    size_t used = 0;
    int rc = json_parse_prefix(doc, sl_slice_make(p + pos, len - pos), &used, &perr_);
    if (rc != SL_OK) {
        size_t abs = pos + perr_.pos;
        /* Restate the failure relative to the line. The parser's message
         * begins "invalid JSON at byte N: ..."; keep the part after N. */
        const char *what = strstr(perr_.msg, ": ");
        what = what ? what + 2 : perr_.msg;
        size_t bad_line = st->line;
        for (size_t i = pos; i < abs && i < len; i++)
            if (p[i] == '\n')
                bad_line++;
        size_t bad_line_start = abs < len ? abs : len;
        while (bad_line_start > 0 && p[bad_line_start - 1] != '\n')
            bad_line_start--;
        sl_fail_at(err, rc, abs, "line %zu: invalid JSON at byte %zu of the line: %s",
                   bad_line, abs - bad_line_start, what);
        /* Resume at the line after the one where the failure was found. */
        size_t next = abs < len ? abs : len;
        while (next < len && p[next] != '\n')
            next++;
        st->line = bad_line;
        st->pos = next;
        return rc;
    }
    *raw = sl_slice_make(p + pos, used);
    *line = st->line;
    for (size_t i = pos; i < pos + used; i++)
        if (p[i] == '\n')
            st->line++;
    st->pos = pos + used;
    (void)line_start;
    return 1;
}
