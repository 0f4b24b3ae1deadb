/*
 * rdkafka_roundtrip: a librdkafka C producer and consumer, used by the broker
 * client tests (tests/integration/test_11_broker_clients.py). It talks to the
 * broker directly through librdkafka, not through src/kclient, so it tests
 * the broker and not our wrappers.
 *
 *   rdkafka_roundtrip -b HOST:PORT -t TOPIC [-n COUNT] [-s SIZE] [-z CODEC] [-k KEYS]
 *                     [-a ACKS] [-X name=value]...
 *
 * Produces COUNT messages (value: "m<index>:" padded to SIZE bytes with
 * compressible text; with -k, key "k<index % KEYS>"), waits for every
 * delivery report, then reads every partition from the beginning with the
 * simple consumer until COUNT messages arrived, and checks that each
 * message came back byte for byte, that offsets within a partition are
 * strictly increasing, and that each key was always written to one
 * partition. Prints one summary line, "ok produced=N consumed=N
 * partitions=P", and exits 0; otherwise prints what differed and exits 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static const char *bootstrap, *topic, *codec = "none", *acks = "all";
static int count = 1000, size = 100, nkeys = 0;
static const char *props[32];
static int nprops;
static int delivered, failed;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "rdkafka_roundtrip: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        die("bad property: %s", errstr);
}

static rd_kafka_conf_t *base_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    for (int i = 0; i < nprops; i++) {
        char name[128];
        const char *eq = strchr(props[i], '=');
        if (!eq || (size_t)(eq - props[i]) >= sizeof name)
            die("bad -X '%s'", props[i]);
        memcpy(name, props[i], (size_t)(eq - props[i]));
        name[eq - props[i]] = '\0';
        set(conf, name, eq + 1);
    }
    return conf;
}

/* The value of message i: "m<i>:" then a repeating sentence, SIZE bytes. */
static size_t make_value(int i, char *buf)
{
    static const char text[] = "the quick brown fox jumps over the lazy dog; ";
    int n = snprintf(buf, (size_t)size + 32, "m%d:", i);
    for (int j = n; j < size; j++)
        buf[j] = text[(j - n) % (sizeof text - 1)];
    return (size_t)(n > size ? n : size);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (rkm->err) {
        if (failed++ < 5)
            fprintf(stderr, "rdkafka_roundtrip: delivery failed: %s\n",
                    rd_kafka_err2str(rkm->err));
    } else {
        delivered++;
    }
}

static void produce(void)
{
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "compression.codec", codec);
    set(conf, "acks", acks);
    set(conf, "linger.ms", "20");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk)
        die("cannot create producer: %s", errstr);
    char *buf = malloc((size_t)size + 64);
    for (int i = 0; i < count; i++) {
        size_t len = make_value(i, buf);
        char key[32];
        int klen = snprintf(key, sizeof key, "k%d", nkeys ? i % nkeys : 0);
        rd_kafka_resp_err_t err;
        do {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_VALUE(buf, len),
                                    RD_KAFKA_V_KEY(nkeys ? key : NULL, nkeys ? (size_t)klen : 0),
                                    RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
        } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (err)
            die("produce failed: %s", rd_kafka_err2str(err));
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    free(buf);
    rd_kafka_destroy(rk);
    if (delivered != count) {
        fprintf(stderr, "rdkafka_roundtrip: %d of %d delivered, %d failed\n", delivered, count,
                failed);
        exit(1);
    }
}

static int consume(int *nparts_out)
{
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "enable.partition.eof", "false");
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk)
        die("cannot create consumer: %s", errstr);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err)
        die("metadata failed: %s", rd_kafka_err2str(err));
    if (md->topic_cnt != 1 || md->topics[0].err)
        die("topic not in metadata: %s",
            md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topics");
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    for (int p = 0; p < nparts; p++)
        if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, queue) == -1)
            die("consume_start failed: %s", rd_kafka_err2str(rd_kafka_last_error()));

    char *seen = calloc((size_t)count, 1);
    int *key_part = malloc(sizeof(int) * (size_t)(nkeys ? nkeys : 1));
    for (int k = 0; k < nkeys; k++)
        key_part[k] = -1;
    int64_t *last_off = malloc(sizeof(int64_t) * (size_t)nparts);
    for (int p = 0; p < nparts; p++)
        last_off[p] = -1;
    char *want = malloc((size_t)size + 64);
    int got = 0, bad = 0;
    time_t deadline = time(NULL) + 60;
    while (got < count && time(NULL) < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consume_queue(queue, 1000);
        if (!rkm)
            continue;
        if (rkm->err) {
            fprintf(stderr, "rdkafka_roundtrip: consume error: %s\n",
                    rd_kafka_message_errstr(rkm));
            bad++;
            rd_kafka_message_destroy(rkm);
            continue;
        }
        int i = -1;
        if (rkm->len > 1 && ((char *)rkm->payload)[0] == 'm')
            i = atoi((char *)rkm->payload + 1);
        if (i < 0 || i >= count || seen[i]) {
            if (bad++ < 5)
                fprintf(stderr, "rdkafka_roundtrip: unexpected or duplicate message %d at %d/%" PRId64 "\n",
                        i, (int)rkm->partition, rkm->offset);
        } else {
            seen[i] = 1;
            size_t len = make_value(i, want);
            if (rkm->len != len || memcmp(rkm->payload, want, len) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "rdkafka_roundtrip: message %d differs (len %zu, want %zu)\n",
                            i, rkm->len, len);
            }
            if (nkeys) {
                char key[32];
                int klen = snprintf(key, sizeof key, "k%d", i % nkeys);
                if (rkm->key_len != (size_t)klen || memcmp(rkm->key, key, (size_t)klen) != 0) {
                    if (bad++ < 5)
                        fprintf(stderr, "rdkafka_roundtrip: key of message %d differs\n", i);
                } else if (key_part[i % nkeys] == -1) {
                    key_part[i % nkeys] = rkm->partition;
                } else if (key_part[i % nkeys] != rkm->partition) {
                    if (bad++ < 5)
                        fprintf(stderr, "rdkafka_roundtrip: key %s in partitions %d and %d\n",
                                key, key_part[i % nkeys], (int)rkm->partition);
                }
            } else if (rkm->key) {
                if (bad++ < 5)
                    fprintf(stderr, "rdkafka_roundtrip: message %d has a key\n", i);
            }
        }
        if (rkm->offset <= last_off[rkm->partition]) {
            if (bad++ < 5)
                fprintf(stderr, "rdkafka_roundtrip: offset %" PRId64 " after %" PRId64 " in partition %d\n",
                        rkm->offset, last_off[rkm->partition], (int)rkm->partition);
        }
        last_off[rkm->partition] = rkm->offset;
        got++;
        rd_kafka_message_destroy(rkm);
    }
    for (int p = 0; p < nparts; p++)
        rd_kafka_consume_stop(rkt, p);
    rd_kafka_queue_destroy(queue);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (got < count) {
        fprintf(stderr, "rdkafka_roundtrip: consumed %d of %d before the timeout\n", got, count);
        bad++;
    }
    free(seen);
    free(key_part);
    free(last_off);
    free(want);
    *nparts_out = nparts;
    return bad ? -1 : got;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "b:t:n:s:z:k:a:X:")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'z': codec = optarg; break;
        case 'k': nkeys = atoi(optarg); break;
        case 'a': acks = optarg; break;
        case 'X':
            if (nprops < 32)
                props[nprops++] = optarg;
            break;
        default:
            fprintf(stderr, "usage: rdkafka_roundtrip -b HOST:PORT -t TOPIC [-n COUNT] [-s SIZE] "
                            "[-z CODEC] [-k KEYS] [-a ACKS] [-X name=value]...\n");
            return 2;
        }
    }
    if (!bootstrap || !topic || count < 1 || size < 1)
        die("%s", "need -b and -t, and positive -n and -s");
    produce();
    int nparts = 0;
    int got = consume(&nparts);
    if (got < 0)
        return 1;
    printf("ok produced=%d consumed=%d partitions=%d\n", count, got, nparts);
    return 0;
}
