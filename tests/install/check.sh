#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the build into a scratch prefix and builds a client against it
# twice: with `pkg-config --cflags --libs fwpm` and with CMake's
# find_package(fwpm) -> fwpm::fwpm. Both clients open and close a session.
# Usage: check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name fwpm.pc | head -n 1)")/..

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$src/tests/install/client.c" $(pkg-config --cflags --libs fwpm) \
  -Wl,-rpath,"$libdir" -o "$work/client-pkgconfig"
"$work/client-pkgconfig"

mkdir -p "$work/cmake-client"
cat >"$work/cmake-client/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(client C)
find_package(fwpm REQUIRED)
add_executable(client "$src/tests/install/client.c")
target_link_libraries(client PRIVATE fwpm::fwpm)
CMAKE
cmake -S "$work/cmake-client" -B "$work/cmake-client/build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-client/build" >/dev/null
"$work/cmake-client/build/client"
echo "install: 2 passed, 0 failed"
