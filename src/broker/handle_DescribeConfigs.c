/*
 * handle_DescribeConfigs.c: DescribeConfigs (32) v0-2, for admin tooling.
 *
 * The log's settings are store-wide, so a topic's configs are the store's
 * (reported as defaults, source DEFAULT_CONFIG = 5), plus the fixed policies
 * sluice implements (cleanup.policy=delete, CreateTime timestamps). A broker
 * resource (type 4) reports the same set. Unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION, other resource types INVALID_REQUEST.
 */
#include <inttypes.h>
#include <stdio.h>

#include "broker/broker_int.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define SOURCE_DEFAULT 5

int broker_handle_DescribeConfigs(struct broker_conn *conn, const struct broker_req *req,
                                  struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_DescribeConfigsRequest in;
    if (kafka_DescribeConfigsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    const struct log_config *lc = log_store_config(b->store);
    struct {
        const char *name;
        int64_t value; /* INT64_MIN: use text */
        const char *text;
    } all[] = {
        {"cleanup.policy", INT64_MIN, "delete"},
        {"message.timestamp.type", INT64_MIN, "CreateTime"},
        {"segment.bytes", lc->segment_bytes, NULL},
        {"segment.ms", lc->segment_ms, NULL},
        {"retention.bytes", lc->retention_bytes, NULL},
        {"retention.ms", lc->retention_ms, NULL},
        {"max.message.bytes", lc->max_batch_bytes, NULL},
        {"index.interval.bytes", lc->index_interval_bytes, NULL},
    };
    const int32_t nall = (int32_t)(sizeof all / sizeof all[0]);

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
        if (r->resource_type == RESOURCE_TOPIC) {
            int16_t ec;
            if (!broker_topic(b, r->resource_name, false, &ec)) {
                rr->error_code = ec;
                rr->error_message = sl_slice_str("unknown topic");
                continue;
            }
        } else if (r->resource_type != RESOURCE_BROKER) {
            rr->error_code = KAFKA_INVALID_REQUEST;
            rr->error_message = sl_slice_str("unsupported resource type");
            continue;
        }
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
                .read_only = true,
                .is_default = true,
                .config_source = SOURCE_DEFAULT,
            };
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_DescribeConfigsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
