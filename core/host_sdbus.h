/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_sdbus.h - the sd-bus functions the client transport uses, found in
 * libsystemd.so.0 at run time (dlopen) the first time a process uses the
 * host engine. So libfwpm needs no libsystemd to link (libfwpm.a links fully
 * static) and an in-process-only program never loads it. Immutable once
 * loaded; any thread.
 */
#ifndef FWPM_CORE_HOST_SDBUS_H
#define FWPM_CORE_HOST_SDBUS_H

#include <stdarg.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

struct host_sdbus {
    int (*bus_new)(sd_bus **);
    int (*bus_set_fd)(sd_bus *, int, int);
    int (*bus_set_method_call_timeout)(sd_bus *, uint64_t);
    int (*bus_start)(sd_bus *);
    sd_bus *(*bus_unref)(sd_bus *);
    sd_bus *(*bus_flush_close_unref)(sd_bus *);
    int (*bus_call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
    int (*message_new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *,
                                   const char *, const char *);
    sd_bus_message *(*message_unref)(sd_bus_message *);
    int (*message_appendv)(sd_bus_message *, const char *, va_list);
    int (*message_append_array)(sd_bus_message *, char, const void *, size_t);
    int (*message_read)(sd_bus_message *, const char *, ...);
    int (*message_read_array)(sd_bus_message *, char, const void **, size_t *);
};

/* The functions, or NULL when libsystemd.so.0 cannot be loaded. */
const struct host_sdbus *host_sdbus(void);

#endif /* FWPM_CORE_HOST_SDBUS_H */
