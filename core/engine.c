/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine.c - the writer side: opening and closing sessions, combined into
 * batches under the writer lock, and the reclamation that readers hand over
 * to it.
 *
 * Reclamation hand-off: a reader that drops the last reference of a
 * superseded version never takes the writer lock (a reader preempted while
 * holding it would make writers wait for it). It raises reclaim_pending; the
 * writer lock's next holder sees the flag as it unlocks and unlinks what the
 * version alone kept (writer_unlock), and so does the reclaimer once the
 * threads go idle (engine_release_cached_idle). Until then the version's objects stay allocated:
 * what the writes before it dropped, no more.
 *
 * Why nothing is lost: the holder clears the flag, then scans the reference
 * counts. A release whose last reference the scan missed raises the flag
 * after its decrement; the clear is an acquire exchange and the raise a
 * release store, so if the clear read that raise, the decrement happens
 * before the scan, and the scan does not miss it. Otherwise the raise comes
 * after the clear and stays up for the next check. The unlock's check is
 * relaxed: a raise it misses waits for the next unlock or the idle reclaim.
 */
#include "engine.h"

#include "enumeration.h"
#include "epoch.h"
#include "handles.h"
#include "memory.h"
#include "page_arena.h"
#include "process.h"
#include "sanitizer.h"
#include "sessions_table.h"
#include "trace.h"
#include "writer_lock.h"

#include <pthread.h>
#include <stdatomic.h>

static struct engine {
    /* Spun on, never slept on (writer_lock.h): critical sections are short
     * (one combined batch; they allocate only when the sessions table grows
     * or an edit's estimate of its chunks fell short, and free nothing). */
    struct writer_lock writer_lock;
    struct sessions_table sessions;
    struct version_store versions;
    /* Writer-owned (under the writer lock): what the batches held, for
     * tests. Beside the store's writer-owned fields, which every batch
     * writes too: no cache line of its own to fetch from the last
     * combiner's core. */
    struct engine_batch_stats batch_stats;
} engine;

static void engine_release_cached_idle(void);

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
/* Held for the whole of a release of the writer's caches (the idle hook's,
 * on the reclaimer thread) and of an engine_reclaim: a reclaim then never
 * returns while the hook still frees what it took, or retires what the
 * reclaim's grace period did not cover, so its figures are exact. Taken
 * before the writer lock, never while holding it. */
static pthread_mutex_t release_lock = PTHREAD_MUTEX_INITIALIZER;

/* Open sessions as of the latest publication (for the tracepoints). */
static uint64_t engine_open_sessions(void)
{
    uint64_t open_sessions, live_versions;
    version_store_stats(&engine.versions, &open_sessions, &live_versions);
    return open_sessions;
}

_Atomic bool engine_initialized;
static _Atomic bool reclaim_pending;

bool engine_initialize(void)
{
    process_watch_forks(); /* before any lock of ours can be held */
    pthread_mutex_lock(&init_lock);
    bool ok = atomic_load_explicit(&engine_initialized, memory_order_relaxed);
    if (!ok)
        page_arena_reserve(); /* returned arrays' range: address space, taken early */
    if (!ok && version_store_init(&engine.versions)) {
        ok = sessions_table_init(&engine.sessions);
        if (ok) {
            /* Allocate the first handle segment now, so that the memory
             * baseline taken after start-up already includes it. */
            HANDLE h = handles_reserve(HANDLE_KIND_ENGINE);
            if (h != NULL)
                handles_cancel(h);
            /* Once threads go idle, the reclaimer gives the writer's caches
             * back too: memory returns to its baseline without fwpm_reclaim. */
            epoch_set_idle_hook(engine_release_cached_idle);
            /* Release: the store, the table and the first handle segment are
             * set up before a thread that sees true uses them (pairs with the
             * acquire in engine_ready). */
            atomic_store_explicit(&engine_initialized, true, memory_order_release);
        } else {
            /* Only the empty version was made: give it back. */
            version_store_destroy_unused(&engine.versions);
        }
    }
    pthread_mutex_unlock(&init_lock);
    return ok;
}

/* Under the writer lock, before scanning the retained versions: a release
 * during the scan raises the flag again. Acquire: pairs with the release
 * store in mark_reclaim_pending (see the top of this file). */
static void reclaim_pending_clear(void)
{
    (void)atomic_exchange_explicit(&reclaim_pending, false, memory_order_acquire);
}

static void writer_lock(void)
{
    writer_lock_acquire(&engine.writer_lock);
}

/* Lets the writer lock go, after unlinking what released versions no longer
 * need if a reader raised the flag; the frees come after the unlock. */
static void writer_unlock(void)
{
    struct version *dead = NULL;
    /* Relaxed: a hint (see the top of this file); the exchange in
     * reclaim_pending_clear orders the scan. */
    if (atomic_load_explicit(&reclaim_pending, memory_order_relaxed)) {
        reclaim_pending_clear();
        dead = version_store_reclaim(&engine.versions);
    }
    writer_lock_release(&engine.writer_lock);
    if (dead != NULL)
        version_free_reclaimed(dead);
}

struct version *engine_snapshot_acquire(void)
{
    return version_acquire_current(&engine.versions);
}

/* After the last reference of a superseded version went. */
static void mark_reclaim_pending(void)
{
    /* Release: pairs with the acquire exchange in reclaim_pending_clear (our
     * decrement happens before the scan of a clearer that reads this). */
    atomic_store_explicit(&reclaim_pending, true, memory_order_release);
}

void engine_snapshot_release(struct version *v)
{
    if (version_release(v))
        mark_reclaim_pending();
}

struct session *engine_session_of(HANDLE engine_handle)
{
    return handles_lookup(engine_handle, HANDLE_KIND_ENGINE);
}

/* Under the writer lock: adds s to the table. The insert itself finds a
 * clash (one probe sequence, not a lookup and then an insert); a generated key
 * that clashes is drawn again. */
static DWORD insert_with_unique_key(struct session *s, bool generated)
{
    for (;;) {
        if (sessions_table_insert(&engine.sessions, s))
            return ERROR_SUCCESS;
        if (sessions_table_find(&engine.sessions, &s->view.sessionKey) == NULL)
            return ERROR_NOT_ENOUGH_MEMORY; /* the table could not grow */
        if (!generated)
            return FWP_E_ALREADY_EXISTS;
        session_regenerate_key(s); /* a 122-bit collision: draw again */
    }
}

/* ---- combined writes --------------------------------------------------------
 * A writer prepares its edit (all the allocation, no lock). If the writer
 * lock is free it takes it and applies its own request, unless another
 * thread combined last and this thread's back-off allows a deferral (then it
 * posts and defers to that thread for a while: last_combiner); otherwise it
 * posts the request on the pending stack. Whoever holds the writer lock
 * applies every posted request to ONE edit and publishes it as one version
 * (flat combining). Under contention one lock hand-off and one publication
 * serve a whole batch; a writer alone touches neither the stack nor
 * anybody's flag, once it has combined one batch.
 *
 * Every change of a batch takes effect at its one publication, which lies
 * inside each of the batched calls (posted before, done after): every
 * version is still the exact set at one instant. Each request is applied
 * exactly once: a posted one leaves the stack by one exchange, under the
 * lock; an unposted one is only ever seen by its own writer.
 *
 * A request lives on its writer's stack. The writer owns it until it is
 * posted and again once `done` is set; in between only the lock's holder
 * touches it, and never after setting `done`. */

enum write_kind {
    WRITE_OPEN,
    WRITE_CLOSE,
};

struct write_request {
    struct write_request *next; /* pending stack link, then batch order */
    enum write_kind kind;
    bool generated;            /* open: the key was drawn by us */
    struct session *session;   /* the session opened or closed */
    HANDLE handle;             /* close: the engine handle to invalidate */
    struct version_edit *edit; /* prepared by the writer: chunks, a version */
    DWORD status;              /* set by the combiner before done */
    _Atomic bool done;
};

/* Posted requests, newest first. */
static _Atomic(struct write_request *) pending_writes;

/* Names the calling thread to last_combiner: the address of its own byte of
 * thread-local storage (no registration needed, unlike an epoch record; a
 * thread that reuses an exited one's storage inherits its name, which only
 * makes the hint wrong once). */
static _Thread_local char thread_name_byte;

/* As an integer: it is compared after its thread may have exited. */
static inline uintptr_t this_thread(void)
{
    return (uintptr_t)&thread_name_byte;
}

/* The thread that combined the last batch (this_thread of it), or 0. A
 * writer on another thread that finds the lock free does not take it at
 * once (unless its back-off says skip): it posts its request and defers to
 * that thread's next write for COMBINE_DEFER_ROUNDS wait rounds, and only
 * then takes the lock itself. While several threads write, the writer's
 * state (the store, the current version, the chunk pool, the sessions
 * table) then stays in one core's cache instead of moving to each writer in
 * turn (fwpm-bench open_close at 2 threads, interleaved runs: 765 -> 917 k/s
 * on a 2-core Intel VM; level on a 2-core AMD VM whose system calls cost
 * ~1 us, where each writer's next write comes later). A deferral is in vain
 * when the last combiner does not write again meanwhile (threads that write
 * in turn, a preempted or idle combiner): each thread then backs off on its
 * own (deferral_skip). Written by the lock's holder (combine) and the fork
 * handler only; read without the lock, as a hint: nothing is reached
 * through it. */
static _Atomic uintptr_t last_combiner;

/* Wait rounds (writer_lock_wait) of a deferral: all pause rounds, so a
 * deferring writer never sleeps while the lock is free; 128 pauses are 0.5
 * to 7 us on x86 by CPU (elsewhere a pause round is empty). */
#define COMBINE_DEFER_ROUNDS 128u
_Static_assert(COMBINE_DEFER_ROUNDS <= WRITER_LOCK_SPINS,
               "a deferral must stay in the pause rounds (no yield, no sleep)");

/* This thread's deferrals: after one in vain, the next deferral_skip writes
 * that would defer take a free lock at once instead; the skip doubles with
 * each deferral in vain, up to DEFERRAL_SKIP_MAX, and a deferral that ends
 * with the request applied starts it over. Two threads writing strictly in
 * turn then defer about log2(DEFERRAL_SKIP_MAX) + turns / DEFERRAL_SKIP_MAX
 * times each, not at every turn (a turn's first write is the one that finds
 * the other thread last): fwpm-bench open_close_in_turn is no slower than
 * with no deferral at all. Thread-local: no shared line is written. */
#define DEFERRAL_SKIP_MAX 64u
static _Thread_local unsigned deferral_skip, deferral_backoff;

/* Whether a writer that found the last combiner to be another thread defers
 * to it now (or skips, after deferrals in vain). */
static inline bool deferral_begins(void)
{
    if (deferral_skip == 0)
        return true;
    deferral_skip--;
    return false;
}

/* A deferral ended: fruitful when the request was applied meanwhile. */
static inline void deferral_ends(bool fruitful)
{
    if (fruitful) {
        deferral_backoff = 0;
        return;
    }
    deferral_backoff = deferral_backoff == 0 ? 1u : 2u * deferral_backoff;
    if (deferral_backoff > DEFERRAL_SKIP_MAX)
        deferral_backoff = DEFERRAL_SKIP_MAX;
    deferral_skip = deferral_backoff;
}

static void write_post(struct write_request *r)
{
    struct write_request *head = atomic_load_explicit(&pending_writes, memory_order_relaxed);
    do {
        r->next = head;
        /* Release: the request's fields are written before a combiner takes it
         * (pairs with the acquire exchange in writes_take_pending). */
    } while (!atomic_compare_exchange_weak_explicit(&pending_writes, &head, r, memory_order_release,
                                                    memory_order_relaxed));
}

/* Under the writer lock: every posted request, oldest first. */
static struct write_request *writes_take_pending(void)
{
    /* Acquire: pairs with the release CAS in write_post. */
    struct write_request *list =
        atomic_exchange_explicit(&pending_writes, NULL, memory_order_acquire);
    struct write_request *oldest_first = NULL;
    while (list != NULL) {
        struct write_request *r = list;
        list = r->next;
        r->next = oldest_first;
        oldest_first = r;
    }
    return oldest_first;
}

/* Under the writer lock: applies one request to the batch's edit; true when
 * it changed the set. */
static bool write_apply(struct version_edit *batch, struct write_request *r)
{
    bool adding = r->kind == WRITE_OPEN;
    /* Chunks first, so that a failure changes nothing. */
    if (!version_edit_reserve(batch, r->edit, adding)) {
        r->status = ERROR_NOT_ENOUGH_MEMORY;
        return false;
    }
    if (adding) {
        r->status = insert_with_unique_key(r->session, r->generated);
        if (r->status != ERROR_SUCCESS)
            return false;
        version_edit_append(batch, r->session);
        return true;
    }
    /* The race between closes is decided here, before the session is
     * touched: the handle names it until one close invalidates the handle,
     * and until that close's batch is published the session is in the
     * current version, so it is alive (the closing thread holds no section).
     * The pin keeps it for the closing thread after the publication. The
     * winner gives the slot back after the batch (engine_close_session), off
     * the lock. */
    if (!handles_invalidate(r->handle, HANDLE_KIND_ENGINE)) {
        r->status = ERROR_INVALID_HANDLE; /* a racing close got there first */
        return false;
    }
    session_pin_for_close(r->session);
    sessions_table_remove(&engine.sessions, r->session);
    version_edit_remove(batch, r->session);
    r->status = ERROR_SUCCESS;
    return true;
}

/* Under the writer lock: applies the requests of list to the batch's edit
 * (begun, or not when begin failed); *count grows by their number. Returns
 * true when one of them changed the set. */
static bool write_apply_all(struct version_edit *batch, bool begun, struct write_request *list,
                            unsigned *count)
{
    bool changed = false;
    for (struct write_request *r = list; r != NULL; r = r->next) {
        if (begun)
            changed |= write_apply(batch, r);
        else
            r->status = ERROR_NOT_ENOUGH_MEMORY; /* no version root: nothing changes */
        ++*count;
    }
    return changed;
}

/* Under the writer lock: true when some request waits on the stack. */
static bool writes_are_pending(void)
{
    /* Relaxed: a hint; writes_take_pending's exchange takes what is there. */
    return atomic_load_explicit(&pending_writes, memory_order_relaxed) != NULL;
}

/* Under the writer lock: one more batch of count requests. */
static void batch_stats_add(unsigned count)
{
    struct engine_batch_stats *stats = &engine.batch_stats;
    stats->batches++;
    stats->requests += count;
    if (count > stats->largest)
        stats->largest = count;
}

/* Under the writer lock: applies the requests of list (oldest first; taken
 * off the stack, or a lone writer's own) as one version, and those posted
 * meanwhile too, up to ENGINE_COMBINE_BATCH_MAX: one publication for all of
 * them, while the waiters spin on their done flags (the writer's data stays
 * in one core's cache). The batch is built in the first request's edit,
 * which its writer finishes. */
static void combine(struct write_request *list)
{
    if (list == NULL)
        return;
    struct version_edit *batch = list->edit;
    bool begun = version_edit_begin(batch);
    unsigned count = 0;
    bool changed = write_apply_all(batch, begun, list, &count);
    struct write_request *last = list;
    /* Never waits for company: a combiner that lingered for the next post
     * (tried up to 1 us) cost 1.5x in wall time per write at 2 and 4 writer
     * threads on 2 cores; the writers it waited for were preparing their
     * next edits, which runs beside this batch anyway. */
    while (count < ENGINE_COMBINE_BATCH_MAX && writes_are_pending()) {
        while (last->next != NULL)
            last = last->next;
        last->next = writes_take_pending();
        changed |= write_apply_all(batch, begun, last->next, &count);
    }
    batch_stats_add(count);
    /* Relaxed (both): a hint (last_combiner); stored only when it changes,
     * so that a stable combiner does not take the line from its readers. */
    if (atomic_load_explicit(&last_combiner, memory_order_relaxed) != this_thread())
        atomic_store_explicit(&last_combiner, this_thread(), memory_order_relaxed);
    if (changed)
        version_edit_publish(batch); /* the instant of every change in the batch */
    while (list != NULL) {
        struct write_request *r = list;
        list = r->next; /* read before done: r is its writer's again after */
        /* Release: the status, and the published version, are seen by the
         * writer (pairs with the acquire in write_is_done). */
        atomic_store_explicit(&r->done, true, memory_order_release);
    }
}

static bool write_is_done(struct write_request *r)
{
    /* Acquire: pairs with the release in combine. */
    return atomic_load_explicit(&r->done, memory_order_acquire);
}

/* Returns once some writer (maybe this one) has applied r. A free lock is
 * taken at once unless another thread combined last: then r is posted and
 * the writer defers to that thread first (last_combiner). While it spins, it
 * only reads: its done flag, and the lock word until it reads free; a long
 * wait sleeps until a release (writer_lock.h). */
static DWORD write_and_wait(struct write_request *r)
{
    atomic_init(&r->done, false);
    /* Relaxed: a hint (last_combiner); the lock decides who combines. */
    uintptr_t combiner = atomic_load_explicit(&last_combiner, memory_order_relaxed);
    bool defer = combiner != 0 && combiner != this_thread() && deferral_begins();
    if (!defer && writer_lock_try(&engine.writer_lock)) {
        /* No need to post: our request heads the batch; the requests posted
         * meanwhile join it. */
        r->next = NULL;
        combine(r);
        writer_unlock();
        return r->status;
    }
    write_post(r);
    for (unsigned round = 0;; round++) {
        if (write_is_done(r)) {
            if (defer)
                deferral_ends(true);
            return r->status;
        }
        if ((!defer || round >= COMBINE_DEFER_ROUNDS) && writer_lock_try(&engine.writer_lock))
            break;
        writer_lock_wait(&engine.writer_lock, round, &r->done);
    }
    if (defer) {
        /* Only lock holders set done, so under the lock it is final: a holder
         * may have applied r between our last check and our taking the lock. */
        bool applied = write_is_done(r);
        deferral_ends(applied);
        if (!applied)
            engine.batch_stats.deferred_takeovers++; /* under the lock */
    }
    /* Our request was posted before we took the lock: this round applies it,
     * unless an earlier holder already has. */
    combine(writes_take_pending());
    writer_unlock();
    return r->status;
}

/* Prepares the edit of one write, before any lock. When memory is short and
 * released snapshots left objects to free (readers leave that to writers),
 * frees them first and tries once more. */
static bool edit_prepare(struct version_edit *edit, bool adding)
{
    if (version_edit_prepare(&engine.versions, edit, adding))
        return true;
    /* Relaxed: a hint; writer_unlock's exchange orders the scan. */
    if (!atomic_load_explicit(&reclaim_pending, memory_order_relaxed))
        return false;
    writer_lock();
    writer_unlock(); /* unlinks what released versions kept; frees it */
    return version_edit_prepare(&engine.versions, edit, adding);
}

DWORD engine_open_session(const FWPM_SESSION0 *requested, const struct identity *who,
                          HANDLE *engine_handle)
{
    bool generated = requested == NULL || session_key_is_zero(&requested->sessionKey);
    struct session *s;
    DWORD status = session_create(requested, who, &s);
    if (status != ERROR_SUCCESS)
        return status;
    HANDLE h = handles_reserve(HANDLE_KIND_ENGINE);
    struct version_edit edit;
    if (h == NULL || !edit_prepare(&edit, true)) {
        if (h != NULL)
            handles_cancel(h);
        session_free(s);
        return ERROR_NOT_ENOUGH_MEMORY;
    }

    struct write_request r = {
        .kind = WRITE_OPEN, .generated = generated, .session = s, .handle = h, .edit = &edit};
    status = write_and_wait(&r); /* the session is open from its batch's publication */
    version_edit_finish(&edit);

    if (status != ERROR_SUCCESS) {
        handles_cancel(h);
        session_free(s);
        return status;
    }
    handles_publish(h, s);
    *engine_handle = h;
    if (trace_session_count_enabled())
        trace_session_opened(s->view.processId, engine_open_sessions());
    return ERROR_SUCCESS;
}

DWORD engine_close_session(HANDLE engine_handle, struct session *s)
{
    session_prefetch_for_close(s);
    struct version_edit edit;
    /* Allocate first, so that a failure changes nothing. */
    if (!edit_prepare(&edit, false))
        return ERROR_NOT_ENOUGH_MEMORY;
    struct write_request r = {
        .kind = WRITE_CLOSE, .session = s, .handle = engine_handle, .edit = &edit};
    DWORD status = write_and_wait(&r); /* closed from its batch's publication */
    version_edit_finish(&edit);
    if (status != ERROR_SUCCESS)
        return status; /* s was not touched: it may be gone */
    /* Our write won: s is pinned for us (write_apply). */
    handles_release(engine_handle);
    enumeration_destroy_all(s);
    if (trace_session_count_enabled())
        trace_session_closed(s->view.processId, engine_open_sessions());
    session_unpin_after_close(s);
    return ERROR_SUCCESS;
}

void engine_hold_writers_for_test(void)
{
    writer_lock();
}

void engine_release_writers_for_test(void)
{
    writer_unlock();
}

unsigned engine_pending_writes_for_test(void)
{
    unsigned n = 0;
    /* Acquire: pairs with the release CAS in write_post; nothing leaves the stack while
     * the caller holds the writer lock. */
    for (struct write_request *r = atomic_load_explicit(&pending_writes, memory_order_acquire);
         r != NULL; r = r->next)
        n++;
    return n;
}

void engine_batch_stats_for_test(struct engine_batch_stats *out)
{
    writer_lock();
    *out = engine.batch_stats;
    writer_unlock();
}

uint64_t engine_version_for_test(void)
{
    return version_store_current_number(&engine.versions);
}

void engine_reset_after_fork(void)
{
    writer_lock_reset(&engine.writer_lock);
    version_store_reset_after_fork();
    pthread_mutex_init(&init_lock, NULL);
    pthread_mutex_init(&release_lock, NULL); /* the parent's reclaimer may have held it */
    atomic_store_explicit(&reclaim_pending, false, memory_order_relaxed);
    /* Requests the parent's other threads had posted belong to threads the
     * child does not have: nobody waits for them, nobody may apply them. */
    atomic_store_explicit(&pending_writes, NULL, memory_order_relaxed);
    /* Relaxed: as the stores above. The child's one thread combines next. */
    atomic_store_explicit(&last_combiner, this_thread(), memory_order_relaxed);
    /* Relaxed: the child has one thread; threads it starts later are
     * ordered after this by their creation. */
    atomic_store_explicit(&engine_initialized, false, memory_order_relaxed);
}

void engine_memory_stats(FWPM_MEMORY_STATS0 *stats)
{
    struct memory_totals totals;
    memory_totals(&totals);
    stats->liveBytes = totals.data_bytes > 0 ? (UINT64)totals.data_bytes : 0;
    stats->liveAllocations = totals.data_blocks > 0 ? (UINT64)totals.data_blocks : 0;
    stats->infrastructureBytes =
        totals.infrastructure_bytes > 0 ? (UINT64)totals.infrastructure_bytes : 0;
    uint64_t open_sessions, live_versions;
    version_store_stats(&engine.versions, &open_sessions, &live_versions);
    stats->openSessions = open_sessions;
    stats->liveSnapshots = live_versions; /* versions some snapshot or the store holds */
}

/* Frees the recycled version roots kept for the next writes. */
static void engine_free_cached_versions(void)
{
    writer_lock();
    struct version *recycled = version_store_take_recycled(&engine.versions);
    writer_unlock();
    version_free_recycled(recycled);
}

/* Gives back what the writer keeps for its next write: versions whose last
 * reference went lazily, the partial retire batch, the pooled chunks, an
 * empty table's extra capacity, recycled version roots. Under release_lock;
 * waits for the writer lock (for its short holds). */
static void engine_release_cached(void)
{
    writer_lock();
    reclaim_pending_clear();
    struct version_store_cache cache;
    version_store_take_cache(&engine.versions, &cache);
    sessions_table_shrink_if_empty(&engine.sessions);
    writer_unlock();
    version_store_free_cache(&cache);
    /* Roots recycled by earlier grace periods; when this runs as the idle
     * hook, the reclaimer calls it again once what it retired has run. */
    engine_free_cached_versions();
}

/* The idle hook: the reclaimer thread runs it once the threads go idle. It
 * does not purge the arena: the hook runs at every lull of a busy process,
 * and a purge there would undo jemalloc's decay after every burst. (The
 * reclaimer keeps no jemalloc cache to flush: memory_thread_cache_off.) */
static void engine_release_cached_idle(void)
{
    pthread_mutex_lock(&release_lock);
    engine_release_cached();
    pthread_mutex_unlock(&release_lock);
}

void engine_reclaim(void)
{
    pthread_mutex_lock(&release_lock);
    engine_release_cached();
    epoch_reclaim_all();
    /* Last: the grace periods just ended recycled version roots. */
    engine_free_cached_versions();
    pthread_mutex_unlock(&release_lock);
    memory_release_unused(); /* the pages all that freeing emptied */
}
