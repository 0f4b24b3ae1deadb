/*
 * Tests of src/kafka/groups.c, the codec of the consumer-group and
 * producer-id APIs: every request and response at every version round-trips
 * and fails cleanly on every truncation; known bytes of the spec's layouts;
 * the group frames captured from kcat, kafka-python, confluent-kafka and
 * kafkajs (fuzz/corpus/kafka_request) decode and re-encode identically.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "kafka/groups.h"
#include "roundtrip.h"

static struct sl_arena arena;

static void test_find_coordinator_round_trip_v0_to_v2(void)
{
    struct kafka_FindCoordinatorRequest rq = {S("grp"), 0}, rq2;
    struct kafka_FindCoordinatorResponse rs = {0, 0, NUL, 0, S("127.0.0.1"), 9092}, rs2;
    for (int16_t v = 0; v <= 2; v++) {
        ROUND_TRIP(FindCoordinatorRequest, &rq, v, &rq2);
        ROUND_TRIP(FindCoordinatorResponse, &rs, v, &rs2);
        CHECK_INT(rs2.port, 9092);
        CHECK(sl_slice_eq(rs2.host, S("127.0.0.1")));
    }
}

static void test_join_group_round_trip_v0_to_v5(void)
{
    struct kafka_JoinGroupRequestProtocol protos[] = {{S("range"), S("m1")},
                                                      {S("roundrobin"), S("m2")}};
    struct kafka_JoinGroupRequest rq = {S("grp"), 45000,         300000, S(""),
                                        NUL,      S("consumer"), protos, 2},
                                  rq2;
    struct kafka_JoinGroupResponseMember mem[] = {{S("a"), NUL, S("m1")}, {S("b"), NUL, S("m2")}};
    struct kafka_JoinGroupResponse rs = {0, 0, 3, S("range"), S("a"), S("a"), mem, 2}, rs2;
    for (int16_t v = 0; v <= 5; v++) {
        ROUND_TRIP(JoinGroupRequest, &rq, v, &rq2);
        CHECK_INT(rq2.nprotocols, 2);
        CHECK_INT(rq2.rebalance_timeout_ms, v >= 1 ? 300000 : 45000);
        CHECK(sl_slice_eq(rq2.protocols[1].metadata, S("m2")));
        ROUND_TRIP(JoinGroupResponse, &rs, v, &rs2);
        CHECK_INT(rs2.generation_id, 3);
        CHECK_INT(rs2.nmembers, 2);
    }
}

static void test_sync_heartbeat_leave_round_trip_v0_to_v3(void)
{
    struct kafka_SyncGroupRequestAssignment as[] = {{S("a"), S("x")}, {S("b"), S("")}};
    struct kafka_SyncGroupRequest sq = {S("grp"), 2, S("a"), NUL, as, 2}, sq2;
    struct kafka_SyncGroupResponse ss = {0, 0, S("assignment")}, ss2;
    struct kafka_HeartbeatRequest hq = {S("grp"), 2, S("a"), NUL}, hq2;
    struct kafka_HeartbeatResponse hs = {0, 27}, hs2;
    struct kafka_MemberIdentity ids[] = {{S("a"), NUL}};
    struct kafka_LeaveGroupRequest lq = {S("grp"), S("a"), ids, 1}, lq2;
    struct kafka_MemberResponse mr[] = {{S("a"), NUL, 25}};
    struct kafka_LeaveGroupResponse ls = {0, 0, mr, 1}, ls2;
    for (int16_t v = 0; v <= 3; v++) {
        ROUND_TRIP(SyncGroupRequest, &sq, v, &sq2);
        CHECK_INT(sq2.nassignments, 2);
        ROUND_TRIP(SyncGroupResponse, &ss, v, &ss2);
        CHECK(sl_slice_eq(ss2.assignment, S("assignment")));
        ROUND_TRIP(HeartbeatRequest, &hq, v, &hq2);
        ROUND_TRIP(HeartbeatResponse, &hs, v, &hs2);
        CHECK_INT(hs2.error_code, 27);
        if (v < 3) {
            struct kafka_LeaveGroupRequest l0 = {S("grp"), S("a"), NULL, 0};
            ROUND_TRIP(LeaveGroupRequest, &l0, v, &lq2);
            CHECK(sl_slice_eq(lq2.member_id, S("a")));
            struct kafka_LeaveGroupResponse r0 = {0, 0, NULL, 0};
            ROUND_TRIP(LeaveGroupResponse, &r0, v, &ls2);
        } else {
            ROUND_TRIP(LeaveGroupRequest, &lq, v, &lq2);
            CHECK_INT(lq2.nmembers, 1);
            ROUND_TRIP(LeaveGroupResponse, &ls, v, &ls2);
            CHECK_INT(ls2.members[0].error_code, 25);
        }
    }
}

static void test_offset_commit_and_fetch_round_trip_every_version(void)
{
    struct kafka_OffsetCommitRequestPartition cp[] = {{0, 42, -1, -1, S("")}, {1, 7, -1, -1, NUL}};
    struct kafka_OffsetCommitRequestTopic ct[] = {{S("t"), cp, 2}};
    struct kafka_OffsetCommitRequest cq = {S("grp"), -1, S(""), NUL, -1, ct, 1}, cq2;
    struct kafka_OffsetCommitResponsePartition crp[] = {{0, 0}, {1, 22}};
    struct kafka_OffsetCommitResponseTopic crt[] = {{S("t"), crp, 2}};
    struct kafka_OffsetCommitResponse cs = {0, crt, 1}, cs2;
    for (int16_t v = 0; v <= 7; v++) {
        ROUND_TRIP(OffsetCommitRequest, &cq, v, &cq2);
        CHECK_INT(cq2.topics[0].partitions[0].committed_offset, 42);
        CHECK_INT(cq2.generation_id, -1);
        ROUND_TRIP(OffsetCommitResponse, &cs, v, &cs2);
        CHECK_INT(cs2.topics[0].partitions[1].error_code, 22);
    }
    int32_t idx[] = {0, 1};
    struct kafka_OffsetFetchRequestTopic ft[] = {{S("t"), idx, 2}};
    struct kafka_OffsetFetchRequest fq = {S("grp"), ft, 1}, fq2;
    struct kafka_OffsetFetchResponsePartition fp[] = {{0, 42, -1, S(""), 0}, {1, -1, -1, S(""), 0}};
    struct kafka_OffsetFetchResponseTopic frt[] = {{S("t"), fp, 2}};
    struct kafka_OffsetFetchResponse fs = {0, frt, 1, 0}, fs2;
    for (int16_t v = 0; v <= 5; v++) {
        ROUND_TRIP(OffsetFetchRequest, &fq, v, &fq2);
        CHECK_INT(fq2.topics[0].npartition_indexes, 2);
        ROUND_TRIP(OffsetFetchResponse, &fs, v, &fs2);
        CHECK_INT(fs2.topics[0].partitions[0].committed_offset, 42);
        CHECK_INT(fs2.topics[0].partitions[1].committed_leader_epoch, -1);
    }
    /* Null topics (= every committed partition) only from v2. */
    struct kafka_OffsetFetchRequest all = {S("grp"), NULL, -1}, all2;
    for (int16_t v = 2; v <= 5; v++) {
        ROUND_TRIP(OffsetFetchRequest, &all, v, &all2);
        CHECK_INT(all2.ntopics, -1);
    }
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_OffsetFetchRequest_encode(&b, 2, &all);
    struct sl_error err = {0};
    CHECK_INT(kafka_OffsetFetchRequest_decode(sl_buf_slice(&b), 1, &arena, &all2, &err), SL_EPROTO);
    sl_buf_release(&b);
}

static void test_list_describe_and_init_producer_id_round_trip(void)
{
    struct kafka_ListGroupsRequest lq = {0}, lq2;
    struct kafka_ListedGroup lg[] = {{S("g1"), S("consumer")}, {S("g2"), S("")}};
    struct kafka_ListGroupsResponse ls = {0, 0, lg, 2}, ls2;
    for (int16_t v = 0; v <= 2; v++) {
        ROUND_TRIP(ListGroupsRequest, &lq, v, &lq2);
        ROUND_TRIP(ListGroupsResponse, &ls, v, &ls2);
        CHECK_INT(ls2.ngroups, 2);
    }
    struct sl_slice names[] = {S("g1")};
    struct kafka_DescribeGroupsRequest dq = {names, 1, false}, dq2;
    struct kafka_DescribedGroupMember dm[] = {
        {S("m"), NUL, S("c"), S("/127.0.0.1"), S("md"), S("as")}};
    struct kafka_DescribedGroup dg[] = {
        {0, S("g1"), S("Stable"), S("consumer"), S("range"), dm, 1, INT32_MIN}};
    struct kafka_DescribeGroupsResponse ds = {0, dg, 1}, ds2;
    for (int16_t v = 0; v <= 4; v++) {
        ROUND_TRIP(DescribeGroupsRequest, &dq, v, &dq2);
        ROUND_TRIP(DescribeGroupsResponse, &ds, v, &ds2);
        CHECK(sl_slice_eq(ds2.groups[0].members[0].member_assignment, S("as")));
    }
    struct kafka_InitProducerIdRequest iq = {NUL, -1}, iq2;
    struct kafka_InitProducerIdResponse is = {0, 0, 1000, 0}, is2;
    for (int16_t v = 0; v <= 1; v++) {
        ROUND_TRIP(InitProducerIdRequest, &iq, v, &iq2);
        CHECK(iq2.transactional_id.p == NULL);
        ROUND_TRIP(InitProducerIdResponse, &is, v, &is2);
        CHECK_INT(is2.producer_id, 1000);
    }
}

static void test_known_bytes_of_heartbeat_v3_and_init_producer_id_v1(void)
{
    struct kafka_HeartbeatRequest hq = {S("g"), 5, S("m"), NUL};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    kafka_HeartbeatRequest_encode(&b, 3, &hq);
    static const uint8_t want[] = {0, 1, 'g', 0, 0, 0, 5, 0, 1, 'm', 0xff, 0xff};
    CHECK_INT(b.len, sizeof want);
    if (b.len == sizeof want)
        CHECK_MEM(b.data, want, sizeof want);
    sl_buf_reset(&b);
    struct kafka_InitProducerIdResponse is = {0, 0, 0x0102030405060708LL, 0};
    kafka_InitProducerIdResponse_encode(&b, 1, &is);
    static const uint8_t want2[] = {0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0};
    CHECK_INT(b.len, sizeof want2);
    if (b.len == sizeof want2)
        CHECK_MEM(b.data, want2, sizeof want2);
    sl_buf_release(&b);
}

/* Decode a captured group frame with the header's version, then re-encode. */
static int decode_captured(int key, struct sl_slice body, int16_t v)
{
    struct sl_error err = {0};
    struct sl_buf out;
    sl_buf_init(&out, 0);
    int rc = SL_OK;
#define CAP(K, M)                                                                                  \
    case K: {                                                                                      \
        struct kafka_##M m;                                                                        \
        rc = kafka_##M##_decode(body, v, &arena, &m, &err);                                        \
        if (rc == SL_OK)                                                                           \
            kafka_##M##_encode(&out, v, &m);                                                       \
        break;                                                                                     \
    }
    switch (key) {
        CAP(KAFKA_API_FIND_COORDINATOR, FindCoordinatorRequest)
        CAP(KAFKA_API_JOIN_GROUP, JoinGroupRequest)
        CAP(KAFKA_API_SYNC_GROUP, SyncGroupRequest)
        CAP(KAFKA_API_HEARTBEAT, HeartbeatRequest)
        CAP(KAFKA_API_LEAVE_GROUP, LeaveGroupRequest)
        CAP(KAFKA_API_OFFSET_COMMIT, OffsetCommitRequest)
        CAP(KAFKA_API_OFFSET_FETCH, OffsetFetchRequest)
        CAP(KAFKA_API_LIST_GROUPS, ListGroupsRequest)
        CAP(KAFKA_API_DESCRIBE_GROUPS, DescribeGroupsRequest)
        CAP(KAFKA_API_INIT_PRODUCER_ID, InitProducerIdRequest)
    default:
        rc = 1; /* not a group API */
    }
#undef CAP
    if (rc == SL_OK && (out.len != body.len || memcmp(out.data, body.p, body.len) != 0)) {
        fprintf(stderr, "key %d v%d: re-encoding differs (%zu vs %zu bytes)\n", key, v, out.len,
                body.len);
        rc = SL_EPROTO;
    }
    sl_buf_release(&out);
    return rc;
}

static void test_captured_client_group_frames_decode_and_reencode_identically(void)
{
    const char *dirpath = "fuzz/corpus/kafka_request"; /* ctest runs in the source dir */
    DIR *d = opendir(dirpath);
    CHECK(d != NULL);
    if (!d)
        return;
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        struct kafka_RequestHeader hdr;
        struct sl_slice body;
        struct sl_error err = {0};
        if (kafka_RequestHeader_decode(sl_slice_make(buf, n), &hdr, &body, &err) != SL_OK)
            continue;
        int rc = decode_captured(hdr.request_api_key, body, hdr.request_api_version);
        if (rc == 1)
            continue;
        if (rc != SL_OK)
            fprintf(stderr, "%s: does not decode/re-encode\n", de->d_name);
        CHECK_INT(rc, SL_OK);
        seen++;
    }
    closedir(d);
    CHECK(seen >= 10); /* kcat, kafka-python, confluent-kafka and kafkajs group traffic */
}

int main(void)
{
    sl_arena_init(&arena, 1 << 16);
    RUN(test_find_coordinator_round_trip_v0_to_v2);
    RUN(test_join_group_round_trip_v0_to_v5);
    RUN(test_sync_heartbeat_leave_round_trip_v0_to_v3);
    RUN(test_offset_commit_and_fetch_round_trip_every_version);
    RUN(test_list_describe_and_init_producer_id_round_trip);
    RUN(test_known_bytes_of_heartbeat_v3_and_init_producer_id_v1);
    RUN(test_captured_client_group_frames_decode_and_reencode_identically);
    sl_arena_release(&arena);
    return CHECK_DONE();
}
