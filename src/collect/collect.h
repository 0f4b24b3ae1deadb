/*
 * collect.h: `sluice collect`, the HTTP event API (the course's game_api.py
 * in C): each request to an event route becomes one JSON event, with the
 * request's headers merged in exactly as Flask's
 * `event.update(request.headers)` does, produced to Kafka through
 * librdkafka; the HTTP reply goes out only after the broker acknowledged it.
 *
 * Pieces, in data-flow order:
 *   routes    the route table: built-in routes, plus those of a --routes
 *             file (docs/routes.md); collect_routes_*.
 *   event     one event's JSON, byte for byte what Python's json.dumps
 *             writes for the reference app's dict; collect_event_*.
 *   producer  librdkafka on the event loop: the events of one loop
 *             iteration are handed to librdkafka together, before the loop
 *             sleeps, and delivery reports are brought onto the loop with
 *             sl_ev_wakeup(); collect_producer_*.
 *   service   the HTTP handler, /healthz, /metrics, draining on stop;
 *             collect_new / collect_run / collect_stop.
 *
 * Threads: everything runs on the loop's thread except collect_stop(),
 * which any thread or a signal handler may call.
 */
#ifndef COLLECT_COLLECT_H
#define COLLECT_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "base/slice.h"
#include "http/http.h"

/* ------------------------------------------------------------------ routes */

enum collect_route_kind {
    COLLECT_ROUTE_EVENT,   /* GET/HEAD: log one event, answer `reply` */
    COLLECT_ROUTE_BATCH,   /* POST: the body is JSON events (NDJSON) */
    COLLECT_ROUTE_HEALTH,  /* GET: "ok" */
    COLLECT_ROUTE_METRICS, /* GET: Prometheus text */
};

#define COLLECT_ROUTES_MAX 1024 /* routes per table (the file is capped with it) */
#define COLLECT_STATUS_SLOTS 8  /* distinct statuses counted per route */

struct collect_route {
    enum collect_route_kind kind;
    char *path;          /* owned: the decoded path, e.g. "/purchase_a_sword" */
    char *event_type;    /* owned: EVENT routes; NULL otherwise */
    char **field_keys;   /* owned: EVENT routes: the static fields' keys (decoded) */
    char **field_json;   /* owned: each field rendered as `"key": value` (json.dumps style) */
    size_t nfields;
    char *reply;         /* owned: reply body */
    size_t reply_len;
    int status;          /* reply status on success (200) */
    char *content_type;  /* owned */
    /* counters for /metrics (loop thread only) */
    int statuses[COLLECT_STATUS_SLOTS];
    uint64_t counts[COLLECT_STATUS_SLOTS];
    uint64_t events;     /* events acknowledged by the broker */
};

struct collect_routes {
    struct collect_route *routes; /* owned array */
    size_t n;
};

/*
 * The reference app's routes and the service routes: GET / (default),
 * GET /purchase_a_sword (purchase_sword), POST /events, GET /healthz,
 * GET /metrics. Free with collect_routes_release().
 */
void collect_routes_init(struct collect_routes *rt);
void collect_routes_release(struct collect_routes *rt);

/*
 * Add (or replace, by path) the routes of a routes file (docs/routes.md):
 * JSON objects, one per line or pretty-printed, '#' comment lines allowed.
 * Returns SL_OK, or SL_EPROTO / SL_EUSAGE / SL_ELIMIT / SL_EIO with a message
 * naming the file and line; the table is unchanged on failure.
 */
int collect_routes_load(struct collect_routes *rt, const char *path, struct sl_error *err);
/* As collect_routes_load, from text (name is used in messages). */
int collect_routes_parse(struct collect_routes *rt, struct sl_slice text, const char *name,
                         struct sl_error *err);

/* The route for a %-encoded path (decoded before matching), or NULL. */
struct collect_route *collect_routes_find(struct collect_routes *rt, struct sl_slice path);

/* ------------------------------------------------------------------- event */

/* Server fields (off by default): "received_at" (UTC text, ms) and
 * "remote_addr" (the client's IP), added after the headers. */
struct collect_server_fields {
    int64_t received_ms; /* wall clock, ms since the epoch */
    const char *peer;    /* borrowed: "IP:PORT" */
};

/*
 * Append the event of an EVENT route to out, as json.dumps writes
 * {"event_type": ..., <static fields>, **request.headers}: headers under
 * Werkzeug's names (see event.c), values escaped as ensure_ascii does with
 * header bytes read as Latin-1. `sf` may be NULL. SL_OK or SL_ELIMIT.
 */
int collect_event_write(struct sl_buf *out, const struct collect_route *route,
                        const struct http_request *req, const struct collect_server_fields *sf);

/*
 * Append the event for one posted JSON object: its members (source text,
 * json.dumps separators; duplicate keys collapse to the first position with
 * the last value, as json.loads does), updated with the request headers as
 * above. `doc` holds the parsed object at its root. SL_OK, SL_ELIMIT, or
 * SL_EPROTO with a message (not an object, no string event_type, too many
 * members).
 */
struct json_doc;
int collect_event_write_posted(struct sl_buf *out, const struct json_doc *doc,
                               const struct http_request *req,
                               const struct collect_server_fields *sf, struct sl_error *err);

/* Werkzeug's name for a header: '_' becomes '-', then Python's str.title().
 * Writes name.len bytes to dst. */
void collect_header_name(char *dst, struct sl_slice name);

/* Append s as a json.dumps (ensure_ascii) string, each byte read as Latin-1. */
int collect_json_str_latin1(struct sl_buf *out, struct sl_slice s);

/* ---------------------------------------------------------------- producer */

struct collect_producer;

/* A delivery report, on the loop thread: code SL_OK, or SL_EIO (or SL_ELIMIT:
 * librdkafka's local queue was full) with a reason. */
typedef void collect_delivery_fn(void *msg_opaque, int code, const char *reason, void *arg);

struct collect_producer_config {
    const char *bootstrap;    /* required */
    const char *topic;        /* required */
    const char *acks;         /* "0", "1", "all"; NULL: "all" */
    int timeout_ms;           /* message.timeout.ms: give up (then 503) after this */
    int linger_ms;            /* linger.ms */
    int64_t max_inflight;     /* cap on undelivered messages */
    const char *const *props; /* extra "name=value" librdkafka properties, NULL-ended; optional */
};

/*
 * Create a librdkafka producer whose delivery reports are served on ev's
 * thread: it installs ev's wakeup callback, which calls
 * collect_producer_poll() and then `wakeup_fn` (optional). NULL on failure.
 */
struct collect_producer *collect_producer_new(struct sl_ev *ev,
                                              const struct collect_producer_config *cfg,
                                              collect_delivery_fn *fn, void *arg,
                                              sl_ev_fn *wakeup_fn, void *wakeup_arg,
                                              struct sl_error *err);
/* Wait up to timeout_ms for outstanding deliveries (reports are served),
 * then destroy. NULL-safe. */
void collect_producer_free(struct collect_producer *prod, int timeout_ms);

/*
 * Keep one message (copied) for collect_producer_flush(). SL_OK, or SL_ELIMIT
 * (in-flight cap) with a message. Its delivery report comes later, always:
 * a message librdkafka refuses at the flush gets a failed report then.
 */
int collect_producer_send(struct collect_producer *prod, struct sl_slice value, void *msg_opaque,
                          struct sl_error *err);
/*
 * Hand every kept message to librdkafka, in send order. Call it once per
 * loop iteration, before the loop sleeps (collect does so from the HTTP
 * server's before-sleep hook). A message librdkafka refuses (local queue
 * full) is reported failed from here, and the loop is woken so that the
 * reply this makes goes out.
 */
void collect_producer_flush(struct collect_producer *prod);
/* Serve pending delivery reports now. */
void collect_producer_poll(struct collect_producer *prod);
/* Messages queued and not yet reported. */
int64_t collect_producer_inflight(const struct collect_producer *prod);
/* Undelivered reports so far (for /metrics). */
uint64_t collect_producer_errors(const struct collect_producer *prod);

/* ----------------------------------------------------------------- service */

struct collect_config {
    const char *listen;          /* "HOST:PORT"; required */
    const char *routes_path;     /* optional --routes file */
    struct collect_producer_config producer;
    bool server_fields;          /* add received_at and remote_addr */
    size_t max_head_bytes;       /* 0: http default (16 KiB) */
    size_t max_body_bytes;       /* 0: http default (1 MiB) */
    int max_conns;               /* 0: http default */
    int idle_timeout_ms;         /* 0: http default */
    int request_timeout_ms;      /* 0: http default */
    int spin_us;                 /* poll this long for reports before sleeping; 0: never */
};

struct collect;

/* Load routes, listen, create the producer. NULL on failure (err). */
struct collect *collect_new(const struct collect_config *cfg, struct sl_error *err);
/* Serve until collect_stop(); then drain (finish every in-flight event and
 * its reply) and return SL_OK, or an error if the loop failed. */
int collect_run(struct collect *c, struct sl_error *err);
/* Async-signal-safe: ask collect_run() to drain and return. */
void collect_stop(struct collect *c);
/* NULL-safe. */
void collect_free(struct collect *c);
/* The listening port. */
int collect_port(const struct collect *c);

/* Append the /metrics text (Prometheus exposition format 0.0.4). */
void collect_metrics_write(struct collect *c, struct sl_buf *out);

#endif
