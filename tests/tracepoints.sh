#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The built library carries a stapsdt note for every tracepoint of
# core/trace.h, under provider fwpm. Usage: tracepoints.sh path/to/libfwpm.so
set -eu
lib=$1
notes=$(readelf -n "$lib")
missing=0
for probe in version_published snapshot_taken page_served reclaim_batch session_opened \
  session_closed; do
  if printf '%s\n' "$notes" | grep -A1 'Provider: fwpm$' | grep -q "Name: $probe\$"; then
    echo "ok: sdt_fwpm:$probe"
  else
    echo "missing: sdt_fwpm:$probe in $lib" >&2
    missing=1
  fi
done
exit $missing
