/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_version_roots.c - a steady stream of writes reuses its version roots:
 * once warm, a burst of 10,000 opens in a row (which drops no session, so
 * only roots fill the retire batches) and then 10,000 closes allocate a few
 * roots, not one per write. Each grace period hands back at most about one
 * batch's worth of roots, which the recycled-root cache can hold. And the
 * cache's count of places stays exact while many threads write at once (lists
 * of roots are pushed by whichever thread's exit ran their grace period, and
 * taken by the combiner): fwpm_reclaim then gives every place back. Plain
 * executable, one thread (also under ThreadSanitizer, beside the background
 * reclaimer).
 */
#include "stress.h"
#include "version_store.h"

#include <stdio.h>

enum {
    WARM = 1000,
    BURST = 10000,
    /* Roots the burst may allocate: a small fraction of its writes (the
     * roots in flight when the cache ran dry). When one grace period could
     * end 16 lists of 16 roots at once, it allocated most of them again. */
    ALLOWED = BURST / 50,
};

static HANDLE handles[BURST];

enum { WRITERS = 16, CHURN = 2000 };

static void churn(unsigned index, void *arg)
{
    (void)index;
    (void)arg;
    for (int i = 0; i < CHURN; i++)
        FwpmEngineClose0(stress_open(L"churn"));
}

static void concurrent_writes_leave_no_place_held(void)
{
    stress_run(WRITERS, churn, NULL);
    stress_live_bytes(); /* fwpm_reclaim: every recycled root is freed */
    unsigned places = version_store_recycled_places();
    printf("after %d threads x %d open+close and a reclaim: %u places held\n", WRITERS, CHURN,
           places);
    STRESS_CHECK(places == 0, "the recycled-root cache's places are all given back");
}

static void a_burst_of_opens_then_closes_recycles_its_roots(void)
{
    for (int i = 0; i < WARM; i++)
        handles[i] = stress_open(L"roots");
    for (int i = 0; i < WARM; i++)
        FwpmEngineClose0(handles[i]);
    uint64_t before = version_store_roots_allocated();
    for (int i = 0; i < BURST; i++)
        handles[i] = stress_open(L"roots");
    uint64_t after_opens = version_store_roots_allocated();
    for (int i = 0; i < BURST; i++)
        FwpmEngineClose0(handles[i]);
    uint64_t after_closes = version_store_roots_allocated();
    printf("roots allocated: %llu in %d opens, %llu in %d closes\n",
           (unsigned long long)(after_opens - before), BURST,
           (unsigned long long)(after_closes - after_opens), BURST);
    STRESS_CHECK(after_opens - before <= ALLOWED, "a burst of opens recycles its version roots");
    STRESS_CHECK(after_closes - after_opens <= ALLOWED,
                 "a burst of closes recycles its version roots");
}

int main(void)
{
    UINT64 baseline = stress_baseline();
    a_burst_of_opens_then_closes_recycles_its_roots();
    concurrent_writes_leave_no_place_held();
    stress_expect_baseline(baseline);
    return stress_report("test_version_roots", 4);
}
