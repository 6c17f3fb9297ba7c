# SPDX-License-Identifier: BSD-2-Clause
# common.sh - shared by perf/stat and perf/profile (sourced, not run).
#
# Finds or builds fwpm-stress in a profiling build (RelWithDebInfo, frame
# pointers), resolves the command to measure, and checks that perf is
# installed and allowed to run.

FWPM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FWPM_PERF_BUILD=${FWPM_PERF_BUILD:-$FWPM_REPO/build-perf}
FWPM_STRESS=$FWPM_PERF_BUILD/perf/fwpm-stress
FWPM_STATIC_LIB=$FWPM_PERF_BUILD/core/libfwpm.a
FWPM_BUILD_LOG=$FWPM_PERF_BUILD/perf-scripts-build.log

say() { printf '%s: %s\n' "$FWPM_TOOL" "$*" >&2; }
die() { say "$@"; exit 1; }

# Configures (once) and builds fwpm-stress with frame pointers and debug info.
# FWPM_PERF_REBUILD=0 skips the build when the binary exists.
fwpm_build_stress() {
    if [[ -x $FWPM_STRESS && ${FWPM_PERF_REBUILD:-1} == 0 ]]; then
        return 0
    fi
    mkdir -p "$FWPM_PERF_BUILD"
    if [[ ! -f $FWPM_PERF_BUILD/CMakeCache.txt ]]; then
        say "configuring a profiling build in $FWPM_PERF_BUILD (RelWithDebInfo, frame pointers)"
        cmake -S "$FWPM_REPO" -B "$FWPM_PERF_BUILD" \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DCMAKE_C_FLAGS="-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" \
            -DCMAKE_CXX_FLAGS="-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" \
            -DFWPM_BUILD_TESTS=OFF -DFWPM_BUILD_BENCH=OFF -DFWPM_BUILD_EXAMPLES=OFF \
            >"$FWPM_BUILD_LOG" 2>&1 ||
            { cat "$FWPM_BUILD_LOG" >&2; die "cmake configure failed"; }
    fi
    if ! cmake --build "$FWPM_PERF_BUILD" --target fwpm-stress fwpm -j "$(nproc)" \
        >"$FWPM_BUILD_LOG" 2>&1; then
        if [[ -x $FWPM_STRESS ]]; then
            say "warning: the build failed (see $FWPM_BUILD_LOG); using the existing $FWPM_STRESS"
        else
            cat "$FWPM_BUILD_LOG" >&2
            die "building fwpm-stress failed"
        fi
    fi
}

# Sets FWPM_CMD (an array) from the arguments after "--", or the default run.
# A bare "fwpm-stress" means the one built here.
fwpm_resolve_command() {
    if (($# == 0)); then
        fwpm_build_stress
        FWPM_CMD=("$FWPM_STRESS" --no-progress)
        return
    fi
    FWPM_CMD=("$@")
    if [[ $1 == fwpm-stress ]]; then
        fwpm_build_stress
        FWPM_CMD[0]=$FWPM_STRESS
    fi
}

# Dies with instructions when perf is missing or refused.
fwpm_check_perf() {
    if ! command -v perf >/dev/null 2>&1; then
        die "perf is not installed. Debian: apt-get install linux-perf; Ubuntu: apt-get install linux-tools-common linux-tools-\$(uname -r); Fedora: dnf install perf"
    fi
    local out
    if ! out=$(perf stat -e task-clock -x, true 2>&1); then
        say "perf cannot count events here:"
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        local paranoid
        paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo '?')
        say "kernel.perf_event_paranoid is $paranoid. Unprivileged profiling of your own"
        say "processes needs <= 2 (kernel symbols need <= 1): sudo sysctl kernel.perf_event_paranoid=1"
        say "In a container, perf_event_open may also be blocked by seccomp (docker --privileged"
        say "or --cap-add PERFMON/SYS_ADMIN)."
        exit 1
    fi
}

# True when hardware counters (cycles, instructions) really count here.
fwpm_have_hardware_counters() {
    local out
    out=$(perf stat -x, -e cycles,instructions true 2>&1) || return 1
    # CSV: "<not supported>" or "<not counted>" in the value field when absent.
    ! grep -q -e '<not supported>' -e '<not counted>' <<<"$out"
}
