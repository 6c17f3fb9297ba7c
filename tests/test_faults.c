/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_faults.c - out of memory at any step (contract §3.3): for each API call,
 * make the 1st, 2nd, ... library allocation fail until the call succeeds.
 * Every failing run must return ERROR_NOT_ENOUGH_MEMORY, leave no half-made
 * session or handle, move no cursor, leak nothing; the engine then works.
 */
#include "support.h"

#include "memory.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_LIMIT 64 /* no call needs more allocations than this */

static UINT64 open_sessions(void)
{
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    return st.openSessions;
}

/* Opens with allocation n failing, for n = 1, 2, ...; returns the handle. */
static HANDLE open_through_failures(const FWPM_SESSION0 *s, unsigned *failures)
{
    UINT64 sessions = open_sessions();
    UINT64 bytes = live_bytes_now();
    for (unsigned n = 1; n < SWEEP_LIMIT; n++) {
        HANDLE h = (HANDLE)(uintptr_t)0x77;
        memory_fail_nth(n);
        DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, s, &h);
        memory_fail_nth(0);
        if (status == ERROR_SUCCESS) {
            *failures += n - 1;
            return h;
        }
        cr_assert_eq(status, ERROR_NOT_ENOUGH_MEMORY, "n=%u: %s", n, fwpm_strerror(status));
        cr_assert_eq(h, (HANDLE)(uintptr_t)0x77, "n=%u: failed open wrote the handle", n);
        cr_assert_eq(open_sessions(), sessions, "n=%u: half-open session", n);
        cr_assert_eq(live_bytes_now(), bytes, "n=%u: leaked", n);
    }
    cr_assert_fail("open never succeeded");
    return NULL;
}

Test(faults, failed_open_at_any_allocation_changes_nothing)
{
    FwpmEngineClose0(NULL);
    UINT64 base = live_bytes_now();
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = L"name";
    s.displayData.description = L"description";
    /* Through 300 opens the table and the tree grow several times: each
     * growth step is swept too. */
    enum { N = 300 };
    HANDLE h[N];
    unsigned failures = 0;
    for (int i = 0; i < N; i++)
        h[i] = open_through_failures(&s, &failures);
    cr_assert_gt(failures, N, "every open has failure points");
    GUID keys[N + 1];
    cr_assert_eq(enumerate_keys(h[0], 37, true, keys, N + 1), N);
    for (int i = 0; i < N; i++)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base);
}

Test(faults, failed_close_keeps_the_session)
{
    FwpmEngineClose0(NULL);
    UINT64 base = live_bytes_now();
    enum { N = 200 };
    HANDLE h[N];
    for (int i = 0; i < N; i++)
        h[i] = open_session();
    for (int i = 0; i < N; i++) {
        UINT64 sessions = open_sessions();
        for (unsigned n = 1;; n++) {
            cr_assert_lt(n, SWEEP_LIMIT);
            memory_fail_nth(n);
            DWORD status = FwpmEngineClose0(h[(i * 7) % N]);
            memory_fail_nth(0);
            if (status == ERROR_SUCCESS)
                break;
            cr_assert_eq(status, ERROR_NOT_ENOUGH_MEMORY, "%s", fwpm_strerror(status));
            cr_assert_eq(open_sessions(), sessions, "a failed close removed the session");
        }
        cr_assert_eq(open_sessions(), sessions - 1);
    }
    cr_assert_eq(live_bytes_now(), base);
}

Test(faults, failed_create_or_page_changes_nothing)
{
    FwpmEngineClose0(NULL);
    UINT64 base = live_bytes_now();
    enum { N = 150 };
    HANDLE h[N];
    for (int i = 0; i < N; i++)
        h[i] = open_session();
    UINT64 before = live_bytes_now();
    HANDLE e = NULL;
    for (unsigned n = 1;; n++) {
        cr_assert_lt(n, SWEEP_LIMIT);
        memory_fail_nth(n);
        DWORD status = FwpmSessionCreateEnumHandle0(h[0], NULL, &e);
        memory_fail_nth(0);
        if (status == ERROR_SUCCESS)
            break;
        cr_assert_eq(status, ERROR_NOT_ENOUGH_MEMORY);
        cr_assert_null(e);
        cr_assert_eq(live_bytes_now(), before, "n=%u: leaked", n);
    }
    /* Pages: every failure must leave the cursor where it was. */
    size_t delivered = 0;
    for (;;) {
        FWPM_SESSION0 **entries = NULL;
        UINT32 got = 0;
        DWORD status;
        for (unsigned n = 1;; n++) {
            cr_assert_lt(n, SWEEP_LIMIT);
            memory_fail_nth(n);
            status = FwpmSessionEnum0(h[0], e, 13, &entries, &got);
            memory_fail_nth(0);
            if (status == ERROR_SUCCESS)
                break;
            cr_assert_eq(status, ERROR_NOT_ENOUGH_MEMORY);
        }
        delivered += got;
        FwpmFreeMemory0((void **)&entries);
        if (got < 13)
            break;
    }
    cr_assert_eq(delivered, N, "failed pages moved the cursor");
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(h[0], e), ERROR_SUCCESS);
    for (int i = 0; i < N; i++)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base);
}

Test(faults, destroy_needs_no_memory)
{
    HANDLE h = open_session();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(h, NULL, &e), ERROR_SUCCESS);
    memory_fail_nth(1);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(h, e), ERROR_SUCCESS);
    memory_fail_nth(0);
    close_session(h);
}
