/*
 * log.c: the partition-log store: a data directory of topics, their
 * partitions, group commit and retention. The broker (src/broker) owns one
 * store, appends Produce batches to it, serves Fetch from it with sendfile(),
 * and starts a background group commit (sync.c) from its event loop's
 * before-sleep hook.
 *
 * ====================== NOTES ON THE DESIGN OF THE LOG ======================
 *
 * Definitions
 *   batch      a Kafka RecordBatch v2, stored byte for byte as the producer
 *              sent it except base_offset (bytes 0-7) and leader epoch
 *              (12-15), which the CRC does not cover.
 *   segment    <base>.log: whole batches, back to back, offsets increasing
 *              without gaps from <base>; <base>.index and <base>.timeindex:
 *              sparse entries (see log_int.h) every index_interval_bytes.
 *   active     the last segment of a partition, the only one appended to.
 *   LEO        log end offset: the offset the next append gets.
 *   HW         high watermark: offsets below it are acknowledged-durable and
 *              readable by Fetch. hw_pos is its byte position in the active
 *              segment.
 *   start      log start offset: the base of the first segment.
 *   ticket     a store-wide append counter; log_store_synced() is the highest
 *              ticket whose append is durable under the flush policy.
 *
 * Data directory layout
 *   <data>/.lock                       flock()ed while a store is open
 *   <data>/topics/<topic>/topic.conf   "format=1\npartitions=N\n" and a line
 *                                      "NAME=V" per topic setting (Kafka's
 *                                      names); fsynced before the rename
 *                                      below; log_topic_reconfigure replaces
 *                                      it through topic.conf.new
 *   <data>/topics/<topic>/<p>/<base %020>.log, .index, .timeindex
 *   <data>/tmp/<topic>/                a topic being created (removed on open)
 *   <data>/trash/<topic>.<n>/          a topic being deleted (removed on open)
 *
 * Invariants
 *   1. start <= HW <= LEO, and every batch in every segment is whole, has a
 *      valid CRC, and its base offset is the previous batch's last offset + 1
 *      (the first batch's is the segment base).
 *   2. Under flush=always, an offset is acknowledged (its ticket <= synced,
 *      and it is below the HW) only after fdatasync of the segment holding it
 *      has returned; the segment's file name is durable (directory fsynced at
 *      creation) before any byte in it is appended.
 *   3. Only the active segment can hold unsynced bytes: a roll fdatasyncs the
 *      old segment and its indexes before the new one is created.
 *   4. Indexes are hints. Every entry points at a batch boundary of its own
 *      segment; on open they are checked against the .log and rebuilt when
 *      missing, torn or inconsistent, never trusted over the .log.
 *   5. Retention deletes only whole non-active segments, oldest first, and
 *      only data below the HW; start advances to the next segment's base.
 *   6. A topic exists on disk iff topics/<name>/topic.conf exists: creation
 *      builds it in tmp/ and renames it in; deletion renames it to trash/
 *      first. Both renames are followed by an fsync of the parent directory.
 *
 * What recovery (log_store_open) does
 *   - empties tmp/ and trash/ (interrupted creates and deletes);
 *   - per partition: removes index files whose .log is gone; scans the
 *     active segment from byte 0, checking each batch's length, magic, CRC
 *     and offset continuity, and truncates the file at the first batch that
 *     fails (a torn tail: a crash mid-write, garbage, zeros after an ext4
 *     crash); for older segments checks the index and scans only the batches
 *     after its last entry (a full scan if the index is bad), truncating the
 *     same way; rewrites indexes that differ from the scan; fdatasyncs the
 *     active segment; sets HW = LEO = the end of the surviving batches and
 *     start = the first segment's base.
 *   Everything truncated was never acknowledged under flush=always, by 2.
 *
 * States of an appended batch and the transitions
 *
 *     pwrite ──log_partition_append──▶ WRITTEN (LEO advanced; not readable)
 *        │                                   │ log_store_sync(), or the sync
 *        │                                   │ thread's fdatasync then
 *        │                                   │ log_store_sync_finish()
 *        │                                   ▼
 *        │                       DURABLE (HW advanced, ticket <= synced:
 *        │                                the broker acknowledges, Fetch serves)
 *        │                                   │ log_partition_roll()
 *        │                                   ▼
 *        │                       SEALED (in a non-active segment)
 *        │                                   │ log_store_retain()
 *        │                                   ▼
 *        │                       DELETED (start advanced)
 *        └─ crash while WRITTEN ──▶ truncated by recovery, or kept whole
 *
 *   Under flush=interval (the default) and flush=os, WRITTEN and DURABLE
 *   coincide at append (the page cache holds the data, so a kill -9 of the
 *   broker loses nothing acknowledged), and log_store_sync() fdatasyncs once
 *   the oldest unsynced append is flush_interval_ms old (interval) or never
 *   (os): a machine crash can lose the acknowledged appends of the last
 *   interval, which is what those policies trade for speed. Kafka's default
 *   makes the same trade.
 *
 * Not here yet: idempotent-producer state. log_partition_user() holds it,
 * log_partition_scan() rebuilds it from batch headers after open, and
 * cfg.user_free() frees it.
 * ===========================================================================
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "log/log_int.h"

/* ===== MARK: configuration =============================================== */

void log_config_default(struct log_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->segment_bytes = LOG_SEGMENT_BYTES_DEFAULT;
    cfg->segment_ms = LOG_SEGMENT_MS_DEFAULT;
    cfg->retention_bytes = -1;
    cfg->retention_ms = LOG_RETENTION_MS_DEFAULT;
    cfg->index_interval_bytes = LOG_INDEX_INTERVAL_DEFAULT;
    cfg->max_batch_bytes = LOG_MAX_BATCH_BYTES_DEFAULT;
    cfg->flush = LOG_FLUSH_INTERVAL;
    cfg->flush_interval_ms = LOG_FLUSH_INTERVAL_MS_DEFAULT;
    cfg->user_free = NULL;
}

int log_flush_parse(const char *text, struct log_config *cfg, struct sl_error *err)
{
    if (strcmp(text, "always") == 0) {
        cfg->flush = LOG_FLUSH_ALWAYS;
        return SL_OK;
    }
    if (strcmp(text, "os") == 0) {
        cfg->flush = LOG_FLUSH_OS;
        return SL_OK;
    }
    if (strncmp(text, "interval=", 9) == 0) {
        char *end;
        errno = 0;
        long long ms = strtoll(text + 9, &end, 10);
        if (errno == 0 && end != text + 9 && *end == '\0' && ms >= 1 && ms <= 3600 * 1000) {
            cfg->flush = LOG_FLUSH_INTERVAL;
            cfg->flush_interval_ms = ms;
            return SL_OK;
        }
    }
    return sl_fail(err, SL_EUSAGE, "bad flush policy '%s' (expected always, os or interval=MS)",
                   text);
}

static int config_check(const struct log_config *cfg, struct sl_error *err)
{
    if (cfg->segment_bytes < 1 || cfg->segment_bytes > LOG_SEGMENT_BYTES_MAX)
        return sl_fail(err, SL_EUSAGE, "segment size %" PRId64 " out of range", cfg->segment_bytes);
    if (cfg->index_interval_bytes < 1)
        return sl_fail(err, SL_EUSAGE, "index interval must be at least 1 byte");
    if (cfg->max_batch_bytes < KAFKA_BATCH_HEADER_SIZE || cfg->max_batch_bytes > INT32_MAX)
        return sl_fail(err, SL_EUSAGE, "max batch size %" PRId64 " out of range",
                       cfg->max_batch_bytes);
    if (cfg->flush == LOG_FLUSH_INTERVAL && cfg->flush_interval_ms < 1)
        return sl_fail(err, SL_EUSAGE, "flush interval must be at least 1 ms");
    return SL_OK;
}

/* Kafka's name of each per-topic setting, its fields (in struct
 * log_topic_config and struct log_config) and its range. */
static const struct {
    const char *name;
    size_t off, cfg_off;
    int64_t min, max;
} topic_settings[] = {
#define SETTING(name, field, min, max)                                                             \
    { name, offsetof(struct log_topic_config, field), offsetof(struct log_config, field), min, max }
    SETTING("segment.bytes", segment_bytes, 1, LOG_SEGMENT_BYTES_MAX),
    SETTING("segment.ms", segment_ms, 1, INT64_MAX),
    SETTING("retention.bytes", retention_bytes, -1, INT64_MAX),
    SETTING("retention.ms", retention_ms, -1, INT64_MAX),
    SETTING("max.message.bytes", max_batch_bytes, KAFKA_BATCH_HEADER_SIZE, INT32_MAX),
#undef SETTING
};
#define NTOPIC_SETTINGS (sizeof topic_settings / sizeof topic_settings[0])

static int64_t *topic_setting(struct log_topic_config *tc, size_t i)
{
    return (int64_t *)((char *)tc + topic_settings[i].off);
}

static int64_t topic_setting_value(const struct log_topic_config *tc, size_t i)
{
    return *(const int64_t *)((const char *)tc + topic_settings[i].off);
}

static bool topic_setting_in_range(size_t i, long long v)
{
    return v >= topic_settings[i].min && v <= topic_settings[i].max;
}

static int topic_setting_refused(size_t i, const char *value, struct sl_error *err)
{
    return sl_fail(err, SL_EUSAGE, "%s wants an integer from %" PRId64 " to %" PRId64 ", not '%s'",
                   topic_settings[i].name, topic_settings[i].min, topic_settings[i].max, value);
}

void log_topic_config_inherit(struct log_topic_config *tc)
{
    for (size_t i = 0; i < NTOPIC_SETTINGS; i++)
        *topic_setting(tc, i) = LOG_INHERIT;
}

int log_topic_config_set(struct log_topic_config *tc, const char *name, const char *value,
                         struct sl_error *err)
{
    for (size_t i = 0; i < NTOPIC_SETTINGS; i++) {
        if (strcmp(name, topic_settings[i].name) != 0)
            continue;
        if (!value) {
            *topic_setting(tc, i) = LOG_INHERIT;
            return SL_OK;
        }
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || !topic_setting_in_range(i, v))
            return topic_setting_refused(i, value, err);
        *topic_setting(tc, i) = v;
        return SL_OK;
    }
    return SL_ENOTFOUND;
}

/* The store's settings with the topic's own applied. */
static void topic_config_apply(struct log_config *cfg, const struct log_topic_config *tc)
{
    for (size_t i = 0; i < NTOPIC_SETTINGS; i++)
        if (topic_setting_value(tc, i) != LOG_INHERIT)
            *(int64_t *)((char *)cfg + topic_settings[i].cfg_off) = topic_setting_value(tc, i);
}

/* ===== MARK: paths and files ============================================= */

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = sl_xmalloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int mkdir_p1(const char *path, struct sl_error *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return sl_fail_errno(err, SL_EIO, "cannot create directory '%s'", path);
    return SL_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT)
        sl_warn("cannot remove '%s': %s", path, strerror(errno));
    return 0;
}

/* rm -rf path (best effort). */
static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove every entry of directory `dir` (best effort). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = path_join(dir, de->d_name);
        remove_tree(p);
        free(p);
    }
    closedir(d);
}

static int write_file_sync(const char *path, const char *text, struct sl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot create '%s'", path);
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    if (w != (ssize_t)n || fsync(fd) < 0) {
        int rc = sl_fail_errno(err, SL_EIO, "cannot write '%s'", path);
        close(fd);
        return rc;
    }
    close(fd);
    return SL_OK;
}

/* ===== MARK: topics in memory ============================================ */

bool log_topic_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > LOG_TOPIC_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void topic_free(struct log_topic *topic)
{
    if (!topic)
        return;
    for (int32_t i = 0; i < topic->nparts; i++)
        log_partition_free(topic->parts[i]);
    free(topic->parts);
    free(topic->name);
    free(topic->dir);
    free(topic);
}

/* Position of `name` in the sorted topic array, or where it would go. */
static size_t topic_slot(const struct log_store *store, const char *name, bool *found)
{
    size_t lo = 0, hi = store->ntopics;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(store->topics[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void topic_insert(struct log_store *store, struct log_topic *topic)
{
    bool found;
    size_t at = topic_slot(store, topic->name, &found);
    if (store->ntopics == store->topics_cap) {
        store->topics_cap = store->topics_cap ? store->topics_cap * 2 : 16;
        store->topics = sl_xrealloc(store->topics, store->topics_cap * sizeof *store->topics);
    }
    memmove(store->topics + at + 1, store->topics + at,
            (store->ntopics - at) * sizeof *store->topics);
    store->topics[at] = topic;
    store->ntopics++;
}

/* Read topic.conf: "partitions=N" and the topic's own settings ("NAME=V" in
 * Kafka's names) into *tc. Returns N (>= 1) or an error. */
static int32_t read_topic_conf(const char *path, struct log_topic_config *tc, struct sl_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sl_fail_errno(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
                             "cannot open topic config '%s'", path);
    log_topic_config_inherit(tc);
    char line[256];
    long long parts = -1;
    int rc = SL_OK;
    while (rc == SL_OK && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq || strncmp(line, "format=", 7) == 0)
            continue;
        *eq = '\0';
        if (strcmp(line, "partitions") == 0) {
            char *end;
            parts = strtoll(eq + 1, &end, 10);
            if (*end != '\0')
                parts = -1;
            continue;
        }
        struct sl_error serr = { 0 };
        rc = log_topic_config_set(tc, line, eq + 1, &serr);
        if (rc == SL_ENOTFOUND)
            rc = sl_fail(err, SL_ECORRUPT, "unknown setting '%s' in '%s'", line, path);
        else if (rc != SL_OK)
            rc = sl_fail(err, SL_ECORRUPT, "%s in '%s'", serr.msg, path);
    }
    fclose(f);
    if (rc != SL_OK)
        return rc;
    if (parts < 1 || parts > LOG_PARTITIONS_MAX)
        return sl_fail(err, SL_ECORRUPT, "bad or missing partition count in '%s'", path);
    return (int32_t)parts;
}

#define TOPIC_CONF_MAX (64 + NTOPIC_SETTINGS * 48)

/* topic.conf's text, as read_topic_conf() reads it: the partition count and
 * the settings of `tc` (NULL: none) that are not LOG_INHERIT, by Kafka's
 * names. SL_EUSAGE, naming it, for a setting out of range. */
static int topic_conf_text(int32_t partitions, const struct log_topic_config *tc,
                           char text[TOPIC_CONF_MAX], struct sl_error *err)
{
    int len = snprintf(text, TOPIC_CONF_MAX, "format=1\npartitions=%d\n", partitions);
    for (size_t i = 0; tc && i < NTOPIC_SETTINGS; i++) {
        int64_t v = topic_setting_value(tc, i);
        if (v == LOG_INHERIT)
            continue;
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, v);
        if (!topic_setting_in_range(i, v))
            return topic_setting_refused(i, num, err);
        len += snprintf(text + len, TOPIC_CONF_MAX - (size_t)len, "%s=%s\n",
                        topic_settings[i].name, num);
    }
    return SL_OK;
}

/* Load topic `name` from <data>/topics/<name>, recovering its partitions. */
static struct log_topic *topic_load(struct log_store *store, const char *name, struct sl_error *err)
{
    struct log_topic *topic = sl_xcalloc(1, sizeof *topic);
    topic->store = store;
    topic->name = sl_xstrdup(name);
    char *topics_dir = path_join(store->dir, "topics");
    topic->dir = path_join(topics_dir, name);
    free(topics_dir);
    char *conf = path_join(topic->dir, "topic.conf");
    int32_t n = read_topic_conf(conf, &topic->over, err);
    free(conf);
    conf = path_join(topic->dir, "topic.conf.new"); /* a reconfigure cut short */
    unlink(conf);
    free(conf);
    if (n < 0)
        goto fail;
    topic->cfg = store->cfg;
    topic_config_apply(&topic->cfg, &topic->over);
    topic->parts = sl_xcalloc((size_t)n, sizeof *topic->parts);
    for (int32_t i = 0; i < n; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        char *pdir = path_join(topic->dir, num);
        if (mkdir_p1(pdir, err) < 0) { /* a lost partition directory starts empty */
            free(pdir);
            goto fail;
        }
        topic->parts[i] = log_partition_open(topic, i, pdir, err);
        free(pdir);
        if (!topic->parts[i])
            goto fail;
        topic->nparts = i + 1;
    }
    return topic;
fail:
    topic_free(topic);
    return NULL;
}

/* ===== MARK: store ======================================================= */

struct log_store *log_store_open(const char *dir, const struct log_config *cfg,
                                 struct sl_error *err)
{
    struct log_store *store = sl_xcalloc(1, sizeof *store);
    store->lock_fd = -1;
    if (log_syncer_init(&store->syncer, err) < 0) {
        log_store_close(store);
        return NULL;
    }
    if (cfg)
        store->cfg = *cfg;
    else
        log_config_default(&store->cfg);
    store->dir = sl_xstrdup(dir);
    if (config_check(&store->cfg, err) < 0)
        goto fail;

    char *topics = path_join(dir, "topics"), *tmp = path_join(dir, "tmp"),
         *trash = path_join(dir, "trash"), *lock = path_join(dir, ".lock");
    int rc = mkdir_p1(dir, err);
    if (rc == SL_OK)
        rc = mkdir_p1(topics, err);
    if (rc == SL_OK)
        rc = mkdir_p1(tmp, err);
    if (rc == SL_OK)
        rc = mkdir_p1(trash, err);
    if (rc == SL_OK) {
        store->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (store->lock_fd < 0)
            rc = sl_fail_errno(err, SL_EIO, "cannot open '%s'", lock);
        else if (flock(store->lock_fd, LOCK_EX | LOCK_NB) < 0)
            rc = sl_fail(err, SL_EIO, "data directory '%s' is in use by another process", dir);
    }
    if (rc == SL_OK) {
        empty_dir(tmp);
        empty_dir(trash);
    }
    DIR *d = rc == SL_OK ? opendir(topics) : NULL;
    if (rc == SL_OK && !d)
        rc = sl_fail_errno(err, SL_EIO, "cannot open '%s'", topics);
    struct dirent *de;
    while (rc == SL_OK && (de = readdir(d)) != NULL) {
        if (!log_topic_name_valid(de->d_name))
            continue;
        struct sl_error terr = {0};
        struct log_topic *topic = topic_load(store, de->d_name, &terr);
        if (topic) {
            topic_insert(store, topic);
        } else if (terr.code == SL_ENOTFOUND) {
            /* Not made by us (creation renames topic.conf in atomically). */
            sl_warn("ignoring '%s/%s': %s", topics, de->d_name, terr.msg);
        } else {
            rc = sl_fail(err, terr.code, "%s", terr.msg);
        }
    }
    if (d)
        closedir(d);
    free(topics);
    free(tmp);
    free(trash);
    free(lock);
    if (rc < 0)
        goto fail;
    sl_info("opened data directory '%s': %zu topics", dir, store->ntopics);
    return store;
fail:
    log_store_close(store);
    return NULL;
}

void log_store_close(struct log_store *store)
{
    if (!store)
        return;
    struct sl_error err = {0};
    if (log_syncer_settle(store, &err) < 0) {
        sl_warn("%s", err.msg);
        sl_error_clear(&err);
    }
    log_syncer_free(&store->syncer);
    for (size_t i = 0; i < store->ntopics; i++) {
        struct log_topic *topic = store->topics[i];
        for (int32_t p = 0; p < topic->nparts; p++) {
            struct log_partition *part = topic->parts[p];
            struct log_segment *seg = part->segs[part->nsegs - 1];
            if (log_segment_sync(seg, true, &err) < 0) {
                sl_warn("%s", err.msg);
                sl_error_clear(&err);
            }
        }
        topic_free(topic);
    }
    free(store->topics);
    free(store->dirty);
    if (store->lock_fd >= 0)
        close(store->lock_fd); /* releases the flock */
    free(store->dir);
    free(store);
}

const struct log_config *log_store_config(const struct log_store *store)
{
    return &store->cfg;
}

void log_store_mark_dirty(struct log_store *store, struct log_partition *part)
{
    if (part->dirty)
        return;
    if (store->ndirty == 0) /* the oldest unsynced append: the interval runs from it */
        store->dirty_since_ms = sl_clock_mono_ms();
    if (store->ndirty == store->dirty_cap) {
        store->dirty_cap = store->dirty_cap ? store->dirty_cap * 2 : 16;
        store->dirty = sl_xrealloc(store->dirty, store->dirty_cap * sizeof *store->dirty);
    }
    store->dirty[store->ndirty++] = part;
    part->dirty = true;
}

int log_store_sync(struct log_store *store, int64_t now_ms, struct sl_error *err)
{
    if (log_syncer_settle(store, err) < 0)
        return SL_EIO;
    if (store->ndirty == 0) /* what is not dirty is durable, or gone with its topic */
        store->synced = store->ticket;
    if (log_store_sync_due(store, now_ms) != 0)
        return SL_OK;
    /* One fdatasync per dirty partition (its active segment, invariant 3). A
     * failure leaves that partition and the rest on the list; nothing past
     * the last successful call is acknowledged. */
    size_t i = 0;
    int rc = SL_OK;
    for (; i < store->ndirty; i++) {
        rc = log_partition_sync(store->dirty[i], err);
        if (rc < 0)
            break;
    }
    memmove(store->dirty, store->dirty + i, (store->ndirty - i) * sizeof *store->dirty);
    store->ndirty -= i;
    if (rc < 0)
        return rc;
    store->synced = store->ticket;
    return SL_OK;
}

int64_t log_store_sync_due(const struct log_store *store, int64_t now_ms)
{
    if (store->cfg.flush == LOG_FLUSH_OS || store->ndirty == 0 || store->syncer.running)
        return -1;
    if (store->cfg.flush == LOG_FLUSH_ALWAYS)
        return 0;
    int64_t left = store->dirty_since_ms + store->cfg.flush_interval_ms - now_ms;
    return left > 0 ? left : 0;
}

uint64_t log_store_synced(const struct log_store *store)
{
    return store->synced;
}

uint64_t log_store_last_ticket(const struct log_store *store)
{
    return store->ticket;
}

bool log_store_dirty(const struct log_store *store)
{
    return store->ndirty > 0 || store->synced != store->ticket;
}

int log_store_retain(struct log_store *store, int64_t now_ms, struct sl_error *err)
{
    int total = 0;
    for (size_t i = 0; i < store->ntopics; i++) {
        struct log_topic *topic = store->topics[i];
        for (int32_t p = 0; p < topic->nparts; p++) {
            int n = log_partition_retain(topic->parts[p], now_ms, err);
            if (n < 0)
                return n;
            total += n;
        }
    }
    return total;
}

/* ===== MARK: topic create, delete, lookup ================================ */

int log_store_topic_create(struct log_store *store, const char *name, int32_t partitions,
                           const struct log_topic_config *tc, struct log_topic **out,
                           struct sl_error *err)
{
    if (out)
        *out = NULL;
    if (!log_topic_name_valid(name))
        return sl_fail(err, SL_EUSAGE, "invalid topic name '%s'", name);
    if (partitions < 1 || partitions > LOG_PARTITIONS_MAX)
        return sl_fail(err, SL_EUSAGE, "invalid partition count %d for topic '%s'", partitions,
                       name);
    if (log_store_topic(store, name))
        return sl_fail(err, SL_EEXIST, "topic '%s' already exists", name);
    char text[TOPIC_CONF_MAX];
    if (topic_conf_text(partitions, tc, text, err) != SL_OK)
        return SL_EUSAGE;

    char *tmp = path_join(store->dir, "tmp"), *topics = path_join(store->dir, "topics");
    char *stage = path_join(tmp, name), *final = path_join(topics, name);
    int rc = SL_OK;
    remove_tree(stage);
    rc = mkdir_p1(stage, err);
    for (int32_t i = 0; rc == SL_OK && i < partitions; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        char *pdir = path_join(stage, num);
        rc = mkdir_p1(pdir, err);
        if (rc == SL_OK) {
            struct log_segment *seg = log_segment_create(pdir, 0, sl_clock_wall_ms(), err);
            if (!seg)
                rc = SL_EIO;
            log_segment_free(seg);
        }
        if (rc == SL_OK)
            rc = log_fsync_dir(pdir, err);
        free(pdir);
    }
    if (rc == SL_OK) {
        char *conf = path_join(stage, "topic.conf");
        rc = write_file_sync(conf, text, err);
        free(conf);
    }
    if (rc == SL_OK)
        rc = log_fsync_dir(stage, err);
    if (rc == SL_OK && rename(stage, final) < 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot create topic '%s'", name);
    if (rc == SL_OK)
        rc = log_fsync_dir(topics, err);
    if (rc < 0) {
        remove_tree(stage);
    } else {
        struct log_topic *topic = topic_load(store, name, err);
        if (!topic) {
            rc = err && err->code ? err->code : SL_EIO;
        } else {
            topic_insert(store, topic);
            if (out)
                *out = topic;
            sl_info("created topic '%s' with %d partitions", name, partitions);
        }
    }
    free(tmp);
    free(topics);
    free(stage);
    free(final);
    return rc;
}

int log_store_topic_delete(struct log_store *store, const char *name, struct sl_error *err)
{
    bool found;
    size_t at = topic_slot(store, name, &found);
    if (!found)
        return sl_fail(err, SL_ENOTFOUND, "topic '%s' does not exist", name);
    struct log_topic *topic = store->topics[at];

    char *trash = path_join(store->dir, "trash"), *topics = path_join(store->dir, "topics");
    size_t n = strlen(trash) + strlen(name) + 32;
    char *gone = sl_xmalloc(n);
    snprintf(gone, n, "%s/%s.%" PRIu64, trash, name, ++store->trash_seq);
    int rc = SL_OK;
    remove_tree(gone);
    if (rename(topic->dir, gone) < 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot delete topic '%s'", name);
    if (rc == SL_OK)
        rc = log_fsync_dir(topics, err);
    if (rc == SL_OK) {
        /* Drop its partitions from the dirty list and a running sync, then free it. */
        log_syncer_forget(&store->syncer, topic);
        size_t k = 0;
        for (size_t i = 0; i < store->ndirty; i++)
            if (store->dirty[i]->topic != topic)
                store->dirty[k++] = store->dirty[i];
        store->ndirty = k;
        memmove(store->topics + at, store->topics + at + 1,
                (store->ntopics - at - 1) * sizeof *store->topics);
        store->ntopics--;
        topic_free(topic);
        remove_tree(gone);
        sl_info("deleted topic '%s'", name);
    }
    free(trash);
    free(topics);
    free(gone);
    return rc;
}

struct log_topic *log_store_topic(const struct log_store *store, const char *name)
{
    bool found;
    size_t at = topic_slot(store, name, &found);
    return found ? store->topics[at] : NULL;
}

size_t log_store_topic_count(const struct log_store *store)
{
    return store->ntopics;
}

struct log_topic *log_store_topic_at(const struct log_store *store, size_t i)
{
    return i < store->ntopics ? store->topics[i] : NULL;
}

const char *log_topic_name(const struct log_topic *topic)
{
    return topic->name;
}

int32_t log_topic_partitions(const struct log_topic *topic)
{
    return topic->nparts;
}

const struct log_config *log_topic_config(const struct log_topic *topic)
{
    return &topic->cfg;
}

const struct log_topic_config *log_topic_overrides(const struct log_topic *topic)
{
    return &topic->over;
}

int log_topic_reconfigure(struct log_topic *topic, const struct log_topic_config *tc,
                          struct sl_error *err)
{
    char text[TOPIC_CONF_MAX];
    if (topic_conf_text(topic->nparts, tc, text, err) != SL_OK)
        return SL_EUSAGE;
    /* Beside the old file, then renamed over it: a crash leaves one or the other. */
    char *conf = path_join(topic->dir, "topic.conf"), *next = path_join(topic->dir, "topic.conf.new");
    int rc = write_file_sync(next, text, err);
    if (rc == SL_OK && rename(next, conf) < 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot replace '%s'", conf);
    if (rc == SL_OK)
        rc = log_fsync_dir(topic->dir, err);
    if (rc != SL_OK) {
        unlink(next);
    } else {
        topic->over = *tc;
        topic->cfg = topic->store->cfg;
        topic_config_apply(&topic->cfg, &topic->over);
        sl_info("topic '%s' reconfigured", topic->name);
    }
    free(conf);
    free(next);
    return rc;
}

struct log_partition *log_topic_partition(const struct log_topic *topic, int32_t index)
{
    if (index < 0 || index >= topic->nparts)
        return NULL;
    return topic->parts[index];
}

struct log_partition *log_store_partition(const struct log_store *store, const char *name,
                                          int32_t index)
{
    struct log_topic *topic = log_store_topic(store, name);
    return topic ? log_topic_partition(topic, index) : NULL;
}
