/*
 * page_arena_jemalloc.c - extent hooks over the reserved range.
 *
 * The hooks are called by jemalloc, under its own locks, from any thread; they
 * take no lock and only carve from the range or madvise inside it.
 */
#include "page_arena_jemalloc.h"

#include <jemalloc/jemalloc.h> /* types and flag macros; calls go through memory_jemalloc */
#include <pthread.h>
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

/* This thread's explicit tcache + 1, holding blocks of the arena only (it
 * fills from and flushes to it); 0 while the thread has none. A cache is one
 * thread's (jemalloc's explicit tcaches are not thread-safe): created at the
 * thread's first use, destroyed (flushed to the arena) at its exit. */
static _Thread_local unsigned thread_tcache;
static pthread_key_t tcache_key;
static bool tcache_key_made;

static void tcache_destroy(void *arg)
{
    unsigned tcache = (unsigned)(uintptr_t)arg - 1;
    thread_tcache = 0; /* a later destructor's use creates a new one */
    je->mallctl("tcache.destroy", NULL, NULL, &tcache, sizeof(tcache));
}

/* Creates this thread's tcache; the flags to use if that fails: no tcache. */
static int tcache_flags_slow(void)
{
    unsigned tcache;
    size_t size = sizeof(tcache);
    if (!tcache_key_made || je->mallctl("tcache.create", &tcache, &size, NULL, 0) != 0)
        return arena_flags | MALLOCX_TCACHE_NONE;
    if (pthread_setspecific(tcache_key, (void *)(uintptr_t)(tcache + 1)) != 0) {
        je->mallctl("tcache.destroy", NULL, NULL, &tcache, sizeof(tcache));
        return arena_flags | MALLOCX_TCACHE_NONE;
    }
    thread_tcache = tcache + 1;
    return arena_flags | MALLOCX_TCACHE(tcache);
}

static inline int thread_flags(void)
{
    unsigned tcache = thread_tcache;
    if (__builtin_expect(tcache != 0, 1))
        return arena_flags | MALLOCX_TCACHE(tcache - 1);
    return tcache_flags_slow();
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
    tcache_key_made = pthread_key_create(&tcache_key, tcache_destroy) == 0;
    return true;
}

void *page_arena_jemalloc_alloc(size_t bytes)
{
    return je->mallocx(bytes, thread_flags());
}

void page_arena_jemalloc_free(void *p, size_t bytes)
{
    /* Into the freeing thread's cache: any thread's cache holds only blocks
     * of the arena, so whichever frees, the range stays pure. */
    je->sdallocx(p, bytes, thread_flags());
}
