/*
 * test_sessions_table.c - the writer's index of session keys: churn never
 * makes it rebuild or reallocate, growth keeps every key findable,
 * duplicates are refused, and an emptied table returns to its initial size.
 * Plain executable: exits non-zero when a check failed.
 *
 * (The ck_hs set this replaced rebuilt its map on ~93% of the closes of a
 * small table: ck 0.7.1 never initializes a map's tombstone count.)
 */
#include "sessions_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAILED: %s\n", what);
        failures++;
    }
}

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
        check(sessions_table_find(&t, &s->view.sessionKey) == s, "found");
        sessions_table_remove(&t, s);
        check(sessions_table_find(&t, &s->view.sessionKey) == NULL, "gone");
        free(s);
    }
    check(t.resizes == 0, "churn of one session never reallocates the table");
    sessions_table_destroy(&t);
}

/* Grows to LIVE, churns at that size, refuses duplicates, empties. */
static void grow_churn_and_empty(void)
{
    struct sessions_table t;
    check(sessions_table_init(&t), "init");
    enum { LIVE = 5000, CHURN = 30000 };
    struct session **live = calloc(LIVE, sizeof(*live));
    for (uint64_t i = 0; i < LIVE; i++) {
        live[i] = session_with_key(i);
        check(sessions_table_insert(&t, live[i]), "insert");
    }
    uint64_t grown = t.resizes;
    check(grown >= 6 && t.count == LIVE, "grew by doubling");
    check(t.mask + 1 >= LIVE, "load factor at most 1");
    for (uint64_t i = 0; i < CHURN; i++) {
        unsigned k = (unsigned)((i * 7919u) % LIVE);
        struct session *twin = session_with_key(0);
        memcpy(&twin->view.sessionKey, &live[k]->view.sessionKey, sizeof(GUID));
        check(!sessions_table_insert(&t, twin), "a present key is refused");
        free(twin);
        sessions_table_remove(&t, live[k]);
        check(sessions_table_find(&t, &live[k]->view.sessionKey) == NULL, "removed key gone");
        free(live[k]);
        live[k] = session_with_key(LIVE + i);
        check(sessions_table_insert(&t, live[k]), "insert after churn");
        unsigned probe = (unsigned)((i * 104729u) % LIVE);
        check(sessions_table_find(&t, &live[probe]->view.sessionKey) == live[probe],
              "live key found");
    }
    check(t.resizes == grown, "churn at a constant size never reallocates the table");
    for (unsigned k = 0; k < LIVE; k++) {
        sessions_table_remove(&t, live[k]);
        free(live[k]);
    }
    check(t.count == 0 && t.mask + 1 == 64 && t.resizes == grown + 1,
          "an emptied table is back at its initial size");
    free(live);
    sessions_table_destroy(&t);
}

int main(void)
{
    churn_of_one();
    grow_churn_and_empty();
    printf("test_sessions_table: %s\n", failures == 0 ? "passed" : "FAILED");
    return failures == 0 ? 0 : 1;
}
