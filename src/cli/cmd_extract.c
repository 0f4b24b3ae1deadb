/*
 * cmd_extract.c: `sluice extract`, the Spark job of the reference course: a
 * topic (or an NDJSON file) into filtered, flattened, typed Parquet tables.
 * Parses the options into struct extract_conf and calls extract_run(); the
 * job itself is src/extract (contract in extract/extract.h).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "extract/extract.h"

static const struct opt_cmd cmd = {
    "extract",
    "sluice extract [-b <host:port>] (-t <topic> | --input <file>|-) -o <dir>\n"
    "               [-w <expr>] [--set <key=value>]... [--split-by <field>]\n"
    "               [--mode error|append|overwrite] [--follow [--commit-interval <n>s|<n>ms|<n>rows]]\n"
    "               [--meta] [--progress|--no-progress]",
    "turn a topic's JSON events into filtered, flattened, typed Parquet tables",
};

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* "10s", "500ms", "2m", plain seconds, or "<n>rows". */
static int parse_interval(const char *s, int64_t *ms, int64_t *rows)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -1;
    if (strcmp(end, "rows") == 0 || strcmp(end, "r") == 0) {
        if (v != (double)(int64_t)v)
            return -1;
        *rows = (int64_t)v;
        return 0;
    }
    double mult = strcmp(end, "") == 0 || strcmp(end, "s") == 0 ? 1000
                  : strcmp(end, "ms") == 0                       ? 1
                  : strcmp(end, "m") == 0                        ? 60000
                                                                 : -1;
    if (mult < 0)
        return -1;
    *ms = (int64_t)(v * mult);
    return *ms > 0 ? 0 : -1;
}

int cmd_extract(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL, *input = NULL, *out = NULL, *where = NULL;
    const char *split_by = NULL, *mode = NULL, *interval = NULL;
    bool follow = false, meta = false, progress = false, no_progress = false;
    int64_t mem_mb = 0, max_records = 0, threads = 0;
    struct opt_list sets = { 0 };
    const struct opt opts[] = {
        { "bootstrap", 'b', OPT_STRING, &bootstrap, "HOST:PORT",
          "broker address (default: $SLUICE_BOOTSTRAP or localhost:9092)" },
        { "topic", 't', OPT_STRING, &topic, "TOPIC", "read this topic, all partitions" },
        { "input", 'i', OPT_STRING, &input, "FILE",
          "read newline-delimited JSON from FILE ('-': stdin) instead of a topic" },
        { "out", 'o', OPT_STRING, &out, "DIR",
          "the output table (or, with --split-by, the directory of tables)" },
        { "where", 'w', OPT_STRING, &where, "EXPR",
          "keep only rows where the SQL condition holds, e.g. \"event_type = 'purchase_sword'\"" },
        { "set", 0, OPT_LIST, &sets, "KEY=VALUE", "set a string field on every record (repeatable)" },
        { "split-by", 0, OPT_STRING, &split_by, "FIELD",
          "write one table per value of FIELD, each with its own schema" },
        { "mode", 'm', OPT_STRING, &mode, "MODE",
          "error (default), append or overwrite (atomic); --follow defaults to append" },
        { "follow", 'f', OPT_FLAG, &follow, NULL,
          "keep reading and commit new parts every --commit-interval; resumes from _offsets" },
        { "commit-interval", 0, OPT_STRING, &interval, "N",
          "with --follow: commit every Ns, Nms, Nm or Nrows (default 10s)" },
        { "meta", 0, OPT_FLAG, &meta, NULL, "add _partition, _offset and _ts columns" },
        { "progress", 0, OPT_FLAG, &progress, NULL, "draw a progress bar (default: on a terminal)" },
        { "no-progress", 0, OPT_FLAG, &no_progress, NULL, "never draw the progress bar" },
        { "mem-max", 0, OPT_INT, &mem_mb, "MIB",
          "buffer at most this many MiB of rows before writing parts (default 512)" },
        { "max-records", 0, OPT_INT, &max_records, "N", "stop after N records" },
        { "threads", 0, OPT_INT, &threads, "N",
          "parsing threads for a file or a batch topic read (default: one per CPU, at most 4)" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    int rc = 2;
    struct extract_conf conf = { 0 };
    struct sl_error err = { 0 };
    if (npos > 0) {
        opt_usage_error(&cmd, "unexpected argument '%s'", argv[1]);
        goto done;
    }
    if (!out || !*out) {
        opt_usage_error(&cmd, "missing -o <dir>");
        goto done;
    }
    if (!topic == !input) {
        opt_usage_error(&cmd, "give either -t <topic> or --input <file>");
        goto done;
    }
    if (mode) {
        if (strcmp(mode, "error") == 0 || strcmp(mode, "errorifexists") == 0)
            conf.mode = EXTRACT_MODE_ERROR;
        else if (strcmp(mode, "append") == 0)
            conf.mode = EXTRACT_MODE_APPEND;
        else if (strcmp(mode, "overwrite") == 0)
            conf.mode = EXTRACT_MODE_OVERWRITE;
        else {
            opt_usage_error(&cmd, "--mode wants error, append or overwrite, not '%s'", mode);
            goto done;
        }
        conf.mode_given = true;
    }
    if (interval && !follow) {
        opt_usage_error(&cmd, "--commit-interval needs --follow");
        goto done;
    }
    if (interval && parse_interval(interval, &conf.commit_ms, &conf.commit_rows) != 0) {
        opt_usage_error(&cmd, "--commit-interval wants e.g. 10s, 500ms, 1m or 1000rows, not '%s'",
                        interval);
        goto done;
    }
    if (mem_mb < 0 || mem_mb > (1 << 20) || max_records < 0 || threads < 0 || threads > 16) {
        opt_usage_error(&cmd, "--mem-max, --max-records and --threads (1..16) want positive numbers");
        goto done;
    }
    conf.bootstrap = cmd_bootstrap(bootstrap);
    conf.topic = topic;
    conf.input = input;
    conf.out = out;
    conf.where = where;
    conf.sets = sets.items;
    conf.nsets = sets.n;
    conf.split_by = split_by;
    conf.follow = follow;
    conf.meta = meta;
    conf.progress = !no_progress && (progress || isatty(2));
    conf.mem_max = (size_t)mem_mb << 20;
    conf.max_records = max_records;
    conf.threads = (int)threads;
    conf.stop = &stop_requested;
    if (follow) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    /* From a topic, librdkafka's Fetch buffers, as in `sluice consume`
     * (a quarter fewer page faults over 1M events; a file run is unmoved). */
    sl_mem_keep_large_buffers();
    int r = extract_run(&conf, &err);
    if (r == SL_EUSAGE) {
        rc = opt_usage_error(&cmd, "%s", err.msg);
        goto done;
    }
    const struct extract_counts *c = &conf.counts;
    if (r == SL_OK) {
        printf("read %lld records: %lld written, %lld filtered out, %lld corrupt\n",
               (long long)c->read, (long long)c->written, (long long)c->filtered,
               (long long)c->corrupt);
        for (int t = 0; t < conf.ntables; t++)
            printf("table '%s': %lld rows\n", conf.table_names[t], (long long)conf.table_rows[t]);
        rc = 0;
    } else {
        rc = cmd_fail("extract", &err); /* --out keeps its last commit */
    }
done:
    extract_conf_release(&conf);
    opt_list_release(&sets);
    return rc;
}
