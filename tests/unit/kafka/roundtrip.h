/*
 * roundtrip.h: what the Kafka codec tests share. ROUND_TRIP(M, msgp, v, outp)
 * encodes message M at version v, decodes it, encodes again and checks the
 * two encodings are identical, then checks that every strict prefix fails to
 * decode. The including file defines `static struct sl_arena arena;`.
 */
#ifndef TEST_KAFKA_ROUNDTRIP_H
#define TEST_KAFKA_ROUNDTRIP_H

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "check.h"

#define S(x) sl_slice_str(x)
#define NUL sl_slice_make(NULL, 0)

/* Encode at v, decode, encode again: both encodings must be identical. */
#define ROUND_TRIP(M, msgp, v, outp)                                                               \
    do {                                                                                           \
        struct sl_buf a_, b_;                                                                      \
        struct sl_error e_ = {0};                                                                  \
        sl_buf_init(&a_, 0);                                                                       \
        sl_buf_init(&b_, 0);                                                                       \
        kafka_##M##_encode(&a_, (v), (msgp));                                                      \
        CHECK_INT(kafka_##M##_decode(sl_buf_slice(&a_), (v), &arena, (outp), &e_), SL_OK);         \
        kafka_##M##_encode(&b_, (v), (outp));                                                      \
        CHECK_INT(a_.len, b_.len);                                                                 \
        if (a_.len == b_.len)                                                                      \
            CHECK_MEM(a_.data, b_.data, a_.len);                                                   \
        /* Every strict prefix must fail, never crash or succeed. */                               \
        for (size_t n_ = 0; n_ < a_.len; n_++) {                                                   \
            struct sl_error pe_ = {0};                                                             \
            if (kafka_##M##_decode(sl_slice_make(a_.data, n_), (v), &arena, (outp), &pe_) ==       \
                SL_OK) {                                                                           \
                fprintf(stderr, "%s v%d: prefix %zu of %zu decoded\n", #M, (v), n_, a_.len);       \
                CHECK(0);                                                                          \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        /* Decode once more from bytes that outlive this block. */                                 \
        uint8_t *keep_ = sl_arena_alloc(&arena, a_.len + 1);                                       \
        memcpy(keep_, a_.data, a_.len);                                                            \
        kafka_##M##_decode(sl_slice_make(keep_, a_.len), (v), &arena, (outp), &e_);                \
        sl_buf_release(&a_);                                                                       \
        sl_buf_release(&b_);                                                                       \
    } while (0)

#endif
