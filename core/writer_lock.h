/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer_lock.h - the engine's writer lock: one word, taken by
 * test-and-test-and-set, waited for by spinning and then yielding the CPU,
 * never by sleeping in the kernel.
 *
 * Why not a mutex: a hold is one combined batch of writes (O(log n) path
 * copies each, no allocation in the common case), far shorter than a futex
 * sleep and wake; and a writer whose request is queued mostly waits for the
 * request's done flag, not for the lock. A waiter only reads the word (the
 * cache line stays shared) and tries the exchange when it reads free.
 *
 * How a wait goes (writer_lock_wait): WRITER_LOCK_SPINS pause rounds, then
 * WRITER_LOCK_YIELDS rounds that yield the CPU (a holder preempted by the
 * scheduler gets a core back), then sleeps until the next release. Only a
 * wait that long sleeps - many more threads than cores (64 on 2) - and only
 * then does a release pay for a wake. Not fair: nobody starves anyway, since
 * the writes are combined (engine.c).
 *
 * Who may touch it: the engine (engine.c) only. Not recursive.
 */
#ifndef FWPM_CORE_WRITER_LOCK_H
#define FWPM_CORE_WRITER_LOCK_H

#include "sanitizer.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

struct writer_lock {
    _Atomic unsigned held;     /* 0 free, 1 held */
    _Atomic unsigned sleepers; /* waiters asleep, or about to be */
    _Atomic unsigned releases; /* the futex word: bumped by a release that wakes */
};

/* Pause rounds before a waiter starts yielding: a few microseconds, longer
 * than a long batch. */
#define WRITER_LOCK_SPINS 256u

/* Yield rounds before a waiter sleeps. */
#define WRITER_LOCK_YIELDS 16u

/* Takes the lock if it is free; never waits. Acquire on success: the last
 * holder's writes are seen (pairs with the release in writer_lock_release). */
static inline bool writer_lock_try(struct writer_lock *l)
{
    /* Relaxed: only a hint; the exchange below decides. Reading first keeps
     * waiters from pulling the line exclusive while it is held. */
    if (atomic_load_explicit(&l->held, memory_order_relaxed) != 0)
        return false;
    return atomic_exchange_explicit(&l->held, 1u, memory_order_acquire) == 0;
}

/* Sleeps until a release after this call, unless the lock reads free or
 * *done (may be NULL) reads true once we are counted as a sleeper. */
static inline void writer_lock_sleep(struct writer_lock *l, const _Atomic bool *done)
{
    /* Relaxed: the futex compares it; a release that bumps it after this load
     * makes the wait return at once. */
    unsigned seen = atomic_load_explicit(&l->releases, memory_order_relaxed);
    /* Seq_cst: our count before our checks below, against the release's
     * store before its load of the count (writer_lock_release): either we see
     * the release, or it sees us and wakes us. */
    atomic_fetch_add_explicit(&l->sleepers, 1u, memory_order_seq_cst);
    /* Seq_cst: follows our increment in the single total order, so it sees
     * the release store of a releaser whose fence preceded the increment
     * (which may have read no sleepers). Done: relaxed, a shortcut only; the
     * caller re-checks it with acquire. */
    bool ready = atomic_load_explicit(&l->held, memory_order_seq_cst) == 0 ||
                 (done != NULL && atomic_load_explicit(done, memory_order_relaxed));
    if (!ready)
        syscall(SYS_futex, &l->releases, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    /* Relaxed: only a count; a stale one costs a needless wake. */
    atomic_fetch_sub_explicit(&l->sleepers, 1u, memory_order_relaxed);
}

/* One round of waiting for the lock (or for *done, which may be NULL):
 * round counts from 0 for each wait. */
static inline void writer_lock_wait(struct writer_lock *l, unsigned round, const _Atomic bool *done)
{
    if (round < WRITER_LOCK_SPINS) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else if (round < WRITER_LOCK_SPINS + WRITER_LOCK_YIELDS) {
        sched_yield();
    } else {
        writer_lock_sleep(l, done);
    }
}

/* Takes the lock, waiting until it is free. */
static inline void writer_lock_acquire(struct writer_lock *l)
{
    for (unsigned round = 0; !writer_lock_try(l); round++)
        writer_lock_wait(l, round, NULL);
}

/* Lets the lock go, and wakes the sleepers if there are any. */
static inline void writer_lock_release(struct writer_lock *l)
{
    /* Release: our writes are seen by the next holder (pairs with the acquire
     * exchange in writer_lock_try). */
    atomic_store_explicit(&l->held, 0u, memory_order_release);
    /* The store before the load of the count: pairs with the seq_cst
     * increment in writer_lock_sleep. */
    full_fence();
    /* Relaxed: ordered by the fence. */
    if (atomic_load_explicit(&l->sleepers, memory_order_relaxed) == 0)
        return;
    /* Relaxed: the futex word; the sleepers' checks use the lock word. */
    atomic_fetch_add_explicit(&l->releases, 1u, memory_order_relaxed);
    syscall(SYS_futex, &l->releases, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* After fork, in the child (one thread): free, nobody asleep. */
static inline void writer_lock_reset(struct writer_lock *l)
{
    atomic_store_explicit(&l->held, 0u, memory_order_relaxed);
    atomic_store_explicit(&l->sleepers, 0u, memory_order_relaxed);
    atomic_store_explicit(&l->releases, 0u, memory_order_relaxed);
}

#endif /* FWPM_CORE_WRITER_LOCK_H */
