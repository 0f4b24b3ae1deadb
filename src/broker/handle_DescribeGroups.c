/*
 * handle_DescribeGroups.c: DescribeGroups (15) v0-4: state, protocol and
 * members (with their subscription metadata and assignment) of each named
 * group; an unknown group is reported as state "Dead" with no error, as
 * Kafka does.
 */
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_DescribeGroups(struct broker_conn *conn, const struct broker_req *req,
                                 struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_DescribeGroupsRequest in;
    if (kafka_DescribeGroupsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_DescribeGroupsResponse res;
    broker_groups_describe(broker_coordinator_groups(conn->b), &in, &conn->arena, &res);
    size_t start = broker_resp_begin(conn, req);
    kafka_DescribeGroupsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
