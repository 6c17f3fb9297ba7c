/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unit_check.h - the checks of a plain unit-test executable (one that reaches
 * the library's internals without Criterion): each failed check is printed
 * and counted, and main returns unit_check_status() as its exit status.
 * Include it once, from the test's own file.
 */
#ifndef FWPM_TESTS_UNIT_CHECK_H
#define FWPM_TESTS_UNIT_CHECK_H

#include <stdbool.h>
#include <stdio.h>

static int unit_check_failures;

/* Records a failed check: prints what was expected and counts it. */
static inline void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAILED: %s\n", what);
        unit_check_failures++;
    }
}

/* The exit status: 0 when every check passed, else 1. */
static inline int unit_check_status(void)
{
    return unit_check_failures == 0 ? 0 : 1;
}

#endif /* FWPM_TESTS_UNIT_CHECK_H */
