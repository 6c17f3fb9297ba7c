/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_live_count.c - fwpm_memory_stats' liveSnapshots never counts a
 * version that a reclaim has unlinked, while other threads run fwpm_reclaim()
 * (what the idle reclaimer does) against the writes.
 *
 * One checker thread repeats: take an enumeration handle (it holds the
 * current version), open a session (the held version is superseded),
 * destroy the handle (its last reference goes), open another session (a
 * write: it reclaims the released version, or finds that a racing
 * fwpm_reclaim already has), then read liveSnapshots, which must be back at
 * the baseline: no other thread holds a handle or writes. The other threads
 * only call fwpm_reclaim(), as many as the first argument says (default 8;
 * ctest also runs 64 on the 2 cores). A count that dropped only when the
 * reclaimed root was retired, after the writer lock, failed here.
 */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_RECLAIMERS 256u

static unsigned rounds = 40000;
static _Atomic bool checker_done;

static UINT64 live_snapshots(void)
{
    FWPM_MEMORY_STATS0 stats;
    DWORD status = fwpm_memory_stats(&stats);
    STRESS_CHECK(status == ERROR_SUCCESS, "stats: %s", fwpm_strerror(status));
    return status == ERROR_SUCCESS ? stats.liveSnapshots : 0;
}

/* One round of the checker; the count is checked after its last write. */
static void release_then_write(HANDLE home, UINT64 base)
{
    HANDLE e;
    DWORD status = FwpmSessionCreateEnumHandle0(home, NULL, &e);
    STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
    HANDLE superseding = stress_open(L"live count: supersedes");
    status = FwpmSessionDestroyEnumHandle0(home, e);
    STRESS_CHECK(status == ERROR_SUCCESS, "destroy: %s", fwpm_strerror(status));
    HANDLE reclaiming = stress_open(L"live count: reclaims");
    UINT64 live = live_snapshots();
    STRESS_CHECK(live == base, "after a write with no handle left: %llu live versions, not %llu",
                 (unsigned long long)live, (unsigned long long)base);
    stress_close(reclaiming);
    stress_close(superseding);
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    if (index == 0) {
        HANDLE home = stress_open(L"live count: home");
        UINT64 base = live_snapshots();
        for (unsigned r = 0; r < rounds; r++)
            release_then_write(home, base);
        stress_close(home);
        /* Release: nothing to publish, but TSan sees the hand-off (pairs
         * with the reclaimers' acquire). */
        atomic_store_explicit(&checker_done, true, memory_order_release);
        return;
    }
    while (!atomic_load_explicit(&checker_done, memory_order_acquire))
        fwpm_reclaim();
}

int main(int argc, char **argv)
{
    unsigned reclaimers = 8;
    if (!stress_thread_arg(argc, argv, "reclaimers", MAX_RECLAIMERS, reclaimers, &reclaimers))
        return 2;
    rounds = stress_scaled(rounds);
    UINT64 baseline = stress_baseline();
    stress_run(reclaimers + 1, worker, NULL);
    stress_expect_baseline(baseline);
    return stress_report("stress_live_count", rounds);
}
