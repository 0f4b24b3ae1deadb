/*
 * handle_Heartbeat.c: Heartbeat (12) v0-3. REBALANCE_IN_PROGRESS tells a
 * member that a new round started and it must rejoin (design §7.2).
 */
#include "base/clock.h"
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_Heartbeat(struct broker_conn *conn, const struct broker_req *req,
                            struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_HeartbeatRequest in;
    if (kafka_HeartbeatRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_HeartbeatResponse res = {
        .error_code =
            broker_groups_heartbeat(broker_coordinator_groups(conn->b), &in, sl_clock_mono_ms()),
    };
    size_t start = broker_resp_begin(conn, req);
    kafka_HeartbeatResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
