/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vector.c - the persistent vector on its own (core/vector.h): appends
 * and removes across heights 0..3, random changes checked against a plain
 * array, copies across leaf boundaries, and structural sharing between
 * vector values. A plain executable (runs in every build, TSan included).
 */
#include "vector.h"

#include "container_of.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* The model: the same elements in a plain array. */
struct model {
    uintptr_t *at;
    size_t count, capacity;
};

static void model_append(struct model *m, uintptr_t value)
{
    if (m->count == m->capacity) {
        m->capacity = m->capacity ? 2 * m->capacity : 64;
        m->at = realloc(m->at, m->capacity * sizeof(*m->at));
        if (m->at == NULL)
            abort();
    }
    m->at[m->count++] = value;
}

/* As vector_remove: the last element moves into position. */
static void model_remove(struct model *m, size_t position)
{
    m->at[position] = m->at[--m->count];
}

static void *element(uintptr_t value)
{
    return (void *)value;
}

/* A linear history: every write is its own birth, and the value before it is
 * discarded, so what a write dropped is unreachable and freed at once. */
struct history {
    struct vector v;
    struct vector_writer w;
};

static void history_begin(struct history *h)
{
    h->w.birth++;
    h->w.dropped = NULL;
}

static void history_end(struct history *h)
{
    while (h->w.dropped != NULL) {
        struct garbage *g = h->w.dropped;
        h->w.dropped = g->next;
        vector_chunk_free(container_of(g, struct vector_chunk, garbage));
    }
}

static void history_append(struct history *h, uintptr_t value)
{
    if (!vector_writer_fill(&h->w, vector_chunks_needed(h->v.height, true)))
        abort();
    vector_append(&h->v, &h->w, element(value));
}

static void *history_remove(struct history *h, size_t position)
{
    if (!vector_writer_fill(&h->w, vector_chunks_needed(h->v.height, false)))
        abort();
    return vector_remove(&h->v, &h->w, position);
}

/* Frees the chunks of a tree born at or after `born_since`. */
static void tree_free(struct vector_chunk *c, unsigned height, uint64_t born_since)
{
    if (c == NULL || c->garbage.birth < born_since)
        return;
    if (height > 0)
        for (unsigned i = 0; i < VECTOR_FANOUT; i++)
            tree_free(c->child[i], height - 1, born_since);
    vector_chunk_free(c);
}

static void history_free(struct history *h)
{
    tree_free(h->v.top, h->v.height, 0);
    while (h->w.pool_size > 0)
        vector_chunk_free(h->w.pool[--h->w.pool_size]);
}

/* Every element, by vector_get and by one vector_copy, equals the model's. */
static void check_against(const struct vector *v, const struct model *m, const char *when)
{
    CHECK(v->count == m->count, "%s: count %zu, model %zu", when, v->count, m->count);
    void **all = malloc((m->count + 1) * sizeof(*all));
    if (all == NULL)
        abort();
    vector_copy(v, 0, m->count, all);
    for (size_t i = 0; i < m->count; i++) {
        if (all[i] != element(m->at[i]) || vector_get(v, i) != element(m->at[i])) {
            free(all);
            CHECK(false, "%s: position %zu differs", when, i);
        }
    }
    free(all);
}

static unsigned height_for(size_t count)
{
    unsigned h = 0;
    for (size_t cap = VECTOR_FANOUT; cap < count; cap *= VECTOR_FANOUT)
        h++;
    return h;
}

/* Appends up to height 3 (64^3 + 1 elements) and pops back to empty; the
 * height grows and shrinks at each capacity boundary. */
static void test_heights(void)
{
    const size_t f = VECTOR_FANOUT;
    const size_t boundaries[] = {1, f, f + 1, f * f, f * f + 1, f * f * f, f * f * f + 1};
    const size_t top = f * f * f + 1;
    struct history h = {.v = vector_empty()};
    struct model m = {0};
    size_t next_boundary = 0;
    for (uintptr_t value = 1; value <= top; value++) {
        history_begin(&h);
        history_append(&h, value);
        history_end(&h);
        model_append(&m, value);
        if (m.count == boundaries[next_boundary]) {
            next_boundary++;
            CHECK(h.v.height == height_for(m.count), "append to %zu: height %u", m.count,
                  h.v.height);
            check_against(&h.v, &m, "append");
        }
    }
    CHECK(h.v.height == 3, "height %u at %zu elements", h.v.height, h.v.count);
    while (m.count > 0) {
        history_begin(&h);
        CHECK(history_remove(&h, m.count - 1) == NULL, "removing the last moves nothing");
        history_end(&h);
        model_remove(&m, m.count - 1);
        for (size_t i = 0; i < sizeof(boundaries) / sizeof(*boundaries); i++) {
            if (m.count == boundaries[i]) {
                CHECK(h.v.height == height_for(m.count), "pop to %zu: height %u", m.count,
                      h.v.height);
                check_against(&h.v, &m, "pop");
            }
        }
    }
    CHECK(h.v.top == NULL && h.v.height == 0, "empty again: no top");
    history_free(&h);
    free(m.at);
}

/* Random appends and removes (several per write, so that chunks made by the
 * write are changed in place), checked against the array after each. */
static void test_random_against_model(void)
{
    struct history h = {.v = vector_empty()};
    struct model m = {0};
    unsigned seed = 12345;
    uintptr_t next_value = 1;
    for (unsigned step = 0; step < 40000; step++) {
        if (step % 3 == 0) {
            history_end(&h);
            history_begin(&h);
        }
        /* Drift up to about 5000 elements (height 2), then down. */
        unsigned bias = (step / 10000) % 2 == 0 ? 60 : 40;
        if (m.count == 0 || (unsigned)(rand_r(&seed) % 100) < bias) {
            history_append(&h, next_value);
            model_append(&m, next_value++);
        } else {
            size_t position = (size_t)rand_r(&seed) % m.count;
            uintptr_t expect_moved = position != m.count - 1 ? m.at[m.count - 1] : 0;
            void *moved = history_remove(&h, position);
            CHECK(moved == element(expect_moved), "step %u: remove %zu moved the wrong element",
                  step, position);
            model_remove(&m, position);
        }
        if (m.count > 0) {
            size_t probe = (size_t)rand_r(&seed) % m.count;
            CHECK(vector_get(&h.v, probe) == element(m.at[probe]), "step %u: position %zu", step,
                  probe);
        }
        if (step % 500 == 0)
            check_against(&h.v, &m, "random");
    }
    check_against(&h.v, &m, "random, at the end");
    history_end(&h);
    history_free(&h);
    free(m.at);
}

/* Copies that start and end on each side of leaf and inner-chunk boundaries,
 * and at the vector's end. */
static void test_copies_across_leaves(void)
{
    const size_t f = VECTOR_FANOUT;
    struct history h = {.v = vector_empty()};
    size_t count = 64 * f * f + 2 * f + 3; /* height 3, large enough that copies prefetch */
    history_begin(&h);
    for (uintptr_t value = 1; value <= count; value++)
        history_append(&h, value);
    history_end(&h);
    /* The last four: copies that end at the vector's end, in its partial
     * last leaf (3 elements) under its partial last parent (3 leaves), or a
     * few leaves before it. */
    const size_t starts[] = {0,
                             1,
                             f - 1,
                             f,
                             f + 1,
                             2 * f - 1,
                             f * f - 1,
                             f * f,
                             f * f + 1,
                             count - f * f - 5,
                             count - 9 * f - 1,
                             count - f - 2,
                             count - 2};
    /* 3f + 5 and 9f + 3: the copy prefetches leaves ahead of the one it
     * copies (8 ahead), within the range and its parent. */
    const size_t lengths[] = {1,     2,         7,         8,         9,     f - 1,    f,
                              f + 1, 2 * f + 1, 3 * f + 5, 9 * f + 3, f * f, f * f + 2};
    void **dst = malloc((count + 1) * sizeof(*dst));
    if (dst == NULL)
        abort();
    for (size_t i = 0; i < sizeof(starts) / sizeof(*starts); i++) {
        for (size_t j = 0; j < sizeof(lengths) / sizeof(*lengths); j++) {
            size_t start = starts[i], n = lengths[j];
            if (start + n > count)
                n = count - start;
            dst[n] = element(0xdead);
            vector_copy(&h.v, start, n, dst);
            for (size_t k = 0; k < n; k++) {
                if (dst[k] != element(start + k + 1)) {
                    free(dst);
                    CHECK(false, "copy of %zu from %zu: entry %zu", n, start, k);
                }
            }
            if (dst[n] != element(0xdead)) {
                free(dst);
                CHECK(false, "copy of %zu from %zu wrote past its end", n, start);
            }
        }
    }
    free(dst);
    history_free(&h);
}

/* A value handed out is never changed by later writes; the writes share
 * every chunk off the paths they change, and change their own chunks in
 * place. */
static void test_structural_sharing(void)
{
    const size_t f = VECTOR_FANOUT;
    struct vector_writer w = {.birth = 1};
    struct vector v1 = vector_empty();
    struct model m = {0};
    for (uintptr_t value = 1; value <= 3 * f + 8; value++) { /* 4 leaves, height 1 */
        if (!vector_writer_fill(&w, vector_chunks_needed(v1.height, true)))
            abort();
        vector_append(&v1, &w, element(value));
        model_append(&m, value);
    }
    CHECK(w.dropped == NULL, "a write drops none of the chunks it made");

    struct vector v2 = v1; /* the next write starts from v1, which stays */
    w.birth = 2;
    if (!vector_writer_fill(&w, vector_chunks_needed(v2.height, false)))
        abort();
    CHECK(vector_remove(&v2, &w, 5) == element(3 * f + 8), "the last element moves into 5");
    check_against(&v1, &m, "v1 after v2's remove");
    CHECK(v2.top != v1.top, "the top was copied");
    CHECK(v2.top->child[0] != v1.top->child[0], "the changed leaf was copied");
    CHECK(v2.top->child[1] == v1.top->child[1], "an untouched leaf is shared");
    CHECK(v2.top->child[2] == v1.top->child[2], "an untouched leaf is shared");
    CHECK(v2.top->child[3] != v1.top->child[3], "the popped leaf was copied");
    unsigned dropped = 0;
    for (struct garbage *g = w.dropped; g != NULL; g = g->next)
        dropped++;
    CHECK(dropped == 3, "the write dropped v1's top and two leaves, not %u", dropped);

    struct vector_chunk *leaf0 = v2.top->child[0], *top = v2.top;
    if (!vector_writer_fill(&w, vector_chunks_needed(v2.height, true)))
        abort();
    vector_append(&v2, &w, element(0xabc));
    CHECK(v2.top == top && v2.top->child[0] == leaf0, "the same write changes its chunks in place");
    CHECK(vector_get(&v2, 5) == element(3 * f + 8) && vector_get(&v2, 3 * f + 7) == element(0xabc),
          "v2 holds its changes");
    check_against(&v1, &m, "v1 after v2's append");

    tree_free(v2.top, v2.height, 2); /* v2's own chunks; the rest are v1's */
    tree_free(v1.top, v1.height, 0);
    while (w.pool_size > 0)
        vector_chunk_free(w.pool[--w.pool_size]);
    free(m.at);
}

int main(void)
{
    test_heights();
    test_random_against_model();
    test_copies_across_leaves();
    test_structural_sharing();
    if (failures != 0) {
        fprintf(stderr, "test_vector: %u failures\n", failures);
        return 1;
    }
    printf("test_vector: ok\n");
    return 0;
}
