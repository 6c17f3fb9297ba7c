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
    /* The handle's own reference, plus one per returned array not yet freed.
     * Arrays pin the enumeration (a line only its pagers touch), and it pins
     * the version (a line every handle of the version shares). */
    _Atomic uint64_t refs;
    _Atomic uint64_t cursor; /* next position to hand out */
    HANDLE handle;
    struct session *owner;
    HANDLE owner_handle;             /* owner's engine handle, for the page path's check */
    struct version *snapshot;        /* a reference to a version, dropped with the last ref */
    struct enumeration *prev, *next; /* owner's list, under its enums_lock */
    epoch_entry retire;
};

static void enumeration_free_deferred(epoch_entry *entry)
{
    struct enumeration *en = container_of(entry, struct enumeration, retire);
    memory_free(en, sizeof(*en), MEMORY_DATA);
}

/* Drops a reference. The last one drops the version, and frees the object
 * after a grace period (a page may still be reading it). Takes no lock. */
static void enumeration_release(struct enumeration *en)
{
    if (!refcount_release(&en->refs))
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
    atomic_init(&en->refs, 1);
    atomic_init(&en->cursor, 0);
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
 * 24 bytes before it and is left alone. */
static struct page_header *page_claim(void *array)
{
    /* In integers: a foreign pointer may not even allow the arithmetic. */
    uintptr_t at = (uintptr_t)array - sizeof(struct page_header);
    if ((uintptr_t)array % _Alignof(struct page_header) != 0 ||
        (uintptr_t)array < sizeof(struct page_header) ||
        !page_arena_readable((void *)at, sizeof(struct page_header)))
        return NULL;
    struct page_header *page = (struct page_header *)at;
    /* Load first: a foreign word is only read, never written back. Relaxed:
     * of two racing frees only one CAS succeeds; the header's other fields
     * were ordered to this thread by the client's hand-off. */
    uint64_t magic = atomic_load_explicit(&page->magic, memory_order_relaxed);
    if ((magic != PAGE_MAGIC && magic != PAGE_MAGIC_HOST) ||
        !atomic_compare_exchange_strong_explicit(&page->magic, &magic, 0, memory_order_relaxed,
                                                 memory_order_relaxed))
        return NULL;
    return page;
}

/* Claims up to `want` positions from the cursor; returns how many, from *start.
 * One fetch-and-add, no retry loop: claims are disjoint ranges of the
 * cursor, clipped at the end. The cursor may pass size by what racing
 * claims asked for (at most one request each, since a caller that sees it
 * at or past size returns before its fetch-and-add): every test is
 * cursor >= size. */
static size_t cursor_claim(struct enumeration *en, size_t size, size_t want, uint64_t *start)
{
    /* Relaxed: the cursor only partitions positions; the entries come from
     * the immutable version, ordered by our reference to it. */
    uint64_t cursor = atomic_fetch_add_explicit(&en->cursor, want, memory_order_relaxed);
    if (cursor >= size)
        return 0;
    *start = cursor;
    return size - cursor < want ? size - (size_t)cursor : want;
}

DWORD enumeration_page_hold(HANDLE engine_handle, HANDLE enum_handle, UINT32 requested,
                            struct page_hold *hold)
{
    hold->source = NULL;
    struct enumeration *en;
    DWORD status = enumeration_resolve_pair(engine_handle, enum_handle, &en);
    if (status != ERROR_SUCCESS)
        return status;
    /* The version's root is readable here even if the handle is being
     * destroyed: roots are freed only after a grace period. */
    size_t size = version_size(en->snapshot);
    uint64_t cursor = atomic_load_explicit(&en->cursor, memory_order_relaxed);
    size_t left = cursor < size ? size - (size_t)cursor : 0;
    size_t want = requested < left ? requested : left;
    if (want == 0) /* exhausted, or 0 asked: one relaxed load, no atomic write */
        return ERROR_SUCCESS;
    /* A reference for the array; fails only if the handle was destroyed
     * meanwhile and every array of it freed. It keeps the enumeration, its
     * version and the version's chunks and sessions: the rest of the page
     * needs no section. */
    if (!refcount_try_acquire(&en->refs))
        return ERROR_INVALID_HANDLE;
    hold->source = en;
    hold->want = want;
    return ERROR_SUCCESS;
}

DWORD enumeration_page_fill(const struct page_hold *hold, FWPM_SESSION0 ***entries,
                            UINT32 *returned)
{
    struct enumeration *en = hold->source;
    if (en == NULL) { /* nothing left to claim */
        *entries = NULL;
        *returned = 0;
        return ERROR_SUCCESS;
    }
    /* Sized by what is left, not by what was asked; allocated before the
     * claim so that a failure moves no cursor. */
    struct page_header *page = page_alloc(hold->want);
    if (page == NULL) {
        enumeration_release(en);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    struct version *version = en->snapshot;
    uint64_t start = 0;
    size_t got = cursor_claim(en, version_size(version), hold->want, &start);
    if (got == 0) { /* other pagers took the rest meanwhile */
        page_free(page);
        enumeration_release(en);
        *entries = NULL;
        *returned = 0;
        return ERROR_SUCCESS;
    }
    version_copy(version, (size_t)start, got, page_entries(page));
    trace_page_served(got, start);
    page->source = en;
    *entries = page_entries(page);
    *returned = (UINT32)got;
    return ERROR_SUCCESS;
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
