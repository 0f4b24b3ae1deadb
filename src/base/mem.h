/*
 * mem.h: allocation that never returns NULL.
 *
 * Out of memory aborts the process (as Redis zmalloc does): every size that
 * comes from outside input is capped before it reaches these functions, so an
 * allocation failure is a machine problem, not a request problem.
 */
#ifndef SL_MEM_H
#define SL_MEM_H

#include <stddef.h>

void *sl_xmalloc(size_t n);              /* caller owns; free() it */
void *sl_xcalloc(size_t count, size_t n); /* zeroed; caller owns */
void *sl_xrealloc(void *p, size_t n);    /* as realloc, never NULL */
char *sl_xstrdup(const char *s);         /* caller owns */
char *sl_xstrndup(const char *s, size_t n); /* NUL-terminated copy; caller owns */

/* For batch commands that allocate and free buffers of about a megabyte over
 * and over (Parquet pages in sql, Fetch responses in librdkafka's consumer):
 * keep such buffers on the heap and free memory in the process. glibc's
 * defaults map each one fresh (above 128 KiB) or hand the heap's top back
 * to the kernel, and the process then page-faults every byte of it in again.
 * Process-wide; call once at the start of a command, before any thread. */
void sl_mem_keep_large_buffers(void);

#endif
