/*
 * handle_DeleteTopics.c: DeleteTopics (20) v0-3. Deletes the topic and its
 * files (atomically, see log.h); an unknown name is UNKNOWN_TOPIC_OR_PARTITION.
 * Parked Fetches hold topic names, not pointers, so they see the deletion as
 * an unknown topic when they are next evaluated.
 */
#include <string.h>

#include "base/log.h"
#include "broker/broker_int.h"

int broker_handle_DeleteTopics(struct broker_conn *conn, const struct broker_req *req,
                               struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_DeleteTopicsRequest in;
    if (kafka_DeleteTopicsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_DeleteTopicsResponse res = {.nresponses =
                                                 in.ntopic_names < 0 ? 0 : in.ntopic_names};
    res.responses = sl_arena_alloc(&conn->arena, (res.nresponses ? (size_t)res.nresponses : 1) *
                                                     sizeof *res.responses);
    for (int32_t i = 0; i < res.nresponses; i++) {
        struct kafka_DeletableTopicResult *r = &res.responses[i];
        struct sl_slice nm = in.topic_names[i];
        *r = (struct kafka_DeletableTopicResult){.name = nm.p ? nm : sl_slice_str("")};
        char *name = broker_cstr(conn, nm);
        if (strlen(name) != nm.len || !log_store_topic(b->store, name)) {
            r->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        struct sl_error derr = {0};
        int rc = log_store_topic_delete(b->store, name, &derr);
        if (rc == SL_ENOTFOUND) {
            r->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
        } else if (rc != SL_OK) {
            sl_warn("cannot delete topic '%s': %s", name, derr.msg);
            r->error_code = KAFKA_UNKNOWN_SERVER_ERROR;
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_DeleteTopicsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
