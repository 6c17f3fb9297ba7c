/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vector.h - a persistent vector of pointers, changed by path copying.
 *
 * What it is: a tree of chunks of VECTOR_FANOUT pointers whose leaves hold
 * the elements at positions 0..count-1, densely. A `struct vector` is three
 * words (top, height, count); copying it copies the value, and both copies
 * share every chunk.
 *
 * What it guarantees: a writer never changes a chunk some other vector value
 * may share. A change copies the chunks on the path it touches (O(log n)),
 * stamps the copies with the writer's birth number, and drops the chunks it
 * replaced onto the writer's list; a chunk that already carries the writer's
 * birth is changed in place (the same write made it). So a vector value that
 * was handed out stays readable, unchanged, for as long as its chunks are
 * not freed - which is the caller's business (the dropped list tells it what
 * the write stopped using).
 *
 * Who may touch it: readers (vector_get, vector_copy) need only that the
 * chunks stay allocated; they never write. A change (vector_append,
 * vector_remove) is made by one thread at a time on a vector value no one
 * else changes, with a vector_writer holding enough chunks (see
 * vector_chunks_needed): changes never allocate, and never fail.
 *
 * The vector knows nothing of what its elements are: they are void *.
 */
#ifndef FWPM_CORE_VECTOR_H
#define FWPM_CORE_VECTOR_H

#include "garbage.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VECTOR_FANOUT_BITS 6u
#define VECTOR_FANOUT (1u << VECTOR_FANOUT_BITS)
/* Enough for 2^60 elements. */
#define VECTOR_MAX_HEIGHT 9u
/* The most chunks a writer may ever need to hold: two paths of a tree one
 * level taller than the tallest (see vector_chunks_needed). */
#define VECTOR_WRITER_MAX_CHUNKS (2u * (VECTOR_MAX_HEIGHT + 2u))

/* A node of the tree: at height 0 its entries are elements, above that its
 * children are chunks. The garbage header (birth, link) is its owner's: the
 * vector stamps birth and links dropped chunks through it (reached with
 * container_of, never by a cast). It comes after the pointers so that they
 * start the block: a leaf's 64 pointers are then exactly 8 cache lines
 * (jemalloc's 640-byte blocks, which chunks take, are 64-byte aligned),
 * which a copy reads whole. */
struct vector_chunk {
    union {
        void *entries[VECTOR_FANOUT];              /* a leaf's elements */
        struct vector_chunk *child[VECTOR_FANOUT]; /* an inner chunk's children */
    };
    struct garbage garbage;
};

/* One value of the vector. top is NULL when count is 0. */
struct vector {
    struct vector_chunk *top;
    unsigned height; /* levels above the leaves; a lone leaf is height 0 */
    size_t count;
};

/* What one write brings to its changes: the birth number it stamps on the
 * chunks it makes, the chunks it may use, and the chunks it dropped. Owned
 * by the writing thread. */
struct vector_writer {
    uint64_t birth;
    struct vector_chunk *pool[VECTOR_WRITER_MAX_CHUNKS];
    unsigned pool_size;
    struct garbage *dropped; /* chunks the changes replaced, linked by next */
};

/* An empty vector. */
static inline struct vector vector_empty(void)
{
    return (struct vector){NULL, 0, 0};
}

/* The element at position (< v->count). */
void *vector_get(const struct vector *v, size_t position);

/* Copies n elements from position start (start + n <= count) to dst. */
void vector_copy(const struct vector *v, size_t start, size_t n, void **dst);

/* Chunks one append (adding) or one remove may take from the writer's pool,
 * on a vector of this height. */
static inline unsigned vector_chunks_needed(unsigned height, bool adding)
{
    return adding ? height + 2u : 2u * (height + 1u);
}

/* The allocating part of vector_writer_fill. */
bool vector_writer_allocate(struct vector_writer *w, unsigned need);

/* Tops the writer's pool up to `need` chunks from the allocator (MEMORY_DATA);
 * false when out of memory (the pool keeps what it got). Inline: it usually
 * has nothing to do. */
static inline bool vector_writer_fill(struct vector_writer *w, unsigned need)
{
    return w->pool_size >= need || vector_writer_allocate(w, need);
}

/* Appends value at position count. The writer's pool must hold
 * vector_chunks_needed(v->height, true) chunks. */
void vector_append(struct vector *v, struct vector_writer *w, void *value);

/* Removes the element at position, moving the last element into its place.
 * Returns the element that moved (now at position), or NULL when position
 * was the last (or the element that moved is NULL). The writer's pool must hold
 * vector_chunks_needed(v->height, false) chunks. */
void *vector_remove(struct vector *v, struct vector_writer *w, size_t position);

/* Frees a chunk nobody can reach any more. */
void vector_chunk_free(struct vector_chunk *c);

#endif /* FWPM_CORE_VECTOR_H */
