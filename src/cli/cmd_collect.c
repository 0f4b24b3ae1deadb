/*
 * cmd_collect.c: `sluice collect`, the HTTP event API (the course's
 * game_api.py): requests in, JSON events to Kafka out, each reply sent after
 * the broker acknowledged its event. The work is in src/collect.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/log.h"
#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "collect/collect.h"

static const struct opt_cmd cmd = {
    "collect",
    "sluice collect [--listen <host:port>] [-b <host:port>] [-t <topic>] [--routes <file>] "
    "[--acks 0|1|all] [--timeout-ms <ms>] [--server-fields] [-X <name=value>]...",
    "serve the HTTP event API and log each request as a JSON event to Kafka",
};

static struct collect *running; /* for the signal handler */

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        collect_stop(running);
}

int cmd_collect(int argc, char **argv)
{
    const char *listen = "127.0.0.1:5000", *bootstrap = NULL, *topic = "events", *routes = NULL;
    const char *acks = "all";
    int64_t timeout_ms = 5000, linger_ms = 0, max_inflight = 100000, max_conns = 1024;
    int64_t max_body = HTTP_BODY_MAX_DEFAULT, max_head = HTTP_HEAD_MAX_DEFAULT;
    int64_t idle_ms = 60000, request_ms = 10000, spin_us = 500;
    bool server_fields = false;
    struct opt_list props = { 0 };
    const struct opt opts[] = {
        { "listen", 'l', OPT_STRING, &listen, "HOST:PORT",
          "where to serve HTTP (default 127.0.0.1:5000)" },
        { "bootstrap", 'b', OPT_STRING, &bootstrap, "HOST:PORT",
          "broker address (default: $SLUICE_BOOTSTRAP or localhost:9092)" },
        { "topic", 't', OPT_STRING, &topic, "TOPIC", "topic for the events (default events)" },
        { "routes", 0, OPT_STRING, &routes, "FILE",
          "more routes: path, event_type, fields, reply (docs/routes.md)" },
        { "acks", 0, OPT_STRING, &acks, "0|1|all",
          "acknowledgement each reply waits for (default all)" },
        { "timeout-ms", 0, OPT_INT, &timeout_ms, "MS",
          "answer 503 if the broker has not acknowledged an event by then (default 5000)" },
        { "linger-ms", 0, OPT_INT, &linger_ms, "MS", "librdkafka linger.ms (default 0)" },
        { "server-fields", 0, OPT_FLAG, &server_fields, NULL,
          "add received_at and remote_addr to every event" },
        { "max-body", 0, OPT_INT, &max_body, "BYTES", "largest request body (default 1 MiB): 413" },
        { "max-head", 0, OPT_INT, &max_head, "BYTES",
          "largest request line + headers (default 16 KiB): 431" },
        { "max-conns", 0, OPT_INT, &max_conns, "N", "open connections (default 1024)" },
        { "max-inflight", 0, OPT_INT, &max_inflight, "N",
          "events awaiting acknowledgement before 503 (default 100000)" },
        { "idle-timeout-ms", 0, OPT_INT, &idle_ms, "MS",
          "close idle keep-alive connections (default 60000)" },
        { "request-timeout-ms", 0, OPT_INT, &request_ms, "MS",
          "a request must arrive within this (default 10000): 408" },
        { "spin-us", 0, OPT_INT, &spin_us, "US",
          "while events await their acknowledgement, poll for up to US instead of sleeping "
          "(default 500; 0: never)" },
        { "property", 'X', OPT_LIST, &props, "NAME=VALUE", "a librdkafka producer property" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    int rc = 2;
    if (npos > 0) {
        opt_usage_error(&cmd, "unexpected argument '%s'", argv[1]);
        goto out;
    }
    if (timeout_ms <= 0 || timeout_ms > 3600000 || linger_ms < 0 || linger_ms > 60000 ||
        max_inflight <= 0 || max_inflight > 10000000 || max_conns <= 0 || max_conns > 1000000 ||
        max_body <= 0 || max_body > (1 << 30) || max_head < 256 || max_head > (1 << 20) ||
        idle_ms <= 0 || request_ms <= 0 || spin_us < 0 || spin_us > 1000000) {
        opt_usage_error(&cmd, "a numeric option is out of range");
        goto out;
    }
    if (strcmp(acks, "all") != 0 && strcmp(acks, "-1") != 0 && strcmp(acks, "0") != 0 &&
        strcmp(acks, "1") != 0) {
        opt_usage_error(&cmd, "--acks wants 0, 1 or all");
        goto out;
    }
    struct collect_config cfg = {
        .listen = listen,
        .routes_path = routes,
        .producer = { .bootstrap = cmd_bootstrap(bootstrap), .topic = topic, .acks = acks,
                      .timeout_ms = (int)timeout_ms, .linger_ms = (int)linger_ms,
                      .max_inflight = max_inflight, .props = props.items },
        .server_fields = server_fields,
        .max_head_bytes = (size_t)max_head,
        .max_body_bytes = (size_t)max_body,
        .max_conns = (int)max_conns,
        .idle_timeout_ms = (int)idle_ms,
        .request_timeout_ms = (int)request_ms,
        .spin_us = (int)spin_us,
    };
    struct sl_error err = { 0 };
    struct collect *c = collect_new(&cfg, &err);
    if (!c) {
        rc = cmd_fail(cmd.name, &err);
        goto out;
    }
    /* One descriptor per connection: allow as many as the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    running = c;
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sl_info("collect: listening on %s (port %d), producing to '%s' at %s (acks=%s)", listen,
            collect_port(c), topic, cfg.producer.bootstrap, acks);
    rc = collect_run(c, &err) == SL_OK ? 0 : cmd_fail(cmd.name, &err);
    running = NULL;
    collect_free(c);
    sl_info("collect: stopped");
out:
    opt_list_release(&props);
    return rc;
}
