/*
 * handle_InitProducerId.c: InitProducerId (22) v0-1 for idempotent producers
 * (design §5.5): a fresh producer id with epoch 0, never handed out before
 * by this data directory (group.c persists the high-water mark). A
 * transactional id is refused with the non-retriable
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED: transactions are out of scope.
 */
#include "base/log.h"
#include "broker/broker_int.h"
#include "broker/group.h"

int broker_handle_InitProducerId(struct broker_conn *conn, const struct broker_req *req,
                                 struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_InitProducerIdRequest in;
    if (kafka_InitProducerIdRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_InitProducerIdResponse res = {.producer_id = -1, .producer_epoch = -1};
    if (in.transactional_id.p) {
        res.error_code = KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else {
        struct sl_error perr = {0};
        int64_t pid = broker_groups_new_producer_id(broker_coordinator_groups(conn->b), -1, &perr);
        if (pid < 0) {
            sl_error("cannot allocate a producer id: %s", perr.msg);
            res.error_code = KAFKA_UNKNOWN_SERVER_ERROR;
        } else {
            res.producer_id = pid;
            res.producer_epoch = 0;
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_InitProducerIdResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
