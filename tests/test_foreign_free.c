/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_foreign_free.c - contract §5.4, FwpmFreeMemory0: a pointer the API did not
 * return is ignored and *p set to NULL, without reading memory that is not
 * fwpm's (the ASan suite fails on any report); an interior pointer of a
 * returned array is ignored too; freeing an array twice (before its block is
 * reused) does not crash; returned arrays live in the page arena's range, are
 * correct at any size and under many pagers, and memory returns to baseline.
 */
#include "page_arena.h"
#include "support.h"

#include <criterion/criterion.h>
#include <fwpm_linux.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static UINT64 baseline(void)
{
    FwpmEngineClose0(NULL); /* sets the engine up */
    return live_bytes_now();
}

/* Frees a copy of pointer; asserts it was cleared. */
static void free_foreign(void *pointer)
{
    void *p = pointer;
    FwpmFreeMemory0(&p);
    cr_assert_null(p, "*p must be NULL after FwpmFreeMemory0");
}

/* A page of up to n entries from a fresh handle of engine. */
static FWPM_SESSION0 **take_page(HANDLE engine, UINT32 n, UINT32 *got)
{
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(engine, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries = NULL;
    cr_assert_eq(FwpmSessionEnum0(engine, e, n, &entries, got), ERROR_SUCCESS);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(engine, e), ERROR_SUCCESS);
    return entries;
}

Test(foreign_free, a_malloc_pointer_is_ignored)
{
    UINT64 base = baseline();
    for (size_t size = 1; size <= 1 << 20; size *= 4) {
        unsigned char *m = malloc(size);
        cr_assert_not_null(m);
        memset(m, 0xA5, size);
        free_foreign(m);
        for (size_t i = 0; i < size; i++)
            cr_assert_eq(m[i], 0xA5, "a foreign block was written");
        cr_assert(!page_arena_contains(m));
        free(m); /* still the caller's, still valid */
    }
    cr_assert_eq(live_bytes_now(), base);
}

Test(foreign_free, a_pointer_after_an_unmapped_page_does_not_fault)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *map =
        mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(map, MAP_FAILED);
    cr_assert_eq(munmap(map, (size_t)page), 0); /* the guard: nothing mapped before */
    free_foreign(map + page);
    /* The same at a PROT_NONE guard page. */
    cr_assert_eq(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    unsigned char *after =
        mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(after, MAP_FAILED);
    free_foreign(after);
    munmap(map + page, (size_t)page);
    munmap(after, (size_t)page);
}

static unsigned char static_block[64];

Test(foreign_free, stack_static_and_odd_pointers_are_ignored)
{
    unsigned char stack_block[64];
    memset(stack_block, 0x5A, sizeof(stack_block));
    free_foreign(stack_block);
    free_foreign(stack_block + 24);
    free_foreign(static_block);
    free_foreign((void *)free_foreign); /* code */
    free_foreign((void *)(uintptr_t)1); /* garbage, below any mapping */
    free_foreign((void *)(uintptr_t)0xFFFFFFFFFFFFFFF0ull);
    for (size_t i = 0; i < sizeof(stack_block); i++)
        cr_assert_eq(stack_block[i], 0x5A);
    FwpmFreeMemory0(NULL); /* no-ops */
    void *null = NULL;
    FwpmFreeMemory0(&null);
    cr_assert_null(null);
}

/* Decided: a pointer into a returned array other than its start is ignored,
 * like any pointer the API did not return; the array stays whole and must
 * still be freed through its start. */
Test(foreign_free, an_interior_pointer_is_ignored_and_the_array_stays_whole)
{
    UINT64 base = baseline();
    HANDLE s[8];
    for (int i = 0; i < 8; i++)
        s[i] = open_session();
    UINT32 n;
    FWPM_SESSION0 **entries = take_page(s[0], INFINITE, &n);
    cr_assert_eq(n, 8);
    cr_assert(page_arena_contains(entries));
    GUID keys[8];
    for (UINT32 i = 0; i < n; i++)
        keys[i] = entries[i]->sessionKey;
    for (UINT32 i = 1; i < n; i++)
        free_foreign(&entries[i]);
    for (size_t offset = 1; offset < 8 * sizeof(void *); offset++) /* misaligned too */
        free_foreign((char *)entries + offset);
    free_foreign((char *)entries - 8); /* inside the hidden header */
    for (UINT32 i = 0; i < n; i++)
        cr_assert_eq(memcmp(&entries[i]->sessionKey, &keys[i], sizeof(GUID)), 0);
    for (int i = 0; i < 8; i++)
        close_session(s[i]);
    cr_assert_gt(live_bytes_now(), base, "the array still holds its entries");
    FwpmFreeMemory0((void **)&entries);
    cr_assert_null(entries);
    cr_assert_eq(live_bytes_now(), base);
}

Test(foreign_free, a_double_free_right_after_the_first_does_not_crash)
{
    UINT64 base = baseline();
    enum { N = 5000 }; /* pages from 1 entry to N: small and large blocks */
    HANDLE *h = malloc(N * sizeof(HANDLE));
    for (int i = 0; i < N; i++)
        h[i] = open_session();
    for (UINT32 size = 1; size <= N; size *= 3) {
        UINT32 n;
        FWPM_SESSION0 **entries = take_page(h[0], size, &n);
        cr_assert_eq(n, size);
        void *copy = entries;
        FwpmFreeMemory0((void **)&entries);
        FwpmFreeMemory0(&copy);
        cr_assert_null(copy);
    }
    for (int i = 0; i < N; i++)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base, "a second free freed something");
    free(h);
}

/* Threads come and go, each taking and freeing pages of 1 to 1000 entries
 * (every class a thread keeps blocks of, up to 8 KiB): a thread's kept blocks
 * go back at its exit, so the range stops growing once the first threads have
 * warmed it. Were they lost, 2000 threads would carve 2000 x ~22 KiB. */
struct churn {
    HANDLE engine;
};

static void *page_and_exit(void *arg)
{
    struct churn *c = arg;
    for (UINT32 size = 1; size <= 1000; size *= 10) {
        UINT32 n;
        FWPM_SESSION0 **entries = take_page(c->engine, size, &n);
        cr_assert_eq(n, size);
        FwpmFreeMemory0((void **)&entries);
    }
    return NULL;
}

static void churn_threads(struct churn *c, int count)
{
    for (int i = 0; i < count; i += 2) {
        pthread_t t[2];
        for (int j = 0; j < 2; j++)
            cr_assert_eq(pthread_create(&t[j], NULL, page_and_exit, c), 0);
        for (int j = 0; j < 2; j++)
            cr_assert_eq(pthread_join(t[j], NULL), 0);
    }
}

Test(foreign_free, blocks_kept_by_exited_threads_are_reused)
{
    UINT64 base = baseline();
    enum { N = 1000 };
    HANDLE *h = malloc(N * sizeof(HANDLE));
    for (int i = 0; i < N; i++)
        h[i] = open_session();
    struct churn c = {h[0]};
    churn_threads(&c, 200);
    size_t warmed = page_arena_carved();
    churn_threads(&c, 2000);
    size_t grown = page_arena_carved() - warmed;
    cr_assert_lt(grown, (size_t)4 << 20, "2000 exited threads left %zu bytes carved", grown);
    for (int i = 0; i < N; i++)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base);
    free(h);
}

/* An array freed on one thread, then freed again through a stale copy on
 * another once the first free has returned (ordered by the join, as a client
 * orders its own frees): the second free is ignored, and nothing is freed
 * twice (the live figures come back to the baseline, not below it). Two frees
 * of one array at the same moment are undefined (contract §5.4) and not
 * tested. */
static void *free_stale_copy(void *copy)
{
    FwpmFreeMemory0(&copy);
    return copy; /* NULL when *p was cleared */
}

Test(foreign_free, a_second_free_on_another_thread_after_the_first_is_ignored)
{
    UINT64 base = baseline();
    HANDLE s = open_session();
    for (int round = 0; round < 2000; round++) {
        UINT32 n;
        void *array = take_page(s, INFINITE, &n);
        void *stale = array;
        FwpmFreeMemory0(&array);
        pthread_t other;
        cr_assert_eq(pthread_create(&other, NULL, free_stale_copy, stale), 0);
        void *left;
        pthread_join(other, &left);
        cr_assert_null(left, "round %d: the second free did not clear its pointer", round);
    }
    close_session(s);
    cr_assert_eq(live_bytes_now(), base);
}

static int compare_guids(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(GUID));
}

/* Every key once: sorts keys and checks neighbours differ. */
static void assert_distinct(GUID *keys, size_t n)
{
    qsort(keys, n, sizeof(GUID), compare_guids);
    for (size_t i = 1; i < n; i++)
        cr_assert_neq(memcmp(&keys[i - 1], &keys[i], sizeof(GUID)), 0, "a key came twice");
}

Test(foreign_free, a_huge_infinite_page_is_correct_and_in_the_range)
{
    UINT64 base = baseline();
    enum { N = 10000 }; /* an 80 KB array: a large block */
    HANDLE *h = malloc(N * sizeof(HANDLE));
    for (int i = 0; i < N; i++)
        h[i] = open_session();
    UINT32 n;
    FWPM_SESSION0 **entries = take_page(h[0], INFINITE, &n);
    cr_assert_eq(n, N);
    cr_assert(page_arena_contains(entries) && page_arena_contains(&entries[N - 1]));
    GUID *keys = malloc(N * sizeof(GUID));
    for (UINT32 i = 0; i < n; i++)
        keys[i] = entries[i]->sessionKey;
    assert_distinct(keys, n);
    FwpmFreeMemory0((void **)&entries);
    for (int i = N - 1; i >= 0; i--)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base);
    free(keys);
    free(h);
}

/* Arrays of 8 MiB and more: jemalloc purges such a block as soon as it is
 * freed, so the arena keeps the last freed one (4 to 32 MiB) for the next
 * request of its size (page_arena.h). The kept block is reused, stays
 * readable, is not counted as live, and is given back when a request of
 * another size comes: alternating sizes carve no more than a few blocks. */
Test(foreign_free, a_freed_large_block_is_kept_for_its_size_and_only_one)
{
    UINT64 base = baseline();
    const size_t big = 8000032; /* an INFINITE page of 1M sessions */
    char *p = page_arena_alloc(big);
    cr_assert_not_null(p);
    memset(p, 0x5a, big);
    page_arena_free(p, big);
    cr_assert_eq(live_bytes_now(), base, "a kept block is not live");
    cr_assert(page_arena_readable(p, big), "a freed block stays readable");
    char *q = page_arena_alloc(big);
    cr_assert_not_null(q);
    if (strcmp(fwpm_allocator_name(), "jemalloc") == 0) {
        cr_assert_eq(q, p, "the kept block serves the next request of its size");
        /* Resident, not purged: a purge would read back as zeros (and
         * fault every page in again). */
        cr_assert_eq(q[big / 2], 0x5a, "the kept block was given back to the kernel");
    }
    page_arena_free(q, big);
    size_t carved = page_arena_carved();
    for (int round = 0; round < 64; round++) {
        size_t bytes = ((size_t)(5 + round % 3) << 20) + 32; /* 5, 6, 7 MiB */
        char *r = page_arena_alloc(bytes);
        cr_assert_not_null(r);
        memset(r, 1, bytes);
        page_arena_free(r, bytes);
    }
    cr_assert_lt(page_arena_carved() - carved, (size_t)64 << 20,
                 "alternating sizes kept more than a few blocks: %zu bytes carved",
                 page_arena_carved() - carved);
    cr_assert_eq(live_bytes_now(), base);
}

enum { PAGERS = 16, SHARED = 5000 };

struct pager {
    HANDLE engine, e;
    GUID *keys; /* what this pager received */
    size_t got;
    unsigned seed;
};

static void *page_shared_handle(void *arg)
{
    struct pager *p = arg;
    for (;;) {
        FWPM_SESSION0 **entries;
        UINT32 n;
        UINT32 want = 1 + (UINT32)(rand_r(&p->seed) % 64);
        cr_assert_eq(FwpmSessionEnum0(p->engine, p->e, want, &entries, &n), ERROR_SUCCESS);
        if (n == 0)
            return NULL;
        cr_assert(page_arena_contains(entries));
        for (UINT32 i = 0; i < n; i++)
            p->keys[p->got++] = entries[i]->sessionKey;
        if (p->seed % 2)
            free_foreign(&entries[n - 1] + 1); /* a pointer just past it: ignored */
        FwpmFreeMemory0((void **)&entries);
    }
}

Test(foreign_free, many_concurrent_pagers_get_every_entry_once)
{
    UINT64 base = baseline();
    HANDLE *h = malloc(SHARED * sizeof(HANDLE));
    for (int i = 0; i < SHARED; i++)
        h[i] = open_session();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(h[0], NULL, &e), ERROR_SUCCESS);
    struct pager pagers[PAGERS];
    pthread_t threads[PAGERS];
    for (int t = 0; t < PAGERS; t++) {
        pagers[t] = (struct pager){.engine = h[0], .e = e, .seed = (unsigned)t + 1};
        pagers[t].keys = malloc(SHARED * sizeof(GUID));
        cr_assert_eq(pthread_create(&threads[t], NULL, page_shared_handle, &pagers[t]), 0);
    }
    GUID *all = malloc(SHARED * sizeof(GUID));
    size_t total = 0;
    for (int t = 0; t < PAGERS; t++) {
        pthread_join(threads[t], NULL);
        cr_assert_leq(total + pagers[t].got, SHARED);
        memcpy(all + total, pagers[t].keys, pagers[t].got * sizeof(GUID));
        total += pagers[t].got;
        free(pagers[t].keys);
    }
    cr_assert_eq(total, SHARED);
    assert_distinct(all, total);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(h[0], e), ERROR_SUCCESS);
    for (int i = 0; i < SHARED; i++)
        close_session(h[i]);
    cr_assert_eq(live_bytes_now(), base);
    free(all);
    free(h);
}

Test(foreign_free, the_range_answers_without_touching_foreign_memory)
{
    baseline();
    int local;
    cr_assert(!page_arena_contains(&local));
    cr_assert(!page_arena_readable(&local, sizeof(local)));
    cr_assert(!page_arena_readable(static_block, 1));
    void *block = page_arena_alloc(100);
    cr_assert_not_null(block);
    cr_assert(page_arena_contains(block) && page_arena_readable(block, 100));
    page_arena_free(block, 100);
    cr_assert(page_arena_readable(block, 100), "freed memory stays readable");
}

Test(foreign_free, the_range_holds_an_array_of_2_pow_24_entries)
{
    UINT64 base = baseline();
    size_t bytes = 24 + ((size_t)1 << 24) * sizeof(void *); /* header + 128 MiB */
    unsigned char *block = page_arena_alloc(bytes);
    cr_assert_not_null(block);
    block[0] = 1;
    block[bytes - 1] = 2; /* committed to its end */
    cr_assert_eq(live_bytes_now(), base + bytes);
    page_arena_free(block, bytes);
    cr_assert_eq(live_bytes_now(), base);
    cr_assert(page_arena_readable(block + bytes - 1, 1));
}

Test(foreign_free, an_exhausted_range_is_out_of_memory_not_a_crash)
{
    UINT64 base = baseline();
    cr_assert_null(page_arena_alloc((size_t)1 << 40)); /* more than the range */
    cr_assert_null(page_arena_alloc(SIZE_MAX / 2));
    cr_assert_eq(live_bytes_now(), base, "a failed allocation was counted");
    /* The range still serves after the refusals. */
    void *block = page_arena_alloc(64);
    cr_assert_not_null(block);
    page_arena_free(block, 64);
    cr_assert_eq(live_bytes_now(), base);
}

Test(foreign_free, a_forked_child_reads_and_frees_the_parents_arrays)
{
    baseline();
    HANDLE s[3] = {open_session(), open_session(), open_session()};
    UINT32 n;
    FWPM_SESSION0 **entries = take_page(s[0], INFINITE, &n);
    cr_assert_eq(n, 3);
    GUID first = entries[0]->sessionKey;
    fflush(NULL);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        int ok = memcmp(&entries[0]->sessionKey, &first, sizeof(GUID)) == 0;
        void *copy = entries;
        FwpmFreeMemory0((void **)&entries);
        FwpmFreeMemory0(&copy); /* and the double free is as harmless there */
        _exit(ok && entries == NULL && copy == NULL ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %#x)",
              status);
    FwpmFreeMemory0((void **)&entries); /* the parent's own copy */
    for (int i = 0; i < 3; i++)
        close_session(s[i]);
}
