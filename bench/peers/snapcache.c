/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * snapcache.c - the `snapcache` peer: the cached-vector design, fwpm's
 * previous one, which the persistent vector is measured against. An immutable
 * snapshot vector, cached and shared by every handle while nothing changes,
 * rebuilt after every change:
 *
 *  - writers (open, close) take one global mutex and change the locked
 *    engine's structures in O(1): the dense session array (swap-remove) and
 *    the chained key index (locked.c);
 *  - the first handle creation after a change rebuilds the vector: an O(n)
 *    memcpy of the dense array, UNDER THE WRITERS' MUTEX, so that each change
 *    after a snapshot holds opens and closes for O(sessions) - exactly what
 *    the persistent vector removed (and what contract §4.5 rules out). Handle creation on an
 *    unchanged table is O(1): one reference on the cached vector;
 *  - one reference pins a whole vector (handles and page arrays), never one
 *    per entry: versions form a chain in which each version pins the next
 *    newer one, and a session closed while version V was the newest is handed
 *    to V, to be freed when V goes - by then every older version, which could
 *    hold the session too, has gone;
 *  - pages take no lock: enumeration objects and session records are freed a
 *    grace period after their handles go (liburcu, rcu.c), and a page copies
 *    its entry pointers out of the immutable vector with memcpy.
 */
#include "locked.h"
#include "rcu.h"

#include <pthread.h>

struct snapcache_session {
    struct locked_session base; /* closed: base.hnext links the list it is retired on */
    uint64_t born;              /* versions built before it opened */
    struct rcu_head rcu;        /* the first of a retired list: frees the list */
};

static pthread_mutex_t snapcache_lock = PTHREAD_MUTEX_INITIALIZER;
/* Under snapcache_lock. */
static struct peer_snapshot *cached; /* the newest version while nothing changed: a reference */
static uint64_t builds;              /* versions built so far */
/* Under retire_lock, taken inside snapcache_lock or alone (by a version going):
 * the newest version while it lives, without a reference, and its links. */
static peer_spinlock retire_lock;
static struct peer_snapshot *latest;

static struct snapcache_session *as_snapcache(struct locked_session *s)
{
    return (struct snapcache_session *)s;
}

/* Frees a list of closed sessions (linked by base.hnext) after a grace period:
 * a lock-free destroy may still lock one as its handle's owner. */
static void retired_free(struct rcu_head *head)
{
    struct locked_session *next;
    for (struct locked_session *s = &caa_container_of(head, struct snapcache_session, rcu)->base; s;
         s = next) {
        next = s->hnext;
        peer_session_release(&s->base);
    }
}

static void retire(struct locked_session *list)
{
    if (list)
        urcu_memb_call_rcu(&as_snapcache(list)->rcu, retired_free);
}

/* The last reference to version v went: free it with the sessions handed to
 * it, and drop its reference on the next newer version (iteratively: a chain
 * may be long). Runs on any thread, possibly under snapcache_lock. */
static void version_dispose(struct peer_snapshot *v)
{
    while (v) {
        peer_spin_lock(&retire_lock);
        if (latest == v)
            latest = NULL;
        struct peer_snapshot *newer = v->newer;
        struct peer_session *sessions = v->retired;
        peer_spin_unlock(&retire_lock);
        retire((struct locked_session *)sessions);
        peer_free(PEER_SNAPCACHE, v);
        v = newer && atomic_fetch_sub_explicit(&newer->refs, 1, memory_order_acq_rel) == 1 ? newer
                                                                                           : NULL;
    }
}

/* A change: the cached version is no longer the table. Its disposal, if this
 * was its last reference, is O(1): nothing was retired to it and it has no
 * newer version (both need a change, and this is the first since it was built). */
static void cache_drop(void)
{
    struct peer_snapshot *c = cached;
    cached = NULL;
    if (c)
        peer_snapshot_release(c);
}

static void snapcache_joined(struct locked_engine *g, struct locked_session *s)
{
    (void)g;
    as_snapcache(s)->born = builds;
    cache_drop();
}

static void snapcache_left(struct locked_engine *g, struct locked_session *s)
{
    (void)g;
    cache_drop();
    s->hnext = NULL;
    if (as_snapcache(s)->born < builds) { /* in the newest version, if it lives */
        peer_spin_lock(&retire_lock);
        if (latest) {
            s->hnext = (struct locked_session *)latest->retired;
            latest->retired = &s->base;
            s = NULL;
        }
        peer_spin_unlock(&retire_lock);
    }
    retire(s); /* in no live version */
}

/* For a new handle: the cached version, rebuilt first if the table changed. */
static struct peer_snapshot *snapcache_snapshot(struct locked_engine *g)
{
    if (!cached) {
        struct peer_snapshot *v = peer_snapshot_copy(PEER_SNAPCACHE, g->live, g->count, false);
        if (!v)
            return NULL;
        v->dispose = version_dispose;
        builds++;
        peer_spin_lock(&retire_lock);
        if (latest) { /* the older version pins this one */
            atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
            latest->newer = v;
        }
        latest = v;
        peer_spin_unlock(&retire_lock);
        cached = v; /* the allocation's reference */
    }
    atomic_fetch_add_explicit(&cached->refs, 1, memory_order_relaxed);
    return cached;
}

/* Twice: a grace period's callbacks (enumeration objects) can drop the last
 * reference to a version, which queues its sessions for the next one. */
static void snapcache_grace(void)
{
    peer_rcu_barrier();
    peer_rcu_barrier();
}

static const struct locked_variant snapcache_variant = {
    .session_size = sizeof(struct snapcache_session),
    .enum_size = sizeof(struct peer_rcu_enum),
    .snapshot = snapcache_snapshot,
    .joined = snapcache_joined,
    .left = snapcache_left,
    .enum_retire = peer_rcu_enum_retire,
    .enum_page = peer_rcu_enum,
    .destroy_enum = peer_rcu_destroy_enum,
    .reclaim = snapcache_grace,
};

static struct locked_engine snapcache_engine = {
    .peer = PEER_SNAPCACHE,
    .variant = &snapcache_variant,
    .lock = &snapcache_lock,
    .lock_shared = locked_mutex_lock,
    .lock_exclusive = locked_mutex_lock,
    .unlock = locked_mutex_unlock,
    .handles = {.peer = PEER_SNAPCACHE},
};

LOCKED_PEER_DEFINE(snapcache, snapcache_engine, PEER_SNAPCACHE);
