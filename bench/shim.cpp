/* SPDX-License-Identifier: BSD-2-Clause */
// shim.cpp - the only C++ in fwpm-bench: Google Benchmark's main and the
// registration of the C benchmark bodies listed by bench_specs(), plus the few
// benchmark::State operations those bodies need (see bench.h). It includes
// nothing of fwpm's internals and no ck header.
#include <benchmark/benchmark.h>

#include "bench.h"

namespace
{

benchmark::State &state(bench_state *st)
{
    return *reinterpret_cast<benchmark::State *>(st);
}

const benchmark::State &state(const bench_state *st)
{
    return *reinterpret_cast<const benchmark::State *>(st);
}

} // namespace

extern "C" {

int bench_keep_running(bench_state *st)
{
    return state(st).KeepRunning();
}

void bench_pause(bench_state *st)
{
    state(st).PauseTiming();
}

void bench_resume(bench_state *st)
{
    state(st).ResumeTiming();
}

int bench_thread_index(const bench_state *st)
{
    return state(st).thread_index();
}

void bench_set_items(bench_state *st, int64_t items)
{
    state(st).SetItemsProcessed(items);
}

void bench_set_iteration_time(bench_state *st, double seconds)
{
    state(st).SetIterationTime(seconds);
}

void bench_counter(bench_state *st, const char *name, double value, unsigned flags)
{
    benchmark::Counter &c = state(st).counters[name];
    c.value += value;
    if (flags & BENCH_RATE)
        c.flags = benchmark::Counter::kIsRate;
}

void bench_error(bench_state *st, const char *message)
{
    state(st).SkipWithError(message);
}

void bench_context(const char *key, const char *value)
{
    benchmark::AddCustomContext(key, value);
}

} // extern "C"

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (bench_configure(&argc, argv) != 0 || benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    const bench_spec *specs;
    size_t n = bench_specs(&specs);
    for (size_t i = 0; i < n; i++) {
        const bench_spec *sp = &specs[i];
        benchmark::internal::Benchmark *b =
            benchmark::RegisterBenchmark(sp->name, [sp](benchmark::State &s) {
                sp->run(reinterpret_cast<bench_state *>(&s), sp);
            });
        if (sp->threads > 0)
            b->Threads(sp->threads)->UseRealTime();
        if (sp->manual_time)
            b->UseManualTime();
        if (sp->iterations > 0)
            b->Iterations(sp->iterations);
        if (sp->repetitions > 1)
            b->Repetitions(sp->repetitions);
        b->Unit(sp->unit == BENCH_UNIT_MS   ? benchmark::kMillisecond
                : sp->unit == BENCH_UNIT_US ? benchmark::kMicrosecond
                                            : benchmark::kNanosecond);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    bench_shutdown();
    return 0;
}
