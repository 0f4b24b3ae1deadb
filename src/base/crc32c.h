/*
 * crc32c.h: CRC-32C (Castagnoli), the checksum of Kafka record batches.
 *
 * Uses the SSE4.2 crc32 instruction on x86-64 CPUs that have it (checked once
 * at run time) and a slicing-by-8 table otherwise; both give the same result.
 * Chaining works: sl_crc32c(sl_crc32c(0, a), b) == sl_crc32c(0, a ++ b).
 * Thread-safe.
 */
#ifndef SL_CRC32C_H
#define SL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend `crc` (0 to start) over p[0..n). */
uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n);
/* The portable implementation, exposed so tests can compare the two. */
uint32_t sl_crc32c_sw(uint32_t crc, const void *p, size_t n);
/* Whether sl_crc32c() uses the hardware instruction on this CPU. */
int sl_crc32c_hw_available(void);

#endif
