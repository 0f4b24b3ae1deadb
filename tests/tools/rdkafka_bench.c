/*
 * rdkafka_bench: the measuring half of bench/broker/run. One mode per run,
 * one result line on stdout ("key=value" pairs) for the script to parse.
 *
 *   rdkafka_bench produce  -b HOST:PORT -t TOPIC -s SIZE -n COUNT [-a ACKS]
 *   rdkafka_bench consume  -b HOST:PORT -t TOPIC -n COUNT
 *   rdkafka_bench disk     -d DIR -m MIB       write + fdatasync of 1 MiB chunks
 *   rdkafka_bench loopback -m MIB              one TCP stream over 127.0.0.1
 *   rdkafka_bench fetch    -b HOST:PORT -t TOPIC -n COUNT
 *                                              raw Fetch v4 requests, no librdkafka
 *
 * produce: COUNT messages of SIZE bytes, as fast as librdkafka takes them,
 * timed from the first produce call to the last delivery report. consume:
 * every partition from the beginning with the simple consumer, timed from
 * the first message to the COUNTth, with librdkafka's default 1 MiB
 * partition fetches ($RDKAFKA_BENCH_FETCH_BYTES overrides it;
 * $RDKAFKA_BENCH_X="k=v,..." sets any client property). fetch: the broker's side of consuming without a
 * client library's per-message cost: one connection sends Fetch v4 for
 * partition 0 (16 MiB at a time) and walks only the record batch headers,
 * counting records until COUNT. MB are 10^6 bytes of message values
 * (produce, consume), of record batches (fetch) or of data (disk, loopback).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "base/mem.h"

#define CHUNK (1 << 20)

static const char *bootstrap, *topic, *acks = "1", *dir = "/tmp";
static long count = 100000, size = 1024, mib = 256;
static long delivered, failed;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "rdkafka_bench: %s: %s\n", what, detail);
    exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        die(name, errstr);
}

/* Extra client properties for experiments: RDKAFKA_BENCH_X="k=v,k=v". */
static void set_extra(rd_kafka_conf_t *conf)
{
    const char *x = getenv("RDKAFKA_BENCH_X");
    if (!x)
        return;
    char *copy = strdup(x), *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            die("RDKAFKA_BENCH_X", "want k=v pairs");
        *eq = '\0';
        set(conf, kv, eq + 1);
    }
    free(copy);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (rkm->err) {
        if (failed++ == 0)
            fprintf(stderr, "rdkafka_bench: delivery failed: %s\n", rd_kafka_err2str(rkm->err));
    } else {
        delivered++;
    }
}

static void report(const char *mode, long msgs, double bytes, double secs)
{
    printf("mode=%s size=%ld acks=%s msgs=%ld bytes=%.0f secs=%.3f MBps=%.1f msgps=%.0f\n", mode,
           size, acks, msgs, bytes, secs, bytes / 1e6 / secs, msgs / secs);
}

static void run_produce(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "acks", acks);
    set(conf, "linger.ms", "5");
    set(conf, "batch.size", "1000000");
    set(conf, "queue.buffering.max.messages", "1000000");
    set(conf, "queue.buffering.max.kbytes", "1048576");
    set(conf, "message.timeout.ms", "120000");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk)
        die("producer", errstr);
    /* Warm up: connect and learn the topic's leader before timing. */
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0 ? rd_kafka_metadata_destroy(md) : (void)0;
    rd_kafka_topic_destroy(rkt);
    char *buf = malloc((size_t)size);
    for (long i = 0; i < size; i++)
        buf[i] = (char)('a' + (i * 7 + i / 13) % 26);
    double t0 = now_s();
    for (long i = 0; i < count; i++) {
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_VALUE(buf, (size_t)size),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (err)
            die("produce", rd_kafka_err2str(err));
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 300000);
    double secs = now_s() - t0;
    rd_kafka_destroy(rk);
    free(buf);
    if (delivered != count) {
        fprintf(stderr, "rdkafka_bench: %ld of %ld delivered\n", delivered, count);
        exit(1);
    }
    report("produce", count, (double)count * (double)size, secs);
}

static void run_consume(void)
{
    /* As `sluice consume` does: without it, glibc hands each freed Fetch
     * buffer back to the kernel and the client faults it in again. */
    sl_mem_keep_large_buffers();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "fetch.max.bytes", "52428800");
    if (getenv("RDKAFKA_BENCH_FETCH_BYTES"))
        set(conf, "fetch.message.max.bytes", getenv("RDKAFKA_BENCH_FETCH_BYTES"));
    set(conf, "queued.max.messages.kbytes", "262144");
    /* librdkafka 2.0.2 pauses fetching for about a second whenever the
     * local queue passes queued.min.messages and drains (src/kclient does
     * the same) */
    set(conf, "queued.min.messages", "10000000");
    set_extra(conf);
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk)
        die("consumer", errstr);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err || md->topic_cnt != 1 || md->topics[0].err)
        die("metadata", rd_kafka_err2str(err ? err : md->topics[0].err));
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    double t0 = now_s();
    for (int p = 0; p < nparts; p++)
        rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, queue);
    long got = 0;
    double bytes = 0, t1 = t0;
    while (got < count) {
        rd_kafka_message_t *batch[1024];
        /* never ask for more than remain: a batch call waits out its whole
         * timeout for a batch it cannot fill (that was a second per run) */
        size_t want = count - got < 1024 ? (size_t)(count - got) : 1024;
        ssize_t n = rd_kafka_consume_batch_queue(queue, 1000, batch, want);
        if (n < 0)
            die("consume", rd_kafka_err2str(rd_kafka_last_error()));
        if (n == 0 && now_s() - t0 > 120)
            die("consume", "timed out");
        for (ssize_t i = 0; i < n; i++) {
            if (!batch[i]->err) {
                if (got == 0)
                    t1 = now_s();
                got++;
                bytes += (double)batch[i]->len;
                size = (long)batch[i]->len;
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    /* From the first message on, as librdkafka's rdkafka_performance
     * counts: the client's start (up to 0.5 s before its first fetch,
     * seen in one run of six) is not the broker's throughput. */
    double secs = now_s() - t1;
    acks = "-";
    for (int p = 0; p < nparts; p++)
        rd_kafka_consume_stop(rkt, p);
    rd_kafka_queue_destroy(queue);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    report("consume", got, bytes, secs);
    fprintf(stderr, "rdkafka_bench: first message after %.3f s\n", t1 - t0);
}

static void run_disk(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/rdkafka_bench.disk", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(path, strerror(errno));
    char *buf = malloc(CHUNK);
    for (int i = 0; i < CHUNK; i++)
        buf[i] = (char)('a' + i % 26);
    double t0 = now_s();
    for (long i = 0; i < mib; i++) {
        if (write(fd, buf, CHUNK) != CHUNK)
            die("write", strerror(errno));
        if (fdatasync(fd) != 0)
            die("fdatasync", strerror(errno));
    }
    double secs = now_s() - t0;
    close(fd);
    unlink(path);
    free(buf);
    size = CHUNK;
    acks = "-";
    report("disk", mib, (double)mib * CHUNK, secs);
}

static void *blast(void *arg)
{
    int port = *(int *)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect", strerror(errno));
    char *buf = calloc(1, CHUNK);
    for (long i = 0; i < mib; i++) {
        size_t off = 0;
        while (off < CHUNK) {
            ssize_t n = write(fd, buf + off, CHUNK - off);
            if (n <= 0)
                die("send", strerror(errno));
            off += (size_t)n;
        }
    }
    close(fd);
    free(buf);
    return NULL;
}

static void run_loopback(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t slen = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &slen) != 0)
        die("listen", strerror(errno));
    int port = ntohs(sa.sin_port);
    pthread_t th;
    double t0 = now_s();
    pthread_create(&th, NULL, blast, &port);
    int fd = accept(lfd, NULL, NULL);
    char *buf = malloc(CHUNK);
    double total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0)
            die("recv", strerror(errno));
        if (n == 0)
            break;
        total += (double)n;
    }
    double secs = now_s() - t0;
    pthread_join(th, NULL);
    close(fd);
    close(lfd);
    free(buf);
    size = CHUNK;
    acks = "-";
    report("loopback", mib, total, secs);
}

/* ------------------------------------------------ raw Fetch v4 (no librdkafka) */

static void put16(uint8_t **p, int v) { (*p)[0] = (uint8_t)(v >> 8); (*p)[1] = (uint8_t)v; *p += 2; }
static void put32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        (*p)[i] = (uint8_t)(v >> (24 - 8 * i));
    *p += 4;
}
static void put64(uint8_t **p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p, (uint32_t)v);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static void read_full(int fd, uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = read(fd, buf + off, n - off);
        if (r <= 0)
            die("fetch: read", r == 0 ? "connection closed" : strerror(errno));
        off += (size_t)r;
    }
}

static void run_fetch(void)
{
    char host[256];
    const char *colon = strrchr(bootstrap, ':');
    if (!colon || (size_t)(colon - bootstrap) >= sizeof host)
        die("fetch", "-b wants HOST:PORT");
    memcpy(host, bootstrap, (size_t)(colon - bootstrap));
    host[colon - bootstrap] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1)
        die("fetch", "-b wants an IPv4 address");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("fetch: connect", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t cap = 64 << 20;
    uint8_t *resp = malloc(cap);
    size_t tlen = strlen(topic);
    int64_t offset = 0;
    long got = 0;
    double bytes = 0;
    double t0 = now_s();
    for (int32_t corr = 1; got < count; corr++) {
        uint8_t req[512], *p = req + 4;
        put16(&p, 1);    /* Fetch */
        put16(&p, 4);    /* v4 */
        put32(&p, (uint32_t)corr);
        put16(&p, 5);
        memcpy(p, "bench", 5);
        p += 5;
        put32(&p, (uint32_t)-1);     /* replica_id */
        put32(&p, 500);              /* max_wait_ms */
        put32(&p, 1);                /* min_bytes */
        put32(&p, 16u << 20);        /* max_bytes */
        *p++ = 0;                    /* isolation_level */
        put32(&p, 1);                /* one topic */
        put16(&p, (int)tlen);
        memcpy(p, topic, tlen);
        p += tlen;
        put32(&p, 1);                /* one partition */
        put32(&p, 0);
        put64(&p, (uint64_t)offset);
        put32(&p, 16u << 20);        /* partition_max_bytes */
        uint8_t *q = req;
        put32(&q, (uint32_t)(p - req - 4));
        if (write(fd, req, (size_t)(p - req)) != p - req)
            die("fetch: write", strerror(errno));
        uint8_t sz[4];
        read_full(fd, sz, 4);
        size_t n = get32(sz);
        if (n > cap)
            die("fetch", "response too large");
        read_full(fd, resp, n);
        /* corr(4) throttle(4) ntopics(4) tlen(2) topic nparts(4) part(4) err(2) hw(8)
         * lso(8) naborted(4) [aborted...] records_len(4) records */
        const uint8_t *r = resp + 12;
        r += 2 + (get32(r - 4) ? (size_t)(r[0] << 8 | r[1]) : 0);
        r += 4 + 4;
        int err = r[0] << 8 | r[1];
        if (err)
            die("fetch", "partition error");
        r += 2 + 8 + 8;
        int32_t naborted = (int32_t)get32(r);
        r += 4 + (naborted > 0 ? (size_t)naborted * 16 : 0);
        int32_t rlen = (int32_t)get32(r);
        r += 4;
        const uint8_t *end = r + (rlen > 0 ? rlen : 0);
        int progress = 0;
        while (end - r >= 61) {
            int64_t base = (int64_t)get64(r);
            size_t blen = get32(r + 8);
            if ((size_t)(end - r) < 12 + blen)
                break; /* a partial batch at the end of the response */
            int32_t last_delta = (int32_t)get32(r + 23);
            got += (int32_t)get32(r + 57);
            bytes += (double)(12 + blen);
            offset = base + last_delta + 1;
            r += 12 + blen;
            progress = 1;
        }
        if (!progress && now_s() - t0 > 120)
            die("fetch", "timed out");
    }
    double secs = now_s() - t0;
    close(fd);
    free(resp);
    acks = "-";
    report("fetch", got, bytes, secs);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rdkafka_bench produce|consume|disk|loopback [options]\n");
        return 2;
    }
    const char *mode = argv[1];
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "b:t:s:n:a:d:m:")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 's': size = atol(optarg); break;
        case 'n': count = atol(optarg); break;
        case 'a': acks = optarg; break;
        case 'd': dir = optarg; break;
        case 'm': mib = atol(optarg); break;
        default: return 2;
        }
    }
    if (strcmp(mode, "disk") == 0) {
        run_disk();
    } else if (strcmp(mode, "loopback") == 0) {
        run_loopback();
    } else if (strcmp(mode, "fetch") == 0) {
        if (!bootstrap || !topic || count < 1)
            die(mode, "needs -b, -t and a positive -n");
        run_fetch();
    } else if (strcmp(mode, "produce") == 0 || strcmp(mode, "consume") == 0) {
        if (!bootstrap || !topic || count < 1 || size < 1)
            die(mode, "needs -b, -t and positive -n and -s");
        if (mode[0] == 'p')
            run_produce();
        else
            run_consume();
    } else {
        fprintf(stderr, "rdkafka_bench: unknown mode '%s'\n", mode);
        return 2;
    }
    return 0;
}
