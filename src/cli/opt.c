/* opt.c: table-driven option parsing and usage text (see opt.h). */
#include "cli/opt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

void opt_usage(const struct opt_cmd *cmd, const struct opt *opts)
{
    printf("sluice %s: %s\n\n", cmd->name, cmd->summary);
    const char *line = cmd->synopsis;
    const char *prefix = "usage: ";
    while (*line) {
        const char *nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        printf("%s%.*s\n", prefix, n, line);
        prefix = "   or: ";
        line += n + (nl ? 1 : 0);
    }
    printf("\n");
    for (const struct opt *o = opts; o->kind != OPT_END; o++) {
        char left[96];
        int n = 0;
        if (o->shrt)
            n = snprintf(left, sizeof left, "-%c, ", o->shrt);
        else
            n = snprintf(left, sizeof left, "    ");
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->lng, o->argname ? " " : "",
                 o->argname ? o->argname : "");
        printf("    %-30s %s\n", left, o->help);
    }
    printf("    %-30s %s\n", "    --log-level LEVEL", "error, warn, info (default) or debug");
    printf("    %-30s %s\n", "-h, --help", "show this help");
}

int opt_usage_error(const struct opt_cmd *cmd, const char *fmt, ...)
{
    fprintf(stderr, "sluice %s: ", cmd->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'sluice %s --help')\n", cmd->name);
    return 2;
}

void opt_list_release(struct opt_list *list)
{
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static int set_value(const struct opt_cmd *cmd, const struct opt *o, const char *val)
{
    switch (o->kind) {
    case OPT_FLAG:
        *(bool *)o->ptr = true;
        return 0;
    case OPT_STRING:
        *(const char **)o->ptr = val;
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (*val == '\0' || *end != '\0' || errno)
            return opt_usage_error(cmd, "option '--%s' wants an integer, not '%s'", o->lng, val);
        *(int64_t *)o->ptr = v;
        return 0;
    }
    case OPT_LIST: {
        struct opt_list *l = o->ptr;
        l->items = sl_xrealloc(l->items, (size_t)(l->n + 2) * sizeof *l->items);
        l->items[l->n++] = val;
        l->items[l->n] = NULL;
        return 0;
    }
    case OPT_END:
        break;
    }
    return 2;
}

int opt_parse(const struct opt_cmd *cmd, const struct opt *opts, int argc, char **argv)
{
    char **pos = sl_xmalloc((size_t)(argc + 1) * sizeof *pos);
    int npos = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                pos[npos++] = argv[i];
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            pos[npos++] = a;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            opt_usage(cmd, opts);
            rc = -1;
            break;
        }
        const struct opt *o = NULL;
        const char *val = NULL;
        char shown[64];
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            snprintf(shown, sizeof shown, "--%.*s", (int)nlen, name);
            if (nlen == 9 && strncmp(name, "log-level", 9) == 0) {
                const char *lv = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                enum sl_log_level level;
                if (!lv || sl_log_level_parse(lv, &level) != 0)
                    rc = opt_usage_error(cmd, "--log-level wants error, warn, info or debug");
                else
                    sl_log_set_level(level);
                continue;
            }
            for (const struct opt *p = opts; p->kind != OPT_END; p++)
                if (strlen(p->lng) == nlen && strncmp(p->lng, name, nlen) == 0)
                    o = p;
            if (o && eq) {
                if (o->kind == OPT_FLAG) {
                    rc = opt_usage_error(cmd, "option '%s' takes no value", shown);
                    break;
                }
                val = eq + 1;
            }
        } else {
            snprintf(shown, sizeof shown, "-%c", a[1]);
            for (const struct opt *p = opts; p->kind != OPT_END; p++)
                if (p->shrt == a[1])
                    o = p;
            if (o && a[2] != '\0') {
                if (o->kind == OPT_FLAG) {
                    rc = opt_usage_error(cmd, "option '%s' takes no value", shown);
                    break;
                }
                val = a + 2;
            }
        }
        if (!o) {
            rc = opt_usage_error(cmd, "unknown option '%s'", shown);
            break;
        }
        if (o->kind != OPT_FLAG && !val) {
            if (i + 1 >= argc) {
                rc = opt_usage_error(cmd, "option '%s' needs a value (%s)", shown,
                                     o->argname ? o->argname : "VALUE");
                break;
            }
            val = argv[++i];
        }
        if (set_value(cmd, o, val) != 0)
            rc = 2;
    }
    if (rc == 0) {
        for (int k = 0; k < npos; k++)
            argv[1 + k] = pos[k];
        argv[1 + npos] = NULL;
    }
    free(pos);
    if (rc != 0) /* the caller returns at once: nothing of a failed parse to keep */
        for (const struct opt *o = opts; o->kind != OPT_END; o++)
            if (o->kind == OPT_LIST)
                opt_list_release(o->ptr);
    if (rc == -1)
        return -1;
    if (rc != 0)
        return -2;
    return npos;
}
