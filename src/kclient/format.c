/*
 * format.c: kcat-style message formats for `sluice consume --format` (see
 * kclient.h). The format is checked once, before any message is read, so a
 * typo is a usage error rather than a failure halfway through a topic.
 */
#include <inttypes.h>
#include <string.h>

#include "kclient/kclient.h"

int kclient_format_check(const char *fmt, struct sl_error *err)
{
    for (const char *p = fmt; *p; p++) {
        if (*p == '%') {
            if (!p[1] || !strchr("sSkKtpoT%", p[1]))
                return sl_fail(err, SL_EUSAGE, "unknown format sequence '%%%.1s' in '%s'",
                               p + 1, fmt);
            p++;
        } else if (*p == '\\') {
            if (!p[1] || !strchr("ntr\\", p[1]))
                return sl_fail(err, SL_EUSAGE, "unknown escape '\\%.1s' in '%s'", p + 1, fmt);
            p++;
        }
    }
    return SL_OK;
}

int kclient_format(struct sl_buf *out, const char *fmt, const struct kclient_msg *msg)
{
    int rc = SL_OK;
    for (const char *p = fmt; *p && rc == SL_OK; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            rc = sl_buf_u8(out, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : '\\');
            continue;
        }
        if (*p != '%' || !p[1]) {
            rc = sl_buf_u8(out, (uint8_t)*p);
            continue;
        }
        switch (*++p) {
        case 's':
            rc = sl_buf_append_slice(out, msg->value);
            break;
        case 'S':
            rc = sl_buf_appendf(out, "%lld", msg->value.p ? (long long)msg->value.len : -1LL);
            break;
        case 'k':
            rc = sl_buf_append_slice(out, msg->key);
            break;
        case 'K':
            rc = sl_buf_appendf(out, "%lld", msg->key.p ? (long long)msg->key.len : -1LL);
            break;
        case 't':
            rc = sl_buf_append_str(out, msg->topic ? msg->topic : "");
            break;
        case 'p':
            rc = sl_buf_appendf(out, "%" PRId32, msg->partition);
            break;
        case 'o':
            rc = sl_buf_appendf(out, "%" PRId64, msg->offset);
            break;
        case 'T':
            rc = sl_buf_appendf(out, "%" PRId64, msg->timestamp_ms);
            break;
        default: /* "%%", and anything kclient_format_check() would have refused */
            rc = sl_buf_u8(out, (uint8_t)*p);
            break;
        }
    }
    return rc;
}
