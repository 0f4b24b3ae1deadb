/*
 * dispatch.c: the table of APIs the broker serves, keyed by ApiKey, and the
 * dispatch of each request frame to its handler (src/broker/handle_<Api>.c).
 *
 * The table is also what ApiVersions advertises, so what is listed is exactly
 * what is implemented (design/kafka-protocol.md §3 and pitfall 13: rdk and
 * kafkajs use the advertised maximum at once). Why these ranges:
 *   - Produce 0-7: min 0 or librdkafka 2.0.2 stops compressing gzip/snappy/lz4
 *     (§3.2); v0-2 are parsed and answered per partition with
 *     UNSUPPORTED_FOR_MESSAGE_FORMAT; v3-7 carry record batch v2.
 *   - Fetch 4-11: v11 makes kafka-python infer broker 2.3.0 (§2.3) and so use
 *     magic-2 batches; 4 is the oldest version with batch v2 semantics.
 *   - ListOffsets 0-3, Metadata 0-7, CreateTopics 0-4, DeleteTopics 0-3,
 *     DescribeConfigs 0-2, AlterConfigs 0-1: the highest non-flexible versions
 *     our clients use.
 *   - ApiVersions 0-3; v4+ get the v0-format UNSUPPORTED_VERSION answer.
 * Unknown keys and unsupported versions of other APIs cannot be answered in a
 * format the client expects, so the connection is closed (as Kafka does).
 */
#include "base/log.h"
#include "broker/broker_int.h"

const struct broker_api broker_apis[] = {
    { KAFKA_API_PRODUCE, 0, 7, broker_handle_Produce },
    { KAFKA_API_FETCH, 4, 11, broker_handle_Fetch },
    { KAFKA_API_LIST_OFFSETS, 0, 3, broker_handle_ListOffsets },
    { KAFKA_API_METADATA, 0, 7, broker_handle_Metadata },
    { KAFKA_API_API_VERSIONS, 0, 3, broker_handle_ApiVersions },
    { KAFKA_API_CREATE_TOPICS, 0, 4, broker_handle_CreateTopics },
    { KAFKA_API_DELETE_TOPICS, 0, 3, broker_handle_DeleteTopics },
    { KAFKA_API_DESCRIBE_CONFIGS, 0, 2, broker_handle_DescribeConfigs },
    { KAFKA_API_ALTER_CONFIGS, 0, 1, broker_handle_AlterConfigs },
    /* Consumer groups: min 0 everywhere or rdk 2.0.2 disables them (§3.2). */
    { KAFKA_API_OFFSET_COMMIT, 0, 7, broker_handle_OffsetCommit },
    { KAFKA_API_OFFSET_FETCH, 0, 5, broker_handle_OffsetFetch },
    { KAFKA_API_FIND_COORDINATOR, 0, 2, broker_handle_FindCoordinator },
    { KAFKA_API_JOIN_GROUP, 0, 5, broker_handle_JoinGroup },
    { KAFKA_API_HEARTBEAT, 0, 3, broker_handle_Heartbeat },
    { KAFKA_API_LEAVE_GROUP, 0, 3, broker_handle_LeaveGroup },
    { KAFKA_API_SYNC_GROUP, 0, 3, broker_handle_SyncGroup },
    { KAFKA_API_DESCRIBE_GROUPS, 0, 4, broker_handle_DescribeGroups },
    { KAFKA_API_LIST_GROUPS, 0, 2, broker_handle_ListGroups },
    /* Idempotent producers: rdk's IdempotentProducer feature needs v0 (§3.2). */
    { KAFKA_API_INIT_PRODUCER_ID, 0, 1, broker_handle_InitProducerId },
};

const size_t broker_napis = sizeof broker_apis / sizeof broker_apis[0];

void broker_api_versions(struct kafka_ApiVersion *out, size_t n)
{
    for (size_t i = 0; i < n && i < broker_napis; i++) {
        out[i].api_key = broker_apis[i].api_key;
        out[i].min_version = broker_apis[i].min_version;
        out[i].max_version = broker_apis[i].max_version;
    }
}

static const struct broker_api *find_api(int key)
{
    for (size_t i = 0; i < broker_napis; i++)
        if (broker_apis[i].api_key == key)
            return &broker_apis[i];
    return NULL;
}

int broker_dispatch(struct broker_conn *conn, struct sl_slice frame, struct sl_error *err)
{
    struct broker_req req;
    int rc = kafka_RequestHeader_decode(frame, &req.hdr, &req.body, err);
    if (rc != SL_OK)
        return rc;
    int key = req.hdr.request_api_key, ver = req.hdr.request_api_version;
    const struct broker_api *api = find_api(key);
    sl_debug("%s: %s v%d corr %d client '%.*s' (%zu bytes)", conn->peer, kafka_api_name(key),
             ver, req.hdr.correlation_id, (int)req.hdr.client_id.len,
             req.hdr.client_id.p ? (const char *)req.hdr.client_id.p : "", frame.len);
    if (key == KAFKA_API_API_VERSIONS && api && ver > api->max_version) {
        /* KIP-511: answer in v0 format so that the client can retry lower. */
        struct kafka_ApiVersion *list =
            sl_arena_alloc(&conn->arena, broker_napis * sizeof *list);
        broker_api_versions(list, broker_napis);
        kafka_ApiVersions_unsupported_encode(&conn->out, req.hdr.correlation_id, list,
                                             (int32_t)broker_napis);
        broker_resp_gate(conn, 0);
        return SL_OK;
    }
    if (!api)
        return sl_fail(err, SL_EPROTO, "unsupported api key %d (%s) v%d", key,
                       kafka_api_name(key), ver);
    if (ver < api->min_version || ver > api->max_version)
        return sl_fail(err, SL_EPROTO, "unsupported %s version %d (serving %d..%d)",
                       kafka_api_name(key), ver, api->min_version, api->max_version);
    return api->handle(conn, &req, err);
}
