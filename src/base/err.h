/*
 * err.h: the one error convention of sluice.
 *
 * Every fallible function returns an enum sl_err (SL_OK = 0, failures < 0) or,
 * if it returns a length, a value >= 0 on success and an sl_err on failure.
 * A function whose failure a user can cause takes `struct sl_error *err` last
 * and records a message there with sl_fail(): the first failure wins, later
 * ones are ignored, so the message names the root cause.
 *
 * A Kafka ErrorCode bound for a response is protocol data, never an sl_err.
 */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <stddef.h>

enum sl_err {
    SL_OK = 0,
    SL_EIO = -1,       /* an operating-system call failed; errno in the message */
    SL_EPROTO = -2,    /* malformed input from outside (frame, page, request) */
    SL_ECORRUPT = -3,  /* stored data failed a check (CRC, magic, bounds) */
    SL_ELIMIT = -4,    /* a size or count exceeded its configured cap */
    SL_EAGAIN = -5,    /* incomplete input: call again with more bytes */
    SL_ENOTFOUND = -6, /* a named thing does not exist */
    SL_EUSAGE = -7,    /* the caller asked for something invalid */
    SL_EEXIST = -8,    /* a named thing already exists */
    SL_EUNSUPPORTED = -9, /* valid but not implemented (codec, version) */
};

#define SL_ERROR_MSG_MAX 512

/* A failure report. Zero-initialise it (`struct sl_error err = {0};`). */
struct sl_error {
    int code;                   /* enum sl_err; SL_OK while nothing failed */
    size_t pos;                 /* byte offset of the failure in its input, or 0 */
    char msg[SL_ERROR_MSG_MAX]; /* one line, git style: lowercase, no full stop */
};

/*
 * Record a failure unless one is already recorded, and return `code` so that
 * callers can write `return sl_fail(err, SL_EPROTO, "...")`. `err` may be NULL.
 */
int sl_fail(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As sl_fail(), appending ": <strerror(errno)>" (errno read on entry). */
int sl_fail_errno(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As sl_fail(), also recording the byte offset of the failure. */
int sl_fail_at(struct sl_error *err, int code, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Forget a recorded failure so the struct can be reused. */
void sl_error_clear(struct sl_error *err);

/* A short constant name for a code ("protocol error", ...); never NULL. */
const char *sl_err_name(int code);

#endif
