#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the Debian packages from a build tree (cpack -G DEB) into a scratch
# directory and checks them the way a Debian user meets them:
#   - libfwpm0, libfwpm-dev and fwpm-tools exist, with the Depends each needs;
#   - every file a full `cmake --install` writes is in exactly one package;
#   - the headers, pkg-config file and manual pages of sections 3 and 7 are in
#     libfwpm-dev, the shared library only in libfwpm0, the tools and their
#     section 1/8 pages in fwpm-tools;
#   - unpacked with dpkg -x into a scratch root, a client builds with
#     pkg-config against it and runs on the root's libfwpm.so.0, and the
#     root's fwpm-stress runs.
# Usage: package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failed=$((failed + 1)); fi
}

(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/debs" >"$work/cpack.log" 2>&1) ||
    { cat "$work/cpack.log"; exit 1; }
deb() { ls "$work"/debs/"$1"_*.deb; }
for p in libfwpm0 libfwpm-dev fwpm-tools; do
    check "package $p built" test -f "$(deb "$p")"
    dpkg-deb -c "$(deb "$p")" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort >"$work/$p.files"
done
version=$(dpkg-deb -f "$(deb libfwpm0)" Version)

# Depends: the -dev package and the tools pin the library's exact version.
depends() { dpkg-deb -f "$(deb "$1")" Depends; }
check "libfwpm0 depends on libjemalloc2" grep -q 'libjemalloc2' <<<"$(depends libfwpm0)"
check "libfwpm0 depends on libck0" grep -q 'libck0' <<<"$(depends libfwpm0)"
check "libfwpm-dev depends on libfwpm0 (= $version)" grep -qF "libfwpm0 (= $version)" <<<"$(depends libfwpm-dev)"
check "libfwpm-dev depends on libjemalloc-dev" grep -q 'libjemalloc-dev' <<<"$(depends libfwpm-dev)"
check "fwpm-tools depends on libfwpm0 (= $version)" grep -qF "libfwpm0 (= $version)" <<<"$(depends fwpm-tools)"
check "libfwpm0 has a shlibs file" grep -q shlibs <<<"$(dpkg-deb --ctrl-tarfile "$(deb libfwpm0)" | tar t)"

# Contents.
has() { grep -qx "$2" "$work/$1.files"; }
check "libfwpm0 has libfwpm.so.0" has libfwpm0 "/usr/lib.*/libfwpm\.so\.0"
check "libfwpm0 has no headers" bash -c "! grep -q '/include/' '$work/libfwpm0.files'"
check "libfwpm-dev has fwpmu.h" has libfwpm-dev "/usr/include/fwpm/fwpmu.h"
check "libfwpm-dev has libfwpm.a" has libfwpm-dev "/usr/lib.*/libfwpm\.a"
check "libfwpm-dev has the libfwpm.so link" has libfwpm-dev "/usr/lib.*/libfwpm\.so"
check "libfwpm-dev has fwpm.pc" has libfwpm-dev "/usr/lib.*/pkgconfig/fwpm\.pc"
check "libfwpm-dev has fwpmConfig.cmake" has libfwpm-dev "/usr/lib.*/cmake/fwpm/fwpmConfig\.cmake"
check "libfwpm-dev has the contract" has libfwpm-dev "/usr/share/doc/fwpm/contract\.md"
for page in "$src"/man/*.[37].scd; do
    page=$(basename "$page" .scd)
    check "libfwpm-dev has man${page##*.}/$page" has libfwpm-dev "/usr/share/man/man${page##*.}/$page"
done
for alias in FwpmEngineOpen FwpmSessionEnum FwpmFreeMemory fwpm_error_name; do
    check "libfwpm-dev has the alias $alias(3)" has libfwpm-dev "/usr/share/man/man3/$alias\.3"
done
check "fwpm-tools has fwpm-stress" has fwpm-tools "/usr/bin/fwpm-stress"
check "fwpm-tools has fwpm-stress(1)" has fwpm-tools "/usr/share/man/man1/fwpm-stress\.1"
for p in libfwpm0 libfwpm-dev fwpm-tools; do
    check "$p has its copyright file" has "$p" "/usr/share/doc/$p/copyright"
done

# Every installed file is in exactly one package (an install() rule without
# one of the three COMPONENTs would silently drop out of the packages).
cmake --install "$build" --prefix "$work/all" >/dev/null
(cd "$work/all" && find . ! -type d | sed 's|^\.|/usr|' | sort) >"$work/all.files"
sort "$work"/libfwpm0.files "$work"/libfwpm-dev.files "$work"/fwpm-tools.files >"$work/packaged.files"
check "every installed file is packaged once (missing or twice: $(comm -3 "$work/all.files" "$work/packaged.files" | tr -d '\t' | tr '\n' ' '))" \
    cmp -s "$work/all.files" "$work/packaged.files"

# Unpack into a scratch root and build a client against it with pkg-config.
root=$work/root
for p in libfwpm0 libfwpm-dev fwpm-tools; do dpkg -x "$(deb "$p")" "$root"; done
pcdir=$(dirname "$(find "$root" -name fwpm.pc)")
libdir=$(dirname "$pcdir")
# The .pc file is relocatable (its prefix comes from where it lies): no sysroot.
cflags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags fwpm)
libs=$(PKG_CONFIG_PATH=$pcdir pkg-config --libs fwpm)
incdir=$(sed -n 's/.*-I\([^ ]*fwpm\) .*/\1/p' <<<"$cflags ")
check "pkg-config --cflags gives the root's include/fwpm ($cflags)" \
    test "$(realpath -m "$incdir")" = "$root/usr/include/fwpm"
# shellcheck disable=SC2086
check "a client builds with pkg-config against the root" \
    cc -Wall -Wextra -Werror "$src/tests/install/client.c" $cflags $libs -o "$work/client"
check "the client runs on the root's libfwpm.so.0" env LD_LIBRARY_PATH="$libdir" "$work/client"
check "the client loaded the root's library" \
    grep -qF "$libdir/libfwpm.so.0" <<<"$(LD_LIBRARY_PATH="$libdir" ldd "$work/client")"
check "the root's fwpm-stress runs" env LD_LIBRARY_PATH="$libdir" \
    "$root/usr/bin/fwpm-stress" --seconds 0.2 --no-progress --json >/dev/null
check "man -l formats the root's FwpmSessionEnum0(3)" \
    bash -c "MANWIDTH=80 man -l '$root/usr/share/man/man3/FwpmSessionEnum0.3' | grep -q 'exactly once'"

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
