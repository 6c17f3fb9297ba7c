/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_no_host_malloc.c - the library allocates only through jemalloc's own
 * API, never through the host's malloc. This executable interposes malloc,
 * calloc, realloc and free, counts calls, and runs a full workload between
 * two readings of the counter (after a warm-up, which may let libc set up
 * its own per-thread state).
 */
#include "stress.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static _Atomic unsigned long host_calls;

void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&host_calls, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    atomic_fetch_add_explicit(&host_calls, 1, memory_order_relaxed);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&host_calls, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (p != NULL)
        atomic_fetch_add_explicit(&host_calls, 1, memory_order_relaxed);
    __libc_free(p);
}

static void workload(unsigned sessions)
{
    static HANDLE h[2000];
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = L"name";
    s.displayData.description = L"description";
    for (unsigned i = 0; i < sessions; i++)
        FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h[i]);
    HANDLE e;
    FwpmSessionCreateEnumHandle0(h[0], NULL, &e);
    for (;;) {
        FWPM_SESSION0 **entries;
        UINT32 n;
        FwpmSessionEnum0(h[0], e, 100, &entries, &n);
        FwpmFreeMemory0((void **)&entries);
        if (n < 100)
            break;
    }
    FwpmSessionDestroyEnumHandle0(h[0], e);
    for (unsigned i = 0; i < sessions; i++)
        FwpmEngineClose0(h[i]);
    fwpm_reclaim();
}

int main(void)
{
    workload(10); /* warm-up: engine set-up, this thread's records, name cache */
    unsigned long before = atomic_load_explicit(&host_calls, memory_order_relaxed);
    workload(2000);
    unsigned long after = atomic_load_explicit(&host_calls, memory_order_relaxed);
    STRESS_CHECK(after == before, "the library called the host allocator %lu times",
                 after - before);
    printf("host allocator calls during the workload: %lu\n", after - before);
    return stress_report("test_no_host_malloc", 1);
}
