/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpmtypes.h - Windows Filtering Platform management types (FWPM_*), with
 * the field order and widths of the Windows SDK header of the same name.
 */
#ifndef FWPMTYPES_H
#define FWPMTYPES_H

#include "fwptypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A human-readable name and description; either may be NULL. */
typedef struct FWPM_DISPLAY_DATA0_ {
    wchar_t *name;
    wchar_t *description;
} FWPM_DISPLAY_DATA0;

/* The session is dynamic: objects it adds go away when it closes. */
#define FWPM_SESSION_FLAG_DYNAMIC 0x00000001u
/* Reserved by Windows; fwpm rejects it with FWP_E_INVALID_FLAGS. */
#define FWPM_SESSION_FLAG_RESERVED 0x10000000u

/*
 * One client session of the filter engine. A client fills sessionKey (or
 * leaves it zero for a generated one), displayData, flags and
 * txnWaitTimeoutInMSec; the engine fills processId, sid, username and
 * kernelMode.
 */
typedef struct FWPM_SESSION0_ {
    GUID sessionKey;
    FWPM_DISPLAY_DATA0 displayData;
    UINT32 flags;
    UINT32 txnWaitTimeoutInMSec;
    DWORD processId;
    SID *sid;
    wchar_t *username;
    BOOL kernelMode;
} FWPM_SESSION0;

/* Filters a session enumeration; reserved must be zero. */
typedef struct FWPM_SESSION_ENUM_TEMPLATE0_ {
    UINT64 reserved;
} FWPM_SESSION_ENUM_TEMPLATE0;

#ifdef __cplusplus
}
#endif

#endif /* FWPMTYPES_H */
