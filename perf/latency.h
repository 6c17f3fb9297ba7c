/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * latency.h - per-thread latency histograms for the API calls.
 *
 * Each thread records into its own histogram: one owner writes it with
 * relaxed loads and stores (no read-modify-write, nothing shared on the hot
 * path), and any thread may read it at any time for a live view. Summaries
 * merge the histograms of all threads.
 *
 * Buckets are logarithmic with LATENCY_SUB_BUCKETS steps per power of two,
 * so a percentile is exact to within 1/LATENCY_SUB_BUCKETS (12.5%) of its
 * value; it is reported as its bucket's upper bound, capped by the exact
 * maximum.
 */
#ifndef FWPM_PERF_LATENCY_H
#define FWPM_PERF_LATENCY_H

#include <stdatomic.h>
#include <stdint.h>

enum latency_call {
    CALL_OPEN = 0,     /* FwpmEngineOpen0 */
    CALL_CLOSE,        /* FwpmEngineClose0 */
    CALL_CREATE_ENUM,  /* FwpmSessionCreateEnumHandle0 */
    CALL_ENUM_PAGE,    /* FwpmSessionEnum0 */
    CALL_DESTROY_ENUM, /* FwpmSessionDestroyEnumHandle0 */
    CALL_FREE,         /* FwpmFreeMemory0 */
    CALL_COUNT
};

/* "open", "close", "create_enum", "enum_page", "destroy_enum", "free". */
extern const char *const latency_call_names[CALL_COUNT];

#define LATENCY_SUB_BITS 3u
#define LATENCY_SUB_BUCKETS (1u << LATENCY_SUB_BITS)
/* Values below LATENCY_SUB_BUCKETS have a bucket each; then 8 per octave. */
#define LATENCY_BUCKETS ((64u - LATENCY_SUB_BITS + 1u) * LATENCY_SUB_BUCKETS)

/* One thread's histogram of one call; written by its owner only. */
struct histogram {
    _Atomic uint64_t count;
    _Atomic uint64_t sum;
    _Atomic uint64_t max;
    _Atomic uint64_t bucket[LATENCY_BUCKETS];
};

/* A merged, plain copy for reporting. */
struct latency_summary {
    uint64_t count;
    uint64_t sum;
    uint64_t max;
    uint64_t bucket[LATENCY_BUCKETS];
};

unsigned latency_bucket_of(uint64_t ns);
/* The largest value that falls in bucket b. */
uint64_t latency_bucket_top(unsigned b);

/* Records one value; only the histogram's owner may call this. */
static inline void histogram_record(struct histogram *h, uint64_t ns)
{
    unsigned b = latency_bucket_of(ns);
    /* Single writer: a plain add published with a relaxed store (a reader
     * sees some recent value; nothing else is ordered by it). */
    atomic_store_explicit(&h->bucket[b],
                          atomic_load_explicit(&h->bucket[b], memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&h->count, atomic_load_explicit(&h->count, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&h->sum, atomic_load_explicit(&h->sum, memory_order_relaxed) + ns,
                          memory_order_relaxed);
    if (ns > atomic_load_explicit(&h->max, memory_order_relaxed))
        atomic_store_explicit(&h->max, ns, memory_order_relaxed);
}

void histogram_init(struct histogram *h);

void latency_summary_init(struct latency_summary *s);
/* Adds h (possibly being written right now) into s. */
void latency_summary_add(struct latency_summary *s, const struct histogram *h);

/* The q-quantile (0 < q <= 1) in ns; 0 when empty. */
uint64_t latency_percentile(const struct latency_summary *s, double q);

/* Formats ns in 5 characters or fewer, e.g. "850n", "12.3u", "1.20m", "3.1s". */
void latency_format(uint64_t ns, char out[16]);

#endif /* FWPM_PERF_LATENCY_H */
