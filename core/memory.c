/*
 * memory.c - allocation through jemalloc's own API, with exact live counts.
 *
 * Counting: each thread owns a counter slot and updates it with relaxed
 * load+store (one writer per slot, so no locked instruction on the hot path).
 * Slots live in a registry; a thread that exits folds its slot into the
 * global "retired" totals and gives the slot back for reuse.
 */
#include "memory.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef FWPM_SYSTEM_ALLOC
#include <jemalloc/jemalloc.h>
#endif

/* One thread's live totals. Written only by its owner; read by anyone. */
struct counter_slot {
    _Atomic int64_t bytes[2];
    _Atomic int64_t blocks[2];
    struct counter_slot *next; /* registry link, under registry_lock */
    bool in_use;               /* under registry_lock */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter_slot *registry;
/* Totals of exited threads, and of blocks freed by a thread other than the one
 * whose slot counted them: only their sum over all slots is meaningful. */
static _Atomic int64_t retired_bytes[2];
static _Atomic int64_t retired_blocks[2];

static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct counter_slot *my_slot;

static void slot_release(void *arg)
{
    struct counter_slot *slot = arg;
    my_slot = NULL; /* a later destructor's call registers anew */
    pthread_mutex_lock(&registry_lock);
    for (int k = 0; k < 2; k++) {
        atomic_fetch_add_explicit(&retired_bytes[k],
                                  atomic_load_explicit(&slot->bytes[k], memory_order_relaxed),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&retired_blocks[k],
                                  atomic_load_explicit(&slot->blocks[k], memory_order_relaxed),
                                  memory_order_relaxed);
        atomic_store_explicit(&slot->bytes[k], 0, memory_order_relaxed);
        atomic_store_explicit(&slot->blocks[k], 0, memory_order_relaxed);
    }
    slot->in_use = false;
    pthread_mutex_unlock(&registry_lock);
}

static void slot_key_create(void)
{
    pthread_key_create(&slot_key, slot_release);
}

/* Counter slots are never freed (they are reused); they bypass the counters
 * so that counting never recurses into itself. */
static void *uncounted_zalloc(size_t size)
{
#ifdef FWPM_SYSTEM_ALLOC
    return calloc(1, size);
#else
    return mallocx(size, MALLOCX_ZERO);
#endif
}

static struct counter_slot *slot_for_this_thread(void)
{
    struct counter_slot *slot = my_slot;
    if (slot != NULL)
        return slot;
    pthread_once(&slot_key_once, slot_key_create);
    pthread_mutex_lock(&registry_lock);
    for (slot = registry; slot != NULL; slot = slot->next)
        if (!slot->in_use)
            break;
    if (slot == NULL) {
        slot = uncounted_zalloc(sizeof(*slot));
        if (slot == NULL) {
            pthread_mutex_unlock(&registry_lock);
            return NULL;
        }
        slot->next = registry;
        registry = slot;
    }
    slot->in_use = true;
    pthread_mutex_unlock(&registry_lock);
    pthread_setspecific(slot_key, slot);
    my_slot = slot;
    return slot;
}

/* Single writer per slot: a plain add, published with a relaxed store. */
static inline void slot_add(struct counter_slot *slot, enum memory_kind kind, int64_t bytes,
                            int64_t blocks)
{
    atomic_store_explicit(&slot->bytes[kind],
                          atomic_load_explicit(&slot->bytes[kind], memory_order_relaxed) + bytes,
                          memory_order_relaxed);
    atomic_store_explicit(&slot->blocks[kind],
                          atomic_load_explicit(&slot->blocks[kind], memory_order_relaxed) + blocks,
                          memory_order_relaxed);
}

static void count_slow(enum memory_kind kind, int64_t bytes, int64_t blocks)
{
    struct counter_slot *slot = slot_for_this_thread();
    if (slot != NULL) {
        slot_add(slot, kind, bytes, blocks);
        return;
    }
    atomic_fetch_add_explicit(&retired_bytes[kind], bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&retired_blocks[kind], blocks, memory_order_relaxed);
}

static inline void count(enum memory_kind kind, int64_t bytes, int64_t blocks)
{
    struct counter_slot *slot = my_slot;
    if (__builtin_expect(slot == NULL, 0))
        count_slow(kind, bytes, blocks);
    else
        slot_add(slot, kind, bytes, blocks);
}

#ifdef FWPM_FAULT_INJECTION
static _Atomic uint64_t fail_countdown; /* 0: disarmed */

static bool injected_failure_armed(void)
{
    uint64_t left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (left != 0) {
        if (atomic_compare_exchange_weak_explicit(&fail_countdown, &left, left - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return left == 1;
    }
    return false;
}

/* One relaxed load when disarmed: cheap enough to leave in every build. */
static inline bool injected_failure(void)
{
    if (__builtin_expect(atomic_load_explicit(&fail_countdown, memory_order_relaxed) == 0, 1))
        return false;
    return injected_failure_armed();
}

void memory_fail_nth(uint64_t n)
{
    atomic_store_explicit(&fail_countdown, n, memory_order_relaxed);
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
#ifdef FWPM_SYSTEM_ALLOC
    void *p = malloc(size);
#else
    void *p = mallocx(size, 0);
#endif
    if (p != NULL)
        count(kind, (int64_t)size, 1);
    return p;
}

void *memory_zalloc(size_t size, enum memory_kind kind)
{
    if (injected_failure())
        return NULL;
#ifdef FWPM_SYSTEM_ALLOC
    void *p = calloc(1, size);
#else
    void *p = mallocx(size, MALLOCX_ZERO);
#endif
    if (p != NULL)
        count(kind, (int64_t)size, 1);
    return p;
}

void memory_free(void *p, size_t size, enum memory_kind kind)
{
    if (p == NULL)
        return;
    count(kind, -(int64_t)size, -1);
#ifdef FWPM_SYSTEM_ALLOC
    free(p);
#else
    sdallocx(p, size, 0);
#endif
}

bool memory_charge(size_t size, enum memory_kind kind)
{
    if (injected_failure())
        return false;
    count(kind, (int64_t)size, 1);
    return true;
}

void memory_uncharge(size_t size, enum memory_kind kind)
{
    count(kind, -(int64_t)size, -1);
}

const struct memory_jemalloc *memory_jemalloc(void)
{
#ifdef FWPM_SYSTEM_ALLOC
    return NULL;
#else
    static const struct memory_jemalloc linked = {mallocx, sdallocx, mallctl};
    return &linked;
#endif
}

void memory_totals(struct memory_totals *out)
{
    int64_t bytes[2], blocks[2];
    /* Under the lock: an exiting thread moves its slot into the retired
     * totals under it too, so nothing is counted twice or missed. */
    pthread_mutex_lock(&registry_lock);
    for (int k = 0; k < 2; k++) {
        bytes[k] = atomic_load_explicit(&retired_bytes[k], memory_order_relaxed);
        blocks[k] = atomic_load_explicit(&retired_blocks[k], memory_order_relaxed);
    }
    for (struct counter_slot *s = registry; s != NULL; s = s->next) {
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
