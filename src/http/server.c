/*
 * server.c: the HTTP/1.1 server on base/ev (see http.h for the contract).
 *
 * NOTES ON THE DESIGN OF THE SERVER
 *
 * Definitions. A connection (struct conn) owns its socket, an input buffer
 * `in` (bytes received, the current request starting at in_off) and an
 * output buffer `out` (reply bytes not yet written, from out_off). An
 * exchange (struct http_exchange) is one request passed to the handler and
 * waiting for its reply; a connection keeps its exchanges in a FIFO so that
 * replies leave in request order whatever order the handler answers in.
 *
 * Invariants.
 *   1. A connection is freed only in the before-sleep hook (free_closed),
 *      never inside one of its own callbacks: close_conn() only marks it
 *      and moves it to the closed list.
 *   2. An exchange is freed by http_exchange_reply() once its reply is in
 *      `out` (or dropped); an exchange whose connection was freed first is
 *      "orphaned" (ex->conn == NULL) and lives until the handler replies.
 *   3. in.len - in_off <= max_head + max_body + READ_CHUNK: the input
 *      buffer's hard cap, so a client can never make us allocate more.
 *   4. We read only while the connection may take another request
 *      (!no_more, nexch < max_pipeline, little unwritten output): a client
 *      that does not read its replies stops being read from (backpressure).
 *
 * States of a connection and the functions that move it:
 *   HEAD --(head parsed: process_input)--> BODY --(body complete: dispatch)--> HEAD
 *   any  --(parse error / limit: fail_request)--> no_more, reply queued
 *   no_more or draining, no exchanges, out written --(maybe_finish)--> LINGER
 *   LINGER --(peer EOF or 2 s: on_conn_event / on_tick)--> closed
 *   any  --(I/O error, idle timeout)--> closed
 *   closed --(before-sleep: free_closed)--> freed
 *
 * Timeouts need no timer per connection: one tick every 250 ms scans them.
 */
#include "http/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"

#define READ_CHUNK (16 * 1024)
#define OUT_HIGH (256 * 1024) /* stop reading while this much output is unwritten */
#define LINGER_MS 2000
#define TICK_MS 250
#define SHRINK_ABOVE (256 * 1024) /* input buffer bytes kept between requests */

const int http_server_error_status[8] = { 400, 408, 413, 431, 501, 505, 503, 0 };

enum { ST_HEAD, ST_BODY };

struct conn {
    struct http_server *srv; /* borrowed */
    int fd;                  /* owned; -1 once closed */
    char peer[64];           /* "IP:PORT" */
    struct sl_buf in;        /* received bytes; the current request starts at in_off */
    size_t in_off;
    struct sl_buf out;       /* reply bytes; unwritten from out_off */
    size_t out_off;
    int state;               /* ST_HEAD or ST_BODY */
    size_t scan;             /* head end searched for up to here (relative to in_off) */
    size_t head_len;         /* ST_BODY: bytes of the head */
    int64_t content_length;  /* ST_BODY: -1 for chunked */
    bool chunked;
    bool sent_continue;
    struct http_chunked ck;
    struct http_exchange *first, *last; /* owned: awaiting replies, in request order */
    int nexch;
    bool no_more;    /* read no further requests (close requested, error, or EOF) */
    bool peer_eof;   /* the client shut its side */
    bool lingering;  /* our side shut; discarding input until EOF */
    bool closed;     /* on the closed list */
    bool queued;     /* on the pending list */
    bool in_process; /* inside process_input (no re-entry) */
    bool blocked;    /* a send hit EAGAIN: wait for the socket to drain (WRITE interest) */
    int mask;        /* current ev mask */
    int64_t req_start_ms; /* first byte of the unfinished request, 0 if none */
    int64_t active_ms;    /* last read or write progress, or linger start */
    struct conn *prev, *next; /* all open connections */
    struct conn *pending_next; /* pending list (process + flush in before-sleep) */
    struct conn *closed_next;
};

struct http_exchange {
    struct conn *conn;          /* borrowed; NULL when orphaned */
    struct http_exchange *next; /* in conn's FIFO */
    int minor;
    bool keep_alive;
    bool head_only;
    bool done;                  /* reply formatted into `reply` */
    struct sl_buf reply;        /* owned: formatted reply while not at the FIFO head */
};

struct http_server {
    struct sl_ev *ev;           /* borrowed */
    struct http_server_config cfg;
    int listen_fd;              /* owned; -1 after drain */
    int port;
    bool draining;
    int64_t tick_id;
    struct conn *conns;         /* owned: every connection not yet freed, open or closing */
    struct conn *pending;       /* borrowed links into conns */
    struct conn *closed;        /* borrowed links: to free in before-sleep */
    struct http_request req;    /* scratch for parsing (big: headers array) */
    struct http_server_stats stats;
    char date[64];              /* cached "Date: ...\r\n" */
    int64_t date_sec;
    bool accept_paused;
};

/* ------------------------------------------------------------- response */

/* Decimal digits of v at p (room for 20); returns how many. */
static size_t put_dec(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

int http_response_write(struct sl_buf *out, const struct http_response *resp, int minor,
                        bool keep_alive, bool head_only, const char *date)
{
    /* Built by hand, not with printf: this runs once per reply. */
    size_t before = out->len;
    char num[24];
    int rc = sl_buf_append(out, "HTTP/1.1 ", 9);
    if (rc == SL_OK && resp->status >= 0)
        rc = sl_buf_append(out, num, put_dec(num, (uint64_t)resp->status));
    else if (rc == SL_OK)
        rc = sl_buf_appendf(out, "%d", resp->status);
    if (rc == SL_OK)
        rc = sl_buf_append(out, " ", 1);
    if (rc == SL_OK)
        rc = sl_buf_append_str(out, http_status_text(resp->status));
    if (rc == SL_OK)
        rc = sl_buf_append(out, "\r\n", 2);
    if (rc == SL_OK && date)
        rc = sl_buf_append_str(out, date);
    if (rc == SL_OK && resp->content_type) {
        rc = sl_buf_append(out, "Content-Type: ", 14);
        if (rc == SL_OK)
            rc = sl_buf_append_str(out, resp->content_type);
        if (rc == SL_OK)
            rc = sl_buf_append(out, "\r\n", 2);
    }
    if (rc == SL_OK)
        rc = sl_buf_append(out, "Content-Length: ", 16);
    if (rc == SL_OK)
        rc = sl_buf_append(out, num, put_dec(num, resp->body.len));
    if (rc == SL_OK)
        rc = sl_buf_append(out, "\r\n", 2);
    if (rc == SL_OK && !keep_alive)
        rc = sl_buf_append_str(out, "Connection: close\r\n");
    else if (rc == SL_OK && minor == 0)
        rc = sl_buf_append_str(out, "Connection: keep-alive\r\n");
    if (rc == SL_OK && resp->headers)
        rc = sl_buf_append_str(out, resp->headers);
    if (rc == SL_OK)
        rc = sl_buf_append(out, "\r\n", 2);
    if (rc == SL_OK && !head_only)
        rc = sl_buf_append_slice(out, resp->body);
    if (rc != SL_OK)
        out->len = before, out->data[before] = '\0';
    return rc;
}

static const char *date_header(struct http_server *srv)
{
    time_t now = time(NULL);
    if (now != srv->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(srv->date, sizeof srv->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        srv->date_sec = now;
    }
    return srv->date;
}

/* ------------------------------------------------------------- lifecycle */

static void on_conn_event(struct sl_ev *ev, int fd, int mask, void *arg);
static void process_input(struct conn *conn);

static void set_mask(struct conn *conn, int mask)
{
    if (conn->fd < 0 || conn->mask == mask)
        return;
    sl_ev_fd_mask(conn->srv->ev, conn->fd, mask);
    conn->mask = mask;
}

static void queue_pending(struct conn *conn)
{
    if (conn->queued || conn->closed)
        return;
    conn->queued = true;
    conn->pending_next = conn->srv->pending;
    conn->srv->pending = conn;
}

/* Mark for freeing in before-sleep; the socket closes now (invariant 1). */
static void close_conn(struct conn *conn)
{
    if (conn->closed)
        return;
    struct http_server *srv = conn->srv;
    conn->closed = true;
    if (conn->fd >= 0) {
        sl_ev_fd_del(srv->ev, conn->fd);
        close(conn->fd);
        conn->fd = -1;
    }
    srv->stats.open--;
    conn->closed_next = srv->closed;
    srv->closed = conn;
}

static void free_conn(struct conn *conn)
{
    struct http_server *srv = conn->srv;
    /* Orphan what the handler still holds; drop finished replies. */
    struct http_exchange *ex = conn->first;
    while (ex) {
        struct http_exchange *next = ex->next;
        if (ex->done) {
            sl_buf_release(&ex->reply);
            free(ex);
        } else {
            ex->conn = NULL;
            ex->next = NULL;
        }
        ex = next;
    }
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    sl_buf_release(&conn->in);
    sl_buf_release(&conn->out);
    free(conn);
}

/* Our replies are all written and no more requests will come: shut our side
 * and wait for the client's EOF, so that it reads the last reply before
 * the socket goes (a close with unread input would send RST). */
static void start_linger(struct conn *conn)
{
    if (conn->lingering || conn->closed)
        return;
    if (conn->peer_eof) {
        close_conn(conn);
        return;
    }
    shutdown(conn->fd, SHUT_WR);
    conn->lingering = true;
    conn->active_ms = sl_clock_mono_ms();
    set_mask(conn, SL_EV_READ);
}

static void maybe_finish(struct conn *conn)
{
    if (conn->closed || conn->lingering || conn->nexch > 0 || conn->out_off < conn->out.len)
        return;
    if (conn->no_more || conn->srv->draining || conn->peer_eof)
        start_linger(conn);
}

/* Write what we can; on EAGAIN wait for the socket to drain. */
static void flush_out(struct conn *conn)
{
    while (!conn->closed && conn->out_off < conn->out.len) {
        /* MSG_NOSIGNAL: a client that went away is EPIPE here, never SIGPIPE. */
        ssize_t n = send(conn->fd, conn->out.data + conn->out_off, conn->out.len - conn->out_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            conn->out_off += (size_t)n;
            conn->active_ms = sl_clock_mono_ms();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn->blocked = true;
            set_mask(conn, (conn->mask & SL_EV_READ) | SL_EV_WRITE);
            return;
        }
        close_conn(conn); /* EPIPE, ECONNRESET: the client is gone */
        return;
    }
    if (conn->closed)
        return;
    conn->blocked = false;
    sl_buf_reset(&conn->out);
    conn->out_off = 0;
    maybe_finish(conn);
}

static bool may_read(const struct conn *conn)
{
    const struct http_server *srv = conn->srv;
    return !conn->no_more && !conn->peer_eof && !srv->draining &&
           conn->nexch < srv->cfg.max_pipeline && conn->out.len - conn->out_off < OUT_HIGH;
}

static void update_mask(struct conn *conn)
{
    if (conn->closed || conn->lingering)
        return;
    int mask = may_read(conn) ? SL_EV_READ : 0;
    /* Output not yet tried is written by the before-sleep hook (the reply
     * queued the connection): watch for writability only after a send found
     * the socket full, which spares two epoll_ctl calls per reply. */
    if (conn->blocked && conn->out_off < conn->out.len)
        mask |= SL_EV_WRITE;
    set_mask(conn, mask);
}

/* ------------------------------------------------------------- exchanges */

static struct http_exchange *exchange_push(struct conn *conn, int minor, bool keep_alive,
                                           bool head_only)
{
    struct http_exchange *ex = sl_xcalloc(1, sizeof *ex);
    ex->conn = conn;
    ex->minor = minor;
    ex->keep_alive = keep_alive;
    ex->head_only = head_only;
    if (conn->last)
        conn->last->next = ex;
    else
        conn->first = ex;
    conn->last = ex;
    conn->nexch++;
    return ex;
}

/* Move finished replies at the FIFO head into `out`. */
static void advance(struct conn *conn)
{
    while (conn->first && conn->first->done) {
        struct http_exchange *ex = conn->first;
        conn->first = ex->next;
        if (!conn->first)
            conn->last = NULL;
        conn->nexch--;
        if (ex->reply.len && sl_buf_append(&conn->out, ex->reply.data, ex->reply.len) != SL_OK)
            close_conn(conn);
        sl_buf_release(&ex->reply);
        free(ex);
    }
}

void http_exchange_reply(struct http_exchange *ex, const struct http_response *resp)
{
    struct conn *conn = ex->conn;
    if (!conn) { /* orphaned: the client went away */
        free(ex);
        return;
    }
    struct http_server *srv = conn->srv;
    bool keep = ex->keep_alive && !srv->draining;
    if (!keep)
        conn->no_more = true;
    const char *date = date_header(srv);
    if (conn->first == ex && !conn->closed) {
        /* The common case: straight into the output buffer. */
        if (http_response_write(&conn->out, resp, ex->minor, keep, ex->head_only, date) != SL_OK)
            close_conn(conn);
        ex->done = true;
    } else {
        sl_buf_init(&ex->reply, 0);
        http_response_write(&ex->reply, resp, ex->minor, keep, ex->head_only, date);
        ex->done = true;
        if (conn->first != ex)
            return; /* waits for the replies before it */
    }
    if (conn->first == ex && ex->reply.len == 0) {
        /* written directly above: pop it without copying */
        conn->first = ex->next;
        if (!conn->first)
            conn->last = NULL;
        conn->nexch--;
        sl_buf_release(&ex->reply);
        free(ex);
    }
    if (!conn->closed)
        advance(conn);
    queue_pending(conn);
}

const char *http_exchange_peer(const struct http_exchange *ex)
{
    return ex->conn ? ex->conn->peer : "";
}

/* The server answers this request itself (400, 413, ...) and closes after. */
static void fail_request(struct conn *conn, int status, const char *msg, int minor)
{
    struct http_server *srv = conn->srv;
    for (int i = 0; http_server_error_status[i]; i++)
        if (http_server_error_status[i] == status)
            srv->stats.errors[i]++;
    sl_debug("http: %s: %d %s", conn->peer, status, msg);
    char body[SL_ERROR_MSG_MAX + 16];
    int n = snprintf(body, sizeof body, "error: %s\n", msg);
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)sizeof body - 1;
    conn->no_more = true;
    struct http_exchange *ex = exchange_push(conn, minor, false, false);
    struct http_response resp = { status, "text/plain; charset=utf-8", NULL,
                                  sl_slice_make(body, (size_t)n) };
    http_exchange_reply(ex, &resp);
}

/* ----------------------------------------------------------------- input */

static bool head_may_be_complete(struct conn *conn)
{
    /* Look for the empty line only in bytes not searched before. */
    const uint8_t *p = conn->in.data + conn->in_off;
    size_t len = conn->in.len - conn->in_off;
    size_t from = conn->scan > 3 ? conn->scan - 3 : 0;
    for (size_t i = from; i < len; i++) {
        if (p[i] == '\n' && ((i + 1 < len && p[i + 1] == '\n') ||
                             (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')))
            return true;
    }
    conn->scan = len;
    return len >= conn->srv->cfg.max_head_bytes;
}

/* `parsed`: srv->req still holds this request's head, parsed in this same
 * pass of process_input with the buffer unmoved since. */
static void dispatch(struct conn *conn, size_t body_len, bool parsed)
{
    struct http_server *srv = conn->srv;
    struct http_request *req = &srv->req;
    uint8_t *base = conn->in.data + conn->in_off;
    struct sl_error err = { 0 };
    /* Otherwise parse the head again: the buffer may have moved since (the
     * result is the same, the slices now point at the current bytes). */
    int rc = parsed ? (int)conn->head_len
                    : http_request_parse(base, conn->head_len, srv->cfg.max_head_bytes, req,
                                         &err);
    if (rc != (int)conn->head_len) {
        fail_request(conn, 500, "request head changed", 1);
        return;
    }
    req->body = sl_slice_make(base + conn->head_len, body_len);
    bool head_only = sl_slice_eq_str(req->method, "HEAD");
    struct http_exchange *ex = exchange_push(conn, req->minor, req->keep_alive, head_only);
    if (!req->keep_alive)
        conn->no_more = true;
    srv->stats.requests++;
    srv->cfg.handler(ex, req, srv->cfg.arg);
}

/* Parse and dispatch every complete request in `in` (see the state diagram). */
static void process_input(struct conn *conn)
{
    struct http_server *srv = conn->srv;
    if (conn->in_process || conn->closed || conn->lingering)
        return;
    conn->in_process = true;
    while (!conn->closed && !conn->no_more && !srv->draining &&
           conn->nexch < srv->cfg.max_pipeline && conn->out.len - conn->out_off < OUT_HIGH &&
           conn->in_off < conn->in.len) {
        bool parsed = false; /* the head was parsed in this pass: srv->req holds it */
        if (conn->state == ST_HEAD) {
            if (!conn->req_start_ms)
                conn->req_start_ms = sl_clock_mono_ms();
            if (!head_may_be_complete(conn))
                break;
            struct sl_error err = { 0 };
            struct http_request *req = &srv->req;
            int rc = http_request_parse(conn->in.data + conn->in_off, conn->in.len - conn->in_off,
                                        srv->cfg.max_head_bytes, req, &err);
            if (rc == SL_EAGAIN)
                break;
            if (rc < 0) {
                fail_request(conn, req->status ? req->status : 400, err.msg, 1);
                break;
            }
            conn->head_len = (size_t)rc;
            conn->chunked = req->chunked;
            conn->content_length = req->chunked ? -1 : req->content_length < 0 ? 0 : req->content_length;
            if (conn->content_length > (int64_t)srv->cfg.max_body_bytes) {
                char msg[96];
                snprintf(msg, sizeof msg, "request body larger than %zu bytes",
                         srv->cfg.max_body_bytes);
                fail_request(conn, 413, msg, req->minor);
                break;
            }
            conn->state = ST_BODY;
            parsed = true;
            conn->ck = (struct http_chunked){ 0 };
            conn->sent_continue = false;
            size_t have = conn->in.len - conn->in_off - conn->head_len;
            bool need_body = req->chunked || (size_t)conn->content_length > have;
            if (req->expect_continue && need_body && conn->nexch == 0 && req->minor == 1) {
                sl_buf_append_str(&conn->out, "HTTP/1.1 100 Continue\r\n\r\n");
                conn->sent_continue = true;
                queue_pending(conn);
            }
        }
        /* ST_BODY */
        size_t body_len;
        if (conn->chunked) {
            size_t blen = conn->in.len - conn->in_off - conn->head_len;
            struct sl_error err = { 0 };
            int64_t r = http_chunked_decode(&conn->ck, conn->in.data + conn->in_off + conn->head_len,
                                            &blen, srv->cfg.max_body_bytes, &err);
            sl_buf_setlen(&conn->in, conn->in_off + conn->head_len + blen);
            if (r == SL_EAGAIN)
                break;
            if (r < 0) {
                fail_request(conn, r == SL_ELIMIT ? 413 : 400, err.msg, 1);
                break;
            }
            body_len = (size_t)r;
        } else {
            if (conn->in.len - conn->in_off - conn->head_len < (size_t)conn->content_length)
                break;
            body_len = (size_t)conn->content_length;
        }
        dispatch(conn, body_len, parsed);
        conn->in_off += conn->head_len + body_len;
        conn->state = ST_HEAD;
        conn->scan = 0;
        conn->req_start_ms = 0;
    }
    /* Keep the unread bytes at the front of the buffer. */
    if (conn->in_off) {
        sl_buf_consume(&conn->in, conn->in_off);
        conn->in_off = 0;
    }
    /* A large body grew the buffer: give the memory back between requests,
     * so that many idle keep-alive connections stay small. */
    if (conn->in.cap > SHRINK_ABOVE && conn->in.len <= READ_CHUNK && conn->state == ST_HEAD) {
        struct sl_buf small;
        sl_buf_init(&small, conn->in.max);
        sl_buf_append(&small, conn->in.data, conn->in.len);
        sl_buf_release(&conn->in);
        conn->in = small;
    }
    conn->in_process = false;
    update_mask(conn);
    maybe_finish(conn);
}

static void read_input(struct conn *conn)
{
    bool eof = false;
    for (int round = 0; round < 4 && !conn->closed; round++) {
        size_t room = conn->in.max - conn->in.len;
        if (room == 0)
            break;
        if (room > READ_CHUNK)
            room = READ_CHUNK;
        if (sl_buf_reserve(&conn->in, room) != SL_OK)
            break;
        ssize_t n = read(conn->fd, conn->in.data + conn->in.len, room);
        if (n > 0) {
            sl_buf_setlen(&conn->in, conn->in.len + (size_t)n);
            conn->active_ms = sl_clock_mono_ms();
            if ((size_t)n < room)
                break;
            continue;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        close_conn(conn);
        return;
    }
    process_input(conn);
    if (conn->closed)
        return;
    if (eof) {
        /* Requests that came with the FIN were dispatched above. */
        conn->peer_eof = true;
        conn->no_more = true;
        /* Whatever is left is an unfinished request: nobody to answer. */
        if (conn->nexch == 0 && conn->out_off >= conn->out.len)
            close_conn(conn);
        else
            update_mask(conn);
        return;
    }
    if (conn->in.len >= conn->in.max && conn->nexch == 0)
        fail_request(conn, 413, "request too large", 1);
}

static void on_conn_event(struct sl_ev *ev, int fd, int mask, void *arg)
{
    (void)ev;
    (void)fd;
    struct conn *conn = arg;
    if (conn->closed)
        return;
    bool was_reading = conn->mask & SL_EV_READ;
    if (conn->lingering) {
        char sink[4096];
        ssize_t n;
        while ((n = read(conn->fd, sink, sizeof sink)) > 0)
            ;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            close_conn(conn);
        return;
    }
    if (mask & SL_EV_WRITE) {
        flush_out(conn);
        if (conn->closed)
            return;
        update_mask(conn);
        if (may_read(conn) && conn->in.len > conn->in_off)
            queue_pending(conn);
    }
    if (mask & SL_EV_READ) {
        if (!was_reading || conn->peer_eof) {
            /* A hang-up reported to a silent watch: the client is gone. */
            close_conn(conn);
            return;
        }
        read_input(conn);
    }
}

/* ---------------------------------------------------------------- server */

static void on_accept(struct sl_ev *ev, int fd, int mask, void *arg)
{
    (void)mask;
    struct http_server *srv = arg;
    for (int i = 0; i < 64; i++) {
        char peer[64];
        int cfd = sl_net_accept(fd, peer, sizeof peer);
        if (cfd == SL_EAGAIN)
            return;
        if (cfd < 0) {
            /* EMFILE and friends: pause accepting until the next tick. */
            sl_warn("http: accept failed: %s", strerror(errno));
            sl_ev_fd_mask(ev, fd, 0);
            srv->accept_paused = true;
            return;
        }
        if (srv->stats.open >= (uint64_t)srv->cfg.max_conns) {
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                       "Content-Type: text/plain; charset=utf-8\r\n"
                                       "Content-Length: 28\r\nConnection: close\r\n\r\n"
                                       "error: too many connections\n";
            ssize_t n = send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL);
            (void)n;
            close(cfd);
            srv->stats.rejected++;
            srv->stats.errors[6]++;
            continue;
        }
        struct conn *conn = sl_xcalloc(1, sizeof *conn);
        conn->srv = srv;
        conn->fd = cfd;
        memcpy(conn->peer, peer, sizeof conn->peer);
        sl_buf_init(&conn->in, srv->cfg.max_head_bytes + srv->cfg.max_body_bytes + READ_CHUNK);
        sl_buf_init(&conn->out, 0);
        conn->active_ms = sl_clock_mono_ms();
        struct sl_error err = { 0 };
        if (sl_ev_fd_add(ev, cfd, SL_EV_READ, on_conn_event, conn, &err) != SL_OK) {
            sl_warn("http: %s", err.msg);
            close(cfd);
            sl_buf_release(&conn->in);
            sl_buf_release(&conn->out);
            free(conn);
            continue;
        }
        conn->mask = SL_EV_READ;
        conn->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = conn;
        srv->conns = conn;
        srv->stats.accepted++;
        srv->stats.open++;
    }
}

static void before_sleep(struct sl_ev *ev, void *arg)
{
    (void)ev;
    struct http_server *srv = arg;
    /* The handler's batched work first (it may reply), then process and
     * flush; a reply during processing may queue a conn again, and
     * pipelined requests dispatched here give the handler more work. */
    for (;;) {
        if (srv->cfg.before_sleep)
            srv->cfg.before_sleep(srv->cfg.arg);
        if (!srv->pending)
            break;
        while (srv->pending) {
            struct conn *conn = srv->pending;
            srv->pending = conn->pending_next;
            conn->queued = false;
            if (conn->closed)
                continue;
            if (!conn->lingering)
                process_input(conn);
            if (!conn->closed)
                flush_out(conn);
            if (!conn->closed)
                update_mask(conn);
        }
    }
    while (srv->closed) {
        struct conn *conn = srv->closed;
        srv->closed = conn->closed_next;
        free_conn(conn);
    }
}

static void on_tick(struct sl_ev *ev, void *arg)
{
    struct http_server *srv = arg;
    int64_t now = sl_clock_mono_ms();
    if (srv->accept_paused && srv->listen_fd >= 0) {
        sl_ev_fd_mask(ev, srv->listen_fd, SL_EV_READ);
        srv->accept_paused = false;
    }
    for (struct conn *conn = srv->conns; conn; conn = conn->next) {
        if (conn->closed)
            continue;
        if (conn->lingering) {
            if (now - conn->active_ms > LINGER_MS)
                close_conn(conn);
            continue;
        }
        bool writing = conn->out_off < conn->out.len;
        if (writing) {
            if (now - conn->active_ms > srv->cfg.idle_timeout_ms)
                close_conn(conn); /* the client stopped reading */
            continue;
        }
        if (conn->nexch > 0)
            continue; /* waiting on the handler, which has its own deadline */
        if (conn->req_start_ms && now - conn->req_start_ms > srv->cfg.request_timeout_ms) {
            fail_request(conn, 408, "request not received in time", 1);
            continue;
        }
        if (!conn->req_start_ms && conn->in.len == 0 &&
            now - conn->active_ms > srv->cfg.idle_timeout_ms)
            close_conn(conn);
    }
    srv->tick_id = sl_ev_timer_add(ev, TICK_MS, on_tick, srv);
}

struct http_server *http_server_new(struct sl_ev *ev, const struct http_server_config *cfg,
                                    struct sl_error *err)
{
    struct http_server *srv = sl_xcalloc(1, sizeof *srv);
    srv->ev = ev;
    srv->cfg = *cfg;
    if (!srv->cfg.max_head_bytes)
        srv->cfg.max_head_bytes = HTTP_HEAD_MAX_DEFAULT;
    if (!srv->cfg.max_body_bytes)
        srv->cfg.max_body_bytes = HTTP_BODY_MAX_DEFAULT;
    if (srv->cfg.max_conns <= 0)
        srv->cfg.max_conns = 1024;
    if (srv->cfg.max_pipeline <= 0)
        srv->cfg.max_pipeline = 32;
    if (srv->cfg.idle_timeout_ms <= 0)
        srv->cfg.idle_timeout_ms = 60000;
    if (srv->cfg.request_timeout_ms <= 0)
        srv->cfg.request_timeout_ms = 10000;
    srv->date_sec = -1;
    srv->listen_fd = sl_net_listen(cfg->listen, 1024, err);
    if (srv->listen_fd < 0)
        goto fail;
    srv->port = sl_net_local_port(srv->listen_fd);
    if (sl_ev_fd_add(ev, srv->listen_fd, SL_EV_READ, on_accept, srv, err) != SL_OK)
        goto fail;
    sl_ev_before_sleep(ev, before_sleep, srv);
    srv->tick_id = sl_ev_timer_add(ev, TICK_MS, on_tick, srv);
    return srv;
fail:
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    free(srv);
    return NULL;
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    sl_ev_timer_del(srv->ev, srv->tick_id);
    if (srv->listen_fd >= 0) {
        sl_ev_fd_del(srv->ev, srv->listen_fd);
        close(srv->listen_fd);
    }
    for (struct conn *conn = srv->conns; conn; conn = conn->next)
        close_conn(conn);
    srv->pending = NULL;
    while (srv->conns)
        free_conn(srv->conns);
    sl_ev_before_sleep(srv->ev, NULL, NULL);
    free(srv);
}

int http_server_port(const struct http_server *srv)
{
    return srv->port;
}

void http_server_drain(struct http_server *srv)
{
    if (srv->draining)
        return;
    srv->draining = true;
    if (srv->listen_fd >= 0) {
        sl_ev_fd_del(srv->ev, srv->listen_fd);
        close(srv->listen_fd);
        srv->listen_fd = -1;
    }
    for (struct conn *conn = srv->conns; conn; conn = conn->next) {
        if (conn->closed)
            continue;
        if (conn->nexch == 0 && conn->out_off >= conn->out.len)
            close_conn(conn); /* idle or mid-request: nothing owed */
        else
            update_mask(conn);
    }
}

bool http_server_idle(const struct http_server *srv)
{
    return srv->stats.open == 0;
}

void http_server_stats(const struct http_server *srv, struct http_server_stats *stats)
{
    *stats = srv->stats;
}
