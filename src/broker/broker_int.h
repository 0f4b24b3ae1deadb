/*
 * broker_int.h: private to src/broker. The broker, its connections, the
 * request dispatch table and the helpers handlers use to answer.
 *
 * Adding an API: write src/broker/handle_<Api>.c with broker_handle_<Api>(),
 * declare it below, and add a row { key, min, max, handler } to broker_apis[]
 * in dispatch.c. ApiVersions advertises exactly the rows of that table.
 */
#ifndef BROKER_BROKER_INT_H
#define BROKER_BROKER_INT_H

#include <signal.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/ev.h"
#include "broker/broker.h"
#include "kafka/groups.h"
#include "kafka/kafka.h"

struct broker_conn;

/* Stop processing a connection's requests while this much output is unsent. */
#define BROKER_OUT_HIGH_WATER ((size_t)16 << 20)

/* One file range of a Fetch response, sent with sendfile() at out position `at`. */
struct broker_splice {
    size_t at;   /* offset in conn->out.data where the file bytes belong */
    int fd;      /* owned: a dup of the segment file; closed once sent */
    int64_t pos; /* file position of the next byte to send */
    size_t len;  /* bytes left to send */
};

struct broker_req {
    struct kafka_RequestHeader hdr; /* slices borrow from the connection's rbuf */
    struct sl_slice body;           /* borrowed: the bytes after the header */
};

/*
 * A request parked on its connection until it can be answered: a long-polling
 * Fetch (until data arrives or max_wait_ms passes), and later a JoinGroup or
 * SyncGroup waiting for the rest of its group. While a request is parked, no
 * later request on that connection is processed (responses stay in order).
 */
struct broker_held;
/*
 * Answer the parked request now if possible, or in any case when `final`
 * (its deadline passed): append the response to conn->out and return true;
 * otherwise change nothing and return false.
 */
typedef bool broker_held_answer_fn(struct broker_conn *conn, struct broker_held *held,
                                   bool final);
/* Release the handler's state when the connection closes with it parked. */
typedef void broker_held_drop_fn(struct broker_conn *conn, struct broker_held *held);

struct broker_held {
    struct broker_req req;         /* borrowed from rbuf, which is frozen meanwhile */
    void *state;                   /* the handler's; in conn->arena or its own */
    broker_held_answer_fn *answer;
    broker_held_drop_fn *drop;     /* may be NULL */
    bool wake_on_append;           /* re-try after each group commit that followed an append */
    int64_t timer;                 /* sl_ev timer id of the deadline; 0 once fired */
};

/* Responses up to byte `end` of out wait for log ticket `ticket`. */
struct broker_gate {
    size_t end;
    uint64_t ticket;
};

enum broker_conn_state {
    BROKER_CONN_OPEN,    /* reading and answering requests in order */
    BROKER_CONN_HELD,    /* a Fetch is parked; later requests wait in rbuf */
    BROKER_CONN_CLOSING, /* marked; freed in the before-sleep hook */
};

struct broker_conn {
    struct broker *b;      /* borrowed: the owner */
    int fd;                /* owned */
    enum broker_conn_state state;
    char peer[64];         /* "ip:port", for log lines */
    char adv_host[256];    /* host advertised to this client */
    int adv_port;
    struct sl_buf rbuf;    /* owned: received bytes, capped at max_request + slack */
    size_t rpos;           /* start of the first unprocessed frame in rbuf */
    struct sl_arena arena; /* per-request memory; cleared after each answered request */
    struct sl_buf out;     /* owned: encoded responses, in request order */
    size_t out_sent;       /* bytes of out already written to the socket */
    size_t out_release;    /* bytes of out that may be written (<= out.len): the
                              rest waits for the group commit */
    struct broker_gate *gates; /* owned: ngates, in order: out_release may advance
                                  to gates[i].end once gates[i].ticket is durable */
    size_t ngates, capgates;
    struct broker_splice *splices; /* owned: pending file ranges, ordered by `at` */
    size_t nsplices, capsplices;
    struct broker_held *held;      /* owned: the parked request, when state is HELD */
    bool resume;           /* frames wait in rbuf: process them on the next wakeup */
    bool want_write;       /* WRITE interest registered */
    bool peer_eof;         /* the client shut its side: answer what arrived, then close */
    struct broker_conn *prev, *next; /* the broker's list of connections */
};

struct broker {
    struct broker_config cfg; /* copy; strings borrowed from the caller */
    struct log_store *store;  /* owned */
    struct sl_ev *ev;         /* owned */
    int listen_fd;            /* owned */
    int port;                 /* bound port */
    char listen_host[256];
    char adv_host[256];       /* from --advertise or the listen address */
    int adv_port;
    bool adv_per_conn;        /* wildcard listen, no --advertise: use each conn's local address */
    char cluster_id[40];
    struct broker_conn *conns; /* owned: every connection */
    size_t nconns;
    size_t nheld;              /* connections in state HELD */
    bool appended;             /* an append happened since parked requests were re-tried */
    bool failed;               /* a log sync failed: stop */
    struct sl_error fail_err;
    int64_t retain_timer, flush_timer;
    uint64_t dump_seq;
    struct broker_coordinator *coord; /* owned: the group coordinator (coordinator.c) */
    volatile sig_atomic_t stop_requested;
};

/* ---- Dispatch ------------------------------------------------------------ */

enum { BROKER_HOLD = 1 }; /* a handler parked the request (long-polling Fetch) */

/*
 * A handler answers one request: it decodes req->body, appends its response
 * frame to conn->out with broker_resp_begin/_end (or nothing, for acks=0),
 * and returns SL_OK, BROKER_HOLD after broker_conn_hold(), or
 * an sl_err (the connection is then closed with one log line, the message in
 * err). Handlers run on the loop thread; conn->arena holds their memory.
 */
typedef int broker_handler_fn(struct broker_conn *conn, const struct broker_req *req,
                              struct sl_error *err);

struct broker_api {
    int16_t api_key;
    int16_t min_version, max_version; /* advertised = implemented */
    broker_handler_fn *handle;
};

extern const struct broker_api broker_apis[];
extern const size_t broker_napis;

/* The advertised list for ApiVersions, built from broker_apis[]. */
void broker_api_versions(struct kafka_ApiVersion *out, size_t n);

/* Handle one complete request frame (bytes after the size). */
int broker_dispatch(struct broker_conn *conn, struct sl_slice frame, struct sl_error *err);

broker_handler_fn broker_handle_ApiVersions;
broker_handler_fn broker_handle_Metadata;
broker_handler_fn broker_handle_Produce;
broker_handler_fn broker_handle_Fetch;
broker_handler_fn broker_handle_ListOffsets;
broker_handler_fn broker_handle_CreateTopics;
broker_handler_fn broker_handle_DeleteTopics;
broker_handler_fn broker_handle_DescribeConfigs;
broker_handler_fn broker_handle_AlterConfigs;
broker_handler_fn broker_handle_FindCoordinator;
broker_handler_fn broker_handle_JoinGroup;
broker_handler_fn broker_handle_SyncGroup;
broker_handler_fn broker_handle_Heartbeat;
broker_handler_fn broker_handle_LeaveGroup;
broker_handler_fn broker_handle_OffsetCommit;
broker_handler_fn broker_handle_OffsetFetch;
broker_handler_fn broker_handle_ListGroups;
broker_handler_fn broker_handle_DescribeGroups;
broker_handler_fn broker_handle_InitProducerId;

/* ---- Answering ----------------------------------------------------------- */

/* Start a response frame for req in conn->out; returns its start. */
size_t broker_resp_begin(struct broker_conn *conn, const struct broker_req *req);

/*
 * Finish the frame started at `start` (`extra`: spliced file bytes). `ticket`
 * is the log ticket that must be durable before the response may be sent (0:
 * none). Responses leave in request order, so a later response also waits
 * for an earlier one's ticket.
 */
void broker_resp_end(struct broker_conn *conn, size_t start, size_t extra, uint64_t ticket);

/* The bytes now at the end of conn->out may go once `ticket` (0: none) is
 * durable and every response before them has gone (broker_resp_end's rule). */
void broker_resp_gate(struct broker_conn *conn, uint64_t ticket);

/* Queue a file range to be sent at the current end of conn->out; takes fd. */
void broker_conn_splice(struct broker_conn *conn, size_t at, int fd, int64_t pos, size_t len);

/* ---- Connections (conn.c) ------------------------------------------------ */

/* Accept callback helpers and lifecycle. */
struct broker_conn *broker_conn_new(struct broker *b, int fd, const char *peer);
/* Mark for closing (safe in any callback); freed by broker_conn_reap(). */
void broker_conn_close(struct broker_conn *conn, const char *why);
/* Free every connection marked CLOSING. Only from the before-sleep hook or teardown. */
void broker_conn_reap(struct broker *b);
void broker_conn_free(struct broker_conn *conn);
/* Process the complete frames in rbuf (stops at a hold or backpressure). */
void broker_conn_process(struct broker_conn *conn);
/* Advance out_release past the gates whose tickets are durable, then write
 * what may go. */
void broker_conn_flush(struct broker_conn *conn);
/*
 * Park `req` (the request being handled) on its connection; the handler then
 * returns BROKER_HOLD. `answer` is called after every group commit that
 * followed an append when `wake_on_append`, whenever someone calls
 * broker_held_try(), and with final = true after `timeout_ms`.
 */
void broker_conn_hold(struct broker_conn *conn, const struct broker_req *req, void *state,
                      broker_held_answer_fn *answer, broker_held_drop_fn *drop,
                      bool wake_on_append, int64_t timeout_ms);
/*
 * Try to answer the request parked on conn (`final`: it must be answered).
 * When answered, the connection goes back to OPEN and its later frames are
 * processed soon (from the loop's wakeup hook). Returns whether it was.
 * Safe from any callback, including other connections' handlers.
 */
bool broker_held_try(struct broker_conn *conn, bool final);

/* ---- Topics (broker.c) --------------------------------------------------- */

/*
 * The topic `name` (a slice from a request), creating it with the default
 * partition count when `create` and auto-creation is on. Returns the topic, or
 * NULL with *error_code set: UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION
 * or UNKNOWN_SERVER_ERROR.
 */
struct log_topic *broker_topic(struct broker *b, struct sl_slice name, bool create,
                               int16_t *error_code);

/* A NUL-terminated copy of a slice in the connection's arena. */
char *broker_cstr(struct broker_conn *conn, struct sl_slice s);

/*
 * One topic config, as CreateTopics and AlterConfigs take it
 * (handle_CreateTopics.c): one of the log's settings goes into *tc (a null
 * value: the store's); any other must be one sluice accepts as harmless or as
 * its one policy. Returns NULL, or why it is refused (static or in the
 * connection's arena) for an INVALID_CONFIG answer.
 */
const char *broker_topic_config_take(struct broker_conn *conn, struct sl_slice name,
                                     struct sl_slice value, struct log_topic_config *tc);


/* ---- Group coordinator and producer state (coordinator.c, producer_state.c) */

struct kafka_batch;

/* Open group.c's store in the data directory and start its tick timer; sets b->coord. */
int broker_coordinator_open(struct broker *b, struct sl_error *err);
/* Free the coordinator (after every connection is closed). NULL-safe on b->coord. */
void broker_coordinator_close(struct broker *b);
/* The coordinator's group state (group.h); borrowed. */
struct broker_groups *broker_coordinator_groups(struct broker *b);
/* Handle a decoded JoinGroup / SyncGroup: SL_OK if answered, else BROKER_HOLD (parked). */
int broker_coordinator_join(struct broker_conn *conn, const struct broker_req *req,
                            const struct kafka_JoinGroupRequest *in);
int broker_coordinator_sync(struct broker_conn *conn, const struct broker_req *req,
                            const struct kafka_SyncGroupRequest *in);

/*
 * Idempotent producers (design §5.5). Before appending a batch with a
 * producer id: KAFKA_NONE (append it), KAFKA_DUPLICATE_SEQUENCE_NUMBER (a
 * retry: do not append, answer NONE with *dup_offset), or the ErrorCode to
 * answer (OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH). After a
 * successful append, record it. The state lives in the partition's user
 * slot, rebuilt from the log on first use; broker_producer_state_free is the
 * log's user_free hook.
 */
int16_t broker_producer_check(struct log_partition *part, const struct kafka_batch *batch,
                              int64_t *dup_offset);
void broker_producer_appended(struct log_partition *part, const struct kafka_batch *batch,
                              int64_t base_offset);
void broker_producer_state_free(void *user);

#endif
