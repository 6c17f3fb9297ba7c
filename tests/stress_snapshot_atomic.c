/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_snapshot_atomic.c - snapshots are single instants (contract §4.2), under
 * real contention.
 *
 * Each writer keeps a chain: it opens generation g+1 before closing g, so at
 * every instant it has exactly one generation open, or two consecutive ones.
 * Readers take snapshots while the writers churn and check, for every
 * snapshot: each writer appears with one generation or two consecutive ones;
 * the standing population appears exactly once each; no entry twice; and a
 * reader's later snapshot never shows an older generation than its earlier
 * one. A snapshot stitched from different instants breaks these.
 *
 * Usage: stress_snapshot_atomic [writers] (default 3, at most 64). With many
 * writers on few cores their opens and closes are combined into batches that
 * publish one version each: every batch must still be one instant.
 */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define MAX_WRITERS 64u
#define READERS 3u
#define POPULATION 2000u

static unsigned writers = 3;
static unsigned churns = 60000;      /* over all writers */
static unsigned min_snapshots = 200; /* per reader */
static _Atomic unsigned writers_running;
static _Atomic uint64_t snapshots_checked;
static HANDLE reader_engine[READERS];

static void writer(unsigned w)
{
    wchar_t name[32];
    swprintf(name, 32, L"w%u/%u", w, 0u);
    HANDLE current = stress_open(name);
    for (unsigned g = 1; g <= churns; g++) {
        swprintf(name, 32, L"w%u/%u", w, g);
        HANDLE next = stress_open(name);
        DWORD status = FwpmEngineClose0(current);
        STRESS_CHECK(status == ERROR_SUCCESS, "close: %s", fwpm_strerror(status));
        current = next;
    }
    FwpmEngineClose0(current);
    atomic_fetch_sub_explicit(&writers_running, 1, memory_order_release);
}

/* Parses "w<writer>/<generation>" or "p<index>"; returns the kind letter. */
static wchar_t parse(const wchar_t *name, unsigned *a, unsigned *b)
{
    if (name == NULL)
        return 0;
    wchar_t kind = name[0];
    const wchar_t *p = name + 1;
    *a = (unsigned)wcstoul(p, (wchar_t **)&p, 10);
    *b = 0;
    if (kind == L'w' && *p == L'/')
        *b = (unsigned)wcstoul(p + 1, NULL, 10);
    return kind;
}

struct observation {
    unsigned generations[MAX_WRITERS][3];
    unsigned generation_count[MAX_WRITERS];
    unsigned char population_seen[POPULATION];
    unsigned readers_seen;
};

static void check_snapshot(const struct observation *o, unsigned lowest_before[MAX_WRITERS])
{
    for (unsigned w = 0; w < writers; w++) {
        unsigned n = o->generation_count[w];
        if (n == 0) {
            /* Allowed only after the writer has finished its chain. */
            continue;
        }
        STRESS_CHECK(n <= 2, "writer %u shows %u generations in one snapshot", w, n);
        unsigned lo = o->generations[w][0], hi = lo;
        if (n == 2) {
            unsigned other = o->generations[w][1];
            lo = other < lo ? other : lo;
            hi = other > hi ? other : hi;
            STRESS_CHECK(hi == lo + 1, "writer %u shows generations %u and %u", w, lo, hi);
        }
        STRESS_CHECK(lo >= lowest_before[w], "writer %u went back from %u to %u", w,
                     lowest_before[w], lo);
        lowest_before[w] = lo;
    }
    for (unsigned i = 0; i < POPULATION; i++)
        STRESS_CHECK(o->population_seen[i] == 1, "population session %u seen %u times", i,
                     o->population_seen[i]);
    STRESS_CHECK(o->readers_seen == READERS, "saw %u reader sessions", o->readers_seen);
}

static void reader(unsigned r, uint64_t *rng)
{
    HANDLE engine = reader_engine[r];
    unsigned lowest[MAX_WRITERS] = {0};
    struct observation *o = malloc(sizeof(*o));
    unsigned taken = 0;
    while (atomic_load_explicit(&writers_running, memory_order_acquire) > 0 ||
           taken < min_snapshots) {
        memset(o, 0, sizeof(*o));
        HANDLE e;
        DWORD status = FwpmSessionCreateEnumHandle0(engine, NULL, &e);
        STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        if (status != ERROR_SUCCESS)
            break;
        for (;;) {
            uint64_t pick = stress_random(rng);
            UINT32 page = (pick & 7) == 0 ? INFINITE : (UINT32)(1 + (pick >> 8) % 700);
            FWPM_SESSION0 **entries;
            UINT32 n;
            status = FwpmSessionEnum0(engine, e, page, &entries, &n);
            STRESS_CHECK(status == ERROR_SUCCESS, "enum: %s", fwpm_strerror(status));
            STRESS_CHECK(n <= page, "page of %u for a request of %u", n, page);
            for (UINT32 i = 0; i < n; i++) {
                unsigned a, b;
                switch (parse(entries[i]->displayData.name, &a, &b)) {
                case L'w':
                    if (a < writers && o->generation_count[a] < 3)
                        o->generations[a][o->generation_count[a]++] = b;
                    else
                        STRESS_CHECK(a < writers, "bad writer %u", a);
                    break;
                case L'p':
                    if (a < POPULATION && o->population_seen[a] < 255)
                        o->population_seen[a]++;
                    break;
                case L'r':
                    o->readers_seen++;
                    break;
                default:
                    STRESS_CHECK(false, "unexpected entry");
                }
            }
            FwpmFreeMemory0((void **)&entries);
            if (status != ERROR_SUCCESS || n < page)
                break;
        }
        FwpmSessionDestroyEnumHandle0(engine, e);
        check_snapshot(o, lowest);
        taken++;
    }
    atomic_fetch_add_explicit(&snapshots_checked, taken, memory_order_relaxed);
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
    if (argc > 1)
        writers = (unsigned)strtoul(argv[1], NULL, 10);
    if (writers == 0 || writers > MAX_WRITERS) {
        fprintf(stderr, "writers: 1 to %u\n", MAX_WRITERS);
        return 2;
    }
    atomic_init(&writers_running, writers);
    churns = stress_scaled(churns) / writers;
    min_snapshots = stress_scaled(min_snapshots);
    UINT64 baseline = stress_baseline();

    HANDLE *population = malloc(POPULATION * sizeof(HANDLE));
    for (unsigned i = 0; i < POPULATION; i++) {
        wchar_t name[32];
        swprintf(name, 32, L"p%u", i);
        population[i] = stress_open(name);
    }
    for (unsigned r = 0; r < READERS; r++) {
        wchar_t name[32];
        swprintf(name, 32, L"r%u", r);
        reader_engine[r] = stress_open(name);
    }

    stress_run(writers + READERS, worker, NULL);

    for (unsigned r = 0; r < READERS; r++)
        FwpmEngineClose0(reader_engine[r]);
    for (unsigned i = 0; i < POPULATION; i++)
        FwpmEngineClose0(population[i]);
    free(population);
    stress_expect_baseline(baseline);
    uint64_t checked = atomic_load_explicit(&snapshots_checked, memory_order_relaxed);
    printf("%u writers x %u churns, %llu snapshots of >= %u sessions checked\n", writers, churns,
           (unsigned long long)checked, POPULATION);
    return stress_report("stress_snapshot_atomic", (unsigned)checked);
}
