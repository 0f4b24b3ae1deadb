/*
 * handle_ListGroups.c: ListGroups (16) v0-2: every group the coordinator
 * knows, including empty ones that only hold committed offsets.
 */
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_ListGroups(struct broker_conn *conn, const struct broker_req *req,
                             struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_ListGroupsRequest in;
    if (kafka_ListGroupsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_ListGroupsResponse res;
    broker_groups_list(broker_coordinator_groups(conn->b), &conn->arena, &res);
    size_t start = broker_resp_begin(conn, req);
    kafka_ListGroupsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
