/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_memory.c - contract §5 (memory): everything returns to its baseline once
 * sessions are closed and arrays freed; a closed session's memory lives
 * exactly as long as a snapshot or array refers to it; under endless churn
 * memory stays bounded by what is live.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <wchar.h>

static UINT64 baseline(void)
{
    FwpmEngineClose0(NULL); /* sets the engine up */
    return live_bytes_now();
}

Test(memory, returns_to_baseline_after_everything_is_closed)
{
    UINT64 base = baseline();
    enum { N = 10000 };
    HANDLE *h = malloc(N * sizeof(HANDLE));
    for (int i = 0; i < N; i++)
        h[i] = open_named(L"session with a name", i % 2 ? L"and a description" : NULL);
    cr_assert_gt(live_bytes_now(), base + N * 100);
    HANDLE e[5];
    FWPM_SESSION0 **arrays[5];
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(FwpmSessionCreateEnumHandle0(h[k], NULL, &e[k]), ERROR_SUCCESS);
        UINT32 n;
        cr_assert_eq(FwpmSessionEnum0(h[k], e[k], 100 * (k + 1), &arrays[k], &n), ERROR_SUCCESS);
        close_session(h[N - 1 - k]); /* changes between handles: several versions */
    }
    for (int i = 0; i < N - 5; i++)
        close_session(h[i]); /* closes destroy their enumeration handles too */
    cr_assert_gt(live_bytes_now(), base, "returned arrays keep their entries");
    for (int k = 0; k < 5; k++)
        FwpmFreeMemory0((void **)&arrays[k]);
    cr_assert_eq(live_bytes_now(), base);
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    cr_assert_eq(st.openSessions, 0);
    cr_assert_eq(st.liveSnapshots, 1, "only the current (empty) version is left");
    free(h);
}

Test(memory, a_closed_session_lives_while_an_array_refers_to_it)
{
    UINT64 base = baseline();
    HANDLE self = open_session();
    HANDLE other = open_named(L"other", NULL);
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(self, e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_session(other);
    close_session(self);
    /* Both sessions are closed and the handle is gone: only the array keeps
     * them, and they are still whole. */
    UINT64 held = live_bytes_now();
    cr_assert_gt(held, base + 2 * 100);
    cr_assert_eq(n, 2);
    int named = 0;
    for (UINT32 i = 0; i < n; i++) {
        cr_assert_not_null(entries[i]->username);
        named += entries[i]->displayData.name != NULL &&
                 wcscmp(entries[i]->displayData.name, L"other") == 0;
    }
    cr_assert_eq(named, 1);
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(live_bytes_now(), base);
}

Test(memory, bounded_under_churn_with_a_long_lived_handle)
{
    UINT64 base = baseline();
    enum { LIVE = 1000, CHURN = 100000 };
    HANDLE *h = malloc(LIVE * sizeof(HANDLE));
    for (int i = 0; i < LIVE; i++)
        h[i] = open_named(L"standing", NULL);
    HANDLE pinned;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(h[0], NULL, &pinned), ERROR_SUCCESS);
    UINT64 live_set = live_bytes_now() - base;
    UINT64 peak = 0, sum[4] = {0}, samples[4] = {0};
    for (int i = 0; i < CHURN; i++) {
        /* Replace a random standing session; now and then take a short-lived
         * snapshot too, so that retained versions come and go. */
        int k = 1 + (int)((unsigned)i * 2654435761u % (LIVE - 1));
        close_session(h[k]);
        h[k] = open_named(L"standing", NULL);
        if (i % 100 == 0) {
            HANDLE e;
            cr_assert_eq(FwpmSessionCreateEnumHandle0(h[0], NULL, &e), ERROR_SUCCESS);
            cr_assert_eq(FwpmSessionDestroyEnumHandle0(h[0], e), ERROR_SUCCESS);
        }
        if (i % 1000 == 0) {
            FWPM_MEMORY_STATS0 st;
            fwpm_memory_stats(&st); /* no reclaim: what the engine holds by itself */
            UINT64 now = st.liveBytes - base;
            peak = now > peak ? now : peak;
            sum[i / (CHURN / 4)] += now;
            samples[i / (CHURN / 4)]++;
        }
    }
    /* Bounded: once the pinned version holds all the sessions it will ever
     * hold (a ramp over the first quarters), the last quarter of the churn
     * holds no more than the third on average. A leak keeps growing; one-off
     * peaks, such as a hash-set rebuild's two maps, average out. */
    UINT64 mean_third = sum[2] / samples[2], mean_last = sum[3] / samples[3];
    cr_assert_leq(mean_last, mean_third + mean_third / 10,
                  "memory grew with churn: %llu bytes on average, %llu a quarter earlier",
                  (unsigned long long)mean_last, (unsigned long long)mean_third);
    /* By what is live: the pinned version holds at most one copy of the set,
     * the current one another; spares, retire batches and grace periods a
     * bounded amount more. */
    cr_assert_lt(peak, 4 * live_set, "peak %llu bytes for a live set of %llu",
                 (unsigned long long)peak, (unsigned long long)live_set);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(h[0], pinned), ERROR_SUCCESS);
    for (int i = 0; i < LIVE; i++)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base);
    free(h);
}
