#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_cli.sh FWPM - the fwpm command line against the daemon FWPM_ENGINE
# names (run under with_fwpmd.sh): the table, --json, --engine, and metrics
# that promtool accepts.
set -euo pipefail
fwpm=$1
sock=${FWPM_ENGINE#unix:}
table=$("$fwpm" sessions)
echo "$table"
echo "$table" | head -1 | grep -q '^KEY .*PID .*USER .*FLAGS .*NAME .*DESCRIPTION$'
echo "$table" | grep -q " $(id -un) .*fwpm sessions"
json=$(env -u FWPM_ENGINE "$fwpm" --engine "unix:$sock" sessions --json)
echo "$json"
echo "$json" | /usr/bin/python3 -c '
import json, sys
a = json.load(sys.stdin)
assert isinstance(a, list) and any(e["name"] == "fwpm sessions" for e in a), a
assert all(set(e) == {"key", "pid", "user", "flags", "name", "description"} for e in a)'
metrics=$("$fwpm" metrics)
echo "$metrics"
echo "$metrics" | grep -q '^fwpm_sessions_opened_total [1-9]'
echo "$metrics" | grep -q '^fwpm_daemon_memory_bytes{kind="resident"} [1-9]'
if command -v promtool >/dev/null; then
  echo "$metrics" | promtool check metrics
fi
# No daemon: the RPC error, named.
if env FWPM_ENGINE=unix:/nonexistent/fwpm.sock "$fwpm" sessions 2>err.txt; then exit 1; fi
grep -q 'EPT_S_NOT_REGISTERED (1753)' err.txt
rm -f err.txt
echo "test_cli: passed"
