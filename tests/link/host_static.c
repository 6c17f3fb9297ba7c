/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_static.c - a host linked against libfwpm.a that defines its own
 * memory_alloc, handles_lookup and version_acquire_current (names fwpm uses inside):
 * it must link (no "multiple definition"), keep its own functions and
 * glibc's malloc, and run a session cycle with fwpm served by jemalloc.
 * Usage: host_static [EXPECTED_ALLOCATOR]   (default "jemalloc")
 */
#include "host_checks.h"
#include "host_names.h"

#include <stdio.h>

int memory_alloc(void)
{
    return 101;
}

int handles_lookup(void)
{
    return 102;
}

int version_acquire_current(void)
{
    return 103;
}

int main(int argc, char **argv)
{
    const char *expected = argc > 1 ? argv[1] : "jemalloc";
    int failures = host_checks(expected);
    if (memory_alloc() != 101 || handles_lookup() != 102 || version_acquire_current() != 103) {
        fprintf(stderr, "the host's own functions are not the host's\n");
        failures++;
    }
    printf("host_static: %d passed, %d failed\n", failures == 0, failures != 0);
    return failures != 0;
}
