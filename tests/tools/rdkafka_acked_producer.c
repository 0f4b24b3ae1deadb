/*
 * rdkafka_acked_producer: a librdkafka producer that prints which messages
 * the broker acknowledged, for the kill -9 durability test
 * (tests/integration/test_13_broker_durability.py).
 *
 *   rdkafka_acked_producer -b HOST:PORT -t TOPIC [-n COUNT] [-r RATE] [-a ACKS]
 *                          [-i] [-T TIMEOUT_MS] [-X name=value]...
 *
 * Sends COUNT messages with values "id-%08d" (ids 0..COUNT-1, in order, to
 * partition 0) at about RATE messages per second, and prints one line per
 * delivery report on stdout, flushed at once:
 *     ACK <id> <offset>     the broker acknowledged it
 *     NACK <id> <error>     delivery failed
 * -i turns on enable.idempotence (so retries after a reconnect are never
 * appended twice). Messages are given up after TIMEOUT_MS (default 15000).
 * Exits 0 once every message has a report, whatever the outcome.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static void set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdkafka_acked_producer: %s\n", errstr);
        exit(2);
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    int id = (int)(intptr_t)rkm->_private;
    if (rkm->err)
        printf("NACK %d %s\n", id, rd_kafka_err2str(rkm->err));
    else
        printf("ACK %d %lld\n", id, (long long)rkm->offset);
    fflush(stdout);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    fprintf(stderr, "rdkafka_acked_producer: %s: %s\n", rd_kafka_err2name(err), reason);
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL, *acks = "all", *timeout = "15000";
    int count = 10000, rate = 5000, idempotent = 0, opt;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    while ((opt = getopt(argc, argv, "b:t:n:r:a:iT:X:")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count = atoi(optarg); break;
        case 'r': rate = atoi(optarg); break;
        case 'a': acks = optarg; break;
        case 'i': idempotent = 1; break;
        case 'T': timeout = optarg; break;
        case 'X': {
            char *eq = strchr(optarg, '=');
            if (!eq) {
                fprintf(stderr, "rdkafka_acked_producer: -X wants name=value\n");
                return 2;
            }
            *eq = '\0';
            set(conf, optarg, eq + 1);
            break;
        }
        default:
            fprintf(stderr, "usage: rdkafka_acked_producer -b HOST:PORT -t TOPIC [-n COUNT] "
                            "[-r RATE] [-a ACKS] [-i] [-T TIMEOUT_MS] [-X name=value]...\n");
            return 2;
        }
    }
    if (!bootstrap || !topic || count < 1 || rate < 1) {
        fprintf(stderr, "rdkafka_acked_producer: need -b, -t, and positive -n and -r\n");
        return 2;
    }
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "acks", acks);
    set(conf, "message.timeout.ms", timeout);
    set(conf, "linger.ms", "2");
    set(conf, "reconnect.backoff.ms", "50");
    set(conf, "reconnect.backoff.max.ms", "200");
    if (idempotent)
        set(conf, "enable.idempotence", "true");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "rdkafka_acked_producer: %s\n", errstr);
        return 2;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int id = 0; id < count; id++) {
        /* Pace: message id is due at t0 + id / rate. */
        for (;;) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
            if (elapsed >= (double)id / rate)
                break;
            rd_kafka_poll(rk, 1);
        }
        char value[32];
        int len = snprintf(value, sizeof value, "id-%08d", id);
        rd_kafka_resp_err_t err;
        do {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_VALUE(value, (size_t)len),
                                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)id), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
        } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (err) {
            printf("NACK %d %s\n", id, rd_kafka_err2str(err));
            fflush(stdout);
        }
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_poll(rk, 100);
    rd_kafka_destroy(rk);
    return 0;
}
