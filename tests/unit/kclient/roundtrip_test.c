/*
 * roundtrip_test.c: the kclient contract against a real broker run in this
 * process (src/broker on 127.0.0.1:0, its own thread): what the bounded and
 * following readers return, per-partition start offsets, watermarks, null
 * keys and values, and topic administration. `sluice extract` relies on these.
 */
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "broker/broker.h"
#include "check.h"
#include "kclient/kclient.h"

static struct broker *the_broker;
static char addr[64];

static void *run_thread(void *arg)
{
    (void)arg;
    struct sl_error err = { 0 };
    broker_run(the_broker, &err);
    return NULL;
}

static struct kclient_admin *admin_new(void)
{
    struct sl_error err = { 0 };
    struct kclient_admin *admin = kclient_admin_new(addr, NULL, &err);
    CHECK(admin != NULL);
    return admin;
}

static void create(const char *topic, int partitions)
{
    struct sl_error err = { 0 };
    struct kclient_admin *admin = admin_new();
    CHECK_INT(kclient_topic_create(admin, topic, partitions, 1, NULL, 0, &err), SL_OK);
    kclient_admin_free(admin);
}

/* Produce values "<prefix><i>" for i in [0, n) to `partition`, all delivered. */
static void produce(const char *topic, int32_t partition, const char *prefix, int n)
{
    struct sl_error err = { 0 };
    struct kclient_producer_conf conf = { .bootstrap = addr };
    struct kclient_producer *prod = kclient_producer_new(&conf, &err);
    CHECK(prod != NULL);
    if (!prod)
        return;
    for (int i = 0; i < n; i++) {
        char value[64];
        snprintf(value, sizeof value, "%s%d", prefix, i);
        CHECK_INT(kclient_produce(prod, topic, partition, sl_slice_make(NULL, 0),
                                  sl_slice_str(value), NULL, &err),
                  SL_OK);
    }
    CHECK_INT(kclient_producer_flush(prod, -1, &err), SL_OK);
    struct kclient_producer_stats stats;
    kclient_producer_stats(prod, &stats);
    CHECK_INT(stats.delivered, n);
    kclient_producer_free(prod);
}

static struct kclient_consumer_conf bounded(const char *topic)
{
    struct kclient_consumer_conf conf = {
        .bootstrap = addr,
        .topic = topic,
        .partition = KCLIENT_PARTITION_ALL,
        .start = KCLIENT_OFFSET_BEGINNING,
        .stop_at_end = true,
    };
    return conf;
}

/* Read until done; returns the count, checks offsets increase per partition. */
static int drain(struct kclient_consumer *cons, char *values, size_t cap)
{
    struct sl_error err = { 0 };
    int64_t last[16];
    for (int i = 0; i < 16; i++)
        last[i] = -1;
    int n = 0;
    size_t used = 0;
    if (values)
        values[0] = '\0';
    for (;;) {
        struct kclient_msg msg;
        int r = kclient_consumer_next(cons, &msg, 10000, &err);
        if (r != 1) {
            CHECK_INT(r, 0);
            return n;
        }
        n++;
        if (msg.partition >= 0 && msg.partition < 16) {
            CHECK(msg.offset > last[msg.partition]);
            last[msg.partition] = msg.offset;
        }
        if (values && used + msg.value.len + 2 < cap) {
            memcpy(values + used, msg.value.p, msg.value.len);
            used += msg.value.len;
            values[used++] = ' ';
            values[used] = '\0';
        }
    }
}

static void test_admin_create_describe_list_delete(void)
{
    struct sl_error err = { 0 };
    struct kclient_admin *admin = admin_new();
    if (!admin)
        return;
    CHECK_INT(kclient_topic_create(admin, "adm", 3, 1, NULL, 0, &err), SL_OK);
    CHECK_INT(kclient_topic_create(admin, "adm", 3, 1, NULL, 0, &err), SL_EEXIST);
    sl_error_clear(&err);
    struct kclient_topic_info info;
    CHECK_INT(kclient_topic_describe(admin, "adm", 0, &info, &err), SL_OK);
    CHECK_STR(info.name, "adm");
    CHECK_INT(info.n_parts, 3);
    for (int i = 0; i < info.n_parts; i++) {
        CHECK_INT(info.parts[i].id, i);
        CHECK_INT(info.parts[i].leader, BROKER_NODE_ID);
        CHECK_INT(info.parts[i].err, SL_OK);
    }
    CHECK_INT(info.replication, 1);
    kclient_topic_info_release(&info);
    char **names;
    int n;
    CHECK_INT(kclient_topic_list(admin, 0, &names, &n, &err), SL_OK);
    int found = 0;
    for (int i = 0; i < n; i++)
        found += strcmp(names[i], "adm") == 0;
    CHECK_INT(found, 1);
    kclient_names_free(names, n);
    CHECK_INT(kclient_topic_delete(admin, "adm", 0, &err), SL_OK);
    CHECK_INT(kclient_topic_describe(admin, "adm", 0, &info, &err), SL_ENOTFOUND);
    kclient_topic_info_release(&info);
    sl_error_clear(&err);
    CHECK_INT(kclient_topic_delete(admin, "adm", 0, &err), SL_ENOTFOUND);
    CHECK(strstr(err.msg, "does not exist") != NULL);
    kclient_admin_free(admin);
}

static void test_bounded_reader_returns_every_message_then_done(void)
{
    create("every", 3);
    for (int32_t p = 0; p < 3; p++)
        produce("every", p, "m", 10);
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("every");
    struct kclient_consumer *cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (!cons)
        return;
    CHECK_INT(kclient_consumer_partitions(cons), 3);
    for (int32_t p = 0; p < 3; p++) {
        int64_t lo, hi;
        CHECK_INT(kclient_consumer_watermarks(cons, p, &lo, &hi), SL_OK);
        CHECK_INT(lo, 0);
        CHECK_INT(hi, 10);
    }
    CHECK_INT(drain(cons, NULL, 0), 30);
    struct kclient_msg msg;
    CHECK_INT(kclient_consumer_next(cons, &msg, 100, &err), 0); /* stays done */
    kclient_consumer_free(cons);
}

static void test_bounded_reader_ignores_messages_produced_after_start(void)
{
    produce("later", 0, "a", 5);
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("later");
    struct kclient_consumer *cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (!cons)
        return;
    produce("later", 0, "b", 5);
    char values[256];
    CHECK_INT(drain(cons, values, sizeof values), 5);
    CHECK_STR(values, "a0 a1 a2 a3 a4 ");
    kclient_consumer_free(cons);
}

static void test_per_partition_start_offsets_override_start(void)
{
    create("starts", 2);
    produce("starts", 0, "p0-", 4);
    produce("starts", 1, "p1-", 4);
    int64_t starts[] = { 2, -3 }; /* partition 0 from offset 2; partition 1: use start */
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("starts");
    conf.start_offsets = starts;
    conf.n_start_offsets = 2;
    conf.partition = KCLIENT_PARTITION_ALL;
    struct kclient_consumer *cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (!cons)
        return;
    char values[256];
    CHECK_INT(drain(cons, values, sizeof values), 6);
    CHECK(strstr(values, "p0-2 p0-3 ") != NULL);
    CHECK(strstr(values, "p0-1 ") == NULL);
    CHECK(strstr(values, "p1-0 p1-1 p1-2 p1-3 ") != NULL);
    kclient_consumer_free(cons);

    /* a start at or past the high watermark is done at once */
    int64_t past[] = { 4, 99 };
    conf.start_offsets = past;
    cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (cons) {
        CHECK_INT(drain(cons, NULL, 0), 0);
        kclient_consumer_free(cons);
    }
}

static void test_one_partition_and_start_end_and_max_messages(void)
{
    create("onep", 2);
    produce("onep", 1, "x", 6);
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("onep");
    conf.partition = 1;
    conf.start = 3;
    struct kclient_consumer *cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (cons) {
        char values[64];
        CHECK_INT(drain(cons, values, sizeof values), 3);
        CHECK_STR(values, "x3 x4 x5 ");
        kclient_consumer_free(cons);
    }
    conf.start = KCLIENT_OFFSET_END;
    cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (cons) {
        CHECK_INT(drain(cons, NULL, 0), 0);
        kclient_consumer_free(cons);
    }
    conf.start = KCLIENT_OFFSET_BEGINNING;
    conf.max_messages = 2;
    cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (cons) {
        CHECK_INT(drain(cons, NULL, 0), 2);
        kclient_consumer_free(cons);
    }
    conf.partition = 2;
    CHECK(kclient_consumer_new(&conf, &err) == NULL);
    CHECK_INT(err.code, SL_ENOTFOUND);
}

static void test_unknown_topic_is_not_found_and_not_created(void)
{
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("ghost");
    CHECK(kclient_consumer_new(&conf, &err) == NULL);
    CHECK_INT(err.code, SL_ENOTFOUND);
    CHECK_STR(err.msg, "topic 'ghost' does not exist");
    struct kclient_admin *admin = admin_new();
    if (!admin)
        return;
    struct kclient_topic_info info;
    sl_error_clear(&err);
    CHECK_INT(kclient_topic_describe(admin, "ghost", 0, &info, &err), SL_ENOTFOUND);
    kclient_topic_info_release(&info);
    kclient_admin_free(admin);
}

static void test_following_reader_waits_for_new_messages(void)
{
    produce("follow", 0, "old", 2);
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("follow");
    conf.stop_at_end = false;
    conf.start = KCLIENT_OFFSET_END;
    struct kclient_consumer *cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (!cons)
        return;
    int64_t lo, hi;
    CHECK_INT(kclient_consumer_watermarks(cons, 0, &lo, &hi), SL_OK);
    CHECK_INT(hi, -1); /* not recorded when following */
    struct kclient_msg msg;
    CHECK_INT(kclient_consumer_next(cons, &msg, 300, &err), SL_EAGAIN);
    produce("follow", 0, "new", 1);
    CHECK_INT(kclient_consumer_next(cons, &msg, 10000, &err), 1);
    CHECK(sl_slice_eq_str(msg.value, "new0"));
    CHECK_INT(msg.offset, 2);
    CHECK_STR(msg.topic, "follow");
    kclient_consumer_free(cons);
}

static void test_null_key_empty_value_tombstone_and_timestamp(void)
{
    struct sl_error err = { 0 };
    struct kclient_producer_conf pconf = { .bootstrap = addr, .acks = "1" };
    struct kclient_producer *prod = kclient_producer_new(&pconf, &err);
    CHECK(prod != NULL);
    if (!prod)
        return;
    int64_t before = sl_clock_wall_ms();
    CHECK_INT(kclient_produce(prod, "shapes", 0, sl_slice_str("k"), sl_slice_make("", 0), NULL,
                              &err),
              SL_OK);
    CHECK_INT(kclient_produce(prod, "shapes", 0, sl_slice_make(NULL, 0), sl_slice_make(NULL, 0),
                              NULL, &err),
              SL_OK);
    CHECK_INT(kclient_producer_flush(prod, -1, &err), SL_OK);
    kclient_producer_free(prod);
    struct kclient_consumer_conf conf = bounded("shapes");
    struct kclient_consumer *cons = kclient_consumer_new(&conf, &err);
    CHECK(cons != NULL);
    if (!cons)
        return;
    struct kclient_msg msg;
    CHECK_INT(kclient_consumer_next(cons, &msg, 10000, &err), 1);
    CHECK(sl_slice_eq_str(msg.key, "k"));
    CHECK(msg.value.p != NULL);
    CHECK_INT(msg.value.len, 0);
    CHECK_INT(msg.ts_type, KCLIENT_TS_CREATE);
    CHECK(msg.timestamp_ms >= before - 1000 && msg.timestamp_ms <= sl_clock_wall_ms() + 1000);
    CHECK_INT(kclient_consumer_next(cons, &msg, 10000, &err), 1);
    CHECK(msg.key.p == NULL);
    CHECK(msg.value.p == NULL);
    CHECK_INT(kclient_consumer_next(cons, &msg, 10000, &err), 0);
    kclient_consumer_free(cons);
}

static int stop_after_three(void *opaque, const struct kclient_msg *msg)
{
    (void)msg;
    return ++*(int *)opaque == 3 ? 42 : 0;
}

static void test_callback_form_stops_when_fn_says_so(void)
{
    produce("cb", 0, "c", 10);
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = bounded("cb");
    int calls = 0;
    CHECK_INT(kclient_consume(&conf, stop_after_three, &calls, NULL, &err), 42);
    CHECK_INT(calls, 3);
    volatile int stop = 1;
    calls = 0;
    CHECK_INT(kclient_consume(&conf, stop_after_three, &calls, &stop, &err), SL_OK);
    CHECK_INT(calls, 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    char dir[] = "/tmp/sluice-kclient-test-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    sl_log_set_level(SL_LOG_WARN); /* the broker's info lines are noise here */
    signal(SIGPIPE, SIG_IGN);      /* the broker's contract (broker.h) */
    struct broker_config cfg;
    broker_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.data_dir = dir;
    struct sl_error err = { 0 };
    the_broker = broker_new(&cfg, &err);
    if (!the_broker) {
        fprintf(stderr, "cannot start the broker: %s\n", err.msg);
        return 1;
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", broker_port(the_broker));
    pthread_t th;
    pthread_create(&th, NULL, run_thread, NULL);

    RUN(test_admin_create_describe_list_delete);
    RUN(test_bounded_reader_returns_every_message_then_done);
    RUN(test_bounded_reader_ignores_messages_produced_after_start);
    RUN(test_per_partition_start_offsets_override_start);
    RUN(test_one_partition_and_start_end_and_max_messages);
    RUN(test_unknown_topic_is_not_found_and_not_created);
    RUN(test_following_reader_waits_for_new_messages);
    RUN(test_null_key_empty_value_tombstone_and_timestamp);
    RUN(test_callback_form_stops_when_fn_says_so);

    broker_stop(the_broker);
    pthread_join(th, NULL);
    broker_free(the_broker);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return CHECK_DONE();
}
