/*
 * json.h: the JSON reader and writer of sluice (RFC 8259).
 *
 * Where it sits: `collect` validates POST /events bodies with it and writes
 * the events it sends to Kafka (event fields merged with request headers);
 * `extract` parses every record value with it, which makes the reader the hot
 * path of the extract job.
 *
 * READER. json_parse() validates one JSON text and records it on a "tape": a
 * flat array of struct json_val in document order, one entry per value and
 * per object key. The tape points into the input (offsets, not copies), so a
 * parse does no per-value allocation: the tape array is reused across calls
 * and only grows (up to a cap) when a document has more values than ever
 * before. Strings are not unescaped during the parse; json_str() returns a
 * borrowed slice of the input when a string has no escapes (the common case)
 * and decodes into a caller buffer otherwise. Numbers are validated during
 * the parse and converted on demand (json_int, json_double).
 *
 * Strictness (what is rejected, with the byte offset in err->pos):
 *   - anything RFC 8259 forbids: trailing commas, single quotes, comments,
 *     NaN/Infinity, leading zeros, "+1", ".5", "1.", unescaped control
 *     characters (< 0x20) in strings, unknown escapes, trailing garbage;
 *   - invalid UTF-8 anywhere in strings (overlong forms, surrogates encoded
 *     in UTF-8, code points above U+10FFFF, truncated sequences), and UTF-8
 *     outside strings (only JSON whitespace and tokens are allowed there);
 *   - \u escapes that form a lone or reversed surrogate (so decoded strings
 *     are always valid UTF-8);
 *   - a byte-order mark; an empty input or one holding only whitespace;
 *   - nesting deeper than the doc's max_depth (SL_ELIMIT), more tape entries
 *     than max_vals (SL_ELIMIT), inputs of JSON_INPUT_MAX bytes or more.
 * Accepted: any scalar as the root; duplicate keys (all kept on the tape;
 * json_obj_get returns the last, as Python and JavaScript do); numbers of any
 * size (json_int fails if one does not fit int64, json_double rounds).
 *
 * WRITER. struct json_writer appends compact JSON to a struct sl_buf,
 * inserting commas and colons itself; json_write_str() escapes one string.
 * Invalid UTF-8 given to the writer is replaced by U+FFFD so its output is
 * always valid JSON.
 *
 * Threads: no global state; a doc or writer is used by one thread at a time.
 */
#ifndef JSON_JSON_H
#define JSON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

#define JSON_DEPTH_MAX 64                /* default nesting cap (objects + arrays) */
#define JSON_VALS_MAX (16u * 1024 * 1024) /* default cap on tape entries per document */
#define JSON_INPUT_MAX 0xffffffffu       /* inputs must be shorter than this (u32 offsets) */

enum json_type {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING, /* also every object key */
    JSON_ARRAY,
    JSON_OBJECT,
};

enum json_flag {
    JSON_F_ESCAPED = 1, /* string: contains backslash escapes (json_str must decode) */
    JSON_F_INT = 2,     /* number: no fraction or exponent (may still overflow int64) */
    JSON_F_KEY = 4,     /* string: an object key (its value is the next tape entry) */
};

/*
 * One tape entry (16 bytes). Objects are laid out as
 *   OBJECT, key1, value1, key2, value2, ...
 * and arrays as ARRAY, value1, value2, ...; `next` skips a whole subtree.
 */
struct json_val {
    uint32_t off;  /* byte offset in the input: first byte of the value;
                      for strings the byte after the opening quote */
    uint32_t len;  /* bytes of source text: for strings the raw (escaped)
                      contents without quotes; for containers from '{' or
                      '[' to the matching bracket inclusive */
    uint32_t next; /* tape index of the entry after this value and its children */
    uint8_t type;  /* enum json_type */
    uint8_t flags; /* enum json_flag bits */
    uint16_t depth; /* nesting depth: 0 for the root */
};

struct json_doc {
    const uint8_t *src;    /* borrowed: the last parsed input; must outlive use of the tape */
    size_t src_len;        /* bytes of input consumed by the value */
    struct json_val *vals; /* owned (malloc); tape, vals[0] is the root */
    uint32_t nvals;        /* entries in use */
    uint32_t cap;          /* entries allocated */
    uint32_t max_vals;     /* cap on nvals; parse fails with SL_ELIMIT above it */
    uint32_t max_depth;    /* cap on nesting; parse fails with SL_ELIMIT above it */
};

/* ---- reader ------------------------------------------------------------ */

/* Initialise an empty doc with the default caps (JSON_DEPTH_MAX, JSON_VALS_MAX);
 * the caller may change max_depth / max_vals afterwards. Release with
 * json_doc_release(). */
void json_doc_init(struct json_doc *doc);
/* Free the tape. NULL-safe. */
void json_doc_release(struct json_doc *doc);

/*
 * Parse `in` as exactly one JSON text (surrounding whitespace allowed).
 * Returns SL_OK and fills the doc (the previous tape is overwritten), or
 * SL_EPROTO for invalid JSON / SL_ELIMIT for a cap, with a message like
 * `invalid JSON at byte 17: expected ':' after object key` and err->pos = 17.
 * The doc borrows `in`: keep it alive while using the tape.
 */
int json_parse(struct json_doc *doc, struct sl_slice in, struct sl_error *err);

/*
 * Parse the first JSON value in `in` (leading whitespace skipped) and stop
 * after it, without looking at what follows. *used = bytes consumed, up to
 * the end of the value. For streams of concatenated values; errors as
 * json_parse. On SL_OK doc->src_len == *used.
 */
int json_parse_prefix(struct json_doc *doc, struct sl_slice in, size_t *used,
                      struct sl_error *err);
/*
 * As json_parse_prefix(), for a value that must lie on one line of `in`:
 * a newline is not whitespace here, so a value spread over lines fails
 * where its first newline is. NDJSON readers parse a line in place with it,
 * without finding the line's end first.
 */
int json_parse_line(struct json_doc *doc, struct sl_slice in, size_t *used,
                    struct sl_error *err);

/* The root value (valid after a successful parse). */
static inline const struct json_val *json_root(const struct json_doc *doc)
{
    return &doc->vals[0];
}

/* The value's source text: for strings the raw contents between the quotes
 * (still escaped); for everything else the exact JSON text. Borrowed. */
static inline struct sl_slice json_raw(const struct json_doc *doc, const struct json_val *v)
{
    return sl_slice_make(doc->src + v->off, v->len);
}

/* The value's complete JSON text, strings with their quotes. Borrowed. */
static inline struct sl_slice json_text(const struct json_doc *doc, const struct json_val *v)
{
    if (v->type == JSON_STRING)
        return sl_slice_make(doc->src + v->off - 1, (size_t)v->len + 2);
    return sl_slice_make(doc->src + v->off, v->len);
}

/*
 * The unescaped contents of string `v`. Without escapes *out borrows the
 * input (scratch untouched). With escapes the decoded bytes are appended to
 * `scratch` (not reset first) and *out points into scratch: valid until
 * scratch is next modified. Returns SL_OK, SL_ELIMIT if scratch is full, or
 * SL_EUSAGE if v is not a string. The result is valid UTF-8 and may contain
 * NUL bytes (from \u0000).
 */
int json_str(const struct json_doc *doc, const struct json_val *v, struct sl_buf *scratch,
             struct sl_slice *out);

/* Whether string `v` (decoded) equals s[0..n). Escape-aware; no allocation. */
bool json_str_eq(const struct json_doc *doc, const struct json_val *v, const void *s, size_t n);

/* Number `v` as int64. SL_OK, or SL_ELIMIT (message) if it has a fraction or
 * exponent that is not integral or is out of range, SL_EUSAGE if not a number. */
int json_int(const struct json_doc *doc, const struct json_val *v, int64_t *out);
/* Number `v` as double, correctly rounded (±inf on overflow). SL_OK or SL_EUSAGE. */
int json_double(const struct json_doc *doc, const struct json_val *v, double *out);

/*
 * Iterate the members of an object or the elements of an array:
 *
 *   struct json_iter it = json_iter_make(doc, obj);
 *   const struct json_val *key, *val;
 *   while (json_obj_next(&it, &key, &val)) ...
 *   while (json_arr_next(&it, &val)) ...
 *
 * Pointers returned point into the tape (valid until the next parse).
 */
struct json_iter {
    const struct json_doc *doc; /* borrowed */
    uint32_t i;                 /* next tape index */
    uint32_t end;               /* tape index past the container */
};

static inline struct json_iter json_iter_make(const struct json_doc *doc,
                                              const struct json_val *container)
{
    struct json_iter it;
    it.doc = doc;
    it.i = (uint32_t)(container - doc->vals) + 1;
    it.end = container->next;
    return it;
}

static inline bool json_obj_next(struct json_iter *it, const struct json_val **key,
                                 const struct json_val **val)
{
    if (it->i >= it->end)
        return false;
    *key = &it->doc->vals[it->i];
    *val = &it->doc->vals[it->i + 1];
    it->i = (*val)->next;
    return true;
}

static inline bool json_arr_next(struct json_iter *it, const struct json_val **val)
{
    if (it->i >= it->end)
        return false;
    *val = &it->doc->vals[it->i];
    it->i = (*val)->next;
    return true;
}

/* Number of members (object) or elements (array); 0 for scalars. O(n). */
size_t json_len(const struct json_doc *doc, const struct json_val *v);

/* The value of the last member of `obj` whose key equals key[0..n), or NULL. */
const struct json_val *json_obj_get(const struct json_doc *doc, const struct json_val *obj,
                                    const char *key, size_t n);

/* ---- streams: NDJSON bodies and files ---------------------------------- */

/*
 * Reads a sequence of JSON values separated by whitespace: NDJSON (one value
 * per line, blank lines skipped) as well as a single pretty-printed value
 * spanning many lines. Line numbers are 1-based and count '\n'.
 */
struct json_stream {
    struct sl_slice in; /* borrowed: the whole body */
    size_t pos;         /* next byte to read */
    size_t line;        /* line number at pos (1-based) */
};

static inline struct json_stream json_stream_make(struct sl_slice in)
{
    struct json_stream st = { in, 0, 1 };
    return st;
}

/*
 * Parse the next value into doc. Returns 1 with *raw = the value's source
 * text (borrowed from the body) and *line = the line it starts on; 0 at the
 * end of the body; or SL_EPROTO / SL_ELIMIT with a message naming the line,
 * e.g. `line 3: invalid JSON at byte 12 of the line: unexpected character 'x'`
 * and err->pos = the absolute byte offset in the body. After an error the
 * stream has skipped to the start of the next line, so NDJSON callers may go
 * on reading (collect rejects the whole body instead).
 */
int json_stream_next(struct json_stream *st, struct json_doc *doc, struct sl_slice *raw,
                     size_t *line, struct sl_error *err);

/* ---- writer ------------------------------------------------------------ */

#define JSON_WRITER_DEPTH_MAX 64

/*
 * Appends compact JSON to a buffer. Misuse (a value where a key is due,
 * unbalanced end calls, depth beyond JSON_WRITER_DEPTH_MAX) and a full
 * buffer are sticky: every later call does nothing, and json_writer_finish
 * returns SL_EUSAGE or SL_ELIMIT. So a caller writes everything and checks once.
 */
struct json_writer {
    struct sl_buf *buf;   /* borrowed: output, appended to */
    int err;              /* sticky: SL_OK or the first failure */
    int depth;            /* open containers */
    uint8_t first[JSON_WRITER_DEPTH_MAX]; /* 1 while the container at that depth is empty */
    uint8_t is_obj[JSON_WRITER_DEPTH_MAX]; /* 1 for an object */
    bool want_value;      /* a key was written; its value is due */
};

void json_writer_init(struct json_writer *w, struct sl_buf *buf);
void json_w_obj_begin(struct json_writer *w);
void json_w_obj_end(struct json_writer *w);
void json_w_arr_begin(struct json_writer *w);
void json_w_arr_end(struct json_writer *w);
/* An object key (escaped as needed); the next call writes its value. */
void json_w_key(struct json_writer *w, const void *s, size_t n);
void json_w_str(struct json_writer *w, const void *s, size_t n);
void json_w_int(struct json_writer *w, int64_t v);
/* Shortest text that reads back as v; NaN and infinities are written as null. */
void json_w_double(struct json_writer *w, double v);
void json_w_bool(struct json_writer *w, bool v);
void json_w_null(struct json_writer *w);
/* Copy a parsed value (its source text, strings re-quoted as they were). */
void json_w_val(struct json_writer *w, const struct json_doc *doc, const struct json_val *v);
/* Copy JSON text the caller knows is one valid value (not checked). */
void json_w_raw(struct json_writer *w, struct sl_slice json);
/* Returns SL_OK if every call succeeded and all containers are closed. */
int json_writer_finish(struct json_writer *w);

/* Append s[0..n) to buf as a quoted JSON string: `"`, `\`, control
 * characters escaped (\n \r \t \b \f, others \u00XX), invalid UTF-8 bytes
 * replaced by U+FFFD, everything else copied. SL_OK or SL_ELIMIT. */
int json_write_str(struct sl_buf *buf, const void *s, size_t n);

/*
 * Write object `obj` of doc to buf with extra string members merged in, as
 * Python's `event.update(headers)`: members of obj whose key equals one of
 * add_keys are dropped, then every (add_keys[i], add_vals[i]) is appended
 * in order. Values of obj are copied as their source text. Appends to buf.
 * SL_OK, SL_ELIMIT (buf full) or SL_EUSAGE (obj is not an object).
 */
int json_merge_strings(struct sl_buf *buf, const struct json_doc *doc, const struct json_val *obj,
                       const struct sl_slice *add_keys, const struct sl_slice *add_vals,
                       size_t nadd);

#endif
