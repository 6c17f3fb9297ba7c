#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# libfwpm.so inlines no `rep movs`/`rep stos`: page copies (and every other copy
# of a size known only at run time) call libc's vectorized memcpy, which is
# faster for the few hundred bytes of a page. core/CMakeLists.txt gives every
# file -mstringop-strategy=libcall; a copy inlined into a file that lacked it
# (as LTO inlines vector_copy into FwpmSessionEnum0) was generated as
# `rep movsq` and made pages of 100 entries about 45% slower (143 against
# 97 ns in fwpm-bench).
# Usage: no_inline_string_moves.sh PATH/libfwpm.so
set -euo pipefail
found=$(objdump -d --no-show-raw-insn "$1" |
  awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 } /rep (movs|stos)/ { print fn }' | sort -u)
if [ -n "$found" ]; then
  echo "$1: rep movs/stos inlined in:"
  echo "$found" | sed 's/^/  /'
  exit 1
fi
echo "$1: no rep movs/stos"
