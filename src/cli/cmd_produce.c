/*
 * cmd_produce.c: `sluice produce`, one message per stdin line to a topic on
 * any Kafka-protocol broker, like `kcat -P` and kafka-console-producer. It
 * waits for every delivery report before exiting: "Produced N messages."
 * means the broker acknowledged all N.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "kclient/kclient.h"

static const struct opt_cmd cmd = {
    "produce",
    "sluice produce [-b <host:port>] -t <topic> [-k <key> | -K <delim>] [-p <partition>] "
    "[--acks 0|1|all] [-X <name=value>]...",
    "write one message per line of standard input to a topic",
};

/* Split line at the first delim into key and value; no delim: no key. */
static void split_key(const char *line, size_t len, const char *delim, struct sl_slice *key,
                      struct sl_slice *value)
{
    size_t dlen = strlen(delim);
    const char *hit = dlen ? memmem(line, len, delim, dlen) : NULL;
    if (!hit) {
        *key = sl_slice_make(NULL, 0);
        *value = sl_slice_make(line, len);
        return;
    }
    *key = sl_slice_make(line, (size_t)(hit - line));
    *value = sl_slice_make(hit + dlen, len - (size_t)(hit - line) - dlen);
}

int cmd_produce(int argc, char **argv)
{
    const char *bootstrap = NULL, *bootstrap_server = NULL, *broker_list = NULL;
    const char *topic = NULL, *key = NULL, *delim = NULL, *acks = NULL;
    int64_t partition = KCLIENT_PARTITION_ANY;
    struct opt_list props = { 0 };
    const struct opt opts[] = {
        { "bootstrap", 'b', OPT_STRING, &bootstrap, "HOST:PORT",
          "broker address (default: $SLUICE_BOOTSTRAP or localhost:9092)" },
        { "bootstrap-server", 0, OPT_STRING, &bootstrap_server, "HOST:PORT",
          "the same as --bootstrap (kafka-console-producer's spelling)" },
        { "broker-list", 0, OPT_STRING, &broker_list, "HOST:PORT",
          "the same as --bootstrap (older kafka-console-producer)" },
        { "topic", 't', OPT_STRING, &topic, "TOPIC", "the topic to write to" },
        { "key", 'k', OPT_STRING, &key, "KEY", "the key of every message" },
        { "key-delimiter", 'K', OPT_STRING, &delim, "DELIM",
          "split each line at the first DELIM into key and value" },
        { "partition", 'p', OPT_INT, &partition, "N",
          "write to partition N (default: by key, else spread)" },
        { "acks", 0, OPT_STRING, &acks, "0|1|all",
          "acknowledgement to wait for (default all)" },
        { "request-required-acks", 0, OPT_STRING, &acks, "0|1|all", "the same as --acks" },
        { "property", 'X', OPT_LIST, &props, "NAME=VALUE",
          "a librdkafka producer property, e.g. compression.codec=zstd" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    int rc = 2;
    char *line = NULL;
    struct kclient_producer *prod = NULL;
    if (npos > 0) {
        opt_usage_error(&cmd, "unexpected argument '%s'", argv[1]);
        goto out;
    }
    if (!topic || !*topic) {
        opt_usage_error(&cmd, "missing -t <topic>");
        goto out;
    }
    if (partition != KCLIENT_PARTITION_ANY && (partition < 0 || partition > INT32_MAX)) {
        opt_usage_error(&cmd, "-p wants a partition number >= 0");
        goto out;
    }
    if (key && delim) {
        opt_usage_error(&cmd, "-k and -K cannot be combined");
        goto out;
    }
    if (delim && !*delim) {
        opt_usage_error(&cmd, "-K wants a non-empty delimiter");
        goto out;
    }

    struct sl_error err = { 0 };
    struct kclient_producer_conf conf = {
        .bootstrap = cmd_bootstrap(bootstrap          ? bootstrap
                                   : bootstrap_server ? bootstrap_server
                                                      : broker_list),
        .acks = acks,
        .props = props.items,
    };
    prod = kclient_producer_new(&conf, &err);
    if (!prod) {
        rc = err.code == SL_EUSAGE ? opt_usage_error(&cmd, "%s", err.msg)
                                   : cmd_fail("produce", &err);
        goto out;
    }
    size_t cap = 0;
    ssize_t n;
    int r = SL_OK;
    errno = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        struct sl_slice k = key ? sl_slice_str(key) : sl_slice_make(NULL, 0);
        struct sl_slice v = sl_slice_make(line, len);
        if (delim)
            split_key(line, len, delim, &k, &v);
        r = kclient_produce(prod, topic, (int32_t)partition, k, v, NULL, &err);
        if (r != SL_OK)
            break;
    }
    if (r == SL_OK && ferror(stdin))
        r = sl_fail_errno(&err, SL_EIO, "cannot read standard input");
    /* Even after a failure, wait for the reports of what was queued. */
    struct sl_error flush_err = { 0 };
    int fr = kclient_producer_flush(prod, -1, &flush_err);
    if (r == SL_OK && fr != SL_OK) {
        r = fr;
        err = flush_err;
    }
    if (r != SL_OK) {
        rc = cmd_fail("produce", &err);
        goto out;
    }
    struct kclient_producer_stats stats;
    kclient_producer_stats(prod, &stats);
    fprintf(stderr, "Produced %lld messages.\n", (long long)stats.delivered);
    rc = 0;
out:
    kclient_producer_free(prod);
    free(line);
    opt_list_release(&props);
    return rc;
}
