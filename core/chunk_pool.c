/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chunk_pool.c - the writer's free vector chunks.
 */
#include "chunk_pool.h"

/* The link is the chunk's garbage header, its first member. */
static struct vector_chunk *chunk_pool_next(struct vector_chunk *c)
{
    return (struct vector_chunk *)c->garbage.next;
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
    c->garbage.next = (struct garbage *)pool->first; /* garbage is the first member */
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
