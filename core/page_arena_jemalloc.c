/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena_jemalloc.c - extent hooks over the reserved range.
 *
 * The hooks are called by jemalloc, under its own locks, from any thread; they
 * take no lock and only carve from the range or madvise inside it.
 */
#include "page_arena_jemalloc.h"

#include <jemalloc/jemalloc.h> /* types and flag macros; calls go through memory_jemalloc */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* The hooks and the range they carve from (hooks first: jemalloc passes a
 * pointer to them back to every hook). Written once, before the arena exists. */
static struct range_hooks {
    extent_hooks_t hooks;
    struct reserved_range *range;
} range_hooks;

static const struct memory_jemalloc *je;
/* Set once with the arena, read by every allocation: MALLOCX_ARENA of it. The
 * thread's automatic tcache is never used: its bins hold any arena's blocks,
 * so a block from it could lie outside the range. */
static int arena_flags;

/* Blocks a thread keeps for itself: classes of 32 << k bytes (k <
 * MAGAZINE_CLASSES, up to 8 KiB, a page of 1000 entries), MAGAZINE_DEPTH
 * blocks each up to 1 KiB and one block of each larger class, so at most
 * ~8 KiB + 14 KiB per thread. A page's block is then taken and given back
 * without a call into jemalloc, whose calls with flags (an explicit tcache)
 * take its slow path (measured with callgrind: ~250 instructions a page, ~550
 * for an 8 KiB page). Small requests are rounded up to their class, and
 * always freed at that size. */
#define MAGAZINE_CLASSES 9
#define MAGAZINE_DEPTH 4
#define MAGAZINE_DEEP_CLASSES 6 /* classes up to 1 KiB keep MAGAZINE_DEPTH blocks */
#define MAGAZINE_MIN_SHIFT 5

/* One thread's caches: its explicit tcache, holding blocks of the arena only
 * (it fills from and flushes to it; jemalloc's explicit tcaches are not
 * thread-safe, so one per thread), and its magazine. Created at the thread's
 * first use, flushed and destroyed at its exit. Only its thread touches it. */
struct thread_cache {
    unsigned tcache;
    unsigned count[MAGAZINE_CLASSES];
    void *blocks[MAGAZINE_CLASSES][MAGAZINE_DEPTH];
};

static _Thread_local struct thread_cache *thread_cache; /* NULL: none yet */
/* Large blocks. jemalloc 5.3 purges an extent of its oversize classes
 * (opt.oversize_threshold, 8 MiB by default) as soon as it is freed, even in
 * an arena with dirty decay: every INFINITE page of a 1M-session snapshot
 * (8 MB) page-faulted all of its 2048 pages afresh. So the arena keeps the
 * last freed block of LARGE_MIN .. LARGE_CACHE_MAX bytes itself, in one slot:
 * the next request of the same (rounded) size takes it without a fault; a
 * request of another size, or a later free, hands the kept one back to
 * jemalloc. Bound: one block, at most LARGE_CACHE_MAX bytes, resident beyond
 * what is live. Requests from LARGE_MIN up are rounded up to LARGE_GRANULE
 * (at most 1/4 more, within jemalloc's own class spacing there), on
 * allocation and on free alike, so that sized deallocation sees the size the
 * block was allocated with and near sizes share the slot. The kept block's
 * size is written in its first word (fwpm's memory: a stale read of it sees
 * that word). */
#define LARGE_MIN ((size_t)4 << 20)
#define LARGE_GRANULE ((size_t)1 << 20)
#define LARGE_CACHE_MAX ((size_t)32 << 20)

/* The kept block, or NULL. Exchanged (acq_rel): the freer's write of the
 * size word is released with the block, and seen by whoever takes it. */
static _Atomic(void *) large_kept;

static inline size_t large_rounded(size_t bytes)
{
    return bytes < LARGE_MIN ? bytes : (bytes + LARGE_GRANULE - 1) & ~(LARGE_GRANULE - 1);
}

static pthread_key_t thread_cache_key;
static bool thread_cache_key_made;

static inline int tcache_flags(const struct thread_cache *tc)
{
    return tc != NULL ? arena_flags | MALLOCX_TCACHE(tc->tcache)
                      : arena_flags | MALLOCX_TCACHE_NONE;
}

/* The magazine class of a request, or -1 if it is too large for one. */
static inline int magazine_class(size_t bytes)
{
    if (bytes > ((size_t)1 << (MAGAZINE_MIN_SHIFT + MAGAZINE_CLASSES - 1)))
        return -1;
    if (bytes <= ((size_t)1 << MAGAZINE_MIN_SHIFT))
        return 0;
    return 64 - __builtin_clzll((unsigned long long)bytes - 1) - MAGAZINE_MIN_SHIFT;
}

static inline size_t magazine_bytes(int k)
{
    return (size_t)1 << (MAGAZINE_MIN_SHIFT + k);
}

/* How many blocks class k keeps. */
static inline unsigned magazine_depth(int k)
{
    return k < MAGAZINE_DEEP_CLASSES ? MAGAZINE_DEPTH : 1;
}

static void thread_cache_destroy(void *arg)
{
    struct thread_cache *tc = arg;
    thread_cache = NULL; /* a later destructor's use creates a new one */
    for (int k = 0; k < MAGAZINE_CLASSES; k++)
        while (tc->count[k] > 0)
            je->sdallocx(tc->blocks[k][--tc->count[k]], magazine_bytes(k), tcache_flags(tc));
    je->mallctl("tcache.destroy", NULL, NULL, &tc->tcache, sizeof(tc->tcache));
    je->sdallocx(tc, sizeof(*tc), 0);
}

/* Creates this thread's caches; NULL if jemalloc refused (then no cache). */
static struct thread_cache *thread_cache_create(void)
{
    if (!thread_cache_key_made)
        return NULL;
    /* Uncounted, like memory.c's per-thread slots: infrastructure of the
     * allocator itself, freed at thread exit. */
    struct thread_cache *tc = je->mallocx(sizeof(*tc), MALLOCX_ZERO);
    if (tc == NULL)
        return NULL;
    size_t size = sizeof(tc->tcache);
    if (je->mallctl("tcache.create", &tc->tcache, &size, NULL, 0) != 0) {
        je->sdallocx(tc, sizeof(*tc), 0);
        return NULL;
    }
    if (pthread_setspecific(thread_cache_key, tc) != 0) {
        je->mallctl("tcache.destroy", NULL, NULL, &tc->tcache, sizeof(tc->tcache));
        je->sdallocx(tc, sizeof(*tc), 0);
        return NULL;
    }
    thread_cache = tc;
    return tc;
}

static inline struct thread_cache *thread_cache_get(void)
{
    struct thread_cache *tc = thread_cache;
    return __builtin_expect(tc != NULL, 1) ? tc : thread_cache_create();
}

static struct reserved_range *range_of(extent_hooks_t *hooks)
{
    return ((struct range_hooks *)hooks)->range;
}

static void *extent_alloc(extent_hooks_t *hooks, void *new_addr, size_t size, size_t alignment,
                          bool *zero, bool *commit, unsigned arena_ind)
{
    (void)arena_ind;
    if (new_addr != NULL)
        return NULL; /* no growth in place: jemalloc then allocates anew */
    void *p = reserved_range_carve(range_of(hooks), size, alignment);
    if (p != NULL) {
        *zero = true; /* fresh carves were never touched */
        *commit = true;
    }
    return p;
}

static bool extent_dalloc(extent_hooks_t *hooks, void *addr, size_t size, bool committed,
                          unsigned arena_ind)
{
    (void)hooks, (void)addr, (void)size, (void)committed, (void)arena_ind;
    return true; /* opt out: jemalloc keeps the extent, which never leaves the range */
}

static void extent_destroy(extent_hooks_t *hooks, void *addr, size_t size, bool committed,
                           unsigned arena_ind)
{
    (void)hooks, (void)committed, (void)arena_ind;
    reserved_range_discard(addr, size);
}

static bool extent_commit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                          size_t length, unsigned arena_ind)
{
    (void)hooks, (void)addr, (void)size, (void)offset, (void)length, (void)arena_ind;
    return false; /* carved memory is committed for good */
}

/* Decommit and forced purge: the pages go back to the kernel and read as
 * zeros, but stay mapped and writable (never PROT_NONE, never unmapped). */
static bool extent_purge_forced(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                                size_t length, unsigned arena_ind)
{
    (void)hooks, (void)size, (void)arena_ind;
    reserved_range_discard((char *)addr + offset, length);
    return false;
}

static bool extent_purge_lazy(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                              size_t length, unsigned arena_ind)
{
    (void)hooks, (void)size, (void)arena_ind;
    return !reserved_range_discard_lazily((char *)addr + offset, length);
}

static bool extent_split(extent_hooks_t *hooks, void *addr, size_t size, size_t size_a,
                         size_t size_b, bool committed, unsigned arena_ind)
{
    (void)hooks, (void)addr, (void)size, (void)size_a, (void)size_b, (void)committed,
        (void)arena_ind;
    return false; /* one mapping: any split is fine */
}

static bool extent_merge(extent_hooks_t *hooks, void *addr_a, size_t size_a, void *addr_b,
                         size_t size_b, bool committed, unsigned arena_ind)
{
    (void)hooks, (void)addr_a, (void)size_a, (void)addr_b, (void)size_b, (void)committed,
        (void)arena_ind;
    return false; /* adjacent extents of one mapping: any merge is fine */
}

bool page_arena_jemalloc_create(const struct memory_jemalloc *jemalloc,
                                struct reserved_range *range)
{
    range_hooks.hooks = (extent_hooks_t){
        .alloc = extent_alloc,
        .dalloc = extent_dalloc,
        .destroy = extent_destroy,
        .commit = extent_commit,
        .decommit = extent_purge_forced,
        .purge_lazy = extent_purge_lazy,
        .purge_forced = extent_purge_forced,
        .split = extent_split,
        .merge = extent_merge,
    };
    range_hooks.range = range;
    extent_hooks_t *hooks = &range_hooks.hooks;
    unsigned arena;
    size_t arena_size = sizeof(arena);
    if (jemalloc->mallctl("arenas.create", &arena, &arena_size, &hooks, sizeof(hooks)) != 0)
        return false;
    je = jemalloc;
    arena_flags = MALLOCX_ARENA(arena);
    thread_cache_key_made = pthread_key_create(&thread_cache_key, thread_cache_destroy) == 0;
    return true;
}

void *page_arena_jemalloc_alloc(size_t bytes)
{
    struct thread_cache *tc = thread_cache_get();
    int k = magazine_class(bytes);
    if (k < 0) {
        size_t size = large_rounded(bytes);
        if (size >= LARGE_MIN && size <= LARGE_CACHE_MAX) {
            /* Acquire: pairs with the exchange in page_arena_jemalloc_free. */
            size_t *kept = atomic_exchange_explicit(&large_kept, NULL, memory_order_acq_rel);
            if (kept != NULL) {
                if (kept[0] == size)
                    return kept;
                je->sdallocx(kept, kept[0], tcache_flags(tc)); /* another size */
            }
        }
        return je->mallocx(size, tcache_flags(tc));
    }
    if (tc != NULL && tc->count[k] > 0)
        return tc->blocks[k][--tc->count[k]];
    return je->mallocx(magazine_bytes(k), tcache_flags(tc));
}

void page_arena_jemalloc_free(void *p, size_t bytes)
{
    /* Into the freeing thread's caches: any thread's caches hold only blocks
     * of the arena, so whichever thread frees, the range stays pure. */
    struct thread_cache *tc = thread_cache_get();
    int k = magazine_class(bytes);
    if (k < 0) {
        size_t size = large_rounded(bytes);
        if (size >= LARGE_MIN && size <= LARGE_CACHE_MAX) {
            *(size_t *)p = size;
            /* Release: the size word goes with the block (pairs with the
             * exchange in page_arena_jemalloc_alloc, or with this one in a
             * later free, which hands the block back). */
            p = atomic_exchange_explicit(&large_kept, p, memory_order_acq_rel);
            if (p == NULL)
                return;
            size = *(size_t *)p;
        }
        je->sdallocx(p, size, tcache_flags(tc));
    } else if (tc != NULL && tc->count[k] < magazine_depth(k)) {
        tc->blocks[k][tc->count[k]++] = p;
    } else {
        je->sdallocx(p, magazine_bytes(k), tcache_flags(tc));
    }
}
