/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_page_takes_no_lock.c - FwpmSessionEnum0 takes no lock (contract §4.3), even
 * while a writer churns and while handles are destroyed under the pagers.
 *
 * This executable interposes the pthread mutex and rwlock entry points and
 * counts the calls that the library's own code (linked into this executable)
 * makes while a thread is inside FwpmSessionEnum0. After a warm-up (first
 * calls register per-thread records), that count must stay 0 over thousands
 * of pages. Calls from jemalloc, which takes its own internal locks when its
 * per-thread cache misses, are counted apart and only reported.
 */
#include "stress.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local bool inside_page;
static _Atomic unsigned long locks_in_pages;  /* taken by fwpm's code */
static _Atomic unsigned long allocator_locks; /* taken by jemalloc */

/* Counts a lock call made inside a page, by where it was called from. */
static void count_if_paging(void *caller)
{
    if (!inside_page)
        return;
    Dl_info here, from;
    bool ours = dladdr((void *)count_if_paging, &here) && dladdr(caller, &from) &&
                here.dli_fbase == from.dli_fbase;
    atomic_fetch_add_explicit(ours ? &locks_in_pages : &allocator_locks, 1, memory_order_relaxed);
}

/* Forwarders to the real functions (looked up once; dlsym takes no mutex
 * through these names before the first page). */
#define FORWARD(ret, name, params, args)                                                           \
    ret name params                                                                                \
    {                                                                                              \
        static ret(*real) params;                                                                  \
        if (real == NULL)                                                                          \
            real = (ret(*) params)dlsym(RTLD_NEXT, #name);                                         \
        count_if_paging(__builtin_return_address(0));                                              \
        return real args;                                                                          \
    }

FORWARD(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l))
FORWARD(int, pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l))

static DWORD page(HANDLE engine, HANDLE e, UINT32 n, FWPM_SESSION0 ***entries, UINT32 *got)
{
    inside_page = true;
    DWORD status = FwpmSessionEnum0(engine, e, n, entries, got);
    inside_page = false;
    return status;
}

enum { POPULATION = 3000, ROUNDS = 2000 };
static _Atomic int churning = 1;

static void worker(unsigned index, void *arg)
{
    (void)arg;
    if (index == 1) { /* the writer */
        while (atomic_load_explicit(&churning, memory_order_acquire))
            FwpmEngineClose0(stress_open(L"churn"));
        return;
    }
    HANDLE engine = stress_open(L"pager");
    uint64_t rng = 5;
    for (unsigned r = 0; r < stress_scaled(ROUNDS); r++) {
        HANDLE e;
        DWORD status = FwpmSessionCreateEnumHandle0(engine, NULL, &e);
        STRESS_CHECK(status == ERROR_SUCCESS, "create: %s", fwpm_strerror(status));
        FWPM_SESSION0 **entries;
        UINT32 got;
        do {
            status = page(engine, e, 1 + (UINT32)(stress_random(&rng) % 400), &entries, &got);
            STRESS_CHECK(status == ERROR_SUCCESS, "enum: %s", fwpm_strerror(status));
            FwpmFreeMemory0((void **)&entries);
        } while (got > 0);
        /* Destroy with an array still out, then page the dead handle: the
         * array's release and the failed page must not lock either. */
        HANDLE e2;
        FwpmSessionCreateEnumHandle0(engine, NULL, &e2);
        page(engine, e2, 10, &entries, &got);
        FwpmSessionDestroyEnumHandle0(engine, e2);
        page(engine, e2, 10, &entries, &got);
        FwpmSessionDestroyEnumHandle0(engine, e);
        FwpmFreeMemory0((void **)&entries);
        if (r == 0) { /* warm-up done: count from here */
            atomic_store_explicit(&locks_in_pages, 0, memory_order_relaxed);
            atomic_store_explicit(&allocator_locks, 0, memory_order_relaxed);
        }
    }
    FwpmEngineClose0(engine);
    atomic_store_explicit(&churning, 0, memory_order_release);
}

int main(void)
{
    UINT64 baseline = stress_baseline();
    static HANDLE population[POPULATION];
    for (unsigned i = 0; i < POPULATION; i++)
        population[i] = stress_open(L"standing");
    stress_run(2, worker, NULL);
    for (unsigned i = 0; i < POPULATION; i++)
        FwpmEngineClose0(population[i]);
    unsigned long locks = atomic_load_explicit(&locks_in_pages, memory_order_relaxed);
    STRESS_CHECK(locks == 0, "FwpmSessionEnum0 took %lu locks", locks);
    printf("locks taken inside FwpmSessionEnum0 after warm-up: %lu by fwpm, %lu by jemalloc\n",
           locks, atomic_load_explicit(&allocator_locks, memory_order_relaxed));
    stress_expect_baseline(baseline);
    return stress_report("test_page_takes_no_lock", stress_scaled(ROUNDS));
}
