/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * version_store.h - the immutable versions of the set of open sessions, and
 * their lifetime.
 *
 * Vocabulary: a *version* is one immutable state of the set, numbered in
 * publication order; a *snapshot* is what a reader holds: one counted
 * reference to a version (taken in O(1), whatever the size or the churn).
 *
 * A version is a persistent vector (vector.h) of session pointers, positions
 * 0..count-1, dense: closing a session moves the last one into its
 * position. A write copies the chunks on the paths it changes and publishes
 * the result as a new version with one release store; every version is the
 * exact set at the instant it was published.
 *
 * Who may touch what:
 *   - version_acquire_current: any thread, inside an epoch section; lock-free.
 *   - version_size, version_copy: holders of a snapshot; wait-free.
 *   - version_try_hold: inside an epoch section; version_release: holders.
 *   - the version_edit_* functions, version_store_reclaim and the
 *     version_store_take_* functions: the writer, under the engine's writer
 *     lock (except where a function says "no lock").
 *
 * Reclamation: a version that was current when somebody took a snapshot of
 * it is "retained" after it is superseded, until its last snapshot goes.
 * Chunks and sessions that a write drops are freed at once when no retained
 * version still contains them, and otherwise wait on the newest version that
 * does (see garbage.h). Dead version roots and dropped sessions are retired
 * to the epoch in batches (a root may still be under a reader's hold attempt).
 */
#ifndef FWPM_CORE_VERSION_STORE_H
#define FWPM_CORE_VERSION_STORE_H

#include "chunk_pool.h"
#include "epoch.h"
#include "garbage.h"
#include "refcount.h"
#include "session.h"
#include "vector.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One version of the set. Fields above the line never change once published. */
struct version {
    _Atomic uint64_t refs; /* snapshots, plus 1 while current */
    uint64_t number;       /* publication order, from 0 */
    struct vector sessions;
    /* ---- writer-owned ---- */
    struct version *older;   /* retained list, newest first; then the dead or recycled list */
    struct garbage *waiting; /* objects only this and older versions contain */
    epoch_entry retire;
};

/* The writer's side: the current version and the retained ones. */
struct version_store {
    _Atomic(struct version *) current;
    struct version *retained_newest; /* writer-owned */
    struct version *version_spare;   /* recycled roots for the next writes; writer-owned */
    unsigned spare_used;             /* roots used since the spare list was taken; writer-owned */
    /* Statistics: current + retained versions, changed under the writer
     * lock alone (a version leaves the count when it is unlinked, before its
     * root is freed outside the lock). */
    _Atomic uint64_t live_versions;
    _Atomic unsigned height_hint; /* height of the current version */
    struct chunk_pool chunks;     /* chunks for the next writes' path copies */
    /* Dead version roots and dropped sessions, retired in batches; dead roots
     * gather in a list (linked by older) that joins the batch as one entry.
     * Writer-owned. */
    struct epoch_batch retiring;
    unsigned retiring_roots; /* roots in the batch's lists */
    struct version *dead_roots;
    unsigned dead_root_count;
    _Atomic uint64_t open_sessions; /* count of the current version */
};

/* One write in progress: what it allocated up front, and what it changes. */
struct version_edit {
    struct version_store *store;
    bool adding;
    struct version *base;        /* the version being changed */
    struct version *next;        /* the version being built, until published */
    struct vector_writer writer; /* its chunks; what it dropped (chunks, sessions) */
    struct garbage *unused;      /* dropped objects no version needs: to free */
    struct epoch_batch handoff;  /* a full retire batch, handed on in finish */
};

/* Sets up an empty set; false when out of memory. */
bool version_store_init(struct version_store *store);

/* Undoes version_store_init when nothing else was done with the store. */
void version_store_destroy_unused(struct version_store *store);

/* Readers ------------------------------------------------------------------ */

/* A snapshot: a reference to the current version. Call inside an epoch
 * section. Acquire: pairs with the release store in version_edit_publish. */
struct version *version_acquire_current(struct version_store *store);

/* Takes one more reference to v unless its last one is already gone. The
 * caller must be inside an epoch section or hold a reference (either keeps
 * the root's memory). */
static inline bool version_try_hold(struct version *v)
{
    return refcount_try_acquire(&v->refs);
}

/* Drops a reference. Returns true when it was the last one of a superseded
 * version: the caller must then have version_store_reclaim run (under the
 * writer lock) to free what only that version kept. */
static inline bool version_release(struct version *v)
{
    return refcount_release(&v->refs);
}

static inline size_t version_size(const struct version *v)
{
    return v->sessions.count;
}

/* Copies n session pointers from position start (start + n <= size) to dst.
 * Sessions begin with their FWPM_SESSION0 view, so the pointers are copied
 * as they are. */
static inline void version_copy(const struct version *v, size_t start, size_t n,
                                FWPM_SESSION0 **dst)
{
    vector_copy(&v->sessions, start, n, (void **)dst);
}

/* Any thread: version roots allocated since the process started, rather
 * than recycled (tests). */
uint64_t version_store_roots_allocated(void);

/* Any thread: places held in the recycled-root cache (tests: 0 once
 * fwpm_reclaim has given every recycled root back, if no place leaked). */
unsigned version_store_recycled_places(void);

/* Any thread: the number of the current version (tests). */
uint64_t version_store_current_number(struct version_store *store);

/* Any thread: open sessions and live versions, as of recent writes. */
void version_store_stats(struct version_store *store, uint64_t *open_sessions,
                         uint64_t *live_versions);

/* The writer (under the writer lock) -------------------------------------- */

/* A write goes: prepare (no lock: allocates what it will likely need),
 * begin (under the writer lock: bases the edit on the current version), then
 * for each change reserve and append or remove, then publish, then finish
 * (no lock again: frees what the writes dropped and what they did not use).
 * Only the middle holds the lock, and none of it allocates or frees in the
 * common case (reserve allocates when the estimate fell short). finish is called whatever happened,
 * once prepare has been.
 *
 * One edit may carry several changes (a batch of combined writers): each
 * change is reserved first, with the chunks that another prepared edit (its
 * writer's) brought; a change whose reserve fails is left out and nothing
 * else is affected. Positions (session->position) change as the edit goes:
 * an edit that has begun is always published. */

/* Starts a write that will add (adding == true) or remove one session.
 * false when out of memory (finish has been done). */
bool version_edit_prepare(struct version_store *store, struct version_edit *e, bool adding);

/* Under the writer lock: bases the edit on the current version, in a
 * recycled version root (allocated if none is left). false when out of
 * memory: nothing changed (finish still has to be called). */
bool version_edit_begin(struct version_edit *e);

/* Under the writer lock, after begin: makes sure e holds the chunks one more
 * append (adding) or remove needs, taking them from donor's pool first (a
 * prepared edit that will not be published; may be e), then from the chunk
 * pool, then allocating. false when out of memory: then that change must be
 * left out (e is still valid). */
bool version_edit_reserve(struct version_edit *e, struct version_edit *donor, bool adding);

/* Adds s at the end (after a successful reserve). Cannot fail. */
void version_edit_append(struct version_edit *e, struct session *s);

/* Removes s, moving the last session into its position (after a successful
 * reserve). Cannot fail. */
void version_edit_remove(struct version_edit *e, struct session *s);

/* Under the writer lock: makes the edit's version current, the instant of
 * the change. Release: pairs with the acquire in version_acquire_current. */
void version_edit_publish(struct version_edit *e);

/* Without the lock: frees what the edit allocated and did not use, and what
 * the write made unreachable. Call once, after publish or instead of it. */
void version_edit_finish(struct version_edit *e);

/* Under the writer lock: unlinks the retained versions that lost their last
 * reference and hands what they kept to older versions that still need it.
 * Returns the dead versions, each keeping only what nobody needs, for
 * version_free_reclaimed: the frees happen outside the lock. */
struct version *version_store_reclaim(struct version_store *store);

/* Frees what version_store_reclaim returned. Any thread, no lock. */
void version_free_reclaimed(struct version *dead);

/* What the writer keeps between writes, taken out of the store to be given
 * back: dead versions, the chunk pool, the partial retire batch (with the
 * partial list of dead roots in it). */
struct version_store_cache {
    struct version *dead;
    struct vector_chunk *chunks;
    struct epoch_batch retiring;
};

/* Under the writer lock: empties the store's caches into *out. */
void version_store_take_cache(struct version_store *store, struct version_store_cache *out);

/* No lock: frees (or retires) what version_store_take_cache took. */
void version_store_free_cache(struct version_store_cache *cache);

/* Under the writer lock: takes the recycled version roots, for
 * version_free_recycled. */
struct version *version_store_take_recycled(struct version_store *store);

/* Frees roots taken with version_store_take_recycled. No lock. */
void version_free_recycled(struct version *list);

/* In a fork child, by the fork handler alone: the recycled roots the parent
 * kept are abandoned with its engine. */
void version_store_reset_after_fork(void);

#endif /* FWPM_CORE_VERSION_STORE_H */
