/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_shared_cursor.c - one enumeration handle paged by several threads
 * at once delivers every entry of its snapshot exactly once (contract §4.4), while
 * a writer churns the set.
 *
 * Each round, one handle is created; the pagers take pages of random sizes
 * from it concurrently until it is exhausted; then the union is checked: the
 * standing population exactly once each, the churning writer's chain as one
 * generation or two consecutive ones, nothing twice, no page over its request.
 */
#include "stress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define PAGERS 4u
#define POPULATION 5000u

static unsigned rounds = 400;
static HANDLE engine;
static HANDLE shared_handle;
static pthread_barrier_t round_start, round_end;
static _Atomic unsigned seen[POPULATION];
static _Atomic unsigned chain_count;
static _Atomic unsigned chain[4];
static _Atomic unsigned other_count;
static _Atomic int churning = 1;
static HANDLE chain_head; /* generation 0, opened before the rounds start */
static _Atomic unsigned generations_churned;

static void page_until_exhausted(uint64_t *rng)
{
    for (;;) {
        uint64_t pick = stress_random(rng);
        UINT32 page = (pick & 15) == 0 ? INFINITE : (UINT32)(1 + (pick >> 8) % 300);
        FWPM_SESSION0 **entries;
        UINT32 n;
        DWORD status = FwpmSessionEnum0(engine, shared_handle, page, &entries, &n);
        STRESS_CHECK(status == ERROR_SUCCESS, "enum: %s", fwpm_strerror(status));
        STRESS_CHECK(n <= page, "page of %u for a request of %u", n, page);
        for (UINT32 i = 0; i < n; i++) {
            const wchar_t *name = entries[i]->displayData.name;
            if (name != NULL && name[0] == L'p') {
                unsigned index = (unsigned)wcstoul(name + 1, NULL, 10);
                if (index < POPULATION)
                    atomic_fetch_add_explicit(&seen[index], 1, memory_order_relaxed);
            } else if (name != NULL && name[0] == L'g') {
                unsigned k = atomic_fetch_add_explicit(&chain_count, 1, memory_order_relaxed);
                if (k < 4)
                    atomic_store_explicit(&chain[k], (unsigned)wcstoul(name + 1, NULL, 10),
                                          memory_order_relaxed);
            } else {
                atomic_fetch_add_explicit(&other_count, 1, memory_order_relaxed);
            }
        }
        FwpmFreeMemory0((void **)&entries);
        if (status != ERROR_SUCCESS || n == 0)
            return;
    }
}

static void check_round(unsigned round)
{
    for (unsigned i = 0; i < POPULATION; i++) {
        unsigned k = atomic_load_explicit(&seen[i], memory_order_relaxed);
        STRESS_CHECK(k == 1, "round %u: population session %u delivered %u times", round, i, k);
        atomic_store_explicit(&seen[i], 0, memory_order_relaxed);
    }
    unsigned n = atomic_load_explicit(&chain_count, memory_order_relaxed);
    STRESS_CHECK(n == 1 || n == 2, "round %u: writer chain delivered %u times", round, n);
    if (n == 2) {
        unsigned a = atomic_load_explicit(&chain[0], memory_order_relaxed);
        unsigned b = atomic_load_explicit(&chain[1], memory_order_relaxed);
        STRESS_CHECK(a + 1 == b || b + 1 == a, "round %u: generations %u and %u", round, a, b);
    }
    unsigned others = atomic_load_explicit(&other_count, memory_order_relaxed);
    STRESS_CHECK(others == 1, "round %u: %u other sessions (expected the pagers' own)", round,
                 others);
    atomic_store_explicit(&chain_count, 0, memory_order_relaxed);
    atomic_store_explicit(&other_count, 0, memory_order_relaxed);
}

static void churn_writer(void)
{
    wchar_t name[32];
    unsigned g = 0;
    HANDLE current = chain_head;
    while (atomic_load_explicit(&churning, memory_order_acquire)) {
        swprintf(name, 32, L"g%u", ++g);
        HANDLE next = stress_open(name);
        FwpmEngineClose0(current);
        current = next;
    }
    FwpmEngineClose0(current);
    atomic_store_explicit(&generations_churned, g, memory_order_relaxed);
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    if (index == PAGERS) {
        churn_writer();
        return;
    }
    uint64_t rng = 0xC0FFEE + index;
    for (unsigned r = 0; r < rounds; r++) {
        if (index == 0) {
            DWORD status = FwpmSessionCreateEnumHandle0(engine, NULL, &shared_handle);
            STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        }
        pthread_barrier_wait(&round_start);
        page_until_exhausted(&rng);
        pthread_barrier_wait(&round_end);
        if (index == 0) {
            check_round(r);
            FwpmSessionDestroyEnumHandle0(engine, shared_handle);
        }
    }
    if (index == 0)
        atomic_store_explicit(&churning, 0, memory_order_release);
}

int main(void)
{
    rounds = stress_scaled(rounds);
    UINT64 baseline = stress_baseline();
    engine = stress_open(L"Pagers");
    chain_head = stress_open(L"g0");
    HANDLE *population = malloc(POPULATION * sizeof(HANDLE));
    for (unsigned i = 0; i < POPULATION; i++) {
        wchar_t name[32];
        swprintf(name, 32, L"p%u", i);
        population[i] = stress_open(name);
    }
    pthread_barrier_init(&round_start, NULL, PAGERS);
    pthread_barrier_init(&round_end, NULL, PAGERS);
    stress_run(PAGERS + 1, worker, NULL);
    for (unsigned i = 0; i < POPULATION; i++)
        FwpmEngineClose0(population[i]);
    free(population);
    FwpmEngineClose0(engine);
    stress_expect_baseline(baseline);
    printf("%u rounds of %u pagers over %u sessions; the writer churned %u generations\n", rounds,
           PAGERS, POPULATION, atomic_load_explicit(&generations_churned, memory_order_relaxed));
    return stress_report("stress_shared_cursor", rounds);
}
