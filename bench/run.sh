#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - build fwpm-bench, run it, and turn its JSON into a report.
#
#   bench/run.sh --quick   under a minute on 2 cores once built: N <= 100k, short runs
#   bench/run.sh --full    under 15 minutes on 2 cores: every benchmark, N up to 1M
#   bench/run.sh --smoke   ~15 s: a few benchmarks of every family, fwpm and
#                          mutex only, so that every plot has data (the
#                          bench_smoke test: the pipeline works, not the numbers)
#
# Options: --build DIR   build directory (default: <repo>/build-bench, the
#                        project's default build type)
#          --out DIR     results directory (default: bench/results/<mode>)
#          --impls LIST  engines to run (default: memcpy,fwpm,mutex,rwlock,urcu,snapcache)
#          --rounds N    run every engine N times, interleaved (round k starts
#                        with the k-th engine), writing DIR/<engine>.r<k>.json;
#                        the report takes each number's median over the rounds,
#                        so a machine whose speed drifts over minutes biases no
#                        engine (default 1: DIR/<engine>.json)
# Anything else is passed to fwpm-bench, e.g. --benchmark_filter=mixed.
# Each engine runs in its own process (so allocator state and resident
# memory do not leak from one engine's run into the next), writing
# DIR/<engine>.json (or one file a round); report.py merges them into
# DIR/report.md and DIR/*.png.
# Plots need Debian's python3-matplotlib (/usr/bin/python3).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
mode=""
build="$repo/build-bench"
out=""
impls="memcpy fwpm mutex rwlock urcu snapcache"
impls_given=""
rounds=1
while [ $# -gt 0 ]; do
    case "$1" in
    --quick | --full | --smoke) mode=${1#--} ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --impls) impls=$(echo "$2" | tr ',' ' '); impls_given=$impls; shift ;;
    --rounds) rounds=$2; shift ;;
    *) break ;;
    esac
    shift
done
if [ -z "$mode" ]; then
    echo "usage: bench/run.sh --quick|--full|--smoke [--build DIR] [--out DIR] [--impls a,b] [--rounds N] [fwpm-bench args...]" >&2
    exit 2
fi
case "$rounds" in
'' | *[!0-9]* | 0) echo "run.sh: --rounds needs a positive number" >&2; exit 2 ;;
esac
out=${out:-"$here/results/$mode"}
if [ "$mode" = smoke ]; then
    impls=${impls_given:-"fwpm mutex"}
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build" \
        -DFWPM_BUILD_TESTS=OFF -DFWPM_BUILD_EXAMPLES=OFF >"$build.configure.log" 2>&1 ||
        { cat "$build.configure.log" >&2; exit 1; }
    mv "$build.configure.log" "$build/"
fi
# An existing build directory is used as configured: say so when its build
# type is not the project's default (read from CMakeLists.txt, its one
# copy), which the committed numbers use; the report records the type.
default_type=$(sed -n 's/^ *set(CMAKE_BUILD_TYPE \([A-Za-z]*\) CACHE.*/\1/p' "$repo/CMakeLists.txt")
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
if [ "$build_type" != "$default_type" ]; then
    echo "run.sh: $build is configured as '${build_type:-none}', not the default" \
        "'$default_type'; remove it or pass --build DIR for a default build" >&2
fi
cmake --build "$build" --target fwpm-bench -j"$(nproc)" >"$build/bench-build.log" 2>&1 ||
    { tail -40 "$build/bench-build.log" >&2; exit 1; }

if [ "$mode" = smoke ]; then
    smoke='^(open_close/.*/threads:[12]$|create_enum_handle/.*/n:1000/|enumerate_all/.*/n:1000$'
    smoke="$smoke|enum_page/.*/size:(10|100)/|mixed/.*/readers:1/writers:1/)"
    set -- --fwpm_quick --benchmark_min_time=0.01 --fwpm_mixed_seconds=0.2 \
        --benchmark_filter="$smoke" "$@"
elif [ "$mode" = quick ]; then
    set -- --fwpm_quick --benchmark_min_time=0.05 --fwpm_mixed_seconds=0.3 "$@"
else
    set -- --benchmark_min_time=0.5 --fwpm_mixed_seconds=2 "$@"
fi
mkdir -p "$out"
rm -f "$out"/*.json
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
compiler=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
# The engines of round $1 in its order: the rest of the arguments rotated
# left by $1 - 1 (a function has its own positional parameters).
round_order() {
    k=$1
    shift
    while [ "$k" -gt 1 ]; do
        first=$1
        shift
        set -- "$@" "$first"
        k=$((k - 1))
    done
    echo "$*"
}
round=1
while [ "$round" -le "$rounds" ]; do
    for impl in $(round_order "$round" $impls); do
        file="$out/$impl.json"
        [ "$rounds" -eq 1 ] || file="$out/$impl.r$round.json"
        "$build/bench/fwpm-bench" --fwpm_impls="$impl" \
            --benchmark_out="$file" --benchmark_out_format=json \
            --benchmark_context=commit="$commit" \
            --benchmark_context=build_type="$build_type" \
            --benchmark_context=compiler="$("$compiler" --version | head -n 1)" \
            "$@"
    done
    round=$((round + 1))
done
/usr/bin/python3 "$here/report.py" "$out"/*.json --out "$out"
