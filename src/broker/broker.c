/*
 * broker.c: the broker's lifecycle and its event-loop hooks: the listener,
 * the before-sleep hook (starting a group commit, then waking parked
 * Fetches, then writing responses, then freeing closed connections), the
 * log's sync-done descriptor, the wakeup hook (stop requests, connections
 * with frames left to process) and the timers (retention, the interval
 * flush).
 *
 * The acknowledgement rule: an acks=1/-1 Produce is answered only once its
 * batch is durable under the flush policy (its response waits at a gate,
 * conn.c). Under --flush interval=MS (the default) that is once written, so
 * the answers go out in the iteration that appended, and the segments are
 * fdatasynced in the background once the oldest unsynced append is MS old
 * (a timer wakes an idle loop for it). Under --flush always the before-sleep
 * hook hands everything appended so far to the log's sync thread
 * (log_store_sync_start) and the loop goes on serving; when that sync is
 * done (on_synced) the answers it covers go out, and the next sync takes
 * all that arrived meanwhile, so many producers share one fdatasync
 * (design/limits.md: ~1.4 k syncs/s). See docs/internals/broker.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "broker/broker_int.h"

#define RETAIN_EVERY_MS 30000
#define ACCEPT_BURST 64

void broker_config_default(struct broker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = BROKER_LISTEN_DEFAULT;
    cfg->data_dir = BROKER_DATA_DEFAULT;
    cfg->auto_create = true;
    cfg->partitions = 1;
    cfg->max_request_bytes = BROKER_MAX_REQUEST_DEFAULT;
    log_config_default(&cfg->log);
}

/* ---- Topics -------------------------------------------------------------- */

char *broker_cstr(struct broker_conn *conn, struct sl_slice s)
{
    return sl_arena_strndup(&conn->arena, s.p ? (const char *)s.p : "", s.len);
}

struct log_topic *broker_topic(struct broker *b, struct sl_slice name, bool create,
                               int16_t *error_code)
{
    char buf[LOG_TOPIC_NAME_MAX + 1];
    if (!name.p || name.len == 0 || name.len > LOG_TOPIC_NAME_MAX ||
        memchr(name.p, 0, name.len)) {
        *error_code = name.len > LOG_TOPIC_NAME_MAX || (name.p && name.len)
                          ? KAFKA_INVALID_TOPIC_EXCEPTION
                          : KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    memcpy(buf, name.p, name.len);
    buf[name.len] = 0;
    struct log_topic *topic = log_store_topic(b->store, buf);
    if (topic) {
        *error_code = KAFKA_NONE;
        return topic;
    }
    if (!create || !b->cfg.auto_create) {
        *error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    if (!log_topic_name_valid(buf)) {
        *error_code = KAFKA_INVALID_TOPIC_EXCEPTION;
        return NULL;
    }
    struct sl_error err = { 0 };
    if (log_store_topic_create(b->store, buf, b->cfg.partitions, NULL, &topic, &err) != SL_OK) {
        sl_warn("cannot auto-create topic '%s': %s", buf, err.msg);
        *error_code = KAFKA_UNKNOWN_SERVER_ERROR;
        return NULL;
    }
    *error_code = KAFKA_NONE;
    return topic;
}

/* ---- Loop hooks ---------------------------------------------------------- */

static void on_accept(struct sl_ev *ev, int fd, int mask, void *arg)
{
    (void)ev;
    (void)mask;
    struct broker *b = arg;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        char peer[64];
        int cfd = sl_net_accept(fd, peer, sizeof peer);
        if (cfd == SL_EAGAIN)
            return;
        if (cfd < 0) {
            /* EMFILE and friends: keep serving the connections we have. */
            sl_warn("accept failed: %s", strerror(errno));
            return;
        }
        broker_conn_new(b, cfd, peer);
    }
}

/* A log sync failed. fsyncgate: the page cache state is unknown; acknowledge
 * nothing more and stop (log.h). */
static void sync_failed(struct sl_ev *ev, struct broker *b, const struct sl_error *err)
{
    sl_error("log sync failed, stopping: %s", err->msg);
    b->failed = true;
    b->fail_err = *err;
    sl_ev_stop(ev);
}

/* The log's sync thread is done: what it covered is durable, so the answers
 * waiting for it may go (before_sleep writes them) and parked Fetches may
 * see the new high watermarks. */
static void on_synced(struct sl_ev *ev, int fd, int mask, void *arg)
{
    (void)fd;
    (void)mask;
    struct broker *b = arg;
    struct sl_error err = { 0 };
    int rc = log_store_sync_finish(b->store, &err);
    if (rc < 0)
        sync_failed(ev, b, &err);
    else if (rc > 0)
        b->appended = true;
}

static void on_flush_due(struct sl_ev *ev, void *arg);

static void before_sleep(struct sl_ev *ev, void *arg)
{
    struct broker *b = arg;
    if (b->failed)
        return;
    /* A group commit, if one is due and none is running: under flush=always
     * at once, so that the disk works while this iteration's answers to
     * other requests go out. */
    struct sl_error err = { 0 };
    if (log_store_sync_start(b->store, sl_clock_mono_ms(), &err) < 0) {
        sync_failed(ev, b, &err);
        return;
    }
    if (b->appended && b->nheld) {
        b->appended = false;
        for (struct broker_conn *conn = b->conns; conn; conn = conn->next)
            if (conn->state == BROKER_CONN_HELD && conn->held->wake_on_append)
                broker_held_try(conn, false);
    }
    b->appended = false;
    for (struct broker_conn *conn = b->conns; conn; conn = conn->next)
        if (conn->out.len > conn->out_sent || conn->nsplices)
            broker_conn_flush(conn);
    broker_conn_reap(b);
    /* flush=interval: a timer makes an idle loop sync on time as well. */
    if (b->cfg.log.flush == LOG_FLUSH_INTERVAL && !b->flush_timer) {
        int64_t due = log_store_sync_due(b->store, sl_clock_mono_ms());
        if (due >= 0)
            b->flush_timer = sl_ev_timer_add(ev, due > 0 ? due : 1, on_flush_due, b);
    }
}

static void on_wakeup(struct sl_ev *ev, void *arg)
{
    struct broker *b = arg;
    if (b->stop_requested) {
        sl_ev_stop(ev);
        return;
    }
    for (struct broker_conn *conn = b->conns; conn; conn = conn->next) {
        if (conn->resume) {
            conn->resume = false;
            broker_conn_process(conn);
        }
    }
}

static void on_retain(struct sl_ev *ev, void *arg)
{
    struct broker *b = arg;
    struct sl_error err = { 0 };
    int n = log_store_retain(b->store, sl_clock_wall_ms(), &err);
    if (n < 0)
        sl_warn("retention failed: %s", err.msg);
    else if (n > 0)
        sl_info("retention deleted %d segment%s", n, n == 1 ? "" : "s");
    b->retain_timer = sl_ev_timer_add(ev, RETAIN_EVERY_MS, on_retain, b);
}

/* flush=interval: the oldest unsynced append is due; the before-sleep hook
 * that follows syncs it, and re-arms the timer if appends are left. */
static void on_flush_due(struct sl_ev *ev, void *arg)
{
    (void)ev;
    struct broker *b = arg;
    b->flush_timer = 0;
}

/* ---- Lifecycle ----------------------------------------------------------- */

static bool wildcard(const char *host)
{
    return !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* A stable, non-null cluster id (pitfall 8): derived from the data
 * directory's absolute path, so a restart on the same data keeps it. */
static void make_cluster_id(struct broker *b)
{
    char path[PATH_MAX];
    const char *p = realpath(b->cfg.data_dir, path) ? path : b->cfg.data_dir;
    uint32_t h1 = sl_crc32c(0, p, strlen(p));
    uint32_t h2 = sl_crc32c(h1 ^ 0x5a5a5a5a, p, strlen(p));
    snprintf(b->cluster_id, sizeof b->cluster_id, "sluice-%08x%08x", h1, h2);
}

struct broker *broker_new(const struct broker_config *cfg, struct sl_error *err)
{
    struct broker *b = sl_xcalloc(1, sizeof *b);
    b->cfg = *cfg;
    b->listen_fd = -1;
    if (!b->cfg.listen)
        b->cfg.listen = BROKER_LISTEN_DEFAULT;
    if (!b->cfg.data_dir)
        b->cfg.data_dir = BROKER_DATA_DEFAULT;
    if (b->cfg.partitions < 1 || b->cfg.partitions > LOG_PARTITIONS_MAX) {
        sl_fail(err, SL_EUSAGE, "partitions must be 1..%d", LOG_PARTITIONS_MAX);
        goto fail;
    }
    if (b->cfg.max_request_bytes < 64 || b->cfg.max_request_bytes > INT32_MAX) {
        sl_fail(err, SL_EUSAGE, "max request bytes must be 64..%d", INT32_MAX);
        goto fail;
    }
    int lport;
    if (sl_net_hostport_parse(b->cfg.listen, b->listen_host, &lport, err) != SL_OK)
        goto fail;
    if (b->cfg.advertise &&
        sl_net_hostport_parse(b->cfg.advertise, b->adv_host, &b->adv_port, err) != SL_OK)
        goto fail;

    b->cfg.log.user_free = broker_producer_state_free; /* idempotent-producer tables */
    b->store = log_store_open(b->cfg.data_dir, &b->cfg.log, err);
    if (!b->store)
        goto fail;
    make_cluster_id(b);
    b->ev = sl_ev_new(err);
    if (!b->ev)
        goto fail;
    if (broker_coordinator_open(b, err) != SL_OK)
        goto fail;
    b->listen_fd = sl_net_listen(b->cfg.listen, 1024, err);
    if (b->listen_fd < 0)
        goto fail;
    b->port = sl_net_local_port(b->listen_fd);
    if (!b->cfg.advertise) {
        b->adv_per_conn = wildcard(b->listen_host);
        snprintf(b->adv_host, sizeof b->adv_host, "%s",
                 b->adv_per_conn ? "127.0.0.1" : b->listen_host);
        b->adv_port = b->port;
    }
    if (sl_ev_fd_add(b->ev, b->listen_fd, SL_EV_READ, on_accept, b, err) != SL_OK ||
        sl_ev_fd_add(b->ev, log_store_sync_fd(b->store), SL_EV_READ, on_synced, b, err) != SL_OK)
        goto fail;
    sl_ev_before_sleep(b->ev, before_sleep, b);
    sl_ev_on_wakeup(b->ev, on_wakeup, b);
    b->retain_timer = sl_ev_timer_add(b->ev, RETAIN_EVERY_MS, on_retain, b);
    return b;
fail:
    broker_free(b);
    return NULL;
}

int broker_port(const struct broker *b)
{
    return b->port;
}

void broker_stop(struct broker *b)
{
    b->stop_requested = 1;
    sl_ev_wakeup(b->ev);
}

int broker_run(struct broker *b, struct sl_error *err)
{
    sl_info("broker listening on %s:%d, advertising %s:%d, data in '%s' (%zu topics)",
            b->listen_host, b->port, b->adv_per_conn ? "<local address>" : b->adv_host,
            b->adv_port, b->cfg.data_dir, log_store_topic_count(b->store));
    int rc = sl_ev_run(b->ev, err);
    /* Stop accepting; answer what is answered; make the log durable. */
    if (b->listen_fd >= 0) {
        sl_ev_fd_del(b->ev, b->listen_fd);
        close(b->listen_fd);
        b->listen_fd = -1;
    }
    if (b->failed) {
        sl_fail(err, b->fail_err.code, "%s", b->fail_err.msg);
        return b->fail_err.code;
    }
    struct sl_error serr = { 0 };
    if (log_store_sync(b->store, INT64_MAX / 2, &serr) != SL_OK) {
        sl_fail(err, serr.code, "%s", serr.msg);
        return serr.code;
    }
    for (struct broker_conn *conn = b->conns; conn; conn = conn->next)
        if (conn->out.len > conn->out_sent || conn->nsplices)
            broker_conn_flush(conn);
    sl_info("broker stopped");
    return rc;
}

void broker_free(struct broker *b)
{
    if (!b)
        return;
    while (b->conns) {
        broker_conn_close(b->conns, NULL);
        broker_conn_free(b->conns);
    }
    if (b->listen_fd >= 0)
        close(b->listen_fd);
    broker_coordinator_close(b);
    sl_ev_free(b->ev);
    log_store_close(b->store);
    free(b);
}
