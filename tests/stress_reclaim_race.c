/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_reclaim_race.c - fwpm_reclaim() while other threads open, page,
 * free, destroy and close: it must neither deadlock nor free anything in
 * use. (An earlier design waited for a grace period while holding the lock
 * that retiring threads take inside their sections: this test hung in about
 * a second.) ctest's timeout turns a hang into a failure.
 */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>

#define WORKERS 3u

static unsigned iterations = 20000;
static _Atomic unsigned workers_running = WORKERS;

static void work(uint64_t *rng)
{
    for (unsigned i = 0; i < iterations; i++) {
        HANDLE h = stress_open(L"reclaim race");
        HANDLE e;
        DWORD status = FwpmSessionCreateEnumHandle0(h, NULL, &e);
        STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        FWPM_SESSION0 **entries;
        UINT32 n;
        status = FwpmSessionEnum0(h, e, 1 + (UINT32)(stress_random(rng) % 8), &entries, &n);
        STRESS_CHECK(status == ERROR_SUCCESS, "enum: %s", fwpm_strerror(status));
        if (stress_random(rng) & 1)
            FwpmSessionDestroyEnumHandle0(h, e);
        FwpmEngineClose0(h);
        for (UINT32 k = 0; k < n; k++)
            STRESS_CHECK(entries[k]->username != NULL, "entry freed under an array");
        FwpmFreeMemory0((void **)&entries);
    }
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    uint64_t rng = 77 + index;
    if (index < WORKERS) {
        work(&rng);
        atomic_fetch_sub_explicit(&workers_running, 1, memory_order_release);
        return;
    }
    unsigned reclaims = 0;
    while (atomic_load_explicit(&workers_running, memory_order_acquire) > 0) {
        fwpm_reclaim();
        reclaims++;
    }
    printf("%u reclaims ran during the churn\n", reclaims);
}

int main(void)
{
    iterations = stress_scaled(iterations);
    UINT64 baseline = stress_baseline();
    stress_run(WORKERS + 1, worker, NULL);
    stress_expect_baseline(baseline);
    return stress_report("stress_reclaim_race", iterations * WORKERS);
}
