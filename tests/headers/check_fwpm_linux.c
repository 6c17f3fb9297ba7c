/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_fwpm_linux.c - <fwpm_linux.h> (fwpm's Linux additions) on its own,
 * built as C99, C11 and C17 with -Wall -Wextra -pedantic -Werror. Calls
 * nothing, so it needs no library.
 */
#include <fwpm_linux.h>

static FWPM_MEMORY_STATS0 stats;

int main(void)
{
    FWPM_SESSION0 *s = 0; /* fwpm_linux.h brings in fwpmu.h */

    (void)sizeof(&fwpm_error_name);
    (void)sizeof(&fwpm_strerror);
    (void)sizeof(&fwpm_memory_stats);
    (void)sizeof(&fwpm_reclaim);
    (void)sizeof(&fwpm_allocator_name);
    return (s == 0 && stats.liveBytes == 0 && stats.openSessions == 0) ? 0 : 1;
}
