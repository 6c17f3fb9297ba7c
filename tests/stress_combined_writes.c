/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_combined_writes.c - opens and closes stay exactly-once when 64
 * writers on 2 cores are combined into batches.
 *
 * Writers share a few slots of handles. Each round a writer opens a session,
 * swaps it into a random slot and closes the one it displaced, then closes
 * whatever handle another random slot shows at that moment, racing the writer
 * that will displace it (and others peeking): of all the closes of one
 * session exactly one may succeed, the others must say ERROR_INVALID_HANDLE.
 * Writers also race to open a few contested keys: at most one holder of a key
 * at any time, and a holder's close always succeeds. At the end every session
 * ever opened has been closed exactly once and the engine is empty.
 */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>

#define WRITERS 64u
#define SLOTS 16u
#define CONTESTED 4u

static unsigned rounds = 400; /* per writer */

struct record {
    _Atomic(HANDLE) handle;  /* set before the record's id is published */
    _Atomic unsigned closes; /* successful closes */
};

static struct record *records;
static _Atomic unsigned next_id;
static _Atomic unsigned slot[SLOTS];        /* id + 1 of the session there; 0: none */
static _Atomic unsigned holders[CONTESTED]; /* current holders of each contested key */
static _Atomic uint64_t contested_opens;

static const GUID contested_key[CONTESTED] = {
    {0xC0DE0001, 1, 0x4000, {0x80, 1, 2, 3, 4, 5, 6, 7}},
    {0xC0DE0002, 1, 0x4000, {0x80, 1, 2, 3, 4, 5, 6, 7}},
    {0xC0DE0003, 1, 0x4000, {0x80, 1, 2, 3, 4, 5, 6, 7}},
    {0xC0DE0004, 1, 0x4000, {0x80, 1, 2, 3, 4, 5, 6, 7}},
};

/* Closes the session with this id; counts a success. */
static void close_record(unsigned id)
{
    struct record *r = &records[id];
    DWORD status = FwpmEngineClose0(atomic_load_explicit(&r->handle, memory_order_relaxed));
    if (status == ERROR_SUCCESS)
        atomic_fetch_add_explicit(&r->closes, 1, memory_order_relaxed);
    else
        STRESS_CHECK(status == ERROR_INVALID_HANDLE, "close of %u: %s", id, fwpm_strerror(status));
}

static void open_contested(unsigned k)
{
    FWPM_SESSION0 want = {.sessionKey = contested_key[k]};
    HANDLE h;
    DWORD status = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &want, &h);
    if (status == FWP_E_ALREADY_EXISTS)
        return;
    STRESS_CHECK(status == ERROR_SUCCESS, "contested open: %s", fwpm_strerror(status));
    if (status != ERROR_SUCCESS)
        return;
    unsigned before = atomic_fetch_add_explicit(&holders[k], 1, memory_order_relaxed);
    STRESS_CHECK(before == 0, "key %u opened while %u others held it", k, before);
    atomic_fetch_add_explicit(&contested_opens, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&holders[k], 1, memory_order_relaxed);
    status = FwpmEngineClose0(h);
    STRESS_CHECK(status == ERROR_SUCCESS, "contested close: %s", fwpm_strerror(status));
}

static void writer(unsigned w, void *arg)
{
    (void)arg;
    uint64_t rng = 0xC0FFEE + w;
    for (unsigned i = 0; i < rounds; i++) {
        unsigned id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
        HANDLE h = stress_open(L"combined");
        atomic_store_explicit(&records[id].handle, h, memory_order_relaxed);
        uint64_t pick = stress_random(&rng);
        /* Acq_rel: our record is complete before another writer can take its
         * id; the displaced record's handle is seen. */
        unsigned old = atomic_exchange_explicit(&slot[pick % SLOTS], id + 1, memory_order_acq_rel);
        if (old != 0)
            close_record(old - 1); /* fails if a peeking writer was first */
        /* Acquire: pairs with the exchange that put the id there. */
        unsigned seen = atomic_load_explicit(&slot[(pick >> 8) % SLOTS], memory_order_acquire);
        if (seen != 0)
            close_record(seen - 1);
        if ((pick >> 16) % 4 == 0)
            open_contested((unsigned)((pick >> 20) % CONTESTED));
    }
}

int main(void)
{
    rounds = stress_scaled(rounds);
    UINT64 baseline = stress_baseline();
    unsigned total = WRITERS * rounds;
    records = calloc(total, sizeof(*records));
    if (records == NULL)
        return 2;

    stress_run(WRITERS, writer, NULL);

    for (unsigned i = 0; i < SLOTS; i++) {
        unsigned id = atomic_load_explicit(&slot[i], memory_order_relaxed);
        if (id != 0)
            close_record(id - 1);
    }
    for (unsigned id = 0; id < total; id++)
        STRESS_CHECK(atomic_load_explicit(&records[id].closes, memory_order_relaxed) == 1,
                     "session %u closed %u times", id,
                     atomic_load_explicit(&records[id].closes, memory_order_relaxed));
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    STRESS_CHECK(st.openSessions == 0, "%llu sessions still open",
                 (unsigned long long)st.openSessions);
    stress_expect_baseline(baseline);
    printf("%u writers x %u rounds, %llu contested opens\n", WRITERS, rounds,
           (unsigned long long)atomic_load_explicit(&contested_opens, memory_order_relaxed));
    free(records);
    return stress_report("stress_combined_writes", total);
}
