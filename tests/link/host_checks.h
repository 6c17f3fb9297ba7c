/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_checks.h - what every host program checks besides its own names: a
 * session cycle works, the program's malloc is still glibc's, and fwpm is
 * served by the allocator expected.
 */
#ifndef FWPM_TESTS_LINK_HOST_CHECKS_H
#define FWPM_TESTS_LINK_HOST_CHECKS_H

#include "cycle.h"
#include "host_malloc.h"

#include <fwpm_linux.h>
#include <stdio.h>
#include <string.h>

/* Runs the checks; returns how many failed (each reported on stderr). */
static inline int host_checks(const char *expected_allocator)
{
    struct fwpm_calls calls = link_calls_linked();
    int failures = link_session_cycle(&calls);
    if (!host_malloc_is_glibc()) {
        fprintf(stderr, "the host's malloc is not glibc's\n");
        failures++;
    }
    const char *allocator = fwpm_allocator_name();
    printf("allocator: %s\n", allocator);
    if (strcmp(allocator, expected_allocator) != 0) {
        fprintf(stderr, "fwpm is served by %s, not %s\n", allocator, expected_allocator);
        failures++;
    }
    return failures;
}

#endif /* FWPM_TESTS_LINK_HOST_CHECKS_H */
