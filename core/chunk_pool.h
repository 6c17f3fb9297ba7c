/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chunk_pool.h - vector chunks no version uses any more, kept for the next
 * writes.
 *
 * What it is: a bounded stack (CHUNK_POOL_MAX) of free vector chunks, linked
 * through their garbage header. A steady churn of writes takes its path
 * copies from here and gives the chunks it dropped back, so that it
 * allocates nothing.
 *
 * Who may touch it: the writer, under the engine's writer lock, except
 * chunk_pool_hint (any thread: an estimate for sizing allocations made
 * before taking the lock) and chunk_pool_free_list (no lock: the list was
 * taken out of the pool).
 */
#ifndef FWPM_CORE_CHUNK_POOL_H
#define FWPM_CORE_CHUNK_POOL_H

#include "container_of.h"
#include "vector.h"

#include <stdatomic.h>
#include <stdbool.h>

/* Most chunks kept (about 34 KiB). */
#define CHUNK_POOL_MAX 64u

struct chunk_pool {
    struct vector_chunk *first; /* writer-owned */
    unsigned count;             /* writer-owned */
    _Atomic unsigned hint;      /* count as of the last chunk_pool_publish_hint */
};

static inline void chunk_pool_init(struct chunk_pool *pool)
{
    pool->first = NULL;
    pool->count = 0;
    atomic_init(&pool->hint, 0);
}

/* The link is the chunk's garbage header. */
static inline struct vector_chunk *chunk_pool_next(struct vector_chunk *c)
{
    struct garbage *next = c->garbage.next;
    return next != NULL ? container_of(next, struct vector_chunk, garbage) : NULL;
}

/* Under the writer lock: one chunk, or NULL when the pool is empty. Inline:
 * every write takes and keeps a few, under the lock. */
static inline struct vector_chunk *chunk_pool_take(struct chunk_pool *pool)
{
    struct vector_chunk *c = pool->first;
    if (c != NULL) {
        pool->first = chunk_pool_next(c);
        pool->count--;
    }
    return c;
}

/* Under the writer lock: keeps c; false (c not taken) when the pool is full. */
static inline bool chunk_pool_keep(struct chunk_pool *pool, struct vector_chunk *c)
{
    if (pool->count >= CHUNK_POOL_MAX)
        return false;
    c->garbage.next = pool->first != NULL ? &pool->first->garbage : NULL;
    pool->first = c;
    pool->count++;
    return true;
}

/* Under the writer lock: makes the count visible to chunk_pool_hint. */
static inline void chunk_pool_publish_hint(struct chunk_pool *pool)
{
    /* Relaxed: an estimate; the writer checks under the lock what it got. */
    atomic_store_explicit(&pool->hint, pool->count, memory_order_relaxed);
}

/* Any thread: about how many chunks the pool holds. */
static inline unsigned chunk_pool_hint(struct chunk_pool *pool)
{
    return atomic_load_explicit(&pool->hint, memory_order_relaxed);
}

/* Under the writer lock: empties the pool; returns its chunks, for
 * chunk_pool_free_list. */
struct vector_chunk *chunk_pool_take_all(struct chunk_pool *pool);

/* Frees a list returned by chunk_pool_take_all. No lock. */
void chunk_pool_free_list(struct vector_chunk *list);

#endif /* FWPM_CORE_CHUNK_POOL_H */
