/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena_classes.c - size classes with lock-free free stacks over the range.
 */
#include "page_arena_classes.h"

#include <stdint.h>

#define GRANULE_SHIFT 6   /* blocks start on 64-byte granules */
#define CLASS_MIN_SHIFT 6 /* smallest class: 64 bytes */
#define CLASS_MAX_SHIFT 36
#define CLASS_COUNT (CLASS_MAX_SHIFT - CLASS_MIN_SHIFT + 1)
#define CARVE_ALIGN_MAX ((size_t)4096)
#define DISCARD_MIN ((size_t)16 << 10) /* freed blocks this large go back to the kernel */
/* The link table: one 32-bit link per granule of the largest data range. */
#define LINKS_BYTES_MAX (((uintptr_t)64 << 30) >> GRANULE_SHIFT << 2)

/* One class's free blocks. top packs a version tag (high 32 bits, bumped by
 * every successful push and pop, so a stale top never compares equal) and the
 * granule number + 1 of the top block (low 32 bits; 0 = empty). */
struct free_stack {
    _Alignas(64) _Atomic uint64_t top;
};

static struct free_stack stacks[CLASS_COUNT];
static struct reserved_range *data;
/* links: granule number -> granule number + 1 of the next free block below
 * it in its stack (0 = none). Accessed only atomically. */
static struct reserved_range links;
static _Atomic unsigned char links_committed[LINKS_BYTES_MAX >> RESERVED_RANGE_CHUNK_SHIFT];

bool page_arena_classes_reserve(struct reserved_range *range)
{
    data = range;
    links.committed = links_committed;
    links.chunks_max = sizeof(links_committed);
    uintptr_t bytes = (range->bytes >> GRANULE_SHIFT) * sizeof(uint32_t);
    return reserved_range_reserve(&links, bytes, bytes);
}

static inline uintptr_t data_base(void)
{
    return atomic_load_explicit(&data->base, memory_order_relaxed); /* set before sharing */
}

static inline uint32_t granule_of(const void *p)
{
    return (uint32_t)(((uintptr_t)p - data_base()) >> GRANULE_SHIFT);
}

static inline _Atomic uint32_t *link_of(uint32_t granule)
{
    return (_Atomic uint32_t *)atomic_load_explicit(&links.base, memory_order_relaxed) + granule;
}

/* The class (shift) of blocks of bytes bytes, or -1 beyond the largest. */
static inline int class_shift(size_t bytes)
{
    if (bytes <= ((size_t)1 << CLASS_MIN_SHIFT))
        return CLASS_MIN_SHIFT;
    int shift = 64 - __builtin_clzll((unsigned long long)bytes - 1);
    return shift <= CLASS_MAX_SHIFT ? shift : -1;
}

static void *stack_pop(struct free_stack *s)
{
    /* Acquire (here and on CAS failure): pairs with the release in
     * stack_push, so the link and the block's freeing (discard) are seen. */
    uint64_t top = atomic_load_explicit(&s->top, memory_order_acquire);
    while ((uint32_t)top != 0) {
        uint32_t granule = (uint32_t)top - 1;
        /* May be stale if another thread pops this block first: then top has
         * a new tag and the CAS fails. The link table is always readable. */
        uint32_t next = atomic_load_explicit(link_of(granule), memory_order_relaxed);
        uint64_t popped = (((top >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(&s->top, &top, popped, memory_order_acquire,
                                                  memory_order_acquire))
            return (void *)(data_base() + ((uintptr_t)granule << GRANULE_SHIFT));
    }
    return NULL;
}

static void stack_push(struct free_stack *s, void *block)
{
    uint32_t granule = granule_of(block);
    uint64_t top = atomic_load_explicit(&s->top, memory_order_relaxed);
    uint64_t pushed;
    do {
        atomic_store_explicit(link_of(granule), (uint32_t)top, memory_order_relaxed);
        pushed = (((top >> 32) + 1) << 32) | (granule + 1);
        /* Release: publishes the link and the freed block to stack_pop. */
    } while (!atomic_compare_exchange_weak_explicit(&s->top, &top, pushed, memory_order_release,
                                                    memory_order_relaxed));
}

/* A fresh block of class shift from the range, its link committed. */
static void *carve(int shift)
{
    size_t size = (size_t)1 << shift;
    void *p = reserved_range_carve(data, size, size < CARVE_ALIGN_MAX ? size : CARVE_ALIGN_MAX);
    if (p == NULL)
        return NULL;
    /* A refused commit loses the block's address space, never memory. */
    if (!reserved_range_commit(&links, (uintptr_t)granule_of(p) * sizeof(uint32_t),
                               sizeof(uint32_t)))
        return NULL;
    return p;
}

void *page_arena_classes_alloc(size_t bytes)
{
    int shift = class_shift(bytes);
    if (shift < 0)
        return NULL;
    void *p = stack_pop(&stacks[shift - CLASS_MIN_SHIFT]);
    return p != NULL ? p : carve(shift);
}

void page_arena_classes_free(void *p, size_t bytes)
{
    int shift = class_shift(bytes);
    size_t size = (size_t)1 << shift;
    if (size >= DISCARD_MIN)
        reserved_range_discard(p, size); /* stays mapped: a stale read gives zeros */
    stack_push(&stacks[shift - CLASS_MIN_SHIFT], p);
}
