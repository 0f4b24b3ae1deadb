/*
 * http.h: the HTTP/1.1 server of sluice, on the base/ev loop.
 *
 * Where it sits: `sluice collect` turns HTTP requests into Kafka events; this
 * module is everything HTTP about it and knows nothing about events. Three
 * layers, each usable alone:
 *
 *   PARSER   http_request_parse() reads one request head (request line and
 *            headers) from the bytes received so far, incrementally: it
 *            returns the head's length, SL_EAGAIN (need more bytes) or an
 *            error. http_chunked_decode() decodes a chunked body in place.
 *            Both are pure functions of their input and are fuzzed
 *            (fuzz/http_request.c).
 *   RESPONSE http_response_write() formats one response into a buffer.
 *   SERVER   struct http_server accepts connections, reads and parses
 *            requests (keep-alive, pipelining, Content-Length and chunked
 *            bodies, Expect: 100-continue), enforces every limit, and calls
 *            the handler once per complete request. The handler replies with
 *            http_exchange_reply(), at once or later (collect replies after
 *            the Kafka delivery report); replies go out in request order.
 *
 * Limits and the status they produce (the server answers these itself and
 * then closes the connection):
 *   request line + headers > max_head_bytes (16 KiB)    431
 *   more than HTTP_HEADERS_MAX header lines              431
 *   body (decoded) > max_body_bytes (1 MiB)              413
 *   malformed request line, header or chunked framing    400
 *   Transfer-Encoding other than "chunked"               501
 *   HTTP version other than 1.0 / 1.1                    505
 *   a started request not complete in request_timeout    408
 *   more than max_conns connections open                 503
 * An idle keep-alive connection is closed after idle_timeout_ms, and one
 * whose peer stops reading our replies after the same time.
 *
 * Threads: everything here runs on the loop's thread.
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "base/slice.h"

#define HTTP_HEADERS_MAX 100                /* header lines per request (as Python's http.client) */
#define HTTP_HEAD_MAX_DEFAULT (16 * 1024)   /* request line + headers, bytes */
#define HTTP_BODY_MAX_DEFAULT (1024 * 1024) /* decoded body, bytes */

/* ------------------------------------------------------------------ parser */

struct http_header {
    struct sl_slice name;  /* borrowed: a token, as sent (case kept) */
    struct sl_slice value; /* borrowed: leading SP/HTAB removed, trailing kept
                              (as Python's http.client keeps it) */
};

struct http_request {
    struct sl_slice method;    /* borrowed: "GET", ... (a token) */
    struct sl_slice target;    /* borrowed: the request-target as sent */
    struct sl_slice path;      /* borrowed: target's path, still %-encoded, no query */
    struct sl_slice query;     /* borrowed: after '?', without it; may be empty */
    struct sl_slice authority; /* borrowed: host of an absolute-form target, else empty */
    int minor;                 /* HTTP/1.<minor>: 0 or 1 */
    size_t nheaders;           /* entries in headers[] */
    struct http_header headers[HTTP_HEADERS_MAX];
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked */
    bool keep_alive;        /* the connection may carry another request */
    bool expect_continue;   /* Expect: 100-continue */
    struct sl_slice body;   /* borrowed: the decoded body (set by the server) */
    int status;             /* after a parse error: the status to answer (400, 431, 501, 505) */
};

/*
 * Parse the request head at p[0..len): skip up to a few empty lines, then
 * the request line and the header lines up to the empty line. Lines end in
 * CRLF or a bare LF. Returns the head's length in bytes (> 0) once it is
 * complete, SL_EAGAIN if more bytes are needed (and len < max_head), or an
 * error with req->status set and a message in err:
 *   SL_ELIMIT  head longer than max_head, or too many headers   (431)
 *   SL_EPROTO  malformed                                         (400)
 *   SL_EUNSUPPORTED  unknown transfer coding (501), HTTP/2+ (505)
 * On success the slices in req borrow p. req->body is left empty.
 */
int http_request_parse(const uint8_t *p, size_t len, size_t max_head, struct http_request *req,
                       struct sl_error *err);

/* The value of the first header named `name` (case-insensitive), or NULL. */
const struct http_header *http_request_header(const struct http_request *req, const char *name);

/* Chunked-body decoder state; zero it (`= {0}`) before the first call. */
struct http_chunked {
    int state;          /* private: where in the chunk grammar we are */
    uint64_t remaining; /* data bytes left in the current chunk */
    size_t out;         /* decoded bytes at the front of the body */
    size_t aux;         /* private: bytes of the current size/extension line */
    size_t trailer;     /* trailer bytes seen (capped at HTTP_HEAD_MAX_DEFAULT) */
};

/*
 * Decode a chunked body in place. body[0..*len) holds what has arrived after
 * the head; decoded data is moved to the front (body[0..ck->out)) and the
 * raw bytes not yet decoded follow it, so *len shrinks by the framing
 * removed. Call again with the same ck after appending bytes at body[*len].
 * Returns the decoded length (>= 0) once the last chunk and trailers are
 * read (pipelined bytes, if any, start at body[ck->out]); SL_EAGAIN if more
 * is needed; SL_EPROTO for bad framing; SL_ELIMIT when the decoded body
 * would exceed max_body.
 */
int64_t http_chunked_decode(struct http_chunked *ck, uint8_t *body, size_t *len, size_t max_body,
                            struct sl_error *err);

/* "OK", "Not Found", ...; "Unknown" for codes it does not know. */
const char *http_status_text(int status);

/* ---------------------------------------------------------------- response */

struct http_response {
    int status;               /* 200, 404, ... */
    const char *content_type; /* borrowed; NULL: no Content-Type header */
    const char *headers;      /* borrowed: extra header lines, each ending "\r\n"; or NULL */
    struct sl_slice body;     /* borrowed */
};

/*
 * Append the response to out: status line (HTTP/1.1), Date (when date is
 * non-NULL), Content-Type, Content-Length, a Connection header when it
 * differs from the client's default (keep_alive for HTTP/1.0, close for
 * 1.1), the extra headers, then the body unless head_only (HEAD requests).
 * SL_OK or SL_ELIMIT (out full).
 */
int http_response_write(struct sl_buf *out, const struct http_response *resp, int minor,
                        bool keep_alive, bool head_only, const char *date);

/* ------------------------------------------------------------------ server */

struct http_server;
struct http_exchange; /* one request and its pending reply; owned by the server */

/*
 * Called once per complete request. The request (and its slices) is valid
 * only during the call: copy what you keep. The handler must eventually call
 * http_exchange_reply(ex, ...) exactly once, during the call or later from
 * the loop's thread, even if the client has gone away meanwhile.
 */
typedef void http_handler_fn(struct http_exchange *ex, const struct http_request *req, void *arg);

struct http_server_config {
    const char *listen;        /* "HOST:PORT" (see base/net.h); required */
    size_t max_head_bytes;     /* 0: HTTP_HEAD_MAX_DEFAULT */
    size_t max_body_bytes;     /* 0: HTTP_BODY_MAX_DEFAULT */
    int max_conns;             /* open connections; 0: 1024 */
    int max_pipeline;          /* requests awaiting replies per connection; 0: 32 */
    int idle_timeout_ms;       /* keep-alive idle / stalled reader; 0: 60000 */
    int request_timeout_ms;    /* from a request's first byte to its end; 0: 10000 */
    http_handler_fn *handler;  /* required */
    void *arg;                 /* passed to handler and before_sleep */
    /*
     * Optional: called on the loop thread from the server's before-sleep
     * hook before it writes the replies of this loop iteration, and again
     * after each round of writing that dispatched more (pipelined)
     * requests, so that a handler can batch work per iteration (collect
     * hands its events to the producer here). It may reply.
     */
    void (*before_sleep)(void *arg);
};

/* Server-side counters (for /metrics). */
struct http_server_stats {
    uint64_t accepted;     /* connections accepted */
    uint64_t rejected;     /* connections refused with 503 (max_conns) */
    uint64_t open;         /* connections open now */
    uint64_t requests;     /* requests passed to the handler */
    uint64_t errors[8];    /* answered by the server: see http_server_error_status */
};

/* The statuses counted in http_server_stats.errors[i], 0-terminated. */
extern const int http_server_error_status[8];

/*
 * Listen and register with the loop. The server installs the loop's
 * before-sleep hook (it flushes replies and frees closed connections there);
 * the caller must not replace it. NULL on failure (message in err). Free
 * with http_server_free() after the loop has stopped.
 */
struct http_server *http_server_new(struct sl_ev *ev, const struct http_server_config *cfg,
                                    struct sl_error *err);
/* Close every connection and the listener; pending exchanges are orphaned
 * (their replies are then discarded). NULL-safe. */
void http_server_free(struct http_server *srv);

/* The port the server listens on (useful with ":0"). */
int http_server_port(const struct http_server *srv);

/*
 * Begin a graceful stop: close the listener, read no new requests, and close
 * each connection once its pending replies are written. Replies to requests
 * already handed to the handler still go out.
 */
void http_server_drain(struct http_server *srv);
/* Whether no connection is open (after http_server_drain: the drain is done). */
bool http_server_idle(const struct http_server *srv);

void http_server_stats(const struct http_server *srv, struct http_server_stats *stats);

/*
 * Reply to ex (copied; the response's borrowed parts may be freed after the
 * call). The reply is written when every earlier request on the connection
 * has been answered. If the client has gone, the reply is dropped. Frees ex:
 * do not use it afterwards.
 */
void http_exchange_reply(struct http_exchange *ex, const struct http_response *resp);

/* The client address "IP:PORT" (borrowed; valid until the reply). */
const char *http_exchange_peer(const struct http_exchange *ex);

#endif
