/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * garbage.h - the header every object that versions share carries.
 *
 * Versions of the set share their chunks and sessions. An object that a write
 * drops from the newest version is still part of every older version back to
 * the one that created it (its birth). It may be freed once no live version
 * in that range remains; until then it waits on a list hanging off the newest
 * live version in its range. Only the writer touches these fields.
 */
#ifndef FWPM_CORE_GARBAGE_H
#define FWPM_CORE_GARBAGE_H

#include <stdint.h>

enum garbage_kind {
    GARBAGE_CHUNK = 1,
    GARBAGE_SESSION = 2,
};

struct garbage {
    uint64_t birth; /* version number of the write that created the object */
    struct garbage *next;
    uint8_t kind;
};

#endif /* FWPM_CORE_GARBAGE_H */
