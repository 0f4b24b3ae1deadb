/* log.c: stderr logger (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

enum sl_log_level sl_log_threshold = SL_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

int sl_log_level_parse(const char *name, enum sl_log_level *level)
{
    for (int i = 0; i <= SL_LOG_DEBUG; i++) {
        if (strcmp(name, names[i]) == 0) {
            *level = (enum sl_log_level)i;
            return SL_OK;
        }
    }
    return SL_EUSAGE;
}

void sl_log_set_level(enum sl_log_level level)
{
    sl_log_threshold = level;
}

void sl_log_write(enum sl_log_level level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "sluice[%d] %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     (int)getpid(), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* A lost log line is not worth failing for; nothing to do on error. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
