/* SPDX-License-Identifier: BSD-2-Clause */
/* A client of an installed fwpm: <fwpmu.h> alone, one session opened and closed. */
#include <fwpmu.h>

int main(void)
{
    HANDLE engine;
    if (FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &engine) != ERROR_SUCCESS)
        return 1;
    return FwpmEngineClose0(engine) == ERROR_SUCCESS ? 0 : 1;
}
