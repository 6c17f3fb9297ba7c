#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# with_fwpmd.sh FWPMD COMMAND [ARGS...]
# Runs COMMAND in host mode against a private fwpmd: a fresh socket in a
# temporary directory (mode 0755, so a test that drops to nobody can reach
# it), FWPM_ENGINE=unix:<socket> in COMMAND's environment and
# FWPM_TEST_FWPMD=<the daemon binary> for tests that start daemons of their
# own. Fails if COMMAND fails or if fwpmd does not exit cleanly on SIGTERM.
set -u
fwpmd=$1
shift
dir=$(mktemp -d)
chmod 0755 "$dir"
sock=$dir/engine.sock
"$fwpmd" --socket "$sock" 2>"$dir/fwpmd.log" &
daemon=$!
# fwpmd renames its socket into place once it listens: wait for the name.
for _ in $(seq 1 500); do
  [ -S "$sock" ] && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.01
done
if [ ! -S "$sock" ]; then
  echo "with_fwpmd: fwpmd did not start" >&2
  cat "$dir/fwpmd.log" >&2
  exit 1
fi
FWPM_ENGINE=unix:$sock FWPM_TEST_FWPMD=$fwpmd "$@"
status=$?
kill -TERM "$daemon"
wait "$daemon"
daemon_status=$?
if [ "$daemon_status" -ne 0 ]; then
  echo "with_fwpmd: fwpmd exited with $daemon_status" >&2
  cat "$dir/fwpmd.log" >&2
  status=1
fi
grep -q 'fwpmd: stopped' "$dir/fwpmd.log" || { echo "with_fwpmd: no clean stop" >&2; status=1; }
rm -rf "$dir"
exit "$status"
