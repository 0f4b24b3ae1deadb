/*
 * coordinator.c: the glue between the group coordinator (group.c, which
 * knows nothing of sockets) and the broker's connections: opening it on the
 * data directory, its tick timer on the event loop, and parking a JoinGroup
 * or SyncGroup on its connection until group.c answers it.
 *
 * A parked group request uses the connection's HELD state like a
 * long-polling Fetch (broker_conn_hold, conn.c): the request stays in rbuf
 * and later frames on that connection wait behind it, so responses stay in
 * request order (pitfall 12). group.c decides when it is answered (the
 * round completes, the leader's SyncGroup arrives, a new round starts) and
 * calls on_reply(), which appends the response frame to the connection's
 * output and releases the connection with broker_held_try(). The hold's
 * timer is only a backstop (group.c's own deadlines come first): when it
 * fires, the request is answered REBALANCE_IN_PROGRESS and the client
 * rejoins. When the connection closes first, group.c forgets the waiter.
 *
 * A request can also be answered while its own handler runs (it completed
 * the round itself); on_reply() then writes the response directly, for the
 * request in `cur_req`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "broker/broker_int.h"
#include "broker/group.h"

#define TICK_MS 200
#define SYNC_WAIT_MS 305000 /* backstop: rdk's rebalance timeout plus slack */

struct broker_coordinator {
    struct broker *b;                 /* borrowed: the owner */
    struct broker_groups *groups;     /* owned */
    int64_t timer;                    /* the tick timer */
    struct broker_conn *cur_conn;     /* borrowed: the connection whose handler runs */
    const struct broker_req *cur_req; /* borrowed: its request */
    bool cur_answered;
};

/* What a parked request keeps (in conn->arena, which lives while parked). */
struct gwait {
    bool answered;
    int16_t api_key;
};

static void encode(struct broker_conn *conn, const struct broker_req *req, int api_key,
                   const void *resp)
{
    int16_t ver = req->hdr.request_api_version;
    size_t start = broker_resp_begin(conn, req);
    if (api_key == KAFKA_API_JOIN_GROUP)
        kafka_JoinGroupResponse_encode(&conn->out, ver, resp);
    else
        kafka_SyncGroupResponse_encode(&conn->out, ver, resp);
    broker_resp_end(conn, start, 0, 0);
}

static void on_reply(void *arg, void *waiter, int api_key, const void *resp)
{
    struct broker_coordinator *co = arg;
    struct broker_conn *conn = waiter;
    if (conn == co->cur_conn && !co->cur_answered) {
        encode(conn, co->cur_req, api_key, resp);
        co->cur_answered = true;
        return;
    }
    struct broker_held *held = conn->held;
    if (conn->state != BROKER_CONN_HELD || !held)
        return; /* NEVER: closed connections are cancelled in group.c */
    struct gwait *w = held->state;
    encode(conn, &held->req, api_key, resp);
    w->answered = true;
    broker_held_try(conn, false);
}

static bool answer_held(struct broker_conn *conn, struct broker_held *held, bool final)
{
    struct gwait *w = held->state;
    if (w->answered)
        return true;
    if (!final)
        return false;
    /* Backstop deadline: forget the waiter and let the client rejoin. */
    broker_groups_cancel(conn->b->coord->groups, conn);
    if (w->api_key == KAFKA_API_JOIN_GROUP) {
        struct kafka_JoinGroupResponse r = {.error_code = KAFKA_REBALANCE_IN_PROGRESS,
                                            .generation_id = -1,
                                            .protocol_name = sl_slice_str(""),
                                            .leader = sl_slice_str(""),
                                            .member_id = sl_slice_str("")};
        encode(conn, &held->req, w->api_key, &r);
    } else {
        struct kafka_SyncGroupResponse r = {.error_code = KAFKA_REBALANCE_IN_PROGRESS,
                                            .assignment = sl_slice_str("")};
        encode(conn, &held->req, w->api_key, &r);
    }
    return true;
}

static void drop_held(struct broker_conn *conn, struct broker_held *held)
{
    (void)held;
    if (conn->b->coord)
        broker_groups_cancel(conn->b->coord->groups, conn);
}

static void on_tick(struct sl_ev *ev, void *arg)
{
    struct broker_coordinator *co = arg;
    broker_groups_tick(co->groups, sl_clock_mono_ms());
    co->timer = sl_ev_timer_add(ev, TICK_MS, on_tick, co);
}

int broker_coordinator_open(struct broker *b, struct sl_error *err)
{
    struct broker_coordinator *co = sl_xcalloc(1, sizeof *co);
    co->b = b;
    co->groups = broker_groups_open(b->cfg.data_dir, on_reply, co, err);
    if (!co->groups) {
        free(co);
        return err->code ? err->code : SL_EIO;
    }
    co->timer = sl_ev_timer_add(b->ev, TICK_MS, on_tick, co);
    b->coord = co;
    return SL_OK;
}

void broker_coordinator_close(struct broker *b)
{
    struct broker_coordinator *co = b->coord;
    if (!co)
        return;
    if (b->ev)
        sl_ev_timer_del(b->ev, co->timer);
    broker_groups_free(co->groups);
    free(co);
    b->coord = NULL;
}

struct broker_groups *broker_coordinator_groups(struct broker *b)
{
    return b->coord->groups;
}

static void client_host(const struct broker_conn *conn, char *out, size_t n)
{
    /* Kafka reports "/ip"; peer is "ip:port" or "[ip6]:port". */
    const char *p = conn->peer;
    const char *colon = strrchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    if (len >= 2 && p[0] == '[') {
        p++;
        len -= 2;
    }
    snprintf(out, n, "/%.*s", (int)len, p);
}

/* Run a JoinGroup or SyncGroup with conn as its waiter; park it if unanswered. */
static int run(struct broker_conn *conn, const struct broker_req *req, int api_key, const void *in,
               int64_t wait_ms)
{
    struct broker_coordinator *co = conn->b->coord;
    co->cur_conn = conn;
    co->cur_req = req;
    co->cur_answered = false;
    int64_t now = sl_clock_mono_ms();
    if (api_key == KAFKA_API_JOIN_GROUP) {
        char host[80];
        client_host(conn, host, sizeof host);
        broker_groups_join(co->groups, in, req->hdr.request_api_version, req->hdr.client_id, host,
                           conn, now);
    } else {
        broker_groups_sync(co->groups, in, conn, now);
    }
    bool answered = co->cur_answered;
    co->cur_conn = NULL;
    co->cur_req = NULL;
    if (answered)
        return SL_OK;
    struct gwait *w = sl_arena_alloc(&conn->arena, sizeof *w);
    w->answered = false;
    w->api_key = (int16_t)api_key;
    broker_conn_hold(conn, req, w, answer_held, drop_held, false, wait_ms);
    return BROKER_HOLD;
}

int broker_coordinator_join(struct broker_conn *conn, const struct broker_req *req,
                            const struct kafka_JoinGroupRequest *in)
{
    int64_t wait = (int64_t)(in->rebalance_timeout_ms > 0 ? in->rebalance_timeout_ms
                                                          : in->session_timeout_ms) +
                   5000;
    return run(conn, req, KAFKA_API_JOIN_GROUP, in, wait);
}

int broker_coordinator_sync(struct broker_conn *conn, const struct broker_req *req,
                            const struct kafka_SyncGroupRequest *in)
{
    return run(conn, req, KAFKA_API_SYNC_GROUP, in, SYNC_WAIT_MS);
}
