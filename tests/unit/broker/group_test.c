/*
 * Tests of src/broker/group.c, the group coordinator's state machine, driven
 * directly (no sockets): waiters are small integers, replies are recorded,
 * time is passed in. Also the durability of committed offsets and producer
 * ids across a close and reopen of the group file, and a torn tail.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/group.h"
#include "check.h"

/* ---- A recording reply callback ---------------------------------------- */

struct reply {
    int waiter;
    int api;
    int16_t error;
    int32_t generation;
    char member_id[128];
    char leader[128];
    char protocol[32];
    int nmembers;
    char assignment[64];
};

static struct reply replies[64];
static int nreplies;

static void on_reply(void *arg, void *waiter, int api_key, const void *resp)
{
    (void)arg;
    struct reply *r = &replies[nreplies++ % 64];
    memset(r, 0, sizeof *r);
    r->waiter = (int)(intptr_t)waiter;
    r->api = api_key;
    if (api_key == KAFKA_API_JOIN_GROUP) {
        const struct kafka_JoinGroupResponse *j = resp;
        r->error = j->error_code;
        r->generation = j->generation_id;
        snprintf(r->member_id, sizeof r->member_id, "%.*s", (int)j->member_id.len,
                 (const char *)j->member_id.p);
        snprintf(r->leader, sizeof r->leader, "%.*s", (int)j->leader.len,
                 (const char *)j->leader.p);
        snprintf(r->protocol, sizeof r->protocol, "%.*s", (int)j->protocol_name.len,
                 (const char *)j->protocol_name.p);
        r->nmembers = j->nmembers;
    } else {
        const struct kafka_SyncGroupResponse *s = resp;
        r->error = s->error_code;
        snprintf(r->assignment, sizeof r->assignment, "%.*s", (int)s->assignment.len,
                 (const char *)s->assignment.p);
    }
}

/* The latest reply to `waiter`, or NULL. */
static struct reply *reply_to(int waiter)
{
    for (int i = nreplies - 1; i >= 0 && i >= nreplies - 64; i--)
        if (replies[i % 64].waiter == waiter)
            return &replies[i % 64];
    return NULL;
}

static char dir[] = "/tmp/sluice-group-test-XXXXXX";

static struct broker_groups *open_groups(void)
{
    struct sl_error err = {0};
    struct broker_groups *gs = broker_groups_open(dir, on_reply, NULL, &err);
    if (!gs)
        fprintf(stderr, "open: %s\n", err.msg);
    return gs;
}

static void fresh_dir(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -f %s/%s", dir, BROKER_GROUP_FILE);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot clean %s\n", dir);
    nreplies = 0;
}

static struct kafka_JoinGroupRequestProtocol protos[2] = {
    {{(const uint8_t *)"range", 5}, {(const uint8_t *)"meta", 4}},
    {{(const uint8_t *)"roundrobin", 10}, {(const uint8_t *)"meta", 4}},
};

static bool join(struct broker_groups *gs, int waiter, const char *member, int16_t version,
                 int64_t now)
{
    struct kafka_JoinGroupRequest req = {
        .group_id = sl_slice_str("g"),
        .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000,
        .member_id = sl_slice_str(member),
        .protocol_type = sl_slice_str("consumer"),
        .protocols = protos,
        .nprotocols = 2,
    };
    return broker_groups_join(gs, &req, version, sl_slice_str("client"), "/127.0.0.1",
                              (void *)(intptr_t)waiter, now);
}

static bool sync_(struct broker_groups *gs, int waiter, const char *member, int32_t gen,
                  struct kafka_SyncGroupRequestAssignment *a, int32_t na, int64_t now)
{
    struct kafka_SyncGroupRequest req = {
        .group_id = sl_slice_str("g"),
        .generation_id = gen,
        .member_id = sl_slice_str(member),
        .assignments = a,
        .nassignments = na,
    };
    return broker_groups_sync(gs, &req, (void *)(intptr_t)waiter, now);
}

static int16_t heartbeat(struct broker_groups *gs, const char *member, int32_t gen, int64_t now)
{
    struct kafka_HeartbeatRequest req = {
        .group_id = sl_slice_str("g"),
        .generation_id = gen,
        .member_id = sl_slice_str(member),
    };
    return broker_groups_heartbeat(gs, &req, now);
}

/* Join a new member with the v4+ round trip; returns its id (static buffer). */
static const char *join_new(struct broker_groups *gs, int waiter, int64_t now, char *id, size_t n)
{
    CHECK(join(gs, waiter, "", 5, now));
    struct reply *r = reply_to(waiter);
    CHECK(r && r->error == KAFKA_MEMBER_ID_REQUIRED);
    snprintf(id, n, "%s", r ? r->member_id : "");
    return id;
}

/* ---- Tests ---------------------------------------------------------------- */

static void test_join_v5_requires_member_id_then_single_member_becomes_leader(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    char a[128];
    join_new(gs, 1, 0, a, sizeof a);
    CHECK(strncmp(a, "client-", 7) == 0);
    CHECK_INT(reply_to(1)->generation, -1);
    CHECK(join(gs, 1, a, 5, 10)); /* the only member: the round completes at once */
    struct reply *r = reply_to(1);
    CHECK_INT(r->error, 0);
    CHECK_INT(r->generation, 1);
    CHECK_STR(r->leader, a);
    CHECK_STR(r->protocol, "range");
    CHECK_INT(r->nmembers, 1);
    CHECK_STR(broker_groups_state(gs, "g"), "CompletingRebalance");
    struct kafka_SyncGroupRequestAssignment as = {sl_slice_str(a), sl_slice_str("all")};
    CHECK(sync_(gs, 1, a, 1, &as, 1, 20));
    CHECK_STR(reply_to(1)->assignment, "all");
    CHECK_STR(broker_groups_state(gs, "g"), "Stable");
    CHECK_INT(heartbeat(gs, a, 1, 30), 0);
    broker_groups_free(gs);
}

static void test_join_v2_gets_member_id_directly(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    CHECK(join(gs, 1, "", 2, 0));
    struct reply *r = reply_to(1);
    CHECK_INT(r->error, 0);
    CHECK_INT(r->generation, 1);
    CHECK(r->member_id[0] != 0);
    broker_groups_free(gs);
}

static void test_second_member_triggers_rebalance_and_both_get_assignments(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    char a[128], b[128];
    join_new(gs, 1, 0, a, sizeof a);
    join(gs, 1, a, 5, 0);
    struct kafka_SyncGroupRequestAssignment as1 = {sl_slice_str(a), sl_slice_str("p0p1")};
    sync_(gs, 1, a, 1, &as1, 1, 0);

    join_new(gs, 2, 100, b, sizeof b);
    CHECK(!join(gs, 2, b, 5, 100)); /* parked: a has not rejoined */
    CHECK_STR(broker_groups_state(gs, "g"), "PreparingRebalance");
    CHECK_INT(heartbeat(gs, a, 1, 200), KAFKA_REBALANCE_IN_PROGRESS);
    CHECK(join(gs, 1, a, 5, 300)); /* a rejoins: round complete, both answered */
    struct reply *ra = reply_to(1), *rb = reply_to(2);
    CHECK_INT(ra->generation, 2);
    CHECK_INT(rb->generation, 2);
    CHECK_STR(ra->leader, a); /* the old leader stays leader */
    CHECK_INT(ra->nmembers, 2);
    CHECK_INT(rb->nmembers, 0);

    /* The follower's SyncGroup waits for the leader's. */
    CHECK(!sync_(gs, 2, b, 2, NULL, 0, 400));
    struct kafka_SyncGroupRequestAssignment as2[2] = {
        {sl_slice_str(a), sl_slice_str("p0")},
        {sl_slice_str(b), sl_slice_str("p1")},
    };
    CHECK(sync_(gs, 1, a, 2, as2, 2, 500));
    CHECK_STR(reply_to(1)->assignment, "p0");
    CHECK_STR(reply_to(2)->assignment, "p1");
    CHECK_INT(reply_to(2)->error, 0);
    CHECK_STR(broker_groups_state(gs, "g"), "Stable");
    /* Old generation: ILLEGAL_GENERATION. */
    CHECK_INT(heartbeat(gs, a, 1, 600), KAFKA_ILLEGAL_GENERATION);
    CHECK_INT(heartbeat(gs, "nobody", 2, 600), KAFKA_UNKNOWN_MEMBER_ID);
    broker_groups_free(gs);
}

static void test_leave_rebalances_and_last_leave_empties_group(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    char a[128], b[128];
    join_new(gs, 1, 0, a, sizeof a);
    join(gs, 1, a, 5, 0);
    join_new(gs, 2, 0, b, sizeof b);
    join(gs, 2, b, 5, 0);
    join(gs, 1, a, 5, 0);
    CHECK_INT(broker_groups_generation(gs, "g"), 2);
    CHECK_INT(broker_groups_leave(gs, sl_slice_str("g"), sl_slice_str(a), 10), 0);
    /* b is the only member left: it must rejoin; the round waits for it. */
    CHECK_STR(broker_groups_state(gs, "g"), "PreparingRebalance");
    CHECK_INT(heartbeat(gs, b, 2, 20), KAFKA_REBALANCE_IN_PROGRESS);
    CHECK(join(gs, 2, b, 5, 30));
    CHECK_INT(reply_to(2)->generation, 3);
    CHECK_STR(reply_to(2)->leader, b); /* leadership moves */
    CHECK_INT(broker_groups_leave(gs, sl_slice_str("g"), sl_slice_str(b), 40), 0);
    CHECK_STR(broker_groups_state(gs, "g"), "Empty");
    CHECK_INT(broker_groups_leave(gs, sl_slice_str("g"), sl_slice_str(b), 50),
              KAFKA_UNKNOWN_MEMBER_ID);
    broker_groups_free(gs);
}

static void test_session_timeout_expires_member_and_rebalances(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    char a[128], b[128];
    join_new(gs, 1, 0, a, sizeof a);
    join(gs, 1, a, 5, 0);
    join_new(gs, 2, 0, b, sizeof b);
    join(gs, 2, b, 5, 0);
    join(gs, 1, a, 5, 0);
    struct kafka_SyncGroupRequestAssignment as[2] = {{sl_slice_str(a), sl_slice_str("x")},
                                                     {sl_slice_str(b), sl_slice_str("y")}};
    sync_(gs, 2, b, 2, NULL, 0, 0);
    sync_(gs, 1, a, 2, as, 2, 0);
    /* a keeps heartbeating, b goes silent past its 10 s session (expired by
     * the tick at 11 s, after that instant's heartbeat). */
    for (int64_t t = 1000; t <= 12000; t += 1000) {
        CHECK_INT(heartbeat(gs, a, 2, t), t <= 11000 ? 0 : KAFKA_REBALANCE_IN_PROGRESS);
        broker_groups_tick(gs, t);
    }
    CHECK_STR(broker_groups_state(gs, "g"), "PreparingRebalance");
    CHECK(join(gs, 1, a, 5, 12500));
    CHECK_INT(reply_to(1)->generation, 3);
    CHECK_INT(reply_to(1)->nmembers, 1);
    broker_groups_free(gs);
}

static void test_rebalance_timeout_drops_members_that_do_not_rejoin(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    char a[128], b[128];
    join_new(gs, 1, 0, a, sizeof a);
    join(gs, 1, a, 5, 0);
    join_new(gs, 2, 0, b, sizeof b);
    CHECK(!join(gs, 2, b, 5, 0));
    /* a keeps heartbeating (so its session lives) but never rejoins. */
    for (int64_t t = 1000; t < 30000; t += 1000) {
        heartbeat(gs, a, 1, t);
        broker_groups_tick(gs, t);
    }
    CHECK(reply_to(2) && reply_to(2)->error == KAFKA_MEMBER_ID_REQUIRED); /* still parked */
    broker_groups_tick(gs, 30001);
    CHECK_INT(reply_to(2)->error, 0);
    CHECK_INT(reply_to(2)->generation, 2);
    CHECK_STR(reply_to(2)->leader, b);
    CHECK_INT(heartbeat(gs, a, 2, 30002), KAFKA_UNKNOWN_MEMBER_ID);
    broker_groups_free(gs);
}

static void test_join_errors(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    struct kafka_JoinGroupRequest req = {
        .group_id = sl_slice_str("g"),
        .session_timeout_ms = 100,
        .member_id = sl_slice_str(""),
        .protocol_type = sl_slice_str("consumer"),
        .protocols = protos,
        .nprotocols = 1,
    };
    CHECK(broker_groups_join(gs, &req, 5, sl_slice_str("c"), "", (void *)1, 0));
    CHECK_INT(reply_to(1)->error, KAFKA_INVALID_SESSION_TIMEOUT);
    req.session_timeout_ms = 10000;
    req.member_id = sl_slice_str("stranger");
    CHECK(broker_groups_join(gs, &req, 5, sl_slice_str("c"), "", (void *)2, 0));
    CHECK_INT(reply_to(2)->error, KAFKA_UNKNOWN_MEMBER_ID);
    req.group_id = sl_slice_str("");
    CHECK(broker_groups_join(gs, &req, 5, sl_slice_str("c"), "", (void *)3, 0));
    CHECK_INT(reply_to(3)->error, KAFKA_INVALID_GROUP_ID);
    /* A member with no protocol in common with the group. */
    char a[128];
    join_new(gs, 4, 0, a, sizeof a);
    join(gs, 4, a, 5, 0);
    struct kafka_JoinGroupRequestProtocol other = {sl_slice_str("sticky"), sl_slice_str("")};
    req.group_id = sl_slice_str("g");
    req.member_id = sl_slice_str("");
    req.protocols = &other;
    CHECK(broker_groups_join(gs, &req, 2, sl_slice_str("c"), "", (void *)5, 0));
    CHECK_INT(reply_to(5)->error, KAFKA_INCONSISTENT_GROUP_PROTOCOL);
    broker_groups_free(gs);
}

static void test_cancelled_waiter_is_never_answered(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    char a[128], b[128];
    join_new(gs, 1, 0, a, sizeof a);
    join(gs, 1, a, 5, 0);
    join_new(gs, 2, 0, b, sizeof b);
    CHECK(!join(gs, 2, b, 5, 0));
    broker_groups_cancel(gs, (void *)2);
    int before = nreplies;
    join(gs, 1, a, 5, 100);        /* b has no waiter: the round waits for it... */
    broker_groups_tick(gs, 20000); /* ...until b's session (10 s) expires */
    for (int i = before; i < nreplies; i++)
        CHECK(replies[i % 64].waiter != 2);
    CHECK_INT(reply_to(1)->error, 0);
    CHECK_INT(reply_to(1)->nmembers, 1);
    broker_groups_free(gs);
}

static int16_t commit(struct broker_groups *gs, const char *group, int32_t gen, const char *member,
                      int64_t offset)
{
    struct kafka_OffsetCommitRequestPartition p = {
        .partition_index = 3,
        .committed_offset = offset,
        .committed_leader_epoch = -1,
        .commit_timestamp = -1,
        .committed_metadata = sl_slice_str("m"),
    };
    struct kafka_OffsetCommitRequestTopic t = {sl_slice_str("topic"), &p, 1};
    struct kafka_OffsetCommitRequest req = {
        .group_id = sl_slice_str(group),
        .generation_id = gen,
        .member_id = sl_slice_str(member),
        .topics = &t,
        .ntopics = 1,
    };
    struct sl_arena arena;
    sl_arena_init(&arena, 1024);
    struct kafka_OffsetCommitResponse resp;
    struct sl_error err = {0};
    CHECK_INT(broker_groups_offset_commit(gs, &req, 1000, &arena, &resp, &err), SL_OK);
    int16_t ec = resp.topics[0].partitions[0].error_code;
    sl_arena_release(&arena);
    return ec;
}

static int64_t fetched(struct broker_groups *gs, const char *group)
{
    int32_t part = 3;
    struct kafka_OffsetFetchRequestTopic t = {sl_slice_str("topic"), &part, 1};
    struct kafka_OffsetFetchRequest req = {sl_slice_str(group), &t, 1};
    struct sl_arena arena;
    sl_arena_init(&arena, 1024);
    struct kafka_OffsetFetchResponse resp;
    broker_groups_offset_fetch(gs, &req, &arena, &resp);
    int64_t off = resp.topics[0].partitions[0].committed_offset;
    sl_arena_release(&arena);
    return off;
}

static void test_offset_commit_rules_and_durability_across_reopen(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    CHECK_INT(fetched(gs, "solo"), -1);
    CHECK_INT(commit(gs, "solo", -1, "", 42), 0); /* standalone consumer */
    CHECK_INT(fetched(gs, "solo"), 42);
    char a[128];
    join_new(gs, 1, 0, a, sizeof a);
    join(gs, 1, a, 5, 0);
    CHECK_INT(commit(gs, "g", 1, a, 5), KAFKA_REBALANCE_IN_PROGRESS); /* CompletingRebalance */
    struct kafka_SyncGroupRequestAssignment as = {sl_slice_str(a), sl_slice_str("x")};
    sync_(gs, 1, a, 1, &as, 1, 0);
    CHECK_INT(commit(gs, "g", 1, a, 7), 0);
    CHECK_INT(commit(gs, "g", 0, a, 8), KAFKA_ILLEGAL_GENERATION);
    CHECK_INT(commit(gs, "g", 1, "nobody", 9), KAFKA_UNKNOWN_MEMBER_ID);
    CHECK_INT(commit(gs, "g", -1, "", 9), KAFKA_UNKNOWN_MEMBER_ID); /* group has members */
    int64_t pid = broker_groups_new_producer_id(gs, -1, NULL);
    CHECK(pid >= 0);
    broker_groups_free(gs);

    gs = open_groups();
    CHECK_INT(fetched(gs, "solo"), 42);
    CHECK_INT(fetched(gs, "g"), 7);
    CHECK_INT(broker_groups_generation(gs, "g"), 1);  /* persisted generation */
    CHECK_STR(broker_groups_state(gs, "g"), "Empty"); /* members are not persisted */
    CHECK(broker_groups_new_producer_id(gs, -1, NULL) > pid);
    broker_groups_free(gs);
}

static void test_torn_tail_is_cut_and_earlier_records_kept(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    CHECK_INT(commit(gs, "t", -1, "", 11), 0);
    broker_groups_free(gs);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, BROKER_GROUP_FILE);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    const char junk[] = "\x00\x00\x00\x30torn";
    CHECK_INT(write(fd, junk, sizeof junk - 1), (long)(sizeof junk - 1));
    close(fd);
    gs = open_groups();
    CHECK(gs != NULL);
    CHECK_INT(fetched(gs, "t"), 11);
    CHECK_INT(commit(gs, "t", -1, "", 12), 0);
    broker_groups_free(gs);
    gs = open_groups();
    CHECK_INT(fetched(gs, "t"), 12);
    broker_groups_free(gs);
}

static void test_empty_group_without_offsets_is_deleted_by_tick(void)
{
    fresh_dir();
    struct broker_groups *gs = open_groups();
    CHECK(join(gs, 1, "", 2, 0));
    char a[128];
    snprintf(a, sizeof a, "%s", reply_to(1)->member_id);
    broker_groups_leave(gs, sl_slice_str("g"), sl_slice_str(a), 1);
    CHECK_STR(broker_groups_state(gs, "g"), "Empty");
    broker_groups_tick(gs, 2);
    CHECK(broker_groups_state(gs, "g") == NULL);
    broker_groups_free(gs);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_join_v5_requires_member_id_then_single_member_becomes_leader);
    RUN(test_join_v2_gets_member_id_directly);
    RUN(test_second_member_triggers_rebalance_and_both_get_assignments);
    RUN(test_leave_rebalances_and_last_leave_empties_group);
    RUN(test_session_timeout_expires_member_and_rebalances);
    RUN(test_rebalance_timeout_drops_members_that_do_not_rejoin);
    RUN(test_join_errors);
    RUN(test_cancelled_waiter_is_never_answered);
    RUN(test_offset_commit_rules_and_durability_across_reopen);
    RUN(test_torn_tail_is_cut_and_earlier_records_kept);
    RUN(test_empty_group_without_offsets_is_deleted_by_tick);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return CHECK_DONE();
}
