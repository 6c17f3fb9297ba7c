/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.h - a small harness for the plain-executable concurrency tests
 * (Criterion's runner does not survive ThreadSanitizer, so these have their
 * own main): start threads together, count failed checks, report.
 */
#ifndef FWPM_TESTS_STRESS_H
#define FWPM_TESTS_STRESS_H

#include <fwpm_linux.h>

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

/* Prints "name: N passed, N failed" and returns the exit status. */
int stress_report(const char *name, unsigned checks_run);

#endif
