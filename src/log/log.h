/*
 * log.h: the on-disk partition log, the durable heart of `sluice broker`.
 *
 * A store is a data directory of topics; a topic has N partitions; a partition
 * is a sequence of segment files holding record batches exactly as producers
 * sent them (compressed batches stay compressed), with broker-assigned offsets
 * patched into bytes 0-7. Each segment has a sparse offset index and a time
 * index. The broker appends Produce batches, serves Fetch by handing out
 * (fd, position, length) ranges of whole batches for sendfile(), and answers
 * ListOffsets. Design notes, directory layout and the durability invariants
 * are at the top of src/log/log.c and in docs/internals/log.md.
 *
 * Durability and acknowledgement (group commit). Every append returns a
 * store-wide, increasing `sync ticket`. log_store_synced() is the highest
 * ticket whose append is durable under the flush policy:
 *   - LOG_FLUSH_INTERVAL (default, every 1000 ms; Kafka's semantics): an
 *     append counts as durable once written (pwrite), so the broker
 *     acknowledges it at once: it survives a crash of the process (the page
 *     cache holds it), not a crash of the machine. log_store_sync()
 *     fdatasyncs the dirty segments once `flush_interval_ms` has passed since
 *     the oldest unsynced append; the broker also calls it from a timer
 *     armed by log_store_sync_due(), so an idle loop syncs on time too.
 *   - LOG_FLUSH_ALWAYS: an append is written (pwrite) at once, and becomes
 *     durable when log_store_sync(), or a background sync (below), has
 *     fdatasync'ed its segment. The broker starts background syncs from the
 *     event loop's before-sleep hook and acknowledges acks=-1 and acks=1
 *     produces whose ticket <= synced: acknowledged data survives a power
 *     loss.
 *   - LOG_FLUSH_OS: appends count as durable once written; never fsynced
 *     (except when a segment rolls or the store closes).
 * The high watermark (what Fetch may return) advances with the same rule: it
 * is the log end offset of the durable data.
 *
 * Offsets: log start offset (first stored), high watermark (HW, readable
 * end), log end offset (LEO, next offset to assign). start <= HW <= LEO.
 *
 * Threading: a store and everything in it are used from one thread (the
 * broker's event loop). Calls block on disk I/O (pwrite; fdatasync in
 * log_store_sync() and rolls); the store's own sync thread only runs the
 * fdatasyncs of log_store_sync_start(), on descriptors of its own.
 *
 * File descriptors: three per active segment (.log, .index, .timeindex), one
 * per older segment, plus one per log_read in flight; a broker with many
 * partitions should raise RLIMIT_NOFILE.
 *
 * Ownership: the store owns its topics, partitions and segments. Pointers to
 * topics and partitions returned by lookups are borrowed and stay valid until
 * that topic is deleted or the store is closed.
 */
#ifndef LOG_LOG_H
#define LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kafka/batch.h"

struct log_store;     /* a data directory */
struct log_topic;     /* a named topic with N partitions */
struct log_partition; /* one partition: its segments and offsets */

enum log_flush {
    LOG_FLUSH_ALWAYS = 0,   /* fdatasync before acknowledging (group commit) */
    LOG_FLUSH_INTERVAL = 1, /* acknowledge once written; fdatasync within flush_interval_ms */
    LOG_FLUSH_OS = 2,       /* leave it to the page cache */
};

#define LOG_SEGMENT_BYTES_DEFAULT ((int64_t)1 << 30) /* 1 GiB */
#define LOG_SEGMENT_BYTES_MAX ((int64_t)INT32_MAX)   /* index positions are u32 */
#define LOG_SEGMENT_MS_DEFAULT ((int64_t)7 * 24 * 3600 * 1000)
#define LOG_RETENTION_MS_DEFAULT ((int64_t)7 * 24 * 3600 * 1000)
#define LOG_INDEX_INTERVAL_DEFAULT 4096
#define LOG_MAX_BATCH_BYTES_DEFAULT ((int64_t)1048588) /* Kafka message.max.bytes */
#define LOG_FLUSH_INTERVAL_MS_DEFAULT 1000
#define LOG_TOPIC_NAME_MAX 249
#define LOG_PARTITIONS_MAX 100000

/* Store-wide settings. Fill with log_config_default(), then override. */
struct log_config {
    int64_t segment_bytes; /* roll the active segment at this size; 1..LOG_SEGMENT_BYTES_MAX */
    int64_t segment_ms;    /* roll when the active segment's first batch is this old; <= 0: never */
    int64_t retention_bytes; /* per partition, whole old segments beyond it are deleted; < 0:
                                unlimited */
    int64_t retention_ms;    /* segments whose newest batch is older are deleted; < 0: unlimited */
    int64_t index_interval_bytes; /* bytes of log between index entries; >= 1 */
    int64_t max_batch_bytes;      /* appends larger than this fail with SL_ELIMIT */
    enum log_flush flush;         /* LOG_FLUSH_INTERVAL by default */
    int64_t flush_interval_ms;    /* for LOG_FLUSH_INTERVAL; >= 1 (default 1000) */
    /*
     * Hook for per-partition state kept by others (the idempotent-producer
     * table): called with a partition's user pointer when the partition is
     * freed (topic delete, store close). May be NULL.
     */
    void (*user_free)(void *user);
};

void log_config_default(struct log_config *cfg);

/*
 * Per-topic settings: Kafka's topic configs of the same names, given when a
 * topic is created (CreateTopics, `kafka-topics --config`) and kept in its
 * topic.conf. Each is LOG_INHERIT (the store's setting) or a value in range:
 *   segment.bytes      segment_bytes     1..LOG_SEGMENT_BYTES_MAX
 *   segment.ms         segment_ms        >= 1
 *   retention.bytes    retention_bytes   >= -1 (-1: unlimited)
 *   retention.ms       retention_ms      >= -1 (-1: unlimited)
 *   max.message.bytes  max_batch_bytes   KAFKA_BATCH_HEADER_SIZE..INT32_MAX
 */
#define LOG_INHERIT INT64_MIN
struct log_topic_config {
    int64_t segment_bytes, segment_ms, retention_bytes, retention_ms, max_batch_bytes;
};

/* Every setting LOG_INHERIT. */
void log_topic_config_inherit(struct log_topic_config *tc);

/*
 * Set the setting Kafka calls `name` from the decimal `value` (NULL:
 * LOG_INHERIT, as Kafka reads a null config value). Returns SL_OK,
 * SL_ENOTFOUND when `name` is not one of the five (err untouched), or
 * SL_EUSAGE with a message naming it for a value that is not an integer in
 * range.
 */
int log_topic_config_set(struct log_topic_config *tc, const char *name, const char *value,
                         struct sl_error *err);

/*
 * Parse a flush policy: "always", "os" or "interval=MS" into cfg->flush and
 * cfg->flush_interval_ms. Returns SL_OK or SL_EUSAGE with a message.
 */
int log_flush_parse(const char *text, struct log_config *cfg, struct sl_error *err);

/* ---- Store ---------------------------------------------------------------- */

/*
 * Open (creating it if missing) the data directory `dir`: load every topic,
 * recover every partition (validate and truncate a torn tail, rebuild missing
 * or inconsistent indexes, restore start/end offsets), and remove leftovers of
 * interrupted creates and deletes. `cfg` is copied; NULL means defaults.
 * Returns a new store (caller owns; log_store_close() it) or NULL with `err`
 * set (SL_EIO, SL_ECORRUPT for an unreadable topic config, SL_EUSAGE for a bad
 * config). Takes an exclusive lock on the directory (SL_EIO "in use" if held).
 */
struct log_store *log_store_open(const char *dir, const struct log_config *cfg,
                                 struct sl_error *err);

/* Sync everything, close every file and free the store. NULL-safe. */
void log_store_close(struct log_store *store);

/* The store's configuration (borrowed). */
const struct log_config *log_store_config(const struct log_store *store);

/*
 * Group commit. Make durable everything appended since the last call, per the
 * flush policy (ALWAYS: one fdatasync per dirty segment; INTERVAL: the same
 * once `flush_interval_ms` has passed since the oldest unsynced append, by
 * `now_ms` monotonic time; OS: nothing), then advance each partition's high
 * watermark and log_store_synced(). Cheap when nothing is dirty or nothing is
 * due. Under ALWAYS call it from the event loop's before-sleep hook, before
 * replies are written; under INTERVAL the replies need not wait for it. On an
 * fdatasync failure returns SL_EIO: nothing past the failure is acknowledged,
 * and since the page cache state is then unknown (fsyncgate), the broker
 * should stop rather than retry.
 */
int log_store_sync(struct log_store *store, int64_t now_ms, struct sl_error *err);

/*
 * Milliseconds from `now_ms` (monotonic) until log_store_sync() has an
 * fdatasync to do: 0 when one is due now (always the case under ALWAYS with
 * unsynced appends), -1 when none is pending (nothing dirty, or policy OS)
 * or a background sync is running (its end brings the caller back anyway).
 * Under INTERVAL the broker arms a timer with it.
 */
int64_t log_store_sync_due(const struct log_store *store, int64_t now_ms);

/*
 * Background group commit: the work of log_store_sync(), with the fdatasyncs
 * done on the store's sync thread, so that the caller's event loop goes on
 * appending and serving while the disk works (appends made meanwhile wait
 * for the next sync).
 *   log_store_sync_start() hands every dirty partition's active segment to
 *   the thread when a sync is due (as log_store_sync() decides) and none is
 *   running: 1 when it started one, 0 when not, or SL_EIO (nothing started)
 *   when a descriptor or the thread cannot be had.
 *   log_store_sync_fd() is a descriptor (owned by the store) that becomes
 *   readable when the thread is done; the caller watches it and then calls
 *   log_store_sync_finish(), which advances the high watermarks and
 *   log_store_synced() to what that sync made durable: 1 when it did, 0 when
 *   no sync had finished (a stale wakeup), or SL_EIO when an fdatasync
 *   failed (nothing of that sync is acknowledged; stop, as for
 *   log_store_sync()).
 * log_store_sync() and log_store_close() wait for a running sync first, and
 * a topic deleted while its segments are being synced is simply skipped.
 */
int log_store_sync_start(struct log_store *store, int64_t now_ms, struct sl_error *err);
int log_store_sync_fd(const struct log_store *store);
int log_store_sync_finish(struct log_store *store, struct sl_error *err);

/* Highest sync ticket that is durable (0 before any append). */
uint64_t log_store_synced(const struct log_store *store);
/* The ticket of the latest append: once it is synced, all appended so far is. */
uint64_t log_store_last_ticket(const struct log_store *store);

/* Whether some append is not yet durable. */
bool log_store_dirty(const struct log_store *store);

/*
 * Retention and time-based rolling for every partition, by wall time
 * `now_ms`: roll active segments older than segment_ms, and delete whole old
 * segments beyond retention_bytes or older than retention_ms (never data above
 * the high watermark), advancing log start offsets. Call it from a timer
 * (every few seconds to minutes). Returns the number of segments deleted
 * (>= 0) or an error.
 */
int log_store_retain(struct log_store *store, int64_t now_ms, struct sl_error *err);

/* ---- Topics --------------------------------------------------------------- */

/* Whether `name` is a legal topic name: 1-249 chars of [a-zA-Z0-9._-], not "." or "..". */
bool log_topic_name_valid(const char *name);

/*
 * Create topic `name` with `partitions` (1..LOG_PARTITIONS_MAX) empty
 * partitions and the settings `tc` (copied; NULL: all inherited), durably
 * (files and directories fsynced) and atomically (a crash leaves the topic
 * absent or whole). Returns SL_OK, SL_EEXIST, SL_EUSAGE for a bad name,
 * count or setting, or SL_EIO. `*topic` (may be NULL) gets the new topic.
 */
int log_store_topic_create(struct log_store *store, const char *name, int32_t partitions,
                           const struct log_topic_config *tc, struct log_topic **topic,
                           struct sl_error *err);

/*
 * Delete topic `name` and its files. Atomic: after a crash it is either whole
 * or gone. Every pointer into it (topic, partitions) becomes invalid. Returns
 * SL_OK, SL_ENOTFOUND or SL_EIO.
 */
int log_store_topic_delete(struct log_store *store, const char *name, struct sl_error *err);

/* The topic named `name`, or NULL. Borrowed. */
struct log_topic *log_store_topic(const struct log_store *store, const char *name);

/* Number of topics, and the i-th topic in name order (i < count). Borrowed. */
size_t log_store_topic_count(const struct log_store *store);
struct log_topic *log_store_topic_at(const struct log_store *store, size_t i);

const char *log_topic_name(const struct log_topic *topic); /* borrowed */
int32_t log_topic_partitions(const struct log_topic *topic);
/* The settings its partitions follow: the store's, with the topic's own
 * applied (borrowed). */
const struct log_config *log_topic_config(const struct log_topic *topic);
/* The topic's own settings (borrowed). */
const struct log_topic_config *log_topic_overrides(const struct log_topic *topic);
/*
 * Replace the topic's own settings with `tc` (copied; what it leaves
 * LOG_INHERIT goes back to the store's), durably: topic.conf is rewritten
 * beside the old one, fsynced and renamed over it. Partitions follow the new
 * settings from their next append or retention pass. Returns SL_OK, SL_EUSAGE
 * for a setting out of range (nothing changed) or SL_EIO (nothing changed).
 */
int log_topic_reconfigure(struct log_topic *topic, const struct log_topic_config *tc,
                          struct sl_error *err);
/* Partition `index` of the topic, or NULL when out of range. Borrowed. */
struct log_partition *log_topic_partition(const struct log_topic *topic, int32_t index);

/* Shorthand: partition `index` of topic `name`, or NULL. Borrowed. */
struct log_partition *log_store_partition(const struct log_store *store, const char *name,
                                          int32_t index);

/* ---- Partitions: offsets -------------------------------------------------- */

int64_t log_partition_start_offset(const struct log_partition *part);
int64_t log_partition_high_watermark(const struct log_partition *part);
int64_t log_partition_end_offset(const struct log_partition *part);
/* Partition index, and the owning topic (borrowed). */
int32_t log_partition_index(const struct log_partition *part);
struct log_topic *log_partition_topic(const struct log_partition *part);
/* Bytes stored in all segments, and number of segments. */
int64_t log_partition_size(const struct log_partition *part);
size_t log_partition_segment_count(const struct log_partition *part);

/* ---- Partitions: append --------------------------------------------------- */

struct log_append_info {
    int64_t base_offset; /* first offset assigned */
    int64_t last_offset; /* base_offset + last_offset_delta */
    int64_t log_start_offset;
    uint64_t ticket; /* durable once log_store_synced() >= ticket */
};

/*
 * Append one record batch of `len` bytes at `bytes`. The caller has parsed it
 * (kafka_batch_parse: structure and CRC) and validated it
 * (kafka_batch_validate_produce); the log re-checks only the header and
 * `max_batch_bytes` (SL_ELIMIT). The log assigns offsets [LEO, LEO +
 * last_offset_delta], patches base_offset and partition_leader_epoch (0) in
 * place IN THE CALLER'S BUFFER, rolls the segment if it is full or old, and
 * writes the batch. The append is visible to Fetch once durable (see top).
 * Returns SL_OK with `*info` filled, or an error (SL_EIO: nothing was
 * appended; the partition stays usable).
 */
int log_partition_append(struct log_partition *part, uint8_t *bytes, size_t len,
                         struct log_append_info *info, struct sl_error *err);

/* ---- Partitions: read (Fetch) --------------------------------------------- */

struct log_read {
    int fd;               /* owned: a dup() of the segment file, or -1 when len == 0;
                             close with log_read_release() (or close()) */
    int64_t pos;          /* file position of the first byte */
    size_t len;           /* bytes: whole batches, 0 when nothing to return */
    int64_t first_offset; /* base offset of the first batch (<= requested offset) */
    int64_t next_offset;  /* last offset of the last batch returned + 1 */
    int64_t high_watermark;
    int64_t log_start_offset;
};

/*
 * Find the batches for a Fetch at `offset`: whole batches from the one that
 * contains `offset`, from one segment, below the high watermark, at most
 * `max_bytes` in total, except that the first batch is always returned whole
 * even when larger (KIP-74). The caller sends them with sendfile(rd->fd,
 * &rd->pos, rd->len) or pread(). The bytes stay readable through rd->fd even
 * if retention deletes the segment meanwhile.
 * Returns SL_OK (rd->len == 0 when HW <= offset <= LEO), or SL_ENOTFOUND when
 * offset < log start offset or offset > LEO (the broker answers
 * OFFSET_OUT_OF_RANGE), or SL_EIO / SL_ECORRUPT.
 */
int log_partition_read(struct log_partition *part, int64_t offset, int64_t max_bytes,
                       struct log_read *rd, struct sl_error *err);

/* Close rd->fd if open and set it to -1. NULL-safe. */
void log_read_release(struct log_read *rd);

/* ---- Partitions: ListOffsets ---------------------------------------------- */

/*
 * The first record (below the HW) whose timestamp is >= `timestamp` (ms): the
 * first batch whose max_timestamp >= timestamp is found with the time index,
 * then its records are scanned (decompressing if needed). Returns SL_OK with
 * `*offset` and `*record_ts`, SL_ENOTFOUND when there is none (the broker
 * answers offset -1, timestamp -1), or an error.
 */
int log_partition_offset_for_time(struct log_partition *part, int64_t timestamp, int64_t *offset,
                                  int64_t *record_ts, struct sl_error *err);

/* ---- Hooks for per-partition state (idempotent producers) ----------------- */

/* A slot for other modules' per-partition state; NULL until set. */
void *log_partition_user(const struct log_partition *part);
/* Set the slot; the old value is not freed. cfg.user_free frees it at the end. */
void log_partition_set_user(struct log_partition *part, void *user);

/*
 * Visit the header of every stored batch with last offset >= `from_offset`, in
 * offset order, below the LEO (recovery has already truncated torn batches).
 * `fn` gets the parsed header (`batch->bytes` and `batch->records` are empty:
 * only header fields are valid) and returns 0 to go on or non-zero to stop.
 * Used to rebuild producer state after log_store_open(). Returns SL_OK or an
 * error.
 */
typedef int log_batch_fn(const struct kafka_batch *batch, void *arg);
int log_partition_scan(struct log_partition *part, int64_t from_offset, log_batch_fn *fn, void *arg,
                       struct sl_error *err);

#endif
