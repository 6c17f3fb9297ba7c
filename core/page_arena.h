/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena.h - the address range that arrays returned to clients live in.
 *
 * Every array the API hands to a client (pages of FwpmSessionEnum0 today, and
 * arrays decoded from a host engine's replies later) is allocated here, from
 * one address range reserved once per process. Whether a pointer is ours is
 * then a range check that reads no memory outside fwpm's own, which is what
 * lets FwpmFreeMemory0 ignore pointers the API did not return (contract §5.4).
 *
 * Guarantees:
 *  - Memory of the range, once committed, stays mapped and readable for the
 *    life of the process (and in a forked child): freed blocks are given back
 *    to the kernel with madvise, so a stale read of a freed block sees its old
 *    contents, zeros, or the allocator's own words, never a fault.
 *    page_arena_readable says which bytes that holds for, touching nothing
 *    but fwpm's own bookkeeping.
 *  - Memory held beyond the live blocks is bounded: what jemalloc's dirty
 *    decay keeps (or, without jemalloc, the free blocks below 16 KiB), plus
 *    per thread a magazine of small blocks (~22 KiB), plus one freed block of
 *    4 to 32 MiB kept resident for the next request of its size (jemalloc
 *    purges blocks of 8 MiB and more at once when freed, so without it every
 *    INFINITE page of a 1M-session snapshot faulted all its pages afresh; see
 *    page_arena_jemalloc.c). None of it is counted as live.
 *  - Blocks come from a jemalloc arena whose extents are carved from the range
 *    when jemalloc serves the library, and otherwise from size classes with
 *    lock-free free lists over the same range. Neither path takes a lock that
 *    fwpm's code calls (jemalloc's own internal locks aside).
 *  - Bytes of live blocks are counted in the library's memory totals
 *    (MEMORY_DATA), and fault injection (memory_fail_nth) applies here too.
 *  - When the range is exhausted (or cannot be reserved), allocation returns
 *    NULL: callers report ERROR_NOT_ENOUGH_MEMORY.
 *
 * Any thread may call any function here, with no lock held or needed.
 */
#ifndef FWPM_CORE_PAGE_ARENA_H
#define FWPM_CORE_PAGE_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* Reserves the range now if it is not yet (it is otherwise reserved at the
 * first allocation). The engine's set-up calls it, so that the range is taken
 * before the host limits its address space or exhausts it. */
void page_arena_reserve(void);

/* A block of at least bytes bytes from the range, 16-byte aligned, or NULL
 * when out of memory (range exhausted, commit refused, or an injected fault). */
void *page_arena_alloc(size_t bytes);

/* Frees a block from page_arena_alloc; bytes must be what it was given. */
void page_arena_free(void *p, size_t bytes);

/* True when p lies in the reserved range. Reads nothing but the range's
 * bounds. */
bool page_arena_contains(const void *p);

/* True when the bytes [p, p + bytes) lie in committed memory of the range, so
 * they can be read without a fault, now and for the rest of the process (their
 * contents may be a freed block's, or zeros). Reads only fwpm's own commit map. */
bool page_arena_readable(const void *p, size_t bytes);

/* Bytes of the range carved so far: blocks live, cached or free, never given
 * back to the range. For tests that check freed blocks are reused. */
size_t page_arena_carved(void);

#endif /* FWPM_CORE_PAGE_ARENA_H */
