/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_combine_bound.c - the spun writer lock and the combining of writes
 * under heavy oversubscription: 96 writer threads on 2 cores, each opening
 * and closing its own sessions, with no sleeps.
 *
 * Checks:
 *   1. Every call succeeded, and every request was applied exactly once:
 *      the batches' requests add up to the writes made.
 *   2. No batch was larger than ENGINE_COMBINE_BATCH_MAX plus one request
 *      per other writer thread: a combiner that keeps taking requests posted
 *      meanwhile stops, so no writer's wait grows without bound.
 *   3. Each version is published by one batch, so there are at most as many
 *      new versions as batches.
 *   4. The engine is empty and memory is back at the baseline afterwards.
 * Then, with the writer lock held by the test, all writers post one open
 * each and are applied as one batch of exactly that many (one version).
 * Their wait is long, so they go past spinning and yielding to sleep on the
 * lock's futex: a release that failed to wake them would hang the test.
 */
#include "engine.h"
#include "stress.h"

#include <sched.h>
#include <stdio.h>

#define WRITERS 96u
#ifdef FWPM_TSAN
#define ROUNDS 40u
#else
#define ROUNDS 2000u
#endif

static _Atomic unsigned failures;

static void churn(unsigned i, void *arg)
{
    (void)i;
    (void)arg;
    for (unsigned r = 0; r < ROUNDS; r++) {
        HANDLE h;
        if (FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &h) != ERROR_SUCCESS ||
            FwpmEngineClose0(h) != ERROR_SUCCESS)
            atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
    }
}

static _Atomic bool held;
static HANDLE opened[WRITERS];
static DWORD status_of[WRITERS];

/* Threads 0..WRITERS-1 post one open each while the last one holds the lock. */
static void held_batch(unsigned i, void *arg)
{
    if (i == WRITERS) {
        engine_hold_writers_for_test();
        atomic_store_explicit(&held, true, memory_order_release);
        while (engine_pending_writes_for_test() < WRITERS)
            sched_yield(); /* the writers are posting */
        *(uint64_t *)arg = engine_version_for_test();
        engine_release_writers_for_test();
        return;
    }
    while (!atomic_load_explicit(&held, memory_order_acquire))
        sched_yield(); /* the holder is taking the writer lock */
    status_of[i] = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &opened[i]);
}

int main(void)
{
    UINT64 baseline = stress_baseline();
    struct engine_batch_stats before, after;
    engine_batch_stats_for_test(&before);
    uint64_t version_before = engine_version_for_test();

    stress_run(WRITERS, churn, NULL);

    engine_batch_stats_for_test(&after);
    uint64_t writes = 2ull * WRITERS * ROUNDS;
    uint64_t requests = after.requests - before.requests;
    uint64_t batches = after.batches - before.batches;
    uint64_t versions = engine_version_for_test() - version_before;
    STRESS_CHECK(atomic_load(&failures) == 0, "%u open/close pairs failed", atomic_load(&failures));
    STRESS_CHECK(requests == writes, "batches applied %llu requests for %llu writes",
                 (unsigned long long)requests, (unsigned long long)writes);
    STRESS_CHECK(after.largest <= ENGINE_COMBINE_BATCH_MAX + WRITERS - 1,
                 "a batch held %u requests, more than %u + %u", after.largest,
                 ENGINE_COMBINE_BATCH_MAX, WRITERS - 1);
    STRESS_CHECK(versions <= batches, "%llu versions from %llu batches",
                 (unsigned long long)versions, (unsigned long long)batches);
    printf("stress_combine_bound: %llu writes in %llu batches (%.2f a batch), largest %u\n",
           (unsigned long long)writes, (unsigned long long)batches,
           batches ? (double)requests / (double)batches : 0.0, after.largest);

    uint64_t held_version = 0;
    engine_batch_stats_for_test(&before);
    stress_run(WRITERS + 1, held_batch, &held_version);
    engine_batch_stats_for_test(&after);
    STRESS_CHECK(engine_version_for_test() == held_version + 1,
                 "%u queued opens published %llu versions, not one", WRITERS,
                 (unsigned long long)(engine_version_for_test() - held_version));
    STRESS_CHECK(after.batches == before.batches + 1 && after.requests == before.requests + WRITERS,
                 "%u queued opens took %llu batches", WRITERS,
                 (unsigned long long)(after.batches - before.batches));
    for (unsigned i = 0; i < WRITERS; i++) {
        STRESS_CHECK(status_of[i] == ERROR_SUCCESS, "queued open %u: %s", i,
                     fwpm_strerror(status_of[i]));
        if (status_of[i] == ERROR_SUCCESS)
            FwpmEngineClose0(opened[i]);
    }

    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    STRESS_CHECK(st.openSessions == 0, "%llu sessions open at the end",
                 (unsigned long long)st.openSessions);
    stress_expect_baseline(baseline);
    return stress_report("stress_combine_bound", WRITERS);
}
