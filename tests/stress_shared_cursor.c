/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_shared_cursor.c - one enumeration handle paged by several threads
 * at once delivers every entry of its snapshot exactly once (contract §4.4),
 * while a writer churns the set.
 *
 * Each round, one handle is created; the pagers take pages of random sizes
 * from it concurrently until it is exhausted, each checking its own pages (no
 * page over its request, nothing after a short page); then the union of what
 * they received is checked as one snapshot with perf/checker.h, the checker
 * fwpm-stress uses: the standing population and the pagers' own (anonymous)
 * session exactly once each, the churning writer's chain as one generation or
 * two consecutive ones within what it had completed and begun around the
 * handle's creation and never older than in the round before, nothing twice.
 *
 * Argument: the number of pagers (default 4). With 64 on 2 cores, pagers are
 * preempted between reading the handle's state word and their
 * compare-and-swap on it, so claims are retried against each other's.
 */
#include "stress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_PAGERS 256u
#define POPULATION 5000u

static unsigned pager_count = 4;
static unsigned rounds = 400;
static struct checker_world world;
static HANDLE engine;
static HANDLE shared_handle;
static uint64_t shared_lo, shared_hi; /* the chain's bounds for shared_handle */
static pthread_barrier_t round_start, round_end;
static _Atomic int churning = 1;
static struct stress_chain chain; /* writer 0, generation 0 opened before the rounds */

/* The arrays one pager received in the current round, checked and freed
 * after it by pager 0, and the pager's own page checks. */
struct pager {
    FWPM_SESSION0 ***arrays;
    UINT32 *counts;
    size_t n, capacity;
    struct violations log;
};
static struct pager pagers[MAX_PAGERS];

static void keep_array(struct pager *p, FWPM_SESSION0 **entries, UINT32 n)
{
    if (p->n == p->capacity) {
        size_t capacity = p->capacity ? 2 * p->capacity : 64;
        FWPM_SESSION0 ***arrays = realloc(p->arrays, capacity * sizeof(*arrays));
        UINT32 *counts = realloc(p->counts, capacity * sizeof(*counts));
        if (arrays == NULL || counts == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        p->arrays = arrays;
        p->counts = counts;
        p->capacity = capacity;
    }
    p->arrays[p->n] = entries;
    p->counts[p->n] = n;
    p->n++;
}

static void page_until_exhausted(struct pager *p, unsigned round, unsigned index, uint64_t *rng)
{
    char label[48];
    snprintf(label, sizeof(label), "round %u pager %u", round, index);
    struct page_stream stream;
    page_stream_init(&stream);
    for (;;) {
        uint64_t pick = stress_random(rng);
        UINT32 page = (pick & 15) == 0 ? INFINITE : (UINT32)(1 + (pick >> 8) % 300);
        FWPM_SESSION0 **entries;
        UINT32 n;
        DWORD status = FwpmSessionEnum0(engine, shared_handle, page, &entries, &n);
        STRESS_CHECK(status == ERROR_SUCCESS, "enum: %s", fwpm_strerror(status));
        if (status != ERROR_SUCCESS)
            return;
        checker_page(&stream, &p->log, label, page, entries, n);
        if (n == 0)
            return;
        keep_array(p, entries, n);
    }
}

/* The union of the pagers' arrays is one snapshot. */
static void check_round(unsigned round, struct snapshot_check *check, struct violations *log,
                        uint64_t *last)
{
    char label[48];
    snprintf(label, sizeof(label), "round %u", round);
    snapshot_check_begin(check, label);
    for (unsigned k = 0; k < pager_count; k++) {
        struct pager *p = &pagers[k];
        for (size_t a = 0; a < p->n; a++) {
            for (UINT32 i = 0; i < p->counts[a]; i++)
                snapshot_check_entry(check, log, p->arrays[a][i]);
            FwpmFreeMemory0((void **)&p->arrays[a]);
        }
        p->n = 0;
    }
    snapshot_check_end(check, log, true, &shared_lo, &shared_hi, last);
}

static void churn_writer(void)
{
    /* Acquire: pairs with pager 0's release after the last round. */
    while (atomic_load_explicit(&churning, memory_order_acquire))
        stress_chain_step(&chain);
    stress_chain_end(&chain);
}

static void pager(unsigned index)
{
    struct pager *p = &pagers[index];
    violations_init(&p->log);
    struct snapshot_check check;
    struct violations union_log;
    uint64_t last = 0; /* the chain's state in the previous round */
    violations_init(&union_log);
    if (index == 0 && !snapshot_check_init(&check, &world)) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    uint64_t rng = 0xC0FFEE + index;
    for (unsigned r = 0; r < rounds; r++) {
        if (index == 0) {
            stress_chains_done(&chain, 1, &shared_lo);
            DWORD status = FwpmSessionCreateEnumHandle0(engine, NULL, &shared_handle);
            stress_chains_begun(&chain, 1, &shared_hi);
            STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        }
        pthread_barrier_wait(&round_start);
        page_until_exhausted(p, r, index, &rng);
        pthread_barrier_wait(&round_end);
        if (index == 0) {
            check_round(r, &check, &union_log, &last);
            FwpmSessionDestroyEnumHandle0(engine, shared_handle);
        }
    }
    stress_expect_no_violations(&p->log);
    if (index == 0) {
        stress_expect_no_violations(&union_log);
        snapshot_check_destroy(&check);
        /* Release: pairs with the churning writer's acquire. */
        atomic_store_explicit(&churning, 0, memory_order_release);
    }
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    if (index == pager_count)
        churn_writer();
    else
        pager(index);
}

int main(int argc, char **argv)
{
    if (!stress_thread_arg(argc, argv, "pagers", MAX_PAGERS, pager_count, &pager_count))
        return 2;
    rounds = stress_scaled(rounds);
    UINT64 baseline = stress_baseline();
    stress_world_init(&world, 1, POPULATION, 1);
    engine = stress_open_session(NULL);
    stress_chain_start(&chain, 0);
    HANDLE *population = malloc(POPULATION * sizeof(HANDLE));
    for (unsigned i = 0; i < POPULATION; i++)
        population[i] = stress_open_standing(i);
    pthread_barrier_init(&round_start, NULL, pager_count);
    pthread_barrier_init(&round_end, NULL, pager_count);
    stress_run(pager_count + 1, worker, NULL);
    /* Here, not in the pagers: pager 0 reads every pager's list after the
     * last round, while the others have already left. */
    for (unsigned k = 0; k < pager_count; k++) {
        free(pagers[k].arrays);
        free(pagers[k].counts);
    }
    for (unsigned i = 0; i < POPULATION; i++)
        FwpmEngineClose0(population[i]);
    free(population);
    FwpmEngineClose0(engine);
    stress_world_destroy(&world);
    stress_expect_baseline(baseline);
    printf("%u rounds of %u pagers over %u sessions; the writer churned %llu generations\n", rounds,
           pager_count, POPULATION, (unsigned long long)chain.generation);
    return stress_report("stress_shared_cursor", rounds);
}
