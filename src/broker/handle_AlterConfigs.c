/*
 * handle_AlterConfigs.c: AlterConfigs (33) v0-1, as confluent-kafka's,
 * kafka-python's and kafkajs's alter_configs send it.
 *
 * AlterConfigs replaces a resource's whole set of configs: for a topic, the
 * settings it names become the topic's own and every other goes back to the
 * store's (log_topic_reconfigure). Each config is taken as CreateTopics takes
 * it (broker_topic_config_take); one refused fails its resource with
 * INVALID_CONFIG and changes nothing. validate_only checks without changing.
 * A broker's settings are its command-line flags: a broker resource gets
 * INVALID_REQUEST, as do other resource types; unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION.
 */
#include <string.h>

#include "broker/broker_int.h"

int broker_handle_AlterConfigs(struct broker_conn *conn, const struct broker_req *req,
                               struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_AlterConfigsRequest in;
    if (kafka_AlterConfigsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_AlterConfigsResponse res = {.nresponses = in.nresources < 0 ? 0 : in.nresources};
    res.responses = sl_arena_alloc(&conn->arena, (res.nresponses ? (size_t)res.nresponses : 1) *
                                                     sizeof *res.responses);
    for (int32_t i = 0; i < res.nresponses; i++) {
        const struct kafka_AlterConfigsResource *r = &in.resources[i];
        struct kafka_AlterConfigsResourceResponse *rr = &res.responses[i];
        *rr = (struct kafka_AlterConfigsResourceResponse){
            .resource_type = r->resource_type,
            .resource_name = r->resource_name.p ? r->resource_name : sl_slice_str(""),
        };
        const char *msg = NULL;
        struct log_topic *topic = NULL;
        if (r->resource_type != KAFKA_RESOURCE_TOPIC) {
            rr->error_code = KAFKA_INVALID_REQUEST;
            msg = "only topic configs can be altered (the broker's are its flags)";
        } else if (!(topic = broker_topic(b, r->resource_name, false, &rr->error_code))) {
            msg = "unknown topic";
        }
        struct log_topic_config tc;
        log_topic_config_inherit(&tc);
        for (int32_t k = 0; !msg && k < r->nconfigs; k++)
            if ((msg = broker_topic_config_take(conn, r->configs[k].name, r->configs[k].value,
                                                &tc)))
                rr->error_code = KAFKA_INVALID_CONFIG;
        if (!msg && !in.validate_only) {
            struct sl_error cerr = {0};
            if (log_topic_reconfigure(topic, &tc, &cerr) != SL_OK) {
                rr->error_code = KAFKA_UNKNOWN_SERVER_ERROR;
                msg = sl_arena_strndup(&conn->arena, cerr.msg, strlen(cerr.msg));
            }
        }
        rr->error_message = msg ? sl_slice_str(msg) : sl_slice_make(NULL, 0);
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_AlterConfigsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
