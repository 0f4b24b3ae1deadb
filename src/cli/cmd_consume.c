/*
 * cmd_consume.c: `sluice consume`, print a topic's messages one per line,
 * like `kcat -C` and kafka-console-consumer. Reads by partition assignment
 * (no consumer group); -e stops at the end offsets seen at start. With
 * -G GROUP it joins the consumer group instead (like `kcat -G`): the group
 * assigns partitions, each starts at the group's committed offset, and what
 * was printed is committed (at the latest on exit).
 *
 * stdout is flushed whenever no message is waiting, so a follower shows
 * messages as they arrive; SIGPIPE is ignored and a write error ends the
 * loop, so `sluice consume | head` stops quietly (main.c stays quiet on
 * EPIPE).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "kclient/kclient.h"

static const struct opt_cmd cmd = {
    "consume",
    "sluice consume [-b <host:port>] -t <topic> [-o beginning|end|<offset>] [-e] "
    "[-c <count>] [-p <partition>] [-G <group>] [-f <format>] [-X <name=value>]...",
    "print a topic's messages, one value per line",
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* One reader's next(): kclient_consumer_next or kclient_group_consumer_next. */
typedef int next_fn(void *src, struct kclient_msg *msg, int timeout_ms, struct sl_error *err);

static int plain_next(void *src, struct kclient_msg *msg, int timeout_ms, struct sl_error *err)
{
    return kclient_consumer_next(src, msg, timeout_ms, err);
}

static int group_next(void *src, struct kclient_msg *msg, int timeout_ms, struct sl_error *err)
{
    return kclient_group_consumer_next(src, msg, timeout_ms, err);
}

/*
 * Print messages in `format` until the reader is done, a signal, or a write
 * error (which main.c reports, or not for EPIPE). Flushes stdout whenever
 * the reader has nothing ready, so a follower's output is never held back.
 * Returns 0, or < 0 with the reader's failure in err.
 */
static int print_loop(next_fn *next, void *src, const char *format, struct sl_buf *out,
                      struct sl_error *err)
{
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop_requested) {
        struct kclient_msg msg;
        int r = next(src, &msg, 0, err);
        if (r == SL_EAGAIN) {
            if (fflush(stdout) != 0)
                return 0;
            r = next(src, &msg, 200, err);
            if (r == SL_EAGAIN)
                continue;
        }
        if (r <= 0)
            return r;
        sl_buf_reset(out);
        kclient_format(out, format, &msg);
        if (fwrite(out->data, 1, out->len, stdout) != out->len)
            return 0;
    }
    return 0;
}

/* -G: the same loop over a group member, which commits what it printed. */
static int consume_group(const struct kclient_group_conf *conf, const char *format,
                         struct sl_buf *out)
{
    struct sl_error err = { 0 };
    struct kclient_group_consumer *gc = kclient_group_consumer_new(conf, &err);
    if (!gc)
        return err.code == SL_EUSAGE ? opt_usage_error(&cmd, "%s", err.msg)
                                     : cmd_fail("consume", &err);
    int r = print_loop(group_next, gc, format, out, &err);
    fflush(stdout);
    struct sl_error cerr = { 0 };
    int crc = kclient_group_consumer_close(gc, &cerr);
    kclient_group_consumer_free(gc);
    if (r < 0)
        return cmd_fail("consume", &err);
    return crc != SL_OK ? cmd_fail("consume", &cerr) : 0;
}

/* "beginning"/"earliest", "end"/"latest" or an offset >= 0. */
static int parse_offset(const char *s, int64_t *out)
{
    if (strcmp(s, "beginning") == 0 || strcmp(s, "earliest") == 0) {
        *out = KCLIENT_OFFSET_BEGINNING;
        return 0;
    }
    if (strcmp(s, "end") == 0 || strcmp(s, "latest") == 0) {
        *out = KCLIENT_OFFSET_END;
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

int cmd_consume(int argc, char **argv)
{
    const char *bootstrap = NULL, *bootstrap_server = NULL, *topic = NULL, *offset = NULL;
    const char *format = NULL, *group = NULL;
    bool exit_at_end = false, from_beginning = false;
    int64_t count = 0, max_messages = 0, partition = KCLIENT_PARTITION_ALL;
    struct opt_list props = { 0 };
    const struct opt opts[] = {
        { "bootstrap", 'b', OPT_STRING, &bootstrap, "HOST:PORT",
          "broker address (default: $SLUICE_BOOTSTRAP or localhost:9092)" },
        { "bootstrap-server", 0, OPT_STRING, &bootstrap_server, "HOST:PORT",
          "the same as --bootstrap (kafka-console-consumer's spelling)" },
        { "topic", 't', OPT_STRING, &topic, "TOPIC", "the topic to read" },
        { "offset", 'o', OPT_STRING, &offset, "beginning|end|N",
          "where to start in each partition (default: beginning)" },
        { "from-beginning", 0, OPT_FLAG, &from_beginning, NULL, "the same as -o beginning" },
        { "exit", 'e', OPT_FLAG, &exit_at_end, NULL,
          "exit at the end of the partitions (as seen at start)" },
        { "count", 'c', OPT_INT, &count, "N", "exit after N messages" },
        { "max-messages", 0, OPT_INT, &max_messages, "N", "the same as --count" },
        { "partition", 'p', OPT_INT, &partition, "N", "read only partition N" },
        { "group", 'G', OPT_STRING, &group, "GROUP",
          "join consumer group GROUP: partitions come from the group, reading starts at its "
          "committed offsets (else at -o beginning|end) and consumed offsets are committed" },
        { "format", 'f', OPT_STRING, &format, "FMT",
          "kcat-style output: %s value, %k key, %p partition, %o offset, %T timestamp (ms), "
          "%t topic, %S/%K lengths, \\n \\t (default: '%s\\n')" },
        { "property", 'X', OPT_LIST, &props, "NAME=VALUE", "a librdkafka consumer property" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    int rc = 2;
    struct kclient_consumer *cons = NULL;
    struct sl_buf out;
    sl_buf_init(&out, 0);
    struct sl_error err = { 0 };
    int64_t start = KCLIENT_OFFSET_BEGINNING;
    if (npos > 0) {
        opt_usage_error(&cmd, "unexpected argument '%s'", argv[1]);
        goto out;
    }
    if (!topic || !*topic) {
        opt_usage_error(&cmd, "missing -t <topic>");
        goto out;
    }
    if (offset && parse_offset(offset, &start) != 0) {
        opt_usage_error(&cmd, "-o wants beginning, end or an offset >= 0, not '%s'", offset);
        goto out;
    }
    if (offset && from_beginning) {
        opt_usage_error(&cmd, "-o and --from-beginning cannot be combined");
        goto out;
    }
    if (max_messages && !count)
        count = max_messages;
    if (count < 0) {
        opt_usage_error(&cmd, "-c wants a count >= 0 (0: no limit)");
        goto out;
    }
    if (partition != KCLIENT_PARTITION_ALL && (partition < 0 || partition > INT32_MAX)) {
        opt_usage_error(&cmd, "-p wants a partition number >= 0");
        goto out;
    }
    if (!format)
        format = KCLIENT_FORMAT_DEFAULT;
    if (kclient_format_check(format, &err) != SL_OK) {
        opt_usage_error(&cmd, "%s", err.msg);
        goto out;
    }
    /* librdkafka's consumer allocates a buffer per Fetch response (about
     * 1 MiB) and frees it once its messages are printed. */
    sl_mem_keep_large_buffers();
    if (group) {
        if (!*group || partition != KCLIENT_PARTITION_ALL || start >= 0) {
            rc = opt_usage_error(&cmd, !*group ? "-G wants a group id"
                                               : "-G cannot be combined with -p or -o <offset>");
            goto out;
        }
        struct kclient_group_conf gconf = {
            .bootstrap = cmd_bootstrap(bootstrap ? bootstrap : bootstrap_server),
            .group = group,
            .topic = topic,
            .start = start,
            .stop_at_end = exit_at_end,
            .max_messages = count,
            .props = props.items,
        };
        rc = consume_group(&gconf, format, &out);
        goto out;
    }

    struct kclient_consumer_conf conf = {
        .bootstrap = cmd_bootstrap(bootstrap ? bootstrap : bootstrap_server),
        .topic = topic,
        .partition = (int32_t)partition,
        .start = start,
        .stop_at_end = exit_at_end,
        .max_messages = count,
        .props = props.items,
    };
    cons = kclient_consumer_new(&conf, &err);
    if (!cons) {
        rc = err.code == SL_EUSAGE ? opt_usage_error(&cmd, "%s", err.msg)
                                   : cmd_fail("consume", &err);
        goto out;
    }
    int r = print_loop(plain_next, cons, format, &out, &err);
    rc = r < 0 ? cmd_fail("consume", &err) : 0;
out:
    kclient_consumer_free(cons);
    sl_buf_release(&out);
    opt_list_release(&props);
    return rc;
}
