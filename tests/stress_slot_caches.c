/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_slot_caches.c - the handle table's per-thread slot caches under
 * contention (core/handles.c, "slot caches"): no slot is ever issued twice,
 * none is lost or stranded, and a full table refuses cleanly.
 *
 * THREADS threads, more than there are cache buckets (so threads share
 * them) and many more than cores, churn handles on a table limited to LIMIT
 * slots, while the main thread holds all of them but SPARE: most reserves
 * find the free list empty and the table unable to grow, and take a slot
 * from some other thread's bucket (the full-table scan) or are refused.
 * Every thread checks that each handle it holds names its own object (a
 * slot issued twice would name the other holder's) and that each removal
 * wins. At the end, with every thread gone, exactly LIMIT reserves fit on
 * the main thread and the next is refused: every slot came back, wherever
 * its last releaser left it.
 */
#include "handles.h"
#include "stress.h"

#include <stdio.h>

#define THREADS 96u /* more than the 64 cache buckets */
#define LIMIT 128u
#define SPARE 3u /* slots the main thread leaves to the churners: fewer than two churners want */
#define HOLD 2u  /* handles a churner holds at once, at most */

static unsigned rounds = 2000;
static _Atomic unsigned long reserved, refused;

/* One object per handle a thread may hold: what its handles must name. */
static int objects[THREADS][HOLD];

static void churn(unsigned index, void *arg)
{
    (void)arg;
    unsigned long mine = 0, full = 0;
    for (unsigned r = 0; r < rounds; r++) {
        HANDLE held[HOLD];
        unsigned n = 0;
        for (unsigned k = 0; k < HOLD; k++) {
            HANDLE h = handles_reserve(HANDLE_KIND_ENGINE);
            if (h == NULL) {
                full++;
                continue;
            }
            handles_publish(h, &objects[index][n]);
            held[n++] = h;
        }
        for (unsigned k = 0; k < n; k++)
            STRESS_CHECK(handles_lookup(held[k], HANDLE_KIND_ENGINE) == &objects[index][k],
                         "thread %u: a held handle names another object (a slot issued twice)",
                         index);
        for (unsigned k = 0; k < n; k++) {
            STRESS_CHECK(handles_remove(held[k], HANDLE_KIND_ENGINE),
                         "thread %u: another holder removed our handle", index);
            STRESS_CHECK(handles_lookup(held[k], HANDLE_KIND_ENGINE) == NULL,
                         "thread %u: a removed handle still resolves", index);
        }
        mine += n;
    }
    atomic_fetch_add_explicit(&reserved, mine, memory_order_relaxed);
    atomic_fetch_add_explicit(&refused, full, memory_order_relaxed);
}

/* Reserves until refused, publishing each; returns how many fit. */
static unsigned reserve_all(HANDLE *out, unsigned max, int *object)
{
    unsigned n = 0;
    HANDLE h;
    while (n < max && (h = handles_reserve(HANDLE_KIND_ENGINE)) != NULL) {
        handles_publish(h, object);
        out[n++] = h;
    }
    return n;
}

static void remove_all(const HANDLE *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        STRESS_CHECK(handles_remove(h[i], HANDLE_KIND_ENGINE), "main: removal lost");
}

int main(void)
{
    rounds = stress_scaled(rounds);
    handles_set_limit(LIMIT); /* no handle exists yet: the engine is not set up */
    static int main_object;
    HANDLE kept[LIMIT + 1];
    unsigned n = reserve_all(kept, LIMIT + 1, &main_object);
    STRESS_CHECK(n == LIMIT, "the empty table held %u slots, not %u", n, LIMIT);
    remove_all(&kept[LIMIT - SPARE], SPARE); /* SPARE slots for the churners */

    stress_run(THREADS, churn, NULL);
    remove_all(kept, LIMIT - SPARE);

    /* Every slot is back: in the free list or in some exited thread's bucket. */
    n = reserve_all(kept, LIMIT + 1, &main_object);
    STRESS_CHECK(n == LIMIT, "after the churn the table held %u slots, not %u", n, LIMIT);
    remove_all(kept, n);
    unsigned long got = atomic_load(&reserved), full = atomic_load(&refused);
    STRESS_CHECK(got > 0, "no churner ever got a slot");
    printf("%u threads x %u rounds on %u spare slots: %lu reserves, %lu refused\n", THREADS, rounds,
           SPARE, got, full);
    handles_set_limit(0);
    return stress_report("stress_slot_caches", rounds);
}
