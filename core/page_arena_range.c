/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena_range.c - reservation, lock-free carving, commit map.
 */
#include "page_arena_range.h"

#include <sys/mman.h>
#include <unistd.h>

#define CHUNK_BYTES ((uintptr_t)1 << RESERVED_RANGE_CHUNK_SHIFT)

/* The kernel's page size; set by the first reservation, before any discard. */
static uintptr_t page_bytes = 4096;

bool reserved_range_reserve(struct reserved_range *r, uintptr_t max_bytes, uintptr_t min_bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        page_bytes = (uintptr_t)page;
    for (uintptr_t bytes = max_bytes; bytes >= min_bytes; bytes /= 2) {
        /* Address space only: no commit charge and no page until a chunk is
         * committed and touched. */
        void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            continue;
        /* Chunk-aligned base: a chunk is then one commit-map byte. The
         * unaligned head (and the rest of the last chunk) stays PROT_NONE. */
        uintptr_t start = ((uintptr_t)p + CHUNK_BYTES - 1) & ~(CHUNK_BYTES - 1);
        r->bytes = ((uintptr_t)p + bytes - start) & ~(CHUNK_BYTES - 1);
        atomic_init(&r->carved, 0);
        /* Release: pairs with the acquire in reserved_range_contains. */
        atomic_store_explicit(&r->base, start, memory_order_release);
        return true;
    }
    return false;
}

bool reserved_range_commit(struct reserved_range *r, uintptr_t offset, size_t size)
{
    uintptr_t base = atomic_load_explicit(&r->base, memory_order_relaxed); /* set before sharing */
    for (uintptr_t c = offset >> RESERVED_RANGE_CHUNK_SHIFT;
         c <= (offset + size - 1) >> RESERVED_RANGE_CHUNK_SHIFT; c++) {
        /* Acquire: pairs with the release below, so a chunk seen committed is
         * accessible to this thread too (mprotect is process-wide anyway). */
        if (atomic_load_explicit(&r->committed[c], memory_order_acquire))
            continue;
        /* Two threads may commit the same chunk at once: mprotect to the same
         * protection is idempotent. */
        if (mprotect((void *)(base + (c << RESERVED_RANGE_CHUNK_SHIFT)), CHUNK_BYTES,
                     PROT_READ | PROT_WRITE) != 0)
            return false;
        /* Release: pairs with the acquires in reserved_range_readable and
         * above; the chunk is accessible before anyone is told so. */
        atomic_store_explicit(&r->committed[c], 1, memory_order_release);
    }
    return true;
}

void *reserved_range_carve(struct reserved_range *r, size_t size, size_t align)
{
    if (size == 0 || size > r->bytes)
        return NULL;
    uintptr_t carved = atomic_load_explicit(&r->carved, memory_order_relaxed);
    uintptr_t start;
    do {
        start = (carved + align - 1) & ~((uintptr_t)align - 1);
        if (start > r->bytes - size)
            return NULL; /* exhausted: the caller reports out of memory */
        /* Relaxed: the offset only partitions the range; the memory is
         * published by the commit map and by whoever hands the block out. */
    } while (!atomic_compare_exchange_weak_explicit(&r->carved, &carved, start + size,
                                                    memory_order_relaxed, memory_order_relaxed));
    /* Never-touched pages of a fresh carve read as zeros. A refused commit
     * loses these bytes of address space, not memory. */
    if (!reserved_range_commit(r, start, size))
        return NULL;
    return (void *)(atomic_load_explicit(&r->base, memory_order_relaxed) + start);
}

/* The whole pages inside [p, p + size), as [*start, *start + return). */
static size_t inner_pages(void *p, size_t size, void **start)
{
    const uintptr_t page = page_bytes;
    uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t to = ((uintptr_t)p + size) & ~(page - 1);
    *start = (void *)from;
    return to > from ? to - from : 0;
}

void reserved_range_discard(void *p, size_t size)
{
    void *start;
    size_t bytes = inner_pages(p, size, &start);
    if (bytes != 0)
        (void)madvise(start, bytes, MADV_DONTNEED); /* keeps the mapping: reads give zeros */
}

bool reserved_range_discard_lazily(void *p, size_t size)
{
#ifdef MADV_FREE
    void *start;
    size_t bytes = inner_pages(p, size, &start);
    return bytes == 0 || madvise(start, bytes, MADV_FREE) == 0;
#else
    (void)p;
    (void)size;
    return false;
#endif
}
