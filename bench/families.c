/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * families.c - fwpm-bench's benchmark bodies, in C over the public API (and
 * the same six functions of each peer, through struct fwpm_impl). Names are
 * <family>/<impl>/<args>; Google Benchmark appends /threads:T, /real_time and
 * /iterations:1 where they apply. Families:
 *   open_close          open + close one session, 1 .. 2x cores threads
 *   open_close_in_turn  the same on 2 threads taking strict turns
 *   memory              bytes per session and per live snapshot at N = 100k
 *   create_enum_handle  create + destroy an enumeration handle, N = 1 .. 1M,
 *                       on an unchanged table or right after one change
 *   enum_page           page through a fresh handle at N = 100k, page size 1 ..
 *                       INFINITE (Enum + FreeMemory each), against malloc +
 *                       memcpy of as many pointers measured between the drains
 *                       (and, as separate runs, memcpy with and without a
 *                       fresh buffer)
 *   enumerate_all       create + page through (1000 a page) + destroy, N = 1k .. 1M,
 *                       against one memcpy of N pointers (and 1000 a page)
 *   mixed               readers enumerating while writers churn at N = 100k
 *   startup_shutdown    T threads (1 .. 64) each open K sessions, then close
 *                       them all: calls per second and the worst single call
 *   boundary            the host engine (a private fwpmd, bench/host.h) against
 *                       the in-process engine in the same process: open+close
 *                       (1 and many threads), create+destroy at N = 100 and
 *                       large N, full enumeration of N sessions (host: held by
 *                       ten other processes); selected as impl "host"
 */
#include "bench.h"
#include "host.h"

#include "peers/impl.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define ENUM_N 100000u       /* table size of enum_page, mixed and memory */
#define ALL_PAGE 1000u       /* page size of enumerate_all and mixed readers */
#define MEMORY_SNAPSHOTS 8u  /* live snapshots measured by memory */
#define STARTUP_SESSIONS 64u /* sessions each startup_shutdown thread opens */
#define BOUNDARY_PAGE 8192u  /* entries per call in boundary enumerations (one host reply) */
#define BOUNDARY_PROCS 10u   /* helper processes holding the host engine's sessions */
/* The host engine's large N: its sessions share their processes' pools of
 * connections (at most 64 each), so 100,000 cost the daemon 640 descriptors. */
#define BOUNDARY_HOST_N ENUM_N

/* ---- configuration (--fwpm_* flags) ------------------------------------- */

static struct {
    bool quick;           /* a reduced set: N <= 100k, fewer mixed splits */
    double mixed_seconds; /* how long each mixed run churns */
    const char *impls;    /* comma-separated subset ("memcpy": the baselines), NULL = all */
} cfg = {.mixed_seconds = 1.0};

static const FWPM_SESSION0 bench_session = {
    .displayData = {.name = L"fwpm-bench", .description = L"a benchmark session"},
    .flags = FWPM_SESSION_FLAG_DYNAMIC,
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reports a failed call; the benchmark then stops (KeepRunning turns false). */
static bool ok(bench_state *st, DWORD rc, const char *what)
{
    if (rc == ERROR_SUCCESS)
        return true;
    char msg[96];
    snprintf(msg, sizeof(msg), "%s failed: 0x%08X", what, (unsigned)rc);
    bench_error(st, msg);
    return false;
}

static DWORD open_one(const struct fwpm_impl *im, HANDLE *h)
{
    return im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &bench_session, h);
}

/* ---- /proc/self/status ------------------------------------------------- */

static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, len) == 0) {
            v = strtol(line + len, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0); false if not permitted. */
static bool reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool done = fputs("5", f) >= 0;
    return fclose(f) == 0 && done;
}

/* jemalloc's control entry point: every engine allocates from jemalloc here
 * (bench/CMakeLists.txt); weak, so that a build without it still links. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

/* Gives the freed pages of every jemalloc arena back to the kernel, so that a
 * resident-memory figure starts from what is live and not from the garbage of
 * the benchmarks before it (jemalloc keeps freed pages for up to 10 s). Done
 * the same way for every engine. */
static void allocator_purge(void)
{
    if (mallctl != NULL)
        mallctl("arena.4096.purge", NULL, NULL, NULL, 0); /* 4096: MALLCTL_ARENAS_ALL */
}

/* ---- the population: N open sessions of one engine, kept across benchmarks */

static struct {
    const struct fwpm_impl *impl;
    HANDLE *h; /* h[0] is the client every enumeration goes through; never churned */
    size_t n, cap;
    size_t churn; /* next slot pop_change replaces */
} pop;

static void pop_clear(void)
{
    if (!pop.impl)
        return;
    while (pop.n > 0)
        pop.impl->engine_close(pop.h[--pop.n]);
    pop.impl->reclaim();
    malloc_trim(0);
    pop.impl = NULL;
}

/* Makes the table of `im` hold exactly n sessions (other engines: none). */
static bool pop_set(bench_state *st, const struct fwpm_impl *im, size_t n)
{
    if (pop.impl != im)
        pop_clear();
    pop.impl = im;
    if (n > pop.cap) {
        HANDLE *h = realloc(pop.h, n * sizeof(*h));
        if (!h) {
            bench_error(st, "out of memory");
            return false;
        }
        pop.h = h;
        pop.cap = n;
    }
    while (pop.n < n)
        if (!ok(st, open_one(im, &pop.h[pop.n++]), "FwpmEngineOpen0")) {
            pop.n--;
            return false;
        }
    while (pop.n > n)
        if (!ok(st, im->engine_close(pop.h[--pop.n]), "FwpmEngineClose0"))
            return false;
    return true;
}

/* One change to the table: a session (not the client) closes and another opens. */
static DWORD pop_change(void)
{
    const struct fwpm_impl *im = pop.impl;
    DWORD rc;
    if (pop.n < 2) {
        HANDLE h;
        if ((rc = open_one(im, &h)) != ERROR_SUCCESS)
            return rc;
        return im->engine_close(h);
    }
    size_t k = 1 + pop.churn++ % (pop.n - 1);
    if ((rc = im->engine_close(pop.h[k])) != ERROR_SUCCESS)
        return rc;
    return open_one(im, &pop.h[k]);
}

/* Pages through a whole enumeration handle, `page` entries a call; returns
 * entries seen or -1. */
static int64_t drain_pages(bench_state *st, const struct fwpm_impl *im, HANDLE enumHandle,
                           UINT32 page)
{
    int64_t seen = 0;
    UINT32 k;
    do {
        FWPM_SESSION0 **entries;
        if (!ok(st, im->session_enum(pop.h[0], enumHandle, page, &entries, &k), "FwpmSessionEnum0"))
            return -1;
        im->free_memory((void **)&entries);
        seen += k;
    } while (k == page);
    return seen;
}

static int64_t drain(bench_state *st, const struct fwpm_impl *im, HANDLE enumHandle)
{
    return drain_pages(st, im, enumHandle, ALL_PAGE);
}

/* ---- families ---------------------------------------------------------- */

static void run_open_close(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    if (bench_thread_index(st) == 0)
        pop_set(st, im, 0); /* the others wait at the start barrier */
    int64_t ops = 0;
    while (bench_keep_running(st)) {
        HANDLE h;
        if (ok(st, open_one(im, &h), "FwpmEngineOpen0") &&
            ok(st, im->engine_close(h), "FwpmEngineClose0"))
            ops++;
    }
    bench_set_items(st, ops);
}

/* One round of a spin wait: the CPU's pause hint where it has one. */
static inline void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* The turn of open_close_in_turn: thread t % 2 opens and closes on turn t. */
static _Atomic uint64_t in_turn_next;

/* Two threads open + close in strict turn, handing over with a spin on a
 * shared counter (no system call): every write follows the other thread's,
 * so nothing is ever concurrent and a design that bets on a writer's return
 * (fwpm's deferral to the last combiner) loses its bet at every turn. Both
 * threads run the same number of iterations (Google Benchmark's rule), so
 * neither waits for a turn that never comes. */
static void run_open_close_in_turn(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    uint64_t me = (uint64_t)bench_thread_index(st);
    if (me == 0) {
        pop_set(st, im, 0);
        /* Relaxed: the start barrier orders it before the other thread's
         * first look. */
        atomic_store_explicit(&in_turn_next, 0, memory_order_relaxed);
    }
    int64_t ops = 0;
    for (uint64_t t = me; bench_keep_running(st); t += 2) {
        /* Acquire: pairs with the release below, the other thread's turn done. */
        while (atomic_load_explicit(&in_turn_next, memory_order_acquire) != t)
            spin_pause();
        HANDLE h;
        if (ok(st, open_one(im, &h), "FwpmEngineOpen0") &&
            ok(st, im->engine_close(h), "FwpmEngineClose0"))
            ops++;
        atomic_store_explicit(&in_turn_next, t + 1, memory_order_release);
    }
    bench_set_items(st, ops);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The slowest single call of a startup_shutdown run, over all its threads. */
static _Atomic uint64_t startup_worst_ns;

static void note_worst(uint64_t ns)
{
    uint64_t seen = atomic_load_explicit(&startup_worst_ns, memory_order_relaxed);
    while (ns > seen &&
           !atomic_compare_exchange_weak_explicit(&startup_worst_ns, &seen, ns,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* One call, timed on its own; false (reported) when it failed. */
static bool timed_call(bench_state *st, DWORD rc_of(const struct fwpm_impl *, HANDLE *),
                       const struct fwpm_impl *im, HANDLE *h, const char *what, uint64_t *worst)
{
    uint64_t t0 = now_ns();
    DWORD rc = rc_of(im, h);
    uint64_t took = now_ns() - t0;
    if (took > *worst)
        *worst = took;
    return ok(st, rc, what);
}

static DWORD open_call(const struct fwpm_impl *im, HANDLE *h)
{
    return open_one(im, h);
}

static DWORD close_call(const struct fwpm_impl *im, HANDLE *h)
{
    return im->engine_close(*h);
}

/* What an agent does at start-up and shutdown: every thread opens K
 * sessions, then closes them all; one iteration is one such cycle per
 * thread. Items are calls (2K per thread and iteration). */
static void run_startup_shutdown(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    if (bench_thread_index(st) == 0) {
        pop_set(st, im, 0); /* the others wait at the start barrier */
        atomic_store_explicit(&startup_worst_ns, 0, memory_order_relaxed);
    }
    HANDLE *h = malloc(sp->n * sizeof(*h));
    if (h == NULL) {
        bench_error(st, "out of memory");
        return;
    }
    int64_t calls = 0;
    uint64_t worst = 0;
    while (bench_keep_running(st)) { /* false after a failed call, too */
        uint64_t opened = 0;
        while (opened < sp->n &&
               timed_call(st, open_call, im, &h[opened], "FwpmEngineOpen0", &worst))
            opened++;
        for (uint64_t i = 0; i < opened; i++)
            if (timed_call(st, close_call, im, &h[i], "FwpmEngineClose0", &worst))
                calls++;
        calls += (int64_t)opened;
    }
    free(h);
    note_worst(worst);
    bench_set_items(st, calls);
    if (bench_thread_index(st) == 0) /* after the stop barrier: every thread is done */
        bench_counter(st, "worst_call_us",
                      (double)atomic_load_explicit(&startup_worst_ns, memory_order_relaxed) / 1e3,
                      0);
}

static void run_memory(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    if (!pop_set(st, im, 0))
        return;
    im->reclaim();
    allocator_purge();
    uint64_t b0 = im->memory_bytes();
    long rss0 = status_kib("VmRSS:");
    while (bench_keep_running(st)) /* timed: opening n sessions one by one */
        pop_set(st, im, sp->n);
    im->reclaim();
    uint64_t b1 = im->memory_bytes();
    long rss1 = status_kib("VmRSS:");

    HANDLE e[MEMORY_SNAPSHOTS];
    unsigned made = 0;
    for (; made < MEMORY_SNAPSHOTS; made++) /* a change before each: no sharing */
        if (!ok(st, pop_change(), "change") ||
            !ok(st, im->create_enum_handle(pop.h[0], NULL, &e[made]), "CreateEnumHandle"))
            break;
    im->reclaim();
    uint64_t b2 = im->memory_bytes();
    for (unsigned i = 0; i < made; i++)
        im->destroy_enum_handle(pop.h[0], e[i]);
    im->reclaim();

    bench_set_items(st, (int64_t)sp->n);
    bench_counter(st, "bytes_per_session", ((double)b1 - (double)b0) / (double)sp->n, 0);
    bench_counter(st, "rss_bytes_per_session", (double)(rss1 - rss0) * 1024.0 / (double)sp->n, 0);
    if (made)
        bench_counter(st, "bytes_per_snapshot", ((double)b2 - (double)b1) / made, 0);
}

/* One enumeration handle created and destroyed through engine handle h: 1,
 * or 0 (reported) when a call failed. */
static int64_t create_destroy(bench_state *st, const struct fwpm_impl *im, HANDLE h)
{
    HANDLE e;
    return ok(st, im->create_enum_handle(h, NULL, &e), "CreateEnumHandle") &&
           ok(st, im->destroy_enum_handle(h, e), "DestroyEnumHandle");
}

/* Unchanged: a plain loop. Changed: a close + open before each handle,
 * untimed; the body times create + destroy itself (one clock read, ~20 ns,
 * lands inside the measurement). */
static void run_create_enum(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    if (!pop_set(st, im, sp->n))
        return;
    int64_t handles = 0;
    while (bench_keep_running(st)) {
        double t0 = 0;
        if (sp->variant) {
            if (!ok(st, pop_change(), "change"))
                continue;
            t0 = now_seconds();
        }
        handles += create_destroy(st, im, pop.h[0]);
        if (sp->variant)
            bench_set_iteration_time(st, now_seconds() - t0);
    }
    bench_set_items(st, handles);
}

/* One iteration pages through a whole fresh handle (n entries) with pages of
 * sp->page entries, each FwpmSessionEnum0 + FwpmFreeMemory0. Only the pages
 * are timed: the handle is created and destroyed outside the measurement. */
/* The floor for a page: page after page of k pointers out of src[0..n),
 * each a memcpy into a fresh malloc'd buffer (alloc) or into `reused`.
 * Returns the pages walked. */
static int64_t floor_walk(void *const *src, size_t n, size_t k, bool alloc, void **reused)
{
    int64_t pages = 0;
    for (size_t off = 0; off < n; off += k, pages++) {
        size_t m = n - off < k ? n - off : k;
        void **dst = alloc ? malloc(m * sizeof(*dst)) : reused;
        memcpy(dst, src + off, m * sizeof(*dst));
        __asm__ volatile("" : : "r"(dst) : "memory"); /* keep the copy */
        if (alloc)
            free(dst);
    }
    return pages;
}

/* Brings malloc's block for a page of k pointers into the cache, so that the
 * floor_walk after it copies into a warm block in every process. Without it
 * the floor differed by engine, not by design: a malloc-based engine had just
 * freed a block of that size, which malloc handed to the floor warm, while
 * fwpm's pages come from the library's own arena, so in its process the floor
 * got a block last touched a whole iteration before (a page of 100k entries:
 * a floor of 26-34 us in fwpm's process against 13-15 us in snapcache's;
 * 12-15 us in both with this). */
static void floor_block_warm(size_t k)
{
    void *block = malloc(k * sizeof(void *));
    if (block) {
        /* Not 0: gcc folds malloc + memset 0 into calloc, and with that the
         * floor of a page of 100k entries measured 1.8 ms, not 12 us. */
        memset(block, 0xa5, k * sizeof(void *));
        __asm__ volatile("" : : "r"(block) : "memory"); /* keep the stores */
        free(block);
    }
}

/* A source array for floor_walk: n distinct pointers; NULL when out of memory. */
static void **floor_source(size_t n)
{
    void **src = malloc(n * sizeof(*src));
    if (src)
        for (size_t i = 0; i < n; i++)
            src[i] = &src[i];
    return src;
}

/* Each drain of the engine's pages is followed by the same pages as
 * malloc + memcpy (floor_walk), timed apart: floor_ns is the floor measured
 * in this process, a few milliseconds from the pages it is compared with,
 * so that vs_floor (page_ns / floor_ns) holds whatever speed the machine
 * runs at just then (this VM's speed moves by up to 1.7x for seconds at a
 * time). Its first page's block is warmed first (floor_block_warm). The floor
 * is not part of the benchmark's time. */
static void run_enum_page(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    if (!pop_set(st, im, sp->n))
        return;
    void **src = floor_source(pop.n);
    if (!src) {
        bench_error(st, "out of memory");
        return;
    }
    int64_t entries = 0, pages = 0, floor_pages = 0;
    double timed = 0, floor_timed = 0;
    while (bench_keep_running(st)) {
        HANDLE e;
        if (!ok(st, im->create_enum_handle(pop.h[0], NULL, &e), "CreateEnumHandle"))
            continue;
        size_t taken = 0;
        double t0 = now_seconds();
        while (taken < pop.n) {
            FWPM_SESSION0 **page;
            UINT32 k;
            if (!ok(st, im->session_enum(pop.h[0], e, sp->page, &page, &k), "FwpmSessionEnum0"))
                break;
            im->free_memory((void **)&page);
            taken += k;
            pages++;
            if (k == 0) {
                bench_error(st, "short enumeration");
                break;
            }
        }
        double dt = now_seconds() - t0;
        bench_set_iteration_time(st, dt);
        timed += dt;
        entries += (int64_t)taken;
        ok(st, im->destroy_enum_handle(pop.h[0], e), "DestroyEnumHandle");
        size_t floor_page = sp->page < pop.n ? sp->page : pop.n;
        floor_block_warm(floor_page);
        double f0 = now_seconds();
        floor_pages += floor_walk(src, pop.n, floor_page, true, NULL);
        floor_timed += now_seconds() - f0;
    }
    free(src);
    bench_set_items(st, entries);
    if (pages && floor_pages) {
        double page_ns = timed * 1e9 / (double)pages;
        double floor_ns = floor_timed * 1e9 / (double)floor_pages;
        bench_counter(st, "page_ns", page_ns, 0);
        bench_counter(st, "floor_ns", floor_ns, 0);
        bench_counter(st, "vs_floor", page_ns / floor_ns, 0);
    }
}

/* The floor for those pages: the same walk over a 100k-pointer array, each
 * page a memcpy of as many pointers into a fresh malloc'd buffer (variant 1)
 * or into one reused buffer (variant 0). */
static void run_memcpy(bench_state *st, const struct bench_spec *sp)
{
    size_t n = sp->n, k = sp->page < n ? sp->page : n;
    void **src = floor_source(n);
    void **reused = malloc(k * sizeof(*reused));
    if (!src || !reused) {
        bench_error(st, "out of memory");
        free(src);
        free(reused);
        return;
    }
    int64_t entries = 0, pages = 0;
    double t0 = now_seconds();
    while (bench_keep_running(st)) {
        pages += floor_walk(src, n, k, sp->variant, reused);
        entries += (int64_t)n;
    }
    double dt = now_seconds() - t0;
    free(src);
    free(reused);
    bench_set_items(st, entries);
    if (pages)
        bench_counter(st, "page_ns", dt * 1e9 / (double)pages, 0);
}

static void run_enumerate_all(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    if (!pop_set(st, im, sp->n))
        return;
    int64_t entries = 0;
    while (bench_keep_running(st)) {
        HANDLE e;
        if (!ok(st, im->create_enum_handle(pop.h[0], NULL, &e), "CreateEnumHandle"))
            continue;
        int64_t seen = drain(st, im, e);
        if (ok(st, im->destroy_enum_handle(pop.h[0], e), "DestroyEnumHandle") && seen >= 0)
            entries += seen;
    }
    bench_set_items(st, entries);
}

/* Writers (threads 0 .. W-1) close and reopen their share of the table for
 * cfg.mixed_seconds while readers enumerate all of it, 1000 entries a page. */
static void run_mixed(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    static bool ready; /* written by thread 0 before the start barrier */
    int t = bench_thread_index(st);
    long rss0 = 0;
    bool peak_ok = false;
    if (t == 0) {
        ready = pop_set(st, im, sp->n);
        im->reclaim();
        allocator_purge();
        peak_ok = reset_peak_rss();
        rss0 = status_kib("VmRSS:");
    }
    double ops = 0, entries = 0, snapshots = 0;
    /* Every thread must reach KeepRunning (a barrier), even after a failure. */
    while (bench_keep_running(st)) { /* one iteration: the whole timed run */
        if (!ready)
            continue;
        double end = now_seconds() + cfg.mixed_seconds;
        if (t < sp->writers) {
            size_t span = sp->n - 1, lo = 1 + (size_t)t * span / (size_t)sp->writers;
            size_t hi = 1 + (size_t)(t + 1) * span / (size_t)sp->writers, k = lo;
            bool good = true;
            while (good && now_seconds() < end)
                for (int j = 0; good && j < 16; j++, ops++) {
                    good = ok(st, im->engine_close(pop.h[k]), "FwpmEngineClose0") &&
                           ok(st, open_one(im, &pop.h[k]), "FwpmEngineOpen0");
                    k = k + 1 < hi ? k + 1 : lo;
                }
        } else {
            while (now_seconds() < end) {
                HANDLE e;
                if (!ok(st, im->create_enum_handle(pop.h[0], NULL, &e), "CreateEnumHandle"))
                    break;
                int64_t seen = drain(st, im, e);
                if (!ok(st, im->destroy_enum_handle(pop.h[0], e), "DestroyEnumHandle") || seen < 0)
                    break;
                entries += (double)seen;
                snapshots++;
            }
        }
    }
    bench_counter(st, "writer_ops", ops, BENCH_RATE);
    bench_counter(st, "reader_entries", entries, BENCH_RATE);
    bench_counter(st, "reader_snapshots", snapshots, BENCH_RATE);
    if (t == 0) { /* after the stop barrier: every thread is done */
        uint64_t pending = im->memory_bytes();
        im->reclaim();
        uint64_t settled = im->memory_bytes();
        bench_counter(st, "deferred_MiB", ((double)pending - (double)settled) / 1048576.0, 0);
        if (peak_ok) {
            long hwm = status_kib("VmHWM:");
            bench_counter(st, "peak_rss_MiB", (double)hwm / 1024.0, 0);
            bench_counter(st, "rss_growth_MiB", (double)(hwm - rss0) / 1024.0, 0);
        }
    }
}

/* ---- boundary: the host engine against the in-process engine ------------ */
#ifdef FWPM_BENCH_HAVE_FWPM

/* Makes the table of sp->impl hold sp->n sessions, h[0] ours: in-process all
 * ours; host engine n - 1 of them held by sp->procs other processes. */
static bool boundary_population(bench_state *st, const struct bench_spec *sp)
{
    if (sp->impl != &fwpm_impl_host)
        return pop_set(st, sp->impl, sp->n);
    if (!pop_set(st, sp->impl, 0)) /* host_bench_hold counts the daemon's sessions */
        return false;
    if (!host_bench_hold(sp->n - 1, sp->procs)) {
        bench_error(st, "the helper processes could not open their sessions");
        return false;
    }
    return pop_set(st, sp->impl, 1);
}

static void run_boundary_create_enum(bench_state *st, const struct bench_spec *sp)
{
    if (!boundary_population(st, sp))
        return;
    const struct fwpm_impl *im = sp->impl;
    int64_t handles = 0;
    while (bench_keep_running(st)) {
        handles += create_destroy(st, im, pop.h[0]);
    }
    bench_set_items(st, handles);
}

/* Each thread its own session (opened before the clock starts, closed after
 * it stops): create + destroy an enumeration handle on it. How well the
 * threads of one client reach the daemon side by side (the table holds what
 * the row before left); items: handles. */
static void run_boundary_threads_create_enum(bench_state *st, const struct bench_spec *sp)
{
    const struct fwpm_impl *im = sp->impl;
    HANDLE h;
    if (!ok(st, open_one(im, &h), "FwpmEngineOpen0"))
        return;
    int64_t handles = 0;
    while (bench_keep_running(st)) {
        handles += create_destroy(st, im, h);
    }
    im->engine_close(h);
    bench_set_items(st, handles);
}

/* Create + page through (BOUNDARY_PAGE a call) + destroy; items: entries. */
static void run_boundary_enumerate(bench_state *st, const struct bench_spec *sp)
{
    if (!boundary_population(st, sp))
        return;
    const struct fwpm_impl *im = sp->impl;
    int64_t entries = 0;
    while (bench_keep_running(st)) {
        HANDLE e;
        if (!ok(st, im->create_enum_handle(pop.h[0], NULL, &e), "CreateEnumHandle"))
            continue;
        int64_t seen = drain_pages(st, im, e, BOUNDARY_PAGE);
        if (ok(st, im->destroy_enum_handle(pop.h[0], e), "DestroyEnumHandle") && seen >= 0) {
            if ((uint64_t)seen != sp->n) {
                bench_error(st, "an enumeration missed sessions");
                return;
            }
            entries += seen;
        }
    }
    bench_set_items(st, entries);
}

#endif /* FWPM_BENCH_HAVE_FWPM */

/* ---- registration ------------------------------------------------------- */

static struct bench_spec *specs;
static size_t nspecs, capspecs;

static struct bench_spec *add(void (*run)(bench_state *, const struct bench_spec *),
                              const struct fwpm_impl *im, const char *fmt, ...)
{
    if (nspecs == capspecs) {
        capspecs = capspecs ? 2 * capspecs : 64;
        specs = realloc(specs, capspecs * sizeof(*specs));
        if (!specs)
            abort();
    }
    struct bench_spec *sp = &specs[nspecs++];
    memset(sp, 0, sizeof(*sp));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sp->name, sizeof(sp->name), fmt, ap);
    va_end(ap);
    sp->run = run;
    sp->impl = im;
    return sp;
}

static void add_create_enum(const struct fwpm_impl *im, uint64_t n)
{
    for (int changed = 0; changed <= 1; changed++) {
        struct bench_spec *sp =
            add(run_create_enum, im, "create_enum_handle/%s/n:%llu/%s", im->name,
                (unsigned long long)n, changed ? "changed" : "unchanged");
        sp->n = n;
        sp->variant = changed;
        sp->manual_time = changed;
        sp->unit = n >= 100000 ? BENCH_UNIT_US : BENCH_UNIT_NS;
    }
}

static void add_enumerate_all(const struct fwpm_impl *im, uint64_t n)
{
    struct bench_spec *sp =
        add(run_enumerate_all, im, "enumerate_all/%s/n:%llu", im->name, (unsigned long long)n);
    sp->n = n;
    sp->unit = BENCH_UNIT_US;
}

static const uint32_t page_sizes[] = {1, 10, 100, 1000, INFINITE};

static void page_name(char *buf, size_t len, uint32_t size)
{
    if (size == INFINITE)
        snprintf(buf, len, "INFINITE");
    else
        snprintf(buf, len, "%u", (unsigned)size);
}

/* Registration order keeps each engine's population growing: N ascending. */
static void add_impl(const struct fwpm_impl *im, long cores)
{
    for (long t = 1; t <= 2 * cores; t *= 2) {
        struct bench_spec *sp = add(run_open_close, im, "open_close/%s", im->name);
        sp->threads = (int)t;
        sp->repetitions = cfg.quick ? 1 : 3; /* thread scheduling is noisy */
    }
    struct bench_spec *turns = add(run_open_close_in_turn, im, "open_close_in_turn/%s", im->name);
    turns->threads = 2;
    turns->repetitions = cfg.quick ? 1 : 3;
    static const int startup_threads[] = {1, 2, 8, 64};
    for (size_t i = 0; i < sizeof(startup_threads) / sizeof(startup_threads[0]); i++) {
        struct bench_spec *sp = add(run_startup_shutdown, im, "startup_shutdown/%s/sessions:%u",
                                    im->name, STARTUP_SESSIONS);
        sp->n = STARTUP_SESSIONS;
        sp->threads = startup_threads[i];
        sp->repetitions = cfg.quick ? 1 : 3;
        sp->unit = BENCH_UNIT_US;
    }
    struct bench_spec *sp = add(run_memory, im, "memory/%s/n:%u", im->name, ENUM_N);
    sp->n = ENUM_N;
    sp->iterations = 1;
    sp->unit = BENCH_UNIT_MS;

    add_create_enum(im, 1);
    add_create_enum(im, 1000);
    add_enumerate_all(im, 1000);
    add_enumerate_all(im, 10000);
    add_create_enum(im, ENUM_N);
    add_enumerate_all(im, ENUM_N);
    for (size_t i = 0; i < sizeof(page_sizes) / sizeof(page_sizes[0]); i++) {
        char size[16];
        page_name(size, sizeof(size), page_sizes[i]);
        sp = add(run_enum_page, im, "enum_page/%s/size:%s", im->name, size);
        sp->n = ENUM_N;
        sp->page = page_sizes[i];
        sp->manual_time = 1;
        /* A fixed count: each drain needs a fresh snapshot (O(n) for peers). */
        sp->iterations = cfg.quick ? 20 : 200;
        sp->unit = BENCH_UNIT_US;
    }
    static const int splits_full[][2] = {{0, 1}, {1, 0}, {1, 1}, {3, 1}, {1, 3}};
    static const int splits_quick[][2] = {{0, 1}, {1, 0}, {1, 1}};
    size_t nsplits = cfg.quick ? 3 : 5;
    for (size_t i = 0; i < nsplits; i++) {
        const int *rw = cfg.quick ? splits_quick[i] : splits_full[i];
        sp = add(run_mixed, im, "mixed/%s/readers:%d/writers:%d", im->name, rw[0], rw[1]);
        sp->n = ENUM_N;
        sp->readers = rw[0];
        sp->writers = rw[1];
        sp->threads = rw[0] + rw[1];
        sp->iterations = 1;
        sp->repetitions = cfg.quick ? 1 : 3;
        sp->unit = BENCH_UNIT_MS;
    }
    if (!cfg.quick) {
        add_create_enum(im, 1000000);
        add_enumerate_all(im, 1000000);
    }
}

#ifdef FWPM_BENCH_HAVE_FWPM
/* Both engines' rows, host first (its population is other processes'). */
static void add_boundary(void)
{
    if (!host_bench_start()) {
        fprintf(stderr, "fwpm-bench: no fwpmd; boundary rows skipped\n");
        return;
    }
    const struct fwpm_impl *const engines[] = {&fwpm_impl_host, &fwpm_impl_fwpm};
    static const int threads[] = {1, 4, 32};
    for (size_t e = 0; e < 2; e++) {
        const struct fwpm_impl *im = engines[e];
        uint64_t big = im == &fwpm_impl_host ? BOUNDARY_HOST_N : ENUM_N;
        for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
            struct bench_spec *sp = add(run_open_close, im, "boundary/%s/open_close", im->name);
            sp->threads = threads[i];
            sp->unit = BENCH_UNIT_US;
        }
        const uint64_t ns[] = {100, big};
        for (size_t i = 0; i < 2; i++) {
            struct bench_spec *sp =
                add(run_boundary_create_enum, im, "boundary/%s/create_enum/n:%llu", im->name,
                    (unsigned long long)ns[i]);
            sp->n = ns[i];
            sp->procs = BOUNDARY_PROCS;
            sp->threads = 1; /* real time: the daemon's work is not this process's CPU */
            sp->unit = im == &fwpm_impl_host ? BENCH_UNIT_US : BENCH_UNIT_NS;
        }
        static const int client_threads[] = {1, 8, 64};
        for (size_t i = 0; i < sizeof(client_threads) / sizeof(client_threads[0]); i++) {
            struct bench_spec *sp = add(run_boundary_threads_create_enum, im,
                                        "boundary/%s/threads_create_enum", im->name);
            sp->threads = client_threads[i];
            sp->unit = im == &fwpm_impl_host ? BENCH_UNIT_US : BENCH_UNIT_NS;
        }
        struct bench_spec *sp = add(run_boundary_enumerate, im, "boundary/%s/enumerate/n:%llu",
                                    im->name, (unsigned long long)big);
        sp->n = big;
        sp->procs = BOUNDARY_PROCS;
        sp->threads = 1;
        sp->unit = BENCH_UNIT_US;
    }
}

#endif

static bool impl_selected(const char *name)
{
    if (!cfg.impls)
        return true;
    size_t len = strlen(name);
    for (const char *p = cfg.impls; *p;) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == len && strncmp(p, name, len) == 0)
            return true;
        p += l + (end ? 1 : 0);
    }
    return false;
}

static struct bench_spec *add_memcpy(const char *family, const char *name, const char *arg,
                                     uint64_t n, uint32_t page, int alloc)
{
    struct bench_spec *sp = add(run_memcpy, NULL, "%s/%s/%s", family, name, arg);
    sp->n = n;
    sp->page = page;
    sp->variant = alloc;
    sp->unit = BENCH_UNIT_US;
    return sp;
}

/* The memcpy floors: for enum_page, the same pages out of a 100k-pointer
 * array; for enumerate_all, one memcpy of all n pointers into a reused buffer
 * ("memcpy") and the same walk as the engines, 1000 a page into fresh buffers
 * ("memcpy_paged"). */
static void add_baselines(void)
{
    char arg[32];
    for (int alloc = 1; alloc >= 0; alloc--)
        for (size_t i = 0; i < sizeof(page_sizes) / sizeof(page_sizes[0]); i++) {
            snprintf(arg, sizeof(arg), "size:");
            page_name(arg + 5, sizeof(arg) - 5, page_sizes[i]);
            add_memcpy("enum_page", alloc ? "memcpy" : "memcpy_noalloc", arg, ENUM_N, page_sizes[i],
                       alloc);
        }
    static const uint64_t all_n[] = {1000, 10000, ENUM_N, 1000000};
    for (size_t i = 0; i < sizeof(all_n) / sizeof(all_n[0]) - (cfg.quick ? 1 : 0); i++) {
        snprintf(arg, sizeof(arg), "n:%llu", (unsigned long long)all_n[i]);
        add_memcpy("enumerate_all", "memcpy", arg, all_n[i], INFINITE, 0);
        add_memcpy("enumerate_all", "memcpy_paged", arg, all_n[i], ALL_PAGE, 1);
    }
}

static void build_specs(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    if (impl_selected("memcpy"))
        add_baselines();
    for (size_t i = 0; i < FWPM_ALL_IMPLS_COUNT; i++)
        if (impl_selected(fwpm_all_impls[i]->name))
            add_impl(fwpm_all_impls[i], cores);
#ifdef FWPM_BENCH_HAVE_FWPM
    if (cfg.impls && impl_selected("host")) /* never by default: it starts a daemon */
        add_boundary();
#endif
}

static void describe_machine(void)
{
    char buf[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof(line), f))
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                snprintf(buf, sizeof(buf), "%s", v ? v + 2 : line);
                buf[strcspn(buf, "\n")] = '\0';
                break;
            }
        fclose(f);
    }
    bench_context("fwpm_bench_cpu", buf);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) {
        snprintf(buf, sizeof(buf), "%.1f GiB", (double)pages * (double)page / 1073741824.0);
        bench_context("fwpm_bench_memory", buf);
    }
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof(buf), "%s %s %s", u.sysname, u.release, u.machine);
        bench_context("fwpm_bench_kernel", buf);
    }
    bench_context("fwpm_bench_mode", cfg.quick ? "quick" : "full");
    snprintf(buf, sizeof(buf), "%g", cfg.mixed_seconds);
    bench_context("fwpm_bench_mixed_seconds", buf);
    for (size_t i = 0; i < FWPM_ALL_IMPLS_COUNT; i++) {
        snprintf(buf, sizeof(buf), "fwpm_bench_snapshot_%s", fwpm_all_impls[i]->name);
        bench_context(buf, fwpm_all_impls[i]->snapshot);
    }
}

int bench_configure(int *argc, char **argv)
{
#ifdef FWPM_BENCH_HAVE_FWPM
    if (*argc > 1 && strncmp(argv[1], HOST_HOLDER_FLAG, strlen(HOST_HOLDER_FLAG)) == 0)
        exit(host_bench_holder_main(argv[1] + strlen(HOST_HOLDER_FLAG)));
#endif
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--fwpm_quick") == 0) {
            cfg.quick = true;
        } else if (strncmp(a, "--fwpm_mixed_seconds=", 21) == 0) {
            cfg.mixed_seconds = strtod(a + 21, NULL);
            if (!(cfg.mixed_seconds > 0)) {
                fprintf(stderr, "fwpm-bench: bad %s\n", a);
                return -1;
            }
        } else if (strncmp(a, "--fwpm_impls=", 13) == 0) {
            cfg.impls = a + 13;
        } else if (strncmp(a, "--fwpm", 6) == 0) {
            fprintf(stderr,
                    "fwpm-bench: unknown %s\n"
                    "own flags: --fwpm_quick  --fwpm_mixed_seconds=S  --fwpm_impls=a,b,...\n"
                    "(impls: fwpm mutex rwlock urcu snapcache, memcpy for the baselines,\n"
                    " host for the boundary rows: a private fwpmd against the in-process engine)\n",
                    a);
            return -1;
        } else {
            argv[out++] = argv[i];
            continue;
        }
    }
    *argc = out;
    argv[out] = NULL;
    build_specs();
    describe_machine();
    return 0;
}

size_t bench_specs(const struct bench_spec **out)
{
    *out = specs;
    return nspecs;
}

void bench_shutdown(void)
{
    pop_clear();
#ifdef FWPM_BENCH_HAVE_FWPM
    host_bench_stop();
#endif
    free(pop.h);
    free(specs);
}
