/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * locked.h - the engine behind the mutex and rwlock peers: a dense array of
 * session pointers (swap-remove on close) plus a chained hash index on the
 * key, both guarded by one lock. Changes (open, close, destroy) take it
 * exclusively; snapshots (malloc + memcpy + one reference per session) and
 * pages take it shared. The mutex and rwlock peers differ only in the lock
 * they plug in; the snapcache peer also plugs in a variant (below).
 */
#ifndef BENCH_PEERS_LOCKED_H
#define BENCH_PEERS_LOCKED_H

#include "common.h"
#include "impl.h"

struct locked_session {
    struct peer_session base;     /* first: live[] holds &base */
    size_t pos;                   /* index in live[] */
    struct locked_session *hnext; /* key chain; free for the engine's use once closed */
};

struct locked_engine;
typedef DWORD locked_page_fn(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle,
                             UINT32 numEntriesRequested, FWPM_SESSION0 ***entries,
                             UINT32 *numEntriesReturned);
typedef DWORD locked_destroy_fn(struct peer_handle_table *t, HANDLE engineHandle,
                                HANDLE enumHandle);

/* What the snapcache peer changes in this engine; NULL for mutex and rwlock. */
struct locked_variant {
    size_t session_size; /* its session record, a struct locked_session first */
    size_t enum_size;    /* its enumeration object, a struct peer_enum first */
    /* Under the exclusive lock (handle creation takes it exclusively too). */
    struct peer_snapshot *(*snapshot)(struct locked_engine *g); /* one reference, for a handle */
    void (*joined)(struct locked_engine *g, struct locked_session *s);
    /* left gets the table's reference to s. */
    void (*left)(struct locked_engine *g, struct locked_session *s);
    /* After the lock: an enumeration object of a closed session. */
    void (*enum_retire)(struct peer_enum *e);
    /* FwpmSessionEnum0 and FwpmSessionDestroyEnumHandle0, without the lock. */
    locked_page_fn *enum_page;
    locked_destroy_fn *destroy_enum;
    void (*reclaim)(void); /* frees whatever waits for a grace period */
};

struct locked_engine {
    enum peer_id peer;
    const struct locked_variant *variant;
    void *lock;
    void (*lock_shared)(void *lock);
    void (*lock_exclusive)(void *lock);
    void (*unlock)(void *lock);
    struct peer_handle_table handles;
    /* Under the lock. */
    struct peer_session **live; /* dense: live[i]->pos == i */
    size_t count, cap;
    struct peer_session **buckets; /* key index, chained through ->hnext */
    size_t nbuckets;               /* a power of two */
};

/* lock_* for a pthread_mutex_t: everything exclusive. */
void locked_mutex_lock(void *lock);
void locked_mutex_unlock(void *lock);

DWORD locked_open(struct locked_engine *g, const wchar_t *serverName, UINT32 authnService,
                  const FWPM_SESSION0 *session, HANDLE *engineHandle);
DWORD locked_close(struct locked_engine *g, HANDLE engineHandle);
DWORD locked_create_enum(struct locked_engine *g, HANDLE engineHandle,
                         const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate, HANDLE *enumHandle);
DWORD locked_enum(struct locked_engine *g, HANDLE engineHandle, HANDLE enumHandle,
                  UINT32 numEntriesRequested, FWPM_SESSION0 ***entries, UINT32 *numEntriesReturned);
DWORD locked_destroy_enum(struct locked_engine *g, HANDLE engineHandle, HANDLE enumHandle);

/* Defines `const struct fwpm_impl fwpm_impl_<NAME>` over the engine ENGINE:
 * the API has no context argument, so each peer gets its own thin wrappers. */
#define LOCKED_PEER_DEFINE(NAME, ENGINE, PEER_ID)                                                  \
    static DWORD NAME##_open(const wchar_t *sn, UINT32 as, SEC_WINNT_AUTH_IDENTITY_W *ai,          \
                             const FWPM_SESSION0 *s, HANDLE *eh)                                   \
    {                                                                                              \
        (void)ai;                                                                                  \
        return locked_open(&(ENGINE), sn, as, s, eh);                                              \
    }                                                                                              \
    static DWORD NAME##_close(HANDLE eh)                                                           \
    {                                                                                              \
        return locked_close(&(ENGINE), eh);                                                        \
    }                                                                                              \
    static DWORD NAME##_create_enum(HANDLE eh, const FWPM_SESSION_ENUM_TEMPLATE0 *t, HANDLE *h)    \
    {                                                                                              \
        return locked_create_enum(&(ENGINE), eh, t, h);                                            \
    }                                                                                              \
    static DWORD NAME##_enum(HANDLE eh, HANDLE h, UINT32 n, FWPM_SESSION0 ***e, UINT32 *r)         \
    {                                                                                              \
        return locked_enum(&(ENGINE), eh, h, n, e, r);                                             \
    }                                                                                              \
    static DWORD NAME##_destroy_enum(HANDLE eh, HANDLE h)                                          \
    {                                                                                              \
        return locked_destroy_enum(&(ENGINE), eh, h);                                              \
    }                                                                                              \
    static void NAME##_reclaim(void)                                                               \
    {                                                                                              \
        if ((ENGINE).variant)                                                                      \
            (ENGINE).variant->reclaim();                                                           \
    }                                                                                              \
    static uint64_t NAME##_memory_bytes(void)                                                      \
    {                                                                                              \
        return peer_bytes(PEER_ID);                                                                \
    }                                                                                              \
    const struct fwpm_impl fwpm_impl_##NAME = {                                                    \
        .name = #NAME,                                                                             \
        .engine_open = NAME##_open,                                                                \
        .engine_close = NAME##_close,                                                              \
        .create_enum_handle = NAME##_create_enum,                                                  \
        .session_enum = NAME##_enum,                                                               \
        .destroy_enum_handle = NAME##_destroy_enum,                                                \
        .free_memory = peer_free_memory,                                                           \
        .reclaim = NAME##_reclaim,                                                                 \
        .memory_bytes = NAME##_memory_bytes,                                                       \
        .snapshot = "atomic",                                                                      \
    }

#endif /* BENCH_PEERS_LOCKED_H */
