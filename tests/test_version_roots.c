/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_version_roots.c - a steady stream of writes reuses its version roots:
 * once warm, a burst of 10,000 opens in a row (which drops no session, so
 * only roots fill the retire batches) and then 10,000 closes allocate a few
 * roots, not one per write. Each grace period hands back at most about one
 * batch's worth of roots, which the recycled-root cache can hold. Plain
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
    stress_expect_baseline(baseline);
    return stress_report("test_version_roots", 3);
}
