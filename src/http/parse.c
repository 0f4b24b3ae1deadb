/*
 * parse.c: the HTTP/1.1 request parser and chunked-body decoder (see http.h).
 *
 * Both are pure functions of the bytes they are given, so the server can call
 * them again whenever more bytes arrive, and the fuzzer can call them on
 * anything. The parser first looks for the end of the head (an empty line)
 * and only then parses it line by line: a head is at most 16 KiB, so the
 * rescan on each arrival is cheap, and the server remembers how far it has
 * looked for the empty line already.
 *
 * Strictness follows RFC 9112 where the choice is a security one (request
 * smuggling): single spaces in the request line, no whitespace before a
 * header's colon, no obs-fold, Content-Length and Transfer-Encoding never
 * together, conflicting Content-Lengths rejected, Host required in 1.1.
 * Where it only affects what an event logs, it follows Python's http.client,
 * which the reference Flask app sits on: header values keep trailing blanks.
 */
#include "http/http.h"

#include <string.h>

/* ------------------------------------------------------------ characters */

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP, HTAB, obs-text: anything but controls and DEL. */
static bool is_value_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(struct sl_slice s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != lower((uint8_t)lit[i]))
            return false;
    return true;
}

static struct sl_slice trim(struct sl_slice s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* ------------------------------------------------------------------ head */

static int bad(struct http_request *req, struct sl_error *err, int code, int status, size_t pos,
               const char *msg)
{
    req->status = status;
    return sl_fail_at(err, code, pos, "%s", msg);
}

/* The next line of p[*pos..end) without its CRLF or LF; a CR not followed by
 * LF makes the line invalid (*ok = false). */
static struct sl_slice next_line(const uint8_t *p, size_t *pos, size_t end, bool *ok)
{
    size_t start = *pos, i = start;
    while (i < end && p[i] != '\n')
        i++;
    size_t stop = i;
    if (stop > start && p[stop - 1] == '\r')
        stop--;
    *pos = i < end ? i + 1 : end;
    *ok = memchr(p + start, '\r', stop - start) == NULL;
    return sl_slice_make(p + start, stop - start);
}

static int parse_target(struct http_request *req, struct sl_slice t)
{
    static const char slash[] = "/";
    size_t i = 0;
    if (t.len == 1 && t.p[0] == '*') {
        req->path = t;
        return SL_OK;
    }
    if (t.p[0] != '/') {
        /* absolute-form: http://authority/path?query */
        size_t skip;
        if (t.len > 7 && ieq(sl_slice_make(t.p, 7), "http://"))
            skip = 7;
        else if (t.len > 8 && ieq(sl_slice_make(t.p, 8), "https://"))
            skip = 8;
        else
            return SL_EPROTO;
        size_t a = skip;
        while (a < t.len && t.p[a] != '/' && t.p[a] != '?')
            a++;
        if (a == skip)
            return SL_EPROTO;
        req->authority = sl_slice_make(t.p + skip, a - skip);
        i = a;
        if (i == t.len || t.p[i] == '?') {
            req->path = sl_slice_make(slash, 1);
            if (i < t.len)
                req->query = sl_slice_make(t.p + i + 1, t.len - i - 1);
            return SL_OK;
        }
    }
    size_t q = i;
    while (q < t.len && t.p[q] != '?')
        q++;
    req->path = sl_slice_make(t.p + i, q - i);
    if (q < t.len)
        req->query = sl_slice_make(t.p + q + 1, t.len - q - 1);
    return SL_OK;
}

static int parse_request_line(struct http_request *req, struct sl_slice line, size_t off,
                              struct sl_error *err)
{
    size_t i = 0;
    while (i < line.len && is_tchar(line.p[i]))
        i++;
    if (i == 0 || i >= line.len || line.p[i] != ' ')
        return bad(req, err, SL_EPROTO, 400, off + i, "malformed request line: bad method");
    req->method = sl_slice_make(line.p, i);
    size_t t0 = ++i;
    while (i < line.len && line.p[i] > 0x20 && line.p[i] < 0x7f)
        i++;
    if (i == t0 || i >= line.len || line.p[i] != ' ')
        return bad(req, err, SL_EPROTO, 400, off + i, "malformed request line: bad target");
    req->target = sl_slice_make(line.p + t0, i - t0);
    if (parse_target(req, req->target) != SL_OK)
        return bad(req, err, SL_EPROTO, 400, off + t0, "malformed request target");
    struct sl_slice v = sl_slice_make(line.p + i + 1, line.len - i - 1);
    if (v.len == 8 && memcmp(v.p, "HTTP/1.", 7) == 0 && (v.p[7] == '0' || v.p[7] == '1')) {
        req->minor = v.p[7] - '0';
        return SL_OK;
    }
    if (v.len == 8 && memcmp(v.p, "HTTP/", 5) == 0 && v.p[5] >= '0' && v.p[5] <= '9' &&
        v.p[6] == '.' && v.p[7] >= '0' && v.p[7] <= '9')
        return bad(req, err, SL_EUNSUPPORTED, 505, off + i + 1, "HTTP version not supported");
    return bad(req, err, SL_EPROTO, 400, off + i + 1, "malformed request line: bad version");
}

/* Connection: a comma-separated token list. */
static void scan_connection(struct sl_slice v, bool *close, bool *keep)
{
    size_t i = 0;
    while (i < v.len) {
        size_t j = i;
        while (j < v.len && v.p[j] != ',')
            j++;
        struct sl_slice tok = trim(sl_slice_make(v.p + i, j - i));
        if (ieq(tok, "close"))
            *close = true;
        else if (ieq(tok, "keep-alive"))
            *keep = true;
        i = j + 1;
    }
}

static int parse_header_semantics(struct http_request *req, const struct http_header *h,
                                  size_t off, int *hosts, bool *close, bool *keep,
                                  struct sl_error *err)
{
    struct sl_slice name = h->name, v = trim(h->value);
    if (ieq(name, "content-length")) {
        if (v.len == 0 || v.len > 18)
            return bad(req, err, SL_EPROTO, 400, off, "invalid Content-Length");
        int64_t n = 0;
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] < '0' || v.p[i] > '9')
                return bad(req, err, SL_EPROTO, 400, off, "invalid Content-Length");
            n = n * 10 + (v.p[i] - '0');
        }
        if (req->content_length >= 0 && req->content_length != n)
            return bad(req, err, SL_EPROTO, 400, off, "conflicting Content-Length headers");
        req->content_length = n;
    } else if (ieq(name, "transfer-encoding")) {
        if (!ieq(v, "chunked"))
            return bad(req, err, SL_EUNSUPPORTED, 501, off, "unsupported Transfer-Encoding");
        if (req->chunked)
            return bad(req, err, SL_EPROTO, 400, off, "chunked applied twice");
        req->chunked = true;
    } else if (ieq(name, "connection")) {
        scan_connection(v, close, keep);
    } else if (ieq(name, "expect")) {
        if (ieq(v, "100-continue"))
            req->expect_continue = true;
    } else if (ieq(name, "host")) {
        ++*hosts;
    }
    return SL_OK;
}

/* Offset just past the empty line ending the head, or 0 if not there yet. */
static size_t find_head_end(const uint8_t *p, size_t from, size_t len)
{
    for (size_t i = from; i < len; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < len && p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

int http_request_parse(const uint8_t *p, size_t len, size_t max_head, struct http_request *req,
                       struct sl_error *err)
{
    memset(req, 0, offsetof(struct http_request, headers));
    req->content_length = -1;
    req->chunked = req->keep_alive = req->expect_continue = false;
    req->body = sl_slice_make(NULL, 0);
    req->status = 0;

    /* RFC 9112 2.2: ignore empty lines before the request line. */
    size_t start = 0;
    while (start < len && (p[start] == '\r' || p[start] == '\n')) {
        if (p[start] == '\r' && start + 1 < len && p[start + 1] != '\n')
            return bad(req, err, SL_EPROTO, 400, start, "malformed request line");
        start++;
    }
    if (start >= max_head)
        return bad(req, err, SL_ELIMIT, 431, start, "request head too large");
    if (start == len)
        return SL_EAGAIN;
    /* The first line alone may already be the whole head's end ("\n\r\n"). */
    size_t end = find_head_end(p, start, len);
    if (end == 0) {
        if (len >= max_head)
            return bad(req, err, SL_ELIMIT, 431, max_head, "request head too large");
        return SL_EAGAIN;
    }
    if (end > max_head)
        return bad(req, err, SL_ELIMIT, 431, max_head, "request head too large");

    size_t pos = start;
    bool ok;
    size_t off = pos;
    struct sl_slice line = next_line(p, &pos, end, &ok);
    if (!ok || line.len == 0)
        return bad(req, err, SL_EPROTO, 400, off, "malformed request line");
    int rc = parse_request_line(req, line, off, err);
    if (rc != SL_OK)
        return rc;

    int hosts = 0;
    bool close = false, keep = false;
    for (;;) {
        off = pos;
        line = next_line(p, &pos, end, &ok);
        if (!ok)
            return bad(req, err, SL_EPROTO, 400, off, "stray CR in header line");
        if (line.len == 0)
            break;
        if (line.p[0] == ' ' || line.p[0] == '\t')
            return bad(req, err, SL_EPROTO, 400, off, "obsolete header line folding");
        if (req->nheaders == HTTP_HEADERS_MAX)
            return bad(req, err, SL_ELIMIT, 431, off, "too many header lines");
        size_t i = 0;
        while (i < line.len && is_tchar(line.p[i]))
            i++;
        if (i == 0 || i == line.len || line.p[i] != ':')
            return bad(req, err, SL_EPROTO, 400, off + i, "malformed header line");
        struct http_header *h = &req->headers[req->nheaders++];
        h->name = sl_slice_make(line.p, i);
        i++;
        while (i < line.len && (line.p[i] == ' ' || line.p[i] == '\t'))
            i++;
        h->value = sl_slice_make(line.p + i, line.len - i);
        for (size_t k = i; k < line.len; k++)
            if (!is_value_char(line.p[k]))
                return bad(req, err, SL_EPROTO, 400, off + k, "control character in header value");
        rc = parse_header_semantics(req, h, off, &hosts, &close, &keep, err);
        if (rc != SL_OK)
            return rc;
    }
    if (req->chunked && req->content_length >= 0)
        return bad(req, err, SL_EPROTO, 400, 0, "both Content-Length and Transfer-Encoding");
    if (req->chunked && req->minor == 0)
        return bad(req, err, SL_EPROTO, 400, 0, "Transfer-Encoding in an HTTP/1.0 request");
    if (hosts > 1)
        return bad(req, err, SL_EPROTO, 400, 0, "more than one Host header");
    if (hosts == 0 && req->minor == 1)
        return bad(req, err, SL_EPROTO, 400, 0, "missing Host header");
    req->keep_alive = req->minor == 1 ? !close : keep && !close;
    return (int)end;
}

const struct http_header *http_request_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (ieq(req->headers[i].name, name))
            return &req->headers[i];
    return NULL;
}

/* --------------------------------------------------------------- chunked */

enum {
    CK_SIZE0 = 0, /* expecting the first hex digit of a chunk size */
    CK_SIZE,      /* more hex digits, or the end of the size */
    CK_EXT,       /* chunk extensions, up to the line end */
    CK_SIZE_LF,   /* CR seen at the end of the size line */
    CK_DATA,      /* `remaining` data bytes */
    CK_DATA_CR,   /* the CRLF after the data */
    CK_DATA_LF,
    CK_TRAILER0,  /* start of a trailer line, or the final empty line */
    CK_TRAILER,   /* inside a trailer line */
    CK_END_LF,    /* CR of the final empty line seen */
    CK_DONE,
};

#define CK_EXT_MAX 4096

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (uint8_t)lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int64_t http_chunked_decode(struct http_chunked *ck, uint8_t *body, size_t *len, size_t max_body,
                            struct sl_error *err)
{
    size_t r = ck->out, w = ck->out, n = *len;
    int rc = SL_EAGAIN;
    while (r < n && ck->state != CK_DONE) {
        uint8_t c = body[r];
        switch (ck->state) {
        case CK_SIZE0:
        case CK_SIZE: {
            int d = hexval(c);
            if (d >= 0) {
                if (ck->remaining > max_body - ck->out) {
                    rc = sl_fail_at(err, SL_ELIMIT, r, "chunked body larger than %zu bytes",
                                    max_body);
                    goto out;
                }
                ck->remaining = ck->remaining * 16 + (uint64_t)d;
                ck->state = CK_SIZE;
                r++;
                break;
            }
            if (ck->state == CK_SIZE0) {
                rc = sl_fail_at(err, SL_EPROTO, r, "bad chunk size");
                goto out;
            }
            if (ck->remaining > max_body - ck->out) {
                rc = sl_fail_at(err, SL_ELIMIT, r, "chunked body larger than %zu bytes", max_body);
                goto out;
            }
            if (c == ';' || c == ' ' || c == '\t') {
                ck->state = CK_EXT;
                ck->aux = 0;
            } else if (c == '\r') {
                ck->state = CK_SIZE_LF;
            } else if (c == '\n') {
                ck->state = ck->remaining ? CK_DATA : CK_TRAILER0;
            } else {
                rc = sl_fail_at(err, SL_EPROTO, r, "bad chunk size");
                goto out;
            }
            r++;
            break;
        }
        case CK_EXT:
            if (c == '\r') {
                ck->state = CK_SIZE_LF;
            } else if (c == '\n') {
                ck->state = ck->remaining ? CK_DATA : CK_TRAILER0;
            } else if (!is_value_char(c) || ++ck->aux > CK_EXT_MAX) {
                rc = sl_fail_at(err, SL_EPROTO, r, "bad chunk extension");
                goto out;
            }
            r++;
            break;
        case CK_SIZE_LF:
            if (c != '\n') {
                rc = sl_fail_at(err, SL_EPROTO, r, "bad chunk size line ending");
                goto out;
            }
            ck->state = ck->remaining ? CK_DATA : CK_TRAILER0;
            r++;
            break;
        case CK_DATA: {
            size_t take = n - r;
            if ((uint64_t)take > ck->remaining)
                take = (size_t)ck->remaining;
            if (w != r)
                memmove(body + w, body + r, take);
            w += take;
            r += take;
            ck->out += take;
            ck->remaining -= take;
            if (ck->remaining == 0)
                ck->state = CK_DATA_CR;
            break;
        }
        case CK_DATA_CR:
            if (c == '\r') {
                ck->state = CK_DATA_LF;
            } else if (c == '\n') {
                ck->state = CK_SIZE0;
            } else {
                rc = sl_fail_at(err, SL_EPROTO, r, "chunk data not followed by CRLF");
                goto out;
            }
            r++;
            break;
        case CK_DATA_LF:
            if (c != '\n') {
                rc = sl_fail_at(err, SL_EPROTO, r, "chunk data not followed by CRLF");
                goto out;
            }
            ck->state = CK_SIZE0;
            r++;
            break;
        case CK_TRAILER0:
            if (c == '\r') {
                ck->state = CK_END_LF;
            } else if (c == '\n') {
                ck->state = CK_DONE;
            } else if (c == ' ' || c == '\t' || !is_tchar(c)) {
                rc = sl_fail_at(err, SL_EPROTO, r, "malformed chunked trailer");
                goto out;
            } else {
                ck->state = CK_TRAILER;
            }
            r++;
            break;
        case CK_TRAILER:
            if (++ck->trailer > HTTP_HEAD_MAX_DEFAULT) {
                rc = sl_fail_at(err, SL_EPROTO, r, "chunked trailers too long");
                goto out;
            }
            if (c == '\n')
                ck->state = CK_TRAILER0;
            else if (c != '\r' && !is_value_char(c)) {
                rc = sl_fail_at(err, SL_EPROTO, r, "malformed chunked trailer");
                goto out;
            }
            r++;
            break;
        case CK_END_LF:
            if (c != '\n') {
                rc = sl_fail_at(err, SL_EPROTO, r, "malformed end of chunked body");
                goto out;
            }
            ck->state = CK_DONE;
            r++;
            break;
        }
    }
    if (ck->state == CK_DONE)
        rc = SL_OK;
out:
    /* Close the gap between decoded data and the raw bytes still to read. */
    if (r > w) {
        memmove(body + w, body + r, n - r);
        *len = n - (r - w);
    }
    if (rc == SL_OK)
        return (int64_t)ck->out;
    return rc;
}

/* ---------------------------------------------------------------- status */

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
