/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refcount.h - reference counts that never come back from zero.
 *
 * Once a count has dropped to zero its object is on its way out: a holder
 * may only take a new reference while the count is still positive. Used by
 * versions, the host client's sessions and connections, and enumerations,
 * whose count shares a word with their cursor (refcount_release_field).
 * Any thread.
 */
#ifndef FWPM_CORE_REFCOUNT_H
#define FWPM_CORE_REFCOUNT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* One more reference unless the last one is gone. The caller must keep the
 * counter's memory alive by other means (an epoch section, or a reference).
 * Acquire: the holder's reads of the object come after the increment, so a
 * reclaimer that later reads a count of 0 (acquire, pairing with the release
 * half of refcount_release) finds them done. */
static inline bool refcount_try_acquire(_Atomic uint64_t *refs)
{
    uint64_t n = atomic_load_explicit(refs, memory_order_relaxed);
    while (n != 0) {
        if (atomic_compare_exchange_weak_explicit(refs, &n, n + 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
    return false;
}

/* Drops a reference from a count kept in the bits of *word from `one` up
 * (`one`, a power of two, is the value of one reference; the bits below
 * are the caller's and are left alone); true when it was the last one.
 * Acq_rel: every holder's accesses happen before whatever the last releaser
 * does next (release half: pairs with the acquire half of the last
 * releaser's decrement, or with the reclaimer's acquire load of the count). */
static inline bool refcount_release_field(_Atomic uint64_t *word, uint64_t one)
{
    return atomic_fetch_sub_explicit(word, one, memory_order_acq_rel) / one == 1;
}

/* Drops a reference; true when it was the last one (ordering as above). */
static inline bool refcount_release(_Atomic uint64_t *refs)
{
    return refcount_release_field(refs, 1);
}

#endif /* FWPM_CORE_REFCOUNT_H */
