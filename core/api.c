/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.c - the public functions: argument checks, the epoch section, and a
 * call into the module that owns the work. Nothing else happens here.
 *
 * Each function makes one predictable branch on the engine mode (resolved
 * once per process, host_mode.h) after its argument checks, which both
 * engines share: host mode goes to host_client.c.
 */
#include "fwpm_linux.h"

#include "engine.h"
#include "enumeration.h"
#include "epoch.h"
#include "host_client.h"
#include "host_mode.h"
#include "memory.h"

/* Enters the engine: set up, and inside a section. */
static DWORD api_enter(ck_epoch_record_t **record)
{
    if (!engine_ready() || !epoch_enter(record))
        return ERROR_NOT_ENOUGH_MEMORY;
    return ERROR_SUCCESS;
}

DWORD WINAPI FwpmEngineOpen0(const wchar_t *serverName, UINT32 authnService,
                             SEC_WINNT_AUTH_IDENTITY_W *authIdentity, const FWPM_SESSION0 *session,
                             HANDLE *engineHandle)
{
    (void)authIdentity; /* accepted and ignored: only the local engine exists */
    if (serverName != NULL)
        return ERROR_INVALID_PARAMETER;
    if (authnService != RPC_C_AUTHN_WINNT && authnService != RPC_C_AUTHN_DEFAULT)
        return RPC_S_UNKNOWN_AUTHN_SERVICE;
    if (engineHandle == NULL)
        return FWP_E_NULL_POINTER;
    if (host_mode_is_host())
        return host_client_open(session, engineHandle);
    if (!engine_ready())
        return ERROR_NOT_ENOUGH_MEMORY;
    /* No section: an open reaches nothing a writer may unlink (and a section
     * held while it waits for its write would hold the epoch back). But it
     * retires what its write superseded, so it does its share of the frees. */
    DWORD status = engine_open_session(session, NULL, engineHandle);
    epoch_work_share();
    return status;
}

DWORD WINAPI FwpmEngineClose0(HANDLE engineHandle)
{
    if (host_mode_is_host())
        return host_client_close(engineHandle);
    ck_epoch_record_t *record;
    DWORD status = api_enter(&record);
    if (status != ERROR_SUCCESS)
        return status;
    struct session *s = engine_session_of(engineHandle);
    /* The section ends with the lookup: a close waits for its write, and a
     * section held meanwhile would hold the epoch back. The close touches s
     * only if it wins, while s cannot go (engine_close_session). */
    epoch_leave(record);
    status = s == NULL ? ERROR_INVALID_HANDLE : engine_close_session(engineHandle, s);
    epoch_work_share();
    return status;
}

DWORD WINAPI FwpmSessionCreateEnumHandle0(HANDLE engineHandle,
                                          const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate,
                                          HANDLE *enumHandle)
{
    if (enumHandle == NULL)
        return FWP_E_NULL_POINTER;
    if (enumTemplate != NULL && enumTemplate->reserved != 0)
        return FWP_E_RESERVED;
    if (host_mode_is_host())
        return host_client_create_enum(engineHandle, enumHandle);
    ck_epoch_record_t *record;
    DWORD status = api_enter(&record);
    if (status != ERROR_SUCCESS)
        return status;
    struct session *s = engine_session_of(engineHandle);
    status = s == NULL ? ERROR_INVALID_HANDLE : enumeration_create(s, engineHandle, enumHandle);
    epoch_exit(record);
    return status;
}

DWORD WINAPI FwpmSessionEnum0(HANDLE engineHandle, HANDLE enumHandle, UINT32 numEntriesRequested,
                              FWPM_SESSION0 ***entries, UINT32 *numEntriesReturned)
{
    if (entries == NULL || numEntriesReturned == NULL)
        return FWP_E_NULL_POINTER;
    if (host_mode_is_host())
        return host_client_enum(engineHandle, enumHandle, numEntriesRequested, entries,
                                numEntriesReturned);
    ck_epoch_record_t *record;
    DWORD status = api_enter(&record);
    if (status != ERROR_SUCCESS)
        return status;
    struct page_hold hold;
    status = enumeration_page_hold(engineHandle, enumHandle, numEntriesRequested, &hold);
    epoch_exit(record); /* the copy holds no epoch: the hold's reference keeps the snapshot */
    if (status != ERROR_SUCCESS)
        return status;
    enumeration_page_fill(&hold, entries, numEntriesReturned);
    return ERROR_SUCCESS;
}

DWORD WINAPI FwpmSessionDestroyEnumHandle0(HANDLE engineHandle, HANDLE enumHandle)
{
    if (host_mode_is_host())
        return host_client_destroy_enum(engineHandle, enumHandle);
    ck_epoch_record_t *record;
    DWORD status = api_enter(&record);
    if (status != ERROR_SUCCESS)
        return status;
    struct session *s = engine_session_of(engineHandle);
    status = s == NULL ? ERROR_INVALID_HANDLE : enumeration_destroy(s, enumHandle);
    epoch_exit(record);
    return status;
}

void WINAPI FwpmFreeMemory0(void **p)
{
    enumeration_free_page(p);
}

DWORD fwpm_memory_stats(FWPM_MEMORY_STATS0 *stats)
{
    if (stats == NULL)
        return FWP_E_NULL_POINTER;
    if (!engine_ready())
        return ERROR_NOT_ENOUGH_MEMORY;
    engine_memory_stats(stats);
    return ERROR_SUCCESS;
}

void fwpm_reclaim(void)
{
    if (engine_ready())
        engine_reclaim();
}

const char *fwpm_allocator_name(void)
{
    return memory_allocator_name();
}
