/*
 * host_checks.h - what every host program checks besides its own names: a
 * session cycle works, the program's malloc is still glibc's, and fwpm is
 * served by the allocator expected.
 */
#ifndef FWPM_TESTS_LINK_HOST_CHECKS_H
#define FWPM_TESTS_LINK_HOST_CHECKS_H

#include "cycle.h"

#include <fwpm_linux.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is the program's malloc glibc's? A 64 KiB block (below glibc's mmap
 * threshold) from glibc's malloc grows glibc's arena count
 * mallinfo2().uordblks; from any other malloc (jemalloc's) it does not. */
static inline int host_malloc_is_glibc(void)
{
    size_t before = mallinfo2().uordblks;
    void *volatile p = malloc(64 * 1024);
    size_t after = mallinfo2().uordblks;
    free(p);
    return p != NULL && after >= before + 64 * 1024;
}

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
