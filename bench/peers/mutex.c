/*
 * mutex.c - the `mutex` peer: the straightforward port. One global pthread
 * mutex around everything; a snapshot copies the session array under it, and
 * every page request takes it too.
 */
#include "locked.h"

#include <pthread.h>

static pthread_mutex_t mutex_lock = PTHREAD_MUTEX_INITIALIZER;

static void mutex_acquire(void *lock)
{
    pthread_mutex_lock(lock);
}

static void mutex_release(void *lock)
{
    pthread_mutex_unlock(lock);
}

static struct locked_engine mutex_engine = {
    .peer = PEER_MUTEX,
    .lock = &mutex_lock,
    .lock_shared = mutex_acquire,
    .lock_exclusive = mutex_acquire,
    .unlock = mutex_release,
    .handles = {.peer = PEER_MUTEX},
};

LOCKED_PEER_DEFINE(mutex, mutex_engine, PEER_MUTEX);
