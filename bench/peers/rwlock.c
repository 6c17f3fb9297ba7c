/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rwlock.c - the `rwlock` peer: one pthread rwlock. Snapshots and pages are
 * readers and run in parallel; open, close and destroy are writers. The lock
 * prefers writers (glibc's PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), so a
 * stream of enumerations cannot starve opens and closes forever.
 */
#include "locked.h"

#include <pthread.h>

static pthread_rwlock_t rw_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

static void rw_shared(void *lock)
{
    pthread_rwlock_rdlock(lock);
}

static void rw_exclusive(void *lock)
{
    pthread_rwlock_wrlock(lock);
}

static void rw_release(void *lock)
{
    pthread_rwlock_unlock(lock);
}

static struct locked_engine rwlock_engine = {
    .peer = PEER_RWLOCK,
    .lock = &rw_lock,
    .lock_shared = rw_shared,
    .lock_exclusive = rw_exclusive,
    .unlock = rw_release,
    .handles = {.peer = PEER_RWLOCK},
};

LOCKED_PEER_DEFINE(rwlock, rwlock_engine, PEER_RWLOCK);
