/*
 * handle_FindCoordinator.c: FindCoordinator (10) v0-2. On one node the
 * coordinator of every group is this broker, at the address advertised to
 * this client (pitfall 6). Transaction coordinators (key_type 1) are out of
 * scope: COORDINATOR_NOT_AVAILABLE.
 */
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_FindCoordinator(struct broker_conn *conn, const struct broker_req *req,
                                  struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_FindCoordinatorRequest in;
    if (kafka_FindCoordinatorRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_FindCoordinatorResponse res = {
        .error_code = KAFKA_NONE,
        .error_message = sl_slice_make(NULL, 0),
        .node_id = BROKER_NODE_ID,
        .host = sl_slice_str(conn->adv_host),
        .port = conn->adv_port,
    };
    if (in.key_type != 0) {
        res.error_code = KAFKA_COORDINATOR_NOT_AVAILABLE;
        res.error_message = sl_slice_str("transactions are not supported");
        res.node_id = -1;
        res.host = sl_slice_str("");
        res.port = -1;
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_FindCoordinatorResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
