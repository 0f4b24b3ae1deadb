/*
 * clock.h: time sources.
 *
 * Monotonic time is for timeouts and rates (never jumps); wall time is for
 * Kafka timestamps and file names (milliseconds since the Unix epoch, UTC).
 */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

int64_t sl_clock_mono_ns(void);
int64_t sl_clock_mono_ms(void);
int64_t sl_clock_wall_ms(void);
int64_t sl_clock_wall_us(void);

#endif
