/*
 * coordinator.c: the glue between the group coordinator (group.c, which
 * knows nothing of sockets) and the broker's connections: opening it with
 * the data directory, its tick timer on the event loop, and parking a
 * JoinGroup or SyncGroup on its connection until group.c answers it.
 *
 * A parked group request uses the same HELD connection state as a
 * long-polling Fetch (conn.c): the request stays in rbuf, later frames on
 * that connection wait behind it, so responses stay in request order
 * (pitfall 12). The held record is marked `group` and has no timer; group.c
 * decides when it is answered (rebalance complete, leader's SyncGroup) and
 * calls on_reply(), which encodes the response and releases the connection.
 * When the connection closes first, broker_coordinator_conn_closed() makes
 * group.c forget the waiter.
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

static void on_reply(void *arg, void *waiter, int api_key, const void *resp)
{
    (void)arg;
    struct broker_conn *conn = waiter;
    struct broker_held *held = conn->held;
    if (!held || !held->group || conn->state == BROKER_CONN_CLOSING)
        return; /* NEVER: cancelled waiters are forgotten by group.c */
    int16_t ver = held->req.hdr.request_api_version;
    size_t start = broker_resp_begin(conn, &held->req);
    if (api_key == KAFKA_API_JOIN_GROUP)
        kafka_JoinGroupResponse_encode(&conn->out, ver, resp);
    else
        kafka_SyncGroupResponse_encode(&conn->out, ver, resp);
    broker_resp_end(conn, start, 0, 0);
    if (conn->state == BROKER_CONN_HELD) {
        broker_conn_unhold(conn);
    } else {
        /* Answered while its own handler is still running. */
        free(held);
        conn->held = NULL;
    }
}

static void on_tick(struct sl_ev *ev, void *arg)
{
    struct broker *b = arg;
    broker_groups_tick(b->groups, sl_clock_mono_ms());
    b->group_timer = sl_ev_timer_add(ev, TICK_MS, on_tick, b);
}

int broker_coordinator_open(struct broker *b, struct sl_error *err)
{
    b->groups = broker_groups_open(b->cfg.data_dir, on_reply, b, err);
    if (!b->groups)
        return err->code ? err->code : SL_EIO;
    b->group_timer = sl_ev_timer_add(b->ev, TICK_MS, on_tick, b);
    return SL_OK;
}

void broker_coordinator_close(struct broker *b)
{
    broker_groups_free(b->groups);
    b->groups = NULL;
}

void broker_coordinator_conn_closed(struct broker_conn *conn)
{
    if (conn->b->groups)
        broker_groups_cancel(conn->b->groups, conn);
}

int broker_coordinator_park(struct broker_conn *conn, const struct broker_req *req)
{
    struct broker_held *held = sl_xcalloc(1, sizeof *held);
    held->req = *req;
    held->group = true;
    conn->held = held;
    return SL_OK;
}

int broker_coordinator_parked(struct broker_conn *conn, bool answered)
{
    if (answered || !conn->held)
        return SL_OK;
    return BROKER_HOLD;
}

void broker_coordinator_client_host(const struct broker_conn *conn, char *out, size_t n)
{
    /* Kafka reports "/ip". peer is "ip:port" or "[ip6]:port". */
    const char *p = conn->peer;
    const char *colon = strrchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    if (len >= 2 && p[0] == '[') {
        p++;
        len -= 2;
    }
    snprintf(out, n, "/%.*s", (int)len, p);
}
