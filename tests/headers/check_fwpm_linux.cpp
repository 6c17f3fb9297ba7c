/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_fwpm_linux.cpp - <fwpm_linux.h> on its own, compiled as C++11 and
 * C++17 with -Wall -Wextra -pedantic -Werror. Calls nothing, so it needs no
 * library.
 */
#include <fwpm_linux.h>

int main()
{
    FWPM_MEMORY_STATS0 stats = {};
    const FWPM_SESSION0 *s = nullptr; // fwpm_linux.h brings in fwpmu.h

    static_assert(sizeof(&fwpm_error_name) == sizeof(void (*)()), "function pointer");
    static_assert(sizeof(&fwpm_strerror) == sizeof(void (*)()), "function pointer");
    static_assert(sizeof(&fwpm_memory_stats) == sizeof(void (*)()), "function pointer");
    static_assert(sizeof(&fwpm_reclaim) == sizeof(void (*)()), "function pointer");
    static_assert(sizeof(&fwpm_allocator_name) == sizeof(void (*)()), "function pointer");
    return (s == nullptr && stats.liveBytes == 0) ? 0 : 1;
}
