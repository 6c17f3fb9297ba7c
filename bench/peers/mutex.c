/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mutex.c - the `mutex` peer: the straightforward port. One global pthread
 * mutex around everything; a snapshot copies the session array under it, and
 * every page request takes it too.
 */
#include "locked.h"

#include <pthread.h>

static pthread_mutex_t mutex_lock = PTHREAD_MUTEX_INITIALIZER;

static struct locked_engine mutex_engine = {
    .peer = PEER_MUTEX,
    .lock = &mutex_lock,
    .lock_shared = locked_mutex_lock,
    .lock_exclusive = locked_mutex_lock,
    .unlock = locked_mutex_unlock,
    .handles = {.peer = PEER_MUTEX},
};

LOCKED_PEER_DEFINE(mutex, mutex_engine, PEER_MUTEX);
