/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common.h - what the peer engines (mutex, rwlock, urcu, snapcache) share, so that
 * each peer file holds only its own synchronisation design: byte accounting,
 * argument validation and session records (contract §2), a lock-free generation-
 * checked handle table, refcounted snapshots and the page arrays handed to
 * callers. Peers allocate with plain malloc; they are not fwpm.
 */
#ifndef BENCH_PEERS_COMMON_H
#define BENCH_PEERS_COMMON_H

#include <fwpmu.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum peer_id { PEER_MUTEX, PEER_RWLOCK, PEER_URCU, PEER_SNAPCACHE, PEER_COUNT };

/* ---- byte accounting: malloc with per-thread, per-peer counters --------- */
void *peer_malloc(enum peer_id peer, size_t size);
void *peer_calloc(enum peer_id peer, size_t size);
void *peer_realloc(enum peer_id peer, void *p, size_t size);
void peer_free(enum peer_id peer, void *p);
uint64_t peer_bytes(enum peer_id peer); /* bytes currently allocated by that peer */

/* ---- a tiny test-and-test-and-set spinlock ------------------------------ */
typedef struct {
    atomic_bool held;
} peer_spinlock;
void peer_spin_lock(peer_spinlock *l);
void peer_spin_unlock(peer_spinlock *l);

/* ---- session records ---------------------------------------------------- */
struct peer_enum;

/* One open (or closed but still referenced) session. A peer embeds it as the
 * first member of its own record; `pub` comes first so that an entry pointer
 * handed to callers is also the record's address. */
struct peer_session {
    FWPM_SESSION0 pub;
    atomic_uint refs;        /* 1 for the table + 1 per snapshot holding it */
    uint8_t peer;            /* enum peer_id, for accounting */
    bool closed;             /* under enum_lock */
    bool generated_key;      /* the caller left the key zero */
    peer_spinlock enum_lock; /* guards closed and the enums list */
    struct peer_enum *enums; /* enumeration handles created through this session */
};

/* Checks FwpmEngineOpen0's arguments and builds a record of `size` bytes
 * (>= sizeof(struct peer_session), zeroed beyond the base) with the strings,
 * SID and username deep-copied into the same block; refs = 1. A zero key gets
 * a random version-4 GUID. Returns ERROR_SUCCESS or the API error. */
DWORD peer_session_new(enum peer_id peer, const wchar_t *serverName, UINT32 authnService,
                       const FWPM_SESSION0 *session, HANDLE *engineHandle, size_t size,
                       struct peer_session **out);
void peer_session_release(struct peer_session *s); /* drops one reference */
void peer_guid_random(GUID *g);                    /* a fresh version-4 GUID */
bool peer_guid_equal(const GUID *a, const GUID *b);
uint64_t peer_guid_hash(const GUID *g);

/* ---- handle table --------------------------------------------------------
 * Handles encode (slot index, generation); a lookup validates both, so NULL,
 * garbage, closed and reused handles all fail without touching freed memory.
 * Add, lookup and remove are lock-free. The object behind a handle is kept
 * alive by the caller's own scheme (lock or RCU read section). */
enum peer_handle_kind { PEER_HANDLE_ENGINE = 1, PEER_HANDLE_ENUM = 2 };

#define PEER_HT_CHUNK_BITS 12
#define PEER_HT_CHUNKS 4096 /* 16M handles */

struct peer_handle_slot;
struct peer_handle_table {
    enum peer_id peer;
    _Atomic(struct peer_handle_slot *) chunks[PEER_HT_CHUNKS];
    _Atomic uint64_t free_head; /* (ABA count << 32) | (slot index + 1), 0 = empty */
    _Atomic uint32_t fresh;     /* next never-used slot */
};

HANDLE peer_handle_add(struct peer_handle_table *t, enum peer_handle_kind kind, void *obj);
void *peer_handle_get(struct peer_handle_table *t, HANDLE h, enum peer_handle_kind kind);
/* True if this call removed the handle (exactly one racing remover wins). */
bool peer_handle_remove(struct peer_handle_table *t, HANDLE h, enum peer_handle_kind kind);

/* ---- snapshots and enumeration handles ---------------------------------- */
struct peer_snapshot {
    atomic_uint refs; /* enumeration handles + page arrays using it */
    uint8_t peer;
    size_t count;
    /* NULL (the default): each entry holds a session reference, dropped when
     * the snapshot goes. Otherwise the engine keeps the entries alive its own
     * way and this runs instead on the last release (snapcache: versions). */
    void (*dispose)(struct peer_snapshot *snap);
    struct peer_snapshot *newer;  /* snapcache: the next version, one reference */
    struct peer_session *retired; /* snapcache: sessions closed while this was newest */
    FWPM_SESSION0 *items[];       /* each holds a session reference unless dispose */
};

/* An empty snapshot with room for `cap` entries (count = 0, refs = 1, the
 * hook and the links NULL). */
struct peer_snapshot *peer_snapshot_alloc(enum peer_id peer, size_t cap);
/* Copies n session pointers (memcpy); with pin_each, takes a reference on each. */
struct peer_snapshot *peer_snapshot_copy(enum peer_id peer, struct peer_session *const *live,
                                         size_t n, bool pin_each);
void peer_snapshot_release(struct peer_snapshot *snap);

struct peer_enum {
    struct peer_session *owner; /* the session it was created through (borrowed) */
    struct peer_snapshot *snap; /* one reference */
    _Atomic size_t cursor;      /* entries already handed out */
    HANDLE handle;
    struct peer_enum *prev, *next; /* owner's list, under owner->enum_lock */
};

/* Checks the template and the out-pointer of FwpmSessionCreateEnumHandle0. */
DWORD peer_check_enum_args(const FWPM_SESSION_ENUM_TEMPLATE0 *tmpl, HANDLE *enumHandle);
/* Wraps snap in an enumeration object of `size` bytes, links it into owner's
 * list and publishes its handle. Consumes the snapshot reference in all cases.
 * Fails with ERROR_INVALID_HANDLE if owner is closed meanwhile. */
DWORD peer_enum_open(struct peer_handle_table *t, struct peer_session *owner,
                     struct peer_snapshot *snap, size_t size, HANDLE *enumHandle);
/* Looks up the (engine, enum) pair for Enum/Destroy: ERROR_INVALID_HANDLE or
 * FWP_E_WRONG_SESSION on mismatch. */
DWORD peer_enum_lookup(struct peer_handle_table *t, HANDLE engineHandle, HANDLE enumHandle,
                       struct peer_enum **out);
/* Removes e's handle and unlinks it from its owner; false if another thread
 * did it first. The caller then retires e (peer_enum_free, possibly deferred). */
bool peer_enum_detach(struct peer_handle_table *t, struct peer_enum *e);
void peer_enum_free(struct peer_enum *e); /* releases the snapshot, frees e */
/* FwpmSessionEnum0 body: reserves the next range with a CAS on the cursor and
 * copies its entry pointers (memcpy) into a fresh page array. */
DWORD peer_enum_page(struct peer_enum *e, UINT32 n, FWPM_SESSION0 ***entries, UINT32 *returned);

/* Close-time work shared by all peers: removes the engine handle (false if
 * already gone), marks the session closed and detaches all its enumeration
 * handles, returning them as a list (linked by ->next) to retire. */
bool peer_session_close(struct peer_handle_table *t, struct peer_session *s, HANDLE engineHandle,
                        struct peer_enum **retired);

/* FwpmFreeMemory0 for every peer: frees a page array. */
void peer_free_memory(void **p);

#endif /* BENCH_PEERS_COMMON_H */
