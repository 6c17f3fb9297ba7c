/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sessions.c - the sessions of one connection, by the ids the daemon issued
 * for them (docs/contract.md, "Host engine").
 *
 * A table of slots, grown by doubling, with a free list: add, find and
 * remove are O(1). An id is (generation << 32) | (slot + 1); a slot's
 * generation changes every time it is freed, so an id of a closed session
 * never names a later one, and id 0 is never issued. Ids are meaningful only
 * on the connection that issued them: every lookup goes through the calling
 * connection's own table, so no client can name another connection's session.
 * Enumeration handles have ids of the same kind, in a second table whose
 * slots remember their session's id.
 */
#include "server.h"

#include <stdlib.h>

#define NO_SLOT UINT32_MAX

static bool grow(struct session_table *t)
{
    uint32_t capacity = t->capacity == 0 ? 4 : t->capacity * 2;
    if (capacity <= t->capacity)
        return false; /* 2^32 slots: never in practice */
    struct conn_session *slots = realloc(t->slots, capacity * sizeof(*slots));
    if (slots == NULL)
        return false;
    for (uint32_t i = t->capacity; i < capacity; i++)
        slots[i] = (struct conn_session){.generation = 1,
                                         .next_free = i + 1 < capacity ? i + 1 : t->free_head};
    t->free_head = t->capacity;
    t->slots = slots;
    t->capacity = capacity;
    return true;
}

struct conn_session *sessions_add(struct session_table *t, uint64_t *id)
{
    if (t->capacity == 0)
        t->free_head = NO_SLOT;
    if (t->free_head == NO_SLOT && !grow(t))
        return NULL;
    uint32_t i = t->free_head;
    struct conn_session *s = &t->slots[i];
    t->free_head = s->next_free;
    s->next_free = NO_SLOT;
    s->in_use = true;
    s->engine = NULL;
    s->flags = 0;
    t->open++;
    *id = (uint64_t)s->generation << 32 | (uint64_t)(i + 1);
    return s;
}

struct conn_session *sessions_find(struct session_table *t, uint64_t id)
{
    uint32_t i = (uint32_t)id - 1; /* id 0 wraps to NO_SLOT */
    if (i >= t->capacity)
        return NULL;
    struct conn_session *s = &t->slots[i];
    if (!s->in_use || s->generation != (uint32_t)(id >> 32))
        return NULL;
    return s;
}

void sessions_remove(struct session_table *t, struct conn_session *s)
{
    uint32_t i = (uint32_t)(s - t->slots);
    s->in_use = false;
    s->engine = NULL;
    s->generation = s->generation + 1 == 0 ? 1 : s->generation + 1;
    s->next_free = t->free_head;
    t->free_head = i;
    t->open--;
}

void sessions_free(struct session_table *t)
{
    free(t->slots);
    *t = (struct session_table){0};
}

struct conn_session *enums_find(struct connection *c, uint64_t id)
{
    struct conn_session *e = sessions_find(&c->enums, id);
    if (e != NULL && sessions_find(&c->sessions, e->owner) == NULL) {
        sessions_remove(&c->enums, e); /* the engine destroyed it with its session */
        e = NULL;
    }
    return e;
}

/* Forgets every enumeration handle whose session has closed. */
static void enums_sweep(struct connection *c)
{
    struct session_table *t = &c->enums;
    for (uint32_t i = 0; i < t->capacity; i++)
        if (t->slots[i].in_use && sessions_find(&c->sessions, t->slots[i].owner) == NULL)
            sessions_remove(t, &t->slots[i]);
}

struct conn_session *enums_add(struct connection *c, uint64_t owner, uint64_t *id)
{
    struct session_table *t = &c->enums;
    if (t->capacity > 0 && t->free_head == NO_SLOT) {
        enums_sweep(c);
        if (t->open > t->capacity / 2 && !grow(t)) /* amortized: a sweep frees half */
            return NULL;
    }
    struct conn_session *e = sessions_add(&c->enums, id);
    if (e != NULL)
        e->owner = owner;
    return e;
}
