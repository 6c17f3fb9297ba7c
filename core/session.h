/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.h - one open (or recently closed) session of the engine.
 *
 * A session record is one block: the public FWPM_SESSION0 view first (so a
 * pointer to the record is a pointer to the view handed to callers, and to
 * its GUID key, which the sessions table hashes), then the engine's
 * bookkeeping, then the strings and the SID the view points into.
 *
 * After creation the view is immutable. The snapshot fields belong to the
 * writer (under the engine's writer lock). The enumeration list belongs to
 * whoever holds enum_lock. A record is freed only when no snapshot version
 * contains it any more, and then only after a grace period (sessions-table
 * readers may still be probing it).
 */
#ifndef FWPM_CORE_SESSION_H
#define FWPM_CORE_SESSION_H

#include "fwpmu.h"

#include "epoch.h"
#include "garbage.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct enumeration;

struct session {
    FWPM_SESSION0 view; /* first: see above */

    /* Writer-owned: membership of the snapshot vector. */
    struct garbage garbage; /* birth version; reclamation link */
    size_t slot;            /* position in the current version */

    HANDLE handle; /* this session's engine handle */

    /* Enumeration handles made through this session, so that closing it can
     * destroy them. closing is set once, under enum_lock. */
    pthread_mutex_t enum_lock;
    struct enumeration *enums;
    bool closing;

    epoch_entry retire;
    size_t bytes; /* size of the whole block */
};

/* Checks a client's FWPM_SESSION0 (NULL allowed) and builds a record from it:
 * strings deep-copied, zero key replaced by a random version-4 GUID, identity
 * filled in. Returns ERROR_SUCCESS, FWP_E_INVALID_FLAGS,
 * FWP_E_INVALID_PARAMETER or ERROR_NOT_ENOUGH_MEMORY. */
DWORD session_create(const FWPM_SESSION0 *requested, struct session **out);

/* Gives a generated key a fresh random value (after a collision). Only for
 * records not yet published. */
void session_regenerate_key(struct session *s);

/* True when the client asked for a generated key. */
bool session_key_is_zero(const GUID *key);

/* Frees a record no reader can reach (never published, or past its grace). */
void session_free(struct session *s);

/* Frees a record after a grace period. */
void session_retire(struct session *s);

/* The epoch callback that frees a record (for batched retiring). */
void session_free_deferred(epoch_entry *entry);

/* In a fork child, by the fork handler alone: the forking thread draws a
 * new seed, so that the child's keys do not repeat the parent's. */
void session_reset_after_fork(void);

static inline struct session *session_of_view(FWPM_SESSION0 *view)
{
    return (struct session *)view; /* the view is the first member */
}

#endif /* FWPM_CORE_SESSION_H */
