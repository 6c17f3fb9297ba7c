/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_data_arena.c - the library's own blocks come from one jemalloc arena
 * (memory.c), whichever thread allocates them, so the space that a thread's
 * closes free serves the next open of any thread. A host that opens its
 * sessions on one thread and closes and reopens them on others must not
 * leave the first thread's pages resident beside the new ones, and
 * fwpm_reclaim gives back the pages that closing everything emptied.
 *
 * Skipped, with a note, when jemalloc does not serve the
 * library: the system allocator's arenas are its own business.
 */
#include "memory.h"
#include "stress.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum {
    THREADS = 64,       /* allocating threads, alive at once */
    SESSIONS = 20000,   /* opened by one thread, churned by the others */
    CHURNERS = 4,       /* threads that close and reopen them, at once */
    CHURN_PASSES = 2,   /* each session is replaced this many times */
    RECORD_BYTES = 320, /* a session record's size class, about */
};

static const struct memory_jemalloc *je; /* the library's jemalloc */

/* The arena that served p, or UINT_MAX if jemalloc could not say. */
static unsigned arena_of(void *p)
{
    unsigned arena = UINT_MAX;
    size_t size = sizeof(arena);
    if (je->mallctl("arenas.lookup", &arena, &size, &p, sizeof(p)) != 0)
        return UINT_MAX;
    return arena;
}

/* Bytes of physically resident pages that jemalloc maps, all arenas; 0 if
 * its statistics are not built in. */
static size_t allocator_resident(void)
{
    uint64_t epoch = 1;
    size_t size = sizeof(epoch);
    je->mallctl("epoch", &epoch, &size, &epoch, size); /* refresh the statistics */
    size_t resident = 0;
    size = sizeof(resident);
    if (je->mallctl("stats.resident", &resident, &size, NULL, 0) != 0)
        return 0;
    return resident;
}

/* One of the library arena's statistics (stats.arenas.<i>.<name>, a size_t),
 * as of the last "epoch" refresh; 0 if jemalloc keeps none. */
static size_t data_arena_stat(const char *name)
{
    char key[64];
    snprintf(key, sizeof(key), "stats.arenas.%u.%s", memory_data_arena(), name);
    size_t value = 0, size = sizeof(value);
    if (je->mallctl(key, &value, &size, NULL, 0) != 0)
        return 0;
    return value;
}

/* Bytes of the pages the library's arena holds: those of live blocks and
 * slabs, and the dirty ones it has not given back. */
static size_t data_arena_pages_bytes(void)
{
    (void)allocator_resident(); /* refreshes the statistics */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (data_arena_stat("pactive") + data_arena_stat("pdirty")) * page;
}

/* Bytes the library's arena counts as handed out: blocks in use, and blocks
 * freed into a thread's jemalloc cache but not yet back in the arena. */
static size_t data_arena_allocated(void)
{
    (void)allocator_resident(); /* refreshes the statistics */
    return data_arena_stat("small.allocated") + data_arena_stat("large.allocated");
}

/* How far now lies above then (0 if below). */
static size_t excess(size_t now, size_t then)
{
    return now > then ? now - then : 0;
}

static unsigned arena_seen[THREADS];

static void allocate_one(unsigned index, void *arg)
{
    (void)arg;
    void *p = memory_alloc(RECORD_BYTES, MEMORY_DATA);
    STRESS_CHECK(p != NULL, "memory_alloc failed");
    arena_seen[index] = p != NULL ? arena_of(p) : UINT_MAX;
    memory_free(p, RECORD_BYTES, MEMORY_DATA);
}

/* Every thread's blocks come from the library's arena, not from one of
 * jemalloc's automatic arenas (those every thread of the host shares out).
 * Each thread here allocates nothing else, so its jemalloc cache holds no
 * block of the host's to pass on (memory.c). */
static void blocks_of_every_thread_come_from_one_arena(void)
{
    unsigned ours = memory_data_arena();
    STRESS_CHECK(ours != UINT_MAX, "jemalloc serves, but the library made no arena");
    stress_run(THREADS, allocate_one, NULL);
    if (arena_seen[0] == UINT_MAX) {
        printf("test_data_arena: this jemalloc has no arenas.lookup: blocks not checked\n");
        return;
    }
    for (unsigned i = 0; i < THREADS; i++)
        STRESS_CHECK(arena_seen[i] == ours,
                     "thread %u's block came from arena %u, not the library's (%u)", i,
                     arena_seen[i], ours);
}

static HANDLE sessions[SESSIONS];

static void open_all(void)
{
    for (unsigned i = 0; i < SESSIONS; i++)
        sessions[i] = stress_open(L"opened on one thread, churned on others");
}

/* Churner `index` closes its share of the sessions, then opens as many anew
 * (a host's workers replacing what its start-up thread opened). */
static void churn_share(unsigned index, void *arg)
{
    (void)arg;
    unsigned lo = index * SESSIONS / CHURNERS, hi = (index + 1) * SESSIONS / CHURNERS;
    for (unsigned pass = 0; pass < CHURN_PASSES; pass++) {
        for (unsigned i = lo; i < hi; i++)
            stress_close(sessions[i]);
        for (unsigned i = lo; i < hi; i++)
            sessions[i] = stress_open(L"opened on one thread, churned on others");
    }
}

/* Sessions opened by one thread, then closed and reopened (twice) by other
 * threads at once: afterwards the allocator holds little more than the live
 * set. Were the blocks to come from each thread's own arena, the first
 * thread's arena would keep the pages of every session it opened, resident
 * beside the churners' copies (2.1-2.4x the live set on the machine this was
 * written on, 1.23-1.26x with one arena). Once everything is closed,
 * fwpm_reclaim gives the emptied pages back: including those of the blocks
 * that the background reclaimer freed, for the churners that exited. */
static void space_freed_on_one_thread_serves_the_others(UINT64 baseline)
{
    size_t resident_before = allocator_resident();
    if (resident_before == 0) {
        printf("test_data_arena: this jemalloc keeps no statistics: resident bytes not "
               "checked\n");
        return;
    }
    size_t arena_before = data_arena_pages_bytes();
    open_all(); /* on the main thread, which stays, as a host's often does */
    UINT64 live_set = stress_live_bytes() - baseline;
    stress_run(CHURNERS, churn_share, NULL);
    /* Before any fwpm_reclaim: that would give back what the churn emptied. */
    size_t growth = excess(allocator_resident(), resident_before);
    printf("test_data_arena: live set %llu bytes, allocator resident +%zu bytes (%.2fx) after "
           "the churn\n",
           (unsigned long long)live_set, growth, (double)growth / (double)live_set);
    /* The live set, what the churn holds in flight (grace periods, the retire
     * batch, thread caches), and slabs partly used: under two copies, with
     * room for a loaded machine's longer grace periods. */
    STRESS_CHECK(growth < live_set + live_set * 3 / 4,
                 "the allocator grew by %zu bytes for a live set of %llu: space freed on "
                 "one thread did not serve the others",
                 growth, (unsigned long long)live_set);
    for (unsigned i = 0; i < SESSIONS; i++)
        stress_close(sessions[i]);
    stress_expect_baseline(baseline); /* reclaims */

    /* No block the library freed waits in a thread's jemalloc cache, where
     * it would keep its slab's pages: the arena hands out what the library
     * counts (its live blocks and its kept infrastructure), give or take the
     * rounding of a few infrastructure blocks to their size classes. */
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    size_t counted = (size_t)(st.liveBytes + st.infrastructureBytes);
    size_t cached = excess(data_arena_allocated(), counted);
    printf("test_data_arena: the arena hands out %zu bytes beyond what the library counts\n",
           cached);
    STRESS_CHECK(cached < 4096,
                 "after fwpm_reclaim the library's arena hands out %zu bytes more than the "
                 "library holds (%zu): freed blocks stay in a thread's cache",
                 cached, counted);

    /* The arena's pages: what it held before, the infrastructure kept for
     * reuse (the handle table grown to 20,000 handles), and slabs part-used
     * by the few blocks that remain. The whole process's resident bytes
     * would also count jemalloc's metadata and other arenas' dirty pages,
     * which neither the library nor fwpm_reclaim governs. */
    size_t left = excess(data_arena_pages_bytes(), arena_before);
    printf("test_data_arena: the library's arena holds +%zu bytes of pages once all is closed "
           "and reclaimed (infrastructure %llu bytes)\n",
           left, (unsigned long long)st.infrastructureBytes);
    STRESS_CHECK(left < st.infrastructureBytes + live_set / 8,
                 "fwpm_reclaim left the library's arena %zu bytes above its start (live set "
                 "%llu, infrastructure %llu)",
                 left, (unsigned long long)live_set, (unsigned long long)st.infrastructureBytes);
}

int main(void)
{
    UINT64 baseline = stress_baseline();
    je = memory_jemalloc();
    if (je == NULL) {
        printf("test_data_arena: the %s allocator serves the library: nothing to check\n",
               memory_allocator_name());
        return stress_report("test_data_arena", 0);
    }
    blocks_of_every_thread_come_from_one_arena();
    space_freed_on_one_thread_serves_the_others(baseline);
    return stress_report("test_data_arena", 2);
}
