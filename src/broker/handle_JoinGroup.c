/*
 * handle_JoinGroup.c: JoinGroup (11) v0-5. v4+ first joins get
 * MEMBER_ID_REQUIRED with a new id; a join that starts or enters a rebalance
 * round is parked on its connection until the round completes (group.c,
 * coordinator.c).
 */
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_JoinGroup(struct broker_conn *conn, const struct broker_req *req,
                            struct sl_error *err)
{
    struct kafka_JoinGroupRequest in;
    if (kafka_JoinGroupRequest_decode(req->body, req->hdr.request_api_version, &conn->arena, &in,
                                      err) != SL_OK)
        return SL_EPROTO;
    return broker_coordinator_join(conn, req, &in);
}
