/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_fwpmu.c - <fwpmu.h> on its own is a complete client header: this file
 * includes nothing else and is built as C99, C11 and C17 with
 * -Wall -Wextra -pedantic -Werror (see CMakeLists.txt here). It uses the
 * types, constants and names the way Windows client code does; it calls
 * nothing, so it needs no library.
 */
#include <fwpmu.h>

static FWPM_SESSION0 session;
static FWPM_SESSION_ENUM_TEMPLATE enum_template;

static int is_fwp_error(DWORD result)
{
    return result >= FWP_E_CALLOUT_NOT_FOUND && result <= FWP_E_DROP_NOICMP;
}

int main(void)
{
    FWPM_SESSION *s = &session;
    HANDLE engine = NULL;
    UINT32 returned = 0;
    DWORD result = ERROR_SUCCESS;

    s->flags = FWPM_SESSION_FLAG_DYNAMIC;
    s->txnWaitTimeoutInMSec = INFINITE;
    s->displayData.name = (wchar_t *)L"check";
    s->kernelMode = FALSE;
    /* The functions are declared under both names; sizeof does not evaluate
     * its operand, so nothing needs to be linked. */
    (void)sizeof(&FwpmEngineOpen);
    (void)sizeof(&FwpmSessionEnum0);
    (void)sizeof(&FwpmFreeMemory);
    if (result == FWP_E_WRONG_SESSION || result == ERROR_INVALID_HANDLE ||
        result == RPC_S_UNKNOWN_AUTHN_SERVICE || is_fwp_error(result))
        return 1;
    return (engine == NULL && returned == 0 && enum_template.reserved == 0) ? 0 : 1;
}
