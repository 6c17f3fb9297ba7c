/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_epoch_poll_pace.c - an epoch advance scans every thread record ever
 * registered, so a thread polls less often once many records exist: after
 * 64 threads were inside sections at once (64 records, kept for reuse after
 * they exit), one thread leaving sections with garbage waiting polls about
 * once per 64 exits, not once per EPOCH_POLL_EXITS; and its own exits still
 * free what it retires, without fwpm_reclaim. Plain executable: exits
 * non-zero on the first failed check. The threads meet on an atomic counter
 * (no sleeps).
 */
#include "epoch.h"

#include "unit_check.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    THREADS = 64,
    EXITS = 64 * 200,
    /* One retire per this many exits: the backlog stays far below
     * EPOCH_BACKLOG_SOFT, so no throttle poll is made and every poll
     * counted is a paced one. */
    EXITS_PER_RETIRE = 16,
    RETIRES = EXITS / EXITS_PER_RETIRE,
};

static epoch_entry entries[RETIRES];
static _Atomic unsigned long freed;
static _Atomic int inside;

static void count_free(epoch_entry *entry)
{
    (void)entry;
    atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

/* Holds a section open until all THREADS are inside theirs: each has a
 * record of its own. */
static void *enter_together(void *arg)
{
    (void)arg;
    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        abort();
    atomic_fetch_add_explicit(&inside, 1, memory_order_acq_rel);
    while (atomic_load_explicit(&inside, memory_order_acquire) < THREADS)
        sched_yield(); /* 64 threads on 2 cores: let the others get in */
    epoch_exit(record);
    return NULL;
}

static void sixty_four_records_are_registered(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, enter_together, NULL) != 0)
            abort();
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

static void after_many_threads_one_thread_polls_once_per_record(void)
{
    sixty_four_records_are_registered();
    unsigned long polls_before = epoch_paced_polls();
    int retired = 0;
    for (int i = 0; i < EXITS; i++) {
        ck_epoch_record_t *record;
        if (!epoch_enter(&record))
            abort();
        if (i % EXITS_PER_RETIRE == 0)
            epoch_retire(&entries[retired++], count_free);
        epoch_exit(record);
    }
    unsigned long polls = epoch_paced_polls() - polls_before;
    unsigned long freed_by_exits = atomic_load_explicit(&freed, memory_order_relaxed);
    printf("%d exits after %d threads: %lu paced polls, %lu of %d retired entries freed\n", EXITS,
           THREADS, polls, freed_by_exits, RETIRES);
    /* At EPOCH_POLL_EXITS a poll, 1,600 polls; at one per record, 200. */
    check(polls <= (unsigned long)EXITS / THREADS + 1, "one poll per record's worth of exits");
    check(polls >= (unsigned long)EXITS / THREADS / 2, "the thread still polls at that pace");
    check(freed_by_exits >= (unsigned long)RETIRES * 9 / 10,
          "the thread's own exits free what it retired");
    epoch_reclaim_all();
    check(atomic_load_explicit(&freed, memory_order_relaxed) == (unsigned long)RETIRES,
          "everything retired is freed");
}

int main(void)
{
    after_many_threads_one_thread_polls_once_per_record();
    return unit_check_status();
}
