/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_close_race.c - closing and destroying handles while other threads
 * use them never crashes and never gives a wrong answer (contract §4.6): every call
 * either completes or returns ERROR_INVALID_HANDLE; exactly one of several
 * racing closes (or destroys) of one handle succeeds; arrays returned before
 * a close stay readable; memory returns to its baseline.
 *
 * Rounds: a victim session with several enumeration handles is shared by
 * all threads; each thread does a random mix of pages, new handles, destroys
 * and one close attempt, all at once.
 */
#include "stress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4u
#define HANDLES 8u

static unsigned rounds = 3000;
static HANDLE victim;
static HANDLE enums[HANDLES];
static pthread_barrier_t round_start, round_end;
static _Atomic unsigned closes_won, destroys_won[HANDLES];

static bool is_ok_or_invalid(DWORD status)
{
    return status == ERROR_SUCCESS || status == ERROR_INVALID_HANDLE;
}

static void use_victim(uint64_t *rng)
{
    for (unsigned step = 0; step < 6; step++) {
        uint64_t pick = stress_random(rng);
        unsigned which = (unsigned)(pick >> 8) % HANDLES;
        switch (pick % 5) {
        case 0:
        case 1: {
            FWPM_SESSION0 **entries = NULL;
            UINT32 n = 0;
            DWORD status =
                FwpmSessionEnum0(victim, enums[which], 1 + (UINT32)(pick >> 20) % 5, &entries, &n);
            STRESS_CHECK(is_ok_or_invalid(status), "enum: %s", fwpm_strerror(status));
            for (UINT32 i = 0; i < n; i++)
                STRESS_CHECK(entries[i]->username != NULL && entries[i]->sid->Revision == 1,
                             "malformed entry");
            FwpmFreeMemory0((void **)&entries);
            break;
        }
        case 2: {
            DWORD status = FwpmSessionDestroyEnumHandle0(victim, enums[which]);
            STRESS_CHECK(is_ok_or_invalid(status), "destroy: %s", fwpm_strerror(status));
            if (status == ERROR_SUCCESS)
                atomic_fetch_add_explicit(&destroys_won[which], 1, memory_order_relaxed);
            break;
        }
        case 3: {
            HANDLE e;
            DWORD status = FwpmSessionCreateEnumHandle0(victim, NULL, &e);
            STRESS_CHECK(is_ok_or_invalid(status), "create: %s", fwpm_strerror(status));
            if (status == ERROR_SUCCESS) {
                status = FwpmSessionDestroyEnumHandle0(victim, e);
                STRESS_CHECK(is_ok_or_invalid(status), "destroy new: %s", fwpm_strerror(status));
            }
            break;
        }
        default: {
            DWORD status = FwpmEngineClose0(victim);
            STRESS_CHECK(is_ok_or_invalid(status), "close: %s", fwpm_strerror(status));
            if (status == ERROR_SUCCESS)
                atomic_fetch_add_explicit(&closes_won, 1, memory_order_relaxed);
        }
        }
    }
}

static void setup_round(void)
{
    victim = stress_open(L"victim");
    for (unsigned i = 0; i < HANDLES; i++) {
        DWORD status = FwpmSessionCreateEnumHandle0(victim, NULL, &enums[i]);
        STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        atomic_store_explicit(&destroys_won[i], 0, memory_order_relaxed);
    }
    atomic_store_explicit(&closes_won, 0, memory_order_relaxed);
}

static void finish_round(unsigned round)
{
    /* Whatever survived the round goes now; the close decides for the rest. */
    DWORD status = FwpmEngineClose0(victim);
    unsigned closes = atomic_load_explicit(&closes_won, memory_order_relaxed);
    STRESS_CHECK((status == ERROR_SUCCESS) == (closes == 0),
                 "round %u: %u racing closes succeeded, final close %s", round, closes,
                 fwpm_strerror(status));
    for (unsigned i = 0; i < HANDLES; i++)
        STRESS_CHECK(atomic_load_explicit(&destroys_won[i], memory_order_relaxed) <= 1,
                     "round %u: handle %u destroyed more than once", round, i);
    for (unsigned i = 0; i < HANDLES; i++) {
        FWPM_SESSION0 **entries;
        UINT32 n;
        STRESS_CHECK(FwpmSessionEnum0(victim, enums[i], 1, &entries, &n) == ERROR_INVALID_HANDLE,
                     "round %u: handle usable after close", round);
    }
}

static void worker(unsigned index, void *arg)
{
    (void)arg;
    uint64_t rng = 0xBADC0DE + index;
    for (unsigned r = 0; r < rounds; r++) {
        if (index == 0)
            setup_round();
        pthread_barrier_wait(&round_start);
        use_victim(&rng);
        pthread_barrier_wait(&round_end);
        if (index == 0)
            finish_round(r);
    }
}

int main(void)
{
    rounds = stress_scaled(rounds);
    UINT64 baseline = stress_baseline();
    /* Some bystanders, so that pages have something to copy. */
    HANDLE bystanders[100];
    for (unsigned i = 0; i < 100; i++)
        bystanders[i] = stress_open(L"bystander");
    pthread_barrier_init(&round_start, NULL, THREADS);
    pthread_barrier_init(&round_end, NULL, THREADS);
    stress_run(THREADS, worker, NULL);
    for (unsigned i = 0; i < 100; i++)
        FwpmEngineClose0(bystanders[i]);
    stress_expect_baseline(baseline);
    printf("%u rounds of %u threads racing close/destroy/use\n", rounds, THREADS);
    return stress_report("stress_close_race", rounds);
}
