/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.c - the harness behind stress.h.
 */
#include "stress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic unsigned failures;

void stress_fail(const char *file, int line, const char *fmt, ...)
{
    unsigned n = atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
    if (n >= 10)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: check failed: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

struct start {
    pthread_barrier_t barrier;
    void (*fn)(unsigned, void *);
    void *arg;
};

struct worker {
    struct start *start;
    unsigned index;
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    pthread_barrier_wait(&w->start->barrier); /* everybody starts together */
    w->start->fn(w->index, w->start->arg);
    return NULL;
}

void stress_run(unsigned n, void (*fn)(unsigned, void *), void *arg)
{
    struct start start = {.fn = fn, .arg = arg};
    pthread_barrier_init(&start.barrier, NULL, n);
    pthread_t *threads = calloc(n, sizeof(*threads));
    struct worker *workers = calloc(n, sizeof(*workers));
    for (unsigned i = 0; i < n; i++) {
        workers[i] = (struct worker){&start, i};
        if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(2);
        }
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start.barrier);
    free(threads);
    free(workers);
}

UINT64 stress_live_bytes(void)
{
    fwpm_reclaim();
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    return st.liveBytes;
}

unsigned stress_scaled(unsigned n)
{
    const char *scale = getenv("FWPM_STRESS_SCALE");
    double factor = scale != NULL ? atof(scale) : 1.0;
    if (!(factor > 0))
        factor = 1.0;
    unsigned scaled = (unsigned)(n * factor);
    return scaled > 0 ? scaled : 1;
}

UINT64 stress_baseline(void)
{
    FwpmEngineClose0(NULL); /* sets the engine up */
    return stress_live_bytes();
}

void stress_expect_baseline(UINT64 baseline)
{
    UINT64 after = stress_live_bytes();
    STRESS_CHECK(after == baseline, "memory %llu bytes after the run, %llu before",
                 (unsigned long long)after, (unsigned long long)baseline);
}

HANDLE stress_open(const wchar_t *name)
{
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = (wchar_t *)name;
    HANDLE h = NULL;
    DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h);
    STRESS_CHECK(status == ERROR_SUCCESS, "open: %s", fwpm_strerror(status));
    return h;
}

int stress_report(const char *name, unsigned checks_run)
{
    unsigned failed = atomic_load_explicit(&failures, memory_order_relaxed);
    printf("%s: %u passed, %u failed\n", name, failed ? 0 : checks_run, failed);
    return failed ? 1 : 0;
}
