/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rcu.h - what the peers with lock-free pages (urcu, snapcache) share:
 * liburcu's memb flavour with lazy per-thread registration, and the
 * enumeration-handle functions whose objects live until a grace period after
 * their handle goes, so that FwpmSessionEnum0 takes no lock.
 */
#ifndef BENCH_PEERS_RCU_H
#define BENCH_PEERS_RCU_H

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* inline read-side primitives */
#endif
#include <urcu/urcu-memb.h>

#include "common.h"

/* Registers the calling thread with RCU once (unregistered at thread exit). */
void peer_rcu_register_slow(void);
extern _Thread_local bool peer_rcu_registered;

static inline void peer_rcu_enter(void)
{
    if (!peer_rcu_registered)
        peer_rcu_register_slow();
    urcu_memb_read_lock();
}

static inline void peer_rcu_leave(void)
{
    urcu_memb_read_unlock();
}

/* Waits until every callback queued so far has run. */
void peer_rcu_barrier(void);

/* An enumeration object freed a grace period after its handle goes. */
struct peer_rcu_enum {
    struct peer_enum base;
    struct rcu_head rcu;
};

/* peer_enum_free after a grace period: pages may still be reading e. */
void peer_rcu_enum_retire(struct peer_enum *e);
/* FwpmSessionEnum0 and FwpmSessionDestroyEnumHandle0 inside a read section,
 * for enumeration objects of type struct peer_rcu_enum. */
DWORD peer_rcu_enum(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle,
                    UINT32 numEntriesRequested, FWPM_SESSION0 ***entries,
                    UINT32 *numEntriesReturned);
DWORD peer_rcu_destroy_enum(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle);

#endif /* BENCH_PEERS_RCU_H */
