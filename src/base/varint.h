/*
 * varint.h: unsigned (protobuf-style, LSB group first) and zigzag varints, as
 * used by Kafka records, Kafka flexible versions and the Thrift compact
 * protocol of Parquet.
 */
#ifndef SL_VARINT_H
#define SL_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define SL_VARINT_MAX 10 /* bytes for a 64-bit value */

/* Write v to out (at least SL_VARINT_MAX bytes); returns bytes written (1..10). */
size_t sl_uvarint_encode(uint8_t *out, uint64_t v);

/*
 * Read an unsigned varint of at most `max_bytes` (5 for 32-bit fields, 10 for
 * 64-bit) from p[0..len). Returns bytes consumed (> 0), SL_EAGAIN if the input
 * ends inside the varint, or SL_EPROTO if it is longer than max_bytes or
 * overflows 64 bits.
 */
int sl_uvarint_decode(const uint8_t *p, size_t len, int max_bytes, uint64_t *v);

static inline uint64_t sl_zigzag_encode(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t sl_zigzag_decode(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
