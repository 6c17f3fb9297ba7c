/*
 * sessions_table.c - a chained hash table of sessions keyed by the GUID at
 * the start of each record (see sessions_table.h).
 */
#include "sessions_table.h"

#include "memory.h"

#include <string.h>

#define TABLE_INITIAL_BUCKETS 64u

/* Keys may be chosen by clients, so mix all 128 bits rather than trusting
 * them to be random (splitmix64 finalizer on each half), with a seed. */
static uint64_t hash_key(const GUID *key, uint64_t seed)
{
    uint64_t half[2];
    memcpy(half, key, sizeof(half));
    uint64_t h = seed ^ half[0];
    h ^= (h >> 30) ^ half[1];
    h *= 0xBF58476D1CE4E5B9u;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBu;
    h ^= h >> 31;
    return h;
}

static bool keys_equal(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(GUID)) == 0;
}

static struct session **bucket_of(struct sessions_table *t, const GUID *key)
{
    return &t->buckets[hash_key(key, t->seed) & t->mask];
}

static void link_first(struct session **bucket, struct session *s)
{
    s->key_next = *bucket;
    *bucket = s;
}

static struct session **buckets_new(size_t n)
{
    return memory_zalloc(n * sizeof(struct session *), MEMORY_DATA);
}

static void buckets_free(struct session **b, size_t n)
{
    memory_free(b, n * sizeof(struct session *), MEMORY_DATA);
}

/* Moves every session to a new array of n buckets; false (nothing changed)
 * when out of memory. */
static bool resize(struct sessions_table *t, size_t n)
{
    struct session **fresh = buckets_new(n);
    if (fresh == NULL)
        return false;
    struct session **old = t->buckets;
    size_t old_n = t->mask + 1;
    t->buckets = fresh;
    t->mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        struct session *s = old[i];
        while (s != NULL) {
            struct session *next = s->key_next;
            link_first(bucket_of(t, &s->view.sessionKey), s);
            s = next;
        }
    }
    buckets_free(old, old_n);
    t->resizes++;
    return true;
}

bool sessions_table_init(struct sessions_table *t)
{
    t->buckets = buckets_new(TABLE_INITIAL_BUCKETS);
    t->mask = TABLE_INITIAL_BUCKETS - 1;
    t->count = 0;
    t->seed = 0x5EED5EED9E3779B9u ^ (uint64_t)(uintptr_t)t;
    t->resizes = 0;
    return t->buckets != NULL;
}

void sessions_table_destroy(struct sessions_table *t)
{
    buckets_free(t->buckets, t->mask + 1);
    t->buckets = NULL;
}

struct session *sessions_table_find(struct sessions_table *t, const GUID *key)
{
    for (struct session *s = *bucket_of(t, key); s != NULL; s = s->key_next)
        if (keys_equal(&s->view.sessionKey, key))
            return s;
    return NULL;
}

bool sessions_table_insert(struct sessions_table *t, struct session *s)
{
    struct session **bucket = bucket_of(t, &s->view.sessionKey);
    for (struct session *o = *bucket; o != NULL; o = o->key_next)
        if (keys_equal(&o->view.sessionKey, &s->view.sessionKey))
            return false;
    link_first(bucket, s);
    /* Load factor at most 1: double past it (a failure keeps chains longer).
     * O(count) per doubling: O(1) amortized. */
    if (++t->count > t->mask + 1)
        resize(t, 2 * (t->mask + 1));
    return true;
}

void sessions_table_remove(struct sessions_table *t, struct session *s)
{
    /* Chains hold one session on average (load factor at most 1): walking
     * to s costs less than a back link in every record would. */
    struct session **link = bucket_of(t, &s->view.sessionKey);
    while (*link != s)
        link = &(*link)->key_next;
    *link = s->key_next;
    s->key_next = NULL;
    t->count--;
    sessions_table_shrink_if_empty(t);
}

void sessions_table_shrink_if_empty(struct sessions_table *t)
{
    if (t->count == 0 && t->mask + 1 > TABLE_INITIAL_BUCKETS)
        resize(t, TABLE_INITIAL_BUCKETS); /* a failure keeps the large array */
}
