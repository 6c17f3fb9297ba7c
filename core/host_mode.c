/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_mode.c - FWPM_ENGINE, read once per process.
 */
#include "host_mode.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Atomic int host_mode_value = HOST_MODE_UNRESOLVED;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static char socket_path[PATH_MAX]; /* written inside resolve_once only */
static bool socket_path_valid;

static void set_path(const char *path)
{
    size_t n = strlen(path);
    socket_path_valid = n > 0 && n < sizeof(socket_path);
    if (socket_path_valid)
        memcpy(socket_path, path, n + 1);
}

static void resolve_from_environment(void)
{
    if (atomic_load_explicit(&host_mode_value, memory_order_relaxed) != HOST_MODE_UNRESOLVED)
        return; /* forced before the first call */
    const char *v = getenv("FWPM_ENGINE");
    int mode = HOST_MODE_LOCAL;
    if (v != NULL && v[0] != 0 && strcmp(v, "local") != 0) {
        mode = HOST_MODE_HOST;
        if (strcmp(v, "host") == 0)
            set_path(HOST_MODE_DEFAULT_SOCKET);
        else if (strncmp(v, "unix:", 5) == 0)
            set_path(v + 5);
    }
    atomic_store_explicit(&host_mode_value, mode, memory_order_relaxed);
}

int host_mode_resolve(void)
{
    /* pthread_once orders socket_path before every caller's read of it. */
    pthread_once(&resolve_once, resolve_from_environment);
    return atomic_load_explicit(&host_mode_value, memory_order_relaxed);
}

const char *host_mode_socket_path(void)
{
    host_mode_resolve();
    return socket_path_valid ? socket_path : NULL;
}

void host_mode_force_local(void)
{
    atomic_store_explicit(&host_mode_value, HOST_MODE_LOCAL, memory_order_relaxed);
    pthread_once(&resolve_once, resolve_from_environment);
}

void host_mode_force_host(const char *path)
{
    set_path(path);
    atomic_store_explicit(&host_mode_value, HOST_MODE_HOST, memory_order_relaxed);
    pthread_once(&resolve_once, resolve_from_environment);
}

void host_mode_set_socket_path(const char *path)
{
    host_mode_resolve(); /* first, so that the environment cannot overwrite path later */
    if (!socket_path_valid)
        set_path(path);
}
