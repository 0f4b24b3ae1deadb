/*
 * Tests of src/broker: the dispatch table's promises, and a broker run
 * in-process on a loopback port (a thread runs the event loop) answering
 * ApiVersions, Metadata with auto-creation, Produce, Fetch (whose records
 * arrive through sendfile) and ListOffsets, then stopping cleanly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "broker/broker_int.h"
#include "check.h"
#include "kafka/batch.h"

static void test_dispatch_table_advertises_only_decodable_versions(void)
{
    static const struct {
        int key, codec_max;
    } codec[] = {
        {KAFKA_API_PRODUCE, kafka_ProduceRequest_max_version},
        {KAFKA_API_FETCH, kafka_FetchRequest_max_version},
        {KAFKA_API_LIST_OFFSETS, kafka_ListOffsetsRequest_max_version},
        {KAFKA_API_METADATA, kafka_MetadataRequest_max_version},
        {KAFKA_API_API_VERSIONS, kafka_ApiVersionsRequest_max_version},
        {KAFKA_API_CREATE_TOPICS, kafka_CreateTopicsRequest_max_version},
        {KAFKA_API_DELETE_TOPICS, kafka_DeleteTopicsRequest_max_version},
        {KAFKA_API_DESCRIBE_CONFIGS, kafka_DescribeConfigsRequest_max_version},
        {KAFKA_API_ALTER_CONFIGS, kafka_AlterConfigsRequest_max_version},
    };
    for (size_t i = 0; i < broker_napis; i++) {
        const struct broker_api *api = &broker_apis[i];
        CHECK(api->handle != NULL);
        CHECK(api->min_version <= api->max_version);
        int codec_max = -1;
        for (size_t k = 0; k < sizeof codec / sizeof codec[0]; k++)
            if (codec[k].key == api->api_key)
                codec_max = codec[k].codec_max;
        /* Rows decoded by other codecs (kafka/groups.h) are checked there. */
        if (codec_max >= 0)
            CHECK(api->max_version <= codec_max);
        /* The advertised maxima stay below the first flexible version
         * (design §1.5), except ApiVersions v3. */
        if (api->api_key != KAFKA_API_API_VERSIONS)
            CHECK(api->max_version < kafka_api_first_flexible(api->api_key));
        for (size_t j = i + 1; j < broker_napis; j++)
            CHECK(broker_apis[j].api_key != api->api_key);
    }
}

static void test_version_table_keeps_the_minima_clients_need(void)
{
    struct kafka_ApiVersion v[32];
    broker_api_versions(v, 32);
    int produce = -1, fetch = -1, api_versions = -1;
    for (size_t i = 0; i < broker_napis; i++) {
        if (v[i].api_key == KAFKA_API_PRODUCE)
            produce = (int)i;
        if (v[i].api_key == KAFKA_API_FETCH)
            fetch = (int)i;
        if (v[i].api_key == KAFKA_API_API_VERSIONS)
            api_versions = (int)i;
    }
    CHECK(produce >= 0 && fetch >= 0 && api_versions >= 0);
    if (produce < 0 || fetch < 0 || api_versions < 0)
        return;
    /* librdkafka compresses gzip/snappy/lz4 only if Produce v0 is inside (§3.2). */
    CHECK_INT(v[produce].min_version, 0);
    CHECK_INT(v[produce].max_version, 7);
    /* kafka-python infers 2.3.0 from Fetch v11 (§2.3); MsgVer2 needs Fetch 4. */
    CHECK_INT(v[fetch].max_version, 11);
    CHECK_INT(v[fetch].min_version, 4);
    CHECK_INT(v[api_versions].max_version, 3);
}

/* ---- An in-process broker ------------------------------------------------ */

static struct broker *the_broker;
static int run_rc = 99;

static void *run_thread(void *arg)
{
    (void)arg;
    struct sl_error err = {0};
    run_rc = broker_run(the_broker, &err);
    return NULL;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static struct sl_arena arena;
static int32_t corr;

/* Send one request built by `encode_body`, return the response body. */
#define CALL(fd, KEY, VER, M, msgp, outbuf)                                                        \
    do {                                                                                           \
        struct sl_buf req_;                                                                        \
        sl_buf_init(&req_, 0);                                                                     \
        struct kafka_RequestHeader h_ = {KEY, VER, ++corr, sl_slice_str("unit"), 1};               \
        size_t st_ = kafka_request_begin(&req_, &h_);                                              \
        kafka_##M##_encode(&req_, VER, msgp);                                                      \
        kafka_frame_end(&req_, st_, 0);                                                            \
        CHECK_INT(write(fd, req_.data, req_.len), req_.len);                                       \
        sl_buf_release(&req_);                                                                     \
        read_frame(fd, outbuf);                                                                    \
    } while (0)

static void read_exact(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) {
            CHECK(r > 0);
            memset(p, 0, n);
            return;
        }
        p += r;
        n -= (size_t)r;
    }
}

/* Read one response frame; out gets the body after the correlation id. */
static void read_frame(int fd, struct sl_buf *out)
{
    uint8_t hdr[8];
    read_exact(fd, hdr, 8);
    uint32_t size = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
    int32_t c = (int32_t)((uint32_t)hdr[4] << 24 | hdr[5] << 16 | hdr[6] << 8 | hdr[7]);
    CHECK_INT(c, corr);
    sl_buf_reset(out);
    if (size < 4 || size > (1u << 24)) {
        CHECK(0);
        return;
    }
    sl_buf_reserve(out, size - 4);
    read_exact(fd, out->data, size - 4);
    sl_buf_setlen(out, size - 4);
}

static void test_broker_round_trip_over_loopback(void)
{
    char dir[] = "/tmp/sluice-broker-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct broker_config cfg;
    broker_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.data_dir = dir;
    struct sl_error err = {0};
    the_broker = broker_new(&cfg, &err);
    CHECK(the_broker != NULL);
    if (!the_broker) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    pthread_t th;
    pthread_create(&th, NULL, run_thread, NULL);
    int fd = dial(broker_port(the_broker));
    CHECK(fd >= 0);
    struct sl_buf res;
    sl_buf_init(&res, 0);

    /* ApiVersions v2 */
    struct kafka_ApiVersionsRequest av = {0};
    struct kafka_ApiVersionsResponse avr;
    CALL(fd, KAFKA_API_API_VERSIONS, 2, ApiVersionsRequest, &av, &res);
    CHECK_INT(kafka_ApiVersionsResponse_decode(sl_buf_slice(&res), 2, &arena, &avr, &err), SL_OK);
    CHECK_INT(avr.error_code, 0);
    CHECK_INT(avr.napi_keys, (int32_t)broker_napis);

    /* Metadata v4 auto-creates */
    struct kafka_MetadataRequestTopic mt = {sl_slice_str("unit")};
    struct kafka_MetadataRequest md = {&mt, 1, true};
    struct kafka_MetadataResponse mdr;
    CALL(fd, KAFKA_API_METADATA, 4, MetadataRequest, &md, &res);
    CHECK_INT(kafka_MetadataResponse_decode(sl_buf_slice(&res), 4, &arena, &mdr, &err), SL_OK);
    CHECK_INT(mdr.ntopics, 1);
    CHECK_INT(mdr.topics[0].error_code, 0);
    CHECK_INT(mdr.topics[0].npartitions, 1);
    CHECK_INT(mdr.brokers[0].port, broker_port(the_broker));
    CHECK(mdr.cluster_id.p && mdr.cluster_id.len > 0);

    /* Produce v7, acks -1, one batch of two records */
    struct kafka_batch_writer w;
    kafka_batch_writer_init(&w, KAFKA_CODEC_NONE, sl_clock_wall_ms());
    kafka_batch_writer_add(&w, sl_clock_wall_ms(), sl_slice_str("k"), sl_slice_str("v1"), NULL, 0);
    kafka_batch_writer_add(&w, sl_clock_wall_ms(), sl_slice_make(NULL, 0), sl_slice_str("v2"), NULL,
                           0);
    struct sl_buf batch;
    sl_buf_init(&batch, 0);
    CHECK_INT(kafka_batch_writer_finish(&w, 0, &batch, &err), SL_OK);
    kafka_batch_writer_release(&w);
    struct kafka_ProducePartitionData pd = {0, sl_buf_slice(&batch)};
    struct kafka_ProduceTopicData td = {sl_slice_str("unit"), &pd, 1};
    struct kafka_ProduceRequest pr = {sl_slice_make(NULL, 0), -1, 30000, &td, 1};
    struct kafka_ProduceResponse prr;
    for (int i = 0; i < 2; i++) {
        CALL(fd, KAFKA_API_PRODUCE, 7, ProduceRequest, &pr, &res);
        CHECK_INT(kafka_ProduceResponse_decode(sl_buf_slice(&res), 7, &arena, &prr, &err), SL_OK);
        CHECK_INT(prr.responses[0].partition_responses[0].error_code, 0);
        CHECK_INT(prr.responses[0].partition_responses[0].base_offset, 2 * i);
    }

    /* Fetch v11 from offset 1: both batches, via sendfile, byte-identical from 8 on */
    struct kafka_FetchPartition fp = {0, -1, 1, -1, 1 << 20};
    struct kafka_FetchTopic ft = {sl_slice_str("unit"), &fp, 1};
    struct kafka_FetchRequest fr = {-1, 100, 1, 1 << 20, 0, 0,
                                    -1, &ft, 1, NULL,    0, sl_slice_str("")};
    struct kafka_FetchResponse frr;
    CALL(fd, KAFKA_API_FETCH, 11, FetchRequest, &fr, &res);
    CHECK_INT(kafka_FetchResponse_decode(sl_buf_slice(&res), 11, &arena, &frr, &err), SL_OK);
    struct kafka_FetchPartitionData *p = &frr.responses[0].partitions[0];
    CHECK_INT(p->error_code, 0);
    CHECK_INT(p->high_watermark, 4);
    CHECK_INT(p->last_stable_offset, 4);
    CHECK_INT(p->preferred_read_replica, -1);
    CHECK_INT(p->records.mem.len, 2 * batch.len);
    if (p->records.mem.len == 2 * batch.len) {
        CHECK_MEM(p->records.mem.p + 8, batch.data + 8, batch.len - 8);
        CHECK_MEM(p->records.mem.p + batch.len + 8, batch.data + 8, batch.len - 8);
        CHECK_INT(p->records.mem.p[batch.len + 7], 2); /* base offset patched to 2 */
    }

    /* ListOffsets v1 latest and earliest */
    struct kafka_ListOffsetsPartition lp[] = {{0, -1, 1}};
    struct kafka_ListOffsetsTopic lt = {sl_slice_str("unit"), lp, 1};
    struct kafka_ListOffsetsRequest lr = {-1, 0, &lt, 1};
    struct kafka_ListOffsetsResponse lrr;
    CALL(fd, KAFKA_API_LIST_OFFSETS, 1, ListOffsetsRequest, &lr, &res);
    CHECK_INT(kafka_ListOffsetsResponse_decode(sl_buf_slice(&res), 1, &arena, &lrr, &err), SL_OK);
    CHECK_INT(lrr.topics[0].partitions[0].offset, 4);

    close(fd);
    broker_stop(the_broker);
    pthread_join(th, NULL);
    CHECK_INT(run_rc, SL_OK);
    broker_free(the_broker);
    sl_buf_release(&res);
    sl_buf_release(&batch);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the broker's contract (broker.h) */
    sl_arena_init(&arena, 0);
    RUN(test_dispatch_table_advertises_only_decodable_versions);
    RUN(test_version_table_keeps_the_minima_clients_need);
    RUN(test_broker_round_trip_over_loopback);
    sl_arena_release(&arena);
    return CHECK_DONE();
}
