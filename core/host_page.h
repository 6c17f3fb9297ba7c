/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_page.h - the arrays FwpmSessionEnum0 returns in host mode.
 *
 * One block per page: a struct page_header (PAGE_MAGIC_HOST), the pointer
 * array the caller sees, the FWPM_SESSION0 records, their SIDs and strings —
 * deep copies of what fwpmd sent, so the array stays valid after the
 * enumeration handle, the session or the daemon itself is gone. Freed by
 * FwpmFreeMemory0 (enumeration_free_page). Any thread.
 */
#ifndef FWPM_CORE_HOST_PAGE_H
#define FWPM_CORE_HOST_PAGE_H

#include "host_wire.h"

/* Builds one array from n checked replies (host_wire_check) holding total
 * entries in all. ERROR_NOT_ENOUGH_MEMORY or ERROR_SUCCESS; total == 0
 * gives *entries = NULL. */
DWORD host_page_build(const struct host_wire_view *views, size_t n, FWPM_SESSION0 ***entries,
                      UINT32 *returned);

#endif /* FWPM_CORE_HOST_PAGE_H */
