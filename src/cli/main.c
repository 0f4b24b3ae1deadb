/*
 * main.c: the sluice tool's entry point. Dispatches git-style to the
 * sub-commands in cmds[] (display order), handles the global flags, and
 * reports stdout write errors once the command is done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cmd.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct cmd cmds[] = {
    { "broker", cmd_broker, "run a Kafka-protocol broker with a durable log" },
    { "collect", cmd_collect, "serve the HTTP event API, logging requests to Kafka" },
    { "topics", cmd_topics, "create, describe, list and delete topics" },
    { "produce", cmd_produce, "write stdin lines to a topic, one message each" },
    { "consume", cmd_consume, "print a topic's messages, one per line" },
    { "groups", cmd_groups, "list consumer groups: members, assignments, offsets, lag" },
    { "extract", cmd_extract, "turn a topic's JSON events into typed Parquet tables" },
    { "parquet", cmd_parquet, "describe a Parquet file: schema, row groups, statistics" },
    { "sql", cmd_sql, "SQL over the lake's Parquet tables, or an interactive shell" },
    { "ls", cmd_ls, "list a lake path with sizes, rows and times" },
    { "demo", cmd_demo, "run the whole pipeline on a temporary directory, stage by stage" },
    { "up", cmd_up, "run broker, collector and a following extract until interrupted" },
    { NULL, NULL, NULL },
};

int cmd_fail(const char *name, const struct sl_error *err)
{
    fprintf(stderr, "sluice %s: %s\n", name, err->msg[0] ? err->msg : sl_err_name(err->code));
    return 1;
}

const char *cmd_bootstrap(const char *flag_value)
{
    if (flag_value && *flag_value)
        return flag_value;
    const char *env = getenv("SLUICE_BOOTSTRAP");
    return env && *env ? env : "localhost:9092";
}

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice [--version] [--help] [--log-level LEVEL] <command> [<args>]\n\n"
                 "sluice is a user-activity event pipeline in one binary.\n\n");
    if (cmds[0].name) {
        fprintf(out, "commands:\n");
        for (const struct cmd *c = cmds; c->name; c++)
            fprintf(out, "    %-10s %s\n", c->name, c->summary);
        fprintf(out, "\n");
    }
    fprintf(out, "'sluice help <command>' or 'sluice <command> --help' shows a command's usage.\n");
}

static const struct cmd *find(const char *name)
{
    for (const struct cmd *c = cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* git's run_builtin: a full disk or closed pipe on stdout must not pass silently,
 * except EPIPE, so that `sluice consume | head` stays quiet. */
static int finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno == EPIPE)
            return status;
        fprintf(stderr, "sluice: write error on stdout: %s\n", strerror(errno));
        return status ? status : 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return finish_stdout(0);
        }
        if (strcmp(a, "--version") == 0) {
            printf("sluice %s\n", SLUICE_VERSION);
            return finish_stdout(0);
        }
        if (strcmp(a, "--log-level") == 0 || strncmp(a, "--log-level=", 12) == 0) {
            const char *lv = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
            enum sl_log_level level;
            if (sl_log_level_parse(lv, &level) != 0) {
                fprintf(stderr, "sluice: --log-level wants error, warn, info or debug\n");
                return 2;
            }
            sl_log_set_level(level);
            continue;
        }
        fprintf(stderr, "sluice: unknown option '%s' (see 'sluice --help')\n", a);
        return 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[i];
    char *help_argv[3];
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc) {
            usage(stdout);
            return finish_stdout(0);
        }
        /* `sluice help CMD` is `sluice CMD --help`. */
        help_argv[0] = argv[i + 1];
        help_argv[1] = "--help";
        help_argv[2] = NULL;
        argv = help_argv;
        argc = 2;
        i = 0;
        name = argv[0];
    }
    const struct cmd *c = find(name);
    if (!c) {
        fprintf(stderr, "sluice: '%s' is not a sluice command (see 'sluice --help')\n", name);
        return 2;
    }
    return finish_stdout(c->fn(argc - i, argv + i));
}
