/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * latency.c - log-bucketed histograms (see latency.h).
 */
#include "latency.h"

#include <stdio.h>
#include <string.h>

const char *const latency_call_names[CALL_COUNT] = {
    "open", "close", "create_enum", "enum_page", "destroy_enum", "free",
};

unsigned latency_bucket_of(uint64_t ns)
{
    if (ns < LATENCY_SUB_BUCKETS)
        return (unsigned)ns;
    unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
    unsigned shift = msb - LATENCY_SUB_BITS;
    return (shift + 1u) * LATENCY_SUB_BUCKETS +
           (unsigned)((ns >> shift) & (LATENCY_SUB_BUCKETS - 1u));
}

uint64_t latency_bucket_top(unsigned b)
{
    if (b < LATENCY_SUB_BUCKETS)
        return b;
    unsigned shift = b / LATENCY_SUB_BUCKETS - 1u;
    uint64_t mantissa = LATENCY_SUB_BUCKETS + b % LATENCY_SUB_BUCKETS;
    /* The top octave's last bucket ends at UINT64_MAX. */
    if (shift + LATENCY_SUB_BITS + 1u >= 64u && mantissa == 2u * LATENCY_SUB_BUCKETS - 1u)
        return UINT64_MAX;
    return ((mantissa + 1u) << shift) - 1u;
}

void histogram_init(struct histogram *h)
{
    atomic_init(&h->count, 0);
    atomic_init(&h->sum, 0);
    atomic_init(&h->max, 0);
    for (unsigned b = 0; b < LATENCY_BUCKETS; b++)
        atomic_init(&h->bucket[b], 0);
}

void latency_summary_init(struct latency_summary *s)
{
    memset(s, 0, sizeof(*s));
}

void latency_summary_add(struct latency_summary *s, const struct histogram *h)
{
    /* Relaxed: a live view; after the owner was joined the values are exact. */
    uint64_t count = 0;
    for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
        uint64_t n = atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
        s->bucket[b] += n;
        count += n;
    }
    /* Count the buckets actually read, so percentiles stay consistent even
     * while the owner is writing. */
    s->count += count;
    s->sum += atomic_load_explicit(&h->sum, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&h->max, memory_order_relaxed);
    if (max > s->max)
        s->max = max;
}

uint64_t latency_percentile(const struct latency_summary *s, double q)
{
    if (s->count == 0)
        return 0;
    /* The rank of the q-quantile, 1-based, at least 1. */
    uint64_t rank = (uint64_t)(q * (double)s->count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->count)
        rank = s->count;
    uint64_t seen = 0;
    for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
        seen += s->bucket[b];
        if (seen >= rank) {
            uint64_t top = latency_bucket_top(b);
            return top < s->max ? top : s->max;
        }
    }
    return s->max;
}

void latency_format(uint64_t ns, char out[16])
{
    if (ns < 1000u)
        snprintf(out, 16, "%un", (unsigned)ns);
    else if (ns < 10000u)
        snprintf(out, 16, "%.2fu", (double)ns / 1e3);
    else if (ns < 1000000u)
        snprintf(out, 16, "%.0fu", (double)ns / 1e3);
    else if (ns < 10000000u)
        snprintf(out, 16, "%.2fm", (double)ns / 1e6);
    else if (ns < 1000000000u)
        snprintf(out, 16, "%.0fm", (double)ns / 1e6);
    else
        snprintf(out, 16, "%.1fs", (double)ns / 1e9);
}
