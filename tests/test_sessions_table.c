/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sessions_table.c - the sessions table's rebuild rule: churn on a small
 * table rebuilds its map O(removals / peak) times, not on every close, and a
 * churned table still finds every key, and keys whose entries share hash
 * tags are still told apart. Plain executable: exits non-zero on
 * the first failed check.
 */
#include "epoch.h"
#include "sessions_table.h"

#include "unit_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct session *session_with_key(uint64_t n)
{
    struct session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    uint64_t half[2] = {n * 0x9E3779B97F4A7C15u, ~n};
    memcpy(&s->view.sessionKey, half, sizeof(half));
    return s;
}

/* One session opened and closed over and over: the open_close benchmark. */
static void churn_of_one(void)
{
    struct sessions_table t;
    check(sessions_table_init(&t), "init");
    enum { CYCLES = 20000 };
    for (uint64_t i = 0; i < CYCLES; i++) {
        struct session *s = session_with_key(i);
        check(sessions_table_insert(&t, s), "insert");
        sessions_table_remove(&t, s);
        free(s);
    }
    printf("churn of one: %llu rebuilds in %d closes\n", (unsigned long long)t.rebuilds, CYCLES);
    /* Old rule (ck_hs_stat's never-initialized tombstone count): ~18500. */
    check(t.rebuilds <= CYCLES / 64 + 1, "a table of one is rebuilt at most once per 64 closes");
    check(t.rebuilds >= CYCLES / 128, "tombstones are still compacted");
    ck_hs_destroy(&t.set);
}

/* A steady population replaced one by one: keys are found throughout. */
static void churn_at_constant_size(void)
{
    struct sessions_table t;
    check(sessions_table_init(&t), "init");
    enum { LIVE = 300, CHURN = 30000 };
    struct session *live[LIVE];
    for (uint64_t i = 0; i < LIVE; i++) {
        live[i] = session_with_key(i);
        check(sessions_table_insert(&t, live[i]), "insert");
    }
    for (uint64_t i = 0; i < CHURN; i++) {
        unsigned k = (unsigned)(i % LIVE);
        sessions_table_remove(&t, live[k]);
        check(sessions_table_find(&t, &live[k]->view.sessionKey) == NULL, "removed key gone");
        free(live[k]);
        live[k] = session_with_key(LIVE + i);
        check(sessions_table_insert(&t, live[k]), "insert after churn");
        unsigned probe = (unsigned)((i * 7919u) % LIVE);
        check(sessions_table_find(&t, &live[probe]->view.sessionKey) == live[probe],
              "live key found");
    }
    printf("churn at %d: %llu rebuilds in %d closes\n", LIVE, (unsigned long long)t.rebuilds,
           CHURN);
    check(t.rebuilds <= CHURN / LIVE + 1, "rebuilt at most once per peak-many closes");
    check(t.rebuilds >= CHURN / (2 * LIVE + 2), "rebuilt under churn");
    for (unsigned k = 0; k < LIVE; k++) {
        sessions_table_remove(&t, live[k]);
        free(live[k]);
    }
    ck_hs_destroy(&t.set);
}

/* Entries carry 16 bits of their hash, so among 20,000 keys thousands of
 * pairs share a tag: each key, looked up through a copy (another address,
 * the same bytes), finds its own session and no other; absent keys find none. */
static void lookups_by_copied_keys_among_shared_tags(void)
{
    struct sessions_table t;
    check(sessions_table_init(&t), "init");
    enum { LIVE = 20000 };
    struct session **live = calloc(LIVE, sizeof(*live));
    if (live == NULL)
        abort();
    for (uint64_t i = 0; i < LIVE; i++) {
        live[i] = session_with_key(i);
        check(sessions_table_insert(&t, live[i]), "insert");
    }
    unsigned wrong = 0;
    for (uint64_t i = 0; i < LIVE; i++) {
        GUID copy = live[i]->view.sessionKey;
        if (sessions_table_find(&t, &copy) != live[i])
            wrong++;
        struct session *absent = session_with_key(LIVE + i);
        if (sessions_table_find(&t, &absent->view.sessionKey) != NULL)
            wrong++;
        free(absent);
    }
    check(wrong == 0, "every copied key finds its own session, and absent keys none");
    struct session *again = session_with_key(7);
    check(!sessions_table_insert(&t, again), "a present key is refused");
    free(again);
    for (uint64_t i = 0; i < LIVE; i++) {
        sessions_table_remove(&t, live[i]);
        free(live[i]);
    }
    free(live);
    ck_hs_destroy(&t.set);
}

int main(void)
{
    churn_of_one();
    churn_at_constant_size();
    lookups_by_copied_keys_among_shared_tags();
    epoch_reclaim_all();
    return unit_check_status();
}
