/*
 * cmd_broker.c: `sluice broker`, a single-node Kafka-protocol broker with a
 * durable on-disk log. Parses options into a struct broker_config and runs
 * src/broker until SIGTERM or SIGINT, then exits 0 after flushing the log.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "broker/broker.h"
#include "cli/cmd.h"
#include "cli/opt.h"

static const struct opt_cmd broker_cmd = {
    "broker",
    "sluice broker [--listen H:P] [--advertise H:P] [--data DIR] [--no-auto-create] "
    "[--partitions N] [--max-request-bytes N] [--flush always|interval=MS|os] "
    "[--segment-bytes N] [--segment-ms MS] [--retention-bytes N] [--retention-ms MS] "
    "[--max-message-bytes N] [--dump-frames DIR]",
    "run a Kafka-protocol broker with a durable log",
};

static struct broker *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        broker_stop(running);
}

/* Hundreds of client connections need more than the usual 1024 fds. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int cmd_broker(int argc, char **argv)
{
    struct broker_config cfg;
    broker_config_default(&cfg);
    const char *flush = NULL;
    bool no_auto_create = false;
    int64_t partitions = cfg.partitions, max_request = (int64_t)cfg.max_request_bytes;
    int64_t segment_bytes = cfg.log.segment_bytes, segment_ms = cfg.log.segment_ms;
    int64_t retention_bytes = cfg.log.retention_bytes, retention_ms = cfg.log.retention_ms;
    int64_t max_message = cfg.log.max_batch_bytes;
    const struct opt opts[] = {
        {"listen", 0, OPT_STRING, &cfg.listen, "H:P",
         "address to listen on (default 127.0.0.1:9092)"},
        {"advertise", 0, OPT_STRING, &cfg.advertise, "H:P",
         "address given to clients in Metadata (default: the listen address)"},
        {"data", 0, OPT_STRING, &cfg.data_dir, "DIR", "data directory (default ./sluice-data)"},
        {"no-auto-create", 0, OPT_FLAG, &no_auto_create, NULL,
         "do not create unknown topics on Metadata or Produce"},
        {"partitions", 0, OPT_INT, &partitions, "N",
         "partitions of auto-created topics (default 1)"},
        {"max-request-bytes", 0, OPT_INT, &max_request, "N",
         "largest request frame accepted (default 104857600)"},
        {"flush", 0, OPT_STRING, &flush, "POLICY",
         "interval=MS (ack once written, fdatasync within MS; default interval=1000), "
         "always (fdatasync before acks), or os"},
        {"segment-bytes", 0, OPT_INT, &segment_bytes, "N",
         "roll segments at this size (default 1 GiB)"},
        {"segment-ms", 0, OPT_INT, &segment_ms, "MS", "roll segments this old (default 7 days)"},
        {"retention-bytes", 0, OPT_INT, &retention_bytes, "N",
         "keep at most this many bytes per partition (default -1: unlimited)"},
        {"retention-ms", 0, OPT_INT, &retention_ms, "MS",
         "delete segments older than this (default 7 days; -1: forever)"},
        {"max-message-bytes", 0, OPT_INT, &max_message, "N",
         "largest record batch accepted (default 1 MiB)"},
        {"dump-frames", 0, OPT_STRING, &cfg.dump_dir, "DIR",
         "debug: write every request frame to DIR (fuzz corpus seeds)"},
        OPT_TABLE_END,
    };
    int npos = opt_parse(&broker_cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    if (npos > 0)
        return opt_usage_error(&broker_cmd, "unexpected argument '%s'", argv[1]);

    struct sl_error err = {0};
    if (flush && log_flush_parse(flush, &cfg.log, &err) != SL_OK)
        return opt_usage_error(&broker_cmd, "%s", err.msg);
    if (partitions < 1 || partitions > LOG_PARTITIONS_MAX)
        return opt_usage_error(&broker_cmd, "--partitions must be 1..%d", LOG_PARTITIONS_MAX);
    if (max_request < 64 || max_request > INT32_MAX)
        return opt_usage_error(&broker_cmd, "--max-request-bytes must be 64..%d", INT32_MAX);
    if (segment_bytes < 1 || segment_bytes > LOG_SEGMENT_BYTES_MAX)
        return opt_usage_error(&broker_cmd, "--segment-bytes must be 1..%lld",
                               (long long)LOG_SEGMENT_BYTES_MAX);
    if (max_message < 1)
        return opt_usage_error(&broker_cmd, "--max-message-bytes must be positive");
    cfg.auto_create = !no_auto_create;
    cfg.partitions = (int32_t)partitions;
    cfg.max_request_bytes = (size_t)max_request;
    cfg.log.segment_bytes = segment_bytes;
    cfg.log.segment_ms = segment_ms;
    cfg.log.retention_bytes = retention_bytes;
    cfg.log.retention_ms = retention_ms;
    cfg.log.max_batch_bytes = max_message;

    raise_fd_limit();
    struct broker *b = broker_new(&cfg, &err);
    if (!b)
        return err.code == SL_EUSAGE ? opt_usage_error(&broker_cmd, "%s", err.msg)
                                     : cmd_fail("broker", &err);
    running = b;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = broker_run(b, &err);
    running = NULL;
    broker_free(b);
    return rc == SL_OK ? 0 : cmd_fail("broker", &err);
}
