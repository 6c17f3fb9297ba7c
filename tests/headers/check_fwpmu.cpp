/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_fwpmu.cpp - <fwpmu.h> on its own, compiled as C++11 and C++17 with
 * -Wall -Wextra -pedantic -Werror: the C API must be usable from C++
 * (extern "C", no C-only constructs). Calls nothing, so it needs no library.
 */
#include <fwpmu.h>

namespace
{

FWPM_SESSION0 session;

bool is_fwp_error(DWORD result)
{
    return result >= FWP_E_CALLOUT_NOT_FOUND && result <= FWP_E_DROP_NOICMP;
}

} // namespace

int main()
{
    FWPM_SESSION *s = &session;
    FWPM_SESSION_ENUM_TEMPLATE enum_template = {};
    HANDLE engine = nullptr;
    DWORD result = ERROR_SUCCESS;

    s->flags = FWPM_SESSION_FLAG_DYNAMIC;
    s->txnWaitTimeoutInMSec = INFINITE;
    s->displayData.name = const_cast<wchar_t *>(L"check");
    s->kernelMode = FALSE;
    // Declared with C linkage under both names; unevaluated, so not linked.
    static_assert(sizeof(&FwpmEngineOpen) == sizeof(void (*)()), "function pointer");
    static_assert(sizeof(&FwpmSessionEnum0) == sizeof(void (*)()), "function pointer");
    static_assert(sizeof(&FwpmFreeMemory) == sizeof(void (*)()), "function pointer");
    if (result == FWP_E_WRONG_SESSION || result == ERROR_INVALID_HANDLE ||
        result == RPC_S_UNKNOWN_AUTHN_SERVICE || is_fwp_error(result))
        return 1;
    return (engine == nullptr && enum_template.reserved == 0) ? 0 : 1;
}
