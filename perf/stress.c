/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.c - fwpm-stress: a multithreaded workload on the in-process engine,
 * with the invariants of checker.h checked online.
 *
 * Threads:
 *   writers        each keeps a chain of generations w<i>/g<n>: opens g+1,
 *                  then closes g (open/close churn, one or two open at once);
 *   readers        create an enumeration handle on their own session, page
 *                  through it, destroy it, check the snapshot, free the pages;
 *   shared pagers  page one shared handle at once, in rounds separated by
 *                  barriers; the union of their pages is checked;
 *   main           opens the standing population, shows progress, stops the
 *                  run, closes everything and checks memory.
 * Oversubscribed mode (--threads N) replaces the roles: N mixed threads each
 * pick at random between opening or closing a churn session of their own, a
 * private enumeration (create, page through, destroy, free) and one page of a
 * shared handle that the first thread to find it exhausted renews; they
 * sample library memory themselves. One more thread only times a short busy
 * loop, the same way calls are timed: its worst is the scheduler's own noise,
 * reported beside the worst call. Memory must stay under
 * OVERSUB_LIVE_ALLOWANCE + N * OVERSUB_PER_THREAD over the baseline (the
 * bound tests/stress_oversubscribed.c holds the library to) and come back
 * to the baseline without fwpm_reclaim(); otherwise the run fails.
 * Every thread keeps its own counters, histograms and violation log; main
 * reads the counters live and merges everything after the join.
 */
#include "checker.h"
#include "latency.h"

#include <fwpm_linux.h>

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define CACHE_LINE 64
#define TICK_NS 250000000ull /* progress refresh: 4 times a second */

/* ---- options ----------------------------------------------------------------- */

/* A deliberate break of one observation, to see the checker fire end to end. */
enum inject {
    INJECT_NONE = 0,
    INJECT_DROP_ENTRY,      /* one entry of a complete snapshot is not checked */
    INJECT_DUPLICATE_ENTRY, /* one entry is checked twice */
    INJECT_LEAK_PAGE,       /* one returned array is never freed */
};

struct options {
    double seconds;
    unsigned writers, readers, sessions, shared_pagers;
    unsigned threads; /* oversubscribed mode: mixed threads (0: the roles) */
    bool sessions_given;
    UINT32 page_size; /* 0: random sizes */
    uint64_t seed;
    bool json;
    int progress; /* 1 on, 0 off, -1 when stderr is a terminal */
    enum inject inject;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fwpm-stress [options]\n"
            "Runs a multithreaded workload on the fwpm engine and checks its guarantees.\n"
            "  --seconds S        run for S seconds (default 10)\n"
            "  --writers N        threads churning open/close chains (default: cores, >= 2)\n"
            "  --readers N        threads taking and paging snapshots (default: cores/2, >= 1)\n"
            "  --sessions N       standing sessions open all along (default 1000)\n"
            "  --shared-pagers N  threads paging one shared handle (default 2; 0: none)\n"
            "  --threads N        oversubscribed mode: N threads each mixing open/close,\n"
            "                     private enumerations and pages of one shared handle\n"
            "                     (replaces the roles; standing sessions default to 32);\n"
            "                     reports peak memory and worst latency beside a busy\n"
            "                     loop's, and fails when memory is not bounded\n"
            "  --page-size N      entries per page request (default 0: random sizes)\n"
            "  --seed N           random seed (default: from the clock)\n"
            "  --json             print the summary as one JSON object\n"
            "  --progress / --no-progress\n"
            "                     live progress line on stderr (default: when a terminal)\n"
            "  --inject KIND      break one observation on purpose, to see the checker fire:\n"
            "                     drop-entry, duplicate-entry or leak-page\n"
            "Exit status: 0 no violation, 1 violations, 2 usage or setup error.\n");
}

static bool parse_unsigned(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || end == text || *end != 0 || text[0] == '-' || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_options(int argc, char **argv, struct options *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    o->seconds = 10.0;
    o->writers = cores < 2 ? 2u : (unsigned)cores;
    o->readers = cores < 2 ? 1u : (unsigned)cores / 2u;
    o->sessions = 1000;
    o->shared_pagers = 2;
    o->threads = 0;
    o->sessions_given = false;
    o->page_size = 0;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    o->seed = (uint64_t)t.tv_sec * 1000003u ^ (uint64_t)t.tv_nsec;
    o->json = false;
    o->progress = -1;
    o->inject = INJECT_NONE;

    enum {
        O_SECONDS = 256,
        O_WRITERS,
        O_READERS,
        O_SESSIONS,
        O_SHARED,
        O_THREADS,
        O_PAGE,
        O_SEED,
        O_JSON,
        O_PROGRESS,
        O_NO_PROGRESS,
        O_INJECT,
        O_HELP
    };
    static const struct option longs[] = {
        {"seconds", required_argument, NULL, O_SECONDS},
        {"writers", required_argument, NULL, O_WRITERS},
        {"readers", required_argument, NULL, O_READERS},
        {"sessions", required_argument, NULL, O_SESSIONS},
        {"shared-pagers", required_argument, NULL, O_SHARED},
        {"threads", required_argument, NULL, O_THREADS},
        {"page-size", required_argument, NULL, O_PAGE},
        {"seed", required_argument, NULL, O_SEED},
        {"json", no_argument, NULL, O_JSON},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"no-progress", no_argument, NULL, O_NO_PROGRESS},
        {"inject", required_argument, NULL, O_INJECT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    unsigned long long v;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_SECONDS: {
            char *end;
            errno = 0;
            o->seconds = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != 0 || !(o->seconds > 0) || o->seconds > 1e6) {
                fprintf(stderr, "fwpm-stress: --seconds wants a positive number\n");
                return false;
            }
            break;
        }
        case O_WRITERS:
        case O_READERS:
        case O_SESSIONS:
        case O_SHARED:
        case O_THREADS:
            /* Writers index session keys with 16 bits; the rest are sane limits. */
            if (!parse_unsigned(optarg,
                                c == O_SESSIONS  ? 10000000u
                                : c == O_WRITERS ? 65535u
                                                 : 4096u,
                                &v)) {
                fprintf(stderr, "fwpm-stress: bad count \"%s\"\n", optarg);
                return false;
            }
            if (c == O_WRITERS)
                o->writers = (unsigned)v;
            else if (c == O_READERS)
                o->readers = (unsigned)v;
            else if (c == O_SESSIONS)
                o->sessions = (unsigned)v, o->sessions_given = true;
            else if (c == O_THREADS)
                o->threads = (unsigned)v;
            else
                o->shared_pagers = (unsigned)v;
            break;
        case O_PAGE:
            if (strcmp(optarg, "random") == 0) {
                o->page_size = 0;
            } else if (parse_unsigned(optarg, UINT32_MAX, &v)) {
                o->page_size = (UINT32)v;
            } else {
                fprintf(stderr, "fwpm-stress: --page-size wants a count or \"random\"\n");
                return false;
            }
            break;
        case O_SEED:
            if (!parse_unsigned(optarg, UINT64_MAX, &v)) {
                fprintf(stderr, "fwpm-stress: bad seed \"%s\"\n", optarg);
                return false;
            }
            o->seed = v;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_PROGRESS:
            o->progress = 1;
            break;
        case O_NO_PROGRESS:
            o->progress = 0;
            break;
        case O_INJECT:
            if (strcmp(optarg, "drop-entry") == 0) {
                o->inject = INJECT_DROP_ENTRY;
            } else if (strcmp(optarg, "duplicate-entry") == 0) {
                o->inject = INJECT_DUPLICATE_ENTRY;
            } else if (strcmp(optarg, "leak-page") == 0) {
                o->inject = INJECT_LEAK_PAGE;
            } else {
                fprintf(stderr, "fwpm-stress: --inject wants drop-entry, duplicate-entry or "
                                "leak-page\n");
                return false;
            }
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return false;
        }
    }
    if (o->threads > 0) {
        if (o->inject != INJECT_NONE) {
            fprintf(stderr, "fwpm-stress: --inject does not combine with --threads\n");
            return false;
        }
        o->writers = o->readers = o->shared_pagers = 0; /* the mixed threads replace them */
        if (!o->sessions_given)
            o->sessions = 32;
    }
    if (optind < argc) {
        fprintf(stderr, "fwpm-stress: unexpected argument \"%s\"\n", argv[optind]);
        return false;
    }
    if (o->inject != INJECT_NONE && o->readers == 0 && o->shared_pagers == 0) {
        fprintf(stderr, "fwpm-stress: --inject needs a reader or a shared pager\n");
        return false;
    }
    if (o->writers + o->readers + o->shared_pagers + o->threads == 0) {
        fprintf(stderr, "fwpm-stress: nothing to run (no writers, readers or pagers)\n");
        return false;
    }
    return true;
}

/* ---- small helpers ------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A counter with one writer: relaxed load and store, no locked instruction. */
static inline void counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t counter_get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* xoshiro-style generator state per thread: splitmix64 is enough here. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *state, uint64_t n)
{
    return n == 0 ? 0 : rng_next(state) % n;
}

/* ---- shared state ------------------------------------------------------------- */

enum role { ROLE_WRITER, ROLE_READER, ROLE_PAGER, ROLE_MIXED, ROLE_BUSY };

/* The memory bound of oversubscribed mode, over the baseline: what is live
 * (two sessions per thread, the versions and arrays their enumerations pin)
 * plus what one thread may have retired and not yet freed. */
#define OVERSUB_LIVE_ALLOWANCE (4ull << 20)
#define OVERSUB_PER_THREAD (64ull << 10)
#define OVERSUB_SETTLE_NS 30000000000ull /* back at the baseline within 30 s */

/* A writer's published progress, in state indices (checker.h): `begun` is
 * stored before each call, `done` after it returns. Readers bound what a
 * snapshot may show with them. */
struct writer_progress {
    _Atomic uint64_t begun;
    _Atomic uint64_t done;
} __attribute__((aligned(CACHE_LINE)));

/* The live counters of one thread. */
struct counters {
    _Atomic uint64_t ops;              /* API calls */
    _Atomic uint64_t writes;           /* successful opens and closes */
    _Atomic uint64_t snapshots;        /* enumeration handles checked */
    _Atomic uint64_t entries;          /* entries delivered */
    _Atomic uint64_t pages;            /* FwpmSessionEnum0 calls */
    _Atomic uint64_t shared_snapshots; /* mixed threads: shared handles renewed */
    _Atomic uint64_t violations;
};

/* Pages a thread holds until its snapshot is checked. */
struct page_list {
    FWPM_SESSION0 ***arrays;
    UINT32 *counts;
    size_t n, capacity;
};

struct run;

struct worker {
    struct run *run;
    enum role role;
    unsigned index;
    pthread_t thread;
    uint64_t rng;
    struct counters c;
    struct histogram latency[CALL_COUNT];
    struct violations log;
    struct snapshot_check check;
    uint64_t *lo, *hi, *last; /* per writer: bounds and last state seen */
    struct page_list pages;
    struct histogram busy; /* the busy-loop thread: its timed spins */
    HANDLE engine;         /* readers, pager 0, mixed threads: the session they enumerate through */
    HANDLE chain[2];       /* writers: open generations, oldest first */
    unsigned chain_open;
    uint64_t generation; /* writers: the oldest open generation */
    bool inject_pending; /* the one thread that breaks an observation (--inject) */
} __attribute__((aligned(CACHE_LINE)));

struct run {
    struct options opt;
    struct checker_world world;
    unsigned population; /* entries a snapshot is expected to have, about */
    struct writer_progress *writers;
    atomic_bool stop;
    pthread_barrier_t start;
    /* Shared pagers: pager 0 coordinates; the barrier orders everything. */
    pthread_barrier_t round;
    HANDLE shared_enum;
    bool round_stop;
    uint64_t shared_rounds;
    struct worker **pagers;
    /* Oversubscribed mode. */
    HANDLE mixed_engine;         /* the shared handle's session */
    _Atomic(HANDLE) mixed_enum;  /* the shared handle, renewed when exhausted */
    _Atomic uint64_t mixed_peak; /* peak liveBytes sampled by the threads */
};

/* ---- reporting from threads ------------------------------------------------------- */

static void sync_violations(struct worker *w)
{
    atomic_store_explicit(&w->c.violations, w->log.count, memory_order_relaxed);
}

static void api_failed(struct worker *w, const char *what, const char *call, DWORD status)
{
    violations_add(&w->log, "%s: %s returned %s", what, call, fwpm_strerror(status));
    sync_violations(w);
}

/* Ends a timed call: latency and the op count. */
static inline void timed(struct worker *w, enum latency_call call, uint64_t start)
{
    histogram_record(&w->latency[call], now_ns() - start);
    counter_add(&w->c.ops, 1);
}

static bool stopping(struct run *r)
{
    return atomic_load_explicit(&r->stop, memory_order_acquire);
}

/* ---- pages ------------------------------------------------------------------------ */

static bool pages_push(struct page_list *p, FWPM_SESSION0 **array, UINT32 count)
{
    if (p->n == p->capacity) {
        size_t capacity = p->capacity == 0 ? 64 : 2 * p->capacity;
        FWPM_SESSION0 ***arrays = realloc(p->arrays, capacity * sizeof(*arrays));
        if (arrays == NULL)
            return false;
        p->arrays = arrays;
        UINT32 *counts = realloc(p->counts, capacity * sizeof(*counts));
        if (counts == NULL)
            return false;
        p->counts = counts;
        p->capacity = capacity;
    }
    p->arrays[p->n] = array;
    p->counts[p->n] = count;
    p->n++;
    return true;
}

/* Feeds every held entry to the snapshot check. With inject set (a
 * complete snapshot, --inject), breaks that observation once. */
static void pages_check(struct worker *w, const struct page_list *p, enum inject inject)
{
    for (size_t i = 0; i < p->n; i++) {
        for (UINT32 k = 0; k < p->counts[i]; k++) {
            bool first = i == 0 && k == 0;
            if (first && inject == INJECT_DROP_ENTRY)
                continue;
            snapshot_check_entry(&w->check, &w->log, p->arrays[i][k]);
            if (first && inject == INJECT_DUPLICATE_ENTRY)
                snapshot_check_entry(&w->check, &w->log, p->arrays[i][k]);
        }
    }
}

/* The observation this worker breaks now, if it is the one that breaks one
 * (--inject) and has not yet; only complete snapshots qualify. */
static enum inject take_injection(struct worker *w, bool complete, const struct page_list *p)
{
    if (!w->inject_pending || !complete || p->n == 0)
        return INJECT_NONE;
    w->inject_pending = false;
    return w->run->opt.inject;
}

/* The array --inject leak-page never frees: kept reachable so that leak
 * checkers (LeakSanitizer) do not report the deliberate leak. */
static void *_Atomic deliberately_leaked;

/* Frees every held array (timed, by the calling worker); with leak set,
 * "forgets" the first one. */
static void pages_free(struct worker *w, struct page_list *p, bool leak)
{
    if (leak && p->n > 0)
        atomic_store_explicit(&deliberately_leaked, p->arrays[0], memory_order_relaxed);
    for (size_t i = leak ? 1 : 0; i < p->n; i++) {
        void *array = p->arrays[i];
        uint64_t t = now_ns();
        FwpmFreeMemory0(&array);
        timed(w, CALL_FREE, t);
        if (array != NULL) {
            violations_add(&w->log, "FwpmFreeMemory0 left its argument non-NULL");
            sync_violations(w);
        }
    }
    p->n = 0;
}

static UINT32 choose_page_size(struct worker *w)
{
    struct run *r = w->run;
    if (r->opt.page_size != 0)
        return r->opt.page_size;
    uint64_t pick = rng_below(&w->rng, 100);
    if (pick < 10)
        return 0;
    if (pick < 15)
        return INFINITE;
    if (pick < 60)
        return (UINT32)(1 + rng_below(&w->rng, 64));
    return (UINT32)(1 + rng_below(&w->rng, 2u * (uint64_t)r->population));
}

/* Bounds for the writers' states, read before and after taking a snapshot. */
static void load_bounds(struct run *r, uint64_t *out, bool begun)
{
    for (unsigned i = 0; i < r->opt.writers; i++)
        /* Acquire: pairs with the writer's release; see struct writer_progress. */
        out[i] = atomic_load_explicit(begun ? &r->writers[i].begun : &r->writers[i].done,
                                      memory_order_acquire);
}

/* ---- writers ------------------------------------------------------------------------ */

static bool writer_open(struct worker *w, uint64_t generation, HANDLE *out)
{
    FWPM_SESSION0 session;
    wchar_t name[CHECKER_NAME_MAX];
    checker_writer_session(&session, name, w->index, generation);
    uint64_t t = now_ns();
    DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &session, out);
    timed(w, CALL_OPEN, t);
    if (status != ERROR_SUCCESS) {
        char what[64];
        snprintf(what, sizeof(what), "writer %u opening g%llu", w->index,
                 (unsigned long long)generation);
        api_failed(w, what, "FwpmEngineOpen0", status);
        return false;
    }
    counter_add(&w->c.writes, 1);
    return true;
}

static void *writer_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    struct writer_progress *p = &r->writers[w->index];
    /* Generation 0 opens before the start: every snapshot must show the chain. */
    w->generation = 0;
    w->chain_open = 0;
    if (writer_open(w, 0, &w->chain[0]))
        w->chain_open = 1;
    pthread_barrier_wait(&r->start);

    while (w->chain_open == 1 && !stopping(r)) {
        uint64_t g = w->generation;
        /* Release: any reader that sees this state afterwards sees begun too. */
        atomic_store_explicit(&p->begun, checker_state(g, true), memory_order_release);
        if (!writer_open(w, g + 1, &w->chain[1]))
            break;
        w->chain_open = 2;
        atomic_store_explicit(&p->done, checker_state(g, true), memory_order_release);

        atomic_store_explicit(&p->begun, checker_state(g + 1, false), memory_order_release);
        uint64_t t = now_ns();
        DWORD status = FwpmEngineClose0(w->chain[0]);
        timed(w, CALL_CLOSE, t);
        if (status != ERROR_SUCCESS) {
            char what[64];
            snprintf(what, sizeof(what), "writer %u closing g%llu", w->index,
                     (unsigned long long)g);
            api_failed(w, what, "FwpmEngineClose0", status);
            break; /* both stay in chain[]: main closes them at the end */
        }
        counter_add(&w->c.writes, 1);
        w->chain[0] = w->chain[1];
        w->chain_open = 1;
        w->generation = g + 1;
        atomic_store_explicit(&p->done, checker_state(g + 1, false), memory_order_release);
    }
    return NULL;
}

/* ---- readers ------------------------------------------------------------------------ */

/* One timed FwpmSessionEnum0, counted as a page whatever it returns. */
static DWORD timed_page(struct worker *w, HANDLE engine, HANDLE en, UINT32 requested,
                        FWPM_SESSION0 ***entries, UINT32 *returned)
{
    uint64_t t = now_ns();
    DWORD status = FwpmSessionEnum0(engine, en, requested, entries, returned);
    timed(w, CALL_ENUM_PAGE, t);
    counter_add(&w->c.pages, 1);
    return status;
}

/* Takes one page of `requested` from the handle, times it, checks it and keeps
 * the array for a later free. false when the walk must stop (failure). */
static bool take_page(struct worker *w, HANDLE engine, HANDLE en, UINT32 requested,
                      struct page_stream *stream, const char *label)
{
    FWPM_SESSION0 **entries = NULL;
    UINT32 returned = 0;
    DWORD status = timed_page(w, engine, en, requested, &entries, &returned);
    if (status != ERROR_SUCCESS) {
        api_failed(w, label, "FwpmSessionEnum0", status);
        return false;
    }
    checker_page(stream, &w->log, label, requested, entries, returned);
    sync_violations(w);
    counter_add(&w->c.entries, returned);
    if (returned > 0 && !pages_push(&w->pages, entries, returned)) {
        FwpmFreeMemory0((void **)&entries);
        violations_add(&w->log, "%s: out of memory holding pages", label);
        sync_violations(w);
        return false;
    }
    return true;
}

/* One snapshot: create, page to the end (or abandon early), destroy, check
 * the entries (which must outlive the handle), free the pages. */
static void reader_snapshot(struct worker *w, uint64_t serial)
{
    struct run *r = w->run;
    char label[64];
    snprintf(label, sizeof(label), "reader %u snapshot %llu", w->index, (unsigned long long)serial);

    static const FWPM_SESSION_ENUM_TEMPLATE0 empty_template = {.reserved = 0};
    const FWPM_SESSION_ENUM_TEMPLATE0 *tmpl = (serial & 1u) ? &empty_template : NULL;
    load_bounds(r, w->lo, false);
    HANDLE en = NULL;
    uint64_t t = now_ns();
    DWORD status = FwpmSessionCreateEnumHandle0(w->engine, tmpl, &en);
    timed(w, CALL_CREATE_ENUM, t);
    if (status != ERROR_SUCCESS) {
        api_failed(w, label, "FwpmSessionCreateEnumHandle0", status);
        return;
    }
    load_bounds(r, w->hi, true);

    struct page_stream stream;
    page_stream_init(&stream);
    bool complete = false;
    /* Now and then: abandon the enumeration after its first page. */
    bool abandon = rng_below(&w->rng, 32) == 0;
    /* Now and then: after the short page, ask once more (the "stop on an
     * empty page" idiom), which must return nothing. */
    bool ask_again = rng_below(&w->rng, 2) == 0;
    for (;;) {
        UINT32 requested = choose_page_size(w);
        if (stream.exhausted)
            requested = requested == 0 ? 1 : requested;
        bool was_exhausted = stream.exhausted;
        if (!take_page(w, w->engine, en, requested, &stream, label))
            break;
        if (was_exhausted)
            break;
        if (stream.exhausted) {
            complete = true;
            if (!ask_again)
                break;
            continue;
        }
        if (abandon)
            break;
    }

    t = now_ns();
    status = FwpmSessionDestroyEnumHandle0(w->engine, en);
    timed(w, CALL_DESTROY_ENUM, t);
    if (status != ERROR_SUCCESS)
        api_failed(w, label, "FwpmSessionDestroyEnumHandle0", status);

    /* The entries are checked after the handle is gone and while writers
     * close sessions: they must stay valid until their array is freed. */
    enum inject inject = take_injection(w, complete, &w->pages);
    snapshot_check_begin(&w->check, label);
    pages_check(w, &w->pages, inject);
    snapshot_check_end(&w->check, &w->log, complete, w->lo, w->hi, w->last);
    sync_violations(w);
    pages_free(w, &w->pages, inject == INJECT_LEAK_PAGE);
    counter_add(&w->c.snapshots, 1);
}

static void *reader_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&w->run->start);
    for (uint64_t serial = 0; !stopping(w->run); serial++)
        reader_snapshot(w, serial);
    return NULL;
}

/* ---- shared pagers -------------------------------------------------------------------- */

/* Pages the shared handle until this pager gets a short page. */
static void pager_round(struct worker *w, HANDLE engine, HANDLE en, const char *label)
{
    struct page_stream stream;
    page_stream_init(&stream);
    while (!stream.exhausted) {
        /* Mostly small pages, so that the pagers interleave. */
        UINT32 requested =
            rng_below(&w->rng, 8) == 0 ? choose_page_size(w) : (UINT32)(1 + rng_below(&w->rng, 16));
        if (!take_page(w, engine, en, requested, &stream, label))
            return;
    }
}

static void *pager_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    pthread_barrier_wait(&r->start);
    struct worker *coordinator = r->pagers[0];
    for (;;) {
        char label[64];
        if (w->index == 0) {
            r->round_stop = stopping(r);
            r->shared_enum = NULL;
            if (!r->round_stop) {
                snprintf(label, sizeof(label), "shared snapshot %llu",
                         (unsigned long long)r->shared_rounds);
                load_bounds(r, w->lo, false);
                uint64_t t = now_ns();
                DWORD status = FwpmSessionCreateEnumHandle0(w->engine, NULL, &r->shared_enum);
                timed(w, CALL_CREATE_ENUM, t);
                if (status != ERROR_SUCCESS) {
                    api_failed(w, label, "FwpmSessionCreateEnumHandle0", status);
                    r->shared_enum = NULL;
                }
                load_bounds(r, w->hi, true);
            }
        }
        /* The barrier publishes round_stop, shared_enum and shared_rounds. */
        pthread_barrier_wait(&r->round);
        if (r->round_stop)
            break;
        snprintf(label, sizeof(label), "shared snapshot %llu pager %u",
                 (unsigned long long)r->shared_rounds, w->index);
        if (r->shared_enum != NULL)
            pager_round(w, coordinator->engine, r->shared_enum, label);
        pthread_barrier_wait(&r->round);
        if (w->index == 0 && r->shared_enum != NULL) {
            snprintf(label, sizeof(label), "shared snapshot %llu",
                     (unsigned long long)r->shared_rounds);
            uint64_t t = now_ns();
            DWORD status = FwpmSessionDestroyEnumHandle0(w->engine, r->shared_enum);
            timed(w, CALL_DESTROY_ENUM, t);
            if (status != ERROR_SUCCESS)
                api_failed(w, label, "FwpmSessionDestroyEnumHandle0", status);
            /* The union of all pagers' pages: each entry exactly once. */
            /* Pager 0's own pages may be empty: break another's. */
            unsigned victim = 0;
            while (victim + 1 < r->opt.shared_pagers && r->pagers[victim]->pages.n == 0)
                victim++;
            enum inject inject = take_injection(w, true, &r->pagers[victim]->pages);
            snapshot_check_begin(&w->check, label);
            for (unsigned i = 0; i < r->opt.shared_pagers; i++)
                pages_check(w, &r->pagers[i]->pages, i == victim ? inject : INJECT_NONE);
            snapshot_check_end(&w->check, &w->log, true, w->lo, w->hi, w->last);
            sync_violations(w);
            for (unsigned i = 0; i < r->opt.shared_pagers; i++)
                pages_free(w, &r->pagers[i]->pages, i == victim && inject == INJECT_LEAK_PAGE);
            counter_add(&w->c.snapshots, 1);
            r->shared_rounds++;
        }
        /* The next round's first barrier keeps the others out of their page
         * lists until pager 0 is done with them. */
    }
    return NULL;
}

/* ---- oversubscribed mode ---------------------------------------------------------------- */

/* Every OVERSUB_SAMPLE_EVERY operations a mixed thread samples memory. */
#define OVERSUB_SAMPLE_EVERY 32u

static void mixed_sample_memory(struct run *r)
{
    FWPM_MEMORY_STATS0 st;
    if (fwpm_memory_stats(&st) != ERROR_SUCCESS)
        return;
    uint64_t seen = atomic_load_explicit(&r->mixed_peak, memory_order_relaxed);
    while (st.liveBytes > seen &&
           !atomic_compare_exchange_weak_explicit(&r->mixed_peak, &seen, st.liveBytes,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* Opens the thread's churn session if it has none, else closes it. */
static void mixed_churn(struct worker *w, HANDLE *churn)
{
    uint64_t t = now_ns();
    if (*churn == NULL) {
        DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, churn);
        timed(w, CALL_OPEN, t);
        if (status != ERROR_SUCCESS) {
            api_failed(w, "mixed churn", "FwpmEngineOpen0", status);
            *churn = NULL;
        } else {
            counter_add(&w->c.writes, 1);
        }
        return;
    }
    DWORD status = FwpmEngineClose0(*churn);
    timed(w, CALL_CLOSE, t);
    if (status != ERROR_SUCCESS)
        api_failed(w, "mixed churn", "FwpmEngineClose0", status);
    else
        counter_add(&w->c.writes, 1);
    *churn = NULL;
}

/* One page: timed, counted, freed at once. Returns the entries, or -1. */
static long mixed_page(struct worker *w, HANDLE engine, HANDLE en, UINT32 requested,
                       DWORD tolerated)
{
    FWPM_SESSION0 **entries = NULL;
    UINT32 returned = 0;
    DWORD status = timed_page(w, engine, en, requested, &entries, &returned);
    if (status != ERROR_SUCCESS) {
        if (status != tolerated)
            api_failed(w, "mixed page", "FwpmSessionEnum0", status);
        return -1;
    }
    counter_add(&w->c.entries, returned);
    if (entries != NULL) {
        uint64_t t = now_ns();
        FwpmFreeMemory0((void **)&entries);
        timed(w, CALL_FREE, t);
    }
    return returned;
}

static void mixed_destroy(struct worker *w, HANDLE engine, HANDLE en)
{
    uint64_t t = now_ns();
    DWORD status = FwpmSessionDestroyEnumHandle0(engine, en);
    timed(w, CALL_DESTROY_ENUM, t);
    if (status != ERROR_SUCCESS)
        api_failed(w, "mixed destroy", "FwpmSessionDestroyEnumHandle0", status);
}

static bool mixed_create(struct worker *w, HANDLE engine, HANDLE *en)
{
    uint64_t t = now_ns();
    DWORD status = FwpmSessionCreateEnumHandle0(engine, NULL, en);
    timed(w, CALL_CREATE_ENUM, t);
    if (status != ERROR_SUCCESS)
        api_failed(w, "mixed create", "FwpmSessionCreateEnumHandle0", status);
    return status == ERROR_SUCCESS;
}

/* A private enumeration through the thread's own session, to its end. */
static void mixed_private(struct worker *w)
{
    HANDLE en = NULL;
    if (!mixed_create(w, w->engine, &en))
        return;
    while (mixed_page(w, w->engine, en, 64, ERROR_SUCCESS) > 0)
        ;
    mixed_destroy(w, w->engine, en);
    counter_add(&w->c.snapshots, 1);
}

/* A page of the shared handle; the first to find it exhausted renews it and
 * destroys the old one, which racing pagers see as ERROR_INVALID_HANDLE. */
static void mixed_shared(struct worker *w)
{
    struct run *r = w->run;
    /* Acquire: pairs with the acq_rel exchange of the renewer. */
    HANDLE en = atomic_load_explicit(&r->mixed_enum, memory_order_acquire);
    UINT32 requested = (UINT32)(1 + rng_below(&w->rng, 8));
    if (mixed_page(w, r->mixed_engine, en, requested, ERROR_INVALID_HANDLE) != 0)
        return;
    HANDLE fresh = NULL;
    if (!mixed_create(w, r->mixed_engine, &fresh))
        return;
    HANDLE drop = fresh;
    if (atomic_compare_exchange_strong_explicit(&r->mixed_enum, &en, fresh, memory_order_acq_rel,
                                                memory_order_relaxed))
        drop = en;
    mixed_destroy(w, r->mixed_engine, drop);
    counter_add(&w->c.shared_snapshots, drop == en ? 1 : 0);
}

static void *mixed_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    HANDLE churn = NULL;
    pthread_barrier_wait(&r->start);
    for (uint64_t n = 0; !stopping(r); n++) {
        uint64_t pick = rng_below(&w->rng, 4);
        if (pick == 0)
            mixed_churn(w, &churn);
        else if (pick == 1)
            mixed_private(w);
        else
            mixed_shared(w);
        if (n % OVERSUB_SAMPLE_EVERY == 0)
            mixed_sample_memory(r);
    }
    if (churn != NULL)
        mixed_churn(w, &churn);
    mixed_sample_memory(r);
    return NULL;
}

/* The scheduler's own noise: a ~1 us spin, timed like a call. */
static void *busy_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&w->run->start);
    while (!stopping(w->run)) {
        uint64_t t = now_ns();
        for (volatile unsigned i = 0; i < 300; i++)
            ;
        histogram_record(&w->busy, now_ns() - t);
    }
    return NULL;
}

/* Waits (up to OVERSUB_SETTLE_NS) for memory to come back to the baseline
 * without fwpm_reclaim(); false when it did not. */
static bool wait_for_baseline(const FWPM_MEMORY_STATS0 *baseline, FWPM_MEMORY_STATS0 *seen,
                              double *seconds)
{
    uint64_t start = now_ns();
    for (;;) {
        fwpm_memory_stats(seen);
        uint64_t elapsed = now_ns() - start;
        *seconds = (double)elapsed / 1e9;
        if (seen->liveBytes == baseline->liveBytes)
            return true;
        if (elapsed > OVERSUB_SETTLE_NS)
            return false;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL); /* polling a condition */
    }
}

/* ---- set-up ---------------------------------------------------------------------------- */

static struct worker *worker_new(struct run *r, enum role role, unsigned index)
{
    void *memory = NULL;
    if (posix_memalign(&memory, CACHE_LINE, sizeof(struct worker)) != 0)
        return NULL;
    struct worker *w = memory;
    memset(w, 0, sizeof(*w));
    w->run = r;
    w->role = role;
    w->index = index;
    w->rng = r->opt.seed ^ ((uint64_t)role << 48 | (uint64_t)index << 32);
    for (unsigned c = 0; c < CALL_COUNT; c++)
        histogram_init(&w->latency[c]);
    histogram_init(&w->busy);
    violations_init(&w->log);
    size_t n = r->opt.writers + 1u;
    w->lo = calloc(n, sizeof(uint64_t));
    w->hi = calloc(n, sizeof(uint64_t));
    w->last = calloc(n, sizeof(uint64_t));
    if (w->lo == NULL || w->hi == NULL || w->last == NULL ||
        !snapshot_check_init(&w->check, &r->world)) {
        free(w->lo);
        free(w->hi);
        free(w->last);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free(struct worker *w)
{
    snapshot_check_destroy(&w->check);
    free(w->lo);
    free(w->hi);
    free(w->last);
    free(w->pages.arrays);
    free(w->pages.counts);
    free(w);
}

/* ---- progress and summary -------------------------------------------------------------- */

struct totals {
    uint64_t ops, writes, snapshots, shared_snapshots, entries, pages, violations;
    struct latency_summary latency[CALL_COUNT];
};

static void gather(struct worker **workers, unsigned n, struct totals *t, bool with_latency)
{
    memset(t, 0, sizeof(*t));
    for (unsigned i = 0; i < n; i++) {
        struct counters *c = &workers[i]->c;
        t->ops += counter_get(&c->ops);
        t->writes += counter_get(&c->writes);
        uint64_t snapshots = counter_get(&c->snapshots);
        t->snapshots += snapshots;
        if (workers[i]->role == ROLE_PAGER)
            t->shared_snapshots += snapshots;
        t->shared_snapshots += counter_get(&c->shared_snapshots);
        t->entries += counter_get(&c->entries);
        t->pages += counter_get(&c->pages);
        t->violations += counter_get(&c->violations);
        if (with_latency)
            for (unsigned k = 0; k < CALL_COUNT; k++)
                latency_summary_add(&t->latency[k], &workers[i]->latency[k]);
    }
}

/* "123", "12.3k", "1.23M", "12.3G" */
static void format_count(double v, char out[16])
{
    if (v < 1e3)
        snprintf(out, 16, "%.0f", v);
    else if (v < 1e6)
        snprintf(out, 16, "%.3gk", v / 1e3);
    else if (v < 1e9)
        snprintf(out, 16, "%.3gM", v / 1e6);
    else
        snprintf(out, 16, "%.3gG", v / 1e9);
}

static unsigned terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
        return ws.ws_col;
    return 80;
}

/* One line: rates since the last tick, latencies since the start. */
static void show_progress(const struct totals *now, const struct totals *before, double elapsed,
                          double interval)
{
    char line[512], a[16], b[16], c[16];
    int len = 0;
    format_count((double)(now->ops - before->ops) / interval, a);
    format_count((double)(now->snapshots - before->snapshots) / interval, b);
    format_count((double)(now->entries - before->entries) / interval, c);
    len += snprintf(line + len, sizeof(line) - (size_t)len,
                    "%5.1fs %s op/s %s snap/s %s ent/s viol %llu |", elapsed, a, b, c,
                    (unsigned long long)now->violations);
    for (unsigned k = 0; k < CALL_COUNT && len < (int)sizeof(line) - 64; k++) {
        const struct latency_summary *s = &now->latency[k];
        latency_format(latency_percentile(s, 0.50), a);
        latency_format(latency_percentile(s, 0.99), b);
        latency_format(s->max, c);
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %s %s/%s/%s",
                        latency_call_names[k], a, b, c);
    }
    /* Never wrap: a wrapped line cannot be redrawn in place. */
    unsigned width = terminal_width() - 1;
    if ((unsigned)len > width)
        line[width] = 0;
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
}

struct memory_figures {
    FWPM_MEMORY_STATS0 baseline, end;
    uint64_t peak_bytes, peak_snapshots, peak_open;
    /* Oversubscribed mode. */
    uint64_t bound;          /* the peak must stay at or under this */
    FWPM_MEMORY_STATS0 idle; /* after the threads stopped, before fwpm_reclaim */
    double settle_seconds;   /* how long memory took to come back by itself */
    bool settled;
    struct latency_summary busy; /* the busy loop's timings */
};

/* The slowest call of the run and which one it was. */
static unsigned worst_call(const struct totals *t)
{
    unsigned worst = 0;
    for (unsigned k = 1; k < CALL_COUNT; k++)
        if (t->latency[k].max > t->latency[worst].max)
            worst = k;
    return worst;
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != 0; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7F)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void print_json(const struct run *r, const struct totals *t, double seconds,
                       const struct memory_figures *m, const struct violations *v)
{
    FILE *out = stdout;
    fprintf(out, "{\"violations\": %llu, ", (unsigned long long)v->count);
    fprintf(out, "\"seconds\": %.3f, \"seed\": %llu, ", seconds, (unsigned long long)r->opt.seed);
    fprintf(out,
            "\"threads\": {\"writers\": %u, \"readers\": %u, \"shared_pagers\": %u}, "
            "\"sessions\": %u, \"page_size\": ",
            r->opt.writers, r->opt.readers, r->opt.shared_pagers, r->opt.sessions);
    if (r->opt.page_size == 0)
        fprintf(out, "\"random\", ");
    else
        fprintf(out, "%u, ", (unsigned)r->opt.page_size);
    fprintf(out,
            "\"snapshots\": %llu, \"shared_snapshots\": %llu, \"writes\": %llu, "
            "\"entries\": %llu, \"pages\": %llu, \"ops\": %llu, ",
            (unsigned long long)t->snapshots, (unsigned long long)t->shared_snapshots,
            (unsigned long long)t->writes, (unsigned long long)t->entries,
            (unsigned long long)t->pages, (unsigned long long)t->ops);
    fprintf(out,
            "\"rates\": {\"ops_per_s\": %.0f, \"writes_per_s\": %.0f, \"snapshots_per_s\": %.1f, "
            "\"entries_per_s\": %.0f}, ",
            (double)t->ops / seconds, (double)t->writes / seconds, (double)t->snapshots / seconds,
            (double)t->entries / seconds);
    fprintf(out, "\"latency_ns\": {");
    for (unsigned k = 0; k < CALL_COUNT; k++) {
        const struct latency_summary *s = &t->latency[k];
        fprintf(out,
                "%s\"%s\": {\"count\": %llu, \"mean\": %.0f, \"p50\": %llu, \"p90\": %llu, "
                "\"p99\": %llu, \"p999\": %llu, \"max\": %llu}",
                k == 0 ? "" : ", ", latency_call_names[k], (unsigned long long)s->count,
                s->count ? (double)s->sum / (double)s->count : 0.0,
                (unsigned long long)latency_percentile(s, 0.50),
                (unsigned long long)latency_percentile(s, 0.90),
                (unsigned long long)latency_percentile(s, 0.99),
                (unsigned long long)latency_percentile(s, 0.999), (unsigned long long)s->max);
    }
    fprintf(out, "}, ");
    fprintf(out,
            "\"memory\": {\"baseline_bytes\": %llu, \"baseline_allocations\": %llu, "
            "\"peak_bytes\": %llu, \"peak_snapshots\": %llu, \"peak_open_sessions\": %llu, "
            "\"end_bytes\": %llu, \"end_allocations\": %llu, \"end_open_sessions\": %llu, "
            "\"end_snapshots\": %llu, \"infrastructure_bytes\": %llu}, ",
            (unsigned long long)m->baseline.liveBytes,
            (unsigned long long)m->baseline.liveAllocations, (unsigned long long)m->peak_bytes,
            (unsigned long long)m->peak_snapshots, (unsigned long long)m->peak_open,
            (unsigned long long)m->end.liveBytes, (unsigned long long)m->end.liveAllocations,
            (unsigned long long)m->end.openSessions, (unsigned long long)m->end.liveSnapshots,
            (unsigned long long)m->end.infrastructureBytes);
    if (r->opt.threads > 0) {
        unsigned worst = worst_call(t);
        fprintf(out,
                "\"oversubscribed\": {\"threads\": %u, \"cores\": %ld, "
                "\"peak_over_baseline_bytes\": %llu, \"bound_over_baseline_bytes\": %llu, "
                "\"worst_call\": \"%s\", \"worst_call_ns\": %llu, \"busy_loop_worst_ns\": %llu, "
                "\"busy_loop_p999_ns\": %llu, \"idle_bytes\": %llu, \"settled\": %s, "
                "\"settle_seconds\": %.3f}, ",
                r->opt.threads, sysconf(_SC_NPROCESSORS_ONLN),
                (unsigned long long)(m->peak_bytes - m->baseline.liveBytes),
                (unsigned long long)(m->bound - m->baseline.liveBytes), latency_call_names[worst],
                (unsigned long long)t->latency[worst].max, (unsigned long long)m->busy.max,
                (unsigned long long)latency_percentile(&m->busy, 0.999),
                (unsigned long long)m->idle.liveBytes, m->settled ? "true" : "false",
                m->settle_seconds);
    }
    fprintf(out, "\"violation_details\": [");
    for (unsigned i = 0; i < v->kept; i++) {
        if (i > 0)
            fprintf(out, ", ");
        json_string(out, v->text[i]);
    }
    fprintf(out, "]}\n");
}

static void print_table(const struct run *r, const struct totals *t, double seconds,
                        const struct memory_figures *m, const struct violations *v)
{
    FILE *out = stdout;
    fprintf(out,
            "fwpm-stress: %.2f s, seed %llu; threads: writers %u, readers %u, shared pagers %u; "
            "standing sessions %u\n\n",
            seconds, (unsigned long long)r->opt.seed, r->opt.writers, r->opt.readers,
            r->opt.shared_pagers, r->opt.sessions);
    fprintf(out, "%-18s %14s %14s\n", "", "total", "per second");
    const struct {
        const char *name;
        uint64_t value;
    } rows[] = {
        {"API calls", t->ops},       {"writes", t->writes},
        {"snapshots", t->snapshots}, {"  of them shared", t->shared_snapshots},
        {"pages", t->pages},         {"entries", t->entries},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        fprintf(out, "%-18s %14llu %14.0f\n", rows[i].name, (unsigned long long)rows[i].value,
                (double)rows[i].value / seconds);
    fprintf(out, "\n%-14s %12s %9s %9s %9s %9s %9s\n", "latency", "calls", "mean", "p50", "p99",
            "p99.9", "max");
    for (unsigned k = 0; k < CALL_COUNT; k++) {
        const struct latency_summary *s = &t->latency[k];
        char mean[16], p50[16], p99[16], p999[16], max[16];
        latency_format(s->count ? s->sum / s->count : 0, mean);
        latency_format(latency_percentile(s, 0.50), p50);
        latency_format(latency_percentile(s, 0.99), p99);
        latency_format(latency_percentile(s, 0.999), p999);
        latency_format(s->max, max);
        fprintf(out, "%-14s %12llu %9s %9s %9s %9s %9s\n", latency_call_names[k],
                (unsigned long long)s->count, mean, p50, p99, p999, max);
    }
    fprintf(out, "(n = ns, u = us, m = ms; percentiles are bucket upper bounds, within 12.5%%)\n");
    fprintf(out,
            "\nmemory: baseline %llu B in %llu blocks; peak %llu B, %llu snapshot versions, "
            "%llu sessions; after the run %llu B in %llu blocks\n",
            (unsigned long long)m->baseline.liveBytes,
            (unsigned long long)m->baseline.liveAllocations, (unsigned long long)m->peak_bytes,
            (unsigned long long)m->peak_snapshots, (unsigned long long)m->peak_open,
            (unsigned long long)m->end.liveBytes, (unsigned long long)m->end.liveAllocations);
    if (r->opt.threads > 0) {
        unsigned worst = worst_call(t);
        char call[16], busy[16], busy999[16];
        latency_format(t->latency[worst].max, call);
        latency_format(m->busy.max, busy);
        latency_format(latency_percentile(&m->busy, 0.999), busy999);
        fprintf(out,
                "\noversubscribed: %u threads on %ld cores; peak %llu B over the baseline "
                "(bound %llu B)\n  worst call %s (%s); a busy loop's worst %s, p99.9 %s "
                "(the scheduler's noise)\n  after the threads stopped: %llu B, %s the baseline "
                "after %.2f s without fwpm_reclaim\n",
                r->opt.threads, sysconf(_SC_NPROCESSORS_ONLN),
                (unsigned long long)(m->peak_bytes - m->baseline.liveBytes),
                (unsigned long long)(m->bound - m->baseline.liveBytes), call,
                latency_call_names[worst], busy, busy999, (unsigned long long)m->idle.liveBytes,
                m->settled ? "back at" : "NOT back at", m->settle_seconds);
    }
    fprintf(out, "\nviolations: %llu\n", (unsigned long long)v->count);
    for (unsigned i = 0; i < v->kept; i++)
        fprintf(out, "  %s\n", v->text[i]);
    if (v->count > v->kept)
        fprintf(out, "  ... and %llu more\n", (unsigned long long)(v->count - v->kept));
}

/* ---- main -------------------------------------------------------------------------------- */

static void sample_memory(struct memory_figures *m)
{
    FWPM_MEMORY_STATS0 now;
    if (fwpm_memory_stats(&now) != ERROR_SUCCESS)
        return;
    if (now.liveBytes > m->peak_bytes)
        m->peak_bytes = now.liveBytes;
    if (now.liveSnapshots > m->peak_snapshots)
        m->peak_snapshots = now.liveSnapshots;
    if (now.openSessions > m->peak_open)
        m->peak_open = now.openSessions;
}

static void close_handle(struct violations *v, HANDLE h, const char *what)
{
    DWORD status = FwpmEngineClose0(h);
    if (status != ERROR_SUCCESS)
        violations_add(v, "teardown: closing %s: FwpmEngineClose0 returned %s", what,
                       fwpm_strerror(status));
}

static void sleep_until(uint64_t deadline)
{
    struct timespec t = {.tv_sec = (time_t)(deadline / 1000000000u),
                         .tv_nsec = (long)(deadline % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

int main(int argc, char **argv)
{
    static struct run run;
    struct run *r = &run;
    if (!parse_options(argc, argv, &r->opt))
        return 2;
    setlocale(LC_CTYPE, "C.UTF-8"); /* for the account name only */
    bool progress = r->opt.progress == 1 || (r->opt.progress == -1 && isatty(STDERR_FILENO));

    /* The engine starts on first use; the baseline comes after that. */
    if (FwpmEngineClose0(NULL) != ERROR_INVALID_HANDLE) {
        fprintf(stderr, "fwpm-stress: the engine did not start\n");
        return 2;
    }
    struct memory_figures memory = {0};
    fwpm_reclaim();
    fwpm_memory_stats(&memory.baseline);

    struct violations log; /* main's own, and everything merged at the end */
    violations_init(&log);

    unsigned anonymous = r->opt.sessions / 16u;
    unsigned named = r->opt.sessions - anonymous;
    bool shared = r->opt.shared_pagers > 0;
    wchar_t *username = checker_account_name(geteuid());
    r->world = (struct checker_world){
        .writers = r->opt.writers,
        .standing = named + r->opt.readers + (shared ? 1u : 0u),
        .anonymous = anonymous,
        .pid = (DWORD)getpid(),
        .uid = (uint32_t)geteuid(),
        .username = username,
    };
    r->population = r->world.standing + r->world.anonymous + 2u * r->opt.writers;
    atomic_init(&r->stop, false);

    unsigned nmixed = r->opt.threads > 0 ? r->opt.threads + 1u : 0u; /* + the busy loop */
    unsigned nworkers = r->opt.writers + r->opt.readers + r->opt.shared_pagers + nmixed;
    struct worker **workers = calloc(nworkers, sizeof(*workers));
    HANDLE *standing = calloc(r->opt.sessions + 1u, sizeof(HANDLE));
    r->writers = calloc(r->opt.writers + 1u, sizeof(*r->writers));
    r->pagers = calloc(r->opt.shared_pagers + 1u, sizeof(*r->pagers));
    if (username == NULL || workers == NULL || standing == NULL || r->writers == NULL ||
        r->pagers == NULL) {
        fprintf(stderr, "fwpm-stress: out of memory\n");
        return 2;
    }
    for (unsigned i = 0; i < r->opt.writers; i++) {
        atomic_init(&r->writers[i].begun, 0);
        atomic_init(&r->writers[i].done, 0);
    }

    /* The standing population: named ones, then every 16th anonymous. */
    unsigned standing_index = 0;
    for (unsigned i = 0; i < r->opt.sessions; i++) {
        FWPM_SESSION0 session;
        wchar_t name[CHECKER_NAME_MAX];
        bool anon = i < anonymous * 16u && i % 16u == 15u;
        if (!anon)
            checker_standing_session(&session, name, standing_index++);
        DWORD status =
            FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, anon ? NULL : &session, &standing[i]);
        if (status != ERROR_SUCCESS) {
            fprintf(stderr, "fwpm-stress: opening the standing population: %s\n",
                    fwpm_strerror(status));
            return 2;
        }
    }

    unsigned n = 0;
    for (unsigned i = 0; i < r->opt.writers; i++)
        workers[n++] = worker_new(r, ROLE_WRITER, i);
    for (unsigned i = 0; i < r->opt.readers; i++)
        workers[n++] = worker_new(r, ROLE_READER, i);
    for (unsigned i = 0; i < r->opt.shared_pagers; i++)
        workers[n++] = r->pagers[i] = worker_new(r, ROLE_PAGER, i);
    for (unsigned i = 0; i < r->opt.threads; i++)
        workers[n++] = worker_new(r, ROLE_MIXED, i);
    if (nmixed > 0)
        workers[n++] = worker_new(r, ROLE_BUSY, 0);
    for (unsigned i = 0; i < nworkers; i++) {
        if (workers[i] == NULL) {
            fprintf(stderr, "fwpm-stress: out of memory\n");
            return 2;
        }
    }
    /* --inject: reader 0 breaks one observation, or pager 0 without readers. */
    if (r->opt.inject != INJECT_NONE)
        workers[r->opt.writers]->inject_pending = true;
    /* Readers and the shared pagers' coordinator enumerate through standing
     * sessions of their own. */
    for (unsigned i = 0; i < nworkers; i++) {
        struct worker *w = workers[i];
        if (w->role == ROLE_WRITER || w->role == ROLE_BUSY ||
            (w->role == ROLE_PAGER && w->index != 0))
            continue;
        FWPM_SESSION0 session;
        wchar_t name[CHECKER_NAME_MAX];
        checker_standing_session(&session, name, standing_index++);
        DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &session, &w->engine);
        if (status != ERROR_SUCCESS) {
            fprintf(stderr, "fwpm-stress: opening a reader's session: %s\n", fwpm_strerror(status));
            return 2;
        }
    }

    if (nmixed > 0 &&
        (FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &r->mixed_engine) != ERROR_SUCCESS ||
         FwpmSessionCreateEnumHandle0(r->mixed_engine, NULL, (HANDLE *)&r->mixed_enum) !=
             ERROR_SUCCESS)) {
        fprintf(stderr, "fwpm-stress: opening the shared handle failed\n");
        return 2;
    }
    memory.bound = memory.baseline.liveBytes + OVERSUB_LIVE_ALLOWANCE +
                   (uint64_t)r->opt.threads * OVERSUB_PER_THREAD;

    pthread_barrier_init(&r->start, NULL, nworkers + 1u);
    if (shared)
        pthread_barrier_init(&r->round, NULL, r->opt.shared_pagers);
    for (unsigned i = 0; i < nworkers; i++) {
        struct worker *w = workers[i];
        void *(*body)(void *) = w->role == ROLE_WRITER   ? writer_main
                                : w->role == ROLE_READER ? reader_main
                                : w->role == ROLE_MIXED  ? mixed_main
                                : w->role == ROLE_BUSY   ? busy_main
                                                         : pager_main;
        int err = pthread_create(&w->thread, NULL, body, w);
        if (err != 0) {
            fprintf(stderr, "fwpm-stress: pthread_create: %s\n", strerror(err));
            return 2;
        }
    }
    pthread_barrier_wait(&r->start);

    /* The run: main only watches, and stops it with the flag. */
    uint64_t start = now_ns();
    uint64_t deadline = start + (uint64_t)(r->opt.seconds * 1e9);
    struct totals before, now;
    memset(&before, 0, sizeof(before));
    uint64_t last_tick = start;
    for (;;) {
        uint64_t next = last_tick + TICK_NS;
        sleep_until(next < deadline ? next : deadline);
        uint64_t t = now_ns();
        sample_memory(&memory);
        if (progress) {
            gather(workers, nworkers, &now, true);
            show_progress(&now, &before, (double)(t - start) / 1e9, (double)(t - last_tick) / 1e9);
            before = now;
        }
        last_tick = t;
        if (t >= deadline)
            break;
    }
    /* Release: pairs with the workers' acquire loads of the flag. */
    atomic_store_explicit(&r->stop, true, memory_order_release);
    for (unsigned i = 0; i < nworkers; i++)
        pthread_join(workers[i]->thread, NULL);
    double seconds = (double)(now_ns() - start) / 1e9;
    if (progress)
        fprintf(stderr, "\r\033[K");

    struct totals totals;
    gather(workers, nworkers, &totals, true);
    for (unsigned i = 0; i < nworkers; i++)
        violations_merge(&log, &workers[i]->log);
    latency_summary_init(&memory.busy);
    for (unsigned i = 0; i < nworkers; i++)
        if (workers[i]->role == ROLE_BUSY)
            latency_summary_add(&memory.busy, &workers[i]->busy);
    uint64_t mixed_peak = atomic_load_explicit(&r->mixed_peak, memory_order_relaxed);
    if (mixed_peak > memory.peak_bytes)
        memory.peak_bytes = mixed_peak;

    /* Everybody is quiet: the engine holds exactly what we left open. */
    uint64_t expected_open = (uint64_t)r->opt.sessions + r->world.standing - named;
    expected_open += nmixed > 0 ? r->opt.threads + 1u : 0u; /* their sessions, the shared one */
    for (unsigned i = 0; i < nworkers; i++)
        expected_open += workers[i]->role == ROLE_WRITER ? workers[i]->chain_open : 0;
    FWPM_MEMORY_STATS0 quiet;
    fwpm_memory_stats(&quiet);
    if (quiet.openSessions != expected_open)
        violations_add(&log, "after the run: the engine has %llu sessions open, expected %llu",
                       (unsigned long long)quiet.openSessions, (unsigned long long)expected_open);

    /* Tear down, then memory must be back at the baseline. */
    for (unsigned i = 0; i < nworkers; i++) {
        struct worker *w = workers[i];
        for (unsigned k = 0; k < w->chain_open; k++)
            close_handle(&log, w->chain[k], "a writer's session");
        if (w->engine != NULL)
            close_handle(&log, w->engine, "a reader's session");
    }
    for (unsigned i = 0; i < r->opt.sessions; i++)
        close_handle(&log, standing[i], "a standing session");
    if (nmixed > 0) {
        FwpmSessionDestroyEnumHandle0(r->mixed_engine, atomic_load(&r->mixed_enum));
        close_handle(&log, r->mixed_engine, "the shared handle's session");
        if (memory.peak_bytes > memory.bound)
            violations_add(&log,
                           "memory not bounded: peak %llu B over the baseline, bound %llu B "
                           "(%llu + %u threads x %llu)",
                           (unsigned long long)(memory.peak_bytes - memory.baseline.liveBytes),
                           (unsigned long long)(memory.bound - memory.baseline.liveBytes),
                           OVERSUB_LIVE_ALLOWANCE, r->opt.threads, OVERSUB_PER_THREAD);
        memory.settled = wait_for_baseline(&memory.baseline, &memory.idle, &memory.settle_seconds);
        if (!memory.settled)
            violations_add(&log,
                           "memory not back at the baseline %.0f s after the threads stopped "
                           "(without fwpm_reclaim): %llu B, baseline %llu B",
                           memory.settle_seconds, (unsigned long long)memory.idle.liveBytes,
                           (unsigned long long)memory.baseline.liveBytes);
    }
    fwpm_reclaim();
    fwpm_memory_stats(&memory.end);
    checker_memory(&log, &memory.baseline, &memory.end);

    if (r->opt.json)
        print_json(r, &totals, seconds, &memory, &log);
    else
        print_table(r, &totals, seconds, &memory, &log);

    for (unsigned i = 0; i < nworkers; i++)
        worker_free(workers[i]);
    free(workers);
    free(standing);
    free(r->writers);
    free(r->pagers);
    free(username);
    pthread_barrier_destroy(&r->start);
    if (shared)
        pthread_barrier_destroy(&r->round);
    return log.count == 0 ? 0 : 1;
}
