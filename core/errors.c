/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * errors.c - readable error codes: fwpm_error_name() and fwpm_strerror().
 *
 * Owns the one table of every code in fwpm_winerror.h with its symbolic name
 * and its Windows message text (winerror.h MessageText). Each entry's full
 * "NAME (value): message" line is a string literal built at compile time, so
 * both functions return static strings, never allocate and are thread-safe.
 */
#include "fwpm_linux.h"

#include <stddef.h>

struct fwpm_error_entry {
    DWORD code;
    const char *name;
    const char *message;
    const char *line; /* "NAME (value): message" */
};

/* The name is the macro's own spelling, so it cannot drift from the header;
 * the value text is checked against the code by tests/headers/test_errors.c. */
#define FWPM_ERR(sym, value, msg)                                                                  \
    {                                                                                              \
        sym, #sym, msg, #sym " (" value "): " msg                                                  \
    }

static const struct fwpm_error_entry fwpm_errors[] = {
    /* Win32 and RPC codes (decimal, as Windows prints them). */
    FWPM_ERR(ERROR_SUCCESS, "0", "The operation completed successfully."),
    FWPM_ERR(ERROR_ACCESS_DENIED, "5", "Access is denied."),
    FWPM_ERR(ERROR_INVALID_HANDLE, "6", "The handle is invalid."),
    FWPM_ERR(ERROR_NOT_ENOUGH_MEMORY, "8",
             "Not enough memory resources are available to process this command."),
    FWPM_ERR(ERROR_NOT_SUPPORTED, "50", "The request is not supported."),
    FWPM_ERR(ERROR_INVALID_PARAMETER, "87", "The parameter is incorrect."),
    FWPM_ERR(RPC_S_SERVER_UNAVAILABLE, "1722", "The RPC server is unavailable."),
    FWPM_ERR(RPC_S_CALL_FAILED, "1726", "The remote procedure call failed."),
    FWPM_ERR(RPC_S_UNKNOWN_AUTHN_SERVICE, "1747", "The authentication service is unknown."),
    FWPM_ERR(EPT_S_NOT_REGISTERED, "1753",
             "There are no more endpoints available from the endpoint mapper."),
    FWPM_ERR(ERROR_NOT_ENOUGH_QUOTA, "1816",
             "Not enough quota is available to process this command."),

    /* Windows Filtering Platform (facility 0x32). */
    FWPM_ERR(FWP_E_CALLOUT_NOT_FOUND, "0x80320001", "The callout does not exist."),
    FWPM_ERR(FWP_E_CONDITION_NOT_FOUND, "0x80320002", "The filter condition does not exist."),
    FWPM_ERR(FWP_E_FILTER_NOT_FOUND, "0x80320003", "The filter does not exist."),
    FWPM_ERR(FWP_E_LAYER_NOT_FOUND, "0x80320004", "The layer does not exist."),
    FWPM_ERR(FWP_E_PROVIDER_NOT_FOUND, "0x80320005", "The provider does not exist."),
    FWPM_ERR(FWP_E_PROVIDER_CONTEXT_NOT_FOUND, "0x80320006",
             "The provider context does not exist."),
    FWPM_ERR(FWP_E_SUBLAYER_NOT_FOUND, "0x80320007", "The sublayer does not exist."),
    FWPM_ERR(FWP_E_NOT_FOUND, "0x80320008", "The object does not exist."),
    FWPM_ERR(FWP_E_ALREADY_EXISTS, "0x80320009",
             "An object with that GUID or LUID already exists."),
    FWPM_ERR(FWP_E_IN_USE, "0x8032000A",
             "The object is referenced by other objects so cannot be deleted."),
    FWPM_ERR(FWP_E_DYNAMIC_SESSION_IN_PROGRESS, "0x8032000B",
             "The call is not allowed from within a dynamic session."),
    FWPM_ERR(FWP_E_WRONG_SESSION, "0x8032000C",
             "The call was made from the wrong session so cannot be completed."),
    FWPM_ERR(FWP_E_NO_TXN_IN_PROGRESS, "0x8032000D",
             "The call must be made from within an explicit transaction."),
    FWPM_ERR(FWP_E_TXN_IN_PROGRESS, "0x8032000E",
             "The call is not allowed from within an explicit transaction."),
    FWPM_ERR(FWP_E_TXN_ABORTED, "0x8032000F",
             "The explicit transaction has been forcibly cancelled."),
    FWPM_ERR(FWP_E_SESSION_ABORTED, "0x80320010", "The session has been cancelled."),
    FWPM_ERR(FWP_E_INCOMPATIBLE_TXN, "0x80320011",
             "The call is not allowed from within a read-only transaction."),
    FWPM_ERR(FWP_E_TIMEOUT, "0x80320012",
             "The call timed out while waiting to acquire the transaction lock."),
    FWPM_ERR(FWP_E_NET_EVENTS_DISABLED, "0x80320013",
             "Collection of network diagnostic events is disabled."),
    FWPM_ERR(FWP_E_INCOMPATIBLE_LAYER, "0x80320014",
             "The operation is not supported by the specified layer."),
    FWPM_ERR(FWP_E_KM_CLIENTS_ONLY, "0x80320015",
             "The call is allowed for kernel-mode callers only."),
    FWPM_ERR(FWP_E_LIFETIME_MISMATCH, "0x80320016",
             "The call tried to associate two objects with incompatible lifetimes."),
    FWPM_ERR(FWP_E_BUILTIN_OBJECT, "0x80320017", "The object is built in so cannot be deleted."),
    FWPM_ERR(FWP_E_TOO_MANY_CALLOUTS, "0x80320018",
             "The maximum number of callouts has been reached."),
    FWPM_ERR(FWP_E_NOTIFICATION_DROPPED, "0x80320019",
             "A notification could not be delivered because a message queue is at its maximum "
             "capacity."),
    FWPM_ERR(FWP_E_TRAFFIC_MISMATCH, "0x8032001A",
             "The traffic parameters do not match those for the security association context."),
    FWPM_ERR(FWP_E_INCOMPATIBLE_SA_STATE, "0x8032001B",
             "The call is not allowed for the current security association state."),
    FWPM_ERR(FWP_E_NULL_POINTER, "0x8032001C", "A required pointer is null."),
    FWPM_ERR(FWP_E_INVALID_ENUMERATOR, "0x8032001D", "An enumerator is not valid."),
    FWPM_ERR(FWP_E_INVALID_FLAGS, "0x8032001E", "The flags field contains an invalid value."),
    FWPM_ERR(FWP_E_INVALID_NET_MASK, "0x8032001F", "A network mask is not valid."),
    FWPM_ERR(FWP_E_INVALID_RANGE, "0x80320020", "An FWP_RANGE is not valid."),
    FWPM_ERR(FWP_E_INVALID_INTERVAL, "0x80320021", "The time interval is not valid."),
    FWPM_ERR(FWP_E_ZERO_LENGTH_ARRAY, "0x80320022",
             "An array that must contain at least one element is zero length."),
    FWPM_ERR(FWP_E_NULL_DISPLAY_NAME, "0x80320023", "The displayData.name field cannot be null."),
    FWPM_ERR(FWP_E_INVALID_ACTION_TYPE, "0x80320024",
             "The action type is not one of the allowed action types for a filter."),
    FWPM_ERR(FWP_E_INVALID_WEIGHT, "0x80320025", "The filter weight is not valid."),
    FWPM_ERR(FWP_E_MATCH_TYPE_MISMATCH, "0x80320026",
             "A filter condition contains a match type that is not compatible with the operands."),
    FWPM_ERR(FWP_E_TYPE_MISMATCH, "0x80320027",
             "An FWP_VALUE or FWPM_CONDITION_VALUE is of the wrong type."),
    FWPM_ERR(FWP_E_OUT_OF_BOUNDS, "0x80320028", "An integer value is outside the allowed range."),
    FWPM_ERR(FWP_E_RESERVED, "0x80320029", "A reserved field is non-zero."),
    FWPM_ERR(FWP_E_DUPLICATE_CONDITION, "0x8032002A",
             "A filter cannot contain multiple conditions operating on a single field."),
    FWPM_ERR(FWP_E_DUPLICATE_KEYMOD, "0x8032002B",
             "A policy cannot contain the same keying module more than once."),
    FWPM_ERR(FWP_E_ACTION_INCOMPATIBLE_WITH_LAYER, "0x8032002C",
             "The action type is not compatible with the layer."),
    FWPM_ERR(FWP_E_ACTION_INCOMPATIBLE_WITH_SUBLAYER, "0x8032002D",
             "The action type is not compatible with the sublayer."),
    FWPM_ERR(FWP_E_CONTEXT_INCOMPATIBLE_WITH_LAYER, "0x8032002E",
             "The raw context or the provider context is not compatible with the layer."),
    FWPM_ERR(FWP_E_CONTEXT_INCOMPATIBLE_WITH_CALLOUT, "0x8032002F",
             "The raw context or the provider context is not compatible with the callout."),
    FWPM_ERR(FWP_E_INCOMPATIBLE_AUTH_METHOD, "0x80320030",
             "The authentication method is not compatible with the policy type."),
    FWPM_ERR(FWP_E_INCOMPATIBLE_DH_GROUP, "0x80320031",
             "The Diffie-Hellman group is not compatible with the policy type."),
    FWPM_ERR(FWP_E_EM_NOT_SUPPORTED, "0x80320032",
             "An IKE policy cannot contain an Extended Mode policy."),
    FWPM_ERR(FWP_E_NEVER_MATCH, "0x80320033",
             "The enumeration template or subscription will never match any objects."),
    FWPM_ERR(FWP_E_PROVIDER_CONTEXT_MISMATCH, "0x80320034",
             "The provider context is of the wrong type."),
    FWPM_ERR(FWP_E_INVALID_PARAMETER, "0x80320035", "The parameter is incorrect."),
    FWPM_ERR(FWP_E_TOO_MANY_SUBLAYERS, "0x80320036",
             "The maximum number of sublayers has been reached."),
    FWPM_ERR(FWP_E_CALLOUT_NOTIFICATION_FAILED, "0x80320037",
             "The notification function for a callout returned an error."),
    FWPM_ERR(FWP_E_INVALID_AUTH_TRANSFORM, "0x80320038",
             "The IPsec authentication transform is not valid."),
    FWPM_ERR(FWP_E_INVALID_CIPHER_TRANSFORM, "0x80320039",
             "The IPsec cipher transform is not valid."),
    FWPM_ERR(FWP_E_INCOMPATIBLE_CIPHER_TRANSFORM, "0x8032003A",
             "The IPsec cipher transform is not compatible with the policy."),
    FWPM_ERR(FWP_E_INVALID_TRANSFORM_COMBINATION, "0x8032003B",
             "The combination of IPsec transform types is not valid."),
    FWPM_ERR(FWP_E_DUPLICATE_AUTH_METHOD, "0x8032003C",
             "A policy cannot contain the same auth method more than once."),
    FWPM_ERR(FWP_E_INVALID_TUNNEL_ENDPOINT, "0x8032003D",
             "A tunnel endpoint configuration is invalid."),
    FWPM_ERR(FWP_E_L2_DRIVER_NOT_READY, "0x8032003E", "The WFP MAC Layers are not ready."),
    FWPM_ERR(FWP_E_KEY_DICTATOR_ALREADY_REGISTERED, "0x8032003F",
             "A key manager capable of key dictation is already registered"),
    FWPM_ERR(FWP_E_KEY_DICTATION_INVALID_KEYING_MATERIAL, "0x80320040",
             "A key manager dictated invalid keys"),
    FWPM_ERR(FWP_E_CONNECTIONS_DISABLED, "0x80320041",
             "The BFE IPsec Connection Tracking is disabled."),
    FWPM_ERR(FWP_E_INVALID_DNS_NAME, "0x80320042", "The DNS name is invalid."),
    FWPM_ERR(FWP_E_STILL_ON, "0x80320043",
             "The engine option is still enabled due to other configuration settings."),
    FWPM_ERR(FWP_E_IKEEXT_NOT_RUNNING, "0x80320044",
             "The IKEEXT service is not running.  This service only runs when there is IPsec "
             "policy applied to the machine."),
    FWPM_ERR(FWP_E_DROP_NOICMP, "0x80320104",
             "The packet should be dropped, no ICMP should be sent."),
};

#undef FWPM_ERR

static const struct fwpm_error_entry *fwpm_error_find(DWORD code)
{
    for (size_t i = 0; i < sizeof fwpm_errors / sizeof fwpm_errors[0]; i++) {
        if (fwpm_errors[i].code == code)
            return &fwpm_errors[i];
    }
    return NULL;
}

const char *fwpm_error_name(DWORD code)
{
    const struct fwpm_error_entry *e = fwpm_error_find(code);
    return e ? e->name : "UNKNOWN_ERROR";
}

const char *fwpm_strerror(DWORD code)
{
    const struct fwpm_error_entry *e = fwpm_error_find(code);
    return e ? e->line : "UNKNOWN_ERROR: unknown error code";
}
