/*
 * engine.c - the writer side: opening and closing sessions under the writer
 * lock, and the reclamation that readers hand over to it.
 *
 * Reclamation hand-off: a reader that drops the last reference of a
 * superseded version must not wait for the writer lock. It raises
 * reclaim_pending and tries the lock; if somebody holds it, that holder sees
 * the flag right after unlocking and does the work (writer_unlock).
 */
#include "engine.h"

#include "epoch.h"
#include "handles.h"
#include "memory.h"
#include "page_arena.h"
#include "sanitizer.h"
#include "sessions_table.h"

#include <pthread.h>
#include <stdatomic.h>

static struct engine {
    pthread_mutex_t writer_lock;
    struct sessions_table sessions;
    struct snapshot_store versions;
} engine = {
    /* Adaptive: a writer spins briefly before sleeping. Critical sections are
     * short (no allocation, no free), and a futex round trip costs more than
     * waiting one out. */
    .writer_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic bool engine_initialized;
static _Atomic bool reclaim_pending;

bool engine_initialize(void)
{
    pthread_mutex_lock(&init_lock);
    bool ok = atomic_load_explicit(&engine_initialized, memory_order_relaxed);
    if (!ok)
        page_arena_reserve(); /* returned arrays' range: address space, taken early */
    if (!ok && snapshot_store_init(&engine.versions)) {
        ok = sessions_table_init(&engine.sessions);
        if (ok) {
            /* Allocate the first handle segment now, so that the memory
             * baseline taken after start-up already includes it. */
            HANDLE h = handles_reserve(HANDLE_KIND_ENGINE);
            if (h != NULL)
                handles_cancel(h);
            atomic_store_explicit(&engine_initialized, true, memory_order_release);
        } else {
            /* Only the empty version was made: give it back. */
            struct snapshot *empty =
                atomic_load_explicit(&engine.versions.current, memory_order_relaxed);
            memory_free(empty, sizeof(*empty), MEMORY_DATA);
        }
    }
    pthread_mutex_unlock(&init_lock);
    return ok;
}

/* Runs pending reclamation if the writer lock is free (never waits for it).
 * Only the unlinking happens under the lock; the frees come after. */
static void reclaim_if_pending(void)
{
    for (;;) {
        if (!atomic_load_explicit(&reclaim_pending, memory_order_seq_cst))
            return;
        if (pthread_mutex_trylock(&engine.writer_lock) != 0)
            return; /* the holder sees the flag after it unlocks */
        /* Clear before scanning: a release during the scan raises it again. */
        atomic_store_explicit(&reclaim_pending, false, memory_order_seq_cst);
        struct snapshot *dead = snapshot_reclaim(&engine.versions);
        pthread_mutex_unlock(&engine.writer_lock);
        /* Pairs with the fence in engine_snapshot_release, as in writer_unlock. */
        full_fence();
        snapshot_free_reclaimed(&engine.versions, dead);
    }
}

static void writer_lock(void)
{
    pthread_mutex_lock(&engine.writer_lock);
}

static void writer_unlock(void)
{
    pthread_mutex_unlock(&engine.writer_lock);
    /* Pairs with the fence in engine_snapshot_release: either that reader's
     * trylock succeeds, or we see its flag here. */
    full_fence();
    reclaim_if_pending();
}

struct snapshot *engine_snapshot_acquire(void)
{
    return snapshot_acquire(&engine.versions);
}

/* After the last reference of a superseded version went. */
static void mark_reclaim_pending(void)
{
    atomic_store_explicit(&reclaim_pending, true, memory_order_seq_cst);
    full_fence();
}

void engine_snapshot_release(struct snapshot *s)
{
    if (!snapshot_release(s))
        return;
    mark_reclaim_pending();
    reclaim_if_pending();
}

void engine_snapshot_release_lazily(struct snapshot *s)
{
    if (snapshot_release(s))
        mark_reclaim_pending();
}

struct session *engine_session_of(HANDLE engine_handle)
{
    return handles_lookup(engine_handle, HANDLE_KIND_ENGINE);
}

/* Under the writer lock: adds s to the table. The insert itself finds a
 * clash (one probe sequence, not a lookup and then an insert); a generated
 * key that clashes is drawn again. */
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

DWORD engine_open_session(const FWPM_SESSION0 *requested, HANDLE *engine_handle)
{
    bool generated = requested == NULL || session_key_is_zero(&requested->sessionKey);
    struct session *s;
    DWORD status = session_create(requested, &s);
    if (status != ERROR_SUCCESS)
        return status;
    HANDLE h = handles_reserve(HANDLE_KIND_ENGINE);
    struct snapshot_edit edit;
    if (h == NULL || !snapshot_edit_prepare(&engine.versions, &edit, true)) {
        if (h != NULL)
            handles_cancel(h);
        session_free(s);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    s->handle = h;

    writer_lock();
    status =
        snapshot_edit_begin(&edit) ? insert_with_unique_key(s, generated) : ERROR_NOT_ENOUGH_MEMORY;
    if (status == ERROR_SUCCESS) {
        snapshot_edit_append(&edit, s);
        snapshot_edit_publish(&edit); /* the session is open from here */
    }
    writer_unlock();
    snapshot_edit_finish(&edit);

    if (status != ERROR_SUCCESS) {
        handles_cancel(h);
        session_free(s);
        return status;
    }
    handles_publish(h, s);
    *engine_handle = h;
    return ERROR_SUCCESS;
}

DWORD engine_close_session(HANDLE engine_handle, struct session *s)
{
    struct snapshot_edit edit;
    /* Allocate first, so that a failure changes nothing. */
    if (!snapshot_edit_prepare(&engine.versions, &edit, false))
        return ERROR_NOT_ENOUGH_MEMORY;
    DWORD status = ERROR_SUCCESS;
    writer_lock();
    if (!snapshot_edit_begin(&edit)) {
        status = ERROR_NOT_ENOUGH_MEMORY;
    } else if (!handles_remove(engine_handle, HANDLE_KIND_ENGINE)) {
        status = ERROR_INVALID_HANDLE; /* a racing close got there first */
    } else {
        sessions_table_remove(&engine.sessions, s);
        snapshot_edit_remove(&edit, s);
        snapshot_edit_publish(&edit); /* the session is closed from here */
    }
    writer_unlock();
    snapshot_edit_finish(&edit);
    return status;
}

void engine_memory_stats(FWPM_MEMORY_STATS0 *stats)
{
    struct memory_totals totals;
    memory_totals(&totals);
    stats->liveBytes = totals.data_bytes > 0 ? (UINT64)totals.data_bytes : 0;
    stats->liveAllocations = totals.data_blocks > 0 ? (UINT64)totals.data_blocks : 0;
    stats->infrastructureBytes =
        totals.infrastructure_bytes > 0 ? (UINT64)totals.infrastructure_bytes : 0;
    stats->openSessions =
        atomic_load_explicit(&engine.versions.open_sessions, memory_order_relaxed);
    stats->liveSnapshots =
        atomic_load_explicit(&engine.versions.live_versions, memory_order_relaxed);
}

void engine_reclaim(void)
{
    writer_lock();
    atomic_store_explicit(&reclaim_pending, false, memory_order_seq_cst);
    struct snapshot *dead = snapshot_reclaim(&engine.versions);
    struct chunk *spares = snapshot_take_spares(&engine.versions);
    struct epoch_batch retiring = snapshot_take_retiring(&engine.versions);
    sessions_table_shrink_if_empty(&engine.sessions);
    writer_unlock();
    snapshot_free_reclaimed(&engine.versions, dead);
    snapshot_free_spares(spares);
    epoch_retire_batch(&retiring);
    epoch_reclaim_all();
}
