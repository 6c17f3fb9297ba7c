/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * handles.c - a segmented table of slots with generations and a lock-free
 * free list.
 *
 * Handle value layout (64 bits):
 *   bits 63..32 generation | 31..8 slot index | 7..4 kind | 3..0 tag (0xA)
 * The tag keeps small integers and aligned pointers from ever looking valid.
 *
 * Slot state: generation << 8 | kind, where kind 0 means "not published".
 * Segments are allocated on demand and kept for reuse (never freed while the
 * library is loaded), so a slot's memory can always be read.
 *
 * After fork(): every slot also records the incarnation of the process that
 * last took it (owner, see process.h), and only a slot this process took can
 * match a handle. In a child, every slot still has an ancestor's owner, so
 * no inherited value is valid, in O(1) per check and with no work at the
 * fork. The child's free list starts empty; the inherited slots come back
 * one by one through a sweep (sweep_next..sweep_end), and a slot taken from
 * an ancestor continues from the generation after the last one the ancestor
 * used on it, so no value the child issues can equal an inherited one.
 * Generations only grow along a line of processes: an inherited value stays
 * invalid in every descendant. (The alternatives were worse: bumping every
 * slot in the fork handler costs O(table) writes, each a copy-on-write page
 * fault, in every child, even one that execs at once; an incarnation field
 * in the handle value takes bits from the generation or the index, and a
 * narrow one wraps.)
 *
 * Slot caches: a released slot goes to the releasing thread's cache bucket
 * first, and the same thread's next reserve takes it back from there, so a
 * thread that opens and closes keeps reusing one slot, in its own core's
 * cache, and touches neither the free list's head nor another thread's slot
 * (both are lines every writer thread would otherwise pull across cores).
 * See "slot caches" below for why "table full" stays exact.
 */
#include "handles.h"

#include "memory.h"
#include "process.h"

#include <pthread.h>
#include <stdatomic.h>

#define HANDLE_TAG 0xAu
#define SEGMENT_BITS 12u
#define SEGMENT_SLOTS (1u << SEGMENT_BITS)
#define MAX_SEGMENTS 4096u /* 2^24 slots: the index field's width */
#define NO_SLOT 0xFFFFFFFFu

struct slot {
    _Atomic uint64_t state;
    _Atomic(void *) object;
    _Atomic uint32_t next_free; /* free-list link */
    _Atomic uint64_t owner;     /* incarnation of the process that took it */
};

static _Atomic(struct slot *) segments[MAX_SEGMENTS];
static _Atomic uint32_t segment_count;
static uint32_t slot_limit = MAX_SEGMENTS * SEGMENT_SLOTS;
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;

/* Free list head: ABA counter << 32 | index (NO_SLOT: empty). */
static _Atomic uint64_t free_head = NO_SLOT;

/* In a fork child: the inherited slots not taken yet, sweep_next up to
 * sweep_end (fixed by the fork handler; 0..0 in the first process). */
static _Atomic uint32_t sweep_next;
static uint32_t sweep_end;

/* INVALID_HANDLE_VALUE is all ones. Its tag nibble is 0xF, so handle_decode rejects
 * it before it computes a slot index, and its kind nibble 0xF names no kind:
 * no value handle_encode() produces can ever equal it. */
_Static_assert((UINT64_MAX & 0xFu) != HANDLE_TAG, "an all-ones value has a valid tag");
_Static_assert(((UINT64_MAX >> 4) & 0xFu) != HANDLE_KIND_ENGINE &&
                   ((UINT64_MAX >> 4) & 0xFu) != HANDLE_KIND_ENUM,
               "an all-ones value names a handle kind");
_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "a handle value fits the layout");

static inline uint64_t handle_encode(uint32_t generation, uint32_t index, enum handle_kind kind)
{
    return (uint64_t)generation << 32 | (uint64_t)index << 8 | (uint64_t)kind << 4 | HANDLE_TAG;
}

/* The slot of index, or NULL past the table. Acquire (both): pairs with the
 * release stores in handles_grow, so the segment's slots are initialised. */
static inline struct slot *slot_at(uint32_t index)
{
    uint32_t segment = index >> SEGMENT_BITS;
    if (segment >= atomic_load_explicit(&segment_count, memory_order_acquire))
        return NULL;
    struct slot *base = atomic_load_explicit(&segments[segment], memory_order_acquire);
    return &base[index & (SEGMENT_SLOTS - 1)];
}

/* A slot whose index came from the table itself (the free list, a handle we
 * issued): it exists, no bounds check needed. Acquire: as in slot_at. */
static inline struct slot *slot_issued(uint32_t index)
{
    struct slot *base =
        atomic_load_explicit(&segments[index >> SEGMENT_BITS], memory_order_acquire);
    return &base[index & (SEGMENT_SLOTS - 1)];
}

static void free_push(uint32_t index)
{
    struct slot *s = slot_issued(index);
    uint64_t head = atomic_load_explicit(&free_head, memory_order_relaxed);
    uint64_t next;
    do {
        atomic_store_explicit(&s->next_free, (uint32_t)head, memory_order_relaxed);
        next = ((head >> 32) + 1) << 32 | index;
        /* Release: the link (and the slot's state) are visible to the popper
         * (pairs with the acquire loads of free_head in free_pop). */
    } while (!atomic_compare_exchange_weak_explicit(&free_head, &head, next, memory_order_release,
                                                    memory_order_relaxed));
}

/* ---- slot caches ----------------------------------------------------------
 * CACHE_BUCKETS buckets of one slot each, one cache line apiece; a thread is
 * given a bucket round-robin on its first release or reserve and keeps it
 * (threads beyond CACHE_BUCKETS share: a bucket is only ever changed by
 * exchange, so sharing costs speed, never correctness). A release exchanges
 * its slot into the bucket and pushes what it displaced on the free list; a
 * reserve exchanges the bucket empty and uses what it held. A bucket holds
 * only this process's slots (the fork handler empties them all), live ones
 * (a slot retired for good is never released), so a slot taken from one
 * needs no adoption. At the table's limit nothing is stranded: a reserve
 * that finds the free list empty and the table unable to grow takes a slot
 * from any bucket (cache_take_any), and looks at the list again before it
 * reports the table full (a release racing the scan may have displaced a
 * slot there), so a slot that stays free for the whole call is found. Below
 * the limit, a reserve that finds its bucket and the list empty grows the
 * table instead, while up to CACHE_BUCKETS - 1 slots wait in other buckets:
 * one segment more than needed, at most. A bucket left by an exited thread
 * is taken by the next thread given it, or by the full-table scan. */
#define CACHE_BUCKETS 64u

struct cache_bucket {
    _Alignas(64) _Atomic uint32_t held; /* the cached slot's index + 1; 0: empty */
};

static struct cache_bucket cache_buckets[CACHE_BUCKETS];
static _Atomic uint32_t buckets_given; /* round-robin counter of the assignment */
static _Thread_local struct cache_bucket *my_bucket;

static inline struct cache_bucket *cache_bucket_of_thread(void)
{
    if (__builtin_expect(my_bucket == NULL, 0)) {
        /* Relaxed: only spreads threads over the buckets. */
        uint32_t n = atomic_fetch_add_explicit(&buckets_given, 1, memory_order_relaxed);
        my_bucket = &cache_buckets[n % CACHE_BUCKETS];
    }
    return my_bucket;
}

/* Empties a bucket: the index it held, or NO_SLOT. Acquire: pairs with the
 * release exchange in cache_put, so the slot's state (its new generation)
 * is seen by the taker. */
static inline uint32_t cache_take(struct cache_bucket *b)
{
    uint32_t held = atomic_exchange_explicit(&b->held, 0, memory_order_acquire);
    return held == 0 ? NO_SLOT : held - 1;
}

/* Puts a free slot in a bucket: the index it displaced, or NO_SLOT. Acq_rel:
 * release pairs with the acquire exchange in cache_take; acquire pairs with
 * the release of the cache_put that stored the displaced slot, whose state
 * free_push's release then passes on to free_pop. */
static inline uint32_t cache_put(struct cache_bucket *b, uint32_t index)
{
    uint32_t held = atomic_exchange_explicit(&b->held, index + 1, memory_order_acq_rel);
    return held == 0 ? NO_SLOT : held - 1;
}

/* The table is full otherwise: a slot from any bucket, or NO_SLOT. */
static uint32_t cache_take_any(void)
{
    for (uint32_t i = 0; i < CACHE_BUCKETS; i++) {
        /* Relaxed: skips empty buckets without writing their lines; the
         * exchange in cache_take decides. */
        if (atomic_load_explicit(&cache_buckets[i].held, memory_order_relaxed) == 0)
            continue;
        uint32_t index = cache_take(&cache_buckets[i]);
        if (index != NO_SLOT)
            return index;
    }
    return NO_SLOT;
}

/* A free slot goes to this thread's bucket; what it displaces, to the list. */
static void slot_give_back(uint32_t index)
{
    uint32_t displaced = cache_put(cache_bucket_of_thread(), index);
    if (displaced != NO_SLOT)
        free_push(displaced);
}

static uint32_t free_pop(void)
{
    /* Acquire (here and on a failed CAS, which reloads the head): the link we
     * read next was written before the push (pairs with the release CAS in
     * free_push). */
    uint64_t head = atomic_load_explicit(&free_head, memory_order_acquire);
    for (;;) {
        uint32_t index = (uint32_t)head;
        if (index == NO_SLOT)
            return NO_SLOT;
        /* May read a link that a racing pop/push already changed: the ABA
         * counter makes the compare-and-swap below fail in that case. */
        uint32_t after = atomic_load_explicit(&slot_issued(index)->next_free, memory_order_relaxed);
        uint64_t next = ((head >> 32) + 1) << 32 | after;
        if (atomic_compare_exchange_weak_explicit(&free_head, &head, next, memory_order_acquire,
                                                  memory_order_acquire))
            return index;
    }
}

/* Adds a segment of free slots; false when full or out of memory. */
static bool handles_grow(void)
{
    pthread_mutex_lock(&grow_lock);
    bool ok = true;
    uint32_t n = atomic_load_explicit(&segment_count, memory_order_relaxed);
    /* Relaxed: it only tells whether to grow; a caller that finds slots pops
     * them with free_pop's acquire loads. */
    if ((uint32_t)(atomic_load_explicit(&free_head, memory_order_relaxed)) != NO_SLOT) {
        /* Somebody else grew the table meanwhile. */
    } else if (n >= MAX_SEGMENTS || (uint64_t)n * SEGMENT_SLOTS >= slot_limit) {
        ok = false;
    } else {
        struct slot *base =
            memory_zalloc(SEGMENT_SLOTS * sizeof(struct slot), MEMORY_INFRASTRUCTURE);
        if (base == NULL) {
            ok = false;
        } else {
            uint64_t incarnation = process_incarnation();
            for (uint32_t i = 0; i < SEGMENT_SLOTS; i++) {
                atomic_init(&base[i].state, (uint64_t)1 << 8); /* generation 1 */
                atomic_init(&base[i].owner, incarnation);
            }
            /* Release: the slots above are initialised before a thread can
             * reach them (pairs with the acquire loads in slot_at and
             * slot_issued). */
            atomic_store_explicit(&segments[n], base, memory_order_release);
            atomic_store_explicit(&segment_count, n + 1, memory_order_release);
            uint32_t first = n * SEGMENT_SLOTS;
            uint32_t count = SEGMENT_SLOTS;
            if ((uint64_t)first + count > slot_limit)
                count = slot_limit - first;
            /* Push in reverse so low indices come out first. */
            for (uint32_t i = count; i > 0; i--)
                free_push(first + i - 1);
        }
    }
    pthread_mutex_unlock(&grow_lock);
    return ok;
}

/* The next inherited slot not taken yet, or NO_SLOT. Lock-free; a slot
 * comes out once (the sweep only advances). */
static uint32_t sweep_take(void)
{
    /* Relaxed: the slots were written before the fork, by the parent. */
    if (atomic_load_explicit(&sweep_next, memory_order_relaxed) >= sweep_end)
        return NO_SLOT; /* the common case: one load, no write */
    uint32_t index = atomic_fetch_add_explicit(&sweep_next, 1, memory_order_relaxed);
    return index < sweep_end ? index : NO_SLOT;
}

/* True when this process took the slot: only then can its state match a
 * handle. Acquire: pairs with the release in slot_adopt, so that a reader
 * that sees this process as owner sees the adopted generation. */
static inline bool slot_is_ours(struct slot *s)
{
    return atomic_load_explicit(&s->owner, memory_order_acquire) == process_incarnation();
}

/* Makes a slot just taken (so ours alone) this process's, if an ancestor
 * last took it: it continues from the generation after the last one the
 * ancestor used. false when the slot has no generation left (it is retired
 * for good, as in handles_remove). */
static bool slot_adopt(struct slot *s)
{
    if (slot_is_ours(s))
        return true;
    /* The state holds the ancestor's newest generation, published or not;
     * every value it issued on the slot had that one or an older one. */
    uint32_t generation = (uint32_t)(atomic_load_explicit(&s->state, memory_order_relaxed) >> 8);
    if (generation == 0 || generation == UINT32_MAX)
        return false;
    atomic_store_explicit(&s->state, (uint64_t)(generation + 1) << 8, memory_order_relaxed);
    /* Release: the new generation is seen by whoever sees the new owner. */
    atomic_store_explicit(&s->owner, process_incarnation(), memory_order_release);
    return true;
}

/* A free slot of this process's, or NO_SLOT when the table must grow:
 * this thread's cached one first, then the free list's, then the sweep's. */
static uint32_t slot_take(void)
{
    uint32_t cached = cache_take(cache_bucket_of_thread());
    if (cached != NO_SLOT)
        return cached; /* ours and live: see "slot caches" */
    for (;;) {
        uint32_t index = free_pop();
        if (index == NO_SLOT)
            index = sweep_take();
        if (index == NO_SLOT || slot_adopt(slot_issued(index)))
            return index;
    }
}

HANDLE handles_reserve(enum handle_kind kind)
{
    uint32_t index;
    while ((index = slot_take()) == NO_SLOT) {
        if (handles_grow())
            continue;
        index = cache_take_any(); /* the table is full but for the caches */
        if (index != NO_SLOT)
            break;
        /* Relaxed: a slot displaced onto the list during the scan is popped
         * by slot_take's acquire loads. */
        if ((uint32_t)atomic_load_explicit(&free_head, memory_order_relaxed) == NO_SLOT)
            return NULL;
    }
    uint64_t state = atomic_load_explicit(&slot_issued(index)->state, memory_order_relaxed);
    return (HANDLE)(uintptr_t)handle_encode((uint32_t)(state >> 8), index, kind);
}

/* The slot index field of a handle value (unchecked). */
static inline uint32_t handle_index(uint64_t v)
{
    return (uint32_t)(v >> 8) & 0xFFFFFFu;
}

static inline bool handle_decode(HANDLE h, struct slot **slot, uint32_t *generation,
                                 enum handle_kind *kind)
{
    uint64_t v = (uint64_t)(uintptr_t)h;
    *generation = (uint32_t)(v >> 32);
    *kind = (enum handle_kind)((v >> 4) & 0xFu);
    *slot = (v & 0xFu) == HANDLE_TAG ? slot_at(handle_index(v)) : NULL;
    return *slot != NULL;
}

void handles_publish(HANDLE h, void *object)
{
    struct slot *s;
    uint32_t generation;
    enum handle_kind kind;
    handle_decode(h, &s, &generation, &kind);
    /* Release (both): a lookup that sees the new state sees the object, and
     * one that sees the object sees everything written to it before. */
    atomic_store_explicit(&s->object, object, memory_order_release);
    atomic_store_explicit(&s->state, (uint64_t)generation << 8 | kind, memory_order_release);
}

void handles_cancel(HANDLE h)
{
    slot_give_back(handle_index((uint64_t)(uintptr_t)h));
}

void *handles_lookup(HANDLE h, enum handle_kind kind)
{
    struct slot *s;
    uint32_t generation;
    enum handle_kind encoded;
    if (!handle_decode(h, &s, &generation, &encoded) || encoded != kind || !slot_is_ours(s))
        return NULL;
    uint64_t expected = (uint64_t)generation << 8 | kind;
    if (atomic_load_explicit(&s->state, memory_order_acquire) != expected)
        return NULL;
    void *object = atomic_load_explicit(&s->object, memory_order_acquire);
    /* Check again: if the slot was removed and reused between the two loads,
     * object may belong to the new handle. The acquire load of object orders
     * this load after it. */
    if (atomic_load_explicit(&s->state, memory_order_acquire) != expected)
        return NULL;
    return object;
}

bool handles_invalidate(HANDLE h, enum handle_kind kind)
{
    struct slot *s;
    uint32_t generation;
    enum handle_kind encoded;
    if (!handle_decode(h, &s, &generation, &encoded) || encoded != kind || !slot_is_ours(s))
        return false;
    uint64_t expected = (uint64_t)generation << 8 | kind;
    /* The next generation, unpublished. A slot whose generation would wrap is
     * retired for good (state 0 matches no handle): a value it once had must
     * never become valid again. */
    uint64_t next = generation == UINT32_MAX ? 0 : (uint64_t)(generation + 1) << 8;
    /* Acq_rel: acquire pairs with the release stores in handles_publish (the
     * remover, which frees the object next, sees everything written to it);
     * release orders the remover's own accesses before the slot's reuse. */
    return atomic_compare_exchange_strong_explicit(&s->state, &expected, next, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

void handles_release(HANDLE h)
{
    uint64_t v = (uint64_t)(uintptr_t)h;
    if ((uint32_t)(v >> 32) != UINT32_MAX) /* else retired for good by the invalidation */
        slot_give_back(handle_index(v));
}

bool handles_remove(HANDLE h, enum handle_kind kind)
{
    if (!handles_invalidate(h, kind))
        return false;
    handles_release(h);
    return true;
}

void handles_reset_after_fork(void)
{
    pthread_mutex_init(&grow_lock, NULL);
    /* The parent's free list misses the slots its threads held: drop it and
     * sweep every slot instead. A segment that a grow in progress at the
     * fork had not counted yet is lost (bounded: one segment per fork). */
    atomic_store_explicit(&free_head, NO_SLOT, memory_order_relaxed);
    /* The parent's cached slots too: the sweep hands every slot out. */
    for (uint32_t i = 0; i < CACHE_BUCKETS; i++)
        atomic_store_explicit(&cache_buckets[i].held, 0, memory_order_relaxed);
    uint64_t slots =
        (uint64_t)atomic_load_explicit(&segment_count, memory_order_relaxed) * SEGMENT_SLOTS;
    sweep_end = (uint32_t)(slots < slot_limit ? slots : slot_limit);
    atomic_store_explicit(&sweep_next, 0, memory_order_relaxed);
}

void handles_set_limit(uint32_t max)
{
    pthread_mutex_lock(&grow_lock);
    slot_limit = max == 0 ? MAX_SEGMENTS * SEGMENT_SLOTS : max;
    pthread_mutex_unlock(&grow_lock);
}
