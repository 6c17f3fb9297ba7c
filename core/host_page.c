/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_page.c - decoding fwpmd's pages into self-contained arrays.
 */
#include "host_page.h"

#include "enumeration.h"
#include "identity.h"
#include "page_arena.h"

#include <string.h>

/* Host-mode arrays live in the page arena like the in-process engine's, so
 * FwpmFreeMemory0 recognises them by the same range check; enumeration_free_page
 * frees them with page_arena_free(page, page->bytes). */
static struct page_header *host_page_alloc(size_t bytes)
{
    struct page_header *page = page_arena_alloc(bytes);
    if (page != NULL) {
        /* Relaxed: the array reaches another thread only through the client. */
        atomic_store_explicit(&page->magic, PAGE_MAGIC_HOST, memory_order_relaxed);
        page->source = NULL;
        page->bytes = bytes;
        page->incarnation = 0; /* unused: a host page pins nothing */
    }
    return page;
}

/* Copies one wire string into *tail and terminates it; NULL stays NULL. */
static const unsigned char *take_string(const unsigned char *at, uint32_t chars, wchar_t **field,
                                        wchar_t **tail)
{
    if (chars == HOST_WIRE_ABSENT) {
        *field = NULL;
        return at;
    }
    *field = *tail;
    memcpy(*tail, at, (size_t)chars * sizeof(wchar_t));
    (*tail)[chars] = 0;
    *tail += chars + 1;
    return at + (size_t)chars * sizeof(wchar_t);
}

/* Decodes one view's entries into records starting at *record. */
static void decode_view(const struct host_wire_view *v, FWPM_SESSION0 **pointers,
                        FWPM_SESSION0 *records, unsigned char *sids, wchar_t **tail)
{
    const unsigned char *at = v->entries;
    for (uint32_t i = 0; i < v->count; i++) {
        struct host_wire_entry e;
        memcpy(&e, at, sizeof(e));
        at += sizeof(e);
        FWPM_SESSION0 *r = &records[i];
        memcpy(&r->sessionKey, e.key, sizeof(e.key));
        r->flags = e.flags;
        r->txnWaitTimeoutInMSec = e.txn_wait_timeout;
        r->processId = e.process_id;
        r->kernelMode = (BOOL)e.kernel_mode;
        r->sid = (SID *)(sids + (size_t)i * IDENTITY_SID_BYTES);
        identity_write_sid(r->sid, (uid_t)e.uid);
        at = take_string(at, e.name_chars, &r->displayData.name, tail);
        at = take_string(at, e.description_chars, &r->displayData.description, tail);
        at = take_string(at, e.username_chars, &r->username, tail);
        pointers[i] = r;
    }
}

DWORD host_page_build(const struct host_wire_view *views, size_t n, FWPM_SESSION0 ***entries,
                      UINT32 *returned)
{
    size_t count = 0, chars = 0;
    for (size_t i = 0; i < n; i++) {
        count += views[i].count;
        chars += views[i].chars;
    }
    if (count == 0) {
        *entries = NULL;
        *returned = 0;
        return ERROR_SUCCESS;
    }
    /* Layout: header, pointers, records, SIDs (4-aligned), strings. */
    size_t bytes = sizeof(struct page_header) + count * sizeof(FWPM_SESSION0 *) +
                   count * sizeof(FWPM_SESSION0) + count * IDENTITY_SID_BYTES +
                   chars * sizeof(wchar_t);
    struct page_header *page = host_page_alloc(bytes);
    if (page == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    FWPM_SESSION0 **pointers = (FWPM_SESSION0 **)(page + 1);
    FWPM_SESSION0 *records = (FWPM_SESSION0 *)(pointers + count);
    unsigned char *sids = (unsigned char *)(records + count);
    wchar_t *tail = (wchar_t *)(sids + count * IDENTITY_SID_BYTES);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        decode_view(&views[i], pointers + done, records + done, sids + done * IDENTITY_SID_BYTES,
                    &tail);
        done += views[i].count;
    }
    *entries = pointers;
    *returned = (UINT32)count;
    return ERROR_SUCCESS;
}
