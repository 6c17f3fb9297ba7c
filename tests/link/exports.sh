#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The shipped libraries define only Fwpm* and fwpm_* (and FWPM_*) global names.
# No linker-generated name is allowed either: the version script leaves none in
# libfwpm.so's dynamic table, and objcopy localizes all of them in libfwpm.a.
# Usage: exports.sh PATH/libfwpm.so PATH/libfwpm.a
set -euo pipefail
api='^(Fwpm|fwpm_|FWPM_)'
status=0
check() { # what, list of defined global names
  local what=$1 names=$2 total others
  total=$(grep -c . <<<"$names" || true)
  others=$(grep -Ev "$api" <<<"$names" || true)
  echo "$what: $total global names defined, $(grep -c . <<<"$others" || true) outside the API"
  if [ -n "$others" ]; then
    echo "$others" | head -n 20 | sed 's/^/  /'
    status=1
  fi
}
check "$1 (nm -D --defined-only)" "$(nm -D --defined-only "$1" | awk '{print $NF}')"
check "$2 (nm -g --defined-only)" "$(nm -g --defined-only "$2" | awk 'NF == 3 {print $3}')"
[ "$status" -eq 0 ] && echo "link_exports: 2 passed, 0 failed" || echo "link_exports: failed"
exit "$status"
