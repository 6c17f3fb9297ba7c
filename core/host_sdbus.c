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

/* One symbol into *out (a function pointer); false when missing. */
static bool sdbus_symbol_find(void *lib, const char *name, void *out)
{
    void *f = dlsym(lib, name);
    *(void **)out = f;
    return f != NULL;
}

static void sdbus_load(void)
{
    void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return;
    struct host_sdbus *f = &functions;
    loaded =
        sdbus_symbol_find(lib, "sd_bus_new", &f->bus_new) &&
        sdbus_symbol_find(lib, "sd_bus_set_fd", &f->bus_set_fd) &&
        sdbus_symbol_find(lib, "sd_bus_set_method_call_timeout", &f->bus_set_method_call_timeout) &&
        sdbus_symbol_find(lib, "sd_bus_start", &f->bus_start) &&
        sdbus_symbol_find(lib, "sd_bus_unref", &f->bus_unref) &&
        sdbus_symbol_find(lib, "sd_bus_flush_close_unref", &f->bus_flush_close_unref) &&
        sdbus_symbol_find(lib, "sd_bus_call", &f->bus_call) &&
        sdbus_symbol_find(lib, "sd_bus_message_new_method_call", &f->message_new_method_call) &&
        sdbus_symbol_find(lib, "sd_bus_message_unref", &f->message_unref) &&
        sdbus_symbol_find(lib, "sd_bus_message_appendv", &f->message_appendv) &&
        sdbus_symbol_find(lib, "sd_bus_message_append_array", &f->message_append_array) &&
        sdbus_symbol_find(lib, "sd_bus_message_read", &f->message_read) &&
        sdbus_symbol_find(lib, "sd_bus_message_read_array", &f->message_read_array);
    /* The library stays loaded for the life of the process. */
}

const struct host_sdbus *host_sdbus(void)
{
    /* pthread_once orders the table before every reader. */
    pthread_once(&load_once, sdbus_load);
    return loaded ? &functions : NULL;
}
