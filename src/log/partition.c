/*
 * partition.c: one partition of a topic: its chain of segments, offsets,
 * append (with rolling), Fetch reads, ListOffsets by time, retention, and the
 * group-commit sync of its active segment. The invariants these functions keep
 * are numbered in the design notes at the top of log.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "log/log_int.h"

/* ===== MARK: helpers ===================================================== */

static struct log_segment *active(const struct log_partition *part)
{
    return part->segs[part->nsegs - 1];
}

static const struct log_config *cfg_of(const struct log_partition *part)
{
    return &part->topic->cfg;
}

static void segs_push(struct log_partition *part, struct log_segment *seg)
{
    if (part->nsegs == part->segs_cap) {
        part->segs_cap = part->segs_cap ? part->segs_cap * 2 : 8;
        part->segs = sl_xrealloc(part->segs, part->segs_cap * sizeof *part->segs);
    }
    part->segs[part->nsegs++] = seg;
}

/* Index of the last segment whose base <= offset (0 if none). */
static size_t seg_find(const struct log_partition *part, int64_t offset)
{
    size_t lo = 0, hi = part->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (part->segs[mid]->base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

/* Bytes of `seg` below the high watermark. */
static int64_t seg_visible(const struct log_partition *part, const struct log_segment *seg)
{
    return seg == active(part) ? part->hw_pos : seg->size;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parse "<20 digits><ext>"; returns the base offset or -1. */
static int64_t parse_seg_name(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n != 20 + e || strcmp(name + 20, ext) != 0)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

/* ===== MARK: open and free =============================================== */

void log_partition_free(struct log_partition *part)
{
    if (!part)
        return;
    for (size_t i = 0; i < part->nsegs; i++)
        log_segment_free(part->segs[i]);
    free(part->segs);
    if (part->user && part->store->cfg.user_free)
        part->store->cfg.user_free(part->user);
    free(part->dir);
    free(part);
}

struct log_partition *log_partition_open(struct log_topic *topic, int32_t index, const char *dir,
                                         struct sl_error *err)
{
    struct log_partition *part = sl_xcalloc(1, sizeof *part);
    part->topic = topic;
    part->store = topic->store;
    part->index = index;
    part->dir = sl_xstrdup(dir);
    const struct log_config *cfg = cfg_of(part);
    int64_t now = sl_clock_wall_ms();

    DIR *d = opendir(dir);
    if (!d) {
        sl_fail_errno(err, SL_EIO, "cannot open partition directory '%s'", dir);
        goto fail;
    }
    int64_t *bases = NULL;
    size_t nbases = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int64_t base = parse_seg_name(de->d_name, ".log");
        if (base < 0)
            continue;
        if (nbases == cap) {
            cap = cap ? cap * 2 : 16;
            bases = sl_xrealloc(bases, cap * sizeof *bases);
        }
        bases[nbases++] = base;
    }
    /* Index files whose .log is gone (an interrupted segment delete). */
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        int64_t base = parse_seg_name(de->d_name, ".index");
        if (base < 0)
            base = parse_seg_name(de->d_name, ".timeindex");
        if (base < 0)
            continue;
        bool found = false;
        for (size_t i = 0; i < nbases && !found; i++)
            found = bases[i] == base;
        if (!found) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
    qsort(bases, nbases, sizeof *bases, cmp_i64);

    if (nbases == 0) {
        struct log_segment *seg = log_segment_create(dir, 0, now, err);
        if (!seg || log_fsync_dir(dir, err) < 0) {
            log_segment_free(seg);
            free(bases);
            goto fail;
        }
        segs_push(part, seg);
    }
    for (size_t i = 0; i < nbases; i++) {
        bool last = i + 1 == nbases;
        struct log_segment *seg = log_segment_open(dir, bases[i], last, cfg, now, err);
        if (!seg) {
            free(bases);
            goto fail;
        }
        if (part->nsegs > 0 && active(part)->next_offset > seg->base)
            sl_warn("segment '%s' overlaps the one before it (ends at offset %" PRId64 ")",
                    seg->path, active(part)->next_offset);
        if (!last)
            log_segment_seal(seg);
        segs_push(part, seg);
    }
    free(bases);
    /* Whatever survived is the log; make it durable before serving it. */
    struct log_segment *seg = active(part);
    if (seg->size > 0 && log_segment_sync(seg, true, err) < 0)
        goto fail;
    part->hw = seg->next_offset;
    part->hw_pos = seg->size;
    return part;
fail:
    log_partition_free(part);
    return NULL;
}

/* ===== MARK: offsets ===================================================== */

int64_t log_partition_start_offset(const struct log_partition *part)
{
    return part->segs[0]->base;
}

int64_t log_partition_high_watermark(const struct log_partition *part)
{
    return part->hw;
}

int64_t log_partition_end_offset(const struct log_partition *part)
{
    return active(part)->next_offset;
}

int32_t log_partition_index(const struct log_partition *part)
{
    return part->index;
}

struct log_topic *log_partition_topic(const struct log_partition *part)
{
    return part->topic;
}

int64_t log_partition_size(const struct log_partition *part)
{
    int64_t n = 0;
    for (size_t i = 0; i < part->nsegs; i++)
        n += part->segs[i]->size;
    return n;
}

size_t log_partition_segment_count(const struct log_partition *part)
{
    return part->nsegs;
}

void *log_partition_user(const struct log_partition *part)
{
    return part->user;
}

void log_partition_set_user(struct log_partition *part, void *user)
{
    part->user = user;
}

/* ===== MARK: roll, sync, append ========================================== */

int log_partition_roll(struct log_partition *part, struct sl_error *err)
{
    struct log_segment *old = active(part);
    /* Invariant 3: a segment is durable, indexes included, before it stops
     * being active, so only active segments are ever dirty. */
    if (log_segment_sync(old, true, err) < 0)
        return SL_EIO;
    struct log_segment *seg =
        log_segment_create(part->dir, old->next_offset, sl_clock_wall_ms(), err);
    if (!seg)
        return SL_EIO;
    if (log_fsync_dir(part->dir, err) < 0) {
        log_segment_unlink(seg);
        log_segment_free(seg);
        return SL_EIO;
    }
    log_segment_seal(old);
    segs_push(part, seg);
    part->hw = seg->base;
    part->hw_pos = 0;
    sl_debug("rolled partition '%s' to segment %" PRId64, part->dir, seg->base);
    return SL_OK;
}

int log_partition_sync(struct log_partition *part, struct sl_error *err)
{
    struct log_segment *seg = active(part);
    if (seg->dirty && log_segment_sync(seg, false, err) < 0)
        return SL_EIO;
    part->hw = seg->next_offset;
    part->hw_pos = seg->size;
    part->dirty = false;
    return SL_OK;
}

int log_partition_sync_begin(struct log_partition *part, struct log_sync_item *item,
                             struct sl_error *err)
{
    struct log_segment *seg = active(part);
    int fd = fcntl(seg->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot dup segment '%s' for a sync", seg->path);
    *item = (struct log_sync_item){part, fd, seg->base, seg->next_offset, seg->size};
    seg->dirty = false;
    part->dirty = false;
    return SL_OK;
}

void log_partition_sync_undo(struct log_partition *part)
{
    active(part)->dirty = true;
    part->dirty = true;
}

void log_partition_sync_done(struct log_partition *part, const struct log_sync_item *item)
{
    if (active(part)->base == item->seg_base && item->next_offset > part->hw) {
        part->hw = item->next_offset;
        part->hw_pos = item->size;
    }
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, int64_t pos)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        pos += w;
    }
    return 0;
}

int log_partition_append(struct log_partition *part, uint8_t *bytes, size_t len,
                         struct log_append_info *info, struct sl_error *err)
{
    const struct log_config *cfg = cfg_of(part);
    struct kafka_batch b;
    int64_t size = kafka_batch_parse_header(sl_slice_make(bytes, len), &b, err);
    if (size == SL_EAGAIN)
        return sl_fail(err, SL_EPROTO, "cannot append a partial record batch of %zu bytes", len);
    if (size < 0)
        return (int)size;
    if ((size_t)size != len)
        return sl_fail(err, SL_EPROTO, "append takes one record batch, got %zu extra bytes",
                       len - (size_t)size);
    if ((int64_t)len > cfg->max_batch_bytes)
        return sl_fail(err, SL_ELIMIT,
                       "record batch of %zu bytes exceeds the %" PRId64 "-byte limit", len,
                       cfg->max_batch_bytes);

    struct log_segment *seg = active(part);
    int64_t now = sl_clock_wall_ms();
    int64_t leo = seg->next_offset;
    if (seg->size > 0 && ((int64_t)len > cfg->segment_bytes - seg->size ||
                          (cfg->segment_ms > 0 && now - seg->created_ms >= cfg->segment_ms) ||
                          leo + b.last_offset_delta - seg->base > (int64_t)INT32_MAX)) {
        if (log_partition_roll(part, err) < 0)
            return SL_EIO;
        seg = active(part);
    }
    if (seg->size == 0)
        seg->created_ms = now;

    kafka_batch_set_base_offset(bytes, leo);
    kafka_batch_set_leader_epoch(bytes, 0);
    if (pwrite_all(seg->fd, bytes, len, seg->size) < 0) {
        int e = errno;
        /* Cut what a short write left; later appends overwrite it anyway. */
        if (ftruncate(seg->fd, (off_t)seg->size) < 0)
            sl_warn("cannot truncate '%s.log' after a failed write", seg->path);
        errno = e;
        return sl_fail_errno(err, SL_EIO, "cannot append to segment '%s.log'", seg->path);
    }
    int64_t ts = b.max_timestamp > seg->max_ts ? b.max_timestamp : seg->max_ts;
    if (seg->bytes_since_index >= cfg->index_interval_bytes && seg->size > 0) {
        struct log_index_entry e = {(uint32_t)(leo - seg->base), (uint32_t)seg->size, ts};
        struct sl_error ierr = {0};
        /* The index is a hint, rebuilt on open: a failed write is not fatal. */
        if (log_segment_index_add(seg, e, &ierr) < 0)
            sl_warn("%s", ierr.msg);
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += (int64_t)len;
    seg->size += (int64_t)len;
    seg->next_offset = leo + b.last_offset_delta + 1;
    seg->max_ts = ts;
    seg->dirty = true;

    struct log_store *store = part->store;
    uint64_t ticket = ++store->ticket;
    if (cfg->flush == LOG_FLUSH_ALWAYS) {
        log_store_mark_dirty(store, part);
    } else {
        /* Durable "enough" once written: visible and acknowledged now. */
        part->hw = seg->next_offset;
        part->hw_pos = seg->size;
        store->synced = ticket;
        if (cfg->flush == LOG_FLUSH_INTERVAL)
            log_store_mark_dirty(store, part);
    }
    info->base_offset = leo;
    info->last_offset = leo + b.last_offset_delta;
    info->log_start_offset = log_partition_start_offset(part);
    info->ticket = ticket;
    return SL_OK;
}

/* ===== MARK: read ======================================================== */

/* Index of the last entry whose pos <= target, or -1. */
static ssize_t entry_by_pos(const struct log_segment *seg, int64_t target)
{
    size_t lo = 0, hi = seg->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)seg->idx[mid].pos <= target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ssize_t)lo - 1;
}

static int corrupt_at(struct sl_error *err, const struct log_segment *seg, int64_t pos,
                      const struct sl_error *why)
{
    if (why->code == SL_EIO)
        return sl_fail(err, SL_EIO, "%s", why->msg);
    return sl_fail(err, SL_ECORRUPT, "corrupt batch at byte %" PRId64 " of segment '%s.log': %s",
                   pos, seg->path, why->msg[0] ? why->msg : "truncated");
}

void log_read_release(struct log_read *rd)
{
    if (rd && rd->fd >= 0) {
        close(rd->fd);
        rd->fd = -1;
    }
}

int log_partition_read(struct log_partition *part, int64_t offset, int64_t max_bytes,
                       struct log_read *rd, struct sl_error *err)
{
    rd->fd = -1;
    rd->pos = 0;
    rd->len = 0;
    rd->first_offset = rd->next_offset = offset;
    rd->high_watermark = part->hw;
    rd->log_start_offset = log_partition_start_offset(part);
    int64_t leo = log_partition_end_offset(part);
    if (offset < rd->log_start_offset || offset > leo)
        return sl_fail(err, SL_ENOTFOUND,
                       "offset %" PRId64 " out of range [%" PRId64 ", %" PRId64 "] in '%s'", offset,
                       rd->log_start_offset, leo, part->dir);
    if (offset >= part->hw)
        return SL_OK;
    size_t i = seg_find(part, offset);
    while (i < part->nsegs && offset >= part->segs[i]->next_offset)
        i++; /* the offset is past this segment's data (end or a gap) */
    if (i == part->nsegs)
        return SL_OK;
    struct log_segment *seg = part->segs[i];
    int64_t visible = seg_visible(part, seg);
    int64_t target = offset < seg->base ? seg->base : offset;

    struct log_scan sc;
    log_scan_init(&sc, seg->fd, visible, LOG_SCAN_CHUNK_READ);
    struct kafka_batch b;
    struct sl_error why = {0};
    int rc = SL_OK;
    int64_t p = log_segment_lookup(seg, target), size;
    for (;;) {
        size = log_scan_header(&sc, p, &b, &why);
        if (size == SL_EAGAIN && p >= visible)
            goto out; /* nothing readable at or after the offset here */
        if (size < 0) {
            rc = corrupt_at(err, seg, p, &why);
            goto out;
        }
        if (kafka_batch_last_offset(&b) >= target)
            break;
        p += size;
    }
    int64_t start = p, end = p + size, next = kafka_batch_last_offset(&b) + 1;
    rd->first_offset = b.base_offset;
    if (max_bytes > size) {
        int64_t goal = max_bytes > visible - start ? visible : start + max_bytes;
        if (goal >= visible) {
            end = visible;
            next = seg == active(part) ? part->hw : seg->next_offset;
        } else {
            /* Jump to the last indexed batch before the goal, then walk. */
            ssize_t k = entry_by_pos(seg, goal);
            if (k >= 0 && (int64_t)seg->idx[k].pos > end) {
                end = seg->idx[k].pos;
                next = seg->base + seg->idx[k].rel;
            }
            for (;;) {
                size = log_scan_header(&sc, end, &b, &why);
                if (size < 0 || end + size > goal)
                    break;
                end += size;
                next = kafka_batch_last_offset(&b) + 1;
            }
        }
    }
    rd->fd = fcntl(seg->fd, F_DUPFD_CLOEXEC, 0);
    if (rd->fd < 0) {
        rc = sl_fail_errno(err, SL_EIO, "cannot dup segment '%s.log'", seg->path);
        goto out;
    }
    rd->pos = start;
    rd->len = (size_t)(end - start);
    rd->next_offset = next;
out:
    log_scan_release(&sc);
    return rc;
}

/* ===== MARK: ListOffsets by time ========================================= */

int log_partition_offset_for_time(struct log_partition *part, int64_t timestamp, int64_t *offset,
                                  int64_t *record_ts, struct sl_error *err)
{
    for (size_t i = 0; i < part->nsegs; i++) {
        struct log_segment *seg = part->segs[i];
        int64_t visible = seg_visible(part, seg);
        if (visible == 0 || seg->max_ts < timestamp)
            continue;
        struct log_scan sc;
        log_scan_init(&sc, seg->fd, visible, LOG_SCAN_CHUNK_READ);
        int64_t p = log_segment_lookup_time(seg, timestamp);
        int rc = SL_ENOTFOUND;
        while (p < visible) {
            struct kafka_batch b;
            struct sl_error why = {0};
            int64_t size = log_scan_header(&sc, p, &b, &why);
            if (size < 0) {
                rc = corrupt_at(err, seg, p, &why);
                break;
            }
            if (b.max_timestamp >= timestamp) {
                const uint8_t *bytes;
                int gr = log_scan_get(&sc, p, (size_t)size, &bytes, &why);
                if (gr < 0) {
                    rc = corrupt_at(err, seg, p, &why);
                    break;
                }
                struct kafka_batch full;
                struct kafka_batch_reader rdr;
                struct kafka_record rec;
                int nr = 0;
                if (kafka_batch_parse_header(sl_slice_make(bytes, (size_t)size), &full, &why) > 0 &&
                    kafka_batch_reader_init(&rdr, &full, 0, &why) == SL_OK) {
                    while ((nr = kafka_batch_reader_next(&rdr, &rec, &why)) == 1)
                        if (rec.timestamp >= timestamp)
                            break;
                } else {
                    nr = -1;
                }
                kafka_batch_reader_release(&rdr);
                if (nr == 1) {
                    *offset = rec.offset;
                    *record_ts = rec.timestamp;
                    rc = SL_OK;
                    break;
                }
                if (nr < 0) {
                    /* Unreadable records: the batch is still the answer. */
                    sl_warn("cannot scan records of batch at offset %" PRId64 " in '%s': %s",
                            b.base_offset, part->dir, why.msg);
                    *offset = b.base_offset;
                    *record_ts = b.max_timestamp;
                    rc = SL_OK;
                    break;
                }
            }
            p += size;
        }
        log_scan_release(&sc);
        if (rc != SL_ENOTFOUND)
            return rc;
    }
    return SL_ENOTFOUND;
}

/* ===== MARK: scan (producer-state rebuild) =============================== */

int log_partition_scan(struct log_partition *part, int64_t from_offset, log_batch_fn *fn, void *arg,
                       struct sl_error *err)
{
    for (size_t i = seg_find(part, from_offset); i < part->nsegs; i++) {
        struct log_segment *seg = part->segs[i];
        struct log_scan sc;
        log_scan_init(&sc, seg->fd, seg->size, LOG_SCAN_CHUNK_RECOVER);
        int64_t p = log_segment_lookup(seg, from_offset);
        int rc = SL_OK;
        bool stop = false;
        while (p < seg->size) {
            struct kafka_batch b;
            struct sl_error why = {0};
            int64_t size = log_scan_header(&sc, p, &b, &why);
            if (size < 0) {
                rc = corrupt_at(err, seg, p, &why);
                break;
            }
            if (kafka_batch_last_offset(&b) >= from_offset && fn(&b, arg) != 0) {
                stop = true;
                break;
            }
            p += size;
        }
        log_scan_release(&sc);
        if (rc < 0)
            return rc;
        if (stop)
            break;
    }
    return SL_OK;
}

/* ===== MARK: retention =================================================== */

/* Newest time of a segment for retention: its max timestamp, else its age. */
static int64_t seg_time(const struct log_segment *seg)
{
    return seg->max_ts >= 0 ? seg->max_ts : seg->created_ms;
}

int log_partition_retain(struct log_partition *part, int64_t now_ms, struct sl_error *err)
{
    const struct log_config *cfg = cfg_of(part);
    struct log_segment *seg = active(part);
    if (seg->size > 0) {
        bool old = cfg->segment_ms > 0 && now_ms - seg->created_ms >= cfg->segment_ms;
        bool expired = cfg->retention_ms >= 0 && seg_time(seg) < now_ms - cfg->retention_ms;
        if ((old || expired) && log_partition_roll(part, err) < 0)
            return SL_EIO;
    }
    int64_t total = log_partition_size(part);
    int deleted = 0;
    while (part->nsegs > 1) {
        seg = part->segs[0];
        bool expired = cfg->retention_ms >= 0 &&
                       (seg->size == 0 || seg_time(seg) < now_ms - cfg->retention_ms);
        bool oversize = cfg->retention_bytes >= 0 && total - cfg->retention_bytes >= seg->size;
        if (!expired && !oversize)
            break;
        if (seg->next_offset > part->hw)
            break; /* invariant 5: never drop what is not yet acknowledged */
        sl_info("deleting segment '%s.log' (%s)", seg->path, expired ? "age" : "size");
        log_segment_unlink(seg);
        total -= seg->size;
        log_segment_free(seg);
        memmove(part->segs, part->segs + 1, (part->nsegs - 1) * sizeof *part->segs);
        part->nsegs--;
        deleted++;
    }
    if (deleted && log_fsync_dir(part->dir, err) < 0)
        return SL_EIO;
    return deleted;
}
