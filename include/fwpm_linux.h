/*
 * fwpm_linux.h - fwpm's own additions for Linux, beyond the Windows API:
 * readable error codes and a view of the library's memory. Including
 * <fwpmu.h> does not pull this in; include it explicitly.
 */
#ifndef FWPM_LINUX_H
#define FWPM_LINUX_H

#include "fwpmu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The symbolic name of an error code ("FWP_E_WRONG_SESSION"), or
 * "UNKNOWN_ERROR" for a code fwpm does not know. Never NULL. */
FWPM_API const char *fwpm_error_name(DWORD code);

/* A one-line message for an error code: its name and what it means, e.g.
 * "FWP_E_WRONG_SESSION (0x8032000C): The call was made from the wrong
 * session.". Never NULL; the string is static. */
FWPM_API const char *fwpm_strerror(DWORD code);

/* What the library holds in memory right now. */
typedef struct FWPM_MEMORY_STATS0_ {
    UINT64 liveBytes;           /* bytes of sessions, snapshots, handles, arrays */
    UINT64 liveAllocations;     /* number of such blocks */
    UINT64 infrastructureBytes; /* per-thread and handle-table memory, kept for reuse */
    UINT64 openSessions;        /* sessions open now */
    UINT64 liveSnapshots;       /* snapshot versions still referenced */
} FWPM_MEMORY_STATS0;

/* Fills *stats. Memory of closed sessions and released snapshots is freed
 * after a grace period; call fwpm_reclaim() first for an exact figure. */
FWPM_API DWORD fwpm_memory_stats(FWPM_MEMORY_STATS0 *stats);

/* Which allocator serves the library's own memory: "jemalloc" or "system".
 * Never NULL; the string is static. Chosen once, at the library's first
 * allocation (this call makes that choice if nothing has allocated yet), and
 * never changes for the life of the process. jemalloc (through its own API,
 * mallocx/sdallocx, never as the host's malloc) serves whenever it can be had:
 * the static library carries its own; libfwpm.so uses the process's jemalloc
 * when one is loaded (programs linked with `pkg-config --libs fwpm` or
 * fwpm::fwpm load it at start-up) and otherwise tries to dlopen it, which
 * fails in a process that did not load it at start-up (jemalloc needs static
 * TLS): then, as in Python ctypes or a plugin host, "system" (malloc/free).
 * Sanitizer builds always report "system". Any thread may call it. */
FWPM_API const char *fwpm_allocator_name(void);

/* Waits until every thread has left the engine once, then frees everything
 * that no snapshot or returned array still uses. Blocks; call it from a
 * thread that is not inside an fwpm call. */
FWPM_API void fwpm_reclaim(void);

#ifdef __cplusplus
}
#endif

#endif /* FWPM_LINUX_H */
