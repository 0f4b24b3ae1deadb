/*
 * slice.h: a borrowed view of bytes, passed by value.
 *
 * A slice never owns its bytes; whoever made it says how long they live
 * (typically: until the request or batch that holds them is finished).
 */
#ifndef SL_SLICE_H
#define SL_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sl_slice {
    const uint8_t *p; /* borrowed; may be NULL only when len == 0 */
    size_t len;       /* bytes */
};

static inline struct sl_slice sl_slice_make(const void *p, size_t len)
{
    struct sl_slice s = { (const uint8_t *)p, len };
    return s;
}

static inline struct sl_slice sl_slice_str(const char *s)
{
    return sl_slice_make(s, strlen(s));
}

static inline bool sl_slice_eq(struct sl_slice a, struct sl_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool sl_slice_eq_str(struct sl_slice a, const char *s)
{
    return sl_slice_eq(a, sl_slice_str(s));
}

#endif
