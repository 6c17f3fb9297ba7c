/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwptypes.h - Windows Filtering Platform value types (FWP_*), as in the
 * Windows SDK header of the same name. Only the types that the session API
 * needs are here; more are added as the API grows.
 */
#ifndef FWPTYPES_H
#define FWPTYPES_H

#include "fwpm_wintypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A counted block of bytes. */
typedef struct FWP_BYTE_BLOB_ {
    UINT32 size;
    UINT8 *data;
} FWP_BYTE_BLOB;

#ifdef __cplusplus
}
#endif

#endif /* FWPTYPES_H */
