/*
 * conn.c: one client connection of the broker: frames in, responses out, in
 * request order, on the event loop.
 *
 * DESIGN NOTES
 *
 * Definitions. rbuf holds received bytes; rpos is where the first frame not
 * yet answered starts. out holds encoded responses in request order;
 * out_sent bytes of it are on the wire; out_release bytes may be written.
 * A splice is a file range (a Fetch's record batches) that belongs at a
 * position of out and is written with sendfile() when the bytes before it
 * are gone.
 *
 * Invariants.
 *   1. Responses are appended to out in the order their requests arrived, and
 *      out is written front to back: the client sees them in request order.
 *   2. out_sent <= out_release <= out.len. Bytes past out_release wait at
 *      gates: the bytes up to gates[i].end go once log ticket gates[i].ticket
 *      is durable (a group commit, which may run in the background while
 *      more requests are answered), so no produce is acknowledged before it
 *      is synced, and no later response overtakes it. Gate ends and tickets
 *      both increase.
 *   3. While a request is parked (state HELD) no later frame is processed and
 *      rbuf is not read into or moved, so the parked request's slices, which
 *      borrow from rbuf, stay valid. READ interest is off meanwhile.
 *   4. A connection is never freed inside one of its own callbacks: closing
 *      marks it CLOSING and unregisters the fd; broker_conn_reap() frees it
 *      from the before-sleep hook.
 *   5. Every size read from the wire is checked before buffering: a frame
 *      larger than max_request_bytes or negative closes the connection.
 *
 * States and transitions.
 *
 *     accept ──▶ OPEN ──(request parked: broker_conn_hold)──▶ HELD
 *                 ▲                                         │
 *                 └──(answered: broker_held_try)────────────┘
 *     OPEN/HELD ──(bad frame, I/O error, hang-up: broker_conn_close)──▶ CLOSING
 *     OPEN ──(EOF read, every complete request answered: finish_if_done)──▶ CLOSING
 *     CLOSING ──(before-sleep: broker_conn_reap)──▶ freed
 *
 * Backpressure: when more than BROKER_OUT_HIGH_WATER bytes are unsent, the
 * connection stops reading and processing until the client drains them.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "broker/broker_int.h"

#define READ_CHUNK ((size_t)64 << 10)
#define READ_SLACK ((size_t)64 << 10) /* rbuf may hold a max frame plus this */
#define BUF_KEEP ((size_t)1 << 20)    /* larger empty buffers are freed */

static size_t unsent(const struct broker_conn *conn)
{
    size_t n = conn->out.len - conn->out_sent;
    for (size_t i = 0; i < conn->nsplices; i++)
        n += conn->splices[i].len;
    return n;
}

static void update_mask(struct broker_conn *conn)
{
    if (conn->state == BROKER_CONN_CLOSING)
        return;
    int mask = 0;
    if (conn->state == BROKER_CONN_OPEN && !conn->peer_eof &&
        unsent(conn) <= BROKER_OUT_HIGH_WATER)
        mask |= SL_EV_READ;
    if (conn->want_write)
        mask |= SL_EV_WRITE;
    sl_ev_fd_mask(conn->b->ev, conn->fd, mask);
}

/* After the client's EOF: close once every complete request is answered. */
static void finish_if_done(struct broker_conn *conn)
{
    if (conn->peer_eof && conn->state == BROKER_CONN_OPEN && !conn->resume &&
        unsent(conn) == 0)
        broker_conn_close(conn, NULL);
}

void broker_conn_close(struct broker_conn *conn, const char *why)
{
    if (conn->state == BROKER_CONN_CLOSING)
        return;
    if (why)
        sl_warn("closing connection from %s: %s", conn->peer, why);
    else
        sl_debug("connection from %s closed", conn->peer);
    if (conn->held) {
        struct broker_held *held = conn->held;
        sl_ev_timer_del(conn->b->ev, held->timer);
        if (held->drop)
            held->drop(conn, held);
        free(held);
        conn->held = NULL;
        conn->b->nheld--;
    }
    conn->state = BROKER_CONN_CLOSING;
    sl_ev_fd_del(conn->b->ev, conn->fd);
}

void broker_conn_free(struct broker_conn *conn)
{
    if (!conn)
        return;
    struct broker *b = conn->b;
    if (conn->state != BROKER_CONN_CLOSING)
        broker_conn_close(conn, NULL);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        b->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    b->nconns--;
    for (size_t i = 0; i < conn->nsplices; i++)
        close(conn->splices[i].fd);
    free(conn->splices);
    free(conn->gates);
    close(conn->fd);
    sl_buf_release(&conn->rbuf);
    sl_buf_release(&conn->out);
    sl_arena_release(&conn->arena);
    free(conn);
}

void broker_conn_reap(struct broker *b)
{
    struct broker_conn *conn = b->conns, *next;
    for (; conn; conn = next) {
        next = conn->next;
        if (conn->state == BROKER_CONN_CLOSING)
            broker_conn_free(conn);
    }
}

/* ---- Output -------------------------------------------------------------- */

size_t broker_resp_begin(struct broker_conn *conn, const struct broker_req *req)
{
    int hv = kafka_response_header_version(req->hdr.request_api_key, req->hdr.request_api_version);
    return kafka_response_begin(&conn->out, req->hdr.correlation_id, hv);
}

void broker_resp_end(struct broker_conn *conn, size_t start, size_t extra, uint64_t ticket)
{
    kafka_frame_end(&conn->out, start, extra);
    broker_resp_gate(conn, ticket);
}

void broker_resp_gate(struct broker_conn *conn, uint64_t ticket)
{
    if (conn->ngates == 0 && ticket <= log_store_synced(conn->b->store)) {
        conn->out_release = conn->out.len;
        return;
    }
    struct broker_gate *last = conn->ngates ? &conn->gates[conn->ngates - 1] : NULL;
    if (last && last->ticket >= ticket) {
        last->end = conn->out.len; /* released with the gate before it */
        return;
    }
    if (conn->ngates == conn->capgates) {
        conn->capgates = conn->capgates ? conn->capgates * 2 : 8;
        conn->gates = sl_xrealloc(conn->gates, conn->capgates * sizeof *conn->gates);
    }
    conn->gates[conn->ngates++] = (struct broker_gate){conn->out.len, ticket};
}

void broker_conn_splice(struct broker_conn *conn, size_t at, int fd, int64_t pos, size_t len)
{
    if (conn->nsplices == conn->capsplices) {
        conn->capsplices = conn->capsplices ? conn->capsplices * 2 : 8;
        conn->splices = sl_xrealloc(conn->splices, conn->capsplices * sizeof *conn->splices);
    }
    conn->splices[conn->nsplices++] = (struct broker_splice){at, fd, pos, len};
}

/* Empty a buffer; give back its memory if one large frame made it big, so
 * that hundreds of idle connections do not each keep a 100 MiB buffer. */
static void shrink(struct sl_buf *buf)
{
    if (buf->cap > BUF_KEEP) {
        size_t max = buf->max;
        sl_buf_release(buf);
        sl_buf_init(buf, max);
    } else {
        sl_buf_reset(buf);
    }
}

/* Drop the sent front of out so it does not grow without bound. */
static void compact_out(struct broker_conn *conn)
{
    if (conn->out_sent == conn->out.len && conn->nsplices == 0) {
        shrink(&conn->out);
        conn->out_sent = conn->out_release = 0;
        return;
    }
    if (conn->out_sent < ((size_t)1 << 20))
        return;
    size_t n = conn->out_sent;
    sl_buf_consume(&conn->out, n);
    conn->out_sent = 0;
    conn->out_release -= n;
    for (size_t i = 0; i < conn->nsplices; i++)
        conn->splices[i].at -= n;
    for (size_t i = 0; i < conn->ngates; i++)
        conn->gates[i].end -= n;
}

void broker_conn_flush(struct broker_conn *conn)
{
    if (conn->state == BROKER_CONN_CLOSING)
        return;
    uint64_t synced = log_store_synced(conn->b->store);
    size_t open = 0;
    while (open < conn->ngates && conn->gates[open].ticket <= synced)
        conn->out_release = conn->gates[open++].end;
    if (open > 0) {
        conn->ngates -= open;
        memmove(conn->gates, conn->gates + open, conn->ngates * sizeof *conn->gates);
    }
    bool blocked = false;
    for (;;) {
        size_t limit = conn->out_release;
        struct broker_splice *s = conn->nsplices ? &conn->splices[0] : NULL;
        if (s && s->at < limit)
            limit = s->at;
        if (conn->out_sent < limit) {
            ssize_t n = send(conn->fd, conn->out.data + conn->out_sent, limit - conn->out_sent,
                             MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    blocked = true;
                    break;
                }
                broker_conn_close(conn,
                                  errno == EPIPE || errno == ECONNRESET ? NULL : "write failed");
                return;
            }
            conn->out_sent += (size_t)n;
            continue;
        }
        if (s && s->at == conn->out_sent && s->at <= conn->out_release) {
            off_t pos = (off_t)s->pos;
            ssize_t n = sendfile(conn->fd, s->fd, &pos, s->len);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    blocked = true;
                    break;
                }
                broker_conn_close(conn,
                                  errno == EPIPE || errno == ECONNRESET ? NULL : "sendfile failed");
                return;
            }
            if (n == 0) {
                /* The segment is shorter than the log said: the frame is
                 * already promised, so the stream cannot be repaired. */
                broker_conn_close(conn, "segment file ended early during sendfile");
                return;
            }
            s->pos = (int64_t)pos;
            s->len -= (size_t)n;
            if (s->len == 0) {
                close(s->fd);
                memmove(conn->splices, conn->splices + 1,
                        (conn->nsplices - 1) * sizeof *conn->splices);
                conn->nsplices--;
            }
            continue;
        }
        break;
    }
    compact_out(conn);
    conn->want_write = blocked;
    update_mask(conn);
    finish_if_done(conn);
    /* Backpressure lifted with frames still waiting: process them soon. */
    if (conn->state == BROKER_CONN_OPEN && conn->rbuf.len - conn->rpos >= 4 &&
        unsent(conn) <= BROKER_OUT_HIGH_WATER && !conn->resume) {
        conn->resume = true;
        sl_ev_wakeup(conn->b->ev);
    }
}

/* ---- Input --------------------------------------------------------------- */

static void dump_frame(struct broker_conn *conn, struct sl_slice frame)
{
    struct broker *b = conn->b;
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    char path[4096];
    int key = -1, ver = -1;
    if (kafka_RequestHeader_decode(frame, &hdr, &body, &err) == SL_OK) {
        key = hdr.request_api_key;
        ver = hdr.request_api_version;
    }
    snprintf(path, sizeof path, "%s/%06llu-%s-v%d.bin", b->cfg.dump_dir,
             (unsigned long long)++b->dump_seq, kafka_api_name(key), ver);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t n = write(fd, frame.p, frame.len);
    (void)n;
    close(fd);
}

void broker_conn_process(struct broker_conn *conn)
{
    struct broker *b = conn->b;
    while (conn->state == BROKER_CONN_OPEN) {
        if (unsent(conn) > BROKER_OUT_HIGH_WATER)
            break;
        size_t avail = conn->rbuf.len - conn->rpos;
        if (avail < 4)
            break;
        const uint8_t *p = conn->rbuf.data + conn->rpos;
        int32_t size =
            (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
        if (size < 0 || (size_t)size > b->cfg.max_request_bytes) {
            char why[128];
            snprintf(why, sizeof why, "frame size %d outside 0..%zu", size,
                     b->cfg.max_request_bytes);
            broker_conn_close(conn, why);
            return;
        }
        if (avail - 4 < (size_t)size)
            break;
        struct sl_slice frame = sl_slice_make(p + 4, (size_t)size);
        if (b->cfg.dump_dir)
            dump_frame(conn, frame);
        struct sl_error err = {0};
        int rc = broker_dispatch(conn, frame, &err);
        if (rc < 0) {
            broker_conn_close(conn, err.msg[0] ? err.msg : sl_err_name(rc));
            return;
        }
        if (rc == BROKER_HOLD) {
            assert(conn->held); /* the handler called broker_conn_hold() */
            conn->state = BROKER_CONN_HELD;
            b->nheld++;
            break;
        }
        conn->rpos += 4 + (size_t)size;
        sl_arena_clear(&conn->arena);
    }
    if (conn->state == BROKER_CONN_OPEN && conn->rpos == conn->rbuf.len) {
        shrink(&conn->rbuf);
        conn->rpos = 0;
    }
    update_mask(conn);
    finish_if_done(conn);
}

static void on_deadline(struct sl_ev *ev, void *arg)
{
    (void)ev;
    struct broker_conn *conn = arg;
    if (conn->state == BROKER_CONN_HELD && conn->held) {
        conn->held->timer = 0; /* fired */
        broker_held_try(conn, true);
    }
}

void broker_conn_hold(struct broker_conn *conn, const struct broker_req *req, void *state,
                      broker_held_answer_fn *answer, broker_held_drop_fn *drop, bool wake_on_append,
                      int64_t timeout_ms)
{
    struct broker_held *held = sl_xcalloc(1, sizeof *held);
    held->req = *req;
    held->state = state;
    held->answer = answer;
    held->drop = drop;
    held->wake_on_append = wake_on_append;
    held->timer = sl_ev_timer_add(conn->b->ev, timeout_ms < 0 ? 0 : timeout_ms, on_deadline, conn);
    conn->held = held;
}

/* The parked request was answered: free it and let later frames run. */
static void unhold(struct broker_conn *conn)
{
    struct broker *b = conn->b;
    sl_ev_timer_del(b->ev, conn->held->timer);
    free(conn->held);
    conn->held = NULL;
    b->nheld--;
    const uint8_t *p = conn->rbuf.data + conn->rpos;
    uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    conn->rpos += 4 + size;
    sl_arena_clear(&conn->arena);
    conn->state = BROKER_CONN_OPEN;
    if (conn->rbuf.len - conn->rpos >= 4 && !conn->resume) {
        conn->resume = true;
        sl_ev_wakeup(b->ev);
    }
    update_mask(conn);
}

bool broker_held_try(struct broker_conn *conn, bool final)
{
    struct broker_held *held = conn->held;
    if (conn->state != BROKER_CONN_HELD || !held || !held->answer(conn, held, final))
        return false;
    unhold(conn);
    return true;
}

static void read_in(struct broker_conn *conn)
{
    struct broker *b = conn->b;
    for (int round = 0; round < 16 && conn->state == BROKER_CONN_OPEN; round++) {
        if (conn->rpos > 0) {
            sl_buf_consume(&conn->rbuf, conn->rpos);
            conn->rpos = 0;
        }
        size_t want = READ_CHUNK;
        if (conn->rbuf.len >= 4) {
            const uint8_t *p = conn->rbuf.data;
            uint32_t size =
                (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            if (size <= b->cfg.max_request_bytes && 4 + (size_t)size > conn->rbuf.len &&
                4 + (size_t)size - conn->rbuf.len > want)
                want = 4 + (size_t)size - conn->rbuf.len;
        }
        if (want > conn->rbuf.max - conn->rbuf.len)
            want = conn->rbuf.max - conn->rbuf.len;
        if (want == 0 || sl_buf_reserve(&conn->rbuf, want) != SL_OK) {
            broker_conn_close(conn, "receive buffer full");
            return;
        }
        ssize_t n = recv(conn->fd, conn->rbuf.data + conn->rbuf.len, want, 0);
        if (n == 0) {
            /* A half-close still gets the answers to what it sent. */
            conn->peer_eof = true;
            update_mask(conn);
            finish_if_done(conn);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            broker_conn_close(conn, errno == ECONNRESET ? NULL : "read failed");
            return;
        }
        sl_buf_setlen(&conn->rbuf, conn->rbuf.len + (size_t)n);
        broker_conn_process(conn);
        if ((size_t)n < want)
            return;
    }
}

static void on_io(struct sl_ev *ev, int fd, int mask, void *arg)
{
    (void)ev;
    (void)fd;
    struct broker_conn *conn = arg;
    if (conn->state == BROKER_CONN_CLOSING)
        return;
    if (mask & SL_EV_WRITE)
        broker_conn_flush(conn);
    if (!(mask & SL_EV_READ) || conn->state == BROKER_CONN_CLOSING)
        return;
    if (conn->state == BROKER_CONN_HELD || conn->peer_eof) {
        /* READ interest is off while held or after EOF: a hang-up. */
        broker_conn_close(conn, NULL);
        return;
    }
    read_in(conn);
}

struct broker_conn *broker_conn_new(struct broker *b, int fd, const char *peer)
{
    struct broker_conn *conn = sl_xcalloc(1, sizeof *conn);
    conn->b = b;
    conn->fd = fd;
    conn->state = BROKER_CONN_OPEN;
    snprintf(conn->peer, sizeof conn->peer, "%s", peer);
    sl_buf_init(&conn->rbuf, b->cfg.max_request_bytes + 4 + READ_SLACK);
    sl_buf_init(&conn->out, 0);
    sl_arena_init(&conn->arena, 16 << 10);
    snprintf(conn->adv_host, sizeof conn->adv_host, "%s", b->adv_host);
    conn->adv_port = b->adv_port;
    if (b->adv_per_conn) {
        /* A wildcard listener: advertise the address this client reached. */
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char host[128];
        if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
            getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) ==
                0)
            snprintf(conn->adv_host, sizeof conn->adv_host, "%s", host);
    }
    struct sl_error err = {0};
    if (sl_ev_fd_add(b->ev, fd, SL_EV_READ, on_io, conn, &err) != SL_OK) {
        sl_warn("cannot watch connection from %s: %s", peer, err.msg);
        sl_buf_release(&conn->rbuf);
        sl_buf_release(&conn->out);
        free(conn);
        close(fd);
        return NULL;
    }
    conn->next = b->conns;
    if (b->conns)
        b->conns->prev = conn;
    b->conns = conn;
    b->nconns++;
    sl_debug("connection from %s", peer);
    return conn;
}
