/*
 * conf.c: librdkafka configuration shared by the kclient producer, consumer
 * and admin handles (see kclient.h for the contract).
 *
 * librdkafka prints its own log lines to stderr by default, which would
 * break the CLI's rule of one clear error line: "Connect to ... failed"
 * messages appear while it retries, long before we know whether the
 * operation as a whole failed. So its logging goes to the sluice logger at
 * debug level, and each operation reports its own outcome through sl_fail().
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "kclient/kclient_int.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    sl_debug("rdkafka %s: %s", fac, buf);
}

int kclient_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                     struct sl_error *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return sl_fail(err, SL_EUSAGE, "invalid client property '%s=%s': %s", name, value,
                       errstr);
    return SL_OK;
}

int kclient_conf_consumer(rd_kafka_conf_t *conf, struct sl_error *err)
{
    /* librdkafka 2.0.2 stops fetching while a partition's queue holds
     * queued.min.messages (default 100,000) and, once the application has
     * drained it, fetches again only about a second later: a reader slower
     * than the broker stalled a second per 100,000 messages (extract of 1 M
     * events on one thread: 4.5 s, 1.8 s with this). Queued bytes stay
     * capped by queued.max.messages.kbytes (64 MiB by default). */
    return kclient_conf_set(conf, "queued.min.messages", "10000000", err);
}

int kclient_conf_props(rd_kafka_conf_t *conf, const char *const *props, struct sl_error *err)
{
    for (; props && *props; props++) {
        const char *eq = strchr(*props, '=');
        if (!eq || eq == *props)
            return sl_fail(err, SL_EUSAGE, "client property '%s' is not name=value", *props);
        char name[256];
        size_t n = (size_t)(eq - *props);
        if (n >= sizeof name)
            return sl_fail(err, SL_EUSAGE, "client property name too long in '%s'", *props);
        memcpy(name, *props, n);
        name[n] = '\0';
        int rc = kclient_conf_set(conf, name, eq + 1, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

rd_kafka_conf_t *kclient_conf_new(const char *bootstrap, struct sl_error *err)
{
    if (!bootstrap || !*bootstrap) {
        sl_fail(err, SL_EUSAGE, "no bootstrap address");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new(); /* owned: returned to the caller */
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (kclient_conf_set(conf, "bootstrap.servers", bootstrap, err) != SL_OK ||
        kclient_conf_set(conf, "client.id", "sluice", err) != SL_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* "--log-level debug" also turns on librdkafka's protocol tracing. */
    if (sl_log_threshold >= SL_LOG_DEBUG)
        rd_kafka_conf_set(conf, "debug", "broker,topic,protocol,msg", NULL, 0);
    return conf;
}

rd_kafka_t *kclient_rk_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, struct sl_error *err)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new keeps it only on success */
        sl_fail(err, SL_EUSAGE, "cannot create Kafka client: %s", errstr);
    }
    return rk;
}

int kclient_err_code(rd_kafka_resp_err_t rkerr)
{
    switch (rkerr) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return SL_OK;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return SL_ENOTFOUND;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
        return SL_EEXIST;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
        return SL_EUSAGE;
    default:
        return SL_EIO;
    }
}

void kclient_msg_fill(struct kclient_msg *msg, const rd_kafka_message_t *rkm, const char *topic)
{
    msg->value = sl_slice_make(rkm->payload, rkm->len);
    msg->key = sl_slice_make(rkm->key, rkm->key_len);
    msg->topic = topic;
    msg->partition = rkm->partition;
    msg->offset = rkm->offset;
    rd_kafka_timestamp_type_t tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    msg->timestamp_ms = rd_kafka_message_timestamp(rkm, &tstype);
    msg->ts_type = tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? KCLIENT_TS_CREATE
                   : tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? KCLIENT_TS_APPEND
                                                                  : KCLIENT_TS_NONE;
}
