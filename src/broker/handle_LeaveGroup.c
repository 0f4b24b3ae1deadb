/*
 * handle_LeaveGroup.c: LeaveGroup (13) v0-3 (v3: several members at once,
 * each with its own error code). The rest of the group rebalances.
 */
#include "base/clock.h"
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_LeaveGroup(struct broker_conn *conn, const struct broker_req *req,
                             struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_LeaveGroupRequest in;
    if (kafka_LeaveGroupRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    int64_t now = sl_clock_mono_ms();
    struct kafka_LeaveGroupResponse res = {0};
    if (ver <= 2) {
        res.error_code =
            broker_groups_leave(broker_coordinator_groups(conn->b), in.group_id, in.member_id, now);
    } else {
        int32_t n = in.nmembers < 0 ? 0 : in.nmembers;
        res.nmembers = n;
        res.members = sl_arena_alloc(&conn->arena, (n ? (size_t)n : 1) * sizeof *res.members);
        for (int32_t i = 0; i < n; i++) {
            res.members[i].member_id = in.members[i].member_id;
            res.members[i].group_instance_id = in.members[i].group_instance_id;
            res.members[i].error_code = broker_groups_leave(
                broker_coordinator_groups(conn->b), in.group_id, in.members[i].member_id, now);
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_LeaveGroupResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
