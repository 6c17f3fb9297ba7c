/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_page_hold.c - a page copies outside the epoch section: what
 * enumeration_page_hold takes inside it keeps the snapshot on its own. With
 * the hold taken, the handle destroyed, its sessions closed and a full
 * reclaim run (which frees everything no reference keeps), the fill still
 * copies every entry of the snapshot, and the entries still read as the
 * sessions they were. Plain executable: exits non-zero on the first failed
 * check (under ASan, a freed snapshot would also be a use after free).
 */
#include "enumeration.h"
#include "epoch.h"
#include "fwpm_linux.h"
#include "fwpmu.h"

#include "unit_check.h"

#include <stdio.h>
#include <string.h>

enum { SESSIONS = 3 };

int main(void)
{
    HANDLE h[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        check(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &h[i]) == ERROR_SUCCESS, "open");
    }
    HANDLE e;
    check(FwpmSessionCreateEnumHandle0(h[0], NULL, &e) == ERROR_SUCCESS, "create");

    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        return 1;
    struct page_hold hold;
    check(enumeration_page_hold(h[0], e, 0xFFFFFFFFu, &hold) == ERROR_SUCCESS, "hold");
    epoch_exit(record);
    check(hold.page != NULL && hold.count == SESSIONS, "the hold is for every entry");

    /* Everything else that kept the snapshot goes. */
    check(FwpmSessionDestroyEnumHandle0(h[0], e) == ERROR_SUCCESS, "destroy");
    for (int i = 1; i < SESSIONS; i++)
        check(FwpmEngineClose0(h[i]) == ERROR_SUCCESS, "close");
    fwpm_reclaim();

    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    enumeration_page_fill(&hold, &entries, &n);
    check(n == SESSIONS, "the fill copies the whole snapshot");
    unsigned own = 0;
    for (UINT32 i = 0; i < n; i++)
        if (entries[i]->processId == entries[0]->processId && entries[i]->sid != NULL)
            own++;
    check(own == n, "every entry still reads as a session of this process");
    FwpmFreeMemory0((void **)&entries);
    check(FwpmEngineClose0(h[0]) == ERROR_SUCCESS, "close the last");
    fwpm_reclaim();
    FWPM_MEMORY_STATS0 st;
    check(fwpm_memory_stats(&st) == ERROR_SUCCESS && st.openSessions == 0 && st.liveSnapshots == 1,
          "all gone but the current (empty) version");
    return unit_check_status();
}
