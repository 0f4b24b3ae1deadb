/*
 * handle_OffsetFetch.c: OffsetFetch (9) v0-5. Partitions without a commit
 * answer offset -1 and metadata "" (clients then use ListOffsets); v2+ null
 * topics mean every committed partition; v5 carries leader epoch -1 unless
 * one was committed (pitfall 14).
 */
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_OffsetFetch(struct broker_conn *conn, const struct broker_req *req,
                              struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_OffsetFetchRequest in;
    if (kafka_OffsetFetchRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_OffsetFetchResponse res;
    broker_groups_offset_fetch(broker_coordinator_groups(conn->b), &in, &conn->arena, &res);
    size_t start = broker_resp_begin(conn, req);
    kafka_OffsetFetchResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
