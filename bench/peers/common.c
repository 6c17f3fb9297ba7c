/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common.c - the parts every peer engine shares (see common.h): accounting,
 * validation and session records, the handle table, snapshots, enumeration
 * handles and page arrays. Synchronisation of the session table itself is
 * each peer's own business; everything here is either lock-free or guarded by
 * the per-session spinlock.
 */
#include "common.h"

#include "identity.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- byte accounting ---------------------------------------------------- */

/* One block per thread, never freed: a block is written only by its thread
 * (relaxed load + store, no RMW) and summed by readers. */
struct acct {
    _Atomic int64_t bytes[PEER_COUNT];
    struct acct *next;
};
static _Atomic(struct acct *) acct_all;
static _Thread_local struct acct *acct_mine;

static void acct_add(enum peer_id peer, int64_t delta)
{
    struct acct *a = acct_mine;
    if (!a) {
        a = calloc(1, sizeof(*a));
        if (!a)
            abort();
        a->next = atomic_load_explicit(&acct_all, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&acct_all, &a->next, a, memory_order_release,
                                                      memory_order_relaxed))
            ;
        acct_mine = a;
    }
    int64_t v = atomic_load_explicit(&a->bytes[peer], memory_order_relaxed);
    atomic_store_explicit(&a->bytes[peer], v + delta, memory_order_relaxed);
}

uint64_t peer_bytes(enum peer_id peer)
{
    int64_t sum = 0;
    for (struct acct *a = atomic_load_explicit(&acct_all, memory_order_acquire); a; a = a->next)
        sum += atomic_load_explicit(&a->bytes[peer], memory_order_relaxed);
    return sum > 0 ? (uint64_t)sum : 0;
}

void *peer_malloc(enum peer_id peer, size_t size)
{
    void *p = malloc(size);
    if (p)
        acct_add(peer, (int64_t)malloc_usable_size(p));
    return p;
}

void *peer_calloc(enum peer_id peer, size_t size)
{
    void *p = calloc(1, size);
    if (p)
        acct_add(peer, (int64_t)malloc_usable_size(p));
    return p;
}

void *peer_realloc(enum peer_id peer, void *p, size_t size)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, size);
    if (q)
        acct_add(peer, (int64_t)malloc_usable_size(q) - (int64_t)old);
    return q;
}

void peer_free(enum peer_id peer, void *p)
{
    if (!p)
        return;
    acct_add(peer, -(int64_t)malloc_usable_size(p));
    free(p);
}

/* ---- spinlock ----------------------------------------------------------- */

void peer_spin_lock(peer_spinlock *l)
{
    for (;;) {
        if (!atomic_exchange_explicit(&l->held, true, memory_order_acquire))
            return;
        for (int i = 0; atomic_load_explicit(&l->held, memory_order_relaxed); i++)
            if (i > 64)
                sched_yield();
    }
}

void peer_spin_unlock(peer_spinlock *l)
{
    atomic_store_explicit(&l->held, false, memory_order_release);
}

/* ---- identity: what the engine fills in ----------------------------------
 * The core's own identity module (core/identity.h), so that every engine fills
 * in the same process id, SID and account name at the same cost: the process
 * id once (and after fork), the effective uid on every open, account names once
 * per uid. Its account cache is process-wide, shared with fwpm in the bench. */

#define PEER_MAX_STRING 32767

/* ---- GUIDs: a per-thread splitmix64 stream seeded from getrandom -------- */

static _Thread_local uint64_t rng_state;
static _Thread_local bool rng_seeded;

static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
            rng_state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rng_state;
        rng_seeded = true;
    }
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void peer_guid_random(GUID *g)
{
    uint64_t w[2] = {rng_next(), rng_next()};
    memcpy(g, w, sizeof(*g));
    g->Data3 = (uint16_t)((g->Data3 & 0x0FFF) | 0x4000);  /* version 4 */
    g->Data4[0] = (uint8_t)((g->Data4[0] & 0x3F) | 0x80); /* RFC 4122 variant */
}

bool peer_guid_equal(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(GUID)) == 0;
}

uint64_t peer_guid_hash(const GUID *g)
{
    uint64_t w[2];
    memcpy(w, g, sizeof(w));
    uint64_t h = w[0] * 0x9E3779B97F4A7C15ull ^ w[1];
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 32);
}

/* ---- session records ---------------------------------------------------- */

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

/* Length of an optional string, or SIZE_MAX if it is too long. */
static size_t string_length(const wchar_t *s)
{
    if (!s)
        return 0;
    size_t n = wcsnlen(s, PEER_MAX_STRING + 1);
    return n > PEER_MAX_STRING ? SIZE_MAX : n;
}

static wchar_t *string_place(char **cursor, const wchar_t *s, size_t len)
{
    if (!s)
        return NULL;
    wchar_t *d = (wchar_t *)*cursor;
    memcpy(d, s, len * sizeof(wchar_t));
    d[len] = L'\0';
    *cursor += (len + 1) * sizeof(wchar_t);
    return d;
}

DWORD peer_session_new(enum peer_id peer, const wchar_t *serverName, UINT32 authnService,
                       const FWPM_SESSION0 *session, HANDLE *engineHandle, size_t size,
                       struct peer_session **out)
{
    if (!engineHandle)
        return FWP_E_NULL_POINTER;
    if (serverName)
        return ERROR_INVALID_PARAMETER;
    if (authnService != RPC_C_AUTHN_WINNT && authnService != RPC_C_AUTHN_DEFAULT)
        return RPC_S_UNKNOWN_AUTHN_SERVICE;
    static const FWPM_SESSION0 anonymous;
    const FWPM_SESSION0 *in = session ? session : &anonymous;
    if (in->flags & ~FWPM_SESSION_FLAG_DYNAMIC)
        return FWP_E_INVALID_FLAGS;
    size_t ln = string_length(in->displayData.name);
    size_t ld = string_length(in->displayData.description);
    if (ln == SIZE_MAX || ld == SIZE_MAX)
        return FWP_E_INVALID_PARAMETER;
    struct identity who;
    if (!identity_of_caller(&who))
        return ERROR_NOT_ENOUGH_MEMORY;
    size_t lu = who.account->name_length;

    size_t head = align_up(size, _Alignof(max_align_t));
    size_t total = head + IDENTITY_SID_BYTES + (lu + 1) * sizeof(wchar_t);
    if (in->displayData.name)
        total += (ln + 1) * sizeof(wchar_t);
    if (in->displayData.description)
        total += (ld + 1) * sizeof(wchar_t);
    struct peer_session *s = peer_malloc(peer, total);
    if (!s)
        return ERROR_NOT_ENOUGH_MEMORY;
    memset(s, 0, size);

    char *cursor = (char *)s + head;
    SID *sid = (SID *)cursor;
    identity_write_sid(sid, who.uid);
    cursor += IDENTITY_SID_BYTES;

    FWPM_SESSION0 *p = &s->pub;
    static const GUID zero;
    p->sessionKey = in->sessionKey;
    s->generated_key = peer_guid_equal(&in->sessionKey, &zero);
    if (s->generated_key)
        peer_guid_random(&p->sessionKey);
    p->displayData.name = string_place(&cursor, in->displayData.name, ln);
    p->displayData.description = string_place(&cursor, in->displayData.description, ld);
    p->flags = in->flags;
    p->txnWaitTimeoutInMSec = in->txnWaitTimeoutInMSec;
    p->processId = who.process_id;
    p->sid = sid;
    p->username = string_place(&cursor, who.account->name, lu);
    p->kernelMode = FALSE;

    atomic_init(&s->refs, 1);
    s->peer = (uint8_t)peer;
    *out = s;
    return ERROR_SUCCESS;
}

void peer_session_release(struct peer_session *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        peer_free((enum peer_id)s->peer, s);
}

/* ---- handle table ------------------------------------------------------- */

struct peer_handle_slot {
    _Atomic uint64_t tag; /* (generation << 32) | (kind << 1) | live */
    _Atomic(void *) obj;
    _Atomic uint32_t next_free; /* index + 1 of the next free slot */
};

#define SLOTS_PER_CHUNK (1u << PEER_HT_CHUNK_BITS)

static struct peer_handle_slot *slot_lookup(struct peer_handle_table *t, uint32_t idx)
{
    uint32_t c = idx >> PEER_HT_CHUNK_BITS;
    if (c >= PEER_HT_CHUNKS)
        return NULL;
    struct peer_handle_slot *chunk = atomic_load_explicit(&t->chunks[c], memory_order_acquire);
    return chunk ? &chunk[idx & (SLOTS_PER_CHUNK - 1)] : NULL;
}

/* A never-used slot; its chunk is created on first use. */
static struct peer_handle_slot *slot_fresh(struct peer_handle_table *t, uint32_t *idx)
{
    uint32_t i = atomic_fetch_add_explicit(&t->fresh, 1, memory_order_relaxed);
    uint32_t c = i >> PEER_HT_CHUNK_BITS;
    if (c >= PEER_HT_CHUNKS)
        return NULL;
    struct peer_handle_slot *chunk = atomic_load_explicit(&t->chunks[c], memory_order_acquire);
    if (!chunk) {
        struct peer_handle_slot *mine =
            peer_calloc(t->peer, SLOTS_PER_CHUNK * sizeof(struct peer_handle_slot));
        if (!mine)
            return NULL;
        if (atomic_compare_exchange_strong_explicit(&t->chunks[c], &chunk, mine,
                                                    memory_order_acq_rel, memory_order_acquire))
            chunk = mine;
        else
            peer_free(t->peer, mine);
    }
    *idx = i;
    return &chunk[i & (SLOTS_PER_CHUNK - 1)];
}

HANDLE peer_handle_add(struct peer_handle_table *t, enum peer_handle_kind kind, void *obj)
{
    struct peer_handle_slot *s;
    uint32_t idx;
    uint64_t head = atomic_load_explicit(&t->free_head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (top == 0) {
            s = slot_fresh(t, &idx);
            if (!s)
                return NULL;
            break;
        }
        s = slot_lookup(t, top - 1);
        uint32_t next = atomic_load_explicit(&s->next_free, memory_order_relaxed);
        uint64_t new_head = (((head >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(&t->free_head, &head, new_head,
                                                  memory_order_acquire, memory_order_acquire)) {
            idx = top - 1;
            break;
        }
    }
    uint64_t gen = (atomic_load_explicit(&s->tag, memory_order_relaxed) >> 32) + 1;
    if ((uint32_t)gen == 0)
        gen = 1;
    gen &= 0xFFFFFFFFu;
    /* Release: a reader that sees obj also sees the slot's earlier death. */
    atomic_store_explicit(&s->obj, obj, memory_order_release);
    atomic_store_explicit(&s->tag, (gen << 32) | ((uint64_t)kind << 1) | 1u, memory_order_release);
    return (HANDLE)(uintptr_t)((gen << 32) | ((uint64_t)idx + 1));
}

static struct peer_handle_slot *slot_of_handle(struct peer_handle_table *t, HANDLE h,
                                               enum peer_handle_kind kind, uint64_t *expect)
{
    uint64_t v = (uint64_t)(uintptr_t)h;
    uint32_t low = (uint32_t)v;
    uint64_t gen = v >> 32;
    if (low == 0 || gen == 0)
        return NULL;
    *expect = (gen << 32) | ((uint64_t)kind << 1) | 1u;
    return slot_lookup(t, low - 1);
}

void *peer_handle_get(struct peer_handle_table *t, HANDLE h, enum peer_handle_kind kind)
{
    uint64_t expect;
    struct peer_handle_slot *s = slot_of_handle(t, h, kind, &expect);
    if (!s || atomic_load_explicit(&s->tag, memory_order_acquire) != expect)
        return NULL;
    void *obj = atomic_load_explicit(&s->obj, memory_order_acquire);
    /* Re-check: the slot may have died (and been reused) in between. */
    if (atomic_load_explicit(&s->tag, memory_order_acquire) != expect)
        return NULL;
    return obj;
}

bool peer_handle_remove(struct peer_handle_table *t, HANDLE h, enum peer_handle_kind kind)
{
    uint64_t expect;
    struct peer_handle_slot *s = slot_of_handle(t, h, kind, &expect);
    if (!s)
        return false;
    uint64_t dead = expect & ~0xFFFFFFFFull; /* same generation, not live */
    if (!atomic_compare_exchange_strong_explicit(&s->tag, &expect, dead, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return false;
    atomic_store_explicit(&s->obj, NULL, memory_order_relaxed);
    uint32_t idx = (uint32_t)(uintptr_t)h - 1;
    uint64_t head = atomic_load_explicit(&t->free_head, memory_order_relaxed);
    do {
        atomic_store_explicit(&s->next_free, (uint32_t)head, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&t->free_head, &head,
                                                    (((head >> 32) + 1) << 32) | (idx + 1u),
                                                    memory_order_release, memory_order_relaxed));
    return true;
}

/* ---- snapshots ---------------------------------------------------------- */

struct peer_snapshot *peer_snapshot_alloc(enum peer_id peer, size_t cap)
{
    struct peer_snapshot *snap =
        peer_malloc(peer, sizeof(*snap) + (cap ? cap : 1) * sizeof(FWPM_SESSION0 *));
    if (!snap)
        return NULL;
    atomic_init(&snap->refs, 1);
    snap->peer = (uint8_t)peer;
    snap->count = 0;
    snap->dispose = NULL;
    snap->newer = NULL;
    snap->retired = NULL;
    return snap;
}

struct peer_snapshot *peer_snapshot_copy(enum peer_id peer, struct peer_session *const *live,
                                         size_t n, bool pin_each)
{
    struct peer_snapshot *snap = peer_snapshot_alloc(peer, n);
    if (!snap)
        return NULL;
    /* pub is the first member: a record pointer is its entry pointer. */
    memcpy(snap->items, live, n * sizeof(*live));
    for (size_t i = 0; pin_each && i < n; i++)
        atomic_fetch_add_explicit(&live[i]->refs, 1, memory_order_relaxed);
    snap->count = n;
    return snap;
}

void peer_snapshot_release(struct peer_snapshot *snap)
{
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (snap->dispose) {
        snap->dispose(snap);
        return;
    }
    for (size_t i = 0; i < snap->count; i++)
        peer_session_release((struct peer_session *)snap->items[i]);
    peer_free((enum peer_id)snap->peer, snap);
}

/* ---- enumeration handles ------------------------------------------------ */

DWORD peer_check_enum_args(const FWPM_SESSION_ENUM_TEMPLATE0 *tmpl, HANDLE *enumHandle)
{
    if (!enumHandle)
        return FWP_E_NULL_POINTER;
    if (tmpl && tmpl->reserved != 0)
        return FWP_E_RESERVED;
    return ERROR_SUCCESS;
}

DWORD peer_enum_open(struct peer_handle_table *t, struct peer_session *owner,
                     struct peer_snapshot *snap, size_t size, HANDLE *enumHandle)
{
    struct peer_enum *e = peer_calloc(t->peer, size);
    if (!e) {
        peer_snapshot_release(snap);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    e->owner = owner;
    e->snap = snap;
    DWORD rc = ERROR_SUCCESS;
    peer_spin_lock(&owner->enum_lock);
    if (owner->closed) {
        rc = ERROR_INVALID_HANDLE;
    } else if (!(e->handle = peer_handle_add(t, PEER_HANDLE_ENUM, e))) {
        rc = ERROR_NOT_ENOUGH_MEMORY;
    } else {
        e->next = owner->enums;
        if (e->next)
            e->next->prev = e;
        owner->enums = e;
    }
    peer_spin_unlock(&owner->enum_lock);
    if (rc != ERROR_SUCCESS) {
        peer_enum_free(e);
        return rc;
    }
    *enumHandle = e->handle;
    return ERROR_SUCCESS;
}

DWORD peer_enum_lookup(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle,
                       struct peer_enum **out)
{
    struct peer_session *s = peer_handle_get(t, engineHandle, PEER_HANDLE_ENGINE);
    struct peer_enum *e = peer_handle_get(t, enumHandle, PEER_HANDLE_ENUM);
    if (!s || !e)
        return ERROR_INVALID_HANDLE;
    if (e->owner != s)
        return FWP_E_WRONG_SESSION;
    *out = e;
    return ERROR_SUCCESS;
}

bool peer_enum_detach(struct peer_handle_table *t, struct peer_enum *e)
{
    struct peer_session *s = e->owner;
    peer_spin_lock(&s->enum_lock);
    bool won = peer_handle_remove(t, e->handle, PEER_HANDLE_ENUM);
    if (won) {
        if (e->prev)
            e->prev->next = e->next;
        else
            s->enums = e->next;
        if (e->next)
            e->next->prev = e->prev;
    }
    peer_spin_unlock(&s->enum_lock);
    return won;
}

void peer_enum_free(struct peer_enum *e)
{
    enum peer_id peer = (enum peer_id)e->snap->peer;
    peer_snapshot_release(e->snap);
    peer_free(peer, e);
}

bool peer_session_close(struct peer_handle_table *t, struct peer_session *s, HANDLE engineHandle,
                        struct peer_enum **retired)
{
    peer_spin_lock(&s->enum_lock);
    if (!peer_handle_remove(t, engineHandle, PEER_HANDLE_ENGINE)) {
        peer_spin_unlock(&s->enum_lock);
        return false;
    }
    s->closed = true;
    struct peer_enum *list = s->enums;
    s->enums = NULL;
    /* Every handle on the list is live: detach removes under this lock. */
    for (struct peer_enum *e = list; e; e = e->next)
        peer_handle_remove(t, e->handle, PEER_HANDLE_ENUM);
    peer_spin_unlock(&s->enum_lock);
    *retired = list;
    return true;
}

/* ---- pages -------------------------------------------------------------- */

#define PEER_PAGE_MAGIC 0x5045455250414745ull /* "PEERPAGE" */

struct peer_page {
    uint64_t magic;
    struct peer_snapshot *snap; /* one reference: keeps the entries alive */
    FWPM_SESSION0 *items[];
};

DWORD peer_enum_page(struct peer_enum *e, UINT32 n, FWPM_SESSION0 ***entries, UINT32 *returned)
{
    struct peer_snapshot *snap = e->snap;
    struct peer_page *page = NULL;
    size_t cap = 0, k;
    size_t cur = atomic_load_explicit(&e->cursor, memory_order_relaxed);
    for (;;) {
        k = snap->count - cur;
        if (k > n)
            k = n;
        if (k == 0) {
            peer_free((enum peer_id)snap->peer, page);
            *entries = NULL;
            *returned = 0;
            return ERROR_SUCCESS;
        }
        if (k > cap) { /* only on the first pass: k never grows */
            page =
                peer_malloc((enum peer_id)snap->peer, sizeof(*page) + k * sizeof(page->items[0]));
            if (!page)
                return ERROR_NOT_ENOUGH_MEMORY;
            cap = k;
        }
        /* The snapshot is immutable; the cursor only orders the handouts. */
        if (atomic_compare_exchange_weak_explicit(&e->cursor, &cur, cur + k, memory_order_relaxed,
                                                  memory_order_relaxed))
            break;
    }
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    page->magic = PEER_PAGE_MAGIC;
    page->snap = snap;
    memcpy(page->items, snap->items + cur, k * sizeof(page->items[0]));
    *entries = page->items;
    *returned = (UINT32)k;
    return ERROR_SUCCESS;
}

void peer_free_memory(void **p)
{
    if (!p || !*p)
        return;
    struct peer_page *page = (struct peer_page *)((char *)*p - offsetof(struct peer_page, items));
    if (page->magic == PEER_PAGE_MAGIC) {
        enum peer_id peer = (enum peer_id)page->snap->peer;
        page->magic = 0;
        peer_snapshot_release(page->snap);
        peer_free(peer, page);
    }
    *p = NULL;
}
