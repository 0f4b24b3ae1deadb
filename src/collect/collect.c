/*
 * collect.c: the `sluice collect` service: HTTP requests in, Kafka events
 * out, the reply only after the broker's acknowledgement (see collect.h).
 *
 * One request becomes a `struct pending` that waits for the delivery report
 * of each of its events (one for an event route, N for POST /events); the
 * last report sends the reply: 200 when all were acknowledged, else 503
 * with the broker's reason. The pending request keeps its exchange even if
 * the client goes away meanwhile (http_exchange_reply() then drops it), so
 * an event accepted by librdkafka is never forgotten.
 *
 * Stopping (collect_stop, e.g. SIGTERM): the HTTP server stops accepting
 * and reading, every in-flight event gets its report (bounded by the
 * produce timeout), the replies are written, and only then does the loop
 * end.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "collect/collect.h"
#include "json/json.h"

#define SCRATCH_MAX (8 * 1024 * 1024)
#define DRAIN_GRACE_MS 5000
#define RETRY_AFTER "Retry-After: 1\r\n" /* on every 503: the broker or queue may recover */

static const double hist_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                      5,      10 };
#define NBUCKETS (sizeof hist_bounds / sizeof hist_bounds[0])

struct collect {
    struct collect_config cfg;
    struct sl_ev *ev;                /* owned */
    struct http_server *srv;         /* owned */
    struct collect_producer *prod;   /* owned */
    struct collect_routes routes;    /* owned */
    struct collect_route unmatched;  /* counters for requests that match no route */
    struct sl_buf scratch;           /* event JSON / reply bodies being built */
    struct sl_buf batch;             /* POST /events: the events of one request */
    size_t *offs;                    /* owned: event boundaries in batch */
    size_t offs_cap;
    struct json_doc doc;
    uint64_t hist[NBUCKETS + 1];     /* request latency, last bucket = +Inf */
    double hist_sum;                 /* seconds */
    uint64_t hist_count;
    uint64_t events;                 /* acknowledged events */
    volatile sig_atomic_t stop_requested;
    bool draining;
    int64_t drain_deadline_ms;
};

/* One request waiting for its events' delivery reports. */
struct pending {
    struct collect *c;            /* borrowed */
    struct http_exchange *ex;     /* borrowed until the reply */
    struct collect_route *route;  /* borrowed: owned by c->routes */
    int64_t start_ns;
    int remaining;                /* reports still to come */
    int total;                    /* events sent */
    int failed;                   /* failed reports */
    char reason[160];             /* first failure */
};

/* ----------------------------------------------------------------- replies */

static void count(struct collect *c, struct collect_route *route, int status, int64_t start_ns)
{
    int i = 0;
    while (i < COLLECT_STATUS_SLOTS - 1 && route->statuses[i] && route->statuses[i] != status)
        i++;
    if (!route->statuses[i])
        route->statuses[i] = status;
    route->counts[i]++; /* the last slot also takes any further status */
    double secs = (double)(sl_clock_mono_ns() - start_ns) / 1e9;
    size_t b = 0;
    while (b < NBUCKETS && secs > hist_bounds[b])
        b++;
    c->hist[b]++;
    c->hist_sum += secs;
    c->hist_count++;
}

static void reply(struct collect *c, struct http_exchange *ex, struct collect_route *route,
                  int status, const char *ctype, const char *headers, struct sl_slice body,
                  int64_t start_ns)
{
    count(c, route, status, start_ns);
    struct http_response resp = { status, ctype, headers, body };
    http_exchange_reply(ex, &resp);
}

static void reply_error(struct collect *c, struct http_exchange *ex, struct collect_route *route,
                        int status, const char *headers, int64_t start_ns, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void reply_error(struct collect *c, struct http_exchange *ex, struct collect_route *route,
                        int status, const char *headers, int64_t start_ns, const char *fmt, ...)
{
    char msg[SL_ERROR_MSG_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof msg - 2)
        n = (int)sizeof msg - 2;
    msg[n++] = '\n';
    msg[n] = '\0';
    reply(c, ex, route, status, "text/plain; charset=utf-8", headers,
          sl_slice_make(msg, (size_t)n), start_ns);
}

/* --------------------------------------------------------------- delivery */

static void finish(struct pending *p)
{
    struct collect *c = p->c;
    struct collect_route *route = p->route;
    if (p->failed) {
        if (route->kind == COLLECT_ROUTE_BATCH)
            reply_error(c, p->ex, route, 503, RETRY_AFTER, p->start_ns,
                        "error: %d of %d events not delivered to kafka: %s", p->failed, p->total,
                        p->reason);
        else
            reply_error(c, p->ex, route, 503, RETRY_AFTER, p->start_ns,
                        "error: event not delivered to kafka: %s", p->reason);
    } else if (route->kind == COLLECT_ROUTE_BATCH) {
        char body[64];
        int n = snprintf(body, sizeof body, "{\"accepted\": %d}\n", p->total);
        reply(c, p->ex, route, 200, route->content_type, NULL, sl_slice_make(body, (size_t)n),
              p->start_ns);
    } else {
        reply(c, p->ex, route, route->status, route->content_type, NULL,
              sl_slice_make(route->reply, route->reply_len), p->start_ns);
    }
    free(p);
}

static void on_delivery(void *msg_opaque, int code, const char *reason, void *arg)
{
    struct collect *c = arg;
    struct pending *p = msg_opaque;
    if (code == SL_OK) {
        c->events++;
        p->route->events++;
    } else if (p->failed++ == 0) {
        snprintf(p->reason, sizeof p->reason, "%s", reason ? reason : "unknown error");
    }
    if (--p->remaining == 0)
        finish(p);
}

/* ---------------------------------------------------------------- handlers */

static void handle_event(struct collect *c, struct http_exchange *ex,
                         const struct http_request *req, struct collect_route *route,
                         int64_t t0)
{
    struct collect_server_fields sf = { sl_clock_wall_ms(), http_exchange_peer(ex) };
    sl_buf_reset(&c->scratch);
    if (collect_event_write(&c->scratch, route, req, c->cfg.server_fields ? &sf : NULL) !=
        SL_OK) {
        reply_error(c, ex, route, 500, NULL, t0, "error: event too large");
        return;
    }
    struct pending *p = sl_xcalloc(1, sizeof *p);
    *p = (struct pending){ c, ex, route, t0, 1, 1, 0, "" };
    struct sl_error err = { 0 };
    if (collect_producer_send(c->prod, sl_buf_slice(&c->scratch), p, &err) != SL_OK) {
        free(p);
        reply_error(c, ex, route, 503, RETRY_AFTER, t0, "error: %s", err.msg);
    }
}

static void handle_batch(struct collect *c, struct http_exchange *ex,
                         const struct http_request *req, struct collect_route *route, int64_t t0)
{
    struct collect_server_fields sf = { sl_clock_wall_ms(), http_exchange_peer(ex) };
    sl_buf_reset(&c->batch);
    size_t n = 0;
    struct json_stream st = json_stream_make(req->body);
    for (;;) {
        struct sl_slice raw;
        size_t line;
        struct sl_error err = { 0 };
        int rc = json_stream_next(&st, &c->doc, &raw, &line, &err);
        if (rc == 0)
            break;
        if (rc < 0) { /* the message names the line */
            reply_error(c, ex, route, 400, NULL, t0, "error: %s", err.msg);
            return;
        }
        if (n + 1 >= c->offs_cap) {
            c->offs_cap = c->offs_cap ? c->offs_cap * 2 : 64;
            c->offs = sl_xrealloc(c->offs, c->offs_cap * sizeof *c->offs);
        }
        c->offs[n] = c->batch.len;
        rc = collect_event_write_posted(&c->batch, &c->doc, req,
                                        c->cfg.server_fields ? &sf : NULL, &err);
        if (rc == SL_ELIMIT) {
            reply_error(c, ex, route, 413, NULL, t0,
                        "error: line %zu: the events with their headers exceed %zu bytes", line,
                        c->batch.max);
            return;
        }
        if (rc != SL_OK) {
            reply_error(c, ex, route, 400, NULL, t0, "error: line %zu: %s", line, err.msg);
            return;
        }
        n++;
    }
    if (n == 0) {
        reply_error(c, ex, route, 400, NULL, t0, "error: no events in the body");
        return;
    }
    c->offs[n] = c->batch.len;
    if (collect_producer_inflight(c->prod) + (int64_t)n > c->cfg.producer.max_inflight) {
        reply_error(c, ex, route, 503, RETRY_AFTER, t0, "error: too many events in flight");
        return;
    }
    struct pending *p = sl_xcalloc(1, sizeof *p);
    *p = (struct pending){ c, ex, route, t0, 0, 0, 0, "" };
    struct sl_error err = { 0 };
    for (size_t i = 0; i < n; i++) {
        struct sl_slice ev = sl_slice_make(c->batch.data + c->offs[i], c->offs[i + 1] - c->offs[i]);
        if (collect_producer_send(c->prod, ev, p, &err) != SL_OK)
            break;
        p->remaining++;
    }
    p->total = (int)n;
    if (p->remaining < (int)n) {
        p->failed = (int)n - p->remaining;
        snprintf(p->reason, sizeof p->reason, "%.150s", err.msg);
        if (p->remaining == 0) {
            free(p);
            reply_error(c, ex, route, 503, RETRY_AFTER, t0, "error: %s", err.msg);
        }
    }
}

static void handle(struct http_exchange *ex, const struct http_request *req, void *arg)
{
    struct collect *c = arg;
    int64_t t0 = sl_clock_mono_ns();
    struct collect_route *route = collect_routes_find(&c->routes, req->path);
    if (!route) {
        reply_error(c, ex, &c->unmatched, 404, NULL, t0, "error: no route for '%.*s'",
                    (int)(req->path.len > 200 ? 200 : req->path.len), (const char *)req->path.p);
        return;
    }
    bool get = sl_slice_eq_str(req->method, "GET") || sl_slice_eq_str(req->method, "HEAD");
    bool post = sl_slice_eq_str(req->method, "POST");
    bool batch = route->kind == COLLECT_ROUTE_BATCH;
    const char *allow = batch ? "Allow: POST, OPTIONS\r\n" : "Allow: GET, HEAD, OPTIONS\r\n";
    if (sl_slice_eq_str(req->method, "OPTIONS")) {
        reply(c, ex, route, 200, NULL, allow, sl_slice_make(NULL, 0), t0);
        return;
    }
    if ((batch && !post) || (!batch && !get)) {
        reply_error(c, ex, route, 405, allow, t0, "error: method %.*s not allowed on '%s'",
                    (int)req->method.len, (const char *)req->method.p, route->path);
        return;
    }
    switch (route->kind) {
    case COLLECT_ROUTE_EVENT:
        handle_event(c, ex, req, route, t0);
        return;
    case COLLECT_ROUTE_BATCH:
        handle_batch(c, ex, req, route, t0);
        return;
    case COLLECT_ROUTE_HEALTH:
        reply(c, ex, route, 200, route->content_type, NULL,
              sl_slice_make(route->reply, route->reply_len), t0);
        return;
    case COLLECT_ROUTE_METRICS:
        sl_buf_reset(&c->scratch);
        count(c, route, 200, t0); /* this scrape counts itself */
        collect_metrics_write(c, &c->scratch);
        http_exchange_reply(ex, &(struct http_response){ 200, route->content_type, NULL,
                                                         sl_buf_slice(&c->scratch) });
        return;
    }
}

/* ----------------------------------------------------------------- metrics */

static void metric_route(struct sl_buf *out, const struct collect_route *r)
{
    for (int i = 0; i < COLLECT_STATUS_SLOTS && r->statuses[i]; i++) {
        sl_buf_append_str(out, "sluice_collect_requests_total{route=");
        collect_json_str_latin1(out, sl_slice_str(r->path));
        sl_buf_appendf(out, ",status=\"%d\"} %llu\n", r->statuses[i],
                       (unsigned long long)r->counts[i]);
    }
}

void collect_metrics_write(struct collect *c, struct sl_buf *out)
{
    struct http_server_stats hs;
    http_server_stats(c->srv, &hs);
    sl_buf_append_str(out, "# HELP sluice_collect_requests_total HTTP requests by route and "
                           "status.\n# TYPE sluice_collect_requests_total counter\n");
    for (size_t i = 0; i < c->routes.n; i++)
        metric_route(out, &c->routes.routes[i]);
    metric_route(out, &c->unmatched);
    for (int i = 0; http_server_error_status[i]; i++)
        if (hs.errors[i])
            sl_buf_appendf(out,
                           "sluice_collect_requests_total{route=\"(server)\",status=\"%d\"} "
                           "%llu\n",
                           http_server_error_status[i], (unsigned long long)hs.errors[i]);
    sl_buf_append_str(out, "# HELP sluice_collect_events_total Events acknowledged by the "
                           "broker, by route.\n# TYPE sluice_collect_events_total counter\n");
    for (size_t i = 0; i < c->routes.n; i++) {
        const struct collect_route *r = &c->routes.routes[i];
        if (r->kind != COLLECT_ROUTE_EVENT && r->kind != COLLECT_ROUTE_BATCH)
            continue;
        sl_buf_append_str(out, "sluice_collect_events_total{route=");
        collect_json_str_latin1(out, sl_slice_str(r->path));
        sl_buf_appendf(out, "} %llu\n", (unsigned long long)r->events);
    }
    sl_buf_appendf(out,
                   "# HELP sluice_collect_produce_errors_total Events whose delivery failed.\n"
                   "# TYPE sluice_collect_produce_errors_total counter\n"
                   "sluice_collect_produce_errors_total %llu\n"
                   "# HELP sluice_collect_events_in_flight Events sent and not yet reported.\n"
                   "# TYPE sluice_collect_events_in_flight gauge\n"
                   "sluice_collect_events_in_flight %lld\n",
                   (unsigned long long)collect_producer_errors(c->prod),
                   (long long)collect_producer_inflight(c->prod));
    sl_buf_append_str(out, "# HELP sluice_collect_request_duration_seconds Time from a "
                           "complete request to its reply.\n"
                           "# TYPE sluice_collect_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) {
        cum += c->hist[b];
        if (b < NBUCKETS)
            sl_buf_appendf(out, "sluice_collect_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                           hist_bounds[b], (unsigned long long)cum);
        else
            sl_buf_appendf(out,
                           "sluice_collect_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                           (unsigned long long)cum);
    }
    sl_buf_appendf(out,
                   "sluice_collect_request_duration_seconds_sum %.6f\n"
                   "sluice_collect_request_duration_seconds_count %llu\n",
                   c->hist_sum, (unsigned long long)c->hist_count);
    sl_buf_appendf(out,
                   "# HELP sluice_collect_connections_open Open HTTP connections.\n"
                   "# TYPE sluice_collect_connections_open gauge\n"
                   "sluice_collect_connections_open %llu\n"
                   "# HELP sluice_collect_connections_total Connections accepted.\n"
                   "# TYPE sluice_collect_connections_total counter\n"
                   "sluice_collect_connections_total %llu\n"
                   "# HELP sluice_collect_connections_rejected_total Connections refused "
                   "(connection limit).\n"
                   "# TYPE sluice_collect_connections_rejected_total counter\n"
                   "sluice_collect_connections_rejected_total %llu\n",
                   (unsigned long long)hs.open, (unsigned long long)hs.accepted,
                   (unsigned long long)hs.rejected);
}

/* ---------------------------------------------------------------- lifecycle */

/* Before the loop sleeps: the events of this iteration go to librdkafka
 * together (producer.c says why). */
static void flush_events(void *arg)
{
    struct collect *c = arg;
    if (c->prod)
        collect_producer_flush(c->prod);
}

/* On the loop after every wakeup and poll tick: start or finish a drain. */
static void check_stop(struct sl_ev *ev, void *arg)
{
    struct collect *c = arg;
    if (!c->stop_requested)
        return;
    int64_t now = sl_clock_mono_ms();
    if (!c->draining) {
        c->draining = true;
        c->drain_deadline_ms = now + c->cfg.producer.timeout_ms + DRAIN_GRACE_MS;
        sl_info("collect: stopping: %lld events in flight",
                (long long)collect_producer_inflight(c->prod));
        http_server_drain(c->srv);
    }
    if ((collect_producer_inflight(c->prod) == 0 && http_server_idle(c->srv)) ||
        now > c->drain_deadline_ms)
        sl_ev_stop(ev);
}

/*
 * The loop polls rather than sleeps while events await their reports
 * (sl_ev_spin): a report comes back 100-200 us after the hand-off, and on a
 * 2-CPU virtual machine librdkafka's thread waking a sleeping loop cost more
 * than that wait; at 8 connections this was 13-19% more requests/s.
 */
static bool awaiting_reports(void *arg)
{
    struct collect *c = arg;
    return collect_producer_inflight(c->prod) > 0;
}

struct collect *collect_new(const struct collect_config *cfg, struct sl_error *err)
{
    struct collect *c = sl_xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    if (c->cfg.producer.timeout_ms <= 0)
        c->cfg.producer.timeout_ms = 5000;
    if (c->cfg.producer.max_inflight <= 0)
        c->cfg.producer.max_inflight = 100000;
    sl_buf_init(&c->scratch, SCRATCH_MAX);
    sl_buf_init(&c->batch, SCRATCH_MAX * 4);
    json_doc_init(&c->doc);
    collect_routes_init(&c->routes);
    c->unmatched.path = sl_xstrdup("(unmatched)");
    if (cfg->routes_path && collect_routes_load(&c->routes, cfg->routes_path, err) != SL_OK)
        goto fail;
    c->ev = sl_ev_new(err);
    if (!c->ev)
        goto fail;
    struct http_server_config hc = {
        .listen = cfg->listen,
        .max_head_bytes = cfg->max_head_bytes,
        .max_body_bytes = cfg->max_body_bytes,
        .max_conns = cfg->max_conns,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .request_timeout_ms = cfg->request_timeout_ms,
        .handler = handle,
        .arg = c,
        .before_sleep = flush_events,
    };
    c->srv = http_server_new(c->ev, &hc, err);
    if (!c->srv)
        goto fail;
    c->prod = collect_producer_new(c->ev, &c->cfg.producer, on_delivery, c, check_stop, c, err);
    if (!c->prod)
        goto fail;
    sl_ev_spin(c->ev, cfg->spin_us, awaiting_reports, c);
    return c;
fail:
    collect_free(c);
    return NULL;
}

int collect_run(struct collect *c, struct sl_error *err)
{
    return sl_ev_run(c->ev, err);
}

void collect_stop(struct collect *c)
{
    c->stop_requested = 1;
    sl_ev_wakeup(c->ev);
}

int collect_port(const struct collect *c)
{
    return http_server_port(c->srv);
}

void collect_free(struct collect *c)
{
    if (!c)
        return;
    /* The producer first: its last reports still reply through the server. */
    collect_producer_free(c->prod, c->cfg.producer.timeout_ms);
    http_server_free(c->srv);
    sl_ev_free(c->ev);
    collect_routes_release(&c->routes);
    free(c->unmatched.path);
    sl_buf_release(&c->scratch);
    sl_buf_release(&c->batch);
    free(c->offs);
    json_doc_release(&c->doc);
    free(c);
}
