/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpm_linux.h - fwpm's own additions for Linux, beyond the Windows API:
 * readable error codes, a view of the library's memory and of its allocator
 * (contract §2.7, share/doc/fwpm/contract.md; man 3 fwpm_strerror,
 * fwpm_memory_stats, fwpm_reclaim, fwpm_allocator_name). Including <fwpmu.h>
 * does not pull this in; include it explicitly.
 *
 * Every function here may be called from any number of threads at once.
 */
#ifndef FWPM_LINUX_H
#define FWPM_LINUX_H

#include "fwpmu.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * fwpm_error_name - the symbolic name of an error code.
 *
 * code  any DWORD, typically a result of the API.
 *
 * Returns "FWP_E_WRONG_SESSION" and the like for every code of
 * <fwpm_winerror.h>, "UNKNOWN_ERROR" for any other value. Never NULL; the
 * string is static and must not be freed or written.
 */
FWPM_API const char *fwpm_error_name(DWORD code);

/*
 * fwpm_strerror - a one-line message for an error code: its name, value and
 * meaning, e.g. "FWP_E_WRONG_SESSION (0x8032000C): The call was made from
 * the wrong session."; "UNKNOWN_ERROR: unknown error code" for a code fwpm
 * does not know. Never NULL; the string is static and must not be freed or
 * written (unlike strerror(3), no call overwrites it).
 */
FWPM_API const char *fwpm_strerror(DWORD code);

/* What the library holds in memory at one moment (fwpm_memory_stats). */
typedef struct FWPM_MEMORY_STATS0_ {
    UINT64 liveBytes;           /* bytes of sessions, snapshots, handles, arrays (size classes) */
    UINT64 liveAllocations;     /* number of such blocks */
    UINT64 infrastructureBytes; /* per-thread and handle-table memory, kept for reuse */
    UINT64 openSessions;        /* sessions open now */
    UINT64 liveSnapshots;       /* snapshot versions still referenced */
} FWPM_MEMORY_STATS0;

/*
 * fwpm_memory_stats - what the library holds in memory right now.
 *
 * stats  receives the figures; written only on success.
 *
 * Returns:
 *   ERROR_SUCCESS            *stats is filled;
 *   FWP_E_NULL_POINTER       stats is NULL;
 *   ERROR_NOT_ENOUGH_MEMORY  the engine could not be set up.
 * Memory of closed sessions and released snapshots is freed after a grace
 * period, so under churn the figures include some that is about to go; call
 * fwpm_reclaim() first for an exact figure. With other threads running, each
 * field is exact for some moment during the call, not all for the same one.
 */
FWPM_API DWORD fwpm_memory_stats(FWPM_MEMORY_STATS0 *stats);

/*
 * fwpm_allocator_name - which allocator serves the library's own memory
 * (contract §6.4): "jemalloc" (through its own API, mallocx/sdallocx, never
 * as the host's malloc) or "system" (malloc/free).
 *
 * Returns a static string, never NULL; do not free it or write to it.
 * jemalloc serves whenever it can be had: the static library carries its
 * own; libfwpm.so uses the process's jemalloc when one is loaded (programs
 * linked with `pkg-config --libs fwpm` or fwpm::fwpm load it at start-up) and
 * otherwise tries to dlopen it, which fails in a process that did not load it
 * at start-up (jemalloc needs static TLS): then, as in Python ctypes or a
 * plugin host, "system". Sanitizer builds always report "system".
 * The choice is made once, at the library's first allocation (this call
 * makes it if nothing has allocated yet), and never changes for the life of
 * the process.
 * Concurrency: any thread may call it, at any time.
 */
FWPM_API const char *fwpm_allocator_name(void);

/*
 * fwpm_reclaim - frees now everything no snapshot and no returned array still
 * uses, instead of after the usual grace period (contract §5.3), and gives the
 * pages of the library's allocator arena that this left empty back to the
 * kernel (§6.4), after flushing the calling thread's jemalloc cache: a system
 * call per run of such pages, which later allocations fault in again.
 *
 * Waits until every thread inside an fwpm call has left it once; never needed
 * for memory to stay bounded.
 * Do not: call it from inside an fwpm call (a signal handler interrupting
 * one): it would wait for itself.
 */
FWPM_API void fwpm_reclaim(void);

#ifdef __cplusplus
}
#endif

#endif /* FWPM_LINUX_H */
