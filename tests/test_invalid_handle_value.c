/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_invalid_handle_value.c - INVALID_HANDLE_VALUE, the "no handle yet"
 * value of Windows client code (contract §3.2, §1.3): given as the engine
 * handle or the enumeration handle to every function that takes one, it gets
 * ERROR_INVALID_HANDLE and the call changes nothing (outputs, sessions,
 * cursors); no function ever returns it as a handle; the handle table rejects
 * it without reading a slot. (That it is all ones is checked with the other
 * Windows base names, in tests/headers/check_windows_names.c.)
 */
#include "support.h"

#include "handles.h"

#include <criterion/criterion.h>

/* An open session with one enumeration handle over a snapshot holding it. */
struct fixture {
    HANDLE engine;
    HANDLE enumeration;
};

static struct fixture open_fixture(void)
{
    struct fixture f = {INVALID_HANDLE_VALUE, INVALID_HANDLE_VALUE};
    f.engine = open_named(L"invalid-handle-value", NULL);
    cr_assert_neq(f.engine, INVALID_HANDLE_VALUE);
    cr_assert_eq(FwpmSessionCreateEnumHandle0(f.engine, NULL, &f.enumeration), ERROR_SUCCESS);
    cr_assert_neq(f.enumeration, INVALID_HANDLE_VALUE);
    return f;
}

/* The fixture still works: its cursor has not moved (the first page holds the
 * whole snapshot), and both handles can be destroyed and closed. */
static void close_fixture(struct fixture f, UINT32 sessions_expected)
{
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    cr_assert_eq(FwpmSessionEnum0(f.engine, f.enumeration, 1000, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, sessions_expected, "a rejected call moved the cursor");
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(f.engine, f.enumeration), ERROR_SUCCESS);
    close_session(f.engine);
}

static UINT64 open_sessions_now(void)
{
    FWPM_MEMORY_STATS0 stats;
    cr_assert_eq(fwpm_memory_stats(&stats), ERROR_SUCCESS);
    return stats.openSessions;
}

Test(invalid_handle_value, is_rejected_as_engine_handle)
{
    struct fixture f = open_fixture();
    UINT64 open_before = open_sessions_now();

    cr_assert_eq(FwpmEngineClose0(INVALID_HANDLE_VALUE), ERROR_INVALID_HANDLE);
    cr_assert_eq(open_sessions_now(), open_before, "a rejected close closed a session");

    HANDLE enum_handle = INVALID_HANDLE_VALUE;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(INVALID_HANDLE_VALUE, NULL, &enum_handle),
                 ERROR_INVALID_HANDLE);
    cr_assert_eq(enum_handle, INVALID_HANDLE_VALUE, "a rejected create wrote the handle");
    FWPM_SESSION_ENUM_TEMPLATE0 template_zero = {0};
    cr_assert_eq(FwpmSessionCreateEnumHandle0(INVALID_HANDLE_VALUE, &template_zero, &enum_handle),
                 ERROR_INVALID_HANDLE);
    cr_assert_eq(enum_handle, INVALID_HANDLE_VALUE);

    /* With the fixture's valid enumeration handle: not FWP_E_WRONG_SESSION,
     * the engine handle itself is bad. */
    FWPM_SESSION0 **entries = (FWPM_SESSION0 **)&f;
    UINT32 n = 7;
    cr_assert_eq(FwpmSessionEnum0(INVALID_HANDLE_VALUE, f.enumeration, 10, &entries, &n),
                 ERROR_INVALID_HANDLE);
    cr_assert_eq(entries, (FWPM_SESSION0 **)&f, "a rejected page wrote *entries");
    cr_assert_eq(n, 7, "a rejected page wrote *numEntriesReturned");
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(INVALID_HANDLE_VALUE, f.enumeration),
                 ERROR_INVALID_HANDLE);

    close_fixture(f, (UINT32)open_before);
}

Test(invalid_handle_value, is_rejected_as_enumeration_handle)
{
    struct fixture f = open_fixture();
    UINT64 open_before = open_sessions_now();

    FWPM_SESSION0 **entries = (FWPM_SESSION0 **)&f;
    UINT32 n = 7;
    cr_assert_eq(FwpmSessionEnum0(f.engine, INVALID_HANDLE_VALUE, 10, &entries, &n),
                 ERROR_INVALID_HANDLE);
    cr_assert_eq(entries, (FWPM_SESSION0 **)&f);
    cr_assert_eq(n, 7);
    cr_assert_eq(FwpmSessionEnum0(f.engine, INVALID_HANDLE_VALUE, 0, &entries, &n),
                 ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(f.engine, INVALID_HANDLE_VALUE),
                 ERROR_INVALID_HANDLE);

    close_fixture(f, (UINT32)open_before);
}

Test(invalid_handle_value, is_rejected_as_both_handles)
{
    struct fixture f = open_fixture();
    UINT64 open_before = open_sessions_now();

    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 7;
    cr_assert_eq(FwpmSessionEnum0(INVALID_HANDLE_VALUE, INVALID_HANDLE_VALUE, 10, &entries, &n),
                 ERROR_INVALID_HANDLE);
    cr_assert_null(entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(INVALID_HANDLE_VALUE, INVALID_HANDLE_VALUE),
                 ERROR_INVALID_HANDLE);

    close_fixture(f, (UINT32)open_before);
}

/* The null-pointer checks still come first, as for any handle value. */
Test(invalid_handle_value, null_out_pointers_are_reported_before_it)
{
    UINT32 n;
    FWPM_SESSION0 **entries;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(INVALID_HANDLE_VALUE, NULL, NULL),
                 FWP_E_NULL_POINTER);
    cr_assert_eq(FwpmSessionEnum0(INVALID_HANDLE_VALUE, INVALID_HANDLE_VALUE, 1, NULL, &n),
                 FWP_E_NULL_POINTER);
    cr_assert_eq(FwpmSessionEnum0(INVALID_HANDLE_VALUE, INVALID_HANDLE_VALUE, 1, &entries, NULL),
                 FWP_E_NULL_POINTER);
}

/* Windows code initialises the out-handle with INVALID_HANDLE_VALUE: a
 * failed open leaves it there, a successful one never produces it. */
Test(invalid_handle_value, open_and_create_never_return_it)
{
    HANDLE engine = INVALID_HANDLE_VALUE;
    FWPM_SESSION0 bad_flags = {0};
    bad_flags.flags = FWPM_SESSION_FLAG_RESERVED;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &bad_flags, &engine),
                 FWP_E_INVALID_FLAGS);
    cr_assert_eq(engine, INVALID_HANDLE_VALUE, "a failed open wrote the handle");
    cr_assert_eq(FwpmEngineOpen0(L"remote", RPC_C_AUTHN_WINNT, NULL, NULL, &engine),
                 ERROR_INVALID_PARAMETER);
    cr_assert_eq(engine, INVALID_HANDLE_VALUE);

    for (int i = 0; i < 2000; i++) {
        engine = INVALID_HANDLE_VALUE;
        cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &engine), ERROR_SUCCESS);
        cr_assert_neq(engine, INVALID_HANDLE_VALUE);
        HANDLE enum_handle = INVALID_HANDLE_VALUE;
        cr_assert_eq(FwpmSessionCreateEnumHandle0(engine, NULL, &enum_handle), ERROR_SUCCESS);
        cr_assert_neq(enum_handle, INVALID_HANDLE_VALUE);
        cr_assert_eq(FwpmSessionDestroyEnumHandle0(engine, enum_handle), ERROR_SUCCESS);
        /* Once destroyed or closed, the values are as invalid as it is. */
        cr_assert_eq(FwpmSessionDestroyEnumHandle0(engine, enum_handle), ERROR_INVALID_HANDLE);
        close_session(engine);
        cr_assert_eq(FwpmEngineClose0(engine), ERROR_INVALID_HANDLE);
    }
}

/* The table itself: all ones carries no valid tag, so it is rejected before a
 * slot index is even computed (see the static assertions in handles.c). */
Test(invalid_handle_value, handle_table_rejects_it)
{
    HANDLE keep = open_session(); /* the table has slots */
    cr_assert_null(handles_lookup(INVALID_HANDLE_VALUE, HANDLE_KIND_ENGINE));
    cr_assert_null(handles_lookup(INVALID_HANDLE_VALUE, HANDLE_KIND_ENUM));
    cr_assert_not(handles_remove(INVALID_HANDLE_VALUE, HANDLE_KIND_ENGINE));
    cr_assert_not(handles_remove(INVALID_HANDLE_VALUE, HANDLE_KIND_ENUM));
    close_session(keep);
}
