/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_names.h - a host's own functions that happen to carry names fwpm uses
 * internally. Linked beside fwpm, each must still be the host's own: fwpm's
 * copies are local to the library and neither clash nor bind.
 */
#ifndef FWPM_TESTS_LINK_HOST_NAMES_H
#define FWPM_TESTS_LINK_HOST_NAMES_H

/* In host_static.c (the program itself): return 101, 102, 103; in
 * libfwpm_link_host_names.so (for host_beside.c): 201, 202, 203. */
int memory_alloc(void);
int handles_lookup(void);
int version_acquire_current(void);

/* In libfwpm_link_host_names.so, whose own memory_alloc, handles_lookup and
 * version_acquire_current return 201, 202, 203: 0 when its calls reach them. */
int host_names_probe(void);

#endif /* FWPM_TESTS_LINK_HOST_NAMES_H */
