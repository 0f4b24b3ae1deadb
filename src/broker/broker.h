/*
 * broker.h: `sluice broker`, a single-node Kafka-protocol broker on the
 * partition log (src/log), served by one epoll event loop (base/ev).
 *
 * The library part of the command: the CLI fills a struct broker_config,
 * calls broker_new(), installs signal handlers that call broker_stop(), and
 * calls broker_run(). See docs/internals/broker.md for the connection state
 * machine, request ordering, the group-commit rule and what is advertised.
 *
 * Threading: one thread (the log keeps a sync thread of its own inside).
 * Everything except broker_stop() must be called from the thread that runs
 * broker_run().
 *
 * Signals: the process must ignore SIGPIPE. Fetch answers go out with
 * sendfile(), which has no MSG_NOSIGNAL, so a client that hangs up while
 * its answer is being sent would otherwise kill the process.
 */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "log/log.h"

#define BROKER_LISTEN_DEFAULT "127.0.0.1:9092"
#define BROKER_DATA_DEFAULT "sluice-data"
#define BROKER_MAX_REQUEST_DEFAULT ((size_t)100 << 20) /* Kafka socket.request.max.bytes */
#define BROKER_NODE_ID 0

struct broker;

struct broker_config {
    const char *listen;       /* "HOST:PORT"; borrowed; BROKER_LISTEN_DEFAULT if NULL */
    const char *advertise;    /* "HOST:PORT" put in Metadata; NULL: the listen address,
                                 or for a wildcard listen the address each client
                                 connected to; borrowed */
    const char *data_dir;     /* borrowed; BROKER_DATA_DEFAULT if NULL */
    bool auto_create;         /* create topics on Metadata/Produce (default true) */
    int32_t partitions;       /* partitions of auto-created topics (default 1) */
    size_t max_request_bytes; /* frames above this close the connection (default 100 MiB) */
    const char *dump_dir;     /* if set, every request frame is written there (debug;
                                 used to seed fuzz corpora); borrowed */
    struct log_config log;    /* segments, retention, flush policy */
};

/* Fill cfg with the defaults above and log_config_default(). */
void broker_config_default(struct broker_config *cfg);

/*
 * Open the data directory (recovering the log), bind the listener and create
 * the event loop. Returns the broker (caller owns; broker_free()) or NULL with
 * err set (SL_EUSAGE for a bad address, SL_EIO for a bind or disk failure).
 */
struct broker *broker_new(const struct broker_config *cfg, struct sl_error *err);

/* The port the listener is bound to (useful with ":0"). */
int broker_port(const struct broker *b);

/*
 * Serve until broker_stop(). On the way out: stop accepting, answer what can
 * be answered, sync the log. Returns SL_OK, or SL_EIO when the event loop or
 * a log sync failed (after an fdatasync failure the broker stops at once:
 * nothing past it is acknowledged).
 */
int broker_run(struct broker *b, struct sl_error *err);

/* Ask broker_run() to return. Async-signal-safe; any thread. */
void broker_stop(struct broker *b);

/* Close every connection and the log, free everything. NULL-safe. */
void broker_free(struct broker *b);

#endif
