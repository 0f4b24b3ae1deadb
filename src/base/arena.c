/* arena.c: bump allocator (see arena.h). */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct sl_arena_block {
    struct sl_arena_block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

void sl_arena_init(struct sl_arena *arena, size_t block_size)
{
    arena->head = arena->free = NULL;
    arena->block_size = block_size ? block_size : 64 * 1024;
}

static void free_list(struct sl_arena_block *b)
{
    while (b) {
        struct sl_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void sl_arena_release(struct sl_arena *arena)
{
    if (!arena)
        return;
    free_list(arena->head);
    free_list(arena->free);
    arena->head = arena->free = NULL;
}

void sl_arena_clear(struct sl_arena *arena)
{
    while (arena->head) {
        struct sl_arena_block *b = arena->head;
        arena->head = b->next;
        if (b->size == arena->block_size) {
            b->used = 0;
            b->next = arena->free;
            arena->free = b;
        } else {
            free(b); /* oversized one-off block */
        }
    }
}

void *sl_arena_alloc(struct sl_arena *arena, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct sl_arena_block *b = arena->head;
    if (!b || b->size - b->used < n) {
        if (n > arena->block_size) {
            b = sl_xmalloc(sizeof *b + n);
            b->size = n;
        } else if (arena->free) {
            b = arena->free;
            arena->free = b->next;
        } else {
            b = sl_xmalloc(sizeof *b + arena->block_size);
            b->size = arena->block_size;
        }
        b->used = 0;
        b->next = arena->head;
        arena->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *sl_arena_strndup(struct sl_arena *arena, const char *s, size_t n)
{
    char *p = sl_arena_alloc(arena, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
