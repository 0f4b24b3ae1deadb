/*
 * Tests of src/kafka/msg_admin.c and msg_data.c: every request and response
 * type at every version round-trips; known bytes from the spec; frames
 * captured from real clients (fuzz/corpus/kafka_request) decode, and every
 * truncation of them fails cleanly.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "kafka/groups.h"
#include "kafka/kafka.h"
#include "roundtrip.h"

static struct sl_arena arena;

/* ---- ApiVersions --------------------------------------------------------- */

static void test_api_versions_round_trip_v0_to_v3(void)
{
    struct kafka_ApiVersionsRequest rq = {S("sluice"), S("1.0")}, rq2;
    struct kafka_ApiVersion keys[] = {{0, 0, 7}, {18, 0, 3}};
    struct kafka_ApiVersionsResponse rs = {0, keys, 2, 9}, rs2;
    for (int16_t v = 0; v <= 3; v++) {
        ROUND_TRIP(ApiVersionsRequest, &rq, v, &rq2);
        ROUND_TRIP(ApiVersionsResponse, &rs, v, &rs2);
        CHECK_INT(rs2.napi_keys, 2);
        CHECK_INT(rs2.api_keys[1].max_version, 3);
        CHECK_INT(rs2.throttle_time_ms, v >= 1 ? 9 : 0);
        if (v == 3)
            CHECK(sl_slice_eq_str(rq2.client_software_name, "sluice"));
    }
}

static void test_api_versions_response_known_bytes(void)
{
    struct kafka_ApiVersion keys[] = {{18, 0, 3}};
    struct kafka_ApiVersionsResponse rs = {0, keys, 1, 0};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_ApiVersionsResponse_encode(&b, 3, &rs);
    /* error, compact array (1+1), key/min/max, element tags, throttle, tags */
    static const uint8_t v3[] = {0, 0, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0};
    CHECK_INT(b.len, sizeof v3);
    CHECK_MEM(b.data, v3, sizeof v3);
    sl_buf_reset(&b);
    kafka_ApiVersionsResponse_encode(&b, 0, &rs);
    static const uint8_t v0[] = {0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3};
    CHECK_INT(b.len, sizeof v0);
    CHECK_MEM(b.data, v0, sizeof v0);
    sl_buf_release(&b);
}

static void test_api_versions_unsupported_is_a_v0_frame_with_error_35(void)
{
    struct kafka_ApiVersion keys[] = {{18, 0, 3}};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_ApiVersions_unsupported_encode(&b, 42, keys, 1);
    static const uint8_t want[] = {0, 0, 0, 16, 0, 0, 0, 42, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3};
    CHECK_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    sl_buf_release(&b);
}

/* ---- Metadata ------------------------------------------------------------ */

static void test_metadata_round_trip_v0_to_v7(void)
{
    struct kafka_MetadataRequestTopic names[] = {{S("a")}, {S("bb")}};
    struct kafka_MetadataRequest rq = {names, 2, false}, rq2;
    int32_t nodes[] = {0};
    struct kafka_MetadataResponsePartition parts[] = {
        {0, 0, 0, 3, nodes, 1, nodes, 1, NULL, 0},
        {5, 1, -1, 3, nodes, 1, NULL, 0, nodes, 1},
    };
    struct kafka_MetadataResponseTopic topics[] = {{0, S("a"), false, parts, 2},
                                                   {3, S("bb"), true, NULL, 0}};
    struct kafka_MetadataResponseBroker brokers[] = {{0, S("127.0.0.1"), 9092, NUL}};
    struct kafka_MetadataResponse rs = {4, brokers, 1, S("cid"), 0, topics, 2}, rs2;
    for (int16_t v = 0; v <= 7; v++) {
        ROUND_TRIP(MetadataRequest, &rq, v, &rq2);
        CHECK_INT(rq2.ntopics, 2);
        CHECK_INT(rq2.allow_auto_topic_creation, v < 4); /* v0-3 imply true */
        ROUND_TRIP(MetadataResponse, &rs, v, &rs2);
        CHECK_INT(rs2.ntopics, 2);
        CHECK_INT(rs2.topics[0].npartitions, 2);
        CHECK_INT(rs2.topics[0].partitions[0].leader_epoch, v >= 7 ? 3 : -1);
        CHECK_INT(rs2.topics[0].partitions[1].noffline_replicas, v >= 5 ? 1 : 0);
        CHECK_INT(rs2.controller_id, v >= 1 ? 0 : -1);
        CHECK(v >= 2 ? sl_slice_eq_str(rs2.cluster_id, "cid") : rs2.cluster_id.p == NULL);
        CHECK_INT(rs2.brokers[0].port, 9092);
    }
    /* v1+: a null topic array means all topics */
    struct kafka_MetadataRequest all = {NULL, -1, true};
    ROUND_TRIP(MetadataRequest, &all, 1, &rq2);
    CHECK_INT(rq2.ntopics, -1);
}

/* ---- Produce ------------------------------------------------------------- */

static void test_produce_round_trip_v0_to_v7(void)
{
    struct kafka_ProducePartitionData pd[] = {{0, S("batchbytes")}, {1, NUL}};
    struct kafka_ProduceTopicData td[] = {{S("t"), pd, 2}};
    struct kafka_ProduceRequest rq = {NUL, -1, 30000, td, 1}, rq2;
    struct kafka_ProducePartitionResponse pr[] = {{0, 0, 5, -1, 2}, {1, 87, -1, -1, -1}};
    struct kafka_ProduceTopicResponse tr[] = {{S("t"), pr, 2}};
    struct kafka_ProduceResponse rs = {tr, 1, 0}, rs2;
    for (int16_t v = 0; v <= 7; v++) {
        ROUND_TRIP(ProduceRequest, &rq, v, &rq2);
        CHECK_INT(rq2.acks, -1);
        CHECK(sl_slice_eq_str(rq2.topic_data[0].partition_data[0].records, "batchbytes"));
        CHECK(rq2.topic_data[0].partition_data[1].records.p == NULL);
        ROUND_TRIP(ProduceResponse, &rs, v, &rs2);
        CHECK_INT(rs2.responses[0].partition_responses[0].base_offset, 5);
        CHECK_INT(rs2.responses[0].partition_responses[0].log_start_offset, v >= 5 ? 2 : -1);
        CHECK_INT(rs2.responses[0].partition_responses[1].error_code, 87);
    }
}

static void test_produce_response_v7_puts_throttle_last(void)
{
    struct kafka_ProducePartitionResponse pr[] = {{0, 0, 5, -1, 0}};
    struct kafka_ProduceTopicResponse tr[] = {{S("t"), pr, 1}};
    struct kafka_ProduceResponse rs = {tr, 1, 0x01020304};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_ProduceResponse_encode(&b, 7, &rs);
    static const uint8_t want[] = {
        0,    0,    0,    1,    0,    1,    't',  0,    0, 0, 1, /* responses, name */
        0,    0,    0,    0,    0,    0,                         /* index, error */
        0,    0,    0,    0,    0,    0,    0,    5,             /* base_offset */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,          /* log_append_time */
        0,    0,    0,    0,    0,    0,    0,    0,             /* log_start_offset */
        1,    2,    3,    4,                                     /* throttle, last */
    };
    CHECK_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    sl_buf_release(&b);
}

/* ---- Fetch --------------------------------------------------------------- */

static void test_fetch_round_trip_v0_to_v11(void)
{
    struct kafka_FetchPartition fp[] = {{0, 7, 100, 3, 1048576}};
    struct kafka_FetchTopic ft[] = {{S("t"), fp, 1}};
    int32_t forgotten_parts[] = {4};
    struct kafka_ForgottenTopic fg[] = {{S("old"), forgotten_parts, 1}};
    struct kafka_FetchRequest rq = {-1, 500, 1, 52428800, 1, 0, 5, ft, 1, fg, 1, S("r1")}, rq2;
    struct kafka_AbortedTransaction ab[] = {{9, 10}};
    struct kafka_FetchPartitionData pd[] = {
        {0, 0, 10, 10, 0, ab, 1, -1, {S("recs"), 0, NULL}},
        {1, 3, -1, -1, -1, NULL, 0, -1, {NUL, 0, NULL}},
    };
    struct kafka_FetchableTopicResponse tr[] = {{S("t"), pd, 2}};
    struct kafka_FetchResponse rs = {0, 0, 0, tr, 1}, rs2;
    for (int16_t v = 0; v <= 11; v++) {
        ROUND_TRIP(FetchRequest, &rq, v, &rq2);
        CHECK_INT(rq2.topics[0].partitions[0].fetch_offset, 100);
        CHECK_INT(rq2.max_bytes, v >= 3 ? 52428800 : INT32_MAX);
        CHECK_INT(rq2.session_epoch, v >= 7 ? 5 : -1);
        CHECK_INT(rq2.topics[0].partitions[0].current_leader_epoch, v >= 9 ? 7 : -1);
        CHECK_INT(rq2.nforgotten_topics_data, v >= 7 ? 1 : 0);
        CHECK(v >= 11 ? sl_slice_eq_str(rq2.rack_id, "r1") : rq2.rack_id.p == NULL);
        ROUND_TRIP(FetchResponse, &rs, v, &rs2);
        CHECK(sl_slice_eq_str(rs2.responses[0].partitions[0].records.mem, "recs"));
        CHECK_INT(rs2.responses[0].partitions[0].naborted_transactions, v >= 4 ? 1 : 0);
        /* a null `mem` goes out as length 0, never as null (pitfall 11) */
        CHECK(rs2.responses[0].partitions[1].records.mem.p != NULL);
        CHECK_INT(rs2.responses[0].partitions[1].records.mem.len, 0);
    }
}

static void test_fetch_response_splices_file_bytes_and_counts_them(void)
{
    int tag1, tag2;
    struct kafka_FetchPartitionData pd[] = {
        {0, 0, 10, 10, 0, NULL, 0, -1, {NUL, 300, &tag1}},
        {1, 0, 10, 10, 0, NULL, 0, -1, {NUL, 0, NULL}},
        {2, 0, 10, 10, 0, NULL, 0, -1, {NUL, 50, &tag2}},
    };
    struct kafka_FetchableTopicResponse tr[] = {{S("t"), pd, 3}};
    struct kafka_FetchResponse rs = {0, 0, 0, tr, 1};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct kafka_splices sp = {0};
    size_t start = kafka_response_begin(&b, 1, 0);
    size_t extra = kafka_FetchResponse_encode_spliced(&b, 11, &rs, &sp);
    kafka_frame_end(&b, start, extra);
    CHECK_INT(extra, 350);
    CHECK_INT(sp.n, 2);
    CHECK(sp.v[0].file == &tag1 && sp.v[1].file == &tag2);
    CHECK_INT(sp.v[0].len, 300);
    /* The RECORDS length before each splice point counts the file bytes. */
    const uint8_t *p = b.data + sp.v[0].at - 4;
    CHECK_INT(((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]), 300);
    CHECK(sp.v[1].at > sp.v[0].at);
    CHECK_INT(sp.v[1].at, b.len); /* the last partition's file bytes end the frame */
    const uint8_t *f = b.data;
    CHECK_INT(((uint32_t)f[0] << 24 | f[1] << 16 | f[2] << 8 | f[3]), b.len - 4 + 350);
    kafka_splices_release(&sp);
    sl_buf_release(&b);
}

/* ---- ListOffsets, CreateTopics, DeleteTopics, DescribeConfigs ------------ */

static void test_list_offsets_round_trip_v0_to_v3(void)
{
    struct kafka_ListOffsetsPartition lp[] = {{0, -2, 1}, {1, 1700000000000, 1}};
    struct kafka_ListOffsetsTopic lt[] = {{S("t"), lp, 2}};
    struct kafka_ListOffsetsRequest rq = {-1, 1, lt, 1}, rq2;
    int64_t old[] = {42};
    struct kafka_ListOffsetsPartitionResponse pr[] = {{0, 0, old, 1, -1, 42}};
    struct kafka_ListOffsetsTopicResponse tr[] = {{S("t"), pr, 1}};
    struct kafka_ListOffsetsResponse rs = {0, tr, 1}, rs2;
    for (int16_t v = 0; v <= 3; v++) {
        ROUND_TRIP(ListOffsetsRequest, &rq, v, &rq2);
        CHECK_INT(rq2.topics[0].partitions[1].timestamp, 1700000000000);
        CHECK_INT(rq2.isolation_level, v >= 2 ? 1 : 0);
        ROUND_TRIP(ListOffsetsResponse, &rs, v, &rs2);
        if (v == 0)
            CHECK_INT(rs2.topics[0].partitions[0].old_style_offsets[0], 42);
        else
            CHECK_INT(rs2.topics[0].partitions[0].offset, 42);
    }
}

static void test_create_and_delete_topics_round_trip(void)
{
    int32_t ids[] = {0};
    struct kafka_CreatableReplicaAssignment as[] = {{0, ids, 1}};
    struct kafka_CreateableTopicConfig cf[] = {{S("retention.ms"), S("1000")}, {S("x"), NUL}};
    struct kafka_CreatableTopic ct[] = {{S("t"), -1, -1, as, 1, cf, 2}};
    struct kafka_CreateTopicsRequest rq = {ct, 1, 5000, true}, rq2;
    struct kafka_CreatableTopicResult cr[] = {{S("t"), 36, S("exists")}};
    struct kafka_CreateTopicsResponse rs = {0, cr, 1}, rs2;
    for (int16_t v = 0; v <= 4; v++) {
        ROUND_TRIP(CreateTopicsRequest, &rq, v, &rq2);
        CHECK_INT(rq2.topics[0].nconfigs, 2);
        CHECK(rq2.topics[0].configs[1].value.p == NULL);
        CHECK_INT(rq2.validate_only, v >= 1);
        ROUND_TRIP(CreateTopicsResponse, &rs, v, &rs2);
        CHECK_INT(rs2.topics[0].error_code, 36);
    }
    struct sl_slice names[] = {S("a"), S("b")};
    struct kafka_DeleteTopicsRequest dq = {names, 2, 100}, dq2;
    struct kafka_DeletableTopicResult dr[] = {{S("a"), 0}, {S("b"), 3}};
    struct kafka_DeleteTopicsResponse ds = {0, dr, 2}, ds2;
    for (int16_t v = 0; v <= 3; v++) {
        ROUND_TRIP(DeleteTopicsRequest, &dq, v, &dq2);
        CHECK(sl_slice_eq_str(dq2.topic_names[1], "b"));
        ROUND_TRIP(DeleteTopicsResponse, &ds, v, &ds2);
        CHECK_INT(ds2.responses[1].error_code, 3);
    }
}

static void test_describe_configs_round_trip_v0_to_v2(void)
{
    struct sl_slice keys[] = {S("retention.ms")};
    struct kafka_DescribeConfigsResource res[] = {{2, S("t"), keys, 1}, {4, S("0"), NULL, -1}};
    struct kafka_DescribeConfigsRequest rq = {res, 2, true}, rq2;
    struct kafka_DescribeConfigsSynonym syn[] = {{S("log.retention.ms"), S("1"), 5}};
    struct kafka_DescribeConfigsResourceResult cfg[] = {
        {S("retention.ms"), S("1"), true, true, 5, false, syn, 1},
    };
    struct kafka_DescribeConfigsResult rr[] = {{0, NUL, 2, S("t"), cfg, 1}};
    struct kafka_DescribeConfigsResponse rs = {0, rr, 1}, rs2;
    for (int16_t v = 0; v <= 2; v++) {
        ROUND_TRIP(DescribeConfigsRequest, &rq, v, &rq2);
        CHECK_INT(rq2.resources[1].nconfiguration_keys, -1);
        ROUND_TRIP(DescribeConfigsResponse, &rs, v, &rs2);
        CHECK(sl_slice_eq_str(rs2.results[0].configs[0].value, "1"));
        CHECK_INT(rs2.results[0].configs[0].nsynonyms, v >= 1 ? 1 : 0);
    }
}

static void test_alter_configs_round_trip_and_wire_layout(void)
{
    struct kafka_AlterableConfig cfg[] = {{S("retention.ms"), S("-1")}, {S("segment.ms"), NUL}};
    struct kafka_AlterConfigsResource res[] = {{2, S("t"), cfg, 2}};
    struct kafka_AlterConfigsRequest rq = {res, 1, true}, rq2;
    struct kafka_AlterConfigsResourceResponse rr[] = {{40, S("bad"), 2, S("t")}, {0, NUL, 2, S("u")}};
    struct kafka_AlterConfigsResponse rs = {0, rr, 2}, rs2;
    for (int16_t v = 0; v <= 1; v++) {
        ROUND_TRIP(AlterConfigsRequest, &rq, v, &rq2);
        CHECK(sl_slice_eq_str(rq2.resources[0].configs[0].value, "-1"));
        CHECK(rq2.resources[0].configs[1].value.p == NULL);
        CHECK(rq2.validate_only);
        ROUND_TRIP(AlterConfigsResponse, &rs, v, &rs2);
        CHECK_INT(rs2.responses[0].error_code, 40);
        CHECK(rs2.responses[1].error_message.p == NULL);
    }
    /* The request's bytes, field by field (AlterConfigsRequest.json, v0). */
    static const uint8_t want[] = {
        0, 0, 0, 1,                                  /* resources */
        2, 0, 1, 't',                                /* type, name */
        0, 0, 0, 2,                                  /* configs */
        0, 12, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's', 0, 2, '-', '1',
        0, 10, 's', 'e', 'g', 'm', 'e', 'n', 't', '.', 'm', 's', 0xff, 0xff, /* null value */
        1,                                           /* validate_only */
    };
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_AlterConfigsRequest_encode(&b, 0, &rq);
    CHECK_INT(b.len, sizeof want);
    if (b.len == sizeof want)
        CHECK_MEM(b.data, want, sizeof want);
    sl_buf_release(&b);
}

static void test_versions_beyond_the_codec_fail_to_decode(void)
{
    struct kafka_FetchRequest f;
    struct kafka_ProduceRequest p;
    struct sl_error err = {0};
    CHECK_INT(
        kafka_FetchRequest_decode(S("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 12, &arena, &f, &err),
        SL_EPROTO);
    CHECK(strstr(err.msg, "unsupported FetchRequest version 12") != NULL);
    CHECK_INT(kafka_ProduceRequest_decode(S(""), -1, &arena, &p, &err), SL_EPROTO);
}

/* ---- Frames captured from real clients ----------------------------------- */

static int decode_captured(struct sl_slice frame, struct kafka_RequestHeader *hdr,
                           struct sl_error *err)
{
    struct sl_slice body;
    if (kafka_RequestHeader_decode(frame, hdr, &body, err) != SL_OK)
        return SL_EPROTO;
    int16_t v = hdr->request_api_version;
    union {
        struct kafka_ProduceRequest produce;
        struct kafka_FetchRequest fetch;
        struct kafka_ListOffsetsRequest list;
        struct kafka_MetadataRequest md;
        struct kafka_ApiVersionsRequest av;
        struct kafka_CreateTopicsRequest ct;
        struct kafka_DeleteTopicsRequest dt;
        struct kafka_DescribeConfigsRequest dc;
        struct kafka_AlterConfigsRequest ac;
        struct kafka_FindCoordinatorRequest fc;
        struct kafka_JoinGroupRequest jg;
        struct kafka_SyncGroupRequest sg;
        struct kafka_HeartbeatRequest hb;
        struct kafka_LeaveGroupRequest lg;
        struct kafka_OffsetCommitRequest oc;
        struct kafka_OffsetFetchRequest of;
        struct kafka_ListGroupsRequest lsg;
        struct kafka_DescribeGroupsRequest dg;
        struct kafka_InitProducerIdRequest ip;
    } m;
    switch (hdr->request_api_key) {
    case KAFKA_API_PRODUCE:
        return kafka_ProduceRequest_decode(body, v, &arena, &m.produce, err);
    case KAFKA_API_FETCH:
        return kafka_FetchRequest_decode(body, v, &arena, &m.fetch, err);
    case KAFKA_API_LIST_OFFSETS:
        return kafka_ListOffsetsRequest_decode(body, v, &arena, &m.list, err);
    case KAFKA_API_METADATA:
        return kafka_MetadataRequest_decode(body, v, &arena, &m.md, err);
    case KAFKA_API_API_VERSIONS:
        return kafka_ApiVersionsRequest_decode(body, v, &arena, &m.av, err);
    case KAFKA_API_CREATE_TOPICS:
        return kafka_CreateTopicsRequest_decode(body, v, &arena, &m.ct, err);
    case KAFKA_API_DELETE_TOPICS:
        return kafka_DeleteTopicsRequest_decode(body, v, &arena, &m.dt, err);
    case KAFKA_API_DESCRIBE_CONFIGS:
        return kafka_DescribeConfigsRequest_decode(body, v, &arena, &m.dc, err);
    case KAFKA_API_ALTER_CONFIGS:
        return kafka_AlterConfigsRequest_decode(body, v, &arena, &m.ac, err);
    /* The group APIs' codec is kafka/groups.h; their frames share the corpus. */
    case KAFKA_API_FIND_COORDINATOR:
        return kafka_FindCoordinatorRequest_decode(body, v, &arena, &m.fc, err);
    case KAFKA_API_JOIN_GROUP:
        return kafka_JoinGroupRequest_decode(body, v, &arena, &m.jg, err);
    case KAFKA_API_SYNC_GROUP:
        return kafka_SyncGroupRequest_decode(body, v, &arena, &m.sg, err);
    case KAFKA_API_HEARTBEAT:
        return kafka_HeartbeatRequest_decode(body, v, &arena, &m.hb, err);
    case KAFKA_API_LEAVE_GROUP:
        return kafka_LeaveGroupRequest_decode(body, v, &arena, &m.lg, err);
    case KAFKA_API_OFFSET_COMMIT:
        return kafka_OffsetCommitRequest_decode(body, v, &arena, &m.oc, err);
    case KAFKA_API_OFFSET_FETCH:
        return kafka_OffsetFetchRequest_decode(body, v, &arena, &m.of, err);
    case KAFKA_API_LIST_GROUPS:
        return kafka_ListGroupsRequest_decode(body, v, &arena, &m.lsg, err);
    case KAFKA_API_DESCRIBE_GROUPS:
        return kafka_DescribeGroupsRequest_decode(body, v, &arena, &m.dg, err);
    case KAFKA_API_INIT_PRODUCER_ID:
        return kafka_InitProducerIdRequest_decode(body, v, &arena, &m.ip, err);
    }
    return sl_fail(err, SL_EPROTO, "unexpected api key %d", hdr->request_api_key);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = malloc(1 << 20);
    *len = fread(data, 1, 1 << 20, f);
    fclose(f);
    return data;
}

static void test_frames_captured_from_clients_all_decode(void)
{
    const char *dir = "fuzz/corpus/kafka_request";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        uint8_t *data = slurp(path, &len);
        CHECK(data != NULL);
        if (!data)
            continue;
        struct kafka_RequestHeader hdr;
        struct sl_error err = {0};
        int rc = decode_captured(sl_slice_make(data, len), &hdr, &err);
        if (rc != SL_OK)
            fprintf(stderr, "%s: %s\n", de->d_name, err.msg);
        CHECK_INT(rc, SL_OK);
        free(data);
        files++;
        sl_arena_clear(&arena);
    }
    closedir(d);
    CHECK(files >= 80);
}

static void test_kcat_fetch_v11_fields(void)
{
    size_t len;
    uint8_t *data = slurp("fuzz/corpus/kafka_request/kcat-Fetch-v11-1.bin", &len);
    CHECK(data != NULL);
    if (!data)
        return;
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(data, len), &hdr, &body, &err), SL_OK);
    struct kafka_FetchRequest f;
    CHECK_INT(kafka_FetchRequest_decode(body, 11, &arena, &f, &err), SL_OK);
    CHECK_INT(f.replica_id, -1);
    CHECK_INT(f.max_wait_ms, 500);
    CHECK_INT(f.min_bytes, 1);
    CHECK_INT(f.max_bytes, 52428800);
    CHECK_INT(f.isolation_level, 1);
    CHECK_INT(f.session_id, 0);
    CHECK_INT(f.session_epoch, -1);
    CHECK_INT(f.ntopics, 1);
    CHECK(sl_slice_eq_str(f.topics[0].topic, "foo"));
    CHECK_INT(f.topics[0].partitions[0].current_leader_epoch, -1);
    CHECK_INT(f.topics[0].partitions[0].partition_max_bytes, 1048576);
    CHECK_INT(f.nforgotten_topics_data, 0);
    CHECK(sl_slice_eq_str(f.rack_id, ""));
    free(data);
}

static void test_kafka_python_probe_metadata_v0_asks_for_all_topics(void)
{
    size_t len;
    uint8_t *data = slurp("fuzz/corpus/kafka_request/kafka-python-Metadata-v0-1.bin", &len);
    CHECK(data != NULL);
    if (!data)
        return;
    struct kafka_RequestHeader hdr;
    struct sl_slice body;
    struct sl_error err = {0};
    CHECK_INT(kafka_RequestHeader_decode(sl_slice_make(data, len), &hdr, &body, &err), SL_OK);
    CHECK(sl_slice_eq_str(hdr.client_id, "kafka-python-producer-1"));
    struct kafka_MetadataRequest m;
    CHECK_INT(kafka_MetadataRequest_decode(body, 0, &arena, &m, &err), SL_OK);
    CHECK_INT(m.ntopics, 0);
    CHECK(m.allow_auto_topic_creation);
    free(data);
}

int main(void)
{
    sl_arena_init(&arena, 0);
    RUN(test_api_versions_round_trip_v0_to_v3);
    RUN(test_api_versions_response_known_bytes);
    RUN(test_api_versions_unsupported_is_a_v0_frame_with_error_35);
    RUN(test_metadata_round_trip_v0_to_v7);
    RUN(test_produce_round_trip_v0_to_v7);
    RUN(test_produce_response_v7_puts_throttle_last);
    RUN(test_fetch_round_trip_v0_to_v11);
    RUN(test_fetch_response_splices_file_bytes_and_counts_them);
    RUN(test_list_offsets_round_trip_v0_to_v3);
    RUN(test_create_and_delete_topics_round_trip);
    RUN(test_describe_configs_round_trip_v0_to_v2);
    RUN(test_alter_configs_round_trip_and_wire_layout);
    RUN(test_versions_beyond_the_codec_fail_to_decode);
    RUN(test_frames_captured_from_clients_all_decode);
    RUN(test_kcat_fetch_v11_fields);
    RUN(test_kafka_python_probe_metadata_v0_asks_for_all_topics);
    sl_arena_release(&arena);
    return CHECK_DONE();
}
