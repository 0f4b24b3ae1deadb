/*
 * kafka_request.c: fuzz target for the broker's request decoding. The input
 * is one request frame without its size prefix (header, then body), as the
 * broker's connection layer hands it to dispatch. The header picks the
 * decoder; every successfully decoded request is re-encoded, decoded again
 * and re-encoded, and the two encodings must be identical (the codec's
 * visitor symmetry). Versions beyond a decoder's range are also folded into
 * it so that every API/version pair is reached; the group APIs and
 * InitProducerId (kafka/groups.h) are covered the same way. Seeds in
 * fuzz/corpus/kafka_request/ were captured from kcat, kafka-python,
 * confluent-kafka-python and kafkajs (`sluice broker --dump-frames DIR`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/groups.h"
#include "kafka/kafka.h"

#define ROUND_TRIP(M)                                                                              \
    static void rt_##M(struct sl_slice body, int16_t v, struct sl_arena *arena)                    \
    {                                                                                              \
        struct kafka_##M msg, again;                                                               \
        struct sl_error err = {0};                                                                 \
        if (kafka_##M##_decode(body, v, arena, &msg, &err) != SL_OK)                               \
            return;                                                                                \
        struct sl_buf a, b;                                                                        \
        sl_buf_init(&a, 0);                                                                        \
        sl_buf_init(&b, 0);                                                                        \
        kafka_##M##_encode(&a, v, &msg);                                                           \
        if (kafka_##M##_decode(sl_buf_slice(&a), v, arena, &again, &err) != SL_OK)                 \
            abort(); /* our own encoding must decode */                                            \
        kafka_##M##_encode(&b, v, &again);                                                         \
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)                                  \
            abort(); /* encode(decode(encode(x))) != encode(x) */                                  \
        sl_buf_release(&a);                                                                        \
        sl_buf_release(&b);                                                                        \
    }

ROUND_TRIP(ProduceRequest)
ROUND_TRIP(FetchRequest)
ROUND_TRIP(ListOffsetsRequest)
ROUND_TRIP(MetadataRequest)
ROUND_TRIP(ApiVersionsRequest)
ROUND_TRIP(CreateTopicsRequest)
ROUND_TRIP(DeleteTopicsRequest)
ROUND_TRIP(DescribeConfigsRequest)
ROUND_TRIP(AlterConfigsRequest)
ROUND_TRIP(FindCoordinatorRequest)
ROUND_TRIP(JoinGroupRequest)
ROUND_TRIP(SyncGroupRequest)
ROUND_TRIP(HeartbeatRequest)
ROUND_TRIP(LeaveGroupRequest)
ROUND_TRIP(OffsetCommitRequest)
ROUND_TRIP(OffsetFetchRequest)
ROUND_TRIP(ListGroupsRequest)
ROUND_TRIP(DescribeGroupsRequest)
ROUND_TRIP(InitProducerIdRequest)

static const struct {
    int key;
    int max_version;
    void (*rt)(struct sl_slice body, int16_t v, struct sl_arena *arena);
} decoders[] = {
    {KAFKA_API_PRODUCE, kafka_ProduceRequest_max_version, rt_ProduceRequest},
    {KAFKA_API_FETCH, kafka_FetchRequest_max_version, rt_FetchRequest},
    {KAFKA_API_LIST_OFFSETS, kafka_ListOffsetsRequest_max_version, rt_ListOffsetsRequest},
    {KAFKA_API_METADATA, kafka_MetadataRequest_max_version, rt_MetadataRequest},
    {KAFKA_API_API_VERSIONS, kafka_ApiVersionsRequest_max_version, rt_ApiVersionsRequest},
    {KAFKA_API_CREATE_TOPICS, kafka_CreateTopicsRequest_max_version, rt_CreateTopicsRequest},
    {KAFKA_API_DELETE_TOPICS, kafka_DeleteTopicsRequest_max_version, rt_DeleteTopicsRequest},
    {KAFKA_API_DESCRIBE_CONFIGS, kafka_DescribeConfigsRequest_max_version,
     rt_DescribeConfigsRequest},
    {KAFKA_API_ALTER_CONFIGS, kafka_AlterConfigsRequest_max_version, rt_AlterConfigsRequest},
    {KAFKA_API_FIND_COORDINATOR, kafka_FindCoordinatorRequest_max_version,
     rt_FindCoordinatorRequest},
    {KAFKA_API_JOIN_GROUP, kafka_JoinGroupRequest_max_version, rt_JoinGroupRequest},
    {KAFKA_API_SYNC_GROUP, kafka_SyncGroupRequest_max_version, rt_SyncGroupRequest},
    {KAFKA_API_HEARTBEAT, kafka_HeartbeatRequest_max_version, rt_HeartbeatRequest},
    {KAFKA_API_LEAVE_GROUP, kafka_LeaveGroupRequest_max_version, rt_LeaveGroupRequest},
    {KAFKA_API_OFFSET_COMMIT, kafka_OffsetCommitRequest_max_version, rt_OffsetCommitRequest},
    {KAFKA_API_OFFSET_FETCH, kafka_OffsetFetchRequest_max_version, rt_OffsetFetchRequest},
    {KAFKA_API_LIST_GROUPS, kafka_ListGroupsRequest_max_version, rt_ListGroupsRequest},
    {KAFKA_API_DESCRIBE_GROUPS, kafka_DescribeGroupsRequest_max_version, rt_DescribeGroupsRequest},
    {KAFKA_API_INIT_PRODUCER_ID, kafka_InitProducerIdRequest_max_version, rt_InitProducerIdRequest},
};

#define NDECODERS (sizeof decoders / sizeof decoders[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    if (kafka_RequestHeader_decode(sl_slice_make(data, size), &hdr, &body, &err) != SL_OK)
        return 0;
    /* Header round trip: what we parse we can write back identically. */
    struct sl_buf out;
    sl_buf_init(&out, 0);
    size_t start = kafka_request_begin(&out, &hdr);
    kafka_frame_end(&out, start, 0);
    size_t hdr_len = size - body.len;
    if (out.len - 4 != hdr_len || memcmp(out.data + 4, data, hdr_len) != 0) {
        /* Only a non-canonical tag buffer or a null client id may differ. */
        if (hdr.header_version < 2 && hdr.client_id.p)
            abort();
    }
    sl_buf_release(&out);

    struct sl_arena arena;
    sl_arena_init(&arena, 4096);
    unsigned pick = (unsigned)(uint16_t)hdr.request_api_key;
    for (size_t i = 0; i < NDECODERS; i++) {
        if (decoders[i].key == hdr.request_api_key) {
            pick = (unsigned)i;
            break;
        }
        if (i == NDECODERS - 1)
            pick %= NDECODERS;
    }
    int16_t v = hdr.request_api_version;
    decoders[pick].rt(body, v, &arena);
    if (v < 0 || v > decoders[pick].max_version)
        decoders[pick].rt(body, (int16_t)((uint16_t)v % (decoders[pick].max_version + 1)), &arena);
    sl_arena_release(&arena);
    return 0;
}
