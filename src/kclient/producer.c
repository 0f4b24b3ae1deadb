/*
 * producer.c: a librdkafka producer that counts every delivery report (see
 * kclient.h).
 *
 * Delivery reports are served only by rd_kafka_poll()/rd_kafka_flush() on
 * the caller's thread, so the counters and the first failure reason need no
 * lock. A message that librdkafka is still holding when the caller gives up
 * counts as not delivered: the caller must never report success for it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "kclient/kclient.h"
#include "kclient/kclient_int.h"

struct kclient_producer {
    rd_kafka_t *rk;                     /* owned */
    kclient_delivery_fn *on_delivery;   /* optional */
    void *opaque;                       /* borrowed: passed to on_delivery */
    struct kclient_producer_stats stats;
    char first_failure[256];            /* reason of the first failed delivery, "" if none */
    int delivery_timeout_ms;            /* message.timeout.ms in effect */
    char last_error[256];               /* latest client-level error (error_cb), "" if none */
};

static void error_cb(rd_kafka_t *rk, int rkerr, const char *reason, void *opaque)
{
    (void)rk;
    (void)rkerr;
    struct kclient_producer *prod = opaque;
    snprintf(prod->last_error, sizeof prod->last_error, "%s", reason);
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    struct kclient_producer *prod = opaque;
    const char *reason = NULL;
    if (rkm->err) {
        prod->stats.failed++;
        reason = rd_kafka_err2str(rkm->err);
        if (!prod->first_failure[0]) {
            if (rkm->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
                snprintf(prod->first_failure, sizeof prod->first_failure,
                         "partition %d of topic '%s' does not exist", (int)rkm->partition,
                         rd_kafka_topic_name(rkm->rkt));
            else if (kclient_err_code(rkm->err) == SL_ENOTFOUND)
                snprintf(prod->first_failure, sizeof prod->first_failure,
                         "topic '%s' does not exist (%s)", rd_kafka_topic_name(rkm->rkt), reason);
            else
                snprintf(prod->first_failure, sizeof prod->first_failure, "%s", reason);
        }
    } else {
        prod->stats.delivered++;
    }
    if (prod->on_delivery)
        prod->on_delivery(prod->opaque, rkm->_private, rkm->err ? SL_EIO : SL_OK, reason,
                          rkm->partition, rkm->offset);
}

struct kclient_producer *kclient_producer_new(const struct kclient_producer_conf *conf,
                                              struct sl_error *err)
{
    struct kclient_producer *prod = sl_xcalloc(1, sizeof *prod); /* owned: returned */
    prod->on_delivery = conf->on_delivery;
    prod->opaque = conf->opaque;
    prod->delivery_timeout_ms = conf->delivery_timeout_ms > 0 ? conf->delivery_timeout_ms
                                                              : 30000;
    rd_kafka_conf_t *rconf = kclient_conf_new(conf->bootstrap, err);
    if (!rconf)
        goto fail;
    char tmo[32];
    snprintf(tmo, sizeof tmo, "%d", prod->delivery_timeout_ms);
    const char *acks = conf->acks ? conf->acks : "all";
    if (strcmp(acks, "0") != 0 && strcmp(acks, "1") != 0 && strcmp(acks, "-1") != 0 &&
        strcmp(acks, "all") != 0) {
        sl_fail(err, SL_EUSAGE, "acks must be 0, 1, -1 or all, not '%s'", acks);
        rd_kafka_conf_destroy(rconf);
        goto fail;
    }
    if (kclient_conf_set(rconf, "acks", acks, err) != SL_OK ||
        kclient_conf_set(rconf, "message.timeout.ms", tmo, err) != SL_OK ||
        /* A topic the broker says does not exist (auto-creation off) fails
         * its messages after 2 s instead of the 30 s default, which is meant
         * for clusters whose brokers learn of new topics late. */
        kclient_conf_set(rconf, "topic.metadata.propagation.max.ms", "2000", err) != SL_OK ||
        kclient_conf_props(rconf, conf->props, err) != SL_OK) {
        rd_kafka_conf_destroy(rconf);
        goto fail;
    }
    /* A property may have changed the timeout; flush waits as long as it. */
    char val[32];
    size_t vlen = sizeof val;
    if (rd_kafka_conf_get(rconf, "message.timeout.ms", val, &vlen) == RD_KAFKA_CONF_OK)
        sscanf(val, "%d", &prod->delivery_timeout_ms);
    rd_kafka_conf_set_dr_msg_cb(rconf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(rconf, error_cb);
    rd_kafka_conf_set_opaque(rconf, prod);
    prod->rk = kclient_rk_new(RD_KAFKA_PRODUCER, rconf, err);
    if (!prod->rk)
        goto fail;
    return prod;
fail:
    free(prod);
    return NULL;
}

void kclient_producer_free(struct kclient_producer *prod)
{
    if (!prod)
        return;
    if (prod->rk) {
        rd_kafka_purge(prod->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(prod->rk, 0); /* deliver the purge reports while prod lives */
        rd_kafka_destroy(prod->rk);
    }
    free(prod);
}

int kclient_produce(struct kclient_producer *prod, const char *topic, int32_t partition,
                    struct sl_slice key, struct sl_slice value, void *msg_opaque,
                    struct sl_error *err)
{
    for (;;) {
        rd_kafka_resp_err_t rkerr = rd_kafka_producev(
            prod->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key.p, key.len),
            RD_KAFKA_V_VALUE((void *)value.p, value.len), RD_KAFKA_V_OPAQUE(msg_opaque),
            RD_KAFKA_V_END);
        if (rkerr == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (rkerr == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(prod->rk, 50); /* make room by serving delivery reports */
            continue;
        }
        return sl_fail(err, kclient_err_code(rkerr), "cannot queue message for topic '%s': %s",
                       topic, rd_kafka_err2str(rkerr));
    }
    prod->stats.queued++;
    rd_kafka_poll(prod->rk, 0);
    return SL_OK;
}

int kclient_producer_flush(struct kclient_producer *prod, int timeout_ms,
                           struct sl_error *err)
{
    /* librdkafka fails each message itself after message.timeout.ms; wait a
     * little longer than that so every message gets its report. */
    int wait = timeout_ms >= 0 ? timeout_ms : prod->delivery_timeout_ms + 5000;
    rd_kafka_flush(prod->rk, wait);
    rd_kafka_poll(prod->rk, 0);
    int64_t pending = prod->stats.queued - prod->stats.delivered - prod->stats.failed;
    int64_t missing = prod->stats.failed + pending;
    if (missing == 0)
        return SL_OK;
    return sl_fail(err, SL_EIO, "%" PRId64 " of %" PRId64 " messages not delivered: %s%s%s%s",
                   missing, prod->stats.queued,
                   prod->first_failure[0] ? prod->first_failure
                                          : "timed out waiting for delivery reports",
                   prod->last_error[0] ? " (" : "", prod->last_error,
                   prod->last_error[0] ? ")" : "");
}

void kclient_producer_stats(const struct kclient_producer *prod,
                            struct kclient_producer_stats *stats)
{
    *stats = prod->stats;
}
