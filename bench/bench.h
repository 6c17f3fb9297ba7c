/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.h - the boundary between fwpm-bench's C benchmark bodies (families.c)
 * and its only C++ file (shim.cpp), which owns Google Benchmark. The shim
 * registers what bench_specs() lists and lends C a handful of State
 * operations; C never sees a C++ type and C++ never sees ck.
 */
#ifndef FWPM_BENCH_H
#define FWPM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fwpm_impl;
typedef struct bench_state bench_state; /* a benchmark::State, opaque to C */

/* ---- implemented by shim.cpp ------------------------------------------- */
int bench_keep_running(bench_state *st);
void bench_pause(bench_state *st);
void bench_resume(bench_state *st);
int bench_thread_index(const bench_state *st);
void bench_set_items(bench_state *st, int64_t items);
void bench_set_iteration_time(bench_state *st, double seconds); /* manual-time benchmarks */
/* Adds to a user counter (summed over threads); BENCH_RATE divides by time. */
void bench_counter(bench_state *st, const char *name, double value, unsigned flags);
void bench_error(bench_state *st, const char *message);
void bench_context(const char *key, const char *value); /* JSON "context" entry */

enum { BENCH_RATE = 1 };
enum { BENCH_UNIT_NS, BENCH_UNIT_US, BENCH_UNIT_MS };

/* One registered benchmark. */
struct bench_spec {
    char name[112]; /* <family>/<impl>/<args> */
    void (*run)(bench_state *st, const struct bench_spec *spec);
    const struct fwpm_impl *impl; /* NULL for the memcpy baselines */
    uint64_t n;                   /* sessions in the table */
    uint32_t page;                /* entries per FwpmSessionEnum0 call */
    int readers, writers;         /* mixed */
    unsigned procs;               /* boundary: helper processes holding the sessions */
    int variant;                  /* family-specific: changed table, allocating copy */
    int threads;                  /* > 0: ->Threads(threads)->UseRealTime() */
    int manual_time;              /* ->UseManualTime(): the body times itself */
    int iterations;               /* > 0: ->Iterations(iterations) */
    int repetitions;              /* > 1: ->Repetitions(repetitions), medians reported */
    int unit;                     /* BENCH_UNIT_* */
};

/* ---- implemented by families.c ----------------------------------------- */
/* Consumes fwpm-bench's own --fwpm_* flags (left over by benchmark::Initialize)
 * from argv; returns -1 after printing usage on a bad one. */
int bench_configure(int *argc, char **argv);
size_t bench_specs(const struct bench_spec **specs);
void bench_shutdown(void); /* closes every session the benchmarks opened */

#ifdef __cplusplus
}
#endif

#endif /* FWPM_BENCH_H */
