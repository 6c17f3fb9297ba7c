/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rcu.c - liburcu (memb flavour) for the peers with lock-free pages; see rcu.h.
 */
#include "rcu.h"

#include <pthread.h>
#include <stdlib.h>

_Thread_local bool peer_rcu_registered;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;
static pthread_key_t rcu_thread_key;

static void rcu_thread_exit(void *unused)
{
    (void)unused;
    urcu_memb_unregister_thread();
}

static void rcu_init(void)
{
    if (pthread_key_create(&rcu_thread_key, rcu_thread_exit) != 0)
        abort();
}

void peer_rcu_register_slow(void)
{
    pthread_once(&rcu_once, rcu_init);
    urcu_memb_register_thread();
    pthread_setspecific(rcu_thread_key, &peer_rcu_registered);
    peer_rcu_registered = true;
}

void peer_rcu_barrier(void)
{
    if (!peer_rcu_registered)
        peer_rcu_register_slow();
    urcu_memb_barrier();
}

static void enum_retired(struct rcu_head *head)
{
    peer_enum_free(&caa_container_of(head, struct peer_rcu_enum, rcu)->base);
}

void peer_rcu_enum_retire(struct peer_enum *e)
{
    urcu_memb_call_rcu(&((struct peer_rcu_enum *)e)->rcu, enum_retired);
}

DWORD peer_rcu_enum(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle,
                    UINT32 numEntriesRequested, FWPM_SESSION0 ***entries,
                    UINT32 *numEntriesReturned)
{
    if (!entries || !numEntriesReturned)
        return FWP_E_NULL_POINTER;
    struct peer_enum *e;
    peer_rcu_enter();
    DWORD rc = peer_enum_lookup(t, engineHandle, enumHandle, &e);
    if (rc == ERROR_SUCCESS)
        rc = peer_enum_page(e, numEntriesRequested, entries, numEntriesReturned);
    peer_rcu_leave();
    return rc;
}

DWORD peer_rcu_destroy_enum(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle)
{
    struct peer_enum *e;
    peer_rcu_enter();
    DWORD rc = peer_enum_lookup(t, engineHandle, enumHandle, &e);
    if (rc == ERROR_SUCCESS && !peer_enum_detach(t, e))
        rc = ERROR_INVALID_HANDLE;
    peer_rcu_leave();
    if (rc == ERROR_SUCCESS) /* concurrent pages may still read it */
        peer_rcu_enum_retire(e);
    return rc;
}
