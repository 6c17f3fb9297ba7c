/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_mode.h - which engine serves this process: the in-process engine (the
 * default) or the host engine fwpmd, chosen by FWPM_ENGINE.
 *
 *   unset, "" or "local"   the in-process engine
 *   "host"                 fwpmd at HOST_MODE_DEFAULT_SOCKET
 *   "unix:PATH"            fwpmd listening on PATH
 *   anything else          the host engine with no address: FwpmEngineOpen0
 *                          answers EPT_S_NOT_REGISTERED (a typo never falls
 *                          back silently to a private engine)
 *
 * The variable is read once per process, on the first call; a child of fork()
 * inherits the choice (and, in host mode, none of the parent's connections:
 * see host_client.h). Any thread may call these.
 */
#ifndef FWPM_CORE_HOST_MODE_H
#define FWPM_CORE_HOST_MODE_H

#include <stdatomic.h>
#include <stdbool.h>

#define HOST_MODE_DEFAULT_SOCKET "/run/fwpm/engine.sock"

enum host_mode {
    HOST_MODE_UNRESOLVED = 0,
    HOST_MODE_LOCAL = 1,
    HOST_MODE_HOST = 2,
};

/* The resolved mode; HOST_MODE_UNRESOLVED until the first call. Written
 * once by host_mode_resolve (or host_mode_force_local). */
extern _Atomic int host_mode_value;

/* Reads FWPM_ENGINE (once) and returns the mode. */
int host_mode_resolve(void);

/* True when this process's calls go to fwpmd. The in-process path pays one
 * relaxed load and one predictable branch. */
static inline bool host_mode_is_host(void)
{
    /* Relaxed: the value is written once, and host_mode_resolve orders what
     * depends on it (the socket path) through its own once-guard. */
    int mode = atomic_load_explicit(&host_mode_value, memory_order_relaxed);
    if (__builtin_expect(mode == HOST_MODE_UNRESOLVED, 0))
        mode = host_mode_resolve();
    return __builtin_expect(mode == HOST_MODE_HOST, 0);
}

/* The daemon's socket path in host mode; NULL when FWPM_ENGINE names no
 * usable address. Only after host_mode_is_host() returned true. */
const char *host_mode_socket_path(void);

/* Pins this process to the in-process engine whatever the environment says
 * (fwpmd hosts the core itself). Before any other fwpm call. */
void host_mode_force_local(void);

/* Chooses the host engine at path for this process (the fwpm tool's
 * --engine). Before any other fwpm call. */
void host_mode_force_host(const char *path);

/* Sets the daemon's socket path without choosing the host engine: for
 * callers of host_client.c's functions in an in-process-mode process
 * (fwpm-bench runs both engines side by side). Before any host call, from
 * one thread; FWPM_ENGINE, when it names a path, still wins. */
void host_mode_set_socket_path(const char *path);

#endif /* FWPM_CORE_HOST_MODE_H */
