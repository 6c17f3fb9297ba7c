/*
 * fwpmu.h - the Windows Filtering Platform session-management API for Linux.
 *
 * Including this header alone is enough: it brings in the base types, the
 * FWPM_* and FWP_* types, the error codes and the version-independent names.
 * Every function may be called from any number of threads at once; see
 * README.md for the concurrency guarantees.
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

/* Opens a session to the in-process filter engine (serverName must be NULL). */
FWPM_API DWORD WINAPI FwpmEngineOpen0(const wchar_t *serverName, UINT32 authnService,
                                      SEC_WINNT_AUTH_IDENTITY_W *authIdentity,
                                      const FWPM_SESSION0 *session, HANDLE *engineHandle);

/* Closes the session; its enumeration handles become invalid. */
FWPM_API DWORD WINAPI FwpmEngineClose0(HANDLE engineHandle);

/* Creates an enumeration handle over a snapshot of the open sessions. */
FWPM_API DWORD WINAPI FwpmSessionCreateEnumHandle0(HANDLE engineHandle,
                                                   const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate,
                                                   HANDLE *enumHandle);

/* Returns the next at most numEntriesRequested sessions of the snapshot.
 * Free *entries with FwpmFreeMemory0. */
FWPM_API DWORD WINAPI FwpmSessionEnum0(HANDLE engineHandle, HANDLE enumHandle,
                                       UINT32 numEntriesRequested, FWPM_SESSION0 ***entries,
                                       UINT32 *numEntriesReturned);

/* Ends an enumeration; arrays it returned stay valid until freed. */
FWPM_API DWORD WINAPI FwpmSessionDestroyEnumHandle0(HANDLE engineHandle, HANDLE enumHandle);

/* Frees memory returned by the API and sets *p to NULL; NULL is a no-op. */
FWPM_API void WINAPI FwpmFreeMemory0(void **p);

#ifdef __cplusplus
}
#endif

#endif /* FWPMU_H */
