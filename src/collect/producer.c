/*
 * producer.c: librdkafka on the event loop, for `sluice collect`.
 *
 * librdkafka runs its own threads; delivery reports wait on its main queue
 * until someone polls it. We ask librdkafka to call queue_nonempty() (on
 * one of its threads) when that queue goes from empty to non-empty; that
 * only calls sl_ev_wakeup(), and the loop's wakeup callback then serves the
 * reports with rd_kafka_poll(), so every delivery callback -- and so every
 * HTTP reply -- runs on the loop's thread. A 100 ms timer polls as well, in
 * case a trigger is ever missed.
 *
 * The reply waits for the report, so linger.ms adds straight to request
 * latency: it defaults to 0 here. Batching comes instead from the loop:
 * collect_producer_send() only keeps the message, and collect_producer_flush()
 * (called from the HTTP server's before-sleep hook, once per loop iteration)
 * hands every message of the iteration to librdkafka in a row. Produced one
 * at a time as requests were read, each message would wake librdkafka's
 * broker thread (a pipe write and a cross-core wakeup) and leave in a
 * ProduceRequest of its own or nearly, each with its own delivery-report
 * wakeup of this loop; in a row, the first message wakes the broker thread
 * and the rest join it, so the events read together travel to the broker in
 * one ProduceRequest and come back in one report batch.
 *
 * message.timeout.ms bounds how long a client waits when the broker is down:
 * the report then fails and the client gets 503.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "collect/collect.h"

#define POLL_MS 100
#define DEFER_BYTES (1024 * 1024) /* flush at once past this much kept data */

/* A message kept until the end of the loop iteration. */
struct deferred {
    size_t off, len; /* its value in prod->defer_buf */
    void *opaque;    /* borrowed: the caller's, for the report */
};

struct collect_producer {
    struct sl_ev *ev;            /* borrowed */
    rd_kafka_t *rk;              /* owned */
    rd_kafka_topic_t *rkt;       /* owned */
    rd_kafka_queue_t *mainq;     /* owned reference */
    collect_delivery_fn *fn;
    void *arg;
    sl_ev_fn *wakeup_fn;
    void *wakeup_arg;
    int64_t inflight;            /* queued, not yet reported */
    int64_t max_inflight;
    uint64_t errors;             /* failed reports */
    int64_t timer_id;
    int64_t last_down_log_ms;
    struct sl_buf defer_buf;     /* values of the kept messages, back to back */
    struct deferred *defer;      /* owned: kept messages, in send order */
    size_t ndefer, defer_cap;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct collect_producer *prod = opaque;
    prod->inflight--;
    if (m->err) {
        prod->errors++;
        prod->fn(m->_private, SL_EIO, rd_kafka_err2str(m->err), prod->arg);
    } else {
        prod->fn(m->_private, SL_OK, NULL, prod->arg);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT)
        sl_debug("collect: kafka: %s", reason);
    else
        sl_warn("collect: kafka: %s", reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    sl_debug("collect: librdkafka %s: %s", fac, buf);
}

/* On a librdkafka thread: only wake the loop. */
static void queue_nonempty(rd_kafka_t *rk, void *opaque)
{
    (void)rk;
    sl_ev_wakeup(opaque);
}

void collect_producer_poll(struct collect_producer *prod)
{
    /* Serve until the queue is empty: the trigger fires only on empty -> non-empty. */
    while (rd_kafka_poll(prod->rk, 0) > 0)
        ;
}

static void on_wakeup(struct sl_ev *ev, void *arg)
{
    (void)ev;
    struct collect_producer *prod = arg;
    collect_producer_poll(prod);
    if (prod->wakeup_fn)
        prod->wakeup_fn(ev, prod->wakeup_arg);
}

static void on_timer(struct sl_ev *ev, void *arg)
{
    struct collect_producer *prod = arg;
    collect_producer_poll(prod);
    if (prod->wakeup_fn)
        prod->wakeup_fn(ev, prod->wakeup_arg);
    prod->timer_id = sl_ev_timer_add(ev, POLL_MS, on_timer, prod);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, struct sl_error *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return sl_fail(err, SL_EUSAGE, "bad kafka setting '%s=%s': %s", name, value, errstr);
    return SL_OK;
}

struct collect_producer *collect_producer_new(struct sl_ev *ev,
                                              const struct collect_producer_config *cfg,
                                              collect_delivery_fn *fn, void *arg,
                                              sl_ev_fn *wakeup_fn, void *wakeup_arg,
                                              struct sl_error *err)
{
    struct collect_producer *prod = sl_xcalloc(1, sizeof *prod);
    prod->ev = ev;
    prod->fn = fn;
    prod->arg = arg;
    prod->wakeup_fn = wakeup_fn;
    prod->wakeup_arg = wakeup_arg;
    prod->max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 100000;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char num[32];
    const char *acks = cfg->acks ? cfg->acks : "all";
    int rc = set(conf, "bootstrap.servers", cfg->bootstrap, err);
    if (rc == SL_OK)
        rc = set(conf, "acks", acks, err);
    snprintf(num, sizeof num, "%d", cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000);
    if (rc == SL_OK)
        rc = set(conf, "message.timeout.ms", num, err);
    snprintf(num, sizeof num, "%d", cfg->linger_ms >= 0 ? cfg->linger_ms : 0);
    if (rc == SL_OK)
        rc = set(conf, "linger.ms", num, err);
    snprintf(num, sizeof num, "%lld", (long long)(prod->max_inflight + 1000));
    if (rc == SL_OK)
        rc = set(conf, "queue.buffering.max.messages", num, err);
    if (rc == SL_OK)
        rc = set(conf, "socket.nagle.disable", "true", err);
    if (rc == SL_OK)
        rc = set(conf, "client.id", "sluice-collect", err);
    for (const char *const *p = cfg->props; rc == SL_OK && p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq) {
            rc = sl_fail(err, SL_EUSAGE, "kafka setting '%s' is not name=value", *p);
            break;
        }
        char *name = sl_xstrndup(*p, (size_t)(eq - *p));
        rc = set(conf, name, eq + 1, err);
        free(name);
    }
    if (rc != SL_OK) {
        rd_kafka_conf_destroy(conf);
        free(prod);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, prod);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);

    char errstr[512];
    prod->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!prod->rk) {
        rd_kafka_conf_destroy(conf);
        sl_fail(err, SL_EUSAGE, "cannot create kafka producer: %s", errstr);
        free(prod);
        return NULL;
    }
    prod->rkt = rd_kafka_topic_new(prod->rk, cfg->topic, NULL);
    if (!prod->rkt) {
        sl_fail(err, SL_EUSAGE, "bad topic '%s': %s", cfg->topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(prod->rk);
        free(prod);
        return NULL;
    }
    prod->mainq = rd_kafka_queue_get_main(prod->rk);
    sl_buf_init(&prod->defer_buf, 0);
    sl_ev_on_wakeup(ev, on_wakeup, prod);
    rd_kafka_queue_cb_event_enable(prod->mainq, queue_nonempty, ev);
    prod->timer_id = sl_ev_timer_add(ev, POLL_MS, on_timer, prod);
    return prod;
}

void collect_producer_free(struct collect_producer *prod, int timeout_ms)
{
    if (!prod)
        return;
    collect_producer_flush(prod);
    sl_ev_timer_del(prod->ev, prod->timer_id);
    rd_kafka_queue_cb_event_enable(prod->mainq, NULL, NULL);
    if (prod->inflight > 0)
        rd_kafka_flush(prod->rk, timeout_ms);
    collect_producer_poll(prod);
    rd_kafka_queue_destroy(prod->mainq);
    rd_kafka_topic_destroy(prod->rkt);
    rd_kafka_destroy(prod->rk);
    sl_ev_on_wakeup(prod->ev, NULL, NULL);
    sl_buf_release(&prod->defer_buf);
    free(prod->defer);
    free(prod);
}

int collect_producer_send(struct collect_producer *prod, struct sl_slice value, void *msg_opaque,
                          struct sl_error *err)
{
    if (prod->inflight >= prod->max_inflight)
        return sl_fail(err, SL_ELIMIT, "too many events in flight (%lld)",
                       (long long)prod->inflight);
    if (prod->defer_buf.len + value.len > DEFER_BYTES)
        collect_producer_flush(prod);
    if (prod->ndefer == prod->defer_cap) {
        prod->defer_cap = prod->defer_cap ? prod->defer_cap * 2 : 64;
        prod->defer = sl_xrealloc(prod->defer, prod->defer_cap * sizeof *prod->defer);
    }
    prod->defer[prod->ndefer++] = (struct deferred){ prod->defer_buf.len, value.len, msg_opaque };
    if (sl_buf_append_slice(&prod->defer_buf, value) != SL_OK) {
        prod->ndefer--;
        return sl_fail(err, SL_ELIMIT, "event of %zu bytes too large to queue", value.len);
    }
    prod->inflight++;
    return SL_OK;
}

void collect_producer_flush(struct collect_producer *prod)
{
    bool failed = false;
    for (size_t i = 0; i < prod->ndefer; i++) {
        const struct deferred *d = &prod->defer[i];
        if (rd_kafka_produce(prod->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             prod->defer_buf.data + d->off, d->len, NULL, 0, d->opaque) == 0)
            continue;
        /* Not accepted by librdkafka: report it now, as a failed delivery. */
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        char reason[160];
        snprintf(reason, sizeof reason, "%s",
                 e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "producer queue full" : rd_kafka_err2str(e));
        prod->inflight--;
        prod->errors++;
        prod->fn(d->opaque, e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? SL_ELIMIT : SL_EIO, reason,
                 prod->arg);
        failed = true;
    }
    prod->ndefer = 0;
    sl_buf_reset(&prod->defer_buf);
    if (failed) /* the replies just queued must not wait for another event */
        sl_ev_wakeup(prod->ev);
}

int64_t collect_producer_inflight(const struct collect_producer *prod)
{
    return prod->inflight;
}

uint64_t collect_producer_errors(const struct collect_producer *prod)
{
    return prod->errors;
}
