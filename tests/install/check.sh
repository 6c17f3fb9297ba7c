#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the build into a scratch prefix and builds clients against it the
# ways hosts do, each of which runs and must pass:
#   - client.c with `pkg-config --cflags --libs fwpm` and with CMake's
#     find_package(fwpm) -> fwpm::fwpm (open and close a session);
#   - tests/link's hosts, whose own functions carry fwpm's internal names and
#     whose malloc must stay glibc's while jemalloc serves fwpm:
#       host_beside (+ a host shared library) with pkg-config, libfwpm.so;
#       host_static with `pkg-config --static --libs fwpm`, libfwpm.a, glibc shared;
#       host_static fully static (cc -static) with `pkg-config --static --libs fwpm`;
#       host_beside with find_package(fwpm) -> fwpm::fwpm;
#       host_static with find_package(fwpm) -> fwpm::fwpm_static.
# Usage: check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name fwpm.pc | head -n 1)")/..
link=$src/tests/link
cflags=(-Wall -Wextra -Werror -D_GNU_SOURCE)
passed=0

run() { # program: runs it, counts it
  "$@"
  passed=$((passed + 1))
}

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc "${cflags[@]}" "$src/tests/install/client.c" $(pkg-config --cflags --libs fwpm) \
  -Wl,-rpath,"$libdir" -o "$work/client-pkgconfig"
run "$work/client-pkgconfig"

cc "${cflags[@]}" -shared -fPIC "$link/host_names_lib.c" -o "$work/libhostnames.so"
# shellcheck disable=SC2046
cc "${cflags[@]}" "$link/host_beside.c" "$link/cycle.c" "$work/libhostnames.so" \
  $(pkg-config --cflags --libs fwpm) -Wl,-rpath,"$libdir" -Wl,-rpath,"$work" \
  -o "$work/host-beside-shared"
run "$work/host-beside-shared"

# libfwpm.a with a shared glibc: -lfwpm would pick libfwpm.so, so name the archive.
static_libs=$(pkg-config --static --libs fwpm | sed 's/-lfwpm /-l:libfwpm.a /')
# shellcheck disable=SC2046,SC2086
cc "${cflags[@]}" "$link/host_static.c" "$link/cycle.c" $(pkg-config --cflags fwpm) \
  $static_libs -o "$work/host-static"
run "$work/host-static"

# Fully static. glibc warns that dlopen/getpwuid_r need its shared libraries
# at run time; the program runs without them here.
# shellcheck disable=SC2046
cc -static "${cflags[@]}" "$link/host_static.c" "$link/cycle.c" \
  $(pkg-config --static --cflags --libs fwpm) -o "$work/host-full-static" 2>"$work/ld.log" ||
  { cat "$work/ld.log"; exit 1; }
run "$work/host-full-static"

mkdir -p "$work/cmake-client"
cat >"$work/cmake-client/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(client C)
find_package(fwpm REQUIRED)
add_executable(client "$src/tests/install/client.c")
target_link_libraries(client PRIVATE fwpm::fwpm)
add_executable(host_beside "$link/host_beside.c" "$link/cycle.c")
target_link_libraries(host_beside PRIVATE fwpm::fwpm "$work/libhostnames.so")
target_compile_definitions(host_beside PRIVATE _GNU_SOURCE)
add_executable(host_static "$link/host_static.c" "$link/cycle.c")
target_link_libraries(host_static PRIVATE fwpm::fwpm_static)
target_compile_definitions(host_static PRIVATE _GNU_SOURCE)
CMAKE
cmake -S "$work/cmake-client" -B "$work/cmake-client/build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-client/build" >/dev/null
run "$work/cmake-client/build/client"
run "$work/cmake-client/build/host_beside"
run "$work/cmake-client/build/host_static"
echo "install: $passed passed, 0 failed"
