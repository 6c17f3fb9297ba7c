/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_abi_layout.c - pins the public headers' ABI at compile time: sizes and
 * field offsets of the WFP structs (the SDK's layout on x86-64), base-type
 * widths, the SID layout, INFINITE, every FWP_E_* value from the Windows SDK,
 * the version-independent names of fwpvi.h and the function prototypes.
 * If this file compiles, the test has passed; main() only reports it.
 */
#include <fwpmu.h>

#include <stddef.h>
#include <stdio.h>

#define PIN(expr) _Static_assert(expr, #expr)

/* ---- base types ---------------------------------------------------------- */
PIN(sizeof(DWORD) == 4);
PIN(sizeof(UINT32) == 4);
PIN(sizeof(UINT64) == 8);
PIN(sizeof(BOOL) == 4);
PIN(sizeof(BYTE) == 1);
PIN(sizeof(HANDLE) == sizeof(void *));
PIN((DWORD)-1 > 0); /* DWORD is unsigned */
PIN((BOOL)-1 < 0);  /* BOOL is a signed int */
PIN(INFINITE == 0xFFFFFFFFu);
PIN(TRUE == 1 && FALSE == 0);

PIN(sizeof(GUID) == 16);
PIN(offsetof(GUID, Data1) == 0);
PIN(offsetof(GUID, Data2) == 4);
PIN(offsetof(GUID, Data3) == 6);
PIN(offsetof(GUID, Data4) == 8);

PIN(offsetof(SID, Revision) == 0);
PIN(offsetof(SID, SubAuthorityCount) == 1);
PIN(offsetof(SID, IdentifierAuthority) == 2);
PIN(sizeof(SID_IDENTIFIER_AUTHORITY) == 6);
PIN(offsetof(SID, SubAuthority) == 8);
PIN(sizeof(((SID *)0)->SubAuthority[0]) == 4);

PIN(RPC_C_AUTHN_WINNT == 10);
PIN(RPC_C_AUTHN_DEFAULT == 0xFFFFFFFFu);

/* ---- WFP structs --------------------------------------------------------- */
PIN(sizeof(FWPM_SESSION_ENUM_TEMPLATE0) == 8);
PIN(offsetof(FWPM_SESSION0, sessionKey) == 0);
PIN(FWPM_SESSION_FLAG_DYNAMIC == 0x00000001u);
PIN(FWPM_SESSION_FLAG_RESERVED == 0x10000000u);

#if defined(__x86_64__)
PIN(sizeof(FWPM_DISPLAY_DATA0) == 16);
PIN(offsetof(FWPM_DISPLAY_DATA0, name) == 0);
PIN(offsetof(FWPM_DISPLAY_DATA0, description) == 8);

PIN(sizeof(FWPM_SESSION0) == 72);
PIN(offsetof(FWPM_SESSION0, displayData) == 16);
PIN(offsetof(FWPM_SESSION0, flags) == 32);
PIN(offsetof(FWPM_SESSION0, txnWaitTimeoutInMSec) == 36);
PIN(offsetof(FWPM_SESSION0, processId) == 40);
PIN(offsetof(FWPM_SESSION0, sid) == 48);
PIN(offsetof(FWPM_SESSION0, username) == 56);
PIN(offsetof(FWPM_SESSION0, kernelMode) == 64);

PIN(sizeof(FWP_BYTE_BLOB) == 16);
#endif

/* ---- error codes (Windows SDK winerror.h) -------------------------------- */
PIN(ERROR_SUCCESS == 0);
PIN(ERROR_INVALID_HANDLE == 6);
PIN(ERROR_NOT_ENOUGH_MEMORY == 8);
PIN(ERROR_NOT_SUPPORTED == 50);
PIN(ERROR_INVALID_PARAMETER == 87);
PIN(RPC_S_SERVER_UNAVAILABLE == 1722);
PIN(RPC_S_UNKNOWN_AUTHN_SERVICE == 1747);
PIN(EPT_S_NOT_REGISTERED == 1753);

PIN(FWP_E_CALLOUT_NOT_FOUND == 0x80320001u);
PIN(FWP_E_CONDITION_NOT_FOUND == 0x80320002u);
PIN(FWP_E_FILTER_NOT_FOUND == 0x80320003u);
PIN(FWP_E_LAYER_NOT_FOUND == 0x80320004u);
PIN(FWP_E_PROVIDER_NOT_FOUND == 0x80320005u);
PIN(FWP_E_PROVIDER_CONTEXT_NOT_FOUND == 0x80320006u);
PIN(FWP_E_SUBLAYER_NOT_FOUND == 0x80320007u);
PIN(FWP_E_NOT_FOUND == 0x80320008u);
PIN(FWP_E_ALREADY_EXISTS == 0x80320009u);
PIN(FWP_E_IN_USE == 0x8032000Au);
PIN(FWP_E_DYNAMIC_SESSION_IN_PROGRESS == 0x8032000Bu);
PIN(FWP_E_WRONG_SESSION == 0x8032000Cu);
PIN(FWP_E_NO_TXN_IN_PROGRESS == 0x8032000Du);
PIN(FWP_E_TXN_IN_PROGRESS == 0x8032000Eu);
PIN(FWP_E_TXN_ABORTED == 0x8032000Fu);
PIN(FWP_E_SESSION_ABORTED == 0x80320010u);
PIN(FWP_E_INCOMPATIBLE_TXN == 0x80320011u);
PIN(FWP_E_TIMEOUT == 0x80320012u);
PIN(FWP_E_NET_EVENTS_DISABLED == 0x80320013u);
PIN(FWP_E_INCOMPATIBLE_LAYER == 0x80320014u);
PIN(FWP_E_KM_CLIENTS_ONLY == 0x80320015u);
PIN(FWP_E_LIFETIME_MISMATCH == 0x80320016u);
PIN(FWP_E_BUILTIN_OBJECT == 0x80320017u);
PIN(FWP_E_TOO_MANY_CALLOUTS == 0x80320018u);
PIN(FWP_E_NOTIFICATION_DROPPED == 0x80320019u);
PIN(FWP_E_TRAFFIC_MISMATCH == 0x8032001Au);
PIN(FWP_E_INCOMPATIBLE_SA_STATE == 0x8032001Bu);
PIN(FWP_E_NULL_POINTER == 0x8032001Cu);
PIN(FWP_E_INVALID_ENUMERATOR == 0x8032001Du);
PIN(FWP_E_INVALID_FLAGS == 0x8032001Eu);
PIN(FWP_E_INVALID_NET_MASK == 0x8032001Fu);
PIN(FWP_E_INVALID_RANGE == 0x80320020u);
PIN(FWP_E_INVALID_INTERVAL == 0x80320021u);
PIN(FWP_E_ZERO_LENGTH_ARRAY == 0x80320022u);
PIN(FWP_E_NULL_DISPLAY_NAME == 0x80320023u);
PIN(FWP_E_INVALID_ACTION_TYPE == 0x80320024u);
PIN(FWP_E_INVALID_WEIGHT == 0x80320025u);
PIN(FWP_E_MATCH_TYPE_MISMATCH == 0x80320026u);
PIN(FWP_E_TYPE_MISMATCH == 0x80320027u);
PIN(FWP_E_OUT_OF_BOUNDS == 0x80320028u);
PIN(FWP_E_RESERVED == 0x80320029u);
PIN(FWP_E_DUPLICATE_CONDITION == 0x8032002Au);
PIN(FWP_E_DUPLICATE_KEYMOD == 0x8032002Bu);
PIN(FWP_E_ACTION_INCOMPATIBLE_WITH_LAYER == 0x8032002Cu);
PIN(FWP_E_ACTION_INCOMPATIBLE_WITH_SUBLAYER == 0x8032002Du);
PIN(FWP_E_CONTEXT_INCOMPATIBLE_WITH_LAYER == 0x8032002Eu);
PIN(FWP_E_CONTEXT_INCOMPATIBLE_WITH_CALLOUT == 0x8032002Fu);
PIN(FWP_E_INCOMPATIBLE_AUTH_METHOD == 0x80320030u);
PIN(FWP_E_INCOMPATIBLE_DH_GROUP == 0x80320031u);
PIN(FWP_E_EM_NOT_SUPPORTED == 0x80320032u);
PIN(FWP_E_NEVER_MATCH == 0x80320033u);
PIN(FWP_E_PROVIDER_CONTEXT_MISMATCH == 0x80320034u);
PIN(FWP_E_INVALID_PARAMETER == 0x80320035u);
PIN(FWP_E_TOO_MANY_SUBLAYERS == 0x80320036u);
PIN(FWP_E_CALLOUT_NOTIFICATION_FAILED == 0x80320037u);
PIN(FWP_E_INVALID_AUTH_TRANSFORM == 0x80320038u);
PIN(FWP_E_INVALID_CIPHER_TRANSFORM == 0x80320039u);
PIN(FWP_E_INCOMPATIBLE_CIPHER_TRANSFORM == 0x8032003Au);
PIN(FWP_E_INVALID_TRANSFORM_COMBINATION == 0x8032003Bu);
PIN(FWP_E_DUPLICATE_AUTH_METHOD == 0x8032003Cu);
PIN(FWP_E_INVALID_TUNNEL_ENDPOINT == 0x8032003Du);
PIN(FWP_E_L2_DRIVER_NOT_READY == 0x8032003Eu);
PIN(FWP_E_KEY_DICTATOR_ALREADY_REGISTERED == 0x8032003Fu);
PIN(FWP_E_KEY_DICTATION_INVALID_KEYING_MATERIAL == 0x80320040u);
PIN(FWP_E_CONNECTIONS_DISABLED == 0x80320041u);
PIN(FWP_E_INVALID_DNS_NAME == 0x80320042u);
PIN(FWP_E_STILL_ON == 0x80320043u);
PIN(FWP_E_IKEEXT_NOT_RUNNING == 0x80320044u);
PIN(FWP_E_DROP_NOICMP == 0x80320104u);

/* ---- fwpvi.h: version-independent names ---------------------------------- */
#define SAME_TYPE(expr, type) _Generic((expr), type : 1, default : 0)

/* Field types, which sizes and offsets alone do not pin (a wider kernelMode
 * would still end at 72 bytes). Unevaluated, so the null pointer is fine. */
#define FIELD(type, member) (((type *)0)->member)
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, sessionKey), GUID));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, displayData), FWPM_DISPLAY_DATA0));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, flags), UINT32));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, txnWaitTimeoutInMSec), UINT32));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, processId), DWORD));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, sid), SID *));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, username), wchar_t *));
PIN(SAME_TYPE(FIELD(FWPM_SESSION0, kernelMode), BOOL));
PIN(SAME_TYPE(FIELD(FWPM_DISPLAY_DATA0, name), wchar_t *));
PIN(SAME_TYPE(FIELD(FWPM_DISPLAY_DATA0, description), wchar_t *));
PIN(SAME_TYPE(FIELD(FWPM_SESSION_ENUM_TEMPLATE0, reserved), UINT64));
PIN(SAME_TYPE(FIELD(SID, Revision), BYTE));
PIN(SAME_TYPE(FIELD(SID, SubAuthorityCount), BYTE));
PIN(SAME_TYPE(FIELD(SID, SubAuthority)[0], DWORD));

PIN(SAME_TYPE((FWPM_SESSION *)0, FWPM_SESSION0 *));
PIN(SAME_TYPE((FWPM_DISPLAY_DATA *)0, FWPM_DISPLAY_DATA0 *));
PIN(SAME_TYPE((FWPM_SESSION_ENUM_TEMPLATE *)0, FWPM_SESSION_ENUM_TEMPLATE0 *));

/* ---- prototypes (unevaluated: no link dependency) ------------------------ */
PIN(SAME_TYPE(&FwpmEngineOpen0, DWORD (*)(const wchar_t *, UINT32, SEC_WINNT_AUTH_IDENTITY_W *,
                                          const FWPM_SESSION0 *, HANDLE *)));
PIN(SAME_TYPE(&FwpmEngineClose0, DWORD (*)(HANDLE)));
PIN(SAME_TYPE(&FwpmSessionCreateEnumHandle0,
              DWORD (*)(HANDLE, const FWPM_SESSION_ENUM_TEMPLATE0 *, HANDLE *)));
PIN(SAME_TYPE(&FwpmSessionEnum0, DWORD (*)(HANDLE, HANDLE, UINT32, FWPM_SESSION0 ***, UINT32 *)));
PIN(SAME_TYPE(&FwpmSessionDestroyEnumHandle0, DWORD (*)(HANDLE, HANDLE)));
PIN(SAME_TYPE(&FwpmFreeMemory0, void (*)(void **)));

PIN(SAME_TYPE(&FwpmEngineOpen, DWORD (*)(const wchar_t *, UINT32, SEC_WINNT_AUTH_IDENTITY_W *,
                                         const FWPM_SESSION0 *, HANDLE *)));
PIN(SAME_TYPE(&FwpmEngineClose, DWORD (*)(HANDLE)));
PIN(SAME_TYPE(&FwpmSessionCreateEnumHandle,
              DWORD (*)(HANDLE, const FWPM_SESSION_ENUM_TEMPLATE0 *, HANDLE *)));
PIN(SAME_TYPE(&FwpmSessionEnum, DWORD (*)(HANDLE, HANDLE, UINT32, FWPM_SESSION0 ***, UINT32 *)));
PIN(SAME_TYPE(&FwpmSessionDestroyEnumHandle, DWORD (*)(HANDLE, HANDLE)));
PIN(SAME_TYPE(&FwpmFreeMemory, void (*)(void **)));

int main(void)
{
    /* The version-independent names are usable as written in Windows code. */
    FWPM_SESSION s = {0};
    FWPM_SESSION0 *p = &s;
    FWPM_DISPLAY_DATA *dd = &p->displayData;
    FWPM_SESSION_ENUM_TEMPLATE t = {0};

    if (dd->name != NULL || t.reserved != 0)
        return 1;
    puts("header ABI pinned: all static assertions hold");
    return 0;
}
