/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * memory.c - allocation through jemalloc's own API, with exact live counts.
 *
 * Allocator: resolved once (pthread_once) and published through `serving`.
 * jemalloc is reached only through function pointers, found in this order:
 *   1. linked in: weak references to mallocx/sdallocx/mallctl, bound when the
 *      static archive carries its own (localized) jemalloc, or when the
 *      process had jemalloc in its global scope when libfwpm.so was loaded;
 *   2. already loaded, perhaps RTLD_LOCAL: dlopen(RTLD_NOLOAD) + dlsym;
 *   3. loadable: dlopen(RTLD_NOW | RTLD_LOCAL), so that it never becomes the
 *      host's malloc (this fails after start-up: jemalloc needs static TLS);
 *   4. otherwise the system allocator (malloc/free), which
 *      memory_allocator_name() reports.
 * A jemalloc handle obtained with dlopen is never closed.
 *
 * Arena: under jemalloc the library's blocks come from one arena of its own,
 * made at resolution (MALLOCX_ARENA), not from the automatic arenas that
 * jemalloc spreads a process's threads over. A block goes back to the arena
 * that served it, and the space it leaves serves only that arena's
 * allocations; records are freed by whichever thread ends their grace period,
 * and hosts open sessions on one thread and close and reopen them on others.
 * With the automatic arenas, a table opened on one thread and churned by
 * three others moved to the churners' arenas and left the first one's pages
 * resident: fwpm-bench mixed R1 W3 grew by 6-25 MiB over a 32 MiB table in
 * a run, and 3-6 MiB with one arena. Each thread's automatic tcache still
 * fronts every allocation and free (no lock on the common path), except
 * the reclaimer's, which is off (memory_thread_cache_off); it fills
 * from the arena given, and flushes each block to the arena that served it,
 * taking that arena's bin locks (all of jemalloc came to under 3% of the
 * samples with 64 threads opening and closing at once). Its bins are not
 * per arena: when the host also allocates from the same jemalloc (its malloc,
 * or mallocx), a thread that allocates and frees blocks of one size class
 * for both keeps passing blocks between them, a bounded number at any
 * moment (what its cache holds); a thread that only serves the library takes
 * everything from the one arena. When the arena cannot be made, the
 * automatic arenas serve.
 *
 * Counting: each thread owns a counter set and updates it with relaxed
 * load+store (one writer per set, so no locked instruction on the hot path).
 * Counter sets live in a registry; a thread that exits folds its set into the
 * global "retired" totals and gives the set back for reuse.
 */
#include "memory.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jemalloc's flag for zero-filled memory (<jemalloc/jemalloc.h>: MALLOCX_ZERO);
 * its ABI is fixed across jemalloc 4 and 5. */
#define JEMALLOC_MALLOCX_ZERO ((int)0x40)

/* jemalloc's flag for a given arena (MALLOCX_ARENA: the index plus one, from
 * bit 20; 0 names no arena); the same ABI. */
#define JEMALLOC_MALLOCX_ARENA_SHIFT 20

static inline int jemalloc_mallocx_arena(unsigned index)
{
    return (int)((index + 1u) << JEMALLOC_MALLOCX_ARENA_SHIFT);
}

/* The arena a nonzero MALLOCX_ARENA flag names. */
static inline unsigned jemalloc_arena_of_flags(int flags)
{
    return ((unsigned)flags >> JEMALLOC_MALLOCX_ARENA_SHIFT) - 1u;
}

/* The allocator that serves the library: jemalloc's entry points, or NULL for
 * the system allocator. Written once, before `serving` is published. */
struct allocator {
    const struct memory_jemalloc *jemalloc;
    const char *name;
};

static const struct allocator system_allocator = {NULL, "system"};
static const struct allocator *_Atomic serving; /* NULL until resolved */
static pthread_once_t serving_once = PTHREAD_ONCE_INIT;

#ifndef FWPM_SYSTEM_ALLOC
static struct memory_jemalloc jemalloc_entries; /* written once, by serving_resolve */
static const struct allocator jemalloc_allocator = {&jemalloc_entries, "jemalloc"};

/* The library's arena (see the top of this file) as its MALLOCX_ARENA flag,
 * or 0 when it could not be made. Written once, by serving_resolve, before
 * `serving` is published. */
static int data_arena_flags;

/* Weak: NULL unless some object of the link (or, for libfwpm.so, the global
 * scope at load time) defines them. */
extern void *mallocx(size_t size, int flags) __attribute__((weak));
extern void sdallocx(void *p, size_t size, int flags) __attribute__((weak));
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));
extern size_t nallocx(size_t size, int flags) __attribute__((weak));

static bool jemalloc_from_link(struct memory_jemalloc *out)
{
    if (mallocx == NULL || sdallocx == NULL || mallctl == NULL || nallocx == NULL)
        return false;
    *out = (struct memory_jemalloc){mallocx, sdallocx, mallctl, nallocx};
    return true;
}

/* dlsym's void * to a function pointer: the POSIX-sanctioned way, by memcpy. */
static bool jemalloc_from_handle(void *handle, struct memory_jemalloc *out)
{
    void *fn[4] = {dlsym(handle, "mallocx"), dlsym(handle, "sdallocx"), dlsym(handle, "mallctl"),
                   dlsym(handle, "nallocx")};
    if (fn[0] == NULL || fn[1] == NULL || fn[2] == NULL || fn[3] == NULL)
        return false;
    memcpy(&out->mallocx, &fn[0], sizeof(fn[0]));
    memcpy(&out->sdallocx, &fn[1], sizeof(fn[1]));
    memcpy(&out->mallctl, &fn[2], sizeof(fn[2]));
    memcpy(&out->nallocx, &fn[3], sizeof(fn[3]));
    return true;
}

static bool jemalloc_from_loader(struct memory_jemalloc *out)
{
    static const char soname[] = "libjemalloc.so.2";
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (handle == NULL)
        handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        return false;
    if (jemalloc_from_handle(handle, out))
        return true; /* the handle stays open for the life of the process */
    dlclose(handle);
    return false;
}

/* Makes the library's arena; without it the automatic arenas serve. */
static void data_arena_create(void)
{
    unsigned index;
    size_t size = sizeof(index);
    if (jemalloc_entries.mallctl("arenas.create", &index, &size, NULL, 0) == 0)
        data_arena_flags = jemalloc_mallocx_arena(index);
}

static void serving_resolve(void)
{
    const struct allocator *a = &system_allocator;
    if (jemalloc_from_link(&jemalloc_entries) || jemalloc_from_loader(&jemalloc_entries)) {
        a = &jemalloc_allocator;
        data_arena_create();
    }
    /* Release: the entries and the arena's flag above are visible to
     * whoever loads `serving` (pairs with the acquire in allocator_serving). */
    atomic_store_explicit(&serving, a, memory_order_release);
}
#else
static const int data_arena_flags = 0;

static void serving_resolve(void)
{
    atomic_store_explicit(&serving, &system_allocator, memory_order_release);
}
#endif

static const struct allocator *allocator_resolve(void)
{
    pthread_once(&serving_once, serving_resolve);
    /* Acquire: as in allocator_serving (pthread_once orders it too). */
    return atomic_load_explicit(&serving, memory_order_acquire);
}

/* The allocator, resolved on first use. Acquire pairs with the release
 * store in serving_resolve: the jemalloc entries and the arena's flag are
 * read after it. */
static inline const struct allocator *allocator_serving(void)
{
    const struct allocator *a = atomic_load_explicit(&serving, memory_order_acquire);
    if (__builtin_expect(a == NULL, 0))
        a = allocator_resolve();
    return a;
}

const struct memory_jemalloc *memory_jemalloc(void)
{
    return allocator_serving()->jemalloc;
}

const char *memory_allocator_name(void)
{
    return allocator_serving()->name;
}

/* The three primitives every allocation goes through. */
static inline void *block_alloc(size_t size)
{
    const struct memory_jemalloc *je = allocator_serving()->jemalloc;
    return je != NULL ? je->mallocx(size, data_arena_flags) : malloc(size);
}

static inline void *block_zalloc(size_t size)
{
    const struct memory_jemalloc *je = allocator_serving()->jemalloc;
    return je != NULL ? je->mallocx(size, data_arena_flags | JEMALLOC_MALLOCX_ZERO)
                      : calloc(1, size);
}

/* Size classes of requests below USABLE_CACHED bytes, as nallocx gave them
 * (0: not asked yet). jemalloc's classes are fixed for the life of the
 * process, so any thread may fill an entry and every thread reads the same
 * value: relaxed loads and stores suffice. Saves a call (about 30
 * instructions) on every allocation and free of a record or a chunk. */
#define USABLE_CACHED 1024u
static _Atomic uint16_t usable_size_of[USABLE_CACHED];

/* The bytes a block of size bytes holds: its size class under jemalloc (the
 * same for the block's allocation and its free, so counts stay exact). */
static inline size_t block_usable(size_t size)
{
    const struct memory_jemalloc *je = allocator_serving()->jemalloc;
    if (je == NULL)
        return size;
    if (size >= USABLE_CACHED)
        return je->nallocx(size, 0);
    size_t usable = atomic_load_explicit(&usable_size_of[size], memory_order_relaxed);
    if (usable == 0) {
        usable = je->nallocx(size, 0);
        atomic_store_explicit(&usable_size_of[size], (uint16_t)usable, memory_order_relaxed);
    }
    return usable;
}

static inline void block_free(void *p, size_t size)
{
    const struct memory_jemalloc *je = allocator_serving()->jemalloc;
    if (je != NULL)
        je->sdallocx(p, size, 0);
    else
        free(p);
}

/* One thread's live totals. Written only by its owner; read by anyone. */
struct thread_counters {
    _Atomic int64_t bytes[2];
    _Atomic int64_t blocks[2];
    struct thread_counters *next; /* registry link, under registry_lock */
    bool in_use;                  /* under registry_lock */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_counters *registry;
/* Totals of exited threads, and of blocks freed by a thread other than the one
 * whose set counted them: only their sum over all counter sets is meaningful. */
static _Atomic int64_t retired_bytes[2];
static _Atomic int64_t retired_blocks[2];

static pthread_key_t counters_key;
static pthread_once_t counters_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct thread_counters *my_counters;

static void thread_counters_release(void *arg)
{
    struct thread_counters *c = arg;
    my_counters = NULL; /* a later destructor's call registers anew */
    pthread_mutex_lock(&registry_lock);
    for (int k = 0; k < 2; k++) {
        atomic_fetch_add_explicit(&retired_bytes[k],
                                  atomic_load_explicit(&c->bytes[k], memory_order_relaxed),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&retired_blocks[k],
                                  atomic_load_explicit(&c->blocks[k], memory_order_relaxed),
                                  memory_order_relaxed);
        atomic_store_explicit(&c->bytes[k], 0, memory_order_relaxed);
        atomic_store_explicit(&c->blocks[k], 0, memory_order_relaxed);
    }
    c->in_use = false;
    pthread_mutex_unlock(&registry_lock);
}

static void counters_key_create(void)
{
    pthread_key_create(&counters_key, thread_counters_release);
}

/* Counter sets are never freed (they are reused); they bypass the counters
 * so that counting never recurses into itself. */
static void *uncounted_zalloc(size_t size)
{
    return block_zalloc(size);
}

static struct thread_counters *counters_for_this_thread(void)
{
    struct thread_counters *c = my_counters;
    if (c != NULL)
        return c;
    pthread_once(&counters_key_once, counters_key_create);
    pthread_mutex_lock(&registry_lock);
    for (c = registry; c != NULL; c = c->next)
        if (!c->in_use)
            break;
    if (c == NULL) {
        c = uncounted_zalloc(sizeof(*c));
        if (c == NULL) {
            pthread_mutex_unlock(&registry_lock);
            return NULL;
        }
        c->next = registry;
        registry = c;
    }
    c->in_use = true;
    pthread_mutex_unlock(&registry_lock);
    pthread_setspecific(counters_key, c);
    my_counters = c;
    return c;
}

/* Single writer per set: a plain add, published with a relaxed store. */
static inline void counters_add(struct thread_counters *c, enum memory_kind kind, int64_t bytes,
                                int64_t blocks)
{
    atomic_store_explicit(&c->bytes[kind],
                          atomic_load_explicit(&c->bytes[kind], memory_order_relaxed) + bytes,
                          memory_order_relaxed);
    atomic_store_explicit(&c->blocks[kind],
                          atomic_load_explicit(&c->blocks[kind], memory_order_relaxed) + blocks,
                          memory_order_relaxed);
}

static void memory_count_slow(enum memory_kind kind, int64_t bytes, int64_t blocks)
{
    struct thread_counters *c = counters_for_this_thread();
    if (c != NULL) {
        counters_add(c, kind, bytes, blocks);
        return;
    }
    atomic_fetch_add_explicit(&retired_bytes[kind], bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&retired_blocks[kind], blocks, memory_order_relaxed);
}

static inline void memory_count(enum memory_kind kind, int64_t bytes, int64_t blocks)
{
    struct thread_counters *c = my_counters;
    if (__builtin_expect(c == NULL, 0))
        memory_count_slow(kind, bytes, blocks);
    else
        counters_add(c, kind, bytes, blocks);
}

#ifdef FWPM_FAULT_INJECTION
/* Armed per thread: the countdown belongs to the thread that called
 * memory_fail_nth, so the library's own threads (the background reclaimer)
 * never take a test's injected failure, and a test counts exactly its own
 * call's allocations. Only its thread reads or writes it: no atomics. */
static _Thread_local uint64_t fail_countdown; /* 0: disarmed */

/* One thread-local load when disarmed: cheap enough to leave in every build. */
static inline bool injected_failure(void)
{
    if (__builtin_expect(fail_countdown == 0, 1))
        return false;
    return --fail_countdown == 0;
}

void memory_fail_nth(uint64_t n)
{
    fail_countdown = n;
}
#else
static inline bool injected_failure(void)
{
    return false;
}

void memory_fail_nth(uint64_t n)
{
    (void)n;
}
#endif

void *memory_alloc(size_t size, enum memory_kind kind)
{
    if (injected_failure())
        return NULL;
    void *p = block_alloc(size);
    if (p != NULL)
        memory_count(kind, (int64_t)block_usable(size), 1);
    return p;
}

void *memory_zalloc(size_t size, enum memory_kind kind)
{
    if (injected_failure())
        return NULL;
    void *p = block_zalloc(size);
    if (p != NULL)
        memory_count(kind, (int64_t)block_usable(size), 1);
    return p;
}

void memory_free(void *p, size_t size, enum memory_kind kind)
{
    if (p == NULL)
        return;
    memory_count(kind, -(int64_t)block_usable(size), -1);
    block_free(p, size);
}

bool memory_charge(size_t size, enum memory_kind kind)
{
    if (injected_failure())
        return false;
    memory_count(kind, (int64_t)size, 1);
    return true;
}

void memory_uncharge(size_t size, enum memory_kind kind)
{
    memory_count(kind, -(int64_t)size, -1);
}

void memory_release_unused(void)
{
    const struct memory_jemalloc *je = allocator_serving()->jemalloc;
    if (data_arena_flags == 0) /* no arena of ours (and maybe no jemalloc) */
        return;
    /* Both are hints: nothing to do if they fail. First the caller's cache,
     * whose blocks would keep their slabs from purging. */
    (void)je->mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    char name[32];
    snprintf(name, sizeof(name), "arena.%u.purge", jemalloc_arena_of_flags(data_arena_flags));
    (void)je->mallctl(name, NULL, NULL, NULL, 0);
}

void memory_thread_cache_off(void)
{
    const struct memory_jemalloc *je = allocator_serving()->jemalloc;
    if (data_arena_flags == 0)
        return;
    bool off = false;
    /* A hint too: if it fails, the cache stays, bounded by jemalloc. */
    (void)je->mallctl("thread.tcache.enabled", NULL, NULL, &off, sizeof(off));
}

unsigned memory_data_arena(void)
{
    (void)allocator_serving(); /* resolved, so that the flag is final */
    return data_arena_flags != 0 ? jemalloc_arena_of_flags(data_arena_flags) : UINT_MAX;
}

void memory_reset_after_fork(void)
{
    pthread_mutex_init(&registry_lock, NULL);
}

void memory_totals(struct memory_totals *out)
{
    int64_t bytes[2], blocks[2];
    /* Under the lock: an exiting thread moves its set into the retired
     * totals under it too, so nothing is counted twice or missed. */
    pthread_mutex_lock(&registry_lock);
    for (int k = 0; k < 2; k++) {
        bytes[k] = atomic_load_explicit(&retired_bytes[k], memory_order_relaxed);
        blocks[k] = atomic_load_explicit(&retired_blocks[k], memory_order_relaxed);
    }
    for (struct thread_counters *s = registry; s != NULL; s = s->next) {
        for (int k = 0; k < 2; k++) {
            bytes[k] += atomic_load_explicit(&s->bytes[k], memory_order_relaxed);
            blocks[k] += atomic_load_explicit(&s->blocks[k], memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&registry_lock);
    out->data_bytes = bytes[MEMORY_DATA];
    out->data_blocks = blocks[MEMORY_DATA];
    out->infrastructure_bytes = bytes[MEMORY_INFRASTRUCTURE];
}
