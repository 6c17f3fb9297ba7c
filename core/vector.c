/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vector.c - the persistent vector: reads, and path-copying changes.
 */
#include "vector.h"

#include "memory.h"

#include <string.h>

#define POSITION_MASK (VECTOR_FANOUT - 1u)
/* Copies of at most this many pointers are done inline (small pages). */
#define SMALL_COPY 8u

/* Elements a tree of this height holds when full. */
static size_t vector_capacity(unsigned height)
{
    return (size_t)1 << (VECTOR_FANOUT_BITS * (height + 1u));
}

/* The index within its chunk at `level` of the path to position. */
static unsigned vector_index(size_t position, unsigned level)
{
    return (unsigned)(position >> (VECTOR_FANOUT_BITS * level)) & POSITION_MASK;
}

void vector_chunk_free(struct vector_chunk *c)
{
    memory_free(c, sizeof(*c), MEMORY_DATA);
}

bool vector_writer_allocate(struct vector_writer *w, unsigned need)
{
    for (; w->pool_size < need; w->pool_size++) {
        w->pool[w->pool_size] = memory_alloc(sizeof(struct vector_chunk), MEMORY_DATA);
        if (w->pool[w->pool_size] == NULL)
            return false;
    }
    return true;
}

/* ---- reads ---------------------------------------------------------------- */

/* The chunk at `level` (0: the leaf) on the path to position. */
static const struct vector_chunk *vector_chunk_at(const struct vector *v, size_t position,
                                                  unsigned level)
{
    const struct vector_chunk *c = v->top;
    for (unsigned l = v->height; l > level; l--)
        c = c->child[vector_index(position, l)];
    return c;
}

void *vector_get(const struct vector *v, size_t position)
{
    return vector_chunk_at(v, position, 0)->entries[vector_index(position, 0)];
}

/* Copies leaf's run from position start (at most n, up to the leaf's end) to
 * dst; returns how many. */
static size_t vector_copy_run(const struct vector_chunk *leaf, size_t start, size_t n, void **dst)
{
    size_t offset = start & POSITION_MASK;
    size_t take = VECTOR_FANOUT - offset;
    if (take > n)
        take = n;
    /* A few by hand: a libc memcpy call costs more than the copy. */
    if (take <= SMALL_COPY) {
        for (size_t i = 0; i < take; i++)
            dst[i] = leaf->entries[offset + i];
    } else {
        memcpy(dst, &leaf->entries[offset], take * sizeof(*dst));
    }
    return take;
}

/* Leaves a copy asks the memory system for ahead of the one it copies. A leaf
 * of a large vector is rarely in cache, and consecutive leaves lie apart in
 * memory (each was reallocated by the write that last filled it), so the
 * hardware prefetcher, which follows one stream within a page, does not help:
 * a copy that waits for each leaf in turn pays a miss (and often a TLB walk)
 * per 64 entries. Eight leaves ahead was the fastest of 2..16 measured with
 * fwpm-bench enumerate_all at N = 1M on this machine (4 KiB ahead: about
 * the copy time of the leaves between covering a miss to memory). */
#define PREFETCH_LEAVES 8u
/* Vectors smaller than this are copied without prefetching: their leaves
 * (2 MiB of them at this size) are often in the caches, and prefetches of
 * cached lines only cost instructions. Measured with interleaved runs of
 * enumerate_all: at N = 10k prefetching made fwpm 1.23-1.34x snapcache
 * instead of 0.97-1.06x, at 100k 37-40 us became 44-50 us; at 1M it halves
 * the time. */
#define PREFETCH_MIN_COUNT ((size_t)1 << 18)

/* Asks for every cache line of leaf's entries (8 lines: they start the
 * 64-byte aligned block). A hint: never faults, reads nothing. */
static inline void leaf_prefetch(const struct vector_chunk *leaf)
{
    const char *at = (const char *)leaf->entries;
    for (size_t line = 0; line < sizeof(leaf->entries); line += 64u)
        __builtin_prefetch(at + line, 0, 3);
}

/* vector_copy over more than one leaf: one contiguous run per leaf.
 * Consecutive leaves are siblings under one parent for VECTOR_FANOUT leaves,
 * so the tree is descended once per parent, not once per leaf (a page of
 * 1000 touches 16 leaves). With prefetch, leaves of the range
 * PREFETCH_LEAVES ahead of the one being copied are prefetched (a copy of one
 * or two leaves asks for none). Always inlined with a constant prefetch, so
 * that the copy without it carries none of the bookkeeping (a page of 100 at
 * N = 100k: 55 instructions fewer). */
static inline __attribute__((always_inline)) void
vector_copy_leaves_with(const struct vector *v, size_t start, size_t n, void **dst, bool prefetch)
{
    size_t last_leaf = (start + n - 1u) >> VECTOR_FANOUT_BITS;
    do {
        const struct vector_chunk *parent = vector_chunk_at(v, start, 1);
        unsigned i = vector_index(start, 1);
        unsigned d_end = i; /* last child index to prefetch */
        if (prefetch) {
            /* Under this parent: leaf + d for d < PREFETCH_LEAVES now, then
             * each step asks for the leaf PREFETCH_LEAVES ahead. */
            size_t leaf = start >> VECTOR_FANOUT_BITS;
            size_t ahead_last = last_leaf - leaf < VECTOR_FANOUT - 1u - i ? last_leaf - leaf
                                                                          : VECTOR_FANOUT - 1u - i;
            if (ahead_last >= 2u) { /* one or two leaves: nothing to hide */
                for (unsigned d = 1; d < PREFETCH_LEAVES && d <= ahead_last; d++)
                    leaf_prefetch(parent->child[i + d]);
                d_end = i + (unsigned)ahead_last;
            }
        }
        do {
            if (prefetch && i + PREFETCH_LEAVES <= d_end)
                leaf_prefetch(parent->child[i + PREFETCH_LEAVES]);
            size_t take = vector_copy_run(parent->child[i++], start, n, dst);
            dst += take;
            start += take;
            n -= take;
        } while (n > 0 && i < VECTOR_FANOUT);
    } while (n > 0);
}

/* The copy of a vector of PREFETCH_MIN_COUNT or more. Out of line, so that
 * the copies of smaller vectors do not pay for its registers. */
static __attribute__((noinline)) void
vector_copy_leaves_prefetched(const struct vector *v, size_t start, size_t n, void **dst)
{
    vector_copy_leaves_with(v, start, n, dst, true);
}

void vector_copy(const struct vector *v, size_t start, size_t n, void **dst)
{
    if (n == 0)
        return;
    if (v->height == 0) { /* one leaf holds everything */
        vector_copy_run(v->top, start, n, dst);
        return;
    }
    if ((start ^ (start + n - 1u)) < VECTOR_FANOUT) {
        /* Within one leaf (every small page but those that straddle two):
         * one descent, one run, nothing else to set up. */
        vector_copy_run(vector_chunk_at(v, start, 0), start, n, dst);
        return;
    }
    if (v->count >= PREFETCH_MIN_COUNT)
        vector_copy_leaves_prefetched(v, start, n, dst);
    else
        vector_copy_leaves_with(v, start, n, dst, false);
}

/* ---- changes (one writer) --------------------------------------------------- */

/* A chunk from the writer's pool, stamped as the writer's; contents unset. */
static struct vector_chunk *writer_chunk_take(struct vector_writer *w)
{
    struct vector_chunk *c = w->pool[--w->pool_size];
    c->garbage.birth = w->birth;
    c->garbage.kind = GARBAGE_CHUNK;
    c->garbage.next = NULL;
    return c;
}

/* A zeroed chunk from the writer's pool. */
static struct vector_chunk *writer_chunk_new(struct vector_writer *w)
{
    struct vector_chunk *c = writer_chunk_take(w);
    memset(c->entries, 0, sizeof(c->entries));
    return c;
}

/* Puts c on the writer's dropped list: no longer in the vector being built. */
static void writer_chunk_drop(struct vector_writer *w, struct vector_chunk *c)
{
    c->garbage.next = w->dropped;
    w->dropped = &c->garbage;
}

/* A version of c this write may change: c itself if the write made it. */
static struct vector_chunk *writer_chunk_writable(struct vector_writer *w, struct vector_chunk *c)
{
    if (c->garbage.birth == w->birth)
        return c;
    struct vector_chunk *copy = writer_chunk_take(w);
    memcpy(copy->entries, c->entries, sizeof(copy->entries));
    writer_chunk_drop(w, c);
    return copy;
}

/* Drops a subtree that holds a single element, at its first position. */
static void writer_drop_single_path(struct vector_writer *w, struct vector_chunk *c, unsigned level)
{
    for (;;) {
        struct vector_chunk *below = level > 0 ? c->child[0] : NULL;
        writer_chunk_drop(w, c);
        if (below == NULL)
            return;
        c = below;
        level--;
    }
}

/* Stores value at position (< count, or == count to extend), copying the path. */
static void vector_store(struct vector *v, struct vector_writer *w, size_t position, void *value)
{
    struct vector_chunk *c = v->top = writer_chunk_writable(w, v->top);
    for (unsigned level = v->height; level > 0; level--) {
        unsigned i = vector_index(position, level);
        struct vector_chunk *child = c->child[i];
        child = child != NULL ? writer_chunk_writable(w, child) : writer_chunk_new(w);
        c->child[i] = child;
        c = child;
    }
    c->entries[vector_index(position, 0)] = value;
}

/* Removes the last element, dropping chunks that become empty. */
static void vector_pop(struct vector *v, struct vector_writer *w)
{
    size_t last = v->count - 1;
    v->count = last;
    if (last == 0) {
        writer_drop_single_path(w, v->top, v->height);
        v->top = NULL;
        v->height = 0;
        return;
    }
    if (v->height > 0 && last == vector_capacity(v->height - 1)) {
        /* The top's second child held only this element: the first child
         * becomes the top. */
        struct vector_chunk *top = v->top;
        writer_drop_single_path(w, top->child[1], v->height - 1);
        v->top = top->child[0];
        writer_chunk_drop(w, top);
        v->height--;
        return;
    }
    struct vector_chunk *c = v->top = writer_chunk_writable(w, v->top);
    for (unsigned level = v->height; level > 0; level--) {
        unsigned i = vector_index(last, level);
        struct vector_chunk *child = c->child[i];
        if ((last & (vector_capacity(level - 1) - 1)) == 0) {
            /* last was the only element of this child. */
            c->child[i] = NULL;
            writer_drop_single_path(w, child, level - 1);
            return;
        }
        c->child[i] = child = writer_chunk_writable(w, child);
        c = child;
    }
    c->entries[vector_index(last, 0)] = NULL;
}

void vector_append(struct vector *v, struct vector_writer *w, void *value)
{
    if (v->top == NULL) {
        v->top = writer_chunk_new(w);
        v->height = 0;
    } else if (v->count == vector_capacity(v->height)) {
        struct vector_chunk *top = writer_chunk_new(w);
        top->child[0] = v->top;
        v->top = top;
        v->height++;
    }
    vector_store(v, w, v->count, value);
    v->count++;
}

void *vector_remove(struct vector *v, struct vector_writer *w, size_t position)
{
    size_t last = v->count - 1;
    if (position == last) {
        vector_pop(v, w);
        return NULL;
    }
    void *moved = vector_get(v, last);
    vector_pop(v, w);
    vector_store(v, w, position, moved);
    return moved;
}
