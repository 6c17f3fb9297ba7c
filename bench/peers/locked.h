/*
 * locked.h - the engine behind the mutex and rwlock peers: a dense array of
 * session pointers (swap-remove on close) plus a chained hash index on the
 * key, both guarded by one lock. Changes (open, close, destroy) take it
 * exclusively; snapshots (malloc + memcpy + one reference per session) and
 * pages take it shared. The two peers differ only in the lock they plug in.
 */
#ifndef BENCH_PEERS_LOCKED_H
#define BENCH_PEERS_LOCKED_H

#include "common.h"
#include "impl.h"

struct locked_engine {
    enum peer_id peer;
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
    static void NAME##_reclaim(void) {}                                                            \
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
