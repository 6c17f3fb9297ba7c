/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * memory.h - the library's one way to allocate.
 *
 * Every block fwpm allocates comes from here. The allocator is chosen once,
 * at the first allocation, and never changes: jemalloc's non-standard API
 * (mallocx/sdallocx, so the host's malloc is left alone) when jemalloc can be
 * had - linked into the library (static archive), already in the process, or
 * loadable with dlopen(RTLD_LOCAL) - else the system's malloc/free. A build
 * with FWPM_SYSTEM_ALLOC (sanitizer builds) always uses malloc/free.
 * libfwpm.so has no DT_NEEDED on jemalloc: jemalloc's 2,632 bytes of
 * initial-exec TLS would make every later dlopen() of fwpm fail.
 * Callers free with the size they allocated (sized deallocation).
 *
 * The layer keeps an exact count of live bytes and blocks, per thread and
 * without atomic read-modify-write on the hot path, so tests can check that
 * memory returns to its baseline. Bytes are what the allocator holds for each
 * block: jemalloc's usable size (its size class, from nallocx), or the size
 * asked for under the system allocator. Test builds (FWPM_FAULT_INJECTION) can make
 * the n-th allocation fail.
 *
 * Any thread may call any function here.
 */
#ifndef FWPM_CORE_MEMORY_H
#define FWPM_CORE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a block is for: session data, or infrastructure kept for reuse (per-thread
 * records, handle-table segments), which is counted apart. */
enum memory_kind {
    MEMORY_DATA = 0,
    MEMORY_INFRASTRUCTURE = 1,
};

/* A block of at least size bytes, or NULL when out of memory. */
void *memory_alloc(size_t size, enum memory_kind kind);

/* Like memory_alloc, zero-filled. */
void *memory_zalloc(size_t size, enum memory_kind kind);

/* Frees a block from memory_alloc; size and kind must be those it was given. */
void memory_free(void *p, size_t size, enum memory_kind kind);

/* For allocators beside this layer (page_arena.c): counts a block of size
 * bytes of kind as live, or returns false (counting nothing) when an injected
 * fault says this allocation fails. */
bool memory_charge(size_t size, enum memory_kind kind);

/* Undoes memory_charge for a block being freed. */
void memory_uncharge(size_t size, enum memory_kind kind);

struct memory_totals {
    int64_t data_bytes;
    int64_t data_blocks;
    int64_t infrastructure_bytes;
};

/* Sums the live totals over all threads (a moment's view, exact when quiet). */
void memory_totals(struct memory_totals *out);

/* Gives the kernel back the pages of the library's jemalloc arena that no
 * block uses (they are otherwise returned on jemalloc's decay schedule, as
 * the library allocates), after flushing the calling thread's jemalloc cache
 * (whose blocks would keep their pages); nothing under the system allocator.
 * Any thread, no lock of ours held: it takes jemalloc's own locks, and costs
 * a system call per run of free pages. */
void memory_release_unused(void);

/* Turns off the calling thread's jemalloc cache, for good: its frees then go
 * straight to the arena, so that no block it freed keeps a page from
 * memory_release_unused (which flushes only its own caller's cache). For a
 * thread of the library's that frees what others leave and allocates little
 * (the reclaimer). Nothing under the system allocator or without our arena. */
void memory_thread_cache_off(void);

/* The index of the library's jemalloc arena, or UINT_MAX when there is none
 * (the system allocator serves, or the arena could not be made). Any thread. */
unsigned memory_data_arena(void);

/* In a fork child, by the fork handler alone: re-initialises the counter
 * registry's lock (another thread of the parent may have held it). The
 * counts carry on: what the abandoned engine held stays counted as live
 * (it is in the child's memory), and freeing an inherited array subtracts
 * what allocating it added. */
void memory_reset_after_fork(void);

/* jemalloc's entry points when jemalloc serves the library, else NULL. Any thread. */
struct memory_jemalloc {
    void *(*mallocx)(size_t size, int flags);
    void (*sdallocx)(void *p, size_t size, int flags);
    int (*mallctl)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
    size_t (*nallocx)(size_t size, int flags);
};
const struct memory_jemalloc *memory_jemalloc(void);

/* "jemalloc" or "system": the allocator that serves the library (resolving
 * it now if no allocation has yet). Static string; any thread. */
const char *memory_allocator_name(void);

/* Test builds only: the n-th allocation from now made by the calling thread
 * fails (n >= 1), and every later one succeeds; n == 0 disarms. Counting is
 * per thread (the library's own threads never take a test's failure).
 * Returns without effect in builds without FWPM_FAULT_INJECTION. */
void memory_fail_nth(uint64_t n);

#endif /* FWPM_CORE_MEMORY_H */
