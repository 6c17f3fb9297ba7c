/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpmu.h - the Windows Filtering Platform session-management API for Linux.
 *
 * Including this header alone is enough: it brings in the base types, the
 * FWPM_* and FWP_* types, the error codes and the version-independent names
 * (FwpmEngineOpen for FwpmEngineOpen0, ...). fwpm's own additions are in
 * <fwpm_linux.h>.
 *
 * The whole contract: share/doc/fwpm/contract.md (docs/contract.md in the
 * source tree), cited below as "contract §n"; one manual page per function
 * (man 3 FwpmEngineOpen0, ...) and the model in man 7 fwpm.
 *
 * For every function below:
 * - any number of threads may call it at once, on any handles, the same ones
 *   included; no lock to hold, no thread to register (contract §4.1);
 * - a call that fails changes nothing: no out-pointer written, no session
 *   half-open, no handle leaked, no cursor moved (contract §3.3);
 * - ERROR_NOT_ENOUGH_MEMORY can come from every one of them (memory ran out
 *   at some step, or 2^24 handles are live); it is listed once, here;
 * - a handle that is not live (NULL, INVALID_HANDLE_VALUE, garbage, the
 *   wrong kind, closed, destroyed, reused, inherited across fork()) gives
 *   ERROR_INVALID_HANDLE and is never dereferenced (contract §3.2).
 */
#ifndef FWPMU_H
#define FWPMU_H

#include "fwpm_wintypes.h"
#include "fwpm_winerror.h"
#include "fwptypes.h"
#include "fwpmtypes.h"
#include "fwpvi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FWPM_API __attribute__((visibility("default")))
#else
#define FWPM_API
#endif

/*
 * FwpmEngineOpen0 - opens a session to the filter engine (contract §2.1).
 *
 * serverName    must be NULL (the local engine).
 * authnService  RPC_C_AUTHN_WINNT or RPC_C_AUTHN_DEFAULT.
 * authIdentity  ignored; may be NULL.
 * session       NULL for an anonymous session, or the client's fields:
 *               sessionKey (all zero: a random one is generated), flags (0
 *               or FWPM_SESSION_FLAG_DYNAMIC), displayData (either string
 *               may be NULL; at most 32,767 characters each; copied, so the
 *               caller may free them on return), txnWaitTimeoutInMSec (kept
 *               as given). processId, sid, username and kernelMode are
 *               ignored: the engine fills them (contract §2.1.1).
 * engineHandle  receives the engine handle; written only on success.
 *
 * Returns, the first rule broken deciding:
 *   ERROR_SUCCESS                the session is open and in every snapshot
 *                                taken from now on;
 *   ERROR_INVALID_PARAMETER      serverName is not NULL;
 *   RPC_S_UNKNOWN_AUTHN_SERVICE  another authnService;
 *   FWP_E_NULL_POINTER           engineHandle is NULL;
 *   FWP_E_INVALID_FLAGS          a flag other than FWPM_SESSION_FLAG_DYNAMIC;
 *   FWP_E_INVALID_PARAMETER      a display string over 32,767 characters
 *                                (never read beyond its 32,768th);
 *   FWP_E_ALREADY_EXISTS         an open session has this sessionKey;
 *   ERROR_NOT_ENOUGH_MEMORY.
 * Concurrency: writers (open, close) are serialized among themselves but
 * never wait for a reader; of several racing opens with one key, exactly one
 * succeeds.
 * Do not: use the handle in another process after fork() (contract §6.1).
 */
FWPM_API DWORD WINAPI FwpmEngineOpen0(const wchar_t *serverName, UINT32 authnService,
                                      SEC_WINNT_AUTH_IDENTITY_W *authIdentity,
                                      const FWPM_SESSION0 *session, HANDLE *engineHandle);

/*
 * FwpmEngineClose0 - closes a session (contract §2.2).
 *
 * engineHandle  an engine handle returned by FwpmEngineOpen0.
 *
 * Returns:
 *   ERROR_SUCCESS            the session is gone from every snapshot taken
 *                            from now on; the engine handle and every
 *                            enumeration handle created through it are
 *                            invalid;
 *   ERROR_INVALID_HANDLE     engineHandle is not an open engine handle;
 *   ERROR_NOT_ENOUGH_MEMORY.
 * Arrays already returned through the session stay valid until freed.
 * Concurrency: safe while other threads use the same handles; each of their
 * calls completes or gives ERROR_INVALID_HANDLE (contract §4.6). Of several
 * racing closes of one handle, exactly one succeeds.
 */
FWPM_API DWORD WINAPI FwpmEngineClose0(HANDLE engineHandle);

/*
 * FwpmSessionCreateEnumHandle0 - takes a snapshot of the open sessions
 * (contract §2.3).
 *
 * engineHandle  an open engine handle; the new handle belongs to its session.
 * enumTemplate  NULL, or a template whose reserved field is 0.
 * enumHandle    receives the enumeration handle; written only on success.
 *
 * Returns:
 *   ERROR_SUCCESS            the snapshot holds exactly the sessions open at
 *                            one instant during this call (contract §4.2);
 *   FWP_E_NULL_POINTER       enumHandle is NULL;
 *   FWP_E_RESERVED           enumTemplate->reserved is not 0;
 *   ERROR_INVALID_HANDLE     engineHandle is not an open engine handle;
 *   ERROR_NOT_ENOUGH_MEMORY.
 * Cost: constant, whatever the number of sessions; holds writers for no
 * time proportional to it.
 * Do not: expect later opens or closes to show in this handle's pages.
 */
FWPM_API DWORD WINAPI FwpmSessionCreateEnumHandle0(HANDLE engineHandle,
                                                   const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate,
                                                   HANDLE *enumHandle);

/*
 * FwpmSessionEnum0 - returns the next page of a snapshot (contract §2.4).
 *
 * engineHandle         the engine handle the enumeration was created through.
 * enumHandle           an enumeration handle.
 * numEntriesRequested  at most this many entries; 0 returns none and leaves
 *                      the cursor where it is; INFINITE means all that is
 *                      left (the array is sized by what is returned).
 * entries              receives an array of pointers to FWPM_SESSION0, or
 *                      NULL when no entry is returned.
 * numEntriesReturned   receives the number of entries in *entries.
 *
 * Returns:
 *   ERROR_SUCCESS            fewer entries than requested means the snapshot
 *                            is exhausted; every later call returns 0 entries;
 *   FWP_E_NULL_POINTER       entries or numEntriesReturned is NULL;
 *   ERROR_INVALID_HANDLE     engineHandle or enumHandle is not live;
 *   FWP_E_WRONG_SESSION      enumHandle belongs to another session;
 *   ERROR_NOT_ENOUGH_MEMORY.
 * The caller frees *entries (the array, never the entries) with one
 * FwpmFreeMemory0; until then the entries, their strings and SIDs stay
 * valid, even after the handle is destroyed and the sessions closed.
 * Concurrency: takes no lock and waits for no writer and no other reader
 * (contract §4.3). Threads paging one handle at once together receive every
 * entry of the snapshot exactly once (contract §4.4).
 */
FWPM_API DWORD WINAPI FwpmSessionEnum0(HANDLE engineHandle, HANDLE enumHandle,
                                       UINT32 numEntriesRequested, FWPM_SESSION0 ***entries,
                                       UINT32 *numEntriesReturned);

/*
 * FwpmSessionDestroyEnumHandle0 - ends an enumeration (contract §2.5).
 *
 * engineHandle  the engine handle the enumeration was created through.
 * enumHandle    the enumeration handle to end.
 *
 * Returns:
 *   ERROR_SUCCESS            the handle is invalid from now on;
 *   ERROR_INVALID_HANDLE     engineHandle or enumHandle is not live;
 *   FWP_E_WRONG_SESSION      enumHandle belongs to another session;
 *   ERROR_NOT_ENOUGH_MEMORY.
 * Arrays the handle returned stay valid until freed.
 * Concurrency: safe while other threads page the same handle; each of their
 * calls completes or gives ERROR_INVALID_HANDLE (contract §4.6).
 */
FWPM_API DWORD WINAPI FwpmSessionDestroyEnumHandle0(HANDLE engineHandle, HANDLE enumHandle);

/*
 * FwpmFreeMemory0 - frees memory the API returned (contract §2.6).
 *
 * p  the address of the pointer to free: FwpmFreeMemory0((void **)&entries).
 *    p NULL or *p NULL: nothing happens. Otherwise *p is set to NULL.
 *
 * A pointer the API did not return is ignored, without reading any memory
 * that is not fwpm's own (contract §5.4).
 * Concurrency: safe from any thread, on arrays of any handle.
 * Do not: free one array twice (undefined, as on Windows), or free the
 * entries of an array one by one.
 */
FWPM_API void WINAPI FwpmFreeMemory0(void **p);

#ifdef __cplusplus
}
#endif

#endif /* FWPMU_H */
