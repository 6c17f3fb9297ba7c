/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chunk_pool.c - the writer's free vector chunks.
 */
#include "chunk_pool.h"

#include "container_of.h"

/* The link is the chunk's garbage header. */
static struct vector_chunk *chunk_pool_next(struct vector_chunk *c)
{
    struct garbage *next = c->garbage.next;
    return next != NULL ? container_of(next, struct vector_chunk, garbage) : NULL;
}

struct vector_chunk *chunk_pool_take(struct chunk_pool *pool)
{
    struct vector_chunk *c = pool->first;
    if (c != NULL) {
        pool->first = chunk_pool_next(c);
        pool->count--;
    }
    return c;
}

bool chunk_pool_keep(struct chunk_pool *pool, struct vector_chunk *c)
{
    if (pool->count >= CHUNK_POOL_MAX)
        return false;
    c->garbage.next = pool->first != NULL ? &pool->first->garbage : NULL;
    pool->first = c;
    pool->count++;
    return true;
}

struct vector_chunk *chunk_pool_take_all(struct chunk_pool *pool)
{
    struct vector_chunk *list = pool->first;
    pool->first = NULL;
    pool->count = 0;
    chunk_pool_publish_hint(pool);
    return list;
}

void chunk_pool_free_list(struct vector_chunk *list)
{
    while (list != NULL) {
        struct vector_chunk *c = list;
        list = chunk_pool_next(c);
        vector_chunk_free(c);
    }
}
