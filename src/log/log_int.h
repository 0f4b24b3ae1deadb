/*
 * log_int.h: internals of src/log shared by its files (log.c: store and
 * topics, partition.c: append/read/retention, segment.c: one segment file
 * with its indexes, and recovery). Only src/log includes this header. The
 * design notes are at the top of log.c.
 */
#ifndef LOG_LOG_INT_H
#define LOG_LOG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "kafka/batch.h"
#include "log/log.h"

#define LOG_TS_NONE INT64_MIN /* max timestamp of an empty segment */
#define LOG_INDEX_ENTRY 8     /* .index: rel u32 BE, pos u32 BE */
#define LOG_TIME_ENTRY 12     /* .timeindex: ts i64 BE, rel u32 BE */
#define LOG_SCAN_CHUNK_RECOVER ((size_t)1 << 20)
#define LOG_SCAN_CHUNK_READ ((size_t)16 << 10)

/*
 * One sparse index entry; the .index and .timeindex files hold the same
 * entries in lockstep. Entry i says: the batch with base offset base + rel
 * starts at byte `pos`, and `ts` is the largest max_timestamp of all batches
 * of the segment up to and including that one (a running maximum, so the
 * entries are sorted by ts as well as by rel and pos).
 */
struct log_index_entry {
    uint32_t rel; /* batch base offset - segment base */
    uint32_t pos; /* byte position of the batch in the .log file */
    int64_t ts;   /* running max timestamp through this batch, ms */
};

struct log_segment {
    int64_t base;                /* base offset: the first offset it may hold; its file name */
    char *path;                  /* owned: "<partition dir>/<base %020>" without extension */
    int fd;                      /* owned: the .log file, read-write */
    int index_fd;                /* owned: .index; -1 once sealed (not active) */
    int time_fd;                 /* owned: .timeindex; -1 once sealed */
    int64_t size;                /* bytes of whole valid batches (the file may not be longer) */
    int64_t next_offset;         /* last offset stored + 1; == base when empty */
    int64_t max_ts;              /* largest batch max_timestamp; LOG_TS_NONE when empty */
    int64_t created_ms;          /* wall time its first batch was appended (or it was
                                    recovered), for segment_ms rolling */
    struct log_index_entry *idx; /* owned: nidx entries, sorted */
    size_t nidx, idx_cap;
    int64_t bytes_since_index; /* bytes appended since the last index entry */
    bool dirty;                /* written since the last fdatasync */
};

struct log_partition {
    struct log_topic *topic;   /* borrowed: owner */
    struct log_store *store;   /* borrowed: owner of the topic */
    int32_t index;             /* partition number */
    char *dir;                 /* owned: "<data>/topics/<topic>/<index>" */
    struct log_segment **segs; /* owned: nsegs segments, by base offset; last is active */
    size_t nsegs, segs_cap;
    int64_t hw;     /* high watermark: offsets < hw are durable and readable */
    int64_t hw_pos; /* bytes of the active segment below hw */
    bool dirty;     /* in store->dirty: active segment has unsynced writes */
    void *user;     /* borrowed slot for other modules (cfg.user_free frees) */
};

struct log_topic {
    struct log_store *store; /* borrowed: owner */
    char *name;              /* owned */
    char *dir;               /* owned: "<data>/topics/<name>" */
    struct log_topic_config over; /* its own settings, from topic.conf */
    struct log_config cfg;        /* the store's with `over` applied */
    int32_t nparts;
    struct log_partition **parts; /* owned: nparts partitions */
};

/* One partition of a background sync (sync.c). */
struct log_sync_item {
    struct log_partition *part; /* borrowed; NULL once its topic is deleted */
    int fd;                     /* owned: a dup() of the active segment's .log */
    int64_t seg_base;           /* that segment, and its end when the sync began: */
    int64_t next_offset;        /*   the high watermark the sync makes durable */
    int64_t size;
};

/*
 * The background group commit (sync.c). The loop thread owns the fields
 * outside `mu`; the sync thread reads `items` only between `ready` and
 * `done`, while the loop leaves them alone (but for clearing `part`, which
 * the thread never reads).
 */
struct log_syncer {
    pthread_t thread;
    bool started;   /* the thread exists */
    int event_fd;   /* owned: an eventfd, readable once a sync is done */
    bool running;   /* a sync was started and not finished */
    uint64_t ticket; /* store ticket when it started: synced once it is done */
    struct log_sync_item *items; /* owned: nitems partitions */
    size_t nitems, cap;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready, done, quit; /* under mu */
    int err_no;             /* under mu: errno of the first failed fdatasync, or 0 */
    size_t err_at;          /* under mu: its item */
};

struct log_store {
    char *dir;   /* owned: the data directory */
    int lock_fd; /* owned: flock'ed <dir>/.lock */
    struct log_config cfg;
    struct log_topic **topics; /* owned: sorted by name */
    size_t ntopics, topics_cap;
    struct log_partition **dirty; /* borrowed: partitions with unsynced appends */
    size_t ndirty, dirty_cap;
    uint64_t ticket;       /* last ticket handed out by an append */
    uint64_t synced;       /* every ticket <= synced is durable */
    int64_t dirty_since_ms; /* monotonic ms of the oldest unsynced append (ndirty > 0) */
    uint64_t trash_seq;    /* names deleted topics in trash/ uniquely */
    struct log_syncer syncer;
};

/* ---- segment.c ---- */

/* A bounded window over a file, for walking batches with few syscalls. */
struct log_scan {
    int fd;            /* borrowed */
    int64_t end;       /* never read at or past this position */
    size_t chunk;      /* preferred read size */
    struct sl_buf win; /* owned: bytes of the file from win_pos */
    int64_t win_pos;
};

void log_scan_init(struct log_scan *sc, int fd, int64_t end, size_t chunk);
void log_scan_release(struct log_scan *sc);
/* Point *p at file bytes [pos, pos+n): SL_OK, SL_EAGAIN past `end` or EOF, SL_EIO. */
int log_scan_get(struct log_scan *sc, int64_t pos, size_t n, const uint8_t **p,
                 struct sl_error *err);
/*
 * Read the batch header at `pos` (needs pos + 61 <= end and the whole batch
 * before `end`): returns the batch size, SL_EAGAIN when it runs past `end`,
 * or an error for a malformed header.
 */
int64_t log_scan_header(struct log_scan *sc, int64_t pos, struct kafka_batch *batch,
                        struct sl_error *err);

/* Write "<dir>/<base %020>" into a new string (caller frees). */
char *log_segment_path(const char *dir, int64_t base);

/* Create an empty segment (files truncated) with base offset `base`. */
struct log_segment *log_segment_create(const char *dir, int64_t base, int64_t now_ms,
                                       struct sl_error *err);
/*
 * Open an existing segment and recover it: `full` scans every batch with its
 * CRC (the active segment); otherwise only the batches after the last index
 * entry are checked. A torn or corrupt tail is truncated; a missing or
 * inconsistent index is rebuilt. `expected_base` is the offset the first batch
 * must have (the segment's own base).
 */
struct log_segment *log_segment_open(const char *dir, int64_t base, bool full,
                                     const struct log_config *cfg, int64_t now_ms,
                                     struct sl_error *err);
/* Close the files and free. NULL-safe. */
void log_segment_free(struct log_segment *seg);
/* Unlink the segment's files (then free it with log_segment_free). */
void log_segment_unlink(struct log_segment *seg);
/* Append an index entry in memory and in both index files. */
int log_segment_index_add(struct log_segment *seg, struct log_index_entry e, struct sl_error *err);
/* Close the index descriptors of a segment that will not be appended to. */
void log_segment_seal(struct log_segment *seg);
/* fdatasync the .log (and the index files when `indexes` and open); clears dirty. */
int log_segment_sync(struct log_segment *seg, bool indexes, struct sl_error *err);
/* Position of the batch to start a search for `offset` from (index lookup). */
int64_t log_segment_lookup(const struct log_segment *seg, int64_t offset);
/* Position to start a search for the first batch with max_timestamp >= ts. */
int64_t log_segment_lookup_time(const struct log_segment *seg, int64_t ts);

/* fsync a directory so that names created or removed in it are durable. */
int log_fsync_dir(const char *dir, struct sl_error *err);

/* ---- partition.c ---- */

struct log_partition *log_partition_open(struct log_topic *topic, int32_t index, const char *dir,
                                         struct sl_error *err);
void log_partition_free(struct log_partition *part);
/* Roll: sync the active segment and start a new one at the LEO. */
int log_partition_roll(struct log_partition *part, struct sl_error *err);
/* fdatasync the active segment and advance the HW to the LEO. */
int log_partition_sync(struct log_partition *part, struct sl_error *err);
/* Background sync of the active segment, begun: fill `item` (a dup() of
 * its .log, its end) and count it clean. SL_OK, or SL_EIO with nothing
 * changed. */
int log_partition_sync_begin(struct log_partition *part, struct log_sync_item *item,
                             struct sl_error *err);
/* ... undone (the sync did not start): the partition is dirty again. */
void log_partition_sync_undo(struct log_partition *part);
/* ... and done: advance the HW to the item's end, unless a roll moved past
 * that segment (the roll synced it and moved the HW itself). */
void log_partition_sync_done(struct log_partition *part, const struct log_sync_item *item);
/* Apply roll-by-age and retention; returns segments deleted or an error. */
int log_partition_retain(struct log_partition *part, int64_t now_ms, struct sl_error *err);

/* ---- log.c ---- */

/* Put a partition on the store's dirty list (once). */
void log_store_mark_dirty(struct log_store *store, struct log_partition *part);

/* ---- sync.c ---- */

/* Set up the syncer (no thread yet): SL_OK or SL_EIO. */
int log_syncer_init(struct log_syncer *s, struct sl_error *err);
/* Wait for a running sync and apply it (log_store_sync_finish); SL_OK if none. */
int log_syncer_settle(struct log_store *store, struct sl_error *err);
/* Stop the thread and free the syncer (after log_syncer_settle). */
void log_syncer_free(struct log_syncer *s);
/* The partitions of `topic` are going away: a running sync skips them. */
void log_syncer_forget(struct log_syncer *s, const struct log_topic *topic);

#endif
