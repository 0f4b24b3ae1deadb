/*
 * handle_DescribeConfigs.c: DescribeConfigs (32) v0-2, for admin tooling.
 *
 * A topic's configs are the settings its log follows: the ones it was
 * created with (source TOPIC_CONFIG = 1, not default) and the store's for
 * the rest (source DEFAULT_CONFIG = 5), plus the fixed policies sluice
 * implements (cleanup.policy=delete, CreateTime timestamps). A topic's log
 * settings are writable (AlterConfigs), the rest read-only. A broker resource
 * (type 4) reports the store's, all read-only (they are its flags). Unknown
 * topics get UNKNOWN_TOPIC_OR_PARTITION, other resource types INVALID_REQUEST.
 */
#include <inttypes.h>
#include <stdio.h>

#include "broker/broker_int.h"

#define SOURCE_TOPIC 1
#define SOURCE_DEFAULT 5

int broker_handle_DescribeConfigs(struct broker_conn *conn, const struct broker_req *req,
                                  struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_DescribeConfigsRequest in;
    if (kafka_DescribeConfigsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_DescribeConfigsResponse res = {.nresults = in.nresources < 0 ? 0 : in.nresources};
    res.results = sl_arena_alloc(&conn->arena,
                                 (res.nresults ? (size_t)res.nresults : 1) * sizeof *res.results);
    for (int32_t i = 0; i < res.nresults; i++) {
        const struct kafka_DescribeConfigsResource *r = &in.resources[i];
        struct kafka_DescribeConfigsResult *rr = &res.results[i];
        *rr = (struct kafka_DescribeConfigsResult){
            .resource_type = r->resource_type,
            .resource_name = r->resource_name.p ? r->resource_name : sl_slice_str(""),
            .error_message = sl_slice_make(NULL, 0),
        };
        const struct log_config *lc = log_store_config(b->store);
        struct log_topic_config own;
        log_topic_config_inherit(&own);
        if (r->resource_type == KAFKA_RESOURCE_TOPIC) {
            int16_t ec;
            struct log_topic *topic = broker_topic(b, r->resource_name, false, &ec);
            if (!topic) {
                rr->error_code = ec;
                rr->error_message = sl_slice_str("unknown topic");
                continue;
            }
            lc = log_topic_config(topic);
            own = *log_topic_overrides(topic);
        } else if (r->resource_type != KAFKA_RESOURCE_BROKER) {
            rr->error_code = KAFKA_INVALID_REQUEST;
            rr->error_message = sl_slice_str("unsupported resource type");
            continue;
        }
        bool topic = r->resource_type == KAFKA_RESOURCE_TOPIC;
        const struct {
            const char *name;
            int64_t value; /* INT64_MIN: use text */
            const char *text;
            bool own;      /* the topic's own setting */
            bool writable; /* by AlterConfigs */
        } all[] = {
            {"cleanup.policy", INT64_MIN, "delete", false, false},
            {"message.timestamp.type", INT64_MIN, "CreateTime", false, false},
            {"segment.bytes", lc->segment_bytes, NULL, own.segment_bytes != LOG_INHERIT, topic},
            {"segment.ms", lc->segment_ms, NULL, own.segment_ms != LOG_INHERIT, topic},
            {"retention.bytes", lc->retention_bytes, NULL, own.retention_bytes != LOG_INHERIT,
             topic},
            {"retention.ms", lc->retention_ms, NULL, own.retention_ms != LOG_INHERIT, topic},
            {"max.message.bytes", lc->max_batch_bytes, NULL, own.max_batch_bytes != LOG_INHERIT,
             topic},
            {"index.interval.bytes", lc->index_interval_bytes, NULL, false, false},
        };
        const int32_t nall = (int32_t)(sizeof all / sizeof all[0]);
        rr->configs = sl_arena_alloc(&conn->arena, (size_t)nall * sizeof *rr->configs);
        for (int32_t k = 0; k < nall; k++) {
            bool wanted = r->nconfiguration_keys < 0;
            for (int32_t q = 0; q < r->nconfiguration_keys && !wanted; q++)
                wanted = sl_slice_eq_str(r->configuration_keys[q], all[k].name);
            if (!wanted)
                continue;
            const char *text = all[k].text;
            if (!text) {
                char *v = sl_arena_alloc(&conn->arena, 24);
                snprintf(v, 24, "%" PRId64, all[k].value);
                text = v;
            }
            rr->configs[rr->nconfigs++] = (struct kafka_DescribeConfigsResourceResult){
                .name = sl_slice_str(all[k].name),
                .value = sl_slice_str(text),
                .read_only = !all[k].writable,
                .is_default = !all[k].own,
                .config_source = all[k].own ? SOURCE_TOPIC : SOURCE_DEFAULT,
            };
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_DescribeConfigsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
