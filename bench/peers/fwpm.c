/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpm.c - fwpm itself in the bench's table of engines: the public API
 * functions as they are, plus fwpm_memory_stats/fwpm_reclaim for the memory
 * counters.
 */
#include <fwpm_linux.h>

#include "impl.h"

static uint64_t fwpm_bytes(void)
{
    FWPM_MEMORY_STATS0 st;
    if (fwpm_memory_stats(&st) != ERROR_SUCCESS)
        return 0;
    return st.liveBytes + st.infrastructureBytes;
}

const struct fwpm_impl fwpm_impl_fwpm = {
    .name = "fwpm",
    .engine_open = FwpmEngineOpen0,
    .engine_close = FwpmEngineClose0,
    .create_enum_handle = FwpmSessionCreateEnumHandle0,
    .session_enum = FwpmSessionEnum0,
    .destroy_enum_handle = FwpmSessionDestroyEnumHandle0,
    .free_memory = FwpmFreeMemory0,
    .reclaim = fwpm_reclaim,
    .memory_bytes = fwpm_bytes,
    .snapshot = "atomic",
};
