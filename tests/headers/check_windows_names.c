/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_windows_names.c - the Windows base names <fwpmu.h> supplies for client
 * code (contract §1.3 "Windows base names"): each one compiles and has the SDK's
 * meaning, built as C99/C11/C17 and (through check_windows_names.cpp) as
 * C++11/C++17 with -Wall -Wextra -pedantic -Werror. With
 * FWPM_CHECK_OTHER_COMPAT_FIRST, other_compat.h - a different compatibility
 * header defining many of the same names first - is included before
 * <fwpmu.h>: nothing may clash. Calls no library function; main() returns
 * non-zero when a value is wrong.
 */
#ifdef FWPM_CHECK_OTHER_COMPAT_FIRST
#include "other_compat.h"
#endif

#include <fwpmu.h>

/* The way Windows session-management code declares its state. */
static HANDLE engine_handle = INVALID_HANDLE_VALUE;

static int check_names(void)
{
    int bad = 0;
    HANDLE enum_handle = INVALID_HANDLE_VALUE;
    FWPM_SESSION session;
    UINT count = 3;
    LONG_PTR minus_one = -1;
    ULONG_PTR all_ones = (ULONG_PTR)INVALID_HANDLE_VALUE;
    PVOID untyped = &session;
    LPVOID also_untyped = untyped;
    WCHAR name[] = L"windows-names";
    PWSTR pwstr = name;
    LPWSTR lpwstr = name;
    PCWSTR pcwstr = L"const";
    LPCWSTR lpcwstr = pcwstr;
    DWORD result = NO_ERROR;
    SEC_WINNT_AUTH_IDENTITY_W *credentials = NULL;
    UINT32 authn[3] = {RPC_C_AUTHN_NONE, RPC_C_AUTHN_WINNT, RPC_C_AUTHN_DEFAULT};
    UINT32 identity_flags = SEC_WINNT_AUTH_IDENTITY_UNICODE | SEC_WINNT_AUTH_IDENTITY_ANSI;
    BYTE *raw = (BYTE *)&session;

    session.flags = 0xFFu;
    ZeroMemory(&session, sizeof(session));
    for (size_t i = 0; i < sizeof(session); i++)
        bad |= raw[i] != 0;
    session.displayData.name = pwstr;
    session.flags = FWPM_SESSION_FLAG_DYNAMIC;
    session.txnWaitTimeoutInMSec = INFINITE;
    session.kernelMode = FALSE;

    bad |= enum_handle != engine_handle;
    bad |= enum_handle == NULL;
    bad |= INVALID_HANDLE_VALUE != (HANDLE)(LONG_PTR)-1;
    bad |= (uintptr_t)INVALID_HANDLE_VALUE != UINTPTR_MAX;
    bad |= all_ones != UINTPTR_MAX || minus_one != -1;
    bad |= sizeof(LONG_PTR) != sizeof(void *) || sizeof(ULONG_PTR) != sizeof(void *);
    bad |= (LONG_PTR)-1 >= 0 || (ULONG_PTR)-1 <= 0;
    bad |= sizeof(UINT) != 4 || (UINT)-1 <= 0 || count != 3;
    bad |= result != ERROR_SUCCESS || NO_ERROR != 0;
    bad |= also_untyped != (void *)&session;
    bad |= lpwstr != session.displayData.name || lpcwstr[0] != L'c';
    bad |= credentials != NULL || identity_flags != 3;
    bad |= authn[0] != 0 || authn[1] != 10 || authn[2] != 0xFFFFFFFFu;
    bad |= TRUE != 1 || FALSE != 0 || session.txnWaitTimeoutInMSec != 0xFFFFFFFFu;
    bad |= ERROR_INVALID_HANDLE != 6 || ERROR_NOT_ENOUGH_MEMORY != 8;
    bad |= ERROR_INVALID_PARAMETER != 87 || ERROR_NOT_SUPPORTED != 50;
    bad |= sizeof(GUID) != 16 || sizeof(session) != sizeof(FWPM_SESSION0);
    bad |= sizeof(((SID *)0)->SubAuthority[0]) != 4;
    return bad;
}

int main(void)
{
    return check_names();
}
