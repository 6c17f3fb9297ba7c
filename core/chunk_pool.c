/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chunk_pool.c - the writer's free vector chunks.
 */
#include "chunk_pool.h"

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
