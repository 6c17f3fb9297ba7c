/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_errors.c - fwpm_error_name() and fwpm_strerror() (core/errors.c):
 * every code of fwpm_winerror.h has its Windows name and a one-line message
 * "NAME (value): text"; names are unique; unknown codes give UNKNOWN_ERROR;
 * nothing returns NULL and the strings are static.
 */
#include <criterion/criterion.h>
#include <fwpm_linux.h>

#include <stdio.h>
#include <string.h>

/* The WFP codes: 0x80320001..0x80320044, and 0x80320104. */
#define FWP_FIRST 0x80320001u
#define FWP_LAST 0x80320044u

static const DWORD small_codes[] = {
    ERROR_SUCCESS,           ERROR_INVALID_HANDLE,
    ERROR_NOT_ENOUGH_MEMORY, ERROR_NOT_SUPPORTED,
    ERROR_INVALID_PARAMETER, RPC_S_SERVER_UNAVAILABLE,
    RPC_S_CALL_FAILED,       ERROR_ACCESS_DENIED,
    ERROR_NOT_ENOUGH_QUOTA,  RPC_S_UNKNOWN_AUTHN_SERVICE,
    EPT_S_NOT_REGISTERED,
};
#define N_SMALL (sizeof small_codes / sizeof small_codes[0])
#define N_FWP ((size_t)(FWP_LAST - FWP_FIRST + 1) + 1)

static DWORD fwp_code(size_t i)
{
    return i < N_FWP - 1 ? FWP_FIRST + (DWORD)i : FWP_E_DROP_NOICMP;
}

/* The message must be exactly "<name> (<value>): <text>" with a non-empty
 * one-line text; value is "0x%08X" for HRESULT-style codes, else decimal. */
static void check_line(DWORD code, int hex)
{
    const char *name = fwpm_error_name(code);
    const char *line = fwpm_strerror(code);
    char prefix[128];

    cr_assert_not_null(name, "fwpm_error_name(0x%08X) is NULL", (unsigned)code);
    cr_assert_not_null(line, "fwpm_strerror(0x%08X) is NULL", (unsigned)code);
    cr_assert_str_neq(name, "UNKNOWN_ERROR", "code 0x%08X has no name", (unsigned)code);
    if (hex)
        snprintf(prefix, sizeof prefix, "%s (0x%08X): ", name, (unsigned)code);
    else
        snprintf(prefix, sizeof prefix, "%s (%u): ", name, (unsigned)code);
    cr_assert(strncmp(line, prefix, strlen(prefix)) == 0, "\"%s\" does not start with \"%s\"", line,
              prefix);
    cr_assert(strlen(line) > strlen(prefix) + 1, "\"%s\" has no message text", line);
    cr_assert_null(strchr(line, '\n'), "\"%s\" is not one line", line);
    /* Static: the same string every time. */
    cr_assert_eq(fwpm_strerror(code), line);
    cr_assert_eq(fwpm_error_name(code), name);
}

Test(errors, every_fwp_code_is_named)
{
    for (size_t i = 0; i < N_FWP; i++) {
        DWORD code = fwp_code(i);
        const char *name = fwpm_error_name(code);
        char hex[16];

        cr_assert_not_null(name);
        cr_assert(strncmp(name, "FWP_E_", 6) == 0, "0x%08X is named %s", (unsigned)code, name);
        check_line(code, 1);
        snprintf(hex, sizeof hex, "0x%08X", (unsigned)code);
        cr_assert_not_null(strstr(fwpm_strerror(code), name));
        cr_assert_not_null(strstr(fwpm_strerror(code), hex), "%s lacks %s", fwpm_strerror(code),
                           hex);
    }
}

Test(errors, small_codes_are_decimal)
{
    for (size_t i = 0; i < N_SMALL; i++)
        check_line(small_codes[i], 0);
}

Test(errors, names_match_the_sdk)
{
    static const struct {
        DWORD code;
        const char *name;
    } expected[] = {
        {0, "ERROR_SUCCESS"},
        {6, "ERROR_INVALID_HANDLE"},
        {8, "ERROR_NOT_ENOUGH_MEMORY"},
        {87, "ERROR_INVALID_PARAMETER"},
        {1747, "RPC_S_UNKNOWN_AUTHN_SERVICE"},
        {ERROR_SUCCESS, "ERROR_SUCCESS"},
        {ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE"},
        {ERROR_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY"},
        {ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER"},
        {RPC_S_UNKNOWN_AUTHN_SERVICE, "RPC_S_UNKNOWN_AUTHN_SERVICE"},
        {FWP_E_WRONG_SESSION, "FWP_E_WRONG_SESSION"},
        {FWP_E_NULL_POINTER, "FWP_E_NULL_POINTER"},
        {FWP_E_RESERVED, "FWP_E_RESERVED"},
        {FWP_E_INVALID_FLAGS, "FWP_E_INVALID_FLAGS"},
        {FWP_E_ALREADY_EXISTS, "FWP_E_ALREADY_EXISTS"},
        {FWP_E_INVALID_PARAMETER, "FWP_E_INVALID_PARAMETER"},
        {0x80320001u, "FWP_E_CALLOUT_NOT_FOUND"},
        {0x8032000Cu, "FWP_E_WRONG_SESSION"},
        {0x8032001Cu, "FWP_E_NULL_POINTER"},
        {0x8032001Eu, "FWP_E_INVALID_FLAGS"},
        {0x80320029u, "FWP_E_RESERVED"},
        {0x80320035u, "FWP_E_INVALID_PARAMETER"},
        {0x80320044u, "FWP_E_IKEEXT_NOT_RUNNING"},
        {0x80320104u, "FWP_E_DROP_NOICMP"},
    };

    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_assert_str_eq(fwpm_error_name(expected[i].code), expected[i].name);
    cr_assert_str_eq(fwpm_strerror(FWP_E_WRONG_SESSION),
                     "FWP_E_WRONG_SESSION (0x8032000C): The call was made from the wrong session "
                     "so cannot be completed.");
    cr_assert_str_eq(fwpm_strerror(ERROR_INVALID_HANDLE),
                     "ERROR_INVALID_HANDLE (6): The handle is invalid.");
}

Test(errors, names_are_unique)
{
    const char *names[N_FWP + N_SMALL];
    size_t n = 0;

    for (size_t i = 0; i < N_FWP; i++)
        names[n++] = fwpm_error_name(fwp_code(i));
    for (size_t i = 0; i < N_SMALL; i++)
        names[n++] = fwpm_error_name(small_codes[i]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_str_neq(names[i], names[j], "%s is used twice", names[i]);
}

Test(errors, unknown_codes)
{
    static const DWORD unknown[] = {
        0x12345678u, 1u,          2u,          86u,         0x80320000u,
        0x80320045u, 0x80320103u, 0x80320105u, 0xFFFFFFFFu, 0x80070006u,
    };

    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = fwpm_error_name(unknown[i]);
        const char *line = fwpm_strerror(unknown[i]);

        cr_assert_not_null(name);
        cr_assert_not_null(line);
        cr_assert_str_eq(name, "UNKNOWN_ERROR", "0x%08X is named %s", (unsigned)unknown[i], name);
        cr_assert(strncmp(line, "UNKNOWN_ERROR", 13) == 0, "%s", line);
    }
    /* Nothing between the contiguous block and FWP_E_DROP_NOICMP is named. */
    for (DWORD code = FWP_LAST + 1; code < FWP_E_DROP_NOICMP; code++)
        cr_assert_str_eq(fwpm_error_name(code), "UNKNOWN_ERROR");
}

Test(errors, never_null)
{
    static const DWORD probes[] = {0u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu};

    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        cr_assert_not_null(fwpm_error_name(probes[i]));
        cr_assert_not_null(fwpm_strerror(probes[i]));
    }
    for (DWORD code = 0; code < 4096; code++) {
        cr_assert_not_null(fwpm_error_name(code));
        cr_assert_not_null(fwpm_strerror(code));
    }
}
