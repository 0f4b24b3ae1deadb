/*
 * log.h: leveled logging to stderr.
 *
 * One line per call: `sluice[<pid>] <UTC time> <level> <message>`. The level
 * threshold is process-wide (set from --log-level); calls below it cost one
 * comparison. Thread-safe (each line is written with a single write()).
 * Not to be confused with src/log/, the on-disk partition log.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN = 1,
    SL_LOG_INFO = 2,
    SL_LOG_DEBUG = 3,
};

extern enum sl_log_level sl_log_threshold;

/* Parse "error", "warn", "info" or "debug"; returns SL_OK or SL_EUSAGE. */
int sl_log_level_parse(const char *name, enum sl_log_level *level);
void sl_log_set_level(enum sl_log_level level);

void sl_log_write(enum sl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define SL_LOG_(lvl, ...)                     \
    do {                                      \
        if ((lvl) <= sl_log_threshold)        \
            sl_log_write((lvl), __VA_ARGS__); \
    } while (0)
#define sl_error(...) SL_LOG_(SL_LOG_ERROR, __VA_ARGS__)
#define sl_warn(...) SL_LOG_(SL_LOG_WARN, __VA_ARGS__)
#define sl_info(...) SL_LOG_(SL_LOG_INFO, __VA_ARGS__)
#define sl_debug(...) SL_LOG_(SL_LOG_DEBUG, __VA_ARGS__)

#endif
