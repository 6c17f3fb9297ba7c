/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.c - building and freeing session records.
 */
#include "session.h"

#include "container_of.h"
#include "identity.h"
#include "memory.h"

#include <string.h>
#include <sys/random.h>
#include <wchar.h>

/* Longest display string accepted, in characters (contract §2.1: longer ones are refused). */
#define SESSION_STRING_MAX 32767u

/* The largest record (two strings of SESSION_STRING_MAX) fits the record's
 * 32-bit size. */
_Static_assert(sizeof(struct session) + 2u * (SESSION_STRING_MAX + 1u) * sizeof(wchar_t) <=
                   UINT32_MAX,
               "record_bytes is 32 bits");

/* Per-thread generator for session keys (xoshiro256**, seeded from the
 * kernel). Keys need to be unique, not secret: the engine rejects duplicates. */
static _Thread_local uint64_t rng_state[4];
static _Thread_local bool rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        if (getrandom(rng_state, sizeof(rng_state), 0) != (ssize_t)sizeof(rng_state)) {
            /* No entropy source: fall back to address and time bits. */
            rng_state[0] = (uint64_t)(uintptr_t)&rng_state ^ 0x9E3779B97F4A7C15u;
            rng_state[1] = (uint64_t)(uintptr_t)&rng_seeded * 0xBF58476D1CE4E5B9u;
            rng_state[2] = 0x94D049BB133111EBu;
            rng_state[3] = 1;
        }
        rng_seeded = true;
    }
    uint64_t *s = rng_state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void session_reset_after_fork(void)
{
    rng_seeded = false;
}

static void generate_key(GUID *key)
{
    uint64_t hi = rng_next(), lo = rng_next();
    key->Data1 = (uint32_t)(hi >> 32);
    key->Data2 = (uint16_t)(hi >> 16);
    key->Data3 = (uint16_t)(((uint16_t)hi & 0x0FFFu) | 0x4000u); /* version 4 */
    memcpy(key->Data4, &lo, sizeof(key->Data4));
    key->Data4[0] = (uint8_t)((key->Data4[0] & 0x3Fu) | 0x80u); /* RFC 4122 variant */
}

bool session_key_is_zero(const GUID *key)
{
    static const GUID zero;
    return memcmp(key, &zero, sizeof(zero)) == 0;
}

void session_regenerate_key(struct session *s)
{
    generate_key(&s->view.sessionKey);
}

/* Characters in s, or SIZE_MAX when longer than SESSION_STRING_MAX. */
static size_t checked_length(const wchar_t *s)
{
    if (s == NULL)
        return 0;
    size_t n = wcsnlen(s, SESSION_STRING_MAX + 1);
    return n > SESSION_STRING_MAX ? SIZE_MAX : n;
}

/* Copies a string into the record's tail; returns where the next one goes. */
static unsigned char *place_string(unsigned char *at, const wchar_t *src, size_t length,
                                   wchar_t **dst)
{
    if (src == NULL) {
        *dst = NULL;
        return at;
    }
    *dst = (wchar_t *)at;
    memcpy(at, src, length * sizeof(wchar_t));
    (*dst)[length] = 0;
    return at + (length + 1) * sizeof(wchar_t);
}

DWORD session_create(const FWPM_SESSION0 *requested, const struct identity *peer,
                     struct session **out)
{
    static const FWPM_SESSION0 anonymous;
    if (requested == NULL)
        requested = &anonymous;
    if ((requested->flags & ~FWPM_SESSION_FLAG_DYNAMIC) != 0)
        return FWP_E_INVALID_FLAGS;
    const wchar_t *name = requested->displayData.name;
    const wchar_t *description = requested->displayData.description;
    size_t name_length = checked_length(name);
    size_t description_length = checked_length(description);
    if (name_length == SIZE_MAX || description_length == SIZE_MAX)
        return FWP_E_INVALID_PARAMETER;

    struct identity who;
    if (peer != NULL)
        who = *peer;
    else if (!identity_of_caller(&who))
        return ERROR_NOT_ENOUGH_MEMORY;

    /* One block: record, then the client's wide strings. The SID and the
     * account name are the account's (immortal, shared by its sessions). */
    size_t bytes = sizeof(struct session);
    if (name != NULL)
        bytes += (name_length + 1) * sizeof(wchar_t);
    if (description != NULL)
        bytes += (description_length + 1) * sizeof(wchar_t);

    struct session *s = memory_alloc(bytes, MEMORY_DATA);
    if (s == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    memset(s, 0, sizeof(*s));
    s->record_bytes = (uint32_t)bytes;
    atomic_init(&s->enums_lock, false);
    s->garbage.kind = GARBAGE_SESSION;

    FWPM_SESSION0 *v = &s->view;
    v->sessionKey = requested->sessionKey;
    if (session_key_is_zero(&v->sessionKey))
        generate_key(&v->sessionKey);
    v->flags = requested->flags;
    v->txnWaitTimeoutInMSec = requested->txnWaitTimeoutInMSec;
    v->processId = who.process_id;
    v->kernelMode = FALSE;

    v->sid = account_sid(who.account);
    v->username = (wchar_t *)who.account->name; /* the view's type is not const */

    unsigned char *tail = (unsigned char *)(s + 1);
    tail = place_string(tail, name, name_length, &v->displayData.name);
    place_string(tail, description, description_length, &v->displayData.description);

    *out = s;
    return ERROR_SUCCESS;
}

void session_free(struct session *s)
{
    memory_free(s, session_record_bytes(s), MEMORY_DATA);
}

void session_free_deferred(epoch_entry *entry)
{
    struct session *s = container_of(entry, struct session, retire);
    /* Acquire (the load and the exchange): pairs with the release store in
     * session_pin_for_close, and the exchange with the closing thread's in
     * session_unpin_after_close. The load skips the exchange for records
     * whose close has ended, or that were never pinned. */
    if (atomic_load_explicit(&s->close_pin, memory_order_acquire) != SESSION_UNPINNED &&
        atomic_exchange_explicit(&s->close_pin, SESSION_FREE_ON_UNPIN, memory_order_acq_rel) ==
            SESSION_PINNED)
        return; /* its closing thread is still at it: it frees the record */
    session_free(s);
}

void session_retire(struct session *s)
{
    epoch_retire(&s->retire, session_free_deferred);
}
