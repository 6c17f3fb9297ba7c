/* SPDX-License-Identifier: BSD-2-Clause */
/* cycle.c - see cycle.h. */
#include "cycle.h"

#include <stdio.h>
#include <string.h>

static int failed(const char *what, DWORD status)
{
    fprintf(stderr, "session cycle: %s failed (%lu)\n", what, (unsigned long)status);
    return 1;
}

/* Pages through the handle two entries at a time; counts what it saw. */
static int page_all(const struct fwpm_calls *c, HANDLE engine, HANDLE e, UINT32 *seen)
{
    *seen = 0;
    for (;;) {
        FWPM_SESSION0 **entries = NULL;
        UINT32 n = 0;
        DWORD status = c->session_enum(engine, e, 2, &entries, &n);
        if (status != ERROR_SUCCESS)
            return failed("FwpmSessionEnum0", status);
        *seen += n;
        c->free_memory((void **)&entries);
        if (entries != NULL)
            return failed("FwpmFreeMemory0 (pointer not reset)", 0);
        if (n == 0)
            return 0;
    }
}

int link_session_cycle(const struct fwpm_calls *c)
{
    FWPM_SESSION0 session;
    memset(&session, 0, sizeof(session));
    session.displayData.name = L"link test";
    HANDLE engine = NULL, e = NULL;
    DWORD status = c->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &session, &engine);
    if (status != ERROR_SUCCESS)
        return failed("FwpmEngineOpen0", status);
    status = c->create_enum_handle(engine, NULL, &e);
    if (status != ERROR_SUCCESS)
        return failed("FwpmSessionCreateEnumHandle0", status);
    UINT32 seen;
    if (page_all(c, engine, e, &seen) != 0)
        return 1;
    if (seen == 0)
        return failed("the snapshot lists the open session", 0);
    status = c->destroy_enum_handle(engine, e);
    if (status != ERROR_SUCCESS)
        return failed("FwpmSessionDestroyEnumHandle0", status);
    status = c->engine_close(engine);
    if (status != ERROR_SUCCESS)
        return failed("FwpmEngineClose0", status);
    return 0;
}
