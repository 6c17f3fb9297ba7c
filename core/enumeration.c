/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enumeration.c - enumeration handles, pages, and returned arrays.
 */
#include "enumeration.h"

#include "container_of.h"
#include "engine.h"
#include "handles.h"
#include "memory.h"
#include "page_arena.h"
#include "process.h"
#include "refcount.h"
#include "trace.h"

#include <stdatomic.h>
#include <string.h>

struct enumeration {
    /* One word, so that a page takes its reference and claims its range
     * with one compare-and-swap (state_* below): in the high half the count
     * of references (the handle's own, plus one per returned array not yet
     * freed), in the low half the cursor (the next position to hand out).
     * Arrays pin the enumeration (a line only its pagers touch), and it pins
     * the version (a line every handle of the version shares). */
    _Atomic uint64_t state;
    HANDLE handle;
    struct session *owner;
    HANDLE owner_handle;             /* owner's engine handle, for the page path's check */
    struct version *snapshot;        /* a reference to a version, dropped with the last ref */
    struct enumeration *prev, *next; /* owner's list, under its enums_lock */
    epoch_entry retire;
};

/* The state word's halves. The cursor never passes the version's size
 * (every claim is clipped at the end), and a version holds fewer than 2^24
 * sessions (the handle table's index field): the low half never carries
 * into the count. The count stays below 2^32: every array is a block of at
 * least 40 bytes of the page arena, whose range is at most 64 GiB. */
#define STATE_REFS_SHIFT 32
#define STATE_ONE_REF ((uint64_t)1 << STATE_REFS_SHIFT)

static inline uint64_t state_refs(uint64_t state)
{
    return state >> STATE_REFS_SHIFT;
}

static inline uint64_t state_cursor(uint64_t state)
{
    return state & (STATE_ONE_REF - 1);
}

/* How many positions of a version of `size` entries are still to hand out. */
static inline size_t state_left(uint64_t state, size_t size)
{
    uint64_t cursor = state_cursor(state);
    return cursor < size ? size - (size_t)cursor : 0;
}

static void enumeration_free_deferred(epoch_entry *entry)
{
    struct enumeration *en = container_of(entry, struct enumeration, retire);
    memory_free(en, sizeof(*en), MEMORY_DATA);
}

/* Drops a reference. The last one drops the version, and frees the object
 * after a grace period (a page may still be reading it). Takes no lock. */
static void enumeration_release(struct enumeration *en)
{
    if (!refcount_release_field(&en->state, STATE_ONE_REF))
        return;
    engine_snapshot_release(en->snapshot);
    epoch_retire(&en->retire, enumeration_free_deferred);
}

static void enums_list_add(struct session *s, struct enumeration *en)
{
    en->prev = NULL;
    en->next = s->enums;
    if (s->enums != NULL)
        s->enums->prev = en;
    s->enums = en;
}

static void enums_list_remove(struct session *s, struct enumeration *en)
{
    if (en->prev != NULL)
        en->prev->next = en->next;
    else
        s->enums = en->next;
    if (en->next != NULL)
        en->next->prev = en->prev;
}

DWORD enumeration_create(struct session *owner, HANDLE owner_handle, HANDLE *enum_handle)
{
    struct enumeration *en = memory_alloc(sizeof(*en), MEMORY_DATA);
    if (en == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    HANDLE h = handles_reserve(HANDLE_KIND_ENUM);
    if (h == NULL) {
        memory_free(en, sizeof(*en), MEMORY_DATA);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    en->handle = h;
    en->owner = owner;
    en->owner_handle = owner_handle;
    atomic_init(&en->state, STATE_ONE_REF); /* the handle's reference, cursor at 0 */
    /* The instant of the snapshot: O(1), shared with every handle taken
     * while the set does not change. */
    en->snapshot = engine_snapshot_acquire();

    session_enums_lock(owner);
    bool closing = owner->closing;
    if (!closing) {
        enums_list_add(owner, en);
        handles_publish(h, en);
    }
    session_enums_unlock(owner);
    if (closing) {
        /* The session closed while we worked: as if it closed before. */
        engine_snapshot_release(en->snapshot);
        handles_cancel(h);
        memory_free(en, sizeof(*en), MEMORY_DATA); /* never published */
        return ERROR_INVALID_HANDLE;
    }
    *enum_handle = h;
    return ERROR_SUCCESS;
}

/* The enumeration behind enum_handle if caller may use it. */
static DWORD enumeration_resolve(struct session *caller, HANDLE enum_handle,
                                 struct enumeration **out)
{
    struct enumeration *en = handles_lookup(enum_handle, HANDLE_KIND_ENUM);
    if (en == NULL)
        return ERROR_INVALID_HANDLE;
    if (en->owner != caller)
        return FWP_E_WRONG_SESSION;
    *out = en;
    return ERROR_SUCCESS;
}

/* The enumeration behind enum_handle if the session of engine_handle may use
 * it, with one handle lookup when it may: an enumeration is listed in the
 * handle table only while its owner is open or closing (a close removes the
 * engine handle, then every enumeration handle of the session, contract
 * §4.6), and handle values are never reused (generations, contract §3.2), so
 * a live enumeration whose owner_handle equals engine_handle was made through
 * that engine handle and its session has not finished closing: a page then
 * races with the close, and completing normally is what §4.6 allows. Any other
 * case looks the engine handle up too, for the error the two-lookup order
 * gives (a dead engine handle: ERROR_INVALID_HANDLE before
 * FWP_E_WRONG_SESSION). */
static DWORD enumeration_resolve_pair(HANDLE engine_handle, HANDLE enum_handle,
                                      struct enumeration **out)
{
    struct enumeration *en = handles_lookup(enum_handle, HANDLE_KIND_ENUM);
    if (en != NULL && en->owner_handle == engine_handle) {
        *out = en;
        return ERROR_SUCCESS;
    }
    if (en == NULL || engine_session_of(engine_handle) == NULL)
        return ERROR_INVALID_HANDLE;
    return FWP_E_WRONG_SESSION; /* a live engine handle names one session */
}

static struct page_header *page_alloc(size_t capacity)
{
    size_t bytes = sizeof(struct page_header) + capacity * sizeof(FWPM_SESSION0 *);
    struct page_header *page = page_arena_alloc(bytes);
    if (page != NULL) {
        /* Relaxed: the array reaches another thread only through the client,
         * whose hand-off orders it. */
        atomic_store_explicit(&page->magic, PAGE_MAGIC, memory_order_relaxed);
        page->bytes = bytes;
        page->incarnation = process_incarnation();
    }
    return page;
}

static FWPM_SESSION0 **page_entries(struct page_header *page)
{
    return (FWPM_SESSION0 **)(page + 1);
}

static void page_free(struct page_header *page)
{
    page_arena_free(page, page->bytes);
}

/* The header of array if array is a returned array not yet freed, claimed
 * for freeing (its magic cleared); else NULL. Reads nothing outside the page
 * arena's committed memory: a pointer the API did not return (the client's
 * heap, stack, statics, any mapping) fails the range check untouched. An
 * interior pointer of a returned array, or one already freed, has no magic
 * 24 bytes before it and is left alone. Two frees of one array at the same
 * time are the client's undefined behaviour (contract §5.4), so the claim is
 * a load and a store, not a compare-and-swap: the free of a page is one
 * atomic read-modify-write (the reference it drops) instead of two. */
static struct page_header *page_claim(void *array)
{
    /* In integers: a foreign pointer may not even allow the arithmetic. */
    uintptr_t at = (uintptr_t)array - sizeof(struct page_header);
    if ((uintptr_t)array % _Alignof(struct page_header) != 0 ||
        (uintptr_t)array < sizeof(struct page_header) ||
        !page_arena_readable((void *)at, sizeof(struct page_header)))
        return NULL;
    struct page_header *page = (struct page_header *)at;
    /* Load first: a foreign word is only read, never written. Relaxed: the
     * header was ordered to this thread by the client's hand-off of the
     * array, and a later free of the same pointer is ordered after this one
     * by the client (otherwise the two race, which §5.4 leaves undefined). */
    uint64_t magic = atomic_load_explicit(&page->magic, memory_order_relaxed);
    if (magic != PAGE_MAGIC && magic != PAGE_MAGIC_HOST)
        return NULL;
    atomic_store_explicit(&page->magic, 0, memory_order_relaxed);
    return page;
}

/* Takes a reference for a page and claims up to `want` positions for it,
 * in one compare-and-swap of the state word, first tried on `state` (a
 * recent load of it). Returns how many positions it claimed, from *start:
 * 0 when other pagers took the rest meanwhile (then no reference is
 * taken). Fails when the last reference is gone (the handle was destroyed
 * and every array of it freed): a count never comes back from zero. The
 * caller must be inside an epoch section, which keeps en's memory.
 * Lock-free: a compare-and-swap fails only because another thread changed
 * the word, by a claim or a reference taken or dropped. */
static DWORD range_acquire(struct enumeration *en, uint64_t state, size_t size, size_t want,
                           size_t *start, size_t *claimed)
{
    for (;;) {
        if (state_refs(state) == 0)
            return ERROR_INVALID_HANDLE;
        size_t left = state_left(state, size);
        if (left == 0) {
            *claimed = 0;
            return ERROR_SUCCESS;
        }
        size_t got = want < left ? want : left;
        /* Acquire, as refcount_try_acquire: the holder's reads of the
         * enumeration and its version come after the increment, so the last
         * releaser (refcount_release_field in enumeration_release) finds
         * them done. The cursor itself only partitions positions: the
         * entries come from the immutable version. */
        if (atomic_compare_exchange_weak_explicit(&en->state, &state, state + STATE_ONE_REF + got,
                                                  memory_order_acquire, memory_order_relaxed)) {
            *start = (size_t)state_cursor(state);
            *claimed = got;
            return ERROR_SUCCESS;
        }
    }
}

DWORD enumeration_page_hold(HANDLE engine_handle, HANDLE enum_handle, UINT32 requested,
                            struct page_hold *hold)
{
    hold->page = NULL;
    struct enumeration *en;
    DWORD status = enumeration_resolve_pair(engine_handle, enum_handle, &en);
    if (status != ERROR_SUCCESS)
        return status;
    /* The version's root is readable here even if the handle is being
     * destroyed: roots are freed only after a grace period. */
    size_t size = version_size(en->snapshot);
    /* Relaxed: it sizes the array, and range_acquire's compare-and-swap
     * checks it. */
    uint64_t state = atomic_load_explicit(&en->state, memory_order_relaxed);
    size_t left = state_left(state, size);
    size_t want = requested < left ? requested : left;
    if (want == 0) /* exhausted, or 0 asked: one relaxed load, no atomic write */
        return ERROR_SUCCESS;
    /* Sized by what is left, not by what was asked; allocated before the
     * claim so that a failure moves no cursor. */
    struct page_header *page = page_alloc(want);
    if (page == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    /* The array's reference keeps the enumeration, its version and the
     * version's chunks and sessions: the copy needs no section. */
    size_t start = 0, claimed = 0;
    status = range_acquire(en, state, size, want, &start, &claimed);
    if (status != ERROR_SUCCESS || claimed == 0) {
        page_free(page);
        return status;
    }
    page->source = en;
    hold->page = page;
    hold->start = start;
    hold->count = claimed;
    return ERROR_SUCCESS;
}

void enumeration_page_fill(const struct page_hold *hold, FWPM_SESSION0 ***entries, UINT32 *returned)
{
    struct page_header *page = hold->page;
    if (page == NULL) { /* nothing left to claim */
        *entries = NULL;
        *returned = 0;
        return;
    }
    version_copy(page->source->snapshot, hold->start, hold->count, page_entries(page));
    trace_page_served(hold->count, hold->start);
    *entries = page_entries(page);
    *returned = (UINT32)hold->count;
}

DWORD enumeration_destroy(struct session *caller, HANDLE enum_handle)
{
    struct enumeration *en;
    DWORD status = enumeration_resolve(caller, enum_handle, &en);
    if (status != ERROR_SUCCESS)
        return status;
    session_enums_lock(caller);
    bool mine = handles_remove(enum_handle, HANDLE_KIND_ENUM);
    if (mine)
        enums_list_remove(caller, en);
    session_enums_unlock(caller);
    if (!mine)
        return ERROR_INVALID_HANDLE; /* a racing destroy or close won */
    enumeration_release(en);
    return ERROR_SUCCESS;
}

void enumeration_destroy_all(struct session *s)
{
    session_enums_lock(s);
    s->closing = true;
    struct enumeration *list = s->enums;
    s->enums = NULL;
    for (struct enumeration *en = list; en != NULL; en = en->next)
        handles_remove(en->handle, HANDLE_KIND_ENUM); /* destroyers unlink under the lock */
    session_enums_unlock(s);
    while (list != NULL) {
        struct enumeration *en = list;
        list = en->next;
        enumeration_release(en);
    }
}

void enumeration_free_page(void **p)
{
    if (p == NULL || *p == NULL)
        return;
    struct page_header *page = page_claim(*p);
    *p = NULL;
    if (page == NULL)
        return;                 /* not an array of ours (contract §5.4): ignored */
    if (page->source == NULL) { /* a host-engine page: self-contained copies */
        page_free(page);
        return;
    }
    struct enumeration *source = page->source;
    bool inherited = page->incarnation != process_incarnation();
    page_free(page);
    /* An array inherited across fork() pins an enumeration of the abandoned
     * engine: that one is never freed here, and releasing it would hand the
     * abandoned engine's versions to this engine's reclamation. */
    if (!inherited)
        enumeration_release(source);
}
