/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.c - the harness behind stress.h.
 */
#include "stress.h"

#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

bool stress_thread_arg(int argc, char **argv, const char *what, unsigned max, unsigned fallback,
                       unsigned *count)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : fallback;
    if (n == 0 || n > max) {
        fprintf(stderr, "%s: 1 to %u\n", what, max);
        return false;
    }
    *count = (unsigned)n;
    return true;
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

HANDLE stress_open_session(const FWPM_SESSION0 *s)
{
    HANDLE h = NULL;
    DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, s, &h);
    STRESS_CHECK(status == ERROR_SUCCESS, "open: %s", fwpm_strerror(status));
    return h;
}

HANDLE stress_open(const wchar_t *name)
{
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = (wchar_t *)name;
    return stress_open_session(&s);
}

void stress_close(HANDLE engine)
{
    DWORD status = FwpmEngineClose0(engine);
    STRESS_CHECK(status == ERROR_SUCCESS, "close: %s", fwpm_strerror(status));
}

/* ---- observations checked with perf/checker.h ------------------------------ */

void stress_world_init(struct checker_world *world, unsigned writers, unsigned standing,
                       unsigned anonymous)
{
    setlocale(LC_CTYPE, "C.UTF-8"); /* for the account name only, as fwpm-stress */
    wchar_t *username = checker_account_name(geteuid());
    if (username == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    *world = (struct checker_world){
        .writers = writers,
        .standing = standing,
        .anonymous = anonymous,
        .pid = (DWORD)getpid(),
        .uid = (uint32_t)geteuid(),
        .username = username,
    };
}

void stress_world_destroy(struct checker_world *world)
{
    free((wchar_t *)world->username);
    world->username = NULL;
}

HANDLE stress_open_standing(unsigned index)
{
    FWPM_SESSION0 s;
    wchar_t name[CHECKER_NAME_MAX];
    checker_standing_session(&s, name, index);
    return stress_open_session(&s);
}

void stress_expect_no_violations(const struct violations *log)
{
    for (unsigned i = 0; i < log->kept; i++)
        stress_fail(__FILE__, __LINE__, "%s", log->text[i]);
    STRESS_CHECK(log->count == 0, "%llu invariant violations in all",
                 (unsigned long long)log->count);
}

static HANDLE open_generation(unsigned writer, uint64_t generation)
{
    FWPM_SESSION0 s;
    wchar_t name[CHECKER_NAME_MAX];
    checker_writer_session(&s, name, writer, generation);
    return stress_open_session(&s);
}

void stress_chain_start(struct stress_chain *chain, unsigned writer)
{
    chain->writer = writer;
    chain->generation = 0;
    chain->current = open_generation(writer, 0);
    atomic_init(&chain->begun, checker_state(0, false));
    atomic_init(&chain->done, checker_state(0, false));
}

void stress_chain_step(struct stress_chain *chain)
{
    uint64_t g = chain->generation;
    /* Release: stored before the open publishes; a reader whose snapshot
     * shows the open reads at least this in stress_chains_begun. */
    atomic_store_explicit(&chain->begun, checker_state(g, true), memory_order_release);
    HANDLE next = open_generation(chain->writer, g + 1);
    /* Release: pairs with the acquire in stress_chains_done; the open is
     * complete for whoever reads this. */
    atomic_store_explicit(&chain->done, checker_state(g, true), memory_order_release);
    /* Release: as for the open above, before the close unpublishes g. */
    atomic_store_explicit(&chain->begun, checker_state(g + 1, false), memory_order_release);
    stress_close(chain->current);
    chain->current = next;
    chain->generation = g + 1;
    /* Release: pairs with the acquire in stress_chains_done. */
    atomic_store_explicit(&chain->done, checker_state(g + 1, false), memory_order_release);
}

void stress_chain_end(struct stress_chain *chain)
{
    stress_close(chain->current);
    chain->current = NULL;
}

void stress_chains_done(const struct stress_chain *chains, unsigned n, uint64_t *lo)
{
    /* Acquire: pairs with the release stores of stress_chain_step; what a
     * writer completed happens before the snapshot this caller requests next. */
    for (unsigned i = 0; i < n; i++)
        lo[i] = atomic_load_explicit(&chains[i].done, memory_order_acquire);
}

void stress_chains_begun(const struct stress_chain *chains, unsigned n, uint64_t *hi)
{
    /* Acquire: pairs with the release stores of stress_chain_step. A snapshot
     * showing a state synchronized with the publication that the begun store
     * precedes, so this later load cannot read an older value. */
    for (unsigned i = 0; i < n; i++)
        hi[i] = atomic_load_explicit(&chains[i].begun, memory_order_acquire);
}

int stress_report(const char *name, unsigned checks_run)
{
    unsigned failed = atomic_load_explicit(&failures, memory_order_relaxed);
    printf("%s: %u passed, %u failed\n", name, failed ? 0 : checks_run, failed);
    return failed ? 1 : 0;
}
