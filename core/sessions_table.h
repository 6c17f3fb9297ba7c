/*
 * sessions_table.h - the open sessions, by GUID key: a chained hash table
 * whose links live in the session records.
 *
 * Only the writer (under the engine's writer lock) touches it: it is the
 * index that finds duplicate keys on open. Readers never look sessions up
 * by key (handles and snapshots serve them), so the table needs no
 * concurrent-reader machinery: no tombstones (churn never makes it rebuild),
 * no deferred frees. The load factor stays at most 1 (the bucket array
 * doubles past it), so a grown table costs 8 to 16 bytes per session; an
 * emptied table goes back to its initial size.
 */
#ifndef FWPM_CORE_SESSIONS_TABLE_H
#define FWPM_CORE_SESSIONS_TABLE_H

#include "session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sessions_table {
    struct session **buckets; /* chains linked by session->key_next */
    size_t mask;              /* bucket count - 1 (a power of 2) */
    size_t count;
    uint64_t seed;
    uint64_t resizes; /* bucket arrays replaced, for tests */
};

/* false when out of memory. */
bool sessions_table_init(struct sessions_table *t);

/* Frees the bucket array (the sessions are the caller's). */
void sessions_table_destroy(struct sessions_table *t);

/* The open session with this key, or NULL. Writer only. */
struct session *sessions_table_find(struct sessions_table *t, const GUID *key);

/* Adds s. Writer only; false, with the table unchanged, when its key is
 * present. Never fails otherwise (a table that cannot grow gets fuller). */
bool sessions_table_insert(struct sessions_table *t, struct session *s);

/* Removes s, which must be in the table. Writer only; O(1) expected. */
void sessions_table_remove(struct sessions_table *t, struct session *s);

/* Gives a grown bucket array back if the table is empty (a failed attempt at
 * the last remove is retried here). Writer only. */
void sessions_table_shrink_if_empty(struct sessions_table *t);

#endif /* FWPM_CORE_SESSIONS_TABLE_H */
