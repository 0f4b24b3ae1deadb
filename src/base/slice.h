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

/* Whether n bytes at a and b are equal. Inline word compares: for the short
 * names and values of events a memcmp call costs more than the compare. */
static inline bool sl_mem_eq(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    uint64_t u, v;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&u, x + i, 8);
            memcpy(&v, y + i, 8);
            if (u != v)
                return false;
        }
        memcpy(&u, x + n - 8, 8); /* the last 8, overlapping */
        memcpy(&v, y + n - 8, 8);
        return u == v;
    }
    if (n >= 4) {
        uint32_t p, q, r, s;
        memcpy(&p, x, 4);
        memcpy(&q, y, 4);
        memcpy(&r, x + n - 4, 4);
        memcpy(&s, y + n - 4, 4);
        return p == q && r == s;
    }
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return false;
    return true;
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
