/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_malloc.h - is the program's malloc still glibc's?
 */
#ifndef FWPM_TESTS_LINK_HOST_MALLOC_H
#define FWPM_TESTS_LINK_HOST_MALLOC_H

#include <malloc.h>
#include <stdlib.h>

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

#endif /* FWPM_TESTS_LINK_HOST_MALLOC_H */
