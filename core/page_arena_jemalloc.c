/*
 * page_arena_jemalloc.c - extent hooks over the reserved range.
 *
 * The hooks are called by jemalloc, under its own locks, from any thread; they
 * take no lock and only carve from the range or madvise inside it.
 */
#include "page_arena_jemalloc.h"

#include <jemalloc/jemalloc.h> /* types and flag macros; calls go through memory_jemalloc */

/* The hooks and the range they carve from (hooks first: jemalloc passes a
 * pointer to them back to every hook). Written once, before the arena exists. */
static struct range_hooks {
    extent_hooks_t hooks;
    struct reserved_range *range;
} range_hooks;

static const struct memory_jemalloc *je;
/* Set once with the arena, read by every allocation: the arena, and no
 * automatic tcache (its bins hold any arena's blocks, so a block from it could
 * lie outside the range). */
static int alloc_flags;

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
    alloc_flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
    return true;
}

void *page_arena_jemalloc_alloc(size_t bytes)
{
    return je->mallocx(bytes, alloc_flags);
}

void page_arena_jemalloc_free(void *p, size_t bytes)
{
    je->sdallocx(p, bytes, alloc_flags);
}
