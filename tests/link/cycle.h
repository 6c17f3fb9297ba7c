/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cycle.h - one session cycle through a table of the six API functions, so
 * that programs which dlsym() them and programs linked against fwpm run the
 * same code: open a session, create an enumeration handle, page through the
 * snapshot (it must list the session just opened), free each page, destroy
 * the handle, close the session.
 */
#ifndef FWPM_TESTS_LINK_CYCLE_H
#define FWPM_TESTS_LINK_CYCLE_H

#include <fwpmu.h>

/* The API, as function pointers (from dlsym or from the link). */
struct fwpm_calls {
    DWORD(WINAPI *engine_open)
    (const wchar_t *, UINT32, SEC_WINNT_AUTH_IDENTITY_W *, const FWPM_SESSION0 *, HANDLE *);
    DWORD(WINAPI *engine_close)(HANDLE);
    DWORD(WINAPI *create_enum_handle)(HANDLE, const FWPM_SESSION_ENUM_TEMPLATE0 *, HANDLE *);
    DWORD(WINAPI *session_enum)(HANDLE, HANDLE, UINT32, FWPM_SESSION0 ***, UINT32 *);
    DWORD(WINAPI *destroy_enum_handle)(HANDLE, HANDLE);
    void(WINAPI *free_memory)(void **);
};

/* Runs one cycle; returns 0, or prints what failed to stderr and returns 1.
 * Any thread; the functions must stay loaded for the call's duration. */
int link_session_cycle(const struct fwpm_calls *calls);

/* The table for a program linked against fwpm. */
static inline struct fwpm_calls link_calls_linked(void)
{
    struct fwpm_calls c = {FwpmEngineOpen0,
                           FwpmEngineClose0,
                           FwpmSessionCreateEnumHandle0,
                           FwpmSessionEnum0,
                           FwpmSessionDestroyEnumHandle0,
                           FwpmFreeMemory0};
    return c;
}

#endif /* FWPM_TESTS_LINK_CYCLE_H */
