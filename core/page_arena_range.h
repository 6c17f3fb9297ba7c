/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena_range.h - a reserved address range, committed on demand, never
 * unmapped.
 *
 * A reserved_range is one PROT_NONE, MAP_NORESERVE mapping taken once. Blocks
 * are carved from it by a lock-free bump pointer and are never given back to
 * the range (their allocator recycles them); carving commits (mprotect RW) the
 * 2 MiB chunks a block spans, and a chunk once committed stays readable and
 * writable for the life of the process: memory is returned to the kernel with
 * madvise, which keeps the mapping (a later read sees zeros). A commit map of
 * one byte per chunk says which chunks are readable, so the range can answer
 * "may these bytes be read?" without touching them.
 *
 * Who may touch it: reserved_range_reserve runs once, before the range is
 * shared (page_arena's one-time set-up); everything else, any thread, no lock.
 */
#ifndef FWPM_CORE_PAGE_ARENA_RANGE_H
#define FWPM_CORE_PAGE_ARENA_RANGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESERVED_RANGE_CHUNK_SHIFT 21 /* commit granule: 2 MiB */

struct reserved_range {
    /* Start of the mapping, 0 until reserved. Published with release after
     * bytes, so a reader that sees it non-zero sees bytes too. */
    _Atomic uintptr_t base;
    uintptr_t bytes;          /* size of the mapping; written once before base */
    _Atomic uintptr_t carved; /* offset of the first byte not yet carved */
    /* One byte per chunk, 1 once the chunk is committed; sized for the largest
     * mapping the owner may ask for (chunks_max). */
    _Atomic unsigned char *committed;
    size_t chunks_max;
};

/* Reserves the largest mapping of at most max_bytes and at least min_bytes
 * (halving on refusal); false if none could be had. Call once, before any
 * other function sees r. max_bytes must not exceed chunks_max chunks. */
bool reserved_range_reserve(struct reserved_range *r, uintptr_t max_bytes, uintptr_t min_bytes);

/* Carves size bytes aligned to align (a power of two), committed and zero;
 * NULL when the range is exhausted or the kernel refuses the commit. */
void *reserved_range_carve(struct reserved_range *r, size_t size, size_t align);

/* Commits the chunks spanning [offset, offset + size) of the mapping; false
 * if the kernel refused. Idempotent; safe against concurrent commits. */
bool reserved_range_commit(struct reserved_range *r, uintptr_t offset, size_t size);

/* True when p lies in the mapping. Reads only r's bounds. */
static inline bool reserved_range_contains(const struct reserved_range *r, const void *p)
{
    /* Acquire: pairs with the release publishing base, so bytes is set. */
    uintptr_t base = atomic_load_explicit((_Atomic uintptr_t *)&r->base, memory_order_acquire);
    return base != 0 && (uintptr_t)p - base < r->bytes;
}

/* True when [p, p + size) lies in committed chunks (readable for good).
 * Inline: every FwpmFreeMemory0 asks it about the array's header. */
static inline bool reserved_range_readable(const struct reserved_range *r, const void *p,
                                           size_t size)
{
    /* Acquire: pairs with the release publishing base, so bytes is set. */
    uintptr_t base = atomic_load_explicit((_Atomic uintptr_t *)&r->base, memory_order_acquire);
    uintptr_t offset = (uintptr_t)p - base; /* wraps to a huge value below base */
    if (base == 0 || size == 0 || offset >= r->bytes || size > r->bytes - offset)
        return false;
    for (uintptr_t c = offset >> RESERVED_RANGE_CHUNK_SHIFT;
         c <= (offset + size - 1) >> RESERVED_RANGE_CHUNK_SHIFT; c++)
        /* Acquire: pairs with the release in reserved_range_commit. */
        if (!atomic_load_explicit(&r->committed[c], memory_order_acquire))
            return false;
    return true;
}

/* Gives the whole pages inside [p, p + size) back to the kernel at once; they
 * stay mapped and read as zeros. */
void reserved_range_discard(void *p, size_t size);

/* Like reserved_range_discard, but the kernel may reclaim lazily (MADV_FREE):
 * until it does, reads see the old contents. False if unsupported. */
bool reserved_range_discard_lazily(void *p, size_t size);

#endif /* FWPM_CORE_PAGE_ARENA_RANGE_H */
