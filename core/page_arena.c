/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena.c - the range for returned arrays: set-up, counting, dispatch.
 *
 * The range is reserved at the first allocation (pthread_once: no mutex) and
 * served for the life of the process by one of two allocators, chosen then:
 * jemalloc's arena over the range when jemalloc serves the library, else the
 * range's own size classes. A forked child keeps both (they are memory), so
 * arrays its parent received stay readable and freeable there.
 */
#include "page_arena.h"

#include "memory.h"
#include "page_arena_classes.h"
#include "page_arena_jemalloc.h"

#include <pthread.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define PAGE_ARENA_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAGE_ARENA_LSAN 1
#endif
#endif
#ifdef PAGE_ARENA_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Under LeakSanitizer: the range is ours, not malloc's, so LSan would not see
 * the pointers held in live arrays (an array is what keeps its enumeration
 * alive): make the range a root region, and clear blocks on free, so that
 * stale pointers in freed blocks do not hide real leaks. */
static inline void leak_checker_watch(const struct reserved_range *r)
{
#ifdef PAGE_ARENA_LSAN
    __lsan_register_root_region((void *)atomic_load_explicit(&r->base, memory_order_relaxed),
                                r->bytes);
#else
    (void)r;
#endif
}

static inline void leak_checker_forget(void *p, size_t bytes)
{
#ifdef PAGE_ARENA_LSAN
    memset(p, 0, bytes);
#else
    (void)p, (void)bytes;
#endif
}

/* 64 GiB of address space: more than any array fwpm returns (a page of 2^24
 * entries is 128 MiB) many times over. Under an address-space limit
 * (RLIMIT_AS) the range takes at most a quarter of it, and a process that
 * cannot reserve that gets the largest power-of-two fraction down to 64 MiB. */
#define RANGE_BYTES_MAX ((uintptr_t)64 << 30)
#define RANGE_BYTES_MIN ((uintptr_t)64 << 20)

static _Atomic unsigned char range_committed[RANGE_BYTES_MAX >> RESERVED_RANGE_CHUNK_SHIFT];
static struct reserved_range range = {
    .committed = range_committed,
    .chunks_max = sizeof(range_committed),
};

/* Who serves the range; UNSET until the one-time set-up has run. */
enum server {
    SERVER_UNSET = 0,
    SERVER_JEMALLOC,
    SERVER_CLASSES,
    SERVER_NONE, /* nothing could be reserved: every allocation fails */
};
static _Atomic int server;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

/* The most address space the range should take in this process. */
static uintptr_t range_bytes_wanted(void)
{
    uintptr_t bytes = RANGE_BYTES_MAX;
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        while (bytes > RANGE_BYTES_MIN && bytes > limit.rlim_cur / 4)
            bytes /= 2;
    return bytes;
}

static void setup(void)
{
    enum server chosen = SERVER_NONE;
    if (reserved_range_reserve(&range, range_bytes_wanted(), RANGE_BYTES_MIN)) {
        leak_checker_watch(&range);
        const struct memory_jemalloc *je = memory_jemalloc();
        if (je != NULL && page_arena_jemalloc_create(je, &range))
            chosen = SERVER_JEMALLOC;
        else if (page_arena_classes_reserve(&range))
            chosen = SERVER_CLASSES;
    }
    /* Release: pairs with the acquire in server_now; the set-up is seen. */
    atomic_store_explicit(&server, chosen, memory_order_release);
}

static inline enum server server_now(void)
{
    /* Acquire: pairs with the release in setup. */
    enum server s = atomic_load_explicit(&server, memory_order_acquire);
    if (__builtin_expect(s != SERVER_UNSET, 1))
        return s;
    pthread_once(&setup_once, setup);
    return atomic_load_explicit(&server, memory_order_acquire);
}

void page_arena_reserve(void)
{
    (void)server_now();
}

void *page_arena_alloc(size_t bytes)
{
    if (bytes == 0 || bytes > RANGE_BYTES_MAX || !memory_charge(bytes, MEMORY_DATA))
        return NULL;
    void *p = NULL;
    switch (server_now()) {
    case SERVER_JEMALLOC:
        p = page_arena_jemalloc_alloc(bytes);
        break;
    case SERVER_CLASSES:
        p = page_arena_classes_alloc(bytes);
        break;
    default:
        break;
    }
    if (p == NULL)
        memory_uncharge(bytes, MEMORY_DATA);
    return p;
}

void page_arena_free(void *p, size_t bytes)
{
    if (p == NULL)
        return;
    memory_uncharge(bytes, MEMORY_DATA);
    leak_checker_forget(p, bytes);
    /* A block exists, so the set-up ran before it was handed out. */
    if (atomic_load_explicit(&server, memory_order_relaxed) == SERVER_JEMALLOC)
        page_arena_jemalloc_free(p, bytes);
    else
        page_arena_classes_free(p, bytes);
}

bool page_arena_contains(const void *p)
{
    return reserved_range_contains(&range, p);
}

bool page_arena_readable(const void *p, size_t bytes)
{
    return reserved_range_readable(&range, p, bytes);
}

size_t page_arena_carved(void)
{
    /* Relaxed: a statistic; no memory is reached through it. */
    return (size_t)atomic_load_explicit(&range.carved, memory_order_relaxed);
}
