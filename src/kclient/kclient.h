/*
 * kclient.h: thin, reusable Kafka clients on librdkafka — a producer that
 * waits for delivery reports, a bounded or following partition reader, and
 * topic administration. Used by `sluice produce`, `sluice consume`,
 * `sluice topics` and `sluice extract`; works against any Kafka-protocol
 * broker, ours or a real cluster.
 *
 * Conventions shared by every call below:
 *   - Handles are created with kclient_<x>_new() (caller owns; NULL on
 *     failure with the reason in err) and freed with kclient_<x>_free()
 *     (NULL-safe). A handle is used from one thread at a time; librdkafka's
 *     own threads never call back into the caller except where said.
 *   - `props` everywhere is an optional NULL-terminated array of
 *     "name=value" librdkafka properties applied last, so callers can tune
 *     anything (e.g. "compression.codec=zstd", "linger.ms=0"). An unknown
 *     property fails the constructor with SL_EUSAGE.
 *   - Failures return an enum sl_err and record one git-style line in err:
 *     SL_EUSAGE (bad configuration), SL_ENOTFOUND (no such topic or
 *     partition), SL_EEXIST (topic exists), SL_EIO (broker unreachable,
 *     timed out, or refused the request; the broker's error name is quoted).
 *   - librdkafka's log lines go to the sluice logger at debug level.
 */
#ifndef KCLIENT_KCLIENT_H
#define KCLIENT_KCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

#define KCLIENT_PARTITION_ANY (-1)   /* produce: let the partitioner choose */
#define KCLIENT_PARTITION_ALL (-1)   /* consume: every partition of the topic */

#define KCLIENT_OFFSET_BEGINNING (-2) /* the earliest retained offset */
#define KCLIENT_OFFSET_END (-1)       /* the high watermark at kclient_consumer_new():
                                         every message produced after it returns */

#define KCLIENT_TIMEOUT_MS 10000 /* default for metadata and admin requests */

/* ------------------------------------------------------------------ producer */

struct kclient_producer;

/*
 * Called once per message on the thread that calls kclient_produce() or
 * kclient_producer_flush() (delivery reports are served there, never on a
 * librdkafka thread). `code` is SL_OK when the broker acknowledged the
 * message at `offset`; otherwise SL_EIO and `reason` says why (borrowed,
 * valid during the call). `msg_opaque` is what kclient_produce() was given.
 */
typedef void kclient_delivery_fn(void *opaque, void *msg_opaque, int code,
                                 const char *reason, int32_t partition, int64_t offset);

struct kclient_producer_conf {
    const char *bootstrap;   /* "host:port[,host:port]"; required */
    const char *acks;        /* "0", "1", "-1"/"all"; NULL: "all" (librdkafka's default) */
    int delivery_timeout_ms; /* give up on a message after this; 0: 30000 */
    kclient_delivery_fn *on_delivery; /* optional per-message report */
    void *opaque;                     /* passed to on_delivery */
    const char *const *props;         /* optional, see the top of this file */
};

struct kclient_producer_stats {
    int64_t queued;    /* messages accepted by kclient_produce() */
    int64_t delivered; /* acknowledged by the broker */
    int64_t failed;    /* delivery reports with an error */
};

struct kclient_producer *kclient_producer_new(const struct kclient_producer_conf *conf,
                                              struct sl_error *err);
/* Flush nothing, drop undelivered messages, free. NULL-safe. */
void kclient_producer_free(struct kclient_producer *prod);

/*
 * Queue one message; key and value are copied, so the caller's bytes may be
 * reused at once. A slice with p == NULL is a null key / null value (a
 * tombstone); a non-NULL empty slice is an empty one. partition is
 * KCLIENT_PARTITION_ANY or a partition id. Blocks (serving delivery
 * reports) while librdkafka's queue is full. Returns SL_OK, or SL_ENOTFOUND
 * / SL_EIO when the message cannot even be queued (it is not counted).
 */
int kclient_produce(struct kclient_producer *prod, const char *topic, int32_t partition,
                    struct sl_slice key, struct sl_slice value, void *msg_opaque,
                    struct sl_error *err);

/*
 * Wait until every queued message has a delivery report (or timeout_ms
 * passes; < 0 waits as long as delivery_timeout_ms allows). Returns SL_OK if
 * all were delivered, else SL_EIO with "N of M messages not delivered: <first
 * reason>".
 */
int kclient_producer_flush(struct kclient_producer *prod, int timeout_ms,
                           struct sl_error *err);

void kclient_producer_stats(const struct kclient_producer *prod,
                            struct kclient_producer_stats *stats);

/* ------------------------------------------------------------------ consumer */

/*
 * A reader of one topic's partitions by explicit assignment (no consumer
 * group, no committed offsets). At kclient_consumer_new() it looks up the
 * partitions and, when stop_at_end is set, each partition's high watermark;
 * it then reads each partition from its start offset up to that watermark
 * (exclusive) and reports the end. Messages produced after the start are not
 * returned in that mode. Without stop_at_end it keeps following.
 */
struct kclient_consumer;

enum kclient_ts_type {
    KCLIENT_TS_NONE = 0,
    KCLIENT_TS_CREATE = 1, /* set by the producer */
    KCLIENT_TS_APPEND = 2, /* set by the broker (LogAppendTime) */
};

struct kclient_msg {
    struct sl_slice value;   /* borrowed until the next call; p NULL: null value */
    struct sl_slice key;     /* borrowed likewise; p NULL: no key */
    const char *topic;       /* borrowed: owned by the consumer */
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;    /* ms since the epoch, UTC; -1 if none */
    enum kclient_ts_type ts_type;
};

struct kclient_consumer_conf {
    const char *bootstrap;   /* required */
    const char *topic;       /* required; must exist (SL_ENOTFOUND otherwise) */
    int32_t partition;       /* KCLIENT_PARTITION_ALL or one partition id */
    int64_t start;           /* KCLIENT_OFFSET_BEGINNING, KCLIENT_OFFSET_END, or an
                                absolute offset >= 0 for every partition read */
    const int64_t *start_offsets; /* optional, borrowed during _new(): per-partition
                                     start indexed by partition id, overriding start;
                                     entries < -2 mean "use start" */
    int32_t n_start_offsets;      /* entries in start_offsets */
    bool stop_at_end;        /* stop at the high watermarks seen at start */
    int64_t max_messages;    /* stop after this many messages; 0: no limit */
    int timeout_ms;          /* metadata/watermark requests; 0: KCLIENT_TIMEOUT_MS */
    const char *const *props; /* optional, see the top of this file */
};

struct kclient_consumer *kclient_consumer_new(const struct kclient_consumer_conf *conf,
                                              struct sl_error *err);
/* Close the connections and free. NULL-safe. */
void kclient_consumer_free(struct kclient_consumer *cons);

/*
 * Wait up to timeout_ms (< 0: forever) for the next message. Returns 1 with
 * *msg filled (its bytes valid until the next call or _free), 0 when the
 * reader is done (every partition reached its end in stop_at_end mode, or
 * max_messages were returned), SL_EAGAIN when the timeout passed first, or
 * SL_EIO / SL_ENOTFOUND for an error that ends the reading (offset out of
 * range is not one: librdkafka resets to the earliest offset).
 * Within a partition, offsets are strictly increasing.
 */
int kclient_consumer_next(struct kclient_consumer *cons, struct kclient_msg *msg,
                          int timeout_ms, struct sl_error *err);

/* Partitions being read, and the count of partitions in the topic. */
int32_t kclient_consumer_partitions(const struct kclient_consumer *cons);

/*
 * The [low, high) watermarks recorded at start for partition id `partition`
 * (only in stop_at_end mode; otherwise both are -1). SL_ENOTFOUND if the
 * partition is not being read.
 */
int kclient_consumer_watermarks(const struct kclient_consumer *cons, int32_t partition,
                                int64_t *low, int64_t *high);

/*
 * Ask the broker now for the [low, high) watermarks of `partition` (any
 * partition of the topic). Used to drain a following reader up to what the
 * broker holds at shutdown. Blocks up to timeout_ms; SL_OK or an error.
 */
int kclient_consumer_query_watermarks(struct kclient_consumer *cons, int32_t partition,
                                      int64_t *low, int64_t *high, int timeout_ms,
                                      struct sl_error *err);

/*
 * Callback form of the loop above: call fn for each message until done.
 * fn returns 0 to go on or a non-zero value to stop early (which is then
 * returned). `*stop` (optional) is polled about every 100 ms, so a signal
 * handler can end a following reader; it returns SL_OK then.
 */
typedef int kclient_msg_fn(void *opaque, const struct kclient_msg *msg);
int kclient_consume(const struct kclient_consumer_conf *conf, kclient_msg_fn *fn,
                    void *opaque, volatile const int *stop, struct sl_error *err);

/* --------------------------------------------------------------------- admin */

struct kclient_admin;

struct kclient_partition_info {
    int32_t id;
    int32_t leader;   /* broker id, -1 if none */
    int32_t *replicas; /* owned: broker ids */
    int n_replicas;
    int32_t *isrs;     /* owned: in-sync broker ids */
    int n_isrs;
    int err;           /* SL_OK, or SL_EIO if the broker reported an error */
};

struct kclient_topic_info {
    char *name;                            /* owned */
    struct kclient_partition_info *parts;  /* owned, sorted by id */
    int n_parts;
    int replication;                       /* replicas of partition 0, 0 if none */
    char *configs; /* owned: "NAME=VALUE,..." set for this topic (as kafka-topics shows) */
};

struct kclient_admin *kclient_admin_new(const char *bootstrap, const char *const *props,
                                        struct sl_error *err);
void kclient_admin_free(struct kclient_admin *admin);

/* CreateTopics; SL_EEXIST (with a message) if the topic already exists.
 * replication < 1 means the broker's default. `configs` (NULL-terminated
 * "NAME=VALUE" strings, or NULL) are the topic's configs, e.g. retention.ms;
 * SL_EUSAGE for one without '='. */
int kclient_topic_create(struct kclient_admin *admin, const char *topic, int partitions,
                         int replication, const char *const *configs, int timeout_ms,
                         struct sl_error *err);
/* DeleteTopics; SL_ENOTFOUND if there is no such topic. */
int kclient_topic_delete(struct kclient_admin *admin, const char *topic, int timeout_ms,
                         struct sl_error *err);
/* Metadata and the configs set for one topic (DescribeConfigs);
 * SL_ENOTFOUND if it does not exist. Release info with
 * kclient_topic_info_release(). */
int kclient_topic_describe(struct kclient_admin *admin, const char *topic, int timeout_ms,
                           struct kclient_topic_info *info, struct sl_error *err);
void kclient_topic_info_release(struct kclient_topic_info *info);
/* Names of all topics (internal "__" topics included), sorted. *names is an
 * owned array of owned strings; free with kclient_names_free(). */
int kclient_topic_list(struct kclient_admin *admin, int timeout_ms, char ***names, int *n,
                       struct sl_error *err);
void kclient_names_free(char **names, int n);

/* ---------------------------------------------------------------- formatting */

/*
 * Message formats in the style of `kcat -f`: %s value, %S value length in
 * bytes (-1 if null), %k key, %K key length (-1 if null), %t topic,
 * %p partition, %o offset, %T timestamp in ms (-1 if none), %% a percent
 * sign; escapes \n, \t, \r and \\. A null key or value prints as nothing.
 */
#define KCLIENT_FORMAT_DEFAULT "%s\n"

/* SL_OK, or SL_EUSAGE naming the first unknown % or \ sequence. */
int kclient_format_check(const char *fmt, struct sl_error *err);
/* Append msg as fmt (already checked) says to out; SL_OK or SL_ELIMIT. */
int kclient_format(struct sl_buf *out, const char *fmt, const struct kclient_msg *msg);

/* ------------------------------------------------------------ consumer group */
/*
 * A member of consumer group `group` subscribed to `topic` (librdkafka's
 * high-level consumer): partitions are assigned by the group and change on
 * rebalances; each partition starts at the group's committed offset, or at
 * `start` (beginning or end) when it has none. A message returned by
 * kclient_group_consumer_next() is consumed once the next call (or close)
 * is made: then its offset + 1 is stored, committed every 5 s and at close
 * (group.c). Messages use struct kclient_msg as above.
 */
struct kclient_group_consumer;

struct kclient_group_conf {
    const char *bootstrap;    /* required */
    const char *group;        /* required: the group id */
    const char *topic;        /* required */
    int64_t start;            /* KCLIENT_OFFSET_BEGINNING or KCLIENT_OFFSET_END */
    bool stop_at_end;         /* done when every assigned partition reached its end */
    int64_t max_messages;     /* stop after this many messages; 0: no limit */
    const char *const *props; /* optional, see the top of this file */
};

struct kclient_group_consumer *kclient_group_consumer_new(const struct kclient_group_conf *conf,
                                                          struct sl_error *err);
/* As kclient_consumer_next(); also marks the previously returned message consumed. */
int kclient_group_consumer_next(struct kclient_group_consumer *gc, struct kclient_msg *msg,
                                int timeout_ms, struct sl_error *err);
/* Mark the last message consumed, commit synchronously, leave the group.
 * SL_OK or SL_EIO (the commit failed). The handle must still be freed. */
int kclient_group_consumer_close(struct kclient_group_consumer *gc, struct sl_error *err);
/* Close (ignoring errors) if not closed, and free. NULL-safe. */
void kclient_group_consumer_free(struct kclient_group_consumer *gc);

struct kclient_tp {
    char *topic; /* owned */
    int32_t partition;
};

struct kclient_group_member {
    char *member_id, *client_id, *host; /* owned */
    struct kclient_tp *assignment;      /* owned */
    int n_assignment;
};

struct kclient_group_offset {
    char *topic; /* owned */
    int32_t partition;
    int64_t committed; /* the next offset the group will consume */
    int64_t high;      /* the partition's high watermark, -1 if unknown; lag = high - committed */
};

struct kclient_group_info {
    char *group, *state, *protocol;        /* owned */
    struct kclient_group_member *members;  /* owned */
    int n_members;
    struct kclient_group_offset *offsets;  /* owned: partitions with a committed offset */
    int n_offsets;
};

/*
 * Describe consumer group `group`, or every group when NULL (sorted by
 * name): state, assignor, members with their assignments, committed offsets
 * and high watermarks. *groups is owned by the caller: kclient_groups_free().
 */
int kclient_groups_describe(const char *bootstrap, const char *group, const char *const *props,
                            int timeout_ms, struct kclient_group_info **groups, int *n,
                            struct sl_error *err);
void kclient_groups_free(struct kclient_group_info *groups, int n);

#endif
