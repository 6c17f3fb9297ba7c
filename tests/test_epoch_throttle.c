/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_epoch_throttle.c - producers are slowed only while the epoch stands
 * still: beside a reader that keeps entering and leaving sections, a thread
 * retiring a steady stream never yields; beside a reader stuck in one
 * section, it yields, at most EPOCH_YIELDS_MAX times a call, and everything
 * is reclaimed once the reader leaves. Plain executable: exits non-zero on
 * the first failed check. The two threads go in lockstep on atomic flags
 * (no sleeps).
 */
#include "epoch.h"

#include "unit_check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    ROUNDS = 400,
    /* Fewer than the bound a round (one epoch move), yet the backlog, which
     * holds about two rounds, passes it: the old rule yielded here. */
    RETIRES_PER_ROUND = EPOCH_BACKLOG_SOFT * 3 / 4,
    STUCK_RETIRES = 8 * EPOCH_BACKLOG_SOFT,
};

static epoch_entry entries[ROUNDS * RETIRES_PER_ROUND + STUCK_RETIRES];
static _Atomic unsigned long freed;

static void count_free(epoch_entry *entry)
{
    (void)entry;
    atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

/* One API call that retires one object: a section with a retire in it. */
static void retiring_call(epoch_entry *entry)
{
    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        abort();
    epoch_retire(entry, count_free);
    epoch_exit(record);
}

/* The reader's side of the lockstep: round r's section is open while the
 * producer makes its calls of round r. */
static _Atomic int reader_in_round = -1; /* the reader is inside round's section */
static _Atomic int producer_done = -1;   /* the producer finished round's calls */

static void *reader_leaving_sections(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        ck_epoch_record_t *record;
        if (!epoch_enter(&record))
            abort();
        atomic_store_explicit(&reader_in_round, r, memory_order_release);
        while (atomic_load_explicit(&producer_done, memory_order_acquire) != r)
            ;
        epoch_exit(record);
    }
    return NULL;
}

static void producer_beside_a_moving_epoch_never_yields(void)
{
    pthread_t reader;
    if (pthread_create(&reader, NULL, reader_leaving_sections, NULL) != 0)
        abort();
    unsigned long yields_before = epoch_throttle_yields();
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load_explicit(&reader_in_round, memory_order_acquire) != r)
            ;
        for (int i = 0; i < RETIRES_PER_ROUND; i++)
            retiring_call(&entries[r * RETIRES_PER_ROUND + i]);
        atomic_store_explicit(&producer_done, r, memory_order_release);
    }
    pthread_join(reader, NULL);
    unsigned long yields = epoch_throttle_yields() - yields_before;
    printf("moving epoch: %lu yields in %d retiring calls\n", yields, ROUNDS * RETIRES_PER_ROUND);
    check(yields == 0, "a producer does not yield while the epoch keeps moving");
}

static _Atomic bool stuck_reader_inside;
static _Atomic bool stuck_reader_may_leave;

static void *reader_stuck_in_a_section(void *arg)
{
    (void)arg;
    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        abort();
    atomic_store_explicit(&stuck_reader_inside, true, memory_order_release);
    while (!atomic_load_explicit(&stuck_reader_may_leave, memory_order_acquire))
        ;
    epoch_exit(record);
    return NULL;
}

static void producer_beside_a_stuck_reader_yields_boundedly(void)
{
    pthread_t reader;
    if (pthread_create(&reader, NULL, reader_stuck_in_a_section, NULL) != 0)
        abort();
    while (!atomic_load_explicit(&stuck_reader_inside, memory_order_acquire))
        ;
    unsigned long yields_before = epoch_throttle_yields();
    epoch_entry *stuck = &entries[ROUNDS * RETIRES_PER_ROUND];
    for (int i = 0; i < STUCK_RETIRES; i++)
        retiring_call(&stuck[i]);
    unsigned long yields = epoch_throttle_yields() - yields_before;
    atomic_store_explicit(&stuck_reader_may_leave, true, memory_order_release);
    pthread_join(reader, NULL);
    printf("stuck reader: %lu yields in %d retiring calls\n", yields, STUCK_RETIRES);
    check(yields > 0, "a producer yields while a reader holds the epoch");
    check(yields <= (unsigned long)STUCK_RETIRES * EPOCH_YIELDS_MAX,
          "at most EPOCH_YIELDS_MAX yields a call");
    epoch_reclaim_all();
    check(atomic_load_explicit(&freed, memory_order_relaxed) ==
              (unsigned long)(ROUNDS * RETIRES_PER_ROUND + STUCK_RETIRES),
          "everything retired is freed once the reader leaves");
}

int main(void)
{
    producer_beside_a_moving_epoch_never_yields();
    producer_beside_a_stuck_reader_yields_boundedly();
    return unit_check_status();
}
