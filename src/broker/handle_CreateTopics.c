/*
 * handle_CreateTopics.c: CreateTopics (19) v0-4.
 *
 * CreateTopics on one node: replication factor 1 or -1 (default) else
 * INVALID_REPLICATION_FACTOR; num_partitions -1 means the broker default
 * (--partitions), below 1 is INVALID_PARTITIONS; an explicit assignment
 * gives the partition count. segment.bytes, segment.ms, retention.bytes,
 * retention.ms and max.message.bytes become the topic's own settings (kept
 * by the log, reported by DescribeConfigs); a value out of range is
 * INVALID_CONFIG. Other configs are accepted only when they are harmless on
 * one node (replication, file handling), name the one policy sluice has
 * (cleanup.policy=delete, CreateTime, compression.type=producer) or ask for
 * no more frequent an fdatasync than --flush gives (flush.ms, flush.messages);
 * anything else is INVALID_CONFIG rather than silently ignored.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "broker/broker_int.h"

static const char *const accepted_configs[] = {
    "cleanup.policy",
    "compression.type",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "index.interval.bytes",
    "message.timestamp.type",
    "min.insync.replicas",
    "segment.index.bytes",
    "segment.jitter.ms",
    "unclean.leader.election.enable",
    "message.downconversion.enable",
    "preallocate",
    "message.timestamp.difference.max.ms",
    NULL,
};

/* flush.ms and flush.messages promise an fdatasync at least that often.
 * The log has one policy for all topics: a value it already keeps is
 * accepted, a stricter one refused. */
static const char *check_flush(const struct broker *b, const char *name, const char *value)
{
    const struct log_config *lc = log_store_config(b->store);
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < 0)
        return "flush.ms and flush.messages want an integer >= 0";
    if (lc->flush == LOG_FLUSH_ALWAYS || v == INT64_MAX) /* INT64_MAX: Kafka's default */
        return NULL;
    if (strcmp(name, "flush.ms") == 0 && lc->flush == LOG_FLUSH_INTERVAL &&
        v >= lc->flush_interval_ms)
        return NULL;
    return "a stricter flush than the broker's --flush policy (which applies to every topic)";
}

/* A config that is not one of the log's settings; `value` NULL: Kafka's default. */
static const char *check_config(const struct broker *b, const char *name, const char *value)
{
    static const struct {
        const char *name, *only, *why; /* only: the one value accepted */
    } policies[] = {
        { "cleanup.policy", "delete", "only cleanup.policy=delete is supported" },
        { "message.timestamp.type", "CreateTime",
          "only message.timestamp.type=CreateTime is supported" },
        { "compression.type", "producer",
          "only compression.type=producer is supported (batches are kept as sent)" },
    };
    if (value && (strcmp(name, "flush.ms") == 0 || strcmp(name, "flush.messages") == 0))
        return check_flush(b, name, value);
    for (size_t k = 0; k < sizeof policies / sizeof policies[0]; k++)
        if (strcmp(name, policies[k].name) == 0 && value && strcmp(value, policies[k].only) != 0)
            return policies[k].why;
    for (const char *const *k = accepted_configs; *k; k++)
        if (strcmp(name, *k) == 0)
            return NULL;
    return "unknown topic config";
}

const char *broker_topic_config_take(struct broker_conn *conn, struct sl_slice name,
                                     struct sl_slice value, struct log_topic_config *tc)
{
    char *cname = broker_cstr(conn, name);
    char *cvalue = value.p ? broker_cstr(conn, value) : NULL;
    if (strlen(cname) != name.len || (cvalue && strlen(cvalue) != value.len))
        return "config names and values cannot hold NUL bytes";
    struct sl_error err = {0};
    int rc = log_topic_config_set(tc, cname, cvalue, &err);
    if (rc == SL_OK)
        return NULL;
    if (rc != SL_ENOTFOUND)
        return sl_arena_strndup(&conn->arena, err.msg, strlen(err.msg));
    return check_config(conn->b, cname, cvalue);
}

int broker_handle_CreateTopics(struct broker_conn *conn, const struct broker_req *req,
                               struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_CreateTopicsRequest in;
    if (kafka_CreateTopicsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_CreateTopicsResponse res = {.ntopics = in.ntopics < 0 ? 0 : in.ntopics};
    res.topics =
        sl_arena_alloc(&conn->arena, (res.ntopics ? (size_t)res.ntopics : 1) * sizeof *res.topics);
    for (int32_t i = 0; i < res.ntopics; i++) {
        const struct kafka_CreatableTopic *t = &in.topics[i];
        struct kafka_CreatableTopicResult *tr = &res.topics[i];
        const char *msg = NULL;
        *tr = (struct kafka_CreatableTopicResult){.name = t->name.p ? t->name : sl_slice_str("")};
        char *name = broker_cstr(conn, t->name);
        int32_t partitions = t->num_partitions;
        if (t->nassignments > 0)
            partitions = t->nassignments;
        else if (partitions == -1)
            partitions = b->cfg.partitions;
        struct log_topic_config tc;
        log_topic_config_inherit(&tc);
        for (int32_t k = 0; k < t->nconfigs && !msg; k++)
            if ((msg = broker_topic_config_take(conn, t->configs[k].name, t->configs[k].value,
                                                &tc)))
                tr->error_code = KAFKA_INVALID_CONFIG;
        if (msg) {
            /* error_code set by the config check */
        } else if (strlen(name) != t->name.len || !log_topic_name_valid(name)) {
            tr->error_code = KAFKA_INVALID_TOPIC_EXCEPTION;
            msg = "topic names are 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'";
        } else if (t->replication_factor != 1 && t->replication_factor != -1) {
            tr->error_code = KAFKA_INVALID_REPLICATION_FACTOR;
            msg = "replication factor must be 1 on a single-node broker";
        } else if (partitions < 1 || partitions > LOG_PARTITIONS_MAX) {
            tr->error_code = KAFKA_INVALID_PARTITIONS;
            msg = "number of partitions must be at least 1";
        } else if (log_store_topic(b->store, name)) {
            tr->error_code = KAFKA_TOPIC_ALREADY_EXISTS;
            msg = "topic already exists";
        } else if (!in.validate_only) {
            struct sl_error cerr = {0};
            int rc = log_store_topic_create(b->store, name, partitions, &tc, NULL, &cerr);
            if (rc == SL_EEXIST) {
                tr->error_code = KAFKA_TOPIC_ALREADY_EXISTS;
                msg = "topic already exists";
            } else if (rc != SL_OK) {
                tr->error_code = KAFKA_UNKNOWN_SERVER_ERROR;
                msg = sl_arena_strndup(&conn->arena, cerr.msg, strlen(cerr.msg));
            }
        }
        tr->error_message = msg ? sl_slice_str(msg) : sl_slice_make(NULL, 0);
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_CreateTopicsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
