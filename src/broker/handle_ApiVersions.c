/*
 * handle_ApiVersions.c: ApiVersions (18) v0-3, the first request of every
 * client connection. Lists exactly the rows of broker_apis[] (dispatch.c).
 * The response header is always v0, even for the flexible v3 (KIP-511,
 * pitfall 1); versions above 3 are answered in dispatch.c in v0 format.
 */
#include "broker/broker_int.h"

int broker_handle_ApiVersions(struct broker_conn *conn, const struct broker_req *req,
                              struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_ApiVersionsRequest in;
    struct kafka_ApiVersionsResponse res = {0};
    /* The v3 body only names the client software; a malformed one is
     * answered with INVALID_REQUEST (as Kafka does) so rdk retries with v0. */
    if (kafka_ApiVersionsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK) {
        sl_error_clear(err);
        res.error_code = KAFKA_INVALID_REQUEST;
    }
    res.napi_keys = (int32_t)broker_napis;
    res.api_keys = sl_arena_alloc(&conn->arena, broker_napis * sizeof *res.api_keys);
    broker_api_versions(res.api_keys, broker_napis);
    size_t start = broker_resp_begin(conn, req);
    kafka_ApiVersionsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
