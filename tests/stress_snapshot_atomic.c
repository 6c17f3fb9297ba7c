/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_snapshot_atomic.c - snapshots are single instants (contract §4.2),
 * under real contention.
 *
 * Each writer keeps a chain (stress.h): it opens generation g+1 before
 * closing g, so at every instant it has exactly one generation open, or two
 * consecutive ones. Readers take snapshots while the writers churn and check
 * each one with perf/checker.h, the checker fwpm-stress uses: every writer
 * with one generation or two consecutive ones, and at a state between what it
 * had completed before the snapshot was requested and what it had begun when
 * the snapshot returned; a reader's later snapshot never at an older state
 * than its earlier one; the standing population and the readers' own
 * (anonymous) sessions exactly once each; every entry well formed; no page
 * over its request. A snapshot stitched from different instants breaks these.
 *
 * Usage: stress_snapshot_atomic [writers] (default 3, at most 64). With many
 * writers on few cores their opens and closes are combined into batches that
 * publish one version each: every batch must still be one instant.
 */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_WRITERS 64u
#define READERS 3u
#define POPULATION 2000u

static unsigned writers = 3;
static unsigned churns = 60000;      /* over all writers */
static unsigned min_snapshots = 200; /* per reader */
static _Atomic unsigned writers_running;
static _Atomic uint64_t snapshots_checked;
static struct checker_world world;
static struct stress_chain chains[MAX_WRITERS];
static HANDLE reader_engine[READERS];

static void writer(unsigned w)
{
    for (unsigned g = 0; g < churns; g++)
        stress_chain_step(&chains[w]);
    /* The chain's last generation stays open until the readers are done:
     * every snapshot must show every writer. */
    atomic_fetch_sub_explicit(&writers_running, 1, memory_order_release);
}

/* What one reader keeps from snapshot to snapshot. */
struct observer {
    struct snapshot_check check;
    struct violations log;
    uint64_t last[MAX_WRITERS]; /* each writer's state in the previous snapshot */
};

/* Takes one snapshot and pages through it in pages of random sizes, feeding
 * the checker. */
static void take_snapshot(HANDLE engine, struct observer *o, const char *label, uint64_t *rng)
{
    uint64_t lo[MAX_WRITERS], hi[MAX_WRITERS];
    stress_chains_done(chains, writers, lo);
    HANDLE e;
    DWORD status = FwpmSessionCreateEnumHandle0(engine, NULL, &e);
    stress_chains_begun(chains, writers, hi);
    STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
    if (status != ERROR_SUCCESS)
        return;
    snapshot_check_begin(&o->check, label);
    struct page_stream stream;
    page_stream_init(&stream);
    for (;;) {
        uint64_t pick = stress_random(rng);
        UINT32 page = (pick & 7) == 0 ? INFINITE : (UINT32)(1 + (pick >> 8) % 700);
        FWPM_SESSION0 **entries;
        UINT32 n;
        status = FwpmSessionEnum0(engine, e, page, &entries, &n);
        STRESS_CHECK(status == ERROR_SUCCESS, "enum: %s", fwpm_strerror(status));
        if (status != ERROR_SUCCESS)
            break;
        checker_page(&stream, &o->log, label, page, entries, n);
        for (UINT32 i = 0; i < n; i++)
            snapshot_check_entry(&o->check, &o->log, entries[i]);
        FwpmFreeMemory0((void **)&entries);
        if (n < page)
            break;
    }
    FwpmSessionDestroyEnumHandle0(engine, e);
    snapshot_check_end(&o->check, &o->log, status == ERROR_SUCCESS, lo, hi, o->last);
}

static void reader(unsigned r, uint64_t *rng)
{
    struct observer *o = calloc(1, sizeof(*o));
    if (o == NULL || !snapshot_check_init(&o->check, &world)) {
        STRESS_CHECK(false, "reader %u: out of memory", r);
        free(o);
        return;
    }
    violations_init(&o->log);
    unsigned taken = 0;
    /* Acquire: pairs with the writers' release; their chains are complete. */
    while (atomic_load_explicit(&writers_running, memory_order_acquire) > 0 ||
           taken < min_snapshots) {
        char label[48];
        snprintf(label, sizeof(label), "reader %u snapshot %u", r, taken);
        take_snapshot(reader_engine[r], o, label, rng);
        taken++;
    }
    stress_expect_no_violations(&o->log);
    atomic_fetch_add_explicit(&snapshots_checked, taken, memory_order_relaxed);
    snapshot_check_destroy(&o->check);
    free(o);
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    uint64_t rng = 0x1234 + index;
    if (index < writers)
        writer(index);
    else
        reader(index - writers, &rng);
}

int main(int argc, char **argv)
{
    if (!stress_thread_arg(argc, argv, "writers", MAX_WRITERS, writers, &writers))
        return 2;
    atomic_init(&writers_running, writers);
    churns = stress_scaled(churns) / writers;
    min_snapshots = stress_scaled(min_snapshots);
    UINT64 baseline = stress_baseline();
    stress_world_init(&world, writers, POPULATION, READERS);

    HANDLE *population = malloc(POPULATION * sizeof(HANDLE));
    for (unsigned i = 0; i < POPULATION; i++)
        population[i] = stress_open_standing(i);
    for (unsigned r = 0; r < READERS; r++)
        reader_engine[r] = stress_open_session(NULL);
    /* Generation 0 of every chain is open before the first snapshot. */
    for (unsigned w = 0; w < writers; w++)
        stress_chain_start(&chains[w], w);

    stress_run(writers + READERS, worker, NULL);

    for (unsigned w = 0; w < writers; w++)
        stress_chain_end(&chains[w]);
    for (unsigned r = 0; r < READERS; r++)
        FwpmEngineClose0(reader_engine[r]);
    for (unsigned i = 0; i < POPULATION; i++)
        FwpmEngineClose0(population[i]);
    free(population);
    stress_world_destroy(&world);
    stress_expect_baseline(baseline);
    uint64_t checked = atomic_load_explicit(&snapshots_checked, memory_order_relaxed);
    printf("%u writers x %u churns, %llu snapshots of >= %u sessions checked\n", writers, churns,
           (unsigned long long)checked, POPULATION);
    return stress_report("stress_snapshot_atomic", (unsigned)checked);
}
