/*
 * handle_SyncGroup.c: SyncGroup (14) v0-3. The leader's request carries every
 * member's assignment; a follower's is parked until the leader's arrives
 * (group.c, coordinator.c).
 */
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_SyncGroup(struct broker_conn *conn, const struct broker_req *req,
                            struct sl_error *err)
{
    struct kafka_SyncGroupRequest in;
    if (kafka_SyncGroupRequest_decode(req->body, req->hdr.request_api_version, &conn->arena, &in,
                                      err) != SL_OK)
        return SL_EPROTO;
    return broker_coordinator_sync(conn, req, &in);
}
