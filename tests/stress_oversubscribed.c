/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_oversubscribed.c - memory and reclamation work stay bounded however
 * many threads share the 2 cores (contract §5.3), and what threads retired
 * is freed once they exit, without fwpm_reclaim().
 *
 * For each of 16, 64 and 256 threads: every thread does a fixed number of
 * operations, each one of
 *   - open or close its own churn session (it also keeps a home session),
 *   - a private enumeration of the whole set (create, page through, free,
 *     destroy),
 *   - a page of the one shared enumeration handle (the thread that finds it
 *     exhausted swaps in a fresh one and destroys the old, racing the others),
 * and samples fwpm_memory_stats itself, keeping the peak of liveBytes.
 *
 * Checks:
 *   1. peak liveBytes <= baseline + LIVE_ALLOWANCE + threads * PER_THREAD.
 *      What is live at any moment is at most 2 sessions per thread plus the
 *      versions and arrays their enumerations pin (a few KB per thread);
 *      PER_THREAD (64 KiB) also covers what one thread may have retired and
 *      not yet freed. The old single queue went past this within a second.
 *      A thread that sees the bound exceeded stops everyone early.
 *   2. No API call ran more than EPOCH_RUN_MAX deferred callbacks: every
 *      thread also retires small test entries through epoch_retire, and
 *      counts how many of them run on it inside each of its calls (a lower
 *      bound on its reclamation work there); plus the library's own count.
 *   3. After the threads exited, liveBytes returns to the baseline and every
 *      test entry has run, with no fwpm_reclaim(): waiting for that condition
 *      (polling, up to 30 s) - not for time.
 */
#include "stress.h"

#include "epoch.h"
#include "sanitizer.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef EPOCH_RUN_MAX
#define EPOCH_RUN_MAX 256u /* the bound this test holds the library to */
#endif

#ifdef FWPM_TSAN
#define TOTAL_OPS 24000u /* TSan is ~20x slower: the same shape, fewer steps */
#else
#define TOTAL_OPS 640000u
#endif
#define LIVE_ALLOWANCE (4ull << 20)
#define PER_THREAD (64ull << 10)
#define SAMPLE_EVERY 8u
#define SETTLE_SECONDS 30

static UINT64 baseline;
static UINT64 bound;
static _Atomic UINT64 peak;
static _Atomic bool over_bound;
static unsigned ops_per_thread;

static HANDLE shared_engine;
static _Atomic(HANDLE) shared_enum;

/* ---- test entries: count the deferred callbacks run inside each call ----- */

struct test_entry {
    epoch_entry retire;
};

static _Atomic unsigned long test_entries_live;
static _Atomic unsigned most_in_one_call;
static _Thread_local unsigned ran_on_this_thread;

static void test_entry_run(epoch_entry *e)
{
    ran_on_this_thread++;
    atomic_fetch_sub_explicit(&test_entries_live, 1, memory_order_relaxed);
    free(e); /* retire is the first member */
}

static void retire_test_entries(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct test_entry *t = calloc(1, sizeof(*t));
        if (t == NULL)
            return;
        atomic_fetch_add_explicit(&test_entries_live, 1, memory_order_relaxed);
        epoch_retire(&t->retire, test_entry_run);
    }
}

static void atomic_max(_Atomic unsigned *word, unsigned value)
{
    unsigned seen = atomic_load_explicit(word, memory_order_relaxed);
    while (value > seen && !atomic_compare_exchange_weak_explicit(
                               word, &seen, value, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* Wraps one API call: how many test callbacks ran on this thread inside it. */
#define CALL(expr)                                                                                 \
    ({                                                                                             \
        unsigned before_ = ran_on_this_thread;                                                     \
        DWORD status_ = (expr);                                                                    \
        atomic_max(&most_in_one_call, ran_on_this_thread - before_);                               \
        status_;                                                                                   \
    })

static _Atomic unsigned long peak_snapshots, peak_sessions;
static void atomic_max_ul(_Atomic unsigned long *word, unsigned long value)
{
    unsigned long seen = atomic_load_explicit(word, memory_order_relaxed);
    while (value > seen && !atomic_compare_exchange_weak_explicit(
                               word, &seen, value, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* ---- the workload ---------------------------------------------------------- */

static void sample_memory(void)
{
    FWPM_MEMORY_STATS0 st;
    if (CALL(fwpm_memory_stats(&st)) != ERROR_SUCCESS)
        return;
    UINT64 seen = atomic_load_explicit(&peak, memory_order_relaxed);
    while (st.liveBytes > seen &&
           !atomic_compare_exchange_weak_explicit(&peak, &seen, st.liveBytes, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    /* Read while writers publish and retire versions from every thread: the
     * current version is always live, and the count never wraps below it
     * (version_store_stats reads the unlocked retirements first). */
    STRESS_CHECK(st.liveSnapshots >= 1 && st.liveSnapshots < ((UINT64)1 << 32),
                 "liveSnapshots read %llu under churn", (unsigned long long)st.liveSnapshots);
    atomic_max_ul(&peak_snapshots, st.liveSnapshots);
    atomic_max_ul(&peak_sessions, st.openSessions);
    if (st.liveBytes > bound)
        atomic_store_explicit(&over_bound, true, memory_order_relaxed);
}

static void private_enumeration(HANDLE engine)
{
    HANDLE en = NULL;
    DWORD status = CALL(FwpmSessionCreateEnumHandle0(engine, NULL, &en));
    STRESS_CHECK(status == ERROR_SUCCESS, "create enum: %s", fwpm_strerror(status));
    if (status != ERROR_SUCCESS)
        return;
    for (;;) {
        FWPM_SESSION0 **page = NULL;
        UINT32 n = 0;
        status = CALL(FwpmSessionEnum0(engine, en, 64, &page, &n));
        STRESS_CHECK(status == ERROR_SUCCESS, "page: %s", fwpm_strerror(status));
        if (page != NULL)
            FwpmFreeMemory0((void **)&page);
        if (status != ERROR_SUCCESS || n == 0)
            break;
    }
    status = CALL(FwpmSessionDestroyEnumHandle0(engine, en));
    STRESS_CHECK(status == ERROR_SUCCESS, "destroy enum: %s", fwpm_strerror(status));
}

/* Replaces an exhausted shared handle; the losers of the race do nothing. */
static void renew_shared(HANDLE exhausted)
{
    HANDLE fresh = NULL;
    if (CALL(FwpmSessionCreateEnumHandle0(shared_engine, NULL, &fresh)) != ERROR_SUCCESS)
        return;
    HANDLE expected = exhausted;
    HANDLE drop = fresh;
    if (atomic_compare_exchange_strong_explicit(&shared_enum, &expected, fresh,
                                                memory_order_acq_rel, memory_order_relaxed))
        drop = exhausted; /* others may still page it: they get an error */
    CALL(FwpmSessionDestroyEnumHandle0(shared_engine, drop));
}

static void shared_page(void)
{
    HANDLE en = atomic_load_explicit(&shared_enum, memory_order_acquire);
    FWPM_SESSION0 **page = NULL;
    UINT32 n = 0;
    DWORD status = CALL(FwpmSessionEnum0(shared_engine, en, 4, &page, &n));
    STRESS_CHECK(status == ERROR_SUCCESS || status == ERROR_INVALID_HANDLE, "shared page: %s",
                 fwpm_strerror(status));
    if (page != NULL)
        FwpmFreeMemory0((void **)&page);
    if (status == ERROR_SUCCESS && n == 0)
        renew_shared(en);
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    uint64_t rng = index * 7919u + 1;
    HANDLE home = stress_open(L"home");
    HANDLE churn = NULL;
    for (unsigned op = 0; op < ops_per_thread; op++) {
        if (atomic_load_explicit(&over_bound, memory_order_relaxed))
            break; /* the check has failed: do not run the machine out of memory */
        switch (stress_random(&rng) % 4) {
        case 0:
            if (churn == NULL) {
                churn = stress_open(L"churn");
            } else {
                DWORD status = CALL(FwpmEngineClose0(churn));
                STRESS_CHECK(status == ERROR_SUCCESS, "close: %s", fwpm_strerror(status));
                churn = NULL;
            }
            break;
        case 1:
            private_enumeration(home);
            break;
        default:
            shared_page();
            break;
        }
        retire_test_entries(1);
        if (op % SAMPLE_EVERY == 0)
            sample_memory();
    }
    if (churn != NULL)
        FwpmEngineClose0(churn);
    FwpmEngineClose0(home);
    sample_memory();
}

/* Waits (bounded) for the library to come back to the baseline by itself. */
static bool settled(UINT64 *live)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        FWPM_MEMORY_STATS0 st;
        fwpm_memory_stats(&st);
        *live = st.liveBytes;
        if (st.liveBytes == baseline &&
            atomic_load_explicit(&test_entries_live, memory_order_relaxed) == 0)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > SETTLE_SECONDS)
            return false;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL); /* a condition poll, not an ordering */
    }
}

static void run_with(unsigned threads)
{
    ops_per_thread = stress_scaled(TOTAL_OPS / threads);
    bound = baseline + LIVE_ALLOWANCE + threads * PER_THREAD;
    atomic_store(&peak, 0);
    atomic_store(&over_bound, false);
    atomic_store(&most_in_one_call, 0);
    atomic_store(&peak_sessions, 0);
    atomic_store(&peak_snapshots, 0);

    shared_engine = stress_open(L"shared");
    HANDLE en = NULL;
    DWORD status = FwpmSessionCreateEnumHandle0(shared_engine, NULL, &en);
    STRESS_CHECK(status == ERROR_SUCCESS, "create shared: %s", fwpm_strerror(status));
    atomic_store(&shared_enum, en);

    stress_run(threads, worker, NULL);

    FwpmSessionDestroyEnumHandle0(shared_engine, atomic_load(&shared_enum));
    FwpmEngineClose0(shared_engine);

    UINT64 top = atomic_load(&peak);
    unsigned most = atomic_load(&most_in_one_call);
    UINT64 live = 0;
    bool back = settled(&live);

    printf("%3u threads x %u ops: peak %llu KiB over baseline (bound %llu KiB; at most %lu "
           "sessions, %lu versions), most callbacks in one call %u, %s\n",
           threads, ops_per_thread, (unsigned long long)((top - baseline) >> 10),
           (unsigned long long)((bound - baseline) >> 10), atomic_load(&peak_sessions),
           atomic_load(&peak_snapshots), most, back ? "back at baseline" : "NOT back at baseline");
    STRESS_CHECK(top <= bound, "%u threads: peak %llu bytes over the bound %llu", threads,
                 (unsigned long long)top, (unsigned long long)bound);
    STRESS_CHECK(most <= EPOCH_RUN_MAX, "%u threads: one call ran %u callbacks (bound %u)", threads,
                 most, EPOCH_RUN_MAX);
#ifdef EPOCH_RUN_BASE
    STRESS_CHECK(epoch_max_run_per_call() <= EPOCH_RUN_MAX,
                 "%u threads: the library ran %u callbacks in one call", threads,
                 epoch_max_run_per_call());
#endif
    STRESS_CHECK(back,
                 "%u threads: %llu bytes live %d s after the threads exited (baseline %llu), "
                 "%lu test entries not run",
                 threads, (unsigned long long)live, SETTLE_SECONDS, (unsigned long long)baseline,
                 atomic_load(&test_entries_live));
}

int main(void)
{
    baseline = stress_baseline();
    static const unsigned counts[] = {16, 64, 256};
    for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        run_with(counts[i]);
    return stress_report("stress_oversubscribed", 3 * 4);
}
