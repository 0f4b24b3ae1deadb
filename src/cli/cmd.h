/*
 * cmd.h: the sub-commands of the sluice tool. Each takes (argc, argv) with
 * argv[0] the command name, and returns the process exit status: 0 success,
 * 1 runtime error (reported once as "sluice <cmd>: <msg>"), 2 usage error.
 */
#ifndef CLI_CMD_H
#define CLI_CMD_H

#include "base/err.h"

/* Report a runtime failure as one line on stderr; returns 1. */
int cmd_fail(const char *name, const struct sl_error *err);

/* The bootstrap address: -b if given, else $SLUICE_BOOTSTRAP, else localhost:9092. */
const char *cmd_bootstrap(const char *flag_value);

/* Sub-commands (add the entry to the table in main.c too, in display order). */
int cmd_broker(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_topics(int argc, char **argv);
int cmd_produce(int argc, char **argv);
int cmd_consume(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_parquet(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_up(int argc, char **argv);

#endif
