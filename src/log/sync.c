/*
 * sync.c: the background group commit (log_store_sync_start/_finish).
 *
 * Under flush=always an fdatasync on the event loop stalls everything for
 * its whole length (0.6 ms for a small append on this kind of disk, over
 * 10 ms for megabytes), so the producer's next requests pile up in the
 * socket while the disk works, and every Fetch and Metadata waits too.
 * Here one thread per store runs the fdatasyncs while the loop keeps
 * receiving and appending; the next sync then covers all that arrived
 * meanwhile.
 *
 * The thread only ever touches the descriptors it was given (dup()s of the
 * active segments), never a segment or partition: a roll, a retention
 * delete or a topic delete on the loop cannot pull a file from under it.
 * What a sync made durable (each partition's end when it began, the store's
 * ticket) is applied on the loop thread, by log_store_sync_finish().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "log/log_int.h"

int log_syncer_init(struct log_syncer *s, struct sl_error *err)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->event_fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot create the log sync eventfd");
    return SL_OK;
}

static void *sync_main(void *arg)
{
    struct log_syncer *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->ready && !s->quit)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->quit)
            break;
        s->ready = false;
        pthread_mutex_unlock(&s->mu);
        int err_no = 0;
        size_t at = 0;
        for (; at < s->nitems; at++) {
            if (fdatasync(s->items[at].fd) < 0) {
                err_no = errno;
                break;
            }
        }
        pthread_mutex_lock(&s->mu);
        s->err_no = err_no;
        s->err_at = at;
        s->done = true;
        pthread_cond_broadcast(&s->cv);
        uint64_t one = 1;
        /* The counter cannot overflow: the loop reads it before the next sync. */
        if (write(s->event_fd, &one, sizeof one) < 0)
            sl_warn("log sync: cannot signal the event loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void close_items(struct log_syncer *s)
{
    for (size_t i = 0; i < s->nitems; i++)
        close(s->items[i].fd);
    s->nitems = 0;
}

int log_store_sync_start(struct log_store *store, int64_t now_ms, struct sl_error *err)
{
    struct log_syncer *s = &store->syncer;
    if (s->running)
        return 0;
    if (store->ndirty == 0) /* what is not dirty is durable, or gone with its topic */
        store->synced = store->ticket;
    if (log_store_sync_due(store, now_ms) != 0)
        return 0;
    if (!s->started) {
        int rc = pthread_create(&s->thread, NULL, sync_main, s);
        if (rc != 0)
            return sl_fail(err, SL_EIO, "cannot start the log sync thread: %s", strerror(rc));
        s->started = true;
    }
    if (s->cap < store->ndirty) {
        s->cap = store->ndirty;
        s->items = sl_xrealloc(s->items, s->cap * sizeof *s->items);
    }
    for (size_t i = 0; i < store->ndirty; i++) {
        if (log_partition_sync_begin(store->dirty[i], &s->items[i], err) < 0) {
            /* Those begun count as clean, and are still on the dirty list. */
            for (size_t k = 0; k < i; k++)
                log_partition_sync_undo(store->dirty[k]);
            close_items(s);
            return SL_EIO;
        }
        s->nitems = i + 1;
    }
    store->ndirty = 0;
    s->ticket = store->ticket;
    s->running = true;
    pthread_mutex_lock(&s->mu);
    s->done = false;
    s->ready = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

int log_store_sync_fd(const struct log_store *store)
{
    return store->syncer.event_fd;
}

int log_store_sync_finish(struct log_store *store, struct sl_error *err)
{
    struct log_syncer *s = &store->syncer;
    uint64_t n;
    if (read(s->event_fd, &n, sizeof n) < 0 && errno != EAGAIN)
        sl_warn("log sync: cannot read the eventfd: %s", strerror(errno));
    if (!s->running)
        return 0;
    pthread_mutex_lock(&s->mu);
    bool done = s->done;
    int err_no = s->err_no;
    size_t at = s->err_at;
    pthread_mutex_unlock(&s->mu);
    if (!done)
        return 0;
    s->running = false;
    if (err_no != 0) {
        const struct log_sync_item *it = &s->items[at];
        errno = err_no;
        sl_fail_errno(err, SL_EIO, "cannot fdatasync segment %020" PRId64 " of '%s'",
                      it->seg_base, it->part ? it->part->dir : "a deleted topic");
        close_items(s);
        return SL_EIO;
    }
    for (size_t i = 0; i < s->nitems; i++)
        if (s->items[i].part)
            log_partition_sync_done(s->items[i].part, &s->items[i]);
    close_items(s);
    if (s->ticket > store->synced)
        store->synced = s->ticket;
    return 1;
}

int log_syncer_settle(struct log_store *store, struct sl_error *err)
{
    struct log_syncer *s = &store->syncer;
    if (!s->running)
        return SL_OK;
    pthread_mutex_lock(&s->mu);
    while (!s->done)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    int rc = log_store_sync_finish(store, err);
    return rc < 0 ? rc : SL_OK;
}

void log_syncer_forget(struct log_syncer *s, const struct log_topic *topic)
{
    for (size_t i = 0; i < s->nitems; i++)
        if (s->items[i].part && s->items[i].part->topic == topic)
            s->items[i].part = NULL;
}

void log_syncer_free(struct log_syncer *s)
{
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->quit = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    close_items(s);
    free(s->items);
    if (s->event_fd >= 0)
        close(s->event_fd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}
