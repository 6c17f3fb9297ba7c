/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoch.h - read-side sections and deferred reclamation (ck_epoch), with
 * per-thread retirement.
 *
 * A thread enters a section before it touches shared engine memory that a
 * writer may unlink (handle objects, sessions through the hash table, version
 * roots) and leaves it before returning to the caller: sections never span
 * API calls, so they never hold up reclamation for long. Long-lived readers
 * (enumeration handles, returned arrays) pin memory with a reference instead.
 *
 * epoch_retire() frees an unlinked object once every section that could have
 * seen it has ended. Any thread may retire, without ever blocking or taking
 * a lock: the entry goes on the retiring thread's own backlog, and the same
 * thread runs a bounded number of ready callbacks each time it leaves a
 * section (epoch_exit). What a thread leaves behind when it goes idle or
 * exits is freed by a library-owned background reclaimer (see epoch.c).
 * Callbacks only free memory: they must not retire anything themselves.
 */
#ifndef FWPM_CORE_EPOCH_H
#define FWPM_CORE_EPOCH_H

#include <ck_epoch.h>
#include <stdbool.h>

/* Embed one in an object to retire it; the callback gets it back (reach the
 * object with container_of, container_of.h). Only the backlog that holds the
 * entry touches its fields. */
typedef struct epoch_entry epoch_entry;
typedef void epoch_callback(epoch_entry *entry);
struct epoch_entry {
    epoch_callback *callback;
    struct epoch_entry *next; /* link in a batch or backlog */
    unsigned tag;             /* global epoch read after the object was unlinked */
};

/* This thread's epoch record once registered (only this thread touches it). */
extern _Thread_local ck_epoch_record_t *epoch_thread_record;

/* Registers this thread's record; NULL when out of memory. */
ck_epoch_record_t *epoch_register_thread(void);

/* This thread's record, registered on first use; NULL when out of memory. */
static inline ck_epoch_record_t *epoch_record_of_thread(void)
{
    ck_epoch_record_t *r = epoch_thread_record;
    if (__builtin_expect(r == NULL, 0))
        r = epoch_register_thread();
    return r;
}

/* Enters a read-side section; false (and no section) when out of memory. */
static inline bool epoch_enter(ck_epoch_record_t **record)
{
    ck_epoch_record_t *r = epoch_record_of_thread();
    if (r == NULL)
        return false;
    ck_epoch_begin(r, NULL);
    *record = r;
    return true;
}

/* Leaves the section entered with epoch_enter, after running at most
 * EPOCH_RUN_MAX of this thread's ready callbacks. Takes no lock. */
void epoch_exit(ck_epoch_record_t *record);

/* Leaves the section entered with epoch_enter and nothing more: for a call
 * that goes on to work outside any section and ends with epoch_work_share
 * (a close, which waits for its write). */
void epoch_leave(ck_epoch_record_t *record);

/* What epoch_exit does after leaving the section, for a call that retired
 * outside one (an open, a close): runs up to the budget of this thread's
 * ready callbacks and advances the epoch at its pace. Call outside any
 * section. Takes no lock. */
void epoch_work_share(void);

/* Runs callback(entry) after a grace period. Lock-free: never blocks. */
void epoch_retire(epoch_entry *entry, epoch_callback *callback);

/* Entries one owner collects to retire together: one hand-off for many
 * objects (every write retires a version root, or its share of a list of
 * them). Also the list type of every backlog (first is the oldest to run). */
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

/* Runs every callback retired before the call by this thread, by threads
 * that have exited and by threads that are not inside a call, after waiting
 * for a grace period. Blocks; the calling thread must not be inside a
 * section. (fwpm_reclaim: the one call that may pay for others in bulk.) */
void epoch_reclaim_all(void);

/* In a fork child, by the fork handler alone (process.c; the child has one
 * thread): the parent's other threads' records are marked inactive, so that
 * no grace period waits for them, their thread records become reusable, backlogs torn
 * mid-edit are forgotten (leaked, never run twice), and the reclaimer is
 * marked unstarted (the child's first garbage starts one). Never waits. */
void epoch_reset_after_fork(void);

/* Sets what the background reclaimer calls once every backlog it knows of
 * is empty, before it sleeps: the owner of other caches of garbage (the
 * engine's writer) gives them back there. The hook may wait for locks and
 * retire; it runs on the reclaimer thread only, once per wake-up. */
void epoch_set_idle_hook(void (*hook)(void));

/* ---- bounds and observation (tests and fwpm-stress read these) ---------- */

/* Callbacks one epoch_exit runs at least (when that many are ready), and at
 * most however large the thread's backlog is. Between the two the count
 * grows with the backlog (EPOCH_RUN_BASE + ready / EPOCH_RUN_SHARE). */
#define EPOCH_RUN_BASE 16u
#define EPOCH_RUN_SHARE 4u
#define EPOCH_RUN_MAX 256u

/* Backpressure on producers (epoch.c, backlog_stalled): a call that retired
 * yields when its thread's backlog is past EPOCH_BACKLOG_SOFT and grew by as
 * many again while the global epoch stood still; at most EPOCH_YIELDS_MAX
 * yields per call. */
#define EPOCH_BACKLOG_SOFT 32u
#define EPOCH_YIELDS_MAX 8u

/* Times a producer gave its core away because its backlog stalled (a reader
 * seemed to be off the CPU inside a section), since the process started. */
unsigned long epoch_throttle_yields(void);

/* Exits between one thread's polls (each a scan of every thread record ever
 * registered) while it has waiting entries: EPOCH_POLL_EXITS, or one per
 * record once more records than that exist, up to EPOCH_POLL_EXITS_MAX. */
#define EPOCH_POLL_EXITS 8u
#define EPOCH_POLL_EXITS_MAX 256u

/* Epoch advances that threads ending calls made at that pace, since the
 * process started (throttle and reclaimer polls are not counted). */
unsigned long epoch_paced_polls(void);

/* Polls the epoch once from the calling thread, which must be outside any
 * section, and returns the global epoch after the poll. The epoch moves on
 * only once every thread inside a section has seen its current value, so
 * it cannot move twice while one thread stays in one section. */
unsigned epoch_poll_for_test(void);

/* The most callbacks any one epoch_exit or epoch_retire has run. */
unsigned epoch_max_run_per_call(void);

/* Entries retired and not yet run, over every backlog (approximate while
 * threads run; exact once they are all idle). */
unsigned long epoch_pending(void);

/* True when the background reclaimer is not running or sleeps with nothing
 * held anywhere (its idle hook has run): the library's memory changes no
 * more until a thread calls in. A moment's view, for tests. */
bool epoch_reclaimer_resting(void);

#endif /* FWPM_CORE_EPOCH_H */
