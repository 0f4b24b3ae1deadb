/*
 * arena.h: bump allocation for per-request and per-batch memory.
 *
 * Everything allocated from an arena is freed at once by sl_arena_clear() or
 * sl_arena_release(); nothing is freed individually. Blocks are kept after a
 * clear and reused, so a steady workload stops calling malloc.
 */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <stddef.h>

struct sl_arena_block;

struct sl_arena {
    struct sl_arena_block *head; /* owned: current block, then older ones */
    struct sl_arena_block *free; /* owned: cleared blocks ready for reuse */
    size_t block_size;           /* bytes per ordinary block */
};

void sl_arena_init(struct sl_arena *arena, size_t block_size);
/* Free every block. NULL-safe. */
void sl_arena_release(struct sl_arena *arena);
/* Forget all allocations, keep the blocks. */
void sl_arena_clear(struct sl_arena *arena);
/* n bytes aligned to 16, valid until the next clear or release; never NULL. */
void *sl_arena_alloc(struct sl_arena *arena, size_t n);
/* A NUL-terminated copy of s[0..n) in the arena. */
char *sl_arena_strndup(struct sl_arena *arena, const char *s, size_t n);

#endif
