/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_beside.c - a program linked against fwpm (static or shared) and a host
 * shared library that defines memory_alloc, handles_lookup and
 * version_acquire_current: the program's calls to them and the library's own calls
 * must reach the library's functions, not fwpm's (an archive member of fwpm
 * defining them would silently win over the shared library at link time),
 * and the program's malloc must stay glibc's.
 * Usage: host_beside [EXPECTED_ALLOCATOR]   (default "jemalloc")
 */
#include "host_checks.h"
#include "host_names.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    const char *expected = argc > 1 ? argv[1] : "jemalloc";
    int failures = host_checks(expected);
    if (memory_alloc() != 201 || handles_lookup() != 202 || version_acquire_current() != 203) {
        fprintf(stderr, "the program's calls bound into fwpm\n");
        failures++;
    }
    if (host_names_probe() != 0) {
        fprintf(stderr, "the host library's calls bound into fwpm\n");
        failures++;
    }
    printf("host_beside: %d passed, %d failed\n", failures == 0, failures != 0);
    return failures != 0;
}
