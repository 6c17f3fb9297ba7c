/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * process.c - the fork child handler: a fresh engine for the child.
 *
 * The handler runs in the child, in the thread that called fork(), while it
 * is the child's only thread. It never waits and never allocates: it
 * re-initialises every mutex of the library, starts a fresh epoch domain,
 * empties the handle table's free list and slot caches, and marks the engine as not set up,
 * so that the first call in the child builds a fresh, empty engine
 * (engine_ready). Each module resets only its own state; the order below
 * does not matter, as nothing runs between the resets.
 *
 * The abandoned engine (the parent's sessions, snapshots, enumerations,
 * deferred frees, epoch records, counter sets) stays in the child's memory
 * and is never freed there: no thread of the child can be using it but
 * through arrays the parent had received, which keep their entries readable
 * that way, and nothing of the child's engine points into it. The leak is
 * bounded by what the parent's engine held at the fork, happens once per
 * fork, and costs no copy (the pages stay shared with the parent until
 * written). Freeing it is not possible safely: the parent's threads may have
 * left any structure half-changed.
 */
#include "process.h"

#include "engine.h"
#include "epoch.h"
#include "handles.h"
#include "identity.h"
#include "memory.h"
#include "session.h"

#include <pthread.h>

_Atomic uint64_t process_incarnation_now;

static pthread_once_t watch_once = PTHREAD_ONCE_INIT;

static void process_after_fork_in_child(void)
{
    atomic_store_explicit(&process_incarnation_now, process_incarnation() + 1,
                          memory_order_relaxed);
    memory_reset_after_fork();
    epoch_reset_after_fork();
    handles_reset_after_fork();
    identity_reset_after_fork();
    session_reset_after_fork();
    engine_reset_after_fork();
}

static void process_register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, process_after_fork_in_child);
}

void process_watch_forks(void)
{
    /* glibc's pthread_once is itself fork-safe: a once in progress in
     * another thread at the fork is started over in the child. */
    pthread_once(&watch_once, process_register_fork_handler);
}
