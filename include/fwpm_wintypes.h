/*
 * fwpm_wintypes.h - the Windows base types that fwpm's API uses, for Linux.
 *
 * On Windows these come from <windows.h>; here fwpmu.h pulls them in so that
 * a client needs no other header. Widths follow the Windows SDK (LLP64 data
 * model for the fixed-size names): DWORD and UINT32 are 32-bit unsigned, BOOL
 * is a 32-bit int, HANDLE is an opaque pointer.
 */
#ifndef FWPM_WINTYPES_H
#define FWPM_WINTYPES_H

#include <stddef.h>
#include <stdint.h>
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
typedef void *HANDLE;
typedef wchar_t WCHAR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* "Wait forever" / "as many as there are": 0xFFFFFFFF. */
#define INFINITE 0xFFFFFFFFu

/* A 128-bit globally unique identifier, laid out as in guiddef.h. */
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

/* A security identifier (winnt.h): a variable-length structure whose
 * SubAuthority array holds SubAuthorityCount entries. */
typedef struct _SID_IDENTIFIER_AUTHORITY {
    BYTE Value[6];
} SID_IDENTIFIER_AUTHORITY;

typedef struct _SID {
    BYTE Revision;
    BYTE SubAuthorityCount;
    SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
    DWORD SubAuthority[1];
} SID;

/* Explicit credentials for a remote engine (rpcdce.h). fwpm accepts and
 * ignores them: it only serves the in-process engine. */
typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
    wchar_t *User;
    uint32_t UserLength;
    wchar_t *Domain;
    uint32_t DomainLength;
    wchar_t *Password;
    uint32_t PasswordLength;
    uint32_t Flags;
} SEC_WINNT_AUTH_IDENTITY_W;

#define SEC_WINNT_AUTH_IDENTITY_ANSI 0x1
#define SEC_WINNT_AUTH_IDENTITY_UNICODE 0x2

/* Authentication services accepted by FwpmEngineOpen0 (rpcdce.h). */
#define RPC_C_AUTHN_NONE 0u
#define RPC_C_AUTHN_WINNT 10u
#define RPC_C_AUTHN_DEFAULT 0xFFFFFFFFu

#ifdef __cplusplus
}
#endif

#endif /* FWPM_WINTYPES_H */
