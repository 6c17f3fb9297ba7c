/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_wire.h - what fwpmd and its clients say to each other.
 *
 * The transport is D-Bus in direct peer-to-peer mode (sd-bus) over a Unix
 * stream socket. A connection carries any number of sessions of the process
 * that connected (the client pools connections: host_client.h); each call
 * names its session by the id the daemon issued on that connection, and an
 * id is valid only there. Object HOST_WIRE_PATH, interface
 * HOST_WIRE_INTERFACE (busctl --address=unix:path=SOCKET introspect); the
 * interface's number is the protocol version (2: session ids):
 *
 *   Open(ay key, u flags, u txnWaitTimeoutInMSec, u present,
 *        ay name, ay description) -> (u status, t session)
 *       present: bit 0 name given, bit 1 description given; strings are
 *       native wchar_t (UTF-32) without a terminator. Identity comes from
 *       the socket's peer credentials. session is 0 on failure.
 *   Close(t session) -> (u status)
 *   CreateEnum(t session) -> (u status, t enumHandle)
 *   Enum(t session, t enumHandle, u requested) -> (u status, ay page)
 *       at most HOST_WIRE_CHUNK_ENTRIES entries a reply, packed as below;
 *       fewer than asked means the enumeration is exhausted.
 *   Destroy(t session, t enumHandle) -> (u status)
 *   A session or enumeration id this connection does not hold (never
 *   issued, closed, or another connection's) answers ERROR_INVALID_HANDLE.
 *   Metrics() -> (s text)     Prometheus text exposition format
 *
 * A page (version 1, host byte order): struct host_wire_page, then count
 * entries, each a struct host_wire_entry followed by its name, description
 * and username characters (4 bytes each; HOST_WIRE_ABSENT: a NULL string).
 * The decoder trusts no length.
 */
#ifndef FWPM_CORE_HOST_WIRE_H
#define FWPM_CORE_HOST_WIRE_H

#include "fwpmu.h"

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#define HOST_WIRE_PATH "/org/fwpm/Engine"
#define HOST_WIRE_INTERFACE "org.fwpm.Engine2"
#define HOST_WIRE_VERSION 1u
#define HOST_WIRE_ABSENT UINT32_MAX
/* Entries a reply carries at most (a reply stays under ~1 MB of strings
 * for ordinary names; Enum requests bigger pages as several replies). */
#define HOST_WIRE_CHUNK_ENTRIES 8192u
/* Longest string accepted on the wire, in characters: one more than the
 * engine allows, so the engine's own check answers FWP_E_INVALID_PARAMETER. */
#define HOST_WIRE_STRING_MAX 32768u

#define HOST_WIRE_PRESENT_NAME 1u
#define HOST_WIRE_PRESENT_DESCRIPTION 2u

struct host_wire_page {
    uint32_t version;
    uint32_t count;
};

struct host_wire_entry {
    uint8_t key[16];
    uint32_t flags;
    uint32_t txn_wait_timeout;
    uint32_t process_id;
    uint32_t uid;
    uint32_t name_chars;
    uint32_t description_chars;
    uint32_t username_chars;
    uint32_t kernel_mode;
};

/* Bytes host_wire_encode needs for these entries. */
size_t host_wire_encoded_size(FWPM_SESSION0 *const *entries, size_t n);

/* Packs n entries into out (host_wire_encoded_size bytes); each entry's uid
 * is read from its SID. */
void host_wire_encode(FWPM_SESSION0 *const *entries, size_t n, void *out);

/* The uid of a Unix-user SID S-1-22-1-uid; (uint32_t)-1 when sid is not one. */
uint32_t host_wire_uid_of_sid(const SID *sid);

/* A decoded reply, checked: count entries at entries (unaligned bytes). */
struct host_wire_view {
    const unsigned char *entries;
    size_t bytes;
    uint32_t count;
    size_t chars; /* characters of all strings, terminators included */
};

/* Checks a page blob: version, count, every length within the blob.
 * false when malformed. */
bool host_wire_check(const void *blob, size_t bytes, struct host_wire_view *out);

#endif /* FWPM_CORE_HOST_WIRE_H */
