/* err.c: recording failures where they happen (see err.h). */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vfail(struct sl_error *err, int code, size_t pos, const char *suffix,
                 const char *fmt, va_list ap)
{
    if (!err || err->code != SL_OK)
        return code;
    err->code = code;
    err->pos = pos;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (suffix && n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", suffix);
    return code;
}

int sl_fail(struct sl_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, 0, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int sl_fail_errno(struct sl_error *err, int code, const char *fmt, ...)
{
    const char *why = strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, 0, why, fmt, ap);
    va_end(ap);
    return code;
}

int sl_fail_at(struct sl_error *err, int code, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, pos, NULL, fmt, ap);
    va_end(ap);
    return code;
}

void sl_error_clear(struct sl_error *err)
{
    err->code = SL_OK;
    err->pos = 0;
    err->msg[0] = '\0';
}

const char *sl_err_name(int code)
{
    switch (code) {
    case SL_OK: return "success";
    case SL_EIO: return "i/o error";
    case SL_EPROTO: return "protocol error";
    case SL_ECORRUPT: return "corrupt data";
    case SL_ELIMIT: return "limit exceeded";
    case SL_EAGAIN: return "incomplete input";
    case SL_ENOTFOUND: return "not found";
    case SL_EUSAGE: return "usage error";
    case SL_EEXIST: return "already exists";
    case SL_EUNSUPPORTED: return "unsupported";
    }
    return "unknown error";
}
