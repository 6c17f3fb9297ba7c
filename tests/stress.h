/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.h - a small harness for the plain-executable concurrency tests
 * (Criterion's runner does not survive ThreadSanitizer, so these have their
 * own main): start threads together, count failed checks, report.
 */
#ifndef FWPM_TESTS_STRESS_H
#define FWPM_TESTS_STRESS_H

#include "checker.h" /* perf/checker.h: the invariants, shared with fwpm-stress */

#include <fwpm_linux.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records a failed check (thread-safe); prints the first few. */
void stress_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define STRESS_CHECK(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            stress_fail(__FILE__, __LINE__, __VA_ARGS__);                                          \
    } while (0)

/* Runs fn(i, arg) on n threads that start at the same moment; joins them. */
void stress_run(unsigned n, void (*fn)(unsigned index, void *arg), void *arg);

/* Library memory after reclamation. */
UINT64 stress_live_bytes(void);

/* n scaled by FWPM_STRESS_SCALE (a positive factor; default 1), at least 1. */
unsigned stress_scaled(unsigned n);

/* The thread count given as the program's first argument, or `fallback`
 * when there is none; false (after a usage line naming `what`) when it is
 * not a number from 1 to max. */
bool stress_thread_arg(int argc, char **argv, const char *what, unsigned max, unsigned fallback,
                       unsigned *count);

/* Sets the engine up and returns the memory baseline to come back to. */
UINT64 stress_baseline(void);

/* Checks that library memory is back at the baseline. */
void stress_expect_baseline(UINT64 baseline);

/* A per-thread pseudo-random generator. */
static inline uint64_t stress_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Opens a session named name (asserting success through STRESS_CHECK). */
HANDLE stress_open(const wchar_t *name);

/* Opens a session as *s describes (NULL: anonymous), asserting success. */
HANDLE stress_open_session(const FWPM_SESSION0 *s);

/* Closes an engine handle (asserting success through STRESS_CHECK). */
void stress_close(HANDLE engine);

/* ---- observations checked with perf/checker.h ------------------------------ */

/* The world of checker.h for this process: writer chains w0..w(writers-1),
 * standing sessions p0..p(standing-1), `anonymous` anonymous sessions, and
 * this process's pid, effective uid and account name. Free it with
 * stress_world_destroy. Exits on out of memory. */
void stress_world_init(struct checker_world *world, unsigned writers, unsigned standing,
                       unsigned anonymous);
void stress_world_destroy(struct checker_world *world);

/* Opens standing session p<index> of checker.h's world (asserting success). */
HANDLE stress_open_standing(unsigned index);

/* Fails the run (through stress_fail) if the log holds any violation, with
 * its kept descriptions. */
void stress_expect_no_violations(const struct violations *log);

/* A writer chain of checker.h: writer w opens generation g+1 before it closes
 * g, so at every instant it has {g} or {g, g+1} open; `begun` and `done` are
 * the checker_state() it has started and completed, for the bounds of
 * snapshot_check_end. Only its writer thread steps it; any thread may read
 * the bounds. */
struct stress_chain {
    alignas(64) _Atomic uint64_t begun; /* written by the writer only */
    _Atomic uint64_t done;              /* written by the writer only */
    unsigned writer;
    uint64_t generation; /* the writer's own: the open generation (or lower of two) */
    HANDLE current;      /* the writer's own: generation `generation` */
};

/* Opens generation 0 of writer w's chain: call it before any snapshot that
 * must show the chain is taken. */
void stress_chain_start(struct stress_chain *chain, unsigned writer);

/* One step: opens generation g+1, then closes g (asserting both). */
void stress_chain_step(struct stress_chain *chain);

/* Closes the chain's last generation. */
void stress_chain_end(struct stress_chain *chain);

/* The lower bound of each chain's state for a snapshot requested after this
 * call: what each writer had completed (read before FwpmSessionCreateEnumHandle0). */
void stress_chains_done(const struct stress_chain *chains, unsigned n, uint64_t *lo);

/* The upper bound for a snapshot whose FwpmSessionCreateEnumHandle0 returned
 * before this call: what each writer had begun (read after it returned). */
void stress_chains_begun(const struct stress_chain *chains, unsigned n, uint64_t *hi);

/* Prints "name: N passed, N failed" and returns the exit status. */
int stress_report(const char *name, unsigned checks_run);

#endif
