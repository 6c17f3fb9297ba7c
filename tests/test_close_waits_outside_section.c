/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_close_waits_outside_section.c - a close that waits for its write
 * holds no epoch section: grace periods go on while closes queue up behind
 * the writer lock, so a writer that is slow (preempted, oversubscribed)
 * never holds back every thread's frees through the closes waiting on it.
 * And a close still does all it did: until its write is published its
 * session and enumerations work; after, its handles are invalid, exactly one
 * of racing closes wins, arrays returned before it stay readable, and the
 * memory comes back.
 *
 * One thread holds the writer lock (a test hook) while the closes start,
 * waits until all of them are posted (it watches the pending count: no
 * sleeps), polls the epoch, and lets the lock go.
 */
#include "engine.h"
#include "epoch.h"
#include "stress.h"

#include <sched.h>
#include <time.h>
#include <wchar.h>

#define CLOSED 8u       /* sessions closed while the lock is held */
#define EXTRA_CLOSES 2u /* more closes of closed[0]: they lose */
#define CLOSERS (CLOSED + EXTRA_CLOSES)
/* How long the holder polls for two advances: a bound for a stuck epoch, not
 * an order (the reclaimer may be preempted in its short section meanwhile). */
#define EPOCH_POLL_SECONDS 10

static HANDLE closed[CLOSED];
static HANDLE enums[CLOSED];              /* one enumeration handle per closed session */
static FWPM_SESSION0 **held_page[CLOSED]; /* an array returned before the close */
static DWORD status_of[CLOSERS];

static _Atomic bool held;

static void closer(unsigned i)
{
    while (!atomic_load_explicit(&held, memory_order_acquire))
        sched_yield(); /* the holder is taking the writer lock */
    status_of[i] = FwpmEngineClose0(closed[i < CLOSED ? i : 0]);
}

/* While every close waits: the epoch advances twice (a close inside a
 * section would let it advance once at most), and the sessions are still
 * open: their enumerations still serve pages. */
static void holder(void)
{
    engine_hold_writers_for_test();
    atomic_store_explicit(&held, true, memory_order_release);
    while (engine_pending_writes_for_test() < CLOSERS)
        sched_yield(); /* the closers are posting */

    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned start = epoch_poll_for_test(), now = start;
    do {
        sched_yield(); /* another thread may be in a short section */
        now = epoch_poll_for_test();
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (now - start < 2u && t.tv_sec - t0.tv_sec < EPOCH_POLL_SECONDS);
    STRESS_CHECK(now - start >= 2u,
                 "the epoch moved by %u in %d s while %u closes waited: one holds a section",
                 now - start, EPOCH_POLL_SECONDS, CLOSERS);

    for (unsigned i = 0; i < CLOSED; i++) {
        FWPM_SESSION0 **entries;
        UINT32 n = 0;
        DWORD status = FwpmSessionEnum0(closed[i], enums[i], 1, &entries, &n);
        STRESS_CHECK(status == ERROR_SUCCESS && n == 1,
                     "session %u, its close not yet published: a page gave %s, %u entries", i,
                     fwpm_strerror(status), n);
        if (status == ERROR_SUCCESS)
            FwpmFreeMemory0((void **)&entries);
    }
    engine_release_writers_for_test();
}

static void worker(unsigned i, void *arg)
{
    (void)arg;
    if (i < CLOSERS)
        closer(i);
    else
        holder();
}

int main(void)
{
    UINT64 baseline = stress_baseline();
    for (unsigned i = 0; i < CLOSED; i++)
        closed[i] = stress_open(L"closed while writers are held");
    for (unsigned i = 0; i < CLOSED; i++) { /* each snapshot holds all CLOSED */
        DWORD status = FwpmSessionCreateEnumHandle0(closed[i], NULL, &enums[i]);
        STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        UINT32 n = 0;
        status = FwpmSessionEnum0(closed[i], enums[i], 1, &held_page[i], &n);
        STRESS_CHECK(status == ERROR_SUCCESS && n == 1, "first page: %s, %u entries",
                     fwpm_strerror(status), n);
    }

    stress_run(CLOSERS + 1, worker, NULL);

    unsigned won = 0, lost = 0;
    for (unsigned i = 0; i < CLOSERS; i++)
        won += status_of[i] == ERROR_SUCCESS, lost += status_of[i] == ERROR_INVALID_HANDLE;
    STRESS_CHECK(won == CLOSED && lost == EXTRA_CLOSES,
                 "closes: %u succeeded, %u invalid (want %u and %u)", won, lost, CLOSED,
                 EXTRA_CLOSES);

    for (unsigned i = 0; i < CLOSED; i++) {
        FWPM_SESSION0 **entries;
        UINT32 n = 0;
        DWORD status = FwpmSessionEnum0(closed[i], enums[i], 1, &entries, &n);
        STRESS_CHECK(status == ERROR_INVALID_HANDLE, "a page after the close: %s",
                     fwpm_strerror(status));
        status = FwpmSessionDestroyEnumHandle0(closed[i], enums[i]);
        STRESS_CHECK(status == ERROR_INVALID_HANDLE, "a destroy after the close: %s",
                     fwpm_strerror(status));
        /* The array from before the close still reads as it did. */
        const wchar_t *name = held_page[i][0]->displayData.name;
        STRESS_CHECK(name != NULL && wcscmp(name, L"closed while writers are held") == 0,
                     "an array from before the close no longer reads its session's name");
        FwpmFreeMemory0((void **)&held_page[i]);
    }
    stress_expect_baseline(baseline);
    return stress_report("test_close_waits_outside_section", CLOSERS);
}
