/*
 * handle_JoinGroup.c: JoinGroup (11) v0-5. v4+ first joins get
 * MEMBER_ID_REQUIRED with a new id; joins that start or join a rebalance
 * round are parked on the connection until the round completes (group.c,
 * coordinator.c).
 */
#include "base/clock.h"
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_JoinGroup(struct broker_conn *conn, const struct broker_req *req,
                            struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_JoinGroupRequest in;
    if (kafka_JoinGroupRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    char host[80];
    broker_coordinator_client_host(conn, host, sizeof host);
    broker_coordinator_park(conn, req);
    bool answered = broker_groups_join(conn->b->groups, &in, ver, req->hdr.client_id, host, conn,
                                       sl_clock_mono_ms());
    return broker_coordinator_parked(conn, answered);
}
