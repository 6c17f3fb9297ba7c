/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * snapshot.c - the persistent chunked vector of sessions and its versions.
 */
#include "snapshot.h"

#include "memory.h"

#include <string.h>

#define POSITION_MASK (SNAPSHOT_FANOUT - 1u)
/* Copies of at most this many pointers are done inline (small pages). */
#define SMALL_COPY 8u

/* A node of the tree: at height 0 its slots hold sessions, above that chunks. */
struct chunk {
    struct garbage garbage;
    void *slot[SNAPSHOT_FANOUT];
};

static size_t capacity_of(unsigned height)
{
    return (size_t)1 << (SNAPSHOT_FANOUT_BITS * (height + 1u));
}

static unsigned index_at(size_t position, unsigned level)
{
    return (unsigned)(position >> (SNAPSHOT_FANOUT_BITS * level)) & POSITION_MASK;
}

static void chunk_free(struct chunk *c)
{
    memory_free(c, sizeof(*c), MEMORY_DATA);
}

static struct snapshot *version_new(void)
{
    struct snapshot *s = memory_alloc(sizeof(*s), MEMORY_DATA);
    if (s != NULL)
        memset(s, 0, sizeof(*s));
    return s;
}

/* Version roots past their grace period, kept for the next writes so that a
 * steady churn allocates none: pushed by any thread (the epoch callback),
 * taken all at once by the writer (so no ABA), at most VERSION_CACHE_MAX. */
#define VERSION_CACHE_MAX 64u
static _Atomic(struct snapshot *) recycled_versions;
static _Atomic unsigned recycled_count; /* reserved places, >= the stack's length */

static void version_recycle(struct snapshot *s)
{
    if (atomic_fetch_add_explicit(&recycled_count, 1, memory_order_relaxed) >= VERSION_CACHE_MAX) {
        atomic_fetch_sub_explicit(&recycled_count, 1, memory_order_relaxed);
        memory_free(s, sizeof(*s), MEMORY_DATA);
        return;
    }
    struct snapshot *head = atomic_load_explicit(&recycled_versions, memory_order_relaxed);
    do {
        s->older = head;
        /* Release: our writes to s are done before the writer reuses it
         * (pairs with the acquire exchange in version_take). */
    } while (!atomic_compare_exchange_weak_explicit(&recycled_versions, &head, s,
                                                    memory_order_release, memory_order_relaxed));
}

/* Takes every recycled version; the caller owns the list (linked by older). */
static struct snapshot *recycled_take_all(void)
{
    /* Acquire: pairs with the release in version_recycle. */
    struct snapshot *list =
        atomic_exchange_explicit(&recycled_versions, NULL, memory_order_acquire);
    unsigned n = 0;
    for (struct snapshot *s = list; s != NULL; s = s->older)
        n++;
    atomic_fetch_sub_explicit(&recycled_count, n, memory_order_relaxed);
    return list;
}

static void version_free_deferred(epoch_entry *entry)
{
    version_recycle((struct snapshot *)((char *)entry - offsetof(struct snapshot, retire)));
}

/* Under the writer lock: a version root for the next write, recycled if one
 * is there (the common case), else allocated; NULL when out of memory. */
static struct snapshot *version_take(struct snapshot_store *store)
{
    if (store->version_spare == NULL)
        store->version_spare = recycled_take_all();
    struct snapshot *s = store->version_spare;
    if (s == NULL)
        return version_new();
    store->version_spare = s->older;
    s->older = NULL;
    s->waiting = NULL;
    return s;
}

void snapshot_free_cached_versions(struct snapshot *list)
{
    while (list != NULL) {
        struct snapshot *s = list;
        list = s->older;
        memory_free(s, sizeof(*s), MEMORY_DATA);
    }
}

struct snapshot *snapshot_take_cached_versions(struct snapshot_store *store)
{
    struct snapshot *list = store->version_spare;
    store->version_spare = NULL;
    if (list == NULL)
        return recycled_take_all();
    struct snapshot *last = list;
    while (last->older != NULL)
        last = last->older;
    last->older = recycled_take_all();
    return list;
}

/* A dead version's root may still be under a reader's compare-and-swap in
 * snapshot_acquire: free it after a grace period. */
static void version_retire(struct snapshot_store *store, struct snapshot *s)
{
    atomic_fetch_sub_explicit(&store->live_versions, 1, memory_order_relaxed);
    epoch_retire(&s->retire, version_free_deferred);
}

bool snapshot_store_init(struct snapshot_store *store)
{
    struct snapshot *empty = version_new();
    if (empty == NULL)
        return false;
    atomic_init(&empty->refs, 1);
    store->retained_newest = NULL;
    store->version_spare = NULL;
    atomic_init(&store->live_versions, 1);
    atomic_init(&store->open_sessions, 0);
    atomic_init(&store->height_hint, 0);
    store->spare = NULL;
    store->spare_count = 0;
    atomic_init(&store->spare_hint, 0);
    store->retiring = (struct epoch_batch){NULL, NULL, 0};
    atomic_init(&store->current, empty);
    return true;
}

/* ---- readers ------------------------------------------------------------- */

struct snapshot *snapshot_acquire(struct snapshot_store *store)
{
    for (;;) {
        /* Acquire: pairs with the writer's release in publish. The epoch
         * section keeps the root's memory while we try to hold it. */
        struct snapshot *s = atomic_load_explicit(&store->current, memory_order_acquire);
        if (snapshot_try_hold(s))
            return s;
        /* Its last reference went: s was superseded; a newer one is current. */
    }
}

void snapshot_copy(const struct snapshot *s, size_t start, size_t n, FWPM_SESSION0 **dst)
{
    if (n == 0)
        return;
    /* Descend once; then step from leaf to leaf, re-descending only from the
     * lowest level whose chunk did not change. */
    const struct chunk *path[SNAPSHOT_MAX_HEIGHT + 1];
    const struct chunk *leaf = s->top;
    for (unsigned level = s->height; level > 0; level--) {
        path[level] = leaf;
        leaf = leaf->slot[index_at(start, level)];
    }
    size_t offset = start & POSITION_MASK;
    for (;;) {
        size_t take = SNAPSHOT_FANOUT - offset;
        if (take > n)
            take = n;
        /* Sessions begin with their FWPM_SESSION0 view: copy pointers as they
         * are; a few by hand (a libc memcpy call costs more than the copy). */
        if (take <= SMALL_COPY) {
            for (size_t i = 0; i < take; i++)
                dst[i] = leaf->slot[offset + i];
        } else {
            memcpy(dst, &leaf->slot[offset], take * sizeof(*dst));
        }
        dst += take;
        start += take;
        n -= take;
        if (n == 0)
            return;
        offset = 0;
        unsigned level = 1;
        while (level < s->height && index_at(start, level) == 0)
            level++; /* this level's chunk changed too */
        for (; level > 1; level--)
            path[level - 1] = path[level]->slot[index_at(start, level)];
        leaf = path[1]->slot[index_at(start, 1)];
    }
}

/* ---- reclamation (writer) ------------------------------------------------ */

static void garbage_free(struct garbage *g)
{
    if (g->kind == GARBAGE_CHUNK)
        chunk_free((struct chunk *)g); /* garbage is the first member */
    else
        session_retire((struct session *)((char *)g - offsetof(struct session, garbage)));
}

/* The newest version at or older than `from` that is still referenced and
 * contains an object born at `birth`, or NULL. */
static struct snapshot *newest_holder(struct snapshot *from, uint64_t birth)
{
    for (struct snapshot *r = from; r != NULL && r->version >= birth; r = r->older) {
        /* Acquire: if it reads 0, every holder's reads happened before. */
        if (atomic_load_explicit(&r->refs, memory_order_acquire) != 0)
            return r;
    }
    return NULL;
}

/* Hands each object of the list to the newest version that still contains
 * it; returns the others, which nobody needs, for freeing. */
static struct garbage *dispose(struct garbage *list, struct snapshot *from)
{
    struct garbage *unused = NULL;
    while (list != NULL) {
        struct garbage *g = list;
        list = g->next;
        struct snapshot *holder = newest_holder(from, g->birth);
        struct garbage **to = holder != NULL ? &holder->waiting : &unused;
        g->next = *to;
        *to = g;
    }
    return unused;
}

static void garbage_free_list(struct garbage *list)
{
    while (list != NULL) {
        struct garbage *g = list;
        list = g->next;
        garbage_free(g);
    }
}

/* True when some version in the list from `from` is still referenced. */
static bool any_holder(struct snapshot *from)
{
    return newest_holder(from, 0) != NULL;
}

struct snapshot *snapshot_reclaim(struct snapshot_store *store)
{
    struct snapshot *dead = NULL;
    struct snapshot **link = &store->retained_newest;
    while (*link != NULL) {
        struct snapshot *r = *link;
        if (atomic_load_explicit(&r->refs, memory_order_acquire) != 0) {
            link = &r->older;
            continue;
        }
        *link = r->older; /* unlink; older versions stay in order */
        /* Objects some older version still contains move to it; the rest
         * stay with r, to be freed. */
        if (any_holder(r->older))
            r->waiting = dispose(r->waiting, r->older);
        r->older = dead; /* r is off the retained list: reuse the link */
        dead = r;
    }
    return dead;
}

void snapshot_free_reclaimed(struct snapshot_store *store, struct snapshot *dead)
{
    while (dead != NULL) {
        struct snapshot *r = dead;
        dead = r->older;
        garbage_free_list(r->waiting);
        version_retire(store, r);
    }
}

/* ---- the edit (writer) --------------------------------------------------- */

static struct chunk *chunk_take(struct snapshot_edit *e)
{
    struct chunk *c = e->pool[--e->pool_size];
    c->garbage.birth = e->next->version;
    c->garbage.kind = GARBAGE_CHUNK;
    c->garbage.next = NULL;
    return c;
}

static struct chunk *chunk_new(struct snapshot_edit *e)
{
    struct chunk *c = chunk_take(e);
    memset(c->slot, 0, sizeof(c->slot));
    return c;
}

static bool chunk_is_fresh(const struct snapshot_edit *e, const struct chunk *c)
{
    return c->garbage.birth == e->next->version;
}

static void drop(struct snapshot_edit *e, struct garbage *g)
{
    g->next = e->dropped;
    e->dropped = g;
}

/* A version of c this edit may change: c itself if the edit made it. */
static struct chunk *chunk_writable(struct snapshot_edit *e, struct chunk *c)
{
    if (chunk_is_fresh(e, c))
        return c;
    struct chunk *copy = chunk_take(e);
    memcpy(copy->slot, c->slot, sizeof(copy->slot));
    drop(e, &c->garbage);
    return copy;
}

/* Drops a subtree that holds a single element, at its first position. */
static void drop_single_path(struct snapshot_edit *e, struct chunk *c, unsigned level)
{
    for (;;) {
        struct chunk *below = level > 0 ? c->slot[0] : NULL;
        drop(e, &c->garbage);
        if (below == NULL)
            return;
        c = below;
        level--;
    }
}

static void *element_at(const struct snapshot *s, size_t position)
{
    const struct chunk *c = s->top;
    for (unsigned level = s->height; level > 0; level--)
        c = c->slot[index_at(position, level)];
    return c->slot[index_at(position, 0)];
}

/* Stores value at position (< count, or == count to extend), copying the path. */
static void tree_store(struct snapshot_edit *e, size_t position, void *value)
{
    struct snapshot *n = e->next;
    struct chunk *c = n->top = chunk_writable(e, n->top);
    for (unsigned level = n->height; level > 0; level--) {
        unsigned i = index_at(position, level);
        struct chunk *child = c->slot[i];
        child = child != NULL ? chunk_writable(e, child) : chunk_new(e);
        c->slot[i] = child;
        c = child;
    }
    c->slot[index_at(position, 0)] = value;
}

/* Removes the last element, freeing chunks that become empty. */
static void tree_pop(struct snapshot_edit *e)
{
    struct snapshot *n = e->next;
    size_t last = n->count - 1;
    n->count = last;
    if (last == 0) {
        drop_single_path(e, n->top, n->height);
        n->top = NULL;
        n->height = 0;
        return;
    }
    if (n->height > 0 && last == capacity_of(n->height - 1)) {
        /* The top's second child held only this element: the first child
         * becomes the top. */
        struct chunk *top = n->top;
        drop_single_path(e, top->slot[1], n->height - 1);
        n->top = top->slot[0];
        drop(e, &top->garbage);
        n->height--;
        return;
    }
    struct chunk *c = n->top = chunk_writable(e, n->top);
    for (unsigned level = n->height; level > 0; level--) {
        unsigned i = index_at(last, level);
        struct chunk *child = c->slot[i];
        if ((last & (capacity_of(level - 1) - 1)) == 0) {
            /* last was the only element of this child. */
            c->slot[i] = NULL;
            drop_single_path(e, child, level - 1);
            return;
        }
        c->slot[i] = child = chunk_writable(e, child);
        c = child;
    }
    c->slot[index_at(last, 0)] = NULL;
}

/* Chunks a write may need on a tree of this height. */
static unsigned chunks_needed(unsigned height, bool adding)
{
    return adding ? height + 2u : 2u * (height + 1u);
}

/* Tops the pool up to `need` chunks; false when out of memory. */
static bool pool_fill(struct snapshot_edit *e, unsigned need)
{
    for (; e->pool_size < need; e->pool_size++) {
        e->pool[e->pool_size] = memory_alloc(sizeof(struct chunk), MEMORY_DATA);
        if (e->pool[e->pool_size] == NULL)
            return false;
    }
    return true;
}

/* Most spare chunks kept (about 34 KiB). */
#define SPARE_MAX 64u

/* Under the writer lock: one spare chunk, or NULL. */
static struct chunk *spare_take(struct snapshot_store *store)
{
    struct chunk *c = store->spare;
    if (c != NULL) {
        store->spare = (struct chunk *)c->garbage.next;
        store->spare_count--;
    }
    return c;
}

/* Under the writer lock: keeps c as a spare; false when there are enough. */
static bool spare_keep(struct snapshot_store *store, struct chunk *c)
{
    if (store->spare_count >= SPARE_MAX)
        return false;
    c->garbage.next = (struct garbage *)store->spare;
    store->spare = c;
    store->spare_count++;
    return true;
}

bool snapshot_edit_prepare(struct snapshot_store *store, struct snapshot_edit *e, bool adding)
{
    e->store = store;
    e->adding = adding;
    e->base = NULL;
    e->handoff = (struct epoch_batch){NULL, NULL, 0};
    e->dropped = NULL;
    e->unused = NULL;
    e->pool_size = 0;
    e->next = NULL; /* taken in begin, under the lock: usually a recycled one */
    /* Estimates (checked in begin): a tree one level taller than now, minus
     * the spares the writer lock's holder will have. */
    unsigned height = atomic_load_explicit(&store->height_hint, memory_order_relaxed);
    unsigned spares = atomic_load_explicit(&store->spare_hint, memory_order_relaxed);
    unsigned need = chunks_needed(height + 1u, adding);
    if (!pool_fill(e, need > spares ? need - spares : 0)) {
        snapshot_edit_finish(e);
        return false;
    }
    return true;
}

bool snapshot_edit_begin(struct snapshot_edit *e)
{
    struct snapshot *n = e->next = version_take(e->store);
    if (n == NULL)
        return false;
    struct snapshot *base = atomic_load_explicit(&e->store->current, memory_order_relaxed);
    e->base = base;
    atomic_init(&n->refs, 1);
    n->version = base->version + 1;
    n->count = base->count;
    n->height = base->height;
    n->top = base->top;
    return true;
}

/* Moves chunks from donor's pool into e's until e has need. */
static void pool_take_from(struct snapshot_edit *e, struct snapshot_edit *donor, unsigned need)
{
    while (e->pool_size < need && donor->pool_size > 0)
        e->pool[e->pool_size++] = donor->pool[--donor->pool_size];
}

bool snapshot_edit_reserve(struct snapshot_edit *e, struct snapshot_edit *donor, bool adding)
{
    struct snapshot_store *store = e->store;
    unsigned need = chunks_needed(e->next->height, adding);
    if (donor != e)
        pool_take_from(e, donor, need);
    while (e->pool_size < need && store->spare != NULL)
        e->pool[e->pool_size++] = spare_take(store);
    return pool_fill(e, need); /* the estimates were short: allocate, rarely */
}

/* Retire batches hold this many objects before they are handed on. */
#define RETIRE_BATCH 16u

/* Under the writer lock: a dead version root goes to the retire batch. */
static void retire_version_batched(struct snapshot_store *store, struct snapshot *s)
{
    atomic_fetch_sub_explicit(&store->live_versions, 1, memory_order_relaxed);
    epoch_batch_add(&store->retiring, &s->retire, version_free_deferred);
}

/* Under the writer lock, after publishing: unused chunks become spares,
 * dropped sessions join the retire batch; a full batch is handed to finish.
 * Only what has no room stays on e->unused, for finish to free. */
static void recycle_dropped(struct snapshot_edit *e)
{
    struct snapshot_store *store = e->store;
    while (e->pool_size > 0 && spare_keep(store, e->pool[e->pool_size - 1]))
        e->pool_size--;
    struct garbage **link = &e->unused;
    while (*link != NULL) {
        struct garbage *g = *link;
        *link = g->next;
        if (g->kind == GARBAGE_SESSION) {
            struct session *s = (struct session *)((char *)g - offsetof(struct session, garbage));
            epoch_batch_add(&store->retiring, &s->retire, session_free_deferred);
            continue;
        }
        if (spare_keep(store, (struct chunk *)g))
            continue;
        g->next = *link; /* no room: back on the list, freed in finish */
        *link = g;
        link = &g->next;
    }
    atomic_store_explicit(&store->spare_hint, store->spare_count, memory_order_relaxed);
    if (store->retiring.count >= RETIRE_BATCH) {
        e->handoff = store->retiring;
        store->retiring = (struct epoch_batch){NULL, NULL, 0};
    }
}

void snapshot_edit_finish(struct snapshot_edit *e)
{
    while (e->pool_size > 0)
        chunk_free(e->pool[--e->pool_size]);
    if (e->next != NULL)
        version_recycle(e->next); /* begun, never published: nobody saw it */
    garbage_free_list(e->unused);
    epoch_retire_batch(&e->handoff);
}

struct chunk *snapshot_take_spares(struct snapshot_store *store)
{
    struct chunk *list = store->spare;
    store->spare = NULL;
    store->spare_count = 0;
    atomic_store_explicit(&store->spare_hint, 0, memory_order_relaxed);
    return list;
}

struct epoch_batch snapshot_take_retiring(struct snapshot_store *store)
{
    struct epoch_batch b = store->retiring;
    store->retiring = (struct epoch_batch){NULL, NULL, 0};
    return b;
}

void snapshot_free_spares(struct chunk *list)
{
    while (list != NULL) {
        struct chunk *c = list;
        list = (struct chunk *)c->garbage.next;
        chunk_free(c);
    }
}

void snapshot_edit_append(struct snapshot_edit *e, struct session *s)
{
    struct snapshot *n = e->next;
    if (n->top == NULL) {
        n->top = chunk_new(e);
        n->height = 0;
    } else if (n->count == capacity_of(n->height)) {
        struct chunk *top = chunk_new(e);
        top->slot[0] = n->top;
        n->top = top;
        n->height++;
    }
    s->garbage.birth = n->version;
    s->garbage.kind = GARBAGE_SESSION;
    tree_store(e, n->count, s);
    s->slot = (uint32_t)n->count;
    n->count++;
}

void snapshot_edit_remove(struct snapshot_edit *e, struct session *s)
{
    struct snapshot *n = e->next;
    size_t position = s->slot, last = n->count - 1;
    struct session *moved = position != last ? element_at(n, last) : NULL;
    tree_pop(e);
    if (moved != NULL) {
        tree_store(e, position, moved);
        moved->slot = (uint32_t)position;
    }
    drop(e, &s->garbage);
}

void snapshot_edit_publish(struct snapshot_edit *e)
{
    struct snapshot_store *store = e->store;
    struct snapshot *base = e->base, *next = e->next;

    /* The instant of the change. Release: the new tree is complete before any
     * reader can load the pointer. */
    atomic_store_explicit(&store->current, next, memory_order_release);
    e->next = NULL; /* published: no longer the edit's to free */
    atomic_fetch_add_explicit(&store->live_versions, 1, memory_order_relaxed);
    atomic_store_explicit(&store->open_sessions, next->count, memory_order_relaxed);
    atomic_store_explicit(&store->height_hint, next->height, memory_order_relaxed);

    /* Drop the store's reference to the old version. Acq_rel: if this was the
     * last one, the holders' reads happen before the frees in finish. */
    if (atomic_fetch_sub_explicit(&base->refs, 1, memory_order_acq_rel) == 1) {
        retire_version_batched(store, base);
    } else {
        base->older = store->retained_newest;
        store->retained_newest = base;
    }
    e->unused = dispose(e->dropped, store->retained_newest);
    e->dropped = NULL;
    recycle_dropped(e);
}
