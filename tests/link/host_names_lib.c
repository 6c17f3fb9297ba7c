/* SPDX-License-Identifier: BSD-2-Clause */
/* host_names_lib.c - a host's shared library with fwpm's internal names: see
 * host_names.h. Default visibility: its calls go through the PLT, so they
 * would bind into fwpm if fwpm exported these names. */
#include "host_names.h"

int memory_alloc(void)
{
    return 201;
}

int handles_lookup(void)
{
    return 202;
}

int version_acquire_current(void)
{
    return 203;
}

int host_names_probe(void)
{
    return memory_alloc() == 201 && handles_lookup() == 202 && version_acquire_current() == 203 ? 0
                                                                                                : 1;
}
