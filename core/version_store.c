/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * version_store.c - versions of the set: publication, snapshots, and the
 * reclamation of what superseded versions kept.
 */
#include "version_store.h"

#include "container_of.h"
#include "memory.h"
#include "trace.h"

#include <string.h>

/* Version roots allocated since the process started (tests). */
static _Atomic uint64_t roots_allocated;

static struct version *version_new(void)
{
    /* Relaxed: a statistic; only when no recycled root was left. */
    atomic_fetch_add_explicit(&roots_allocated, 1, memory_order_relaxed);
    struct version *v = memory_alloc(sizeof(*v), MEMORY_DATA);
    if (v != NULL)
        memset(v, 0, sizeof(*v));
    return v;
}

static void version_free(struct version *v)
{
    memory_free(v, sizeof(*v), MEMORY_DATA);
}

/* ---- recycled version roots ---------------------------------------------------
 * Roots past their grace period, kept for the next writes so that a steady
 * churn allocates none: pushed a list at a time by any thread (the epoch
 * callback of a retired list), taken all at once by the writer (so no ABA),
 * at most VERSION_CACHE_MAX in all.
 *
 * recycled_count counts places: a push reserves its list's first, and a root's
 * place is given back only once the writer has used it (or freed it). The
 * writer never walks a list it takes to count it (its roots were pushed by
 * other threads: a cache miss each); it counts the roots it uses as it uses
 * them (store->spare_used) and gives their places back at its next take. */
#define VERSION_CACHE_MAX 64u
static _Atomic(struct version *) recycled_versions;
static _Atomic unsigned recycled_count; /* places: >= the stack's and the spare list's roots */

/* Pushes a list of roots past their grace period (linked by older, from
 * first) onto the recycled stack, as many as have a place; frees the rest.
 * One reservation of places and one push for the whole list. Any thread. */
static void version_recycle_list(struct version *first)
{
    unsigned n = 0;
    struct version *last = NULL;
    for (struct version *v = first; v != NULL; v = v->older) {
        last = v;
        n++;
    }
    unsigned before = atomic_fetch_add_explicit(&recycled_count, n, memory_order_relaxed);
    unsigned placed = before >= VERSION_CACHE_MAX ? 0 : VERSION_CACHE_MAX - before;
    if (placed > n)
        placed = n;
    if (placed < n) {
        atomic_fetch_sub_explicit(&recycled_count, n - placed, memory_order_relaxed);
        for (unsigned i = placed; i < n; i++) { /* the first n - placed go */
            struct version *v = first;
            first = v->older;
            version_free(v);
        }
    }
    if (placed == 0)
        return;
    struct version *head = atomic_load_explicit(&recycled_versions, memory_order_relaxed);
    do {
        last->older = head;
        /* Release: our writes to the roots are done before the writer reuses
         * them (pairs with the acquire exchange in recycled_take_all). */
    } while (!atomic_compare_exchange_weak_explicit(&recycled_versions, &head, first,
                                                    memory_order_release, memory_order_relaxed));
}

/* Recycles one root that no reader can reach. */
static void version_recycle(struct version *v)
{
    v->older = NULL;
    version_recycle_list(v);
}

/* Takes every recycled version; the caller owns the list (linked by older)
 * and the places of its roots. */
static struct version *recycled_take_all(void)
{
    /* Acquire: pairs with the release CAS in version_recycle_list. */
    return atomic_exchange_explicit(&recycled_versions, NULL, memory_order_acquire);
}

/* Gives back the places of n roots that left the cache. */
static void recycled_places_release(unsigned n)
{
    if (n != 0)
        atomic_fetch_sub_explicit(&recycled_count, n, memory_order_relaxed);
}

/* The epoch callback of a list of dead roots (linked by older), retired as
 * one entry: the first root's. */
static void version_list_free_deferred(epoch_entry *entry)
{
    version_recycle_list(container_of(entry, struct version, retire));
}

/* Under the writer lock: a version root for the next write, recycled if one
 * is there (the common case), else allocated; NULL when out of memory. */
static struct version *version_take_root(struct version_store *store)
{
    if (store->version_spare == NULL) {
        recycled_places_release(store->spare_used);
        store->spare_used = 0;
        store->version_spare = recycled_take_all();
    }
    struct version *v = store->version_spare;
    if (v == NULL)
        return version_new();
    store->version_spare = v->older;
    store->spare_used++;
    v->older = NULL;
    v->waiting = NULL;
    return v;
}

void version_free_recycled(struct version *list)
{
    while (list != NULL) {
        struct version *v = list;
        list = v->older;
        version_free(v);
    }
}

/* The length of a list of roots linked by older. */
static unsigned version_list_length(const struct version *list)
{
    unsigned n = 0;
    for (; list != NULL; list = list->older)
        n++;
    return n;
}

struct version *version_store_take_recycled(struct version_store *store)
{
    struct version *list = store->version_spare;
    store->version_spare = NULL;
    struct version *stacked = recycled_take_all();
    /* A cold path: walking the lists to count them is fine here. */
    recycled_places_release(store->spare_used + version_list_length(list) +
                            version_list_length(stacked));
    store->spare_used = 0;
    if (list == NULL)
        return stacked;
    struct version *last = list;
    while (last->older != NULL)
        last = last->older;
    last->older = stacked;
    return list;
}

void version_store_reset_after_fork(void)
{
    /* Roots the parent's threads pushed (a list may have been mid-push, its
     * places counted and its roots not yet on the stack): abandoned with the
     * parent's engine, so that the count matches the child's empty stack. */
    atomic_store_explicit(&recycled_versions, NULL, memory_order_relaxed);
    atomic_store_explicit(&recycled_count, 0, memory_order_relaxed);
}

/* Under the writer lock: live_versions moves by delta. The writer is its
 * only writer, so a load and a store do (no locked instruction in the
 * writer's critical section). Relaxed: a statistic. */
static void live_versions_add(struct version_store *store, int64_t delta)
{
    uint64_t n = atomic_load_explicit(&store->live_versions, memory_order_relaxed);
    atomic_store_explicit(&store->live_versions, n + (uint64_t)delta, memory_order_relaxed);
}

/* ---- retire batching ------------------------------------------------------------
 * Dead version roots and dropped sessions are retired to the epoch in
 * batches: one hand-off for many objects. Dead roots go as lists of at most
 * RETIRE_BATCH roots, one entry each, so that a grace period ends in one
 * push of the whole list onto the recycled stack, not one per root (two
 * locked instructions per root fewer: fwpm-bench open_close retires two
 * roots per open+close). A batch is full at RETIRE_BATCH entries or
 * RETIRE_BATCH roots, so one grace period hands at most about RETIRE_BATCH
 * roots back to the cache of VERSION_CACHE_MAX (a burst of opens drops no
 * sessions: counting entries alone would let 16 lists, 256 roots, end their
 * grace period at once and most of them be freed and allocated again). The
 * batch and the list are the writer's (under the lock); a full batch is
 * handed to the edit, which retires it after unlocking. */
#define RETIRE_BATCH 16u

/* Under the writer lock: the dead roots gathered so far join the retire
 * batch as one entry (the first root's). */
static void dead_roots_to_batch(struct version_store *store)
{
    struct version *list = store->dead_roots;
    if (list == NULL)
        return;
    epoch_batch_add(&store->retiring, &list->retire, version_list_free_deferred);
    store->retiring_roots += store->dead_root_count;
    store->dead_roots = NULL;
    store->dead_root_count = 0;
}

/* Under the writer lock: a dead version root joins the dead roots. */
static void version_retire_batched(struct version_store *store, struct version *v)
{
    live_versions_add(store, -1);
    v->older = store->dead_roots;
    store->dead_roots = v;
    if (++store->dead_root_count == RETIRE_BATCH)
        dead_roots_to_batch(store);
}

/* Under the writer lock: a session no version contains joins the batch. */
static void session_retire_batched(struct version_store *store, struct session *s)
{
    epoch_batch_add(&store->retiring, &s->retire, session_free_deferred);
}

/* Under the writer lock (or before the store is shared): the retire batch
 * so far, leaving an empty one. */
static struct epoch_batch retiring_take(struct version_store *store)
{
    struct epoch_batch taken = store->retiring;
    store->retiring = (struct epoch_batch){NULL, NULL, 0};
    store->retiring_roots = 0;
    return taken;
}

/* Under the writer lock: moves a full batch to the edit, for finish. */
static void retiring_hand_off_if_full(struct version_edit *e)
{
    struct version_store *store = e->store;
    if (store->retiring.count >= RETIRE_BATCH || store->retiring_roots >= RETIRE_BATCH)
        e->handoff = retiring_take(store);
}

/* Dead versions' roots (a list linked by older, of n roots) may still be
 * under a reader's hold attempt in version_acquire_current: they are
 * recycled after a grace period, as one entry. Any thread, no lock. */
static void version_retire_list(struct version *list)
{
    epoch_retire(&list->retire, version_list_free_deferred);
}

/* ---- the store ------------------------------------------------------------------ */

bool version_store_init(struct version_store *store)
{
    struct version *empty = version_new();
    if (empty == NULL)
        return false;
    atomic_init(&empty->refs, 1);
    empty->sessions = vector_empty();
    store->retained_newest = NULL;
    store->version_spare = NULL;
    atomic_init(&store->live_versions, 1);
    store->spare_used = 0;
    atomic_init(&store->open_sessions, 0);
    atomic_init(&store->height_hint, 0);
    chunk_pool_init(&store->chunks);
    retiring_take(store); /* an empty batch */
    store->dead_roots = NULL;
    store->dead_root_count = 0;
    atomic_init(&store->current, empty);
    return true;
}

void version_store_destroy_unused(struct version_store *store)
{
    version_free(atomic_load_explicit(&store->current, memory_order_relaxed));
    atomic_store_explicit(&store->current, NULL, memory_order_relaxed);
}

uint64_t version_store_roots_allocated(void)
{
    return atomic_load_explicit(&roots_allocated, memory_order_relaxed);
}

unsigned version_store_recycled_places(void)
{
    return atomic_load_explicit(&recycled_count, memory_order_relaxed);
}

uint64_t version_store_current_number(struct version_store *store)
{
    /* Acquire: pairs with the release store in version_edit_publish. */
    return atomic_load_explicit(&store->current, memory_order_acquire)->number;
}

void version_store_stats(struct version_store *store, uint64_t *open_sessions,
                         uint64_t *live_versions)
{
    /* Relaxed: statistics, each word on its own. */
    *open_sessions = atomic_load_explicit(&store->open_sessions, memory_order_relaxed);
    *live_versions = atomic_load_explicit(&store->live_versions, memory_order_relaxed);
}

/* ---- readers -------------------------------------------------------------------- */

struct version *version_acquire_current(struct version_store *store)
{
    for (;;) {
        /* Acquire: pairs with the writer's release in version_edit_publish.
         * The epoch section keeps the root's memory while we try to hold it. */
        struct version *v = atomic_load_explicit(&store->current, memory_order_acquire);
        if (version_try_hold(v)) {
            trace_snapshot_taken(v->number, v->sessions.count);
            return v;
        }
        /* Its last reference went: v was superseded; a newer one is current. */
    }
}

/* ---- reclamation (writer) ------------------------------------------------------- */

static void garbage_free(struct garbage *g)
{
    if (g->kind == GARBAGE_CHUNK)
        vector_chunk_free(container_of(g, struct vector_chunk, garbage));
    else
        session_retire(container_of(g, struct session, garbage));
}

/* Adds what a list of garbage holds to a reclamation batch's figures. Only
 * while reclaim_batch is traced: it walks the whole list. */
static void garbage_measure(const struct garbage *list, uint64_t *objects, uint64_t *bytes)
{
    for (const struct garbage *g = list; g != NULL; g = g->next) {
        ++*objects;
        *bytes += g->kind == GARBAGE_CHUNK
                      ? sizeof(struct vector_chunk)
                      : session_record_bytes(container_of(g, struct session, garbage));
    }
}

static void garbage_free_list(struct garbage *list)
{
    while (list != NULL) {
        struct garbage *g = list;
        list = g->next;
        garbage_free(g);
    }
}

/* The newest version at or older than `from` that is still referenced and
 * contains an object born at `birth`, or NULL. */
static struct version *newest_holder(struct version *from, uint64_t birth)
{
    for (struct version *r = from; r != NULL && r->number >= birth; r = r->older) {
        /* Acquire: if it reads 0, every holder's reads of r's objects happened
         * before (pairs with the release decrement in refcount_release). */
        if (atomic_load_explicit(&r->refs, memory_order_acquire) != 0)
            return r;
    }
    return NULL;
}

/* Hands each object of the list to the newest version that still contains
 * it; returns the others, which nobody needs, for freeing. */
static struct garbage *garbage_dispose(struct garbage *list, struct version *from)
{
    struct garbage *unused = NULL;
    while (list != NULL) {
        struct garbage *g = list;
        list = g->next;
        struct version *holder = newest_holder(from, g->birth);
        struct garbage **to = holder != NULL ? &holder->waiting : &unused;
        g->next = *to;
        *to = g;
    }
    return unused;
}

/* True when some version in the list from `from` is still referenced. */
static bool any_holder(struct version *from)
{
    return newest_holder(from, 0) != NULL;
}

struct version *version_store_reclaim(struct version_store *store)
{
    struct version *dead = NULL;
    int64_t unlinked = 0;
    struct version **link = &store->retained_newest;
    while (*link != NULL) {
        struct version *r = *link;
        /* Acquire: as in newest_holder. */
        if (atomic_load_explicit(&r->refs, memory_order_acquire) != 0) {
            link = &r->older;
            continue;
        }
        *link = r->older; /* unlink; older versions stay in order */
        /* Objects some older version still contains move to it; the rest
         * stay with r, to be freed. */
        if (any_holder(r->older))
            r->waiting = garbage_dispose(r->waiting, r->older);
        r->older = dead; /* r is off the retained list: reuse the link */
        dead = r;
        unlinked++;
    }
    /* No longer live from this instant, though freed after the unlock: a
     * count read once the lock's next holder (or this caller) has returned
     * does not include them. */
    live_versions_add(store, -unlinked);
    return dead;
}

void version_free_reclaimed(struct version *dead)
{
    bool traced = trace_reclaim_batch_enabled();
    uint64_t objects = 0, bytes = 0;
    /* Retired as lists of at most RETIRE_BATCH roots (each one epoch entry,
     * and one callback's work), linked by older as reclaim left them. */
    struct version *list = dead;
    unsigned n = 0;
    while (dead != NULL) {
        struct version *r = dead;
        dead = r->older;
        if (traced) {
            garbage_measure(r->waiting, &objects, &bytes);
            objects++;
            bytes += sizeof(*r);
        }
        garbage_free_list(r->waiting);
        if (++n == RETIRE_BATCH || dead == NULL) {
            r->older = NULL; /* the list ends here */
            version_retire_list(list);
            list = dead;
            n = 0;
        }
    }
    trace_reclaim_batch(objects, bytes);
}

void version_store_take_cache(struct version_store *store, struct version_store_cache *out)
{
    out->dead = version_store_reclaim(store);
    out->chunks = chunk_pool_take_all(&store->chunks);
    dead_roots_to_batch(store);
    out->retiring = retiring_take(store);
}

void version_store_free_cache(struct version_store_cache *cache)
{
    version_free_reclaimed(cache->dead);
    chunk_pool_free_list(cache->chunks);
    epoch_retire_batch(&cache->retiring);
}

/* ---- the edit (writer) ---------------------------------------------------------- */

bool version_edit_prepare(struct version_store *store, struct version_edit *e, bool adding)
{
    e->store = store;
    e->adding = adding;
    e->base = NULL;
    e->handoff = (struct epoch_batch){NULL, NULL, 0};
    e->writer.birth = 0; /* set in begin, when the version's number is known */
    e->writer.pool_size = 0;
    e->writer.dropped = NULL;
    e->unused = NULL;
    e->next = NULL; /* taken in begin, under the lock: usually a recycled one */
    /* Estimates (checked in reserve): a tree one level taller than now, minus
     * the pooled chunks the writer lock's holder will have. Relaxed: hints. */
    unsigned height = atomic_load_explicit(&store->height_hint, memory_order_relaxed);
    unsigned pooled = chunk_pool_hint(&store->chunks);
    unsigned need = vector_chunks_needed(height + 1u, adding);
    if (!vector_writer_fill(&e->writer, need > pooled ? need - pooled : 0)) {
        version_edit_finish(e);
        return false;
    }
    return true;
}

bool version_edit_begin(struct version_edit *e)
{
    struct version *n = e->next = version_take_root(e->store);
    if (n == NULL)
        return false;
    /* Relaxed: only the writer lock's holder stores current. */
    struct version *base = atomic_load_explicit(&e->store->current, memory_order_relaxed);
    e->base = base;
    atomic_init(&n->refs, 1);
    n->number = base->number + 1;
    n->sessions = base->sessions;
    e->writer.birth = n->number;
    return true;
}

/* Moves chunks from donor's pool into w's until w has need. */
static void writer_pool_take_from(struct vector_writer *w, struct vector_writer *donor,
                                  unsigned need)
{
    while (w->pool_size < need && donor->pool_size > 0)
        w->pool[w->pool_size++] = donor->pool[--donor->pool_size];
}

bool version_edit_reserve(struct version_edit *e, struct version_edit *donor, bool adding)
{
    struct vector_writer *w = &e->writer;
    unsigned need = vector_chunks_needed(e->next->sessions.height, adding);
    if (donor != e)
        writer_pool_take_from(w, &donor->writer, need);
    struct vector_chunk *c;
    while (w->pool_size < need && (c = chunk_pool_take(&e->store->chunks)) != NULL)
        w->pool[w->pool_size++] = c;
    return vector_writer_fill(w, need); /* the estimates were short: allocate, rarely */
}

void version_edit_append(struct version_edit *e, struct session *s)
{
    struct vector *v = &e->next->sessions;
    s->garbage.birth = e->next->number;
    s->garbage.kind = GARBAGE_SESSION;
    s->position = (uint32_t)v->count;
    vector_append(v, &e->writer, s);
}

void version_edit_remove(struct version_edit *e, struct session *s)
{
    struct session *moved = vector_remove(&e->next->sessions, &e->writer, s->position);
    if (moved != NULL)
        moved->position = s->position;
    s->garbage.next = e->writer.dropped;
    e->writer.dropped = &s->garbage;
}

/* Under the writer lock, after publishing: unused chunks go back to the
 * chunk pool, dropped sessions join the retire batch; a full batch is handed
 * to finish. Only what has no room stays on e->unused, for finish to free. */
static void edit_recycle_dropped(struct version_edit *e)
{
    struct version_store *store = e->store;
    struct vector_writer *w = &e->writer;
    while (w->pool_size > 0 && chunk_pool_keep(&store->chunks, w->pool[w->pool_size - 1]))
        w->pool_size--;
    struct garbage **link = &e->unused;
    while (*link != NULL) {
        struct garbage *g = *link;
        *link = g->next;
        if (g->kind == GARBAGE_SESSION) {
            session_retire_batched(store, container_of(g, struct session, garbage));
            continue;
        }
        if (chunk_pool_keep(&store->chunks, container_of(g, struct vector_chunk, garbage)))
            continue;
        g->next = *link; /* no room: back on the list, freed in finish */
        *link = g;
        link = &g->next;
    }
    chunk_pool_publish_hint(&store->chunks);
    retiring_hand_off_if_full(e);
}

void version_edit_publish(struct version_edit *e)
{
    struct version_store *store = e->store;
    struct version *base = e->base, *next = e->next;

    /* The instant of the change. Release: the new tree is complete before any
     * reader can load the pointer (pairs with the acquire load in
     * version_acquire_current). */
    atomic_store_explicit(&store->current, next, memory_order_release);
    trace_version_published(next->number, next->sessions.count);
    e->next = NULL; /* published: no longer the edit's to free */
    /* Relaxed: statistics and hints. */
    live_versions_add(store, 1);
    atomic_store_explicit(&store->open_sessions, next->sessions.count, memory_order_relaxed);
    atomic_store_explicit(&store->height_hint, next->sessions.height, memory_order_relaxed);

    /* Drop the store's reference to the old version. Acq_rel: if this was the
     * last one, the holders' reads (their release decrements) happen before
     * the frees in finish. */
    if (atomic_fetch_sub_explicit(&base->refs, 1, memory_order_acq_rel) == 1) {
        version_retire_batched(store, base);
    } else {
        base->older = store->retained_newest;
        store->retained_newest = base;
    }
    e->unused = garbage_dispose(e->writer.dropped, store->retained_newest);
    e->writer.dropped = NULL;
    edit_recycle_dropped(e);
}

void version_edit_finish(struct version_edit *e)
{
    struct vector_writer *w = &e->writer;
    while (w->pool_size > 0)
        vector_chunk_free(w->pool[--w->pool_size]);
    if (e->next != NULL)
        version_recycle(e->next); /* begun, never published: nobody saw it */
    if (e->unused != NULL && trace_reclaim_batch_enabled()) {
        uint64_t objects = 0, bytes = 0;
        garbage_measure(e->unused, &objects, &bytes);
        trace_reclaim_batch(objects, bytes); /* what no version needed after the write */
    }
    garbage_free_list(e->unused);
    epoch_retire_batch(&e->handoff);
}
