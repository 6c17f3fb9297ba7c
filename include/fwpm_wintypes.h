/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpm_wintypes.h - the Windows base names that fwpm's API and its clients
 * use, for Linux.
 *
 * On Windows these come from <windows.h>; here fwpmu.h pulls them in so that
 * a client needs no other header. Widths follow the Windows SDK (LLP64 data
 * model for the fixed-size names): DWORD and UINT32 are 32-bit unsigned, BOOL
 * is a 32-bit int, HANDLE is an opaque pointer.
 *
 * Which names: the types of the API itself, plus what session-management
 * client code written for Windows uses around it - INVALID_HANDLE_VALUE (the
 * usual "no handle yet" initialiser of an engine or enumeration handle),
 * NO_ERROR (the usual name of a zero DWORD result in WFP code), ZeroMemory
 * (clearing an FWPM_SESSION0 before filling it), the pointer-sized integers
 * that INVALID_HANDLE_VALUE is spelled with (LONG_PTR, ULONG_PTR), UINT, and
 * the pointer and wide-string names of display data (PVOID, LPVOID, PWSTR,
 * PCWSTR, LPWSTR, LPCWSTR).
 * Left out on purpose: LONG and ULONG (32-bit on Windows, but Linux
 * compatibility headers disagree on their width, so any choice clashes with
 * some of them, and the API does not use them); HRESULT, SUCCEEDED and FAILED
 * (every function here returns a Win32 DWORD code, and FAILED(6) - a failed
 * ERROR_INVALID_HANDLE - is false); SecureZeroMemory (no header-only form in
 * strict C99, and fwpm ignores the credentials it would clear); CloseHandle
 * and other kernel-object calls (an engine handle is closed with
 * FwpmEngineClose0).
 *
 * Living with other compatibility headers: every macro is guarded by its own
 * #ifndef, so a header that defined the name first (with any spelling) wins
 * and nothing is redefined; the structures are guarded the SDK's way (below).
 * A plain typedef cannot be tested for, and is not guarded: each one names
 * the type the common definitions use on Linux (unsigned int for UINT,
 * intptr_t for LONG_PTR, wchar_t strings), and C11 and C++ accept a second
 * typedef of the same type. A typedef of another type - a 64-bit DWORD, say -
 * fails to compile, on purpose: taking it silently would change the API's
 * structure layouts. (C99 forbids even an identical second typedef: there,
 * only one of the two headers may define the types.)
 */
#ifndef FWPM_WINTYPES_H
#define FWPM_WINTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WINAPI
#define WINAPI
#endif

typedef uint8_t BYTE;
typedef uint8_t UINT8;
typedef uint16_t UINT16;
typedef uint16_t WORD;
typedef uint32_t UINT32;
typedef uint32_t DWORD;
typedef uint64_t UINT64;
typedef int32_t BOOL;
typedef unsigned int UINT;
typedef void *HANDLE;
typedef wchar_t WCHAR;

/* Pointer-sized signed and unsigned integers (basetsd.h). */
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;

/* Untyped pointers and wide strings (winnt.h): wchar_t is 4 bytes on Linux. */
typedef void *PVOID;
typedef void *LPVOID;
typedef WCHAR *PWSTR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *PCWSTR;
typedef const WCHAR *LPCWSTR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* "Wait forever" / "as many as there are": 0xFFFFFFFF. */
#ifndef INFINITE
#define INFINITE 0xFFFFFFFFu
#endif

/* The value a handle variable holds before it names anything (handleapi.h):
 * all bits set. No function of this API ever returns it as a handle, and
 * every function given it as an engine or enumeration handle answers
 * ERROR_INVALID_HANDLE. */
#ifndef INVALID_HANDLE_VALUE
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#endif

/* Success, under the name WFP code often compares results with (winerror.h);
 * the same value as ERROR_SUCCESS. */
#ifndef NO_ERROR
#define NO_ERROR 0u
#endif

/* Fills Length bytes at Destination with zeros (minwinbase.h). */
#ifndef ZeroMemory
#define ZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#endif

/*
 * The structures are guarded the way the Windows SDK guards them (GUID_DEFINED,
 * SID_DEFINED, ...), so a header that defined one first keeps its definition.
 * GUID and SID are part of the API's data, so a definition from elsewhere must
 * have the SDK's layout: the checks after them fail the build otherwise (a GUID
 * with a 64-bit unsigned long Data1 would shift every FWPM_SESSION0 field).
 */
#define FWPM_WINTYPES_CHECK(name, condition) typedef char name[(condition) ? 1 : -1]

/* A 128-bit globally unique identifier, laid out as in guiddef.h. */
#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
#endif
FWPM_WINTYPES_CHECK(fwpm_check_guid_layout, sizeof(GUID) == 16 && offsetof(GUID, Data2) == 4 &&
                                                offsetof(GUID, Data3) == 6 &&
                                                offsetof(GUID, Data4) == 8);

/* A security identifier (winnt.h): a variable-length structure whose
 * SubAuthority array holds SubAuthorityCount entries. */
#ifndef SID_IDENTIFIER_AUTHORITY_DEFINED
#define SID_IDENTIFIER_AUTHORITY_DEFINED
typedef struct _SID_IDENTIFIER_AUTHORITY {
    BYTE Value[6];
} SID_IDENTIFIER_AUTHORITY;
#endif

#ifndef SID_DEFINED
#define SID_DEFINED
typedef struct _SID {
    BYTE Revision;
    BYTE SubAuthorityCount;
    SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
    DWORD SubAuthority[1];
} SID;
#endif
FWPM_WINTYPES_CHECK(fwpm_check_sid_layout, sizeof(SID_IDENTIFIER_AUTHORITY) == 6 &&
                                               offsetof(SID, SubAuthority) == 8 &&
                                               sizeof(((SID *)0)->SubAuthority[0]) == 4);

/* Explicit credentials for a remote engine (rpcdce.h). fwpm accepts and
 * ignores them (it never reads the structure, so a definition from elsewhere
 * may have any layout). */
#ifndef _AUTH_IDENTITY_DEFINED
#define _AUTH_IDENTITY_DEFINED
typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
    wchar_t *User;
    uint32_t UserLength;
    wchar_t *Domain;
    uint32_t DomainLength;
    wchar_t *Password;
    uint32_t PasswordLength;
    uint32_t Flags;
} SEC_WINNT_AUTH_IDENTITY_W;
#endif

#ifndef SEC_WINNT_AUTH_IDENTITY_ANSI
#define SEC_WINNT_AUTH_IDENTITY_ANSI 0x1
#endif
#ifndef SEC_WINNT_AUTH_IDENTITY_UNICODE
#define SEC_WINNT_AUTH_IDENTITY_UNICODE 0x2
#endif

/* Authentication services accepted by FwpmEngineOpen0 (rpcdce.h). */
#ifndef RPC_C_AUTHN_NONE
#define RPC_C_AUTHN_NONE 0u
#endif
#ifndef RPC_C_AUTHN_WINNT
#define RPC_C_AUTHN_WINNT 10u
#endif
#ifndef RPC_C_AUTHN_DEFAULT
#define RPC_C_AUTHN_DEFAULT 0xFFFFFFFFu
#endif

#undef FWPM_WINTYPES_CHECK

#ifdef __cplusplus
}
#endif

#endif /* FWPM_WINTYPES_H */
