/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * urcu.c - the `urcu` peer: sessions in liburcu's lock-free resizable hash
 * table (cds_lfht, memb flavour). Opens and closes are lock-free; a snapshot
 * walks the table under rcu_read_lock and takes a reference on every session
 * it meets. That walk is NOT an atomic snapshot: sessions opened or closed
 * during it may or may not appear (cds_lfht iteration is weakly consistent).
 * Retired sessions and enumeration objects are freed after a grace period
 * (call_rcu). Byte counts exclude liburcu's own bucket arrays.
 */
#include "rcu.h"

#include <urcu/rculfhash.h>

#include "impl.h"

#include <pthread.h>
#include <stdlib.h>

struct urcu_session {
    struct peer_session base; /* first: entries point here */
    struct cds_lfht_node node;
    struct rcu_head rcu;
};

static struct cds_lfht *urcu_table;
static struct peer_handle_table urcu_handles = {.peer = PEER_URCU};
static atomic_size_t urcu_live; /* sizes the snapshot buffer; a hint only */
static pthread_once_t urcu_once = PTHREAD_ONCE_INIT;

static void urcu_init(void)
{
    urcu_table = cds_lfht_new_flavor(1, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
                                     &urcu_memb_flavor, NULL);
    if (!urcu_table)
        abort();
}

/* A read section on the table (created on first use). */
static void urcu_enter(void)
{
    pthread_once(&urcu_once, urcu_init);
    peer_rcu_enter();
}

static int urcu_match(struct cds_lfht_node *node, const void *key)
{
    const struct urcu_session *s = caa_container_of(node, struct urcu_session, node);
    return peer_guid_equal(&s->base.pub.sessionKey, key);
}

static void urcu_session_retire(struct rcu_head *head)
{
    peer_session_release(&caa_container_of(head, struct urcu_session, rcu)->base);
}

static DWORD urcu_open(const wchar_t *serverName, UINT32 authnService,
                       SEC_WINNT_AUTH_IDENTITY_W *authIdentity, const FWPM_SESSION0 *session,
                       HANDLE *engineHandle)
{
    (void)authIdentity;
    struct peer_session *base;
    DWORD rc = peer_session_new(PEER_URCU, serverName, authnService, session, engineHandle,
                                sizeof(struct urcu_session), &base);
    if (rc != ERROR_SUCCESS)
        return rc;
    struct urcu_session *s = (struct urcu_session *)base;
    GUID *key = &base->pub.sessionKey;
    cds_lfht_node_init(&s->node);
    urcu_enter();
    while (cds_lfht_add_unique(urcu_table, (unsigned long)peer_guid_hash(key), urcu_match, key,
                               &s->node) != &s->node) {
        if (!base->generated_key) {
            peer_rcu_leave();
            peer_session_release(base); /* never published */
            return FWP_E_ALREADY_EXISTS;
        }
        peer_guid_random(key);
    }
    HANDLE h = peer_handle_add(&urcu_handles, PEER_HANDLE_ENGINE, base);
    if (!h) {
        cds_lfht_del(urcu_table, &s->node);
        peer_rcu_leave();
        urcu_memb_call_rcu(&s->rcu, urcu_session_retire);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    atomic_fetch_add_explicit(&urcu_live, 1, memory_order_relaxed);
    peer_rcu_leave();
    *engineHandle = h;
    return ERROR_SUCCESS;
}

static DWORD urcu_close(HANDLE engineHandle)
{
    struct peer_enum *retired = NULL;
    urcu_enter();
    struct peer_session *base = peer_handle_get(&urcu_handles, engineHandle, PEER_HANDLE_ENGINE);
    if (!base || !peer_session_close(&urcu_handles, base, engineHandle, &retired)) {
        peer_rcu_leave();
        return ERROR_INVALID_HANDLE;
    }
    struct urcu_session *s = (struct urcu_session *)base;
    cds_lfht_del(urcu_table, &s->node);
    atomic_fetch_sub_explicit(&urcu_live, 1, memory_order_relaxed);
    peer_rcu_leave();
    while (retired) {
        struct peer_enum *next = retired->next;
        peer_rcu_enum_retire(retired);
        retired = next;
    }
    /* The table's reference goes after a grace period: walkers may still be on the node. */
    urcu_memb_call_rcu(&s->rcu, urcu_session_retire);
    return ERROR_SUCCESS;
}

/* Walks the table; every session met gets a reference. Runs in a read section. */
static struct peer_snapshot *urcu_walk(void)
{
    size_t cap = atomic_load_explicit(&urcu_live, memory_order_relaxed) + 64;
    struct peer_snapshot *snap = peer_snapshot_alloc(PEER_URCU, cap);
    if (!snap)
        return NULL;
    struct cds_lfht_iter iter;
    /* By hand: cds_lfht_for_each_entry applies container_of to the final NULL. */
    cds_lfht_first(urcu_table, &iter);
    for (struct cds_lfht_node *node; (node = cds_lfht_iter_get_node(&iter));
         cds_lfht_next(urcu_table, &iter)) {
        struct urcu_session *s = caa_container_of(node, struct urcu_session, node);
        if (snap->count == cap) {
            struct peer_snapshot *bigger =
                peer_realloc(PEER_URCU, snap, sizeof(*snap) + 2 * cap * sizeof(snap->items[0]));
            if (!bigger) {
                peer_snapshot_release(snap);
                return NULL;
            }
            snap = bigger;
            cap *= 2;
        }
        /* Safe: the table's reference is dropped only after a grace period. */
        atomic_fetch_add_explicit(&s->base.refs, 1, memory_order_relaxed);
        snap->items[snap->count++] = &s->base.pub;
    }
    return snap;
}

static DWORD urcu_create_enum(HANDLE engineHandle, const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate,
                              HANDLE *enumHandle)
{
    DWORD rc = peer_check_enum_args(enumTemplate, enumHandle);
    if (rc != ERROR_SUCCESS)
        return rc;
    urcu_enter();
    struct peer_session *s = peer_handle_get(&urcu_handles, engineHandle, PEER_HANDLE_ENGINE);
    if (!s) {
        rc = ERROR_INVALID_HANDLE;
    } else {
        struct peer_snapshot *snap = urcu_walk();
        rc = snap ? peer_enum_open(&urcu_handles, s, snap, sizeof(struct peer_rcu_enum), enumHandle)
                  : ERROR_NOT_ENOUGH_MEMORY;
    }
    peer_rcu_leave();
    return rc;
}

static DWORD urcu_enum(HANDLE engineHandle, HANDLE enumHandle, UINT32 numEntriesRequested,
                       FWPM_SESSION0 ***entries, UINT32 *numEntriesReturned)
{
    return peer_rcu_enum(&urcu_handles, engineHandle, enumHandle, numEntriesRequested, entries,
                         numEntriesReturned);
}

static DWORD urcu_destroy_enum(HANDLE engineHandle, HANDLE enumHandle)
{
    return peer_rcu_destroy_enum(&urcu_handles, engineHandle, enumHandle);
}

static uint64_t urcu_memory_bytes(void)
{
    return peer_bytes(PEER_URCU);
}

const struct fwpm_impl fwpm_impl_urcu = {
    .name = "urcu",
    .engine_open = urcu_open,
    .engine_close = urcu_close,
    .create_enum_handle = urcu_create_enum,
    .session_enum = urcu_enum,
    .destroy_enum_handle = urcu_destroy_enum,
    .free_memory = peer_free_memory,
    .reclaim = peer_rcu_barrier,
    .memory_bytes = urcu_memory_bytes,
    .snapshot = "weak",
};
