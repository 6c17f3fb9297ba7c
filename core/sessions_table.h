/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sessions_table.h - the open sessions, by GUID key (a ck_hs hash set).
 *
 * The set stores session pointers and hashes the 16-byte key at their start,
 * so a pointer to a bare GUID works as a lookup key. A probe reads the key of
 * a live entry it passes only when 16 bits of their hashes agree (the
 * entries carry them: sessions_table.c). One writer at a time
 * (the engine's writer lock) may insert or remove; any number of readers may
 * look up concurrently from inside an epoch section. Memory the set drops
 * while readers may still probe it is freed after a grace period.
 */
#ifndef FWPM_CORE_SESSIONS_TABLE_H
#define FWPM_CORE_SESSIONS_TABLE_H

#include "session.h"

#include <ck_hs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sessions_table {
    ck_hs_t set;
    bool grown; /* writer-only: the map may be larger than its initial size */
    /* Writer-only: the most entries since the map was last made fresh (its
     * capacity is at most 4 times that, or the initial size), and removals
     * since it was last built (an upper bound on its tombstones). */
    size_t peak_entries;
    size_t removals;
    uint64_t rebuilds; /* writer-only: maps rebuilt, for tests */
};

/* false when out of memory. */
bool sessions_table_init(struct sessions_table *t);

/* The open session with this key, or NULL. Writer, or reader in a section. */
struct session *sessions_table_find(struct sessions_table *t, const GUID *key);

/* Adds s. Writer only; false, with the table unchanged, when its key is
 * present or when out of memory. */
bool sessions_table_insert(struct sessions_table *t, struct session *s);

/* Removes s. Writer only. */
void sessions_table_remove(struct sessions_table *t, struct session *s);

/* Gives a grown map back if the table is empty (a failed attempt at the last
 * remove is retried here). Writer only. */
void sessions_table_shrink_if_empty(struct sessions_table *t);

#endif /* FWPM_CORE_SESSIONS_TABLE_H */
