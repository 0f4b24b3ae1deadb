/*
 * opt.h: one option table per sub-command drives both parsing and --help
 * (after git's parse_options).
 *
 * Every command also accepts --help (print usage to stdout, exit 0) and
 * --log-level LEVEL. Forms: --name VALUE, --name=VALUE, -n VALUE, -nVALUE,
 * and `--` to end options. Positional arguments are moved to the front of
 * argv, in order.
 */
#ifndef CLI_OPT_H
#define CLI_OPT_H

#include <stdint.h>

enum opt_kind {
    OPT_FLAG,   /* bool *: set to true */
    OPT_STRING, /* const char **: borrowed from argv */
    OPT_INT,    /* int64_t *: decimal, whole argument must parse */
    OPT_LIST,   /* struct opt_list *: every occurrence appended */
    OPT_END,    /* terminates the table */
};

struct opt_list {
    const char **items; /* owned array of pointers borrowed from argv, NULL-terminated;
                           NULL while n == 0 */
    int n;
};

struct opt {
    const char *lng;     /* long name without "--" */
    char shrt;           /* short letter, or 0 */
    enum opt_kind kind;
    void *ptr;           /* where the value goes, typed by kind */
    const char *argname; /* shown in help, e.g. "HOST:PORT"; NULL for flags */
    const char *help;    /* one line */
};

#define OPT_TABLE_END { NULL, 0, OPT_END, NULL, NULL, NULL }

struct opt_cmd {
    const char *name;     /* "broker" */
    const char *synopsis; /* lines after "usage: ", joined by '\n' */
    const char *summary;  /* one line, shown first */
};

/*
 * Parse argv[1..argc). Returns the number of positional arguments (now at
 * argv[1..n]) or -1 after --help was printed (exit 0) or -2 after a usage
 * error was printed as one line on stderr (exit 2). On -1 and -2 the
 * OPT_LIST values are already released.
 */
int opt_parse(const struct opt_cmd *cmd, const struct opt *opts, int argc, char **argv);

/* Print the usage of cmd to stdout. */
void opt_usage(const struct opt_cmd *cmd, const struct opt *opts);

/* Print "sluice <cmd>: <msg>" on stderr; returns 2 (usage error). */
int opt_usage_error(const struct opt_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Free what opt_parse allocated for OPT_LIST options. */
void opt_list_release(struct opt_list *list);

#endif
