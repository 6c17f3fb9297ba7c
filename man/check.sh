#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Checks the manual pages: every man/*.scd renders with scdoc, and man(1) and
# groff format the result without a single warning; every link of the build
# resolves to a page; every function the installed headers declare has a
# section-3 page or link, and so has every version-independent name of fwpvi.h;
# every option that a tool's --help lists is described in the tool's page.
# Usage: check.sh MAN_SOURCE_DIR MAN_BUILD_DIR INCLUDE_DIR [PAGE=TOOL...]
set -euo pipefail
src=$1
build=$2
include=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
passed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

for scd in "$src"/*.scd; do
    page=$(basename "$scd" .scd)
    if ! scdoc <"$scd" >"$work/$page" 2>"$work/err"; then
        fail "$page: scdoc: $(cat "$work/err")"
        continue
    fi
    warnings=$(MANWIDTH=80 man -l --warnings "$work/$page" 2>&1 >/dev/null || echo "man exited $?")
    warnings+=$(groff -man -ww -z "$work/$page" 2>&1 || echo "groff exited $?")
    if [ -n "$warnings" ]; then
        fail "$page: $warnings"
        continue
    fi
    cmp -s "$work/$page" "$build/$page" || fail "$page: the build's rendering is stale or missing"
    passed=$((passed + 1))
done

for link in "$build"/*.[0-9]; do
    [ -L "$link" ] || continue
    if [ -f "$link" ]; then passed=$((passed + 1)); else fail "$(basename "$link"): dangling link"; fi
done

functions=$(sed -n 's/^FWPM_API[^(]*[ *]\([A-Za-z_0-9]*\)(.*/\1/p' "$include"/*.h)
aliases=$(sed -n 's/^#define \(Fwpm[A-Za-z]*\) Fwpm.*/\1/p' "$include"/fwpvi.h)
for fn in $(echo "$functions" "$aliases" | sort -u); do
    if [ -e "$build/$fn.3" ]; then passed=$((passed + 1)); else fail "$fn: no manual page"; fi
done

for pair in "$@"; do
    page=${pair%%=*}
    tool=${pair#*=}
    for option in $("$tool" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        if grep -qF -- "*$option*" "$src/$page.scd"; then
            passed=$((passed + 1))
        else
            fail "$page: $(basename "$tool") --help lists $option, the page does not"
        fi
    done
done

echo "man: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
