/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * support.h - small helpers shared by the Criterion suites.
 */
#ifndef FWPM_TESTS_SUPPORT_H
#define FWPM_TESTS_SUPPORT_H

#include <fwpm_linux.h>

#include <stdbool.h>
#include <stddef.h>

/* Opens an anonymous session; asserts success. */
HANDLE open_session(void);

/* Opens a session with this name (and optional description); asserts success. */
HANDLE open_named(const wchar_t *name, const wchar_t *description);

/* Closes; asserts success. */
void close_session(HANDLE engine);

/* Pages through a fresh handle of `engine` with the given page size, stopping
 * on a short page (stop_on_short) or on an empty one; fills keys (up to max)
 * and returns how many entries were delivered. Asserts every call succeeds
 * and no page exceeds its request. */
size_t enumerate_keys(HANDLE engine, UINT32 page_size, bool stop_on_short, GUID *keys, size_t max);

/* True when `key` is among the n keys. */
bool contains_key(const GUID *keys, size_t n, const GUID *key);

/* Memory after reclamation (exact when no other thread is in the library). */
UINT64 live_bytes_now(void);

#endif
