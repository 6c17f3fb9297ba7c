/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * process.h - the process the engine belongs to.
 *
 * Sessions belong to the process that opened them (on Windows a session ends
 * with its process). fork() copies only the calling thread, so in the child
 * every lock another thread held stays held, and every epoch record of
 * another thread stays inside its section, for ever. The child therefore
 * does not inherit the engine: a pthread_atfork child handler gives it a
 * fresh one, and the parent's engine is abandoned in the child's memory.
 *
 * The incarnation names the engine of this process: 0 where the library was
 * loaded, one more in each fork child (so a grandchild differs from its
 * parent and from its grandparent). Objects that outlive the fork in the
 * child's memory record the incarnation that made them (handle slots, arrays
 * returned to the caller), and are recognised as the abandoned engine's.
 * It is 64 bits wide: it never wraps.
 *
 * There is no prepare handler: fork() never waits for anything of fwpm's
 * (writers, readers, reclamation), whatever the other threads are doing.
 */
#ifndef FWPM_CORE_PROCESS_H
#define FWPM_CORE_PROCESS_H

#include <stdatomic.h>
#include <stdint.h>

/* Written only by the child handler, while the child has one thread, before
 * any thread of it can read it: relaxed loads suffice everywhere. */
extern _Atomic uint64_t process_incarnation_now;

/* This process's incarnation. Any thread, wait-free. */
static inline uint64_t process_incarnation(void)
{
    return atomic_load_explicit(&process_incarnation_now, memory_order_relaxed);
}

/* Registers the fork child handler, once per process. Call before taking
 * any lock of the library's (engine set-up does): a lock can only be held at
 * a fork once the handler that re-initialises it is in place. */
void process_watch_forks(void);

#endif /* FWPM_CORE_PROCESS_H */
