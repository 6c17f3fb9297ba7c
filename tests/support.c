/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * support.c - helpers shared by the Criterion suites.
 */
#include "support.h"

#include "epoch.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

HANDLE open_session(void)
{
    HANDLE h = NULL;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &h), ERROR_SUCCESS);
    cr_assert_not_null(h);
    return h;
}

HANDLE open_named(const wchar_t *name, const wchar_t *description)
{
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = (wchar_t *)name;
    s.displayData.description = (wchar_t *)description;
    HANDLE h = NULL;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h), ERROR_SUCCESS);
    return h;
}

void close_session(HANDLE engine)
{
    cr_assert_eq(FwpmEngineClose0(engine), ERROR_SUCCESS);
}

size_t enumerate_keys(HANDLE engine, UINT32 page_size, bool stop_on_short, GUID *keys, size_t max)
{
    HANDLE e = NULL;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(engine, NULL, &e), ERROR_SUCCESS);
    size_t total = 0;
    for (;;) {
        FWPM_SESSION0 **entries = NULL;
        UINT32 n = 12345;
        cr_assert_eq(FwpmSessionEnum0(engine, e, page_size, &entries, &n), ERROR_SUCCESS);
        cr_assert_leq(n, page_size);
        if (n == 0)
            cr_assert_null(entries);
        for (UINT32 i = 0; i < n; i++) {
            if (total < max)
                keys[total] = entries[i]->sessionKey;
            total++;
        }
        FwpmFreeMemory0((void **)&entries);
        cr_assert_null(entries);
        if (n == 0 || (stop_on_short && n < page_size))
            break;
    }
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(engine, e), ERROR_SUCCESS);
    return total;
}

bool contains_key(const GUID *keys, size_t n, const GUID *key)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&keys[i], key, sizeof(*key)) == 0)
            return true;
    return false;
}

/* After fwpm_reclaim, the library's background reclaimer may still be
 * finishing a round it started before (its callbacks recycle version roots,
 * its idle hook then frees them): wait (bounded, for a condition) until it
 * rests and two reclaimed readings agree. A real leak is stable and shows. */
UINT64 live_bytes_now(void)
{
    FWPM_MEMORY_STATS0 st;
    UINT64 previous = UINT64_MAX;
    for (int tries = 0; tries < 10000; tries++) {
        fwpm_reclaim();
        cr_assert_eq(fwpm_memory_stats(&st), ERROR_SUCCESS);
        if (st.liveBytes == previous && epoch_reclaimer_resting())
            break;
        previous = st.liveBytes;
        sched_yield();
    }
    return st.liveBytes;
}
