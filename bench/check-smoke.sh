#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-smoke.sh - the bench pipeline end to end, in about 15 seconds:
# bench/run.sh --smoke on an existing build, into a scratch directory, then
# checks that report.md and every plot were written and are real PNGs (on a
# machine without python3-matplotlib, report.py skips the plots: this fails).
# Usage: bench/check-smoke.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$here/run.sh" --smoke --build "$1" --out "$out" >"$out/run.log" 2>&1 ||
    { tail -40 "$out/run.log"; exit 1; }
failed=0
for f in report.md open_close.png cost_vs_n.png enum_page.png mixed.png; do
    if [ ! -s "$out/$f" ]; then
        echo "FAIL: $f missing or empty"; failed=$((failed + 1))
    elif [ "${f##*.}" = png ] && ! file -b "$out/$f" | grep -q '^PNG image data'; then
        echo "FAIL: $f is not a PNG: $(file -b "$out/$f")"; failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ] || { grep -i 'report.py\|matplotlib' "$out/run.log"; exit 1; }
# Each engine's page is set against the floor its own run measured.
if ! grep -Eq '^\| 10 \|.*\| [0-9.]+ ns \([0-9.]+× [0-9.]+ ns\)' "$out/report.md"; then
    echo "FAIL: report.md has no page against its in-run floor"; exit 1
fi
echo "bench smoke: 6 passed, 0 failed"
