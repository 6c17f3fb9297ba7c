/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * other_compat.h - a stand-in for another project's Windows compatibility
 * header, included before <fwpmu.h> by check_windows_names.c when
 * FWPM_CHECK_OTHER_COMPAT_FIRST is set. It spells the macros differently
 * from fwpm (so an unguarded definition in fwpm would be a redefinition, an
 * error under -Werror), defines the structures under the SDK's guards with
 * other tags and field types of the same layout, and - where the language
 * allows a second identical typedef (C11, C++) - defines the plain typedefs
 * as such headers commonly do on Linux.
 */
#ifndef FWPM_TESTS_OTHER_COMPAT_H
#define FWPM_TESTS_OTHER_COMPAT_H

#include <stdint.h>
#include <string.h>
#include <wchar.h>

#define WINAPI
#define TRUE (1)
#define FALSE (0)
#define INFINITE 0xFFFFFFFF
#define NO_ERROR 0L
#define ERROR_SUCCESS 0L
#define ERROR_INVALID_HANDLE 6L
#define ERROR_NOT_ENOUGH_MEMORY 8L
#define ERROR_INVALID_PARAMETER 87L
#define ERROR_NOT_SUPPORTED 50L
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#define ZeroMemory(p, n) memset((p), 0, (n))
#define RPC_C_AUTHN_NONE 0
#define RPC_C_AUTHN_WINNT 10
#define RPC_C_AUTHN_DEFAULT 0xFFFFFFFFL
#define SEC_WINNT_AUTH_IDENTITY_ANSI 0x00000001L
#define SEC_WINNT_AUTH_IDENTITY_UNICODE 0x00000002L

#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
typedef void *HANDLE;
typedef unsigned int DWORD;
typedef unsigned int UINT;
typedef unsigned char BYTE;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef void *PVOID;
typedef wchar_t WCHAR;
typedef const wchar_t *LPCWSTR;
#define OTHER_COMPAT_HAS_TYPEDEFS 1
#endif

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct {
    unsigned int Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID;
#endif

#ifndef SID_IDENTIFIER_AUTHORITY_DEFINED
#define SID_IDENTIFIER_AUTHORITY_DEFINED
typedef struct other_sid_authority {
    unsigned char Value[6];
} SID_IDENTIFIER_AUTHORITY;
#endif

#ifndef SID_DEFINED
#define SID_DEFINED
typedef struct other_sid {
    unsigned char Revision;
    unsigned char SubAuthorityCount;
    SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
    unsigned int SubAuthority[1];
} SID;
#endif

/* As in the SDK's rpcdce.h: UTF-16 strings and long lengths. fwpm never
 * reads this structure, so its layout does not matter. */
#ifndef _AUTH_IDENTITY_DEFINED
#define _AUTH_IDENTITY_DEFINED
typedef struct other_auth_identity {
    unsigned short *User;
    unsigned long UserLength;
    unsigned short *Domain;
    unsigned long DomainLength;
    unsigned short *Password;
    unsigned long PasswordLength;
    unsigned long Flags;
} SEC_WINNT_AUTH_IDENTITY_W;
#endif

#endif
