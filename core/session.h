/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.h - one open (or recently closed) session of the engine.
 *
 * A session record is one block: the public FWPM_SESSION0 view first (so a
 * pointer to the record is a pointer to the view handed to callers, and to
 * its GUID key, which the sessions table hashes), then the engine's
 * bookkeeping, then the client's strings (name, description) the view points
 * into. Its SID and username point into the caller's account (identity.h),
 * which lives as long as the process: one copy per uid, not per session.
 *
 * After creation the view is immutable. The version fields (garbage,
 * position) belong to the writer (under the engine's writer lock). The
 * enumeration list belongs to whoever holds enums_lock. A record is freed
 * only when no version contains it any more, and then only after a grace period (sessions-table
 * readers may still be probing it).
 */
#ifndef FWPM_CORE_SESSION_H
#define FWPM_CORE_SESSION_H

#include "fwpmu.h"

#include "container_of.h"
#include "epoch.h"
#include "garbage.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct enumeration;

struct session {
    FWPM_SESSION0 view; /* first: see above */

    /* Writer-owned: membership of the versions' vector (birth version,
     * reclamation link); once no version contains the record, its place in
     * an epoch retire queue instead. Never both at once. */
    union {
        struct garbage garbage;
        epoch_entry retire;
    };
    /* Position in the current version. 32 bits: every open session holds an
     * engine handle, and the handle table has at most 2^24 slots. */
    uint32_t position;
    /* Bytes of the record's block (record and strings), set at creation:
     * immutable. 32 bits: the strings are bounded (session.c checks). */
    uint32_t record_bytes;

    /* Enumeration handles made through this session, so that closing it can
     * destroy them. Both under enums_lock; closing is set once. */
    _Atomic bool enums_lock;
    bool closing;
    struct enumeration *enums;
    /* The close pin (session_pin_for_close): a closing thread holds no
     * section, so it keeps the record this way until it is done with it. */
    _Atomic uint8_t close_pin;
};

/* The close pin's values: no pin; pinned by the winning close; the record's
 * grace period ended while pinned, so the closing thread frees it. */
enum {
    SESSION_UNPINNED = 0,
    SESSION_PINNED = 1,
    SESSION_FREE_ON_UNPIN = 2,
};

/* Takes a session's enumeration-list lock: a spinlock (a few pointer writes
 * under it; a record stays small) that yields the processor while the holder
 * is descheduled. Never taken on the page path. */
static inline void session_enums_lock(struct session *s)
{
    /* Acquire: pairs with the release in session_enums_unlock. */
    while (atomic_exchange_explicit(&s->enums_lock, true, memory_order_acquire)) {
        for (unsigned spins = 0; atomic_load_explicit(&s->enums_lock, memory_order_relaxed);
             spins++)
            if (spins >= 64)
                sched_yield();
    }
}

static inline void session_enums_unlock(struct session *s)
{
    /* Release: the list changes are seen by the next holder. */
    atomic_store_explicit(&s->enums_lock, false, memory_order_release);
}

/* Asks for the lines of s that closing it touches (its key, its position
 * and enumeration list), ahead of the close's write, so that the misses
 * overlap the write's preparation instead of stalling the writer lock's
 * holder. A hint only, never a read: s may have been freed by a racing
 * close (a prefetch never faults). */
static inline void session_prefetch_for_close(const struct session *s)
{
    __builtin_prefetch(&s->view.sessionKey, 0, 3);
    __builtin_prefetch(&s->enums_lock, 1, 3);
}

/* Checks a client's FWPM_SESSION0 (NULL allowed) and builds a record from it:
 * strings deep-copied, zero key replaced by a random version-4 GUID, identity
 * filled in from who (NULL: the calling process), whose account's SID and
 * username the view points at. Returns ERROR_SUCCESS, FWP_E_INVALID_FLAGS,
 * FWP_E_INVALID_PARAMETER or ERROR_NOT_ENOUGH_MEMORY. */
struct identity;
DWORD session_create(const FWPM_SESSION0 *requested, const struct identity *who,
                     struct session **out);

/* Gives a generated key a fresh random value (after a collision). Only for
 * records not yet published. */
void session_regenerate_key(struct session *s);

/* True when the client asked for a generated key. */
bool session_key_is_zero(const GUID *key);

/* Frees a record no reader can reach (never published, or past its grace). */
void session_free(struct session *s);

/* The size of a record's block, as session_create sized it. */
static inline size_t session_record_bytes(const struct session *s)
{
    return s->record_bytes;
}

/* Frees a record after a grace period. */
void session_retire(struct session *s);

/* By the write that wins the close of s, under the writer lock (s is in the
 * current version): s stays allocated, whatever its grace period, until the
 * closing thread calls session_unpin_after_close. Release: pairs with the
 * acquire exchange in session_free_deferred (the record is retired after
 * this store: by this write or, under the writer lock, a later one). */
static inline void session_pin_for_close(struct session *s)
{
    atomic_store_explicit(&s->close_pin, SESSION_PINNED, memory_order_release);
}

/* By the closing thread, once done with s: ends the pin, and frees s if its
 * grace period ended meanwhile (session_free_deferred left it to us). Of the
 * two exchanges (this one and the callback's) exactly one sees the other's
 * mark, so the record is freed once. Acq_rel: our reads of s happen before a
 * free by the callback, and the callback's run happens before our free. */
static inline void session_unpin_after_close(struct session *s)
{
    if (atomic_exchange_explicit(&s->close_pin, SESSION_UNPINNED, memory_order_acq_rel) ==
        SESSION_FREE_ON_UNPIN)
        session_free(s);
}

/* The epoch callback that frees a record (for batched retiring). */
void session_free_deferred(epoch_entry *entry);

/* In a fork child, by the fork handler alone: the forking thread draws a
 * new seed, so that the child's keys do not repeat the parent's. */
void session_reset_after_fork(void);

static inline struct session *session_of_view(FWPM_SESSION0 *view)
{
    return container_of(view, struct session, view);
}

#endif /* FWPM_CORE_SESSION_H */
