/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_wire.c - packing and checking the pages fwpmd sends (format: host_wire.h).
 */
#include "host_wire.h"

#include <stdbool.h>
#include <string.h>
#include <wchar.h>

static uint32_t chars_of(const wchar_t *s)
{
    return s == NULL ? HOST_WIRE_ABSENT : (uint32_t)wcslen(s);
}

static size_t string_bytes(uint32_t chars)
{
    return chars == HOST_WIRE_ABSENT ? 0 : (size_t)chars * sizeof(uint32_t);
}

size_t host_wire_encoded_size(FWPM_SESSION0 *const *entries, size_t n)
{
    size_t bytes = sizeof(struct host_wire_page) + n * sizeof(struct host_wire_entry);
    for (size_t i = 0; i < n; i++) {
        const FWPM_SESSION0 *s = entries[i];
        bytes += string_bytes(chars_of(s->displayData.name)) +
                 string_bytes(chars_of(s->displayData.description)) +
                 string_bytes(chars_of(s->username));
    }
    return bytes;
}

uint32_t host_wire_uid_of_sid(const SID *sid)
{
    if (sid == NULL || sid->Revision != 1 || sid->SubAuthorityCount != 2 ||
        sid->IdentifierAuthority.Value[5] != 22)
        return UINT32_MAX;
    DWORD sub[2];
    memcpy(sub, (const unsigned char *)sid + offsetof(SID, SubAuthority), sizeof(sub));
    return sub[0] == 1 ? sub[1] : UINT32_MAX;
}

static unsigned char *put_string(unsigned char *at, const wchar_t *s, uint32_t chars)
{
    size_t n = string_bytes(chars);
    if (n > 0) /* an absent string is NULL: no memcpy from it */
        memcpy(at, s, n);
    return at + n;
}

void host_wire_encode(FWPM_SESSION0 *const *entries, size_t n, void *out)
{
    struct host_wire_page page = {HOST_WIRE_VERSION, (uint32_t)n};
    unsigned char *at = out;
    memcpy(at, &page, sizeof(page));
    at += sizeof(page);
    for (size_t i = 0; i < n; i++) {
        const FWPM_SESSION0 *s = entries[i];
        struct host_wire_entry e;
        memcpy(e.key, &s->sessionKey, sizeof(e.key));
        e.flags = s->flags;
        e.txn_wait_timeout = s->txnWaitTimeoutInMSec;
        e.process_id = s->processId;
        e.uid = host_wire_uid_of_sid(s->sid);
        e.name_chars = chars_of(s->displayData.name);
        e.description_chars = chars_of(s->displayData.description);
        e.username_chars = chars_of(s->username);
        e.kernel_mode = (uint32_t)s->kernelMode;
        memcpy(at, &e, sizeof(e));
        at += sizeof(e);
        at = put_string(at, s->displayData.name, e.name_chars);
        at = put_string(at, s->displayData.description, e.description_chars);
        at = put_string(at, s->username, e.username_chars);
    }
}

/* Adds one string's bytes to *need; false when it exceeds the wire limit. */
static bool add_string(uint32_t chars, size_t *need, size_t *total_chars)
{
    if (chars == HOST_WIRE_ABSENT)
        return true;
    if (chars > HOST_WIRE_STRING_MAX)
        return false;
    *need += (size_t)chars * sizeof(uint32_t);
    *total_chars += (size_t)chars + 1;
    return true;
}

bool host_wire_check(const void *blob, size_t bytes, struct host_wire_view *out)
{
    struct host_wire_page page;
    if (blob == NULL || bytes < sizeof(page))
        return false;
    memcpy(&page, blob, sizeof(page));
    if (page.version != HOST_WIRE_VERSION || page.count > HOST_WIRE_CHUNK_ENTRIES)
        return false;
    const unsigned char *at = (const unsigned char *)blob + sizeof(page);
    size_t left = bytes - sizeof(page);
    size_t total_chars = 0;
    for (uint32_t i = 0; i < page.count; i++) {
        struct host_wire_entry e;
        if (left < sizeof(e))
            return false;
        memcpy(&e, at, sizeof(e));
        size_t need = sizeof(e);
        if (!add_string(e.name_chars, &need, &total_chars) ||
            !add_string(e.description_chars, &need, &total_chars) ||
            !add_string(e.username_chars, &need, &total_chars) ||
            e.username_chars == HOST_WIRE_ABSENT)
            return false;
        if (left < need)
            return false;
        at += need;
        left -= need;
    }
    if (left != 0)
        return false;
    out->entries = (const unsigned char *)blob + sizeof(page);
    out->bytes = bytes - sizeof(page);
    out->count = page.count;
    out->chars = total_chars;
    return true;
}
