/*
 * handle_OffsetCommit.c: OffsetCommit (8) v0-7. The offsets are written to
 * the group file and fdatasync'ed before the response is encoded (group.h),
 * so an acknowledged commit survives kill -9.
 */
#include "base/clock.h"
#include "base/log.h"
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_OffsetCommit(struct broker_conn *conn, const struct broker_req *req,
                               struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_OffsetCommitRequest in;
    if (kafka_OffsetCommitRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_OffsetCommitResponse res;
    struct sl_error cerr = {0};
    if (broker_groups_offset_commit(broker_coordinator_groups(conn->b), &in, sl_clock_wall_ms(),
                                    &conn->arena, &res, &cerr) != SL_OK)
        sl_error("offset commit for group '%.*s' failed: %s", (int)in.group_id.len,
                 in.group_id.p ? (const char *)in.group_id.p : "", cerr.msg);
    size_t start = broker_resp_begin(conn, req);
    kafka_OffsetCommitResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
