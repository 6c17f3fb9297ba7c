/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_sdbus.c - loading sd-bus from libsystemd.so.0, once per process.
 */
#include "host_sdbus.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct host_sdbus functions;
static bool loaded; /* written inside load_once only */

/* One symbol into *slot; false when missing. */
static bool find(void *lib, const char *name, void *slot)
{
    void *f = dlsym(lib, name);
    *(void **)slot = f;
    return f != NULL;
}

static void load(void)
{
    void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return;
    struct host_sdbus *f = &functions;
    loaded = find(lib, "sd_bus_new", &f->bus_new) && find(lib, "sd_bus_set_fd", &f->bus_set_fd) &&
             find(lib, "sd_bus_set_method_call_timeout", &f->bus_set_method_call_timeout) &&
             find(lib, "sd_bus_start", &f->bus_start) && find(lib, "sd_bus_unref", &f->bus_unref) &&
             find(lib, "sd_bus_flush_close_unref", &f->bus_flush_close_unref) &&
             find(lib, "sd_bus_call", &f->bus_call) &&
             find(lib, "sd_bus_message_new_method_call", &f->message_new_method_call) &&
             find(lib, "sd_bus_message_unref", &f->message_unref) &&
             find(lib, "sd_bus_message_appendv", &f->message_appendv) &&
             find(lib, "sd_bus_message_append_array", &f->message_append_array) &&
             find(lib, "sd_bus_message_read", &f->message_read) &&
             find(lib, "sd_bus_message_read_array", &f->message_read_array);
    /* The library stays loaded for the life of the process. */
}

const struct host_sdbus *host_sdbus(void)
{
    /* pthread_once orders the table before every reader. */
    pthread_once(&load_once, load);
    return loaded ? &functions : NULL;
}
