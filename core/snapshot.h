/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * snapshot.h - immutable versions of the set of open sessions.
 *
 * The set is kept as a persistent vector: a tree of chunks of
 * SNAPSHOT_FANOUT pointers whose leaves hold the sessions in positions
 * 0..count-1, densely (closing a session moves the last one into its
 * position). A writer never changes a published chunk: it copies the chunks
 * on the paths it changes (O(log n), at most 2 paths per write) and publishes
 * the result as a new version with one release store. Every version is the
 * exact set at the instant it was published; a snapshot is one counted
 * reference to a version, taken in O(1), whatever the size or the churn.
 *
 * Who may touch what:
 *   - snapshot_acquire: any thread, inside an epoch section; lock-free.
 *   - snapshot_size, snapshot_copy: holders of a reference; wait-free.
 *   - snapshot_try_hold: inside an epoch section; snapshot_release: holders.
 *   - the snapshot_edit_* functions and snapshot_reclaim: the writer, under
 *     the engine's writer lock.
 *
 * Reclamation: a version that was current when somebody took a reference is
 * "retained" after it is superseded, until its last reference goes. Chunks
 * and sessions that a write drops are freed at once when no retained version
 * still contains them, and otherwise wait on the newest version that does
 * (see garbage.h).
 */
#ifndef FWPM_CORE_SNAPSHOT_H
#define FWPM_CORE_SNAPSHOT_H

#include "epoch.h"
#include "garbage.h"
#include "refcount.h"
#include "session.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_FANOUT_BITS 6u
#define SNAPSHOT_FANOUT (1u << SNAPSHOT_FANOUT_BITS)
/* Enough for 2^60 sessions; a write never needs more chunks than this. */
#define SNAPSHOT_MAX_HEIGHT 9u
/* prepare sizes for one level more than the current height */
#define SNAPSHOT_EDIT_MAX_CHUNKS (2u * (SNAPSHOT_MAX_HEIGHT + 2u))

struct chunk;

/* One version of the set. Fields above the line never change once published. */
struct snapshot {
    _Atomic uint64_t refs; /* holders, plus 1 while current */
    uint64_t version;
    size_t count;
    unsigned height; /* levels above the leaves; top is a leaf at 0 */
    struct chunk *top;
    /* ---- writer-owned ---- */
    struct snapshot *older;  /* retained list, newest first */
    struct garbage *waiting; /* objects only this and older versions contain */
    epoch_entry retire;
};

/* The writer's side: the current version and the retained ones. */
struct snapshot_store {
    _Atomic(struct snapshot *) current;
    struct snapshot *retained_newest; /* writer-owned */
    struct snapshot *version_spare;   /* recycled roots for the next writes; writer-owned */
    _Atomic uint64_t live_versions;   /* current + retained, for statistics */
    _Atomic unsigned height_hint;     /* height of the current version */
    /* Chunks no version uses any more, kept for the next writes so that the
     * path copies of a steady churn allocate nothing. Writer-owned. */
    struct chunk *spare;
    unsigned spare_count;
    _Atomic unsigned spare_hint; /* spare_count, for prepare's estimate */
    /* Dead version roots and dropped sessions, retired in batches. Writer-owned. */
    struct epoch_batch retiring;
    _Atomic uint64_t open_sessions; /* count of the current version */
};

/* One write in progress: what it allocated up front, and what it changes. */
struct snapshot_edit {
    struct snapshot_store *store;
    bool adding;
    struct snapshot *base; /* the version being changed */
    struct snapshot *next; /* the version being built, until published */
    struct chunk *pool[SNAPSHOT_EDIT_MAX_CHUNKS];
    unsigned pool_size;
    struct garbage *dropped;    /* objects of base that next no longer has */
    struct garbage *unused;     /* dropped objects no version needs: to free */
    struct epoch_batch handoff; /* a full retire batch, handed on in finish */
};

/* Sets up an empty set; false when out of memory. */
bool snapshot_store_init(struct snapshot_store *store);

/* Readers ------------------------------------------------------------------ */

/* A reference to the current version. Call inside an epoch section. */
struct snapshot *snapshot_acquire(struct snapshot_store *store);

/* Takes one more reference to s unless its last one is already gone. The
 * caller must be inside an epoch section or hold a reference (either keeps
 * the root's memory). */
static inline bool snapshot_try_hold(struct snapshot *s)
{
    return refcount_try_acquire(&s->refs);
}

/* Drops a reference. Returns true when it was the last one of a superseded
 * version: the caller must then have snapshot_reclaim run (under the writer
 * lock) to free what only that version kept. */
static inline bool snapshot_release(struct snapshot *s)
{
    return refcount_release(&s->refs);
}

static inline size_t snapshot_size(const struct snapshot *s)
{
    return s->count;
}

/* Copies n session pointers from position start (start + n <= size) to dst. */
void snapshot_copy(const struct snapshot *s, size_t start, size_t n, FWPM_SESSION0 **dst);

/* The writer (under the writer lock) -------------------------------------- */

/* A write goes: prepare (no lock: allocates what it will likely need),
 * begin (under the writer lock: bases the edit on the current version), then
 * for each change reserve and append or remove, then publish, then finish
 * (no lock again: frees what the writes dropped and what they did not use).
 * Only the middle holds the lock, and none of it allocates or frees in the
 * common case. finish is called whatever happened, once prepare has been.
 *
 * One edit may carry several changes (a batch of combined writers): each
 * change is reserved first, with the chunks that another prepared edit (its
 * writer's) brought; a change whose reserve fails is left out and nothing
 * else is affected. Positions (session->slot) change as the edit goes: an
 * edit that has begun is always published. */

/* Starts a write that will add (adding == true) or remove one session.
 * false when out of memory (finish has been done). */
bool snapshot_edit_prepare(struct snapshot_store *store, struct snapshot_edit *e, bool adding);

/* Under the writer lock: bases the edit on the current version, in a
 * recycled version root (allocated if none is left). false when out of
 * memory: nothing changed (finish still has to be called). */
bool snapshot_edit_begin(struct snapshot_edit *e);

/* Under the writer lock, after begin: makes sure e holds the chunks one more
 * append (adding) or remove needs, taking them from donor's pool first (a
 * prepared edit that will not be published; may be e), then from the spares,
 * then allocating. false when out of memory: then that change must be left
 * out (e is still valid). */
bool snapshot_edit_reserve(struct snapshot_edit *e, struct snapshot_edit *donor, bool adding);

/* Adds s at the end (after a successful reserve). Cannot fail. */
void snapshot_edit_append(struct snapshot_edit *e, struct session *s);

/* Removes s, moving the last session into its position (after a successful
 * reserve). Cannot fail. */
void snapshot_edit_remove(struct snapshot_edit *e, struct session *s);

/* Under the writer lock: makes the edit's version current, the instant of
 * the change. */
void snapshot_edit_publish(struct snapshot_edit *e);

/* Without the lock: frees what the edit allocated and did not use, and what
 * the write made unreachable. Call once, after publish or instead of it. */
void snapshot_edit_finish(struct snapshot_edit *e);

/* Unlinks the retained versions that lost their last reference and hands
 * what they kept to older versions that still need it. Returns the dead
 * versions, each keeping only what nobody needs, for
 * snapshot_free_reclaimed: the frees happen outside the lock. */
struct snapshot *snapshot_reclaim(struct snapshot_store *store);

/* Under the writer lock: takes the spare chunks, for snapshot_free_spares. */
struct chunk *snapshot_take_spares(struct snapshot_store *store);

/* Under the writer lock: takes the recycled version roots, for
 * snapshot_free_cached_versions. */
struct snapshot *snapshot_take_cached_versions(struct snapshot_store *store);

/* Frees roots taken with snapshot_take_cached_versions. No lock. */
void snapshot_free_cached_versions(struct snapshot *list);

/* Frees chunks taken with snapshot_take_spares. No lock. */
void snapshot_free_spares(struct chunk *list);

/* Under the writer lock: takes the partial retire batch, to be handed to
 * epoch_retire_batch after unlocking. */
struct epoch_batch snapshot_take_retiring(struct snapshot_store *store);

/* Frees what snapshot_reclaim returned. Any thread, no lock. */
void snapshot_free_reclaimed(struct snapshot_store *store, struct snapshot *dead);

#endif /* FWPM_CORE_SNAPSHOT_H */
