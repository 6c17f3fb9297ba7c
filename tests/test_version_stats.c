/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_version_stats.c - a superseded version leaves the live count
 * (fwpm_memory_stats' liveSnapshots) when the writer unlinks it, under the
 * writer lock, not when its root is freed after the lock. A thread whose
 * write found nothing left to reclaim, because another holder of the lock
 * (the idle reclaimer) had just unlinked it, then reads a count that already
 * excludes it. Plain executable, one thread, on a store of its own.
 */
#include <stdlib.h>

#include "epoch.h"
#include "unit_check.h"
#include "version_store.h"

static uint64_t live_versions(struct version_store *store)
{
    uint64_t open_sessions, live;
    version_store_stats(store, &open_sessions, &live);
    return live;
}

/* A write that changes nothing: a new version, the same set. */
static void publish_unchanged(struct version_store *store)
{
    struct version_edit e;
    check(version_edit_prepare(store, &e, true), "an edit is prepared");
    check(version_edit_begin(&e), "an edit begins");
    version_edit_publish(&e);
    version_edit_finish(&e);
}

static void a_version_leaves_the_count_when_unlinked(void)
{
    struct version_store store;
    if (!version_store_init(&store))
        abort();
    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        abort();
    struct version *held = version_acquire_current(&store);
    epoch_exit(record);
    publish_unchanged(&store);
    check(live_versions(&store) == 2, "a held version is counted beside the current one");
    check(version_release(held), "the last reference of a superseded version says so");
    struct version *dead = version_store_reclaim(&store);
    check(dead == held, "the reclaim unlinks the released version");
    check(live_versions(&store) == 1, "an unlinked version is not counted, before it is freed");
    version_free_reclaimed(dead);
    check(live_versions(&store) == 1, "nor after");
    /* What the store keeps between writes, then its current root. */
    struct version_store_cache cache;
    version_store_take_cache(&store, &cache);
    version_store_free_cache(&cache);
    version_store_destroy_unused(&store);
    epoch_reclaim_all();
}

int main(void)
{
    a_version_leaves_the_count_when_unlinked();
    return unit_check_status();
}
