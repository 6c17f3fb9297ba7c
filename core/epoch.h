/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoch.h - read-side sections and deferred reclamation (ck_epoch).
 *
 * A thread enters a section before it touches shared engine memory that a
 * writer may unlink (handle objects, sessions through the hash table, version
 * roots) and leaves it before returning to the caller: sections never span
 * API calls, so they never hold up reclamation for long. Long-lived readers
 * (enumeration handles, returned arrays) pin memory with a reference instead.
 *
 * epoch_retire() frees an unlinked object once every section that could have
 * seen it has ended. Any thread may retire, without ever blocking; the
 * callback runs on whichever thread next polls. Callbacks only free memory:
 * they must not retire anything themselves.
 */
#ifndef FWPM_CORE_EPOCH_H
#define FWPM_CORE_EPOCH_H

#include <ck_epoch.h>
#include <stdbool.h>

/* Embed one in an object to retire it; the callback gets it back (reach the
 * object with container_of, container_of.h). */
typedef struct epoch_entry epoch_entry;
typedef void epoch_callback(epoch_entry *entry);
struct epoch_entry {
    ck_epoch_entry_t ck;
    epoch_callback *callback;
    struct epoch_entry *next; /* link while waiting to be queued */
};

/* This thread's epoch record once registered (only this thread touches it). */
extern _Thread_local ck_epoch_record_t *epoch_thread_record;

/* Registers this thread's record; NULL when out of memory. */
ck_epoch_record_t *epoch_register_thread(void);

/* Enters a read-side section; false (and no section) when out of memory. */
static inline bool epoch_enter(ck_epoch_record_t **record)
{
    ck_epoch_record_t *r = epoch_thread_record;
    if (__builtin_expect(r == NULL, 0))
        r = epoch_register_thread();
    if (r == NULL)
        return false;
    ck_epoch_begin(r, NULL);
    *record = r;
    return true;
}

/* Leaves the section entered with epoch_enter. */
void epoch_exit(ck_epoch_record_t *record);

/* Runs callback(entry) after a grace period. Lock-free: never blocks. */
void epoch_retire(epoch_entry *entry, epoch_callback *callback);

/* Entries one owner collects to retire together: one hand-off for many
 * objects (a writer retires a version root on every write). */
struct epoch_batch {
    epoch_entry *first, *last;
    unsigned count;
};

static inline void epoch_batch_add(struct epoch_batch *b, epoch_entry *entry,
                                   epoch_callback *callback)
{
    entry->callback = callback;
    entry->next = b->first;
    if (b->first == NULL)
        b->last = entry;
    b->first = entry;
    b->count++;
}

/* Retires every entry of the batch (as epoch_retire) and empties it. */
void epoch_retire_batch(struct epoch_batch *b);

/* Runs every callback retired before the call, after waiting for a grace
 * period. Blocks; the calling thread must not be inside a section. */
void epoch_reclaim_all(void);

/* In a fork child, by the fork handler alone (the child has one thread): a
 * fresh domain. The parent's threads' records would stay inside their
 * sections for ever, and retire_lock may have been held: both are left
 * behind, with every entry retired in the parent (those objects belong to
 * the abandoned engine, never freed in the child). The calling thread
 * registers a new record on its next section. */
void epoch_reset_after_fork(void);

#endif /* FWPM_CORE_EPOCH_H */
