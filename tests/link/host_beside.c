/*
 * host_beside.c - a program linked against fwpm (static or shared) and a host
 * shared library that defines memory_alloc, handles_lookup and
 * snapshot_acquire: the program's calls to them and the library's own calls
 * must reach the library's functions, not fwpm's (an archive member of fwpm
 * defining them would silently win over the shared library at link time),
 * and the program's malloc must stay glibc's.
 * Usage: host_beside [EXPECTED_ALLOCATOR]   (default "jemalloc")
 */
#include "cycle.h"
#include "host_malloc.h"
#include "host_names.h"

#include <fwpm_linux.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *expected = argc > 1 ? argv[1] : "jemalloc";
    struct fwpm_calls calls = link_calls_linked();
    int failures = link_session_cycle(&calls);
    if (memory_alloc() != 201 || handles_lookup() != 202 || snapshot_acquire() != 203) {
        fprintf(stderr, "the program's calls bound into fwpm\n");
        failures++;
    }
    if (host_names_probe() != 0) {
        fprintf(stderr, "the host library's calls bound into fwpm\n");
        failures++;
    }
    if (!host_malloc_is_glibc()) {
        fprintf(stderr, "the host's malloc is not glibc's\n");
        failures++;
    }
    printf("allocator: %s\n", fwpm_allocator_name());
    if (strcmp(fwpm_allocator_name(), expected) != 0) {
        fprintf(stderr, "fwpm is served by %s, not %s\n", fwpm_allocator_name(), expected);
        failures++;
    }
    printf("host_beside: %d passed, %d failed\n", failures == 0, failures != 0);
    return failures != 0;
}
