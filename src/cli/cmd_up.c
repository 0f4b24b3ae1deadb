/*
 * cmd_up.c: `sluice up`, the pipeline as one long-running service: a broker,
 * a collector and a following extract that splits the events by event_type
 * into the lake (one table per event type), supervised as children.
 *
 * Shutdown order is the pipeline's order, so nothing in flight is lost: the
 * collector first (it drains: every accepted event is acknowledged by the
 * broker), then the extract (it reads up to the broker's high watermark and
 * commits its part files with their offsets), then
 * the broker (flushes its log). A second `sluice up` on the same directories
 * resumes: the broker recovers its log and the extract continues from the
 * offsets of its last commit.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/net.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "cli/proc.h"

static const struct opt_cmd up_cmd = {
    "up",
    "sluice up [--kafka H:P] [--http H:P] [--data DIR] [--lake DIR] [--topic T]",
    "run broker, collector and a following extract until interrupted",
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int cmd_up(int argc, char **argv)
{
    const char *kafka = "127.0.0.1:9092", *http = "127.0.0.1:5000";
    const char *data = "sluice-data", *lake = "lake", *topic = "events";
    const struct opt opts[] = {
        { "kafka", 0, OPT_STRING, &kafka, "H:P", "broker address (default 127.0.0.1:9092)" },
        { "http", 0, OPT_STRING, &http, "H:P", "collector address (default 127.0.0.1:5000)" },
        { "data", 0, OPT_STRING, &data, "DIR", "broker data directory (default ./sluice-data)" },
        { "lake", 0, OPT_STRING, &lake, "DIR", "lake directory (default ./lake)" },
        { "topic", 0, OPT_STRING, &topic, "T", "event topic (default events)" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&up_cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    if (npos > 0)
        return opt_usage_error(&up_cmd, "unexpected argument '%s'", argv[1]);

    struct sl_error err = { 0 };
    char host[SL_NET_HOST_MAX];
    int kport, hport;
    if (sl_net_hostport_parse(kafka, host, &kport, &err) != SL_OK ||
        sl_net_hostport_parse(http, host, &hport, &err) != SL_OK)
        return opt_usage_error(&up_cmd, "%s", err.msg);

    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char *broker_argv[] = { "broker", "--listen", (char *)kafka, "--data", (char *)data, NULL };
    char *collect_argv[] = { "collect", "--listen", (char *)http, "-b", (char *)kafka,
                             "--topic", (char *)topic, NULL };
    char *extract_argv[] = { "extract", "-b", (char *)kafka, "-t", (char *)topic, "--out",
                             (char *)lake, "--split-by", "event_type", "--follow", NULL };
    /* Start order is upstream first; stop order (below) is the reverse. */
    enum { NPROCS = 3 };
    struct proc procs[NPROCS] = { { .name = "broker" }, { .name = "collect" },
                                  { .name = "extract" } };
    char *const *argvs[NPROCS] = { broker_argv, collect_argv, extract_argv };
    int started = 0, status = 0;

    for (; started < NPROCS && !stop_requested; started++) {
        if (proc_spawn_self(&procs[started], argvs[started], NULL, &err) != SL_OK)
            break;
        int port = started == 0 ? kport : started == 1 ? hport : 0;
        if ((port && proc_wait_port(&procs[started], port, 10000, &err) != SL_OK) ||
            proc_wait_catches_sigterm(&procs[started], 10000, &err) != SL_OK) {
            started++;
            break;
        }
        /* The following extract needs its topic; it must not depend on the
         * first event having created it. */
        if (started == 0) {
            char *topic_argv[] = { "topics", "-b", (char *)kafka, "--create", "--topic",
                                   (char *)topic, "--if-not-exists", NULL };
            if (proc_run_self(topic_argv, &err) != 0) {
                sl_fail(&err, SL_EIO, "cannot create topic '%s'", topic);
                started++;
                break;
            }
        }
    }
    if (started == NPROCS && !err.code) {
        printf("sluice up: broker on %s (data %s), collector on http://%s/ (topic %s),\n"
               "           extract following into %s/<event_type> -- Ctrl-C stops it all\n",
               kafka, data, http, topic, lake);
        fflush(stdout);
        while (!stop_requested) {
            for (int i = 0; i < NPROCS; i++)
                if (proc_exited(&procs[i])) {
                    sl_fail(&err, SL_EIO, "%s exited unexpectedly; stopping", procs[i].name);
                    stop_requested = 1;
                }
            struct timespec ts = { 0, 100 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    /* collect drains, extract commits, the broker flushes last. */
    static const int order[NPROCS] = { 1, 2, 0 };
    for (int k = 0; k < NPROCS; k++) {
        int i = order[k];
        if (i >= started)
            continue;
        if (proc_stop(&procs[i], 30000) != 0 && !err.code)
            sl_fail(&err, SL_EIO, "%s did not stop cleanly", procs[i].name);
    }
    if (err.code)
        status = cmd_fail("up", &err);
    else
        printf("sluice up: stopped; everything acknowledged is in %s and %s\n", data, lake);
    return status;
}
