/*
 * handle_SyncGroup.c: SyncGroup (14) v0-3. The leader's request carries every
 * member's assignment; a follower's is parked until the leader's arrives
 * (group.c, coordinator.c).
 */
#include "base/clock.h"
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_SyncGroup(struct broker_conn *conn, const struct broker_req *req,
                            struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_SyncGroupRequest in;
    if (kafka_SyncGroupRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    broker_coordinator_park(conn, req);
    bool answered = broker_groups_sync(conn->b->groups, &in, conn, sl_clock_mono_ms());
    return broker_coordinator_parked(conn, answered);
}
