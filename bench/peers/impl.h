/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * impl.h - one engine design behind the six session functions of the contract
 * (§2), as a table of function pointers, so that fwpm and its peers (mutex, rwlock, urcu,
 * snapcache) link side by side into fwpm-bench under distinct symbols.
 */
#ifndef BENCH_PEERS_IMPL_H
#define BENCH_PEERS_IMPL_H

#include <fwpmu.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API's function types, exactly as fwpmu.h declares them. */
typedef DWORD fwpm_open_fn(const wchar_t *serverName, UINT32 authnService,
                           SEC_WINNT_AUTH_IDENTITY_W *authIdentity, const FWPM_SESSION0 *session,
                           HANDLE *engineHandle);
typedef DWORD fwpm_close_fn(HANDLE engineHandle);
typedef DWORD fwpm_create_enum_fn(HANDLE engineHandle,
                                  const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate,
                                  HANDLE *enumHandle);
typedef DWORD fwpm_enum_fn(HANDLE engineHandle, HANDLE enumHandle, UINT32 numEntriesRequested,
                           FWPM_SESSION0 ***entries, UINT32 *numEntriesReturned);
typedef DWORD fwpm_destroy_enum_fn(HANDLE engineHandle, HANDLE enumHandle);
typedef void fwpm_free_fn(void **p);

struct fwpm_impl {
    const char *name; /* "fwpm", "mutex", ...: the <impl> in benchmark names */
    fwpm_open_fn *engine_open;
    fwpm_close_fn *engine_close;
    fwpm_create_enum_fn *create_enum_handle;
    fwpm_enum_fn *session_enum;
    fwpm_destroy_enum_fn *destroy_enum_handle;
    fwpm_free_fn *free_memory;

    /* Bench-only extras, not part of the API. */
    void (*reclaim)(void);          /* frees whatever waits for a grace period */
    uint64_t (*memory_bytes)(void); /* bytes the engine holds now (allocator usable sizes) */
    const char *snapshot;           /* "atomic" or "weak": what a snapshot promises */
};

extern const struct fwpm_impl fwpm_impl_fwpm;
extern const struct fwpm_impl fwpm_impl_mutex;
extern const struct fwpm_impl fwpm_impl_rwlock;
extern const struct fwpm_impl fwpm_impl_urcu;
extern const struct fwpm_impl fwpm_impl_snapcache;

/* Every engine, fwpm first where the target links it (FWPM_BENCH_HAVE_FWPM). */
static const struct fwpm_impl *const fwpm_all_impls[] = {
#ifdef FWPM_BENCH_HAVE_FWPM
    &fwpm_impl_fwpm,
#endif
    &fwpm_impl_mutex, &fwpm_impl_rwlock, &fwpm_impl_urcu, &fwpm_impl_snapcache,
};
#define FWPM_ALL_IMPLS_COUNT (sizeof(fwpm_all_impls) / sizeof(fwpm_all_impls[0]))

#ifdef __cplusplus
}
#endif

#endif /* BENCH_PEERS_IMPL_H */
