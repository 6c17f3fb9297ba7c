/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine.h - the in-process filter engine: its sessions, the versions of
 * their set, and snapshots of those.
 *
 * There is one engine per process. Every change (a session opening or
 * closing) is serialized by the engine's writer lock, held for O(log n) work
 * and never for anything a reader does. Readers never take the lock: they
 * look sessions up by handle and take snapshots from inside epoch sections.
 *
 * engine_ready() must have returned true before any other call.
 */
#ifndef FWPM_CORE_ENGINE_H
#define FWPM_CORE_ENGINE_H

#include "fwpm_linux.h"

#include "session.h"
#include "version_store.h"

#include <stdatomic.h>
#include <stdbool.h>

/* Set once the engine is up (release; read with acquire). */
extern _Atomic bool engine_initialized;

/* Sets the engine up; false when out of memory (try again later). */
bool engine_initialize(void);

/* Sets the engine up on first use; false when out of memory. */
static inline bool engine_ready(void)
{
    /* Acquire: pairs with the release in engine_initialize. */
    if (__builtin_expect(atomic_load_explicit(&engine_initialized, memory_order_acquire), 1))
        return true;
    return engine_initialize();
}

struct identity;

/* Opens a session: FwpmEngineOpen0 after its argument checks. The session's
 * process id, SID and user are who's (NULL: the calling process's; the host
 * engine passes its client's peer credentials). */
DWORD engine_open_session(const FWPM_SESSION0 *requested, const struct identity *who,
                          HANDLE *engine_handle);

/* Closes the session behind a valid engine handle: removes it from the set,
 * invalidates the handle and destroys the session's enumerations.
 * ERROR_INVALID_HANDLE when a racing close won. s is what engine_handle
 * named at a lookup inside a section; call outside any section (a section
 * held while the close waits for its write would hold the epoch back). s
 * may be freed meanwhile by a racing close: it is touched only once this
 * close's write has won, which pins it (session_pin_for_close). */
DWORD engine_close_session(HANDLE engine_handle, struct session *s);

/* The session behind an engine handle, or NULL. Inside a section. */
struct session *engine_session_of(HANDLE engine_handle);

/* Takes a snapshot: a reference to the current version of the set. Inside a
 * section. */
struct version *engine_snapshot_acquire(void);

/* Drops a reference taken with engine_snapshot_acquire. If it was the last
 * one of a superseded version, leaves the freeing of what only that version
 * kept to the writer lock's next holder or the idle reclaim. Takes no lock
 * at all. */
void engine_snapshot_release(struct version *v);

/* Memory and population figures. */
void engine_memory_stats(FWPM_MEMORY_STATS0 *stats);

/* Frees everything no reference keeps; waits for a grace period. */
void engine_reclaim(void);

/* Tests only. hold: takes the writer lock, so that writers queue up (their
 * requests stay posted); release: lets them go, without applying anything
 * itself. pending: requests posted, for the holder. version: the number of
 * the current version (one more per publication). */
void engine_hold_writers_for_test(void);
void engine_release_writers_for_test(void);
unsigned engine_pending_writes_for_test(void);
uint64_t engine_version_for_test(void);

/* A combiner keeps taking requests posted while it applies its batch until
 * the batch holds this many: a batch holds at most this plus one request per
 * other writer thread, so every writer's wait is bounded. */
#define ENGINE_COMBINE_BATCH_MAX 64u

/* Tests only, with no write in progress: batches applied so far, requests
 * they held in all, the largest batch, and how many times a writer took the
 * lock after deferring to the last combiner in vain (engine.c). */
struct engine_batch_stats {
    uint64_t batches;
    uint64_t requests;
    unsigned largest;
    uint64_t deferred_takeovers;
};
void engine_batch_stats_for_test(struct engine_batch_stats *out);

/* In a fork child, by the fork handler alone: the writer and set-up locks
 * re-initialised and the engine marked as not set up, so that the child's
 * first call builds a fresh, empty one (the parent's sessions, snapshots and
 * tables are abandoned, see process.c). */
void engine_reset_after_fork(void);

#endif /* FWPM_CORE_ENGINE_H */
