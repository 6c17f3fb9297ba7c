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
 * cache line stays shared) and tries the exchange when it reads free. After
 * WRITER_LOCK_SPINS rounds it yields the CPU each round, so that a holder
 * preempted by the scheduler gets a core back however many threads share
 * the cores (64 threads on 2 cores). Not fair: nobody starves anyway, since
 * the writes are combined (engine.c).
 *
 * Who may touch it: the engine (engine.c) only. Not recursive.
 */
#ifndef FWPM_CORE_WRITER_LOCK_H
#define FWPM_CORE_WRITER_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

/* The lock word: 0 free, 1 held. */
struct writer_lock {
    _Atomic unsigned held;
};

/* Pause rounds before a waiter starts yielding: about a microsecond, the
 * length of a long batch. */
#define WRITER_LOCK_SPINS 256u

/* One round of waiting: a pause while the wait is short, then a yield. */
static inline void writer_lock_backoff(unsigned round)
{
    if (round < WRITER_LOCK_SPINS) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

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

/* Takes the lock, spinning then yielding until it is free. */
static inline void writer_lock_acquire(struct writer_lock *l)
{
    for (unsigned round = 0; !writer_lock_try(l); round++)
        writer_lock_backoff(round);
}

/* Lets the lock go. Release: our writes are seen by the next holder (pairs
 * with the acquire exchange in writer_lock_try). */
static inline void writer_lock_release(struct writer_lock *l)
{
    atomic_store_explicit(&l->held, 0u, memory_order_release);
}

/* After fork, in the child (one thread): free. */
static inline void writer_lock_reset(struct writer_lock *l)
{
    atomic_store_explicit(&l->held, 0u, memory_order_relaxed);
}

#endif /* FWPM_CORE_WRITER_LOCK_H */
