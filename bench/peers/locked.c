/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * locked.c - the lock-around-everything engine shared by the mutex and rwlock
 * peers (see locked.h). This is the straightforward port: a snapshot copies
 * the dense session array under the lock and takes a reference on every
 * session, so an enumeration costs O(sessions) while holding the lock. The
 * snapcache peer reuses the writers' side and plugs in its own snapshots and
 * lock-free pages (struct locked_variant).
 */
#include "locked.h"

#include <pthread.h>
#include <string.h>

#define LOCKED_INITIAL 1024

void locked_mutex_lock(void *lock)
{
    pthread_mutex_lock(lock);
}

void locked_mutex_unlock(void *lock)
{
    pthread_mutex_unlock(lock);
}

static struct locked_session *as_locked(struct peer_session *s)
{
    return (struct locked_session *)s;
}

static size_t bucket_of(const struct locked_engine *g, const GUID *key)
{
    return (size_t)peer_guid_hash(key) & (g->nbuckets - 1);
}

/* Doubles the key index once it holds as many sessions as buckets. */
static bool index_grow(struct locked_engine *g)
{
    if (g->count < g->nbuckets)
        return true;
    size_t nb = g->nbuckets ? g->nbuckets * 2 : LOCKED_INITIAL;
    struct peer_session **b = peer_calloc(g->peer, nb * sizeof(*b));
    if (!b)
        return false;
    size_t old_nb = g->nbuckets;
    struct peer_session **old = g->buckets;
    g->buckets = b;
    g->nbuckets = nb;
    for (size_t i = 0; i < old_nb; i++) {
        struct locked_session *next;
        for (struct locked_session *s = as_locked(old[i]); s; s = next) {
            next = s->hnext;
            size_t j = bucket_of(g, &s->base.pub.sessionKey);
            s->hnext = as_locked(b[j]);
            b[j] = &s->base;
        }
    }
    peer_free(g->peer, old);
    return true;
}

static DWORD registry_insert(struct locked_engine *g, struct locked_session *s)
{
    if (!index_grow(g))
        return ERROR_NOT_ENOUGH_MEMORY;
    size_t j = bucket_of(g, &s->base.pub.sessionKey);
    for (struct locked_session *o = as_locked(g->buckets[j]); o; o = o->hnext)
        if (peer_guid_equal(&o->base.pub.sessionKey, &s->base.pub.sessionKey))
            return FWP_E_ALREADY_EXISTS;
    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : LOCKED_INITIAL;
        struct peer_session **live = peer_realloc(g->peer, g->live, cap * sizeof(*live));
        if (!live)
            return ERROR_NOT_ENOUGH_MEMORY;
        g->live = live;
        g->cap = cap;
    }
    s->pos = g->count;
    g->live[g->count++] = &s->base;
    s->hnext = as_locked(g->buckets[j]);
    g->buckets[j] = &s->base;
    return ERROR_SUCCESS;
}

static void registry_remove(struct locked_engine *g, struct locked_session *s)
{
    size_t j = bucket_of(g, &s->base.pub.sessionKey);
    struct locked_session *prev = NULL;
    for (struct locked_session *o = as_locked(g->buckets[j]); o != s; o = o->hnext)
        prev = o;
    if (prev)
        prev->hnext = s->hnext;
    else
        g->buckets[j] = s->hnext ? &s->hnext->base : NULL;
    struct peer_session *last = g->live[--g->count];
    g->live[s->pos] = last;
    as_locked(last)->pos = s->pos;
}

DWORD locked_open(struct locked_engine *g, const wchar_t *serverName, UINT32 authnService,
                  const FWPM_SESSION0 *session, HANDLE *engineHandle)
{
    struct peer_session *base;
    DWORD rc = peer_session_new(
        g->peer, serverName, authnService, session, engineHandle,
        g->variant ? g->variant->session_size : sizeof(struct locked_session), &base);
    if (rc != ERROR_SUCCESS)
        return rc;
    struct locked_session *s = as_locked(base);
    HANDLE h = NULL;
    g->lock_exclusive(g->lock);
    while ((rc = registry_insert(g, s)) == FWP_E_ALREADY_EXISTS && base->generated_key)
        peer_guid_random(&base->pub.sessionKey); /* a 2^-122 event, handled anyway */
    if (rc == ERROR_SUCCESS) {
        h = peer_handle_add(&g->handles, PEER_HANDLE_ENGINE, base);
        if (!h) {
            registry_remove(g, s);
            rc = ERROR_NOT_ENOUGH_MEMORY;
        } else if (g->variant) {
            g->variant->joined(g, s);
        }
    }
    g->unlock(g->lock);
    if (rc != ERROR_SUCCESS) {
        peer_session_release(base);
        return rc;
    }
    *engineHandle = h;
    return ERROR_SUCCESS;
}

DWORD locked_close(struct locked_engine *g, HANDLE engineHandle)
{
    struct peer_enum *retired = NULL;
    g->lock_exclusive(g->lock);
    struct peer_session *s = peer_handle_get(&g->handles, engineHandle, PEER_HANDLE_ENGINE);
    if (!s || !peer_session_close(&g->handles, s, engineHandle, &retired)) {
        g->unlock(g->lock);
        return ERROR_INVALID_HANDLE;
    }
    registry_remove(g, as_locked(s));
    if (g->variant)
        g->variant->left(g, as_locked(s));
    g->unlock(g->lock);
    while (retired) {
        struct peer_enum *next = retired->next;
        if (g->variant)
            g->variant->enum_retire(retired);
        else
            peer_enum_free(retired);
        retired = next;
    }
    if (!g->variant)
        peer_session_release(s);
    return ERROR_SUCCESS;
}

DWORD locked_create_enum(struct locked_engine *g, HANDLE engineHandle,
                         const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate, HANDLE *enumHandle)
{
    DWORD rc = peer_check_enum_args(enumTemplate, enumHandle);
    if (rc != ERROR_SUCCESS)
        return rc;
    const struct locked_variant *v = g->variant;
    (v ? g->lock_exclusive : g->lock_shared)(g->lock);
    struct peer_session *s = peer_handle_get(&g->handles, engineHandle, PEER_HANDLE_ENGINE);
    if (!s) {
        rc = ERROR_INVALID_HANDLE;
    } else {
        struct peer_snapshot *snap =
            v ? v->snapshot(g) : peer_snapshot_copy(g->peer, g->live, g->count, true);
        rc = snap ? peer_enum_open(&g->handles, s, snap,
                                   v ? v->enum_size : sizeof(struct peer_enum), enumHandle)
                  : ERROR_NOT_ENOUGH_MEMORY;
    }
    g->unlock(g->lock);
    return rc;
}

DWORD locked_enum(struct locked_engine *g, HANDLE engineHandle, HANDLE enumHandle,
                  UINT32 numEntriesRequested, FWPM_SESSION0 ***entries, UINT32 *numEntriesReturned)
{
    if (g->variant)
        return g->variant->enum_page(&g->handles, engineHandle, enumHandle, numEntriesRequested,
                                     entries, numEntriesReturned);
    if (!entries || !numEntriesReturned)
        return FWP_E_NULL_POINTER;
    struct peer_enum *e;
    g->lock_shared(g->lock);
    DWORD rc = peer_enum_lookup(&g->handles, engineHandle, enumHandle, &e);
    if (rc == ERROR_SUCCESS)
        rc = peer_enum_page(e, numEntriesRequested, entries, numEntriesReturned);
    g->unlock(g->lock);
    return rc;
}

DWORD locked_destroy_enum(struct locked_engine *g, HANDLE engineHandle, HANDLE enumHandle)
{
    if (g->variant)
        return g->variant->destroy_enum(&g->handles, engineHandle, enumHandle);
    struct peer_enum *e;
    /* Exclusive: pages use the enumeration object under the shared lock. */
    g->lock_exclusive(g->lock);
    DWORD rc = peer_enum_lookup(&g->handles, engineHandle, enumHandle, &e);
    if (rc == ERROR_SUCCESS && !peer_enum_detach(&g->handles, e))
        rc = ERROR_INVALID_HANDLE;
    g->unlock(g->lock);
    if (rc == ERROR_SUCCESS)
        peer_enum_free(e);
    return rc;
}
