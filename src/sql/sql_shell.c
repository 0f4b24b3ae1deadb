/*
 * sql_shell.c: the interactive `sluice sql` shell, on libedit's readline
 * interface (line editing, history kept in a file between sessions).
 *
 * Input is gathered line by line until it holds a complete statement
 * (sqlite3_complete: a `;` outside quotes and comments), so a statement may
 * span lines, as in the sqlite3 and psql shells. A line starting with `.` at
 * the start of a statement is a dot command. Errors are printed and the
 * shell goes on: only end of input (Ctrl-D) or .quit ends it.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <editline/readline.h>

#include "base/mem.h"
#include "sql/sql_int.h"

#define HISTORY_MAX 1000

static const char help_text[] =
    "Statements end with ';' and may span lines. Besides SQLite's SQL:\n"
    "  describe T;            pandas' describe() of table T (or: describe SELECT ...;)\n"
    "  .tables                list the tables\n"
    "  .schema [T]            columns of T (or of every table)\n"
    "  .mode [MODE]           output: table, csv, json or markdown\n"
    "  .truncate N            table cells wider than N characters are cut (0: never)\n"
    "  .help                  this text\n"
    "  .quit                  leave (also Ctrl-D)\n";

static sqlite3 *running_db; /* the connection of the statement running, for Ctrl-C */

static void on_sigint(int sig)
{
    (void)sig;
    sql_interrupted = 1;
    if (running_db)
        sqlite3_interrupt(running_db);
}

static void report(const struct sl_error *err)
{
    fprintf(stderr, "error: %s\n", err->msg[0] ? err->msg : sl_err_name(err->code));
}

/* Run a dot command: 1 to go on, 0 for .quit, < 0 on failure (err set). */
static int dot_command(struct sql_session *s, struct sql_out *out, char *line, struct sl_error *err)
{
    char *argv[4] = { 0 };
    int argc = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && argc < 4; tok = strtok(NULL, " \t\r\n"))
        argv[argc++] = tok;
    if (argc == 0)
        return 1;
    const char *cmd = argv[0];
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int rc = 1;
    if (strcmp(cmd, ".quit") == 0 || strcmp(cmd, ".exit") == 0 || strcmp(cmd, ".q") == 0) {
        rc = 0;
    } else if (strcmp(cmd, ".tables") == 0) {
        sql_session_table_names(s, &b);
        sl_buf_append_str(&b, b.len ? "\n" : "(no tables: see --lake and --table)\n");
    } else if (strcmp(cmd, ".schema") == 0) {
        if (sql_session_schema(s, argc > 1 ? argv[1] : NULL, &b, err) != SL_OK)
            rc = err->code ? err->code : SL_ENOTFOUND;
    } else if (strcmp(cmd, ".mode") == 0) {
        enum sql_mode m;
        if (argc < 2)
            sl_buf_appendf(&b, "%s\n", sql_mode_name(out->mode));
        else if (sql_mode_parse(argv[1], &m) != SL_OK)
            rc = sl_fail(err, SL_EUSAGE, "unknown mode '%s': table, csv, json or markdown", argv[1]);
        else
            out->mode = m;
    } else if (strcmp(cmd, ".truncate") == 0) {
        int n = argc > 1 ? atoi(argv[1]) : -1;
        if (n != 0 && n < 4)
            rc = sl_fail(err, SL_EUSAGE, ".truncate wants 0 (never) or a width of at least 4");
        else
            out->truncate = n;
    } else if (strcmp(cmd, ".help") == 0) {
        sl_buf_append_str(&b, help_text);
    } else {
        rc = sl_fail(err, SL_EUSAGE, "unknown command '%s' (see .help)", cmd);
    }
    /* Through the result writer, so the text keeps its place among results. */
    if (b.len && sl_buf_append(&out->buf, b.data, b.len) == SL_OK && rc >= 0)
        rc = sql_out_flush(out, err) == SL_OK ? rc : SL_EIO;
    sl_buf_release(&b);
    return rc;
}

int sql_script_run(struct sql_session *s, const char *text, struct sql_out *out,
                   struct sl_error *err)
{
    struct sl_buf stmt;
    sl_buf_init(&stmt, 0);
    int rc = SL_OK;
    const char *p = text;
    while (*p && rc == SL_OK) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        const char *q = p;
        while (q < p + n && isspace((unsigned char)*q))
            q++;
        if (stmt.len == 0 && *q == '.') {
            char *line = sl_xstrndup(q, n - (size_t)(q - p));
            int d = dot_command(s, out, line, err);
            free(line);
            if (d == 0)
                break;
            if (d < 0)
                rc = d;
        } else {
            sl_buf_append(&stmt, p, n);
            if (sql_complete((const char *)stmt.data)) {
                rc = sql_session_exec(s, (const char *)stmt.data, out, err);
                sl_buf_reset(&stmt);
            }
        }
        p += n;
    }
    if (rc == SL_OK && stmt.len) /* a last statement without its ';' */
        rc = sql_session_exec(s, (const char *)stmt.data, out, err);
    sl_buf_release(&stmt);
    return rc;
}

static bool blank(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return *p == 0;
}

int sql_shell_run(struct sql_session *s, struct sql_out *out, const char *history_path,
                  struct sl_error *err)
{
    (void)err;
    rl_readline_name = "sluice";
    using_history();
    stifle_history(HISTORY_MAX);
    if (history_path)
        read_history(history_path);
    out->footer = true;
    struct sl_buf stmt;
    sl_buf_init(&stmt, 0);
    printf("sluice sql: SQLite %s over Parquet. '.help' for help, Ctrl-D to leave.\n",
           sqlite3_libversion());
    for (;;) {
        char *line = readline(stmt.len ? "   ...> " : "sluice> ");
        if (!line) {
            printf("\n");
            break;
        }
        if (stmt.len == 0) {
            const char *p = line;
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '.') {
                add_history(line);
                struct sl_error e = { 0 };
                int d = dot_command(s, out, (char *)p, &e);
                free(line);
                if (d == 0)
                    break;
                if (d < 0)
                    report(&e);
                continue;
            }
            if (blank(p)) {
                free(line);
                continue;
            }
            if (strcasecmp(p, "quit") == 0 || strcasecmp(p, "exit") == 0) {
                free(line);
                break;
            }
        }
        sl_buf_append_str(&stmt, line);
        sl_buf_u8(&stmt, '\n');
        free(line);
        if (!sql_complete((const char *)stmt.data))
            continue;
        /* One history entry per statement, its lines joined. */
        char *h = sl_xstrdup((const char *)stmt.data);
        for (char *c = h; *c; c++)
            if (*c == '\n')
                *c = ' ';
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ')
            h[--n] = 0;
        add_history(h);
        free(h);
        /* Ctrl-C while a statement runs stops it, not the shell. */
        struct sl_error e = { 0 };
        struct sigaction sa = { .sa_handler = on_sigint }, old;
        sigemptyset(&sa.sa_mask);
        sql_interrupted = 0;
        running_db = s->db;
        sigaction(SIGINT, &sa, &old);
        if (sql_session_exec(s, (const char *)stmt.data, out, &e) != SL_OK)
            report(&e);
        sigaction(SIGINT, &old, NULL);
        running_db = NULL;
        sql_interrupted = 0;
        fflush(stdout);
        sl_buf_reset(&stmt);
    }
    if (history_path)
        write_history(history_path);
    sl_buf_release(&stmt);
    return SL_OK;
}
