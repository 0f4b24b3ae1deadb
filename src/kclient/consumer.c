/*
 * consumer.c: a reader of a topic's partitions by explicit assignment, with
 * no consumer group (see kclient.h).
 *
 * It uses librdkafka's simple ("legacy") consumer API, as `kcat -C` does:
 * every partition is started on one shared queue, so no group.id is needed
 * and nothing ever talks to a group coordinator. That keeps the reader
 * working against brokers without consumer groups and leaves no trace on a
 * real cluster.
 *
 * Bounded mode ("stop_at_end"): at start we ask for each partition's
 * watermarks [low, high) with ListOffsets. A partition is done once a
 * message at offset high-1 (or later) was seen, or librdkafka reports the
 * partition's end at an offset >= high (this also ends partitions whose last
 * offsets are not messages, e.g. transaction markers), or it starts at or
 * after high. Messages at offset >= high, produced after the start, are
 * dropped, so two runs over an unchanged log return the same messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "kclient/kclient.h"
#include "kclient/kclient_int.h"

struct part {
    int64_t low, high; /* watermarks at start (bounded mode), else -1 */
    bool started;      /* rd_kafka_consume_start_queue succeeded */
    bool done;         /* bounded mode: nothing more to return */
};

#define KC_PENDING 512

struct kclient_consumer {
    rd_kafka_t *rk;             /* owned */
    rd_kafka_topic_t *rkt;      /* owned */
    rd_kafka_queue_t *queue;    /* owned: every started partition feeds it */
    rd_kafka_message_t *held;   /* owned: the message last returned, freed on next call */
    /* owned: messages taken from the queue in one call and not yet
     * returned (librdkafka reads its clock per call, not per message) */
    rd_kafka_message_t *pending[KC_PENDING];
    size_t npending, next_pending;
    char *topic;                /* owned */
    struct part *parts;         /* owned: indexed by partition id, n_parts entries */
    int32_t n_parts;            /* partitions in the topic */
    int32_t n_reading;          /* partitions started */
    int32_t n_open;             /* bounded mode: started partitions not yet done */
    bool stop_at_end;
    int64_t max_messages;       /* 0: no limit */
    int64_t returned;           /* messages returned so far */
    char last_error[256];       /* latest client-level error (error_cb) */
};

static void error_cb(rd_kafka_t *rk, int rkerr, const char *reason, void *opaque)
{
    (void)rk;
    (void)rkerr;
    struct kclient_consumer *cons = opaque;
    snprintf(cons->last_error, sizeof cons->last_error, "%s", reason);
}

static int fail_rd(struct kclient_consumer *cons, struct sl_error *err, rd_kafka_resp_err_t rkerr,
                   const char *what)
{
    rd_kafka_poll(cons->rk, 0); /* serve error_cb for the detail */
    return sl_fail(err, kclient_err_code(rkerr), "%s: %s%s%s%s", what, rd_kafka_err2str(rkerr),
                   cons->last_error[0] ? " (" : "", cons->last_error,
                   cons->last_error[0] ? ")" : "");
}

/* Partition count of conf->topic, from an all-topics Metadata request (which
 * never auto-creates a topic). Retries while the topic has no leader yet. */
static int lookup_partitions(struct kclient_consumer *cons, const char *bootstrap, int timeout_ms,
                             struct sl_error *err)
{
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    char what[512];
    snprintf(what, sizeof what, "cannot get metadata from '%s'", bootstrap);
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int left = (int)(deadline - sl_clock_mono_ms());
        rd_kafka_resp_err_t rkerr = rd_kafka_metadata(cons->rk, 1, NULL, &md, left > 0 ? left : 1);
        if (rkerr)
            return fail_rd(cons, err, rkerr, what);
        rd_kafka_resp_err_t terr = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        for (int i = 0; i < md->topic_cnt; i++) {
            if (strcmp(md->topics[i].topic, cons->topic) != 0)
                continue;
            terr = md->topics[i].err;
            if (!terr)
                cons->n_parts = md->topics[i].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
        if (!terr && cons->n_parts > 0)
            return SL_OK;
        if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            return sl_fail(err, SL_ENOTFOUND, "topic '%s' does not exist", cons->topic);
        if (sl_clock_mono_ms() >= deadline) {
            snprintf(what, sizeof what, "topic '%s' is not available", cons->topic);
            return fail_rd(cons, err, terr ? terr : RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                           what);
        }
        rd_kafka_poll(cons->rk, 100);
    }
}

/* Ask the broker for partition id's [low, high) watermarks now. */
static int query_watermarks(struct kclient_consumer *cons, int32_t id, int64_t *low,
                            int64_t *high, int timeout_ms, struct sl_error *err)
{
    rd_kafka_resp_err_t rkerr =
        rd_kafka_query_watermark_offsets(cons->rk, cons->topic, id, low, high, timeout_ms);
    if (rkerr) {
        char what[512];
        snprintf(what, sizeof what, "cannot get the offsets of '%s' partition %d", cons->topic,
                 (int)id);
        return fail_rd(cons, err, rkerr, what);
    }
    return SL_OK;
}

static int start_partition(struct kclient_consumer *cons, int32_t id, int64_t start,
                           int timeout_ms, struct sl_error *err)
{
    struct part *part = &cons->parts[id];
    if (cons->stop_at_end) {
        if (query_watermarks(cons, id, &part->low, &part->high, timeout_ms, err) != SL_OK)
            return SL_EIO;
        int64_t first = start == KCLIENT_OFFSET_BEGINNING ? part->low
                        : start == KCLIENT_OFFSET_END     ? part->high
                        : start < part->low               ? part->low
                                                          : start;
        if (first >= part->high) {
            part->done = true;
            return SL_OK;
        }
        /* A numeric start: given "beginning", librdkafka looks the offset
         * up itself, and its first fetch then sometimes waits 0.5 s. */
        start = first;
    }
    if (start == KCLIENT_OFFSET_END && !cons->stop_at_end) {
        /* Resolve "end" now rather than when librdkafka's fetcher gets to it,
         * so that every message produced after _new() returns is read. */
        int64_t low, high;
        if (query_watermarks(cons, id, &low, &high, timeout_ms, err) != SL_OK)
            return SL_EIO;
        start = high;
    }
    if (rd_kafka_consume_start_queue(cons->rkt, id, start, cons->queue) == -1) {
        char what[512];
        snprintf(what, sizeof what, "cannot start reading '%s' partition %d", cons->topic,
                 (int)id);
        return fail_rd(cons, err, rd_kafka_last_error(), what);
    }
    part->started = true;
    cons->n_reading++;
    cons->n_open++;
    return SL_OK;
}

struct kclient_consumer *kclient_consumer_new(const struct kclient_consumer_conf *conf,
                                              struct sl_error *err)
{
    int timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : KCLIENT_TIMEOUT_MS;
    struct kclient_consumer *cons = sl_xcalloc(1, sizeof *cons); /* owned: returned */
    cons->topic = sl_xstrdup(conf->topic);
    cons->stop_at_end = conf->stop_at_end;
    cons->max_messages = conf->max_messages > 0 ? conf->max_messages : 0;

    rd_kafka_conf_t *rconf = kclient_conf_new(conf->bootstrap, err);
    if (!rconf)
        goto fail;
    if (kclient_conf_consumer(rconf, err) != SL_OK ||
        kclient_conf_set(rconf, "enable.partition.eof", conf->stop_at_end ? "true" : "false",
                         err) != SL_OK ||
        kclient_conf_set(rconf, "auto.offset.reset", "earliest", err) != SL_OK ||
        kclient_conf_set(rconf, "allow.auto.create.topics", "false", err) != SL_OK ||
        kclient_conf_props(rconf, conf->props, err) != SL_OK) {
        rd_kafka_conf_destroy(rconf);
        goto fail;
    }
    rd_kafka_conf_set_error_cb(rconf, error_cb);
    rd_kafka_conf_set_opaque(rconf, cons);
    cons->rk = kclient_rk_new(RD_KAFKA_CONSUMER, rconf, err);
    if (!cons->rk)
        goto fail;
    if (lookup_partitions(cons, conf->bootstrap, timeout_ms, err) != SL_OK)
        goto fail;
    if (conf->partition != KCLIENT_PARTITION_ALL &&
        (conf->partition < 0 || conf->partition >= cons->n_parts)) {
        sl_fail(err, SL_ENOTFOUND, "partition %d of topic '%s' does not exist (it has %d)",
                (int)conf->partition, cons->topic, (int)cons->n_parts);
        goto fail;
    }
    cons->parts = sl_xcalloc((size_t)cons->n_parts, sizeof *cons->parts); /* owned by cons */
    for (int32_t i = 0; i < cons->n_parts; i++)
        cons->parts[i].low = cons->parts[i].high = -1;
    cons->rkt = rd_kafka_topic_new(cons->rk, cons->topic, NULL);
    if (!cons->rkt) {
        fail_rd(cons, err, rd_kafka_last_error(), "cannot open topic");
        goto fail;
    }
    cons->queue = rd_kafka_queue_new(cons->rk);
    for (int32_t id = 0; id < cons->n_parts; id++) {
        if (conf->partition != KCLIENT_PARTITION_ALL && id != conf->partition)
            continue;
        int64_t start = conf->start;
        if (conf->start_offsets && id < conf->n_start_offsets && conf->start_offsets[id] >= -2)
            start = conf->start_offsets[id];
        if (start < KCLIENT_OFFSET_BEGINNING) {
            sl_fail(err, SL_EUSAGE, "invalid start offset %lld", (long long)start);
            goto fail;
        }
        if (start_partition(cons, id, start, timeout_ms, err) != SL_OK)
            goto fail;
    }
    return cons;
fail:
    kclient_consumer_free(cons);
    return NULL;
}

void kclient_consumer_free(struct kclient_consumer *cons)
{
    if (!cons)
        return;
    if (cons->held)
        rd_kafka_message_destroy(cons->held);
    while (cons->next_pending < cons->npending)
        rd_kafka_message_destroy(cons->pending[cons->next_pending++]);
    for (int32_t id = 0; cons->parts && id < cons->n_parts; id++)
        if (cons->parts[id].started)
            rd_kafka_consume_stop(cons->rkt, id);
    if (cons->queue)
        rd_kafka_queue_destroy(cons->queue);
    if (cons->rkt)
        rd_kafka_topic_destroy(cons->rkt);
    if (cons->rk)
        rd_kafka_destroy(cons->rk);
    free(cons->parts);
    free(cons->topic);
    free(cons);
}

static void mark_done(struct kclient_consumer *cons, struct part *part)
{
    if (!part->done) {
        part->done = true;
        cons->n_open--;
    }
}

static bool finished(const struct kclient_consumer *cons)
{
    if (cons->max_messages && cons->returned >= cons->max_messages)
        return true;
    return cons->stop_at_end ? cons->n_open == 0 : cons->n_reading == 0;
}

int kclient_consumer_next(struct kclient_consumer *cons, struct kclient_msg *msg,
                          int timeout_ms, struct sl_error *err)
{
    if (cons->held) {
        rd_kafka_message_destroy(cons->held);
        cons->held = NULL;
    }
    int64_t deadline = -1; /* set when the first wait of this call starts */
    for (;;) {
        if (finished(cons))
            return 0;
        if (cons->next_pending == cons->npending) {
            /* What is queued now, without waiting (a batch call with a
             * timeout waits for a full batch), else wait for one message.
             * The clock is read only for a wait: twice a message was 9% of
             * a fast reader's time. */
            ssize_t n = rd_kafka_consume_batch_queue(cons->queue, 0, cons->pending, KC_PENDING);
            if (n <= 0 && timeout_ms != 0) {
                int wait = -1;
                if (timeout_ms > 0) {
                    int64_t now = sl_clock_mono_ms();
                    if (deadline < 0)
                        deadline = now + timeout_ms;
                    wait = deadline > now ? (int)(deadline - now) : 0;
                }
                cons->pending[0] = rd_kafka_consume_queue(cons->queue, wait);
                n = cons->pending[0] ? 1 : 0;
            }
            cons->npending = n > 0 ? (size_t)n : 0;
            cons->next_pending = 0;
            if (n <= 0) {
                if (timeout_ms >= 0 && sl_clock_mono_ms() >= deadline)
                    return SL_EAGAIN;
                continue;
            }
        }
        rd_kafka_message_t *rkm = cons->pending[cons->next_pending++];
        int32_t id = rkm->partition;
        struct part *part = id >= 0 && id < cons->n_parts ? &cons->parts[id] : NULL;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (part && cons->stop_at_end && rkm->offset >= part->high)
                mark_done(cons, part);
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (rkm->err) {
            char what[512];
            snprintf(what, sizeof what, "cannot read '%s' partition %d", cons->topic, (int)id);
            rd_kafka_resp_err_t rkerr = rkm->err;
            rd_kafka_message_destroy(rkm);
            return fail_rd(cons, err, rkerr, what);
        }
        if (!part || (cons->stop_at_end && (part->done || rkm->offset >= part->high))) {
            if (part)
                mark_done(cons, part);
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (cons->stop_at_end && rkm->offset + 1 >= part->high)
            mark_done(cons, part);
        cons->held = rkm;
        cons->returned++;
        kclient_msg_fill(msg, rkm, cons->topic);
        return 1;
    }
}

int32_t kclient_consumer_partitions(const struct kclient_consumer *cons)
{
    return cons->n_parts;
}

int kclient_consumer_watermarks(const struct kclient_consumer *cons, int32_t partition,
                                int64_t *low, int64_t *high)
{
    if (partition < 0 || partition >= cons->n_parts ||
        !(cons->parts[partition].started || cons->parts[partition].done))
        return SL_ENOTFOUND;
    *low = cons->parts[partition].low;
    *high = cons->parts[partition].high;
    return SL_OK;
}

int kclient_consumer_query_watermarks(struct kclient_consumer *cons, int32_t partition,
                                      int64_t *low, int64_t *high, int timeout_ms,
                                      struct sl_error *err)
{
    if (partition < 0 || partition >= cons->n_parts)
        return sl_fail(err, SL_ENOTFOUND, "partition %d of '%s' is not being read",
                       (int)partition, cons->topic);
    return query_watermarks(cons, partition, low, high, timeout_ms, err);
}

int kclient_consume(const struct kclient_consumer_conf *conf, kclient_msg_fn *fn,
                    void *opaque, volatile const int *stop, struct sl_error *err)
{
    struct kclient_consumer *cons = kclient_consumer_new(conf, err);
    if (!cons)
        return err && err->code ? err->code : SL_EIO;
    int rc = SL_OK;
    for (;;) {
        if (stop && *stop)
            break;
        struct kclient_msg msg;
        int got = kclient_consumer_next(cons, &msg, 100, err);
        if (got == SL_EAGAIN)
            continue;
        if (got <= 0) {
            rc = got;
            break;
        }
        int r = fn(opaque, &msg);
        if (r != 0) {
            rc = r;
            break;
        }
    }
    kclient_consumer_free(cons);
    return rc;
}
