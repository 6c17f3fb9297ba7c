/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena_jemalloc.h - a jemalloc arena whose extents come from the range.
 *
 * When jemalloc serves the library, the range's blocks come from one arena
 * created with extent hooks that carve extents from the reserved range and
 * never unmap them: "dalloc" opts out (jemalloc retains the extent for reuse),
 * decommit and purges discard with madvise, so the memory stays mapped and a
 * stale read sees zeros. Allocation bypasses the thread's automatic tcache,
 * whose bins mix every arena's blocks: each thread has an explicit tcache of
 * the arena and a small magazine of blocks up to 8 KiB (at most ~22 KiB a
 * thread), both flushed at thread exit, and the arena keeps the last freed
 * block of 4 to 32 MiB for the next request of its size (one block, any
 * thread: jemalloc would purge it at once); see page_arena_jemalloc.c.
 *
 * Any thread, no lock of fwpm's (jemalloc takes its own). Set-up
 * (page_arena_jemalloc_create) runs once first.
 */
#ifndef FWPM_CORE_PAGE_ARENA_JEMALLOC_H
#define FWPM_CORE_PAGE_ARENA_JEMALLOC_H

#include "memory.h"
#include "page_arena_range.h"

/* Creates the arena over range through je; false if jemalloc refused. */
bool page_arena_jemalloc_create(const struct memory_jemalloc *je, struct reserved_range *range);

/* A block of bytes (> 0) bytes from the arena, or NULL. */
void *page_arena_jemalloc_alloc(size_t bytes);

/* Frees a block of page_arena_jemalloc_alloc(bytes). */
void page_arena_jemalloc_free(void *p, size_t bytes);

#endif /* FWPM_CORE_PAGE_ARENA_JEMALLOC_H */
