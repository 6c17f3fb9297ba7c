/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * container_of.h - from a pointer to a member back to the object holding it.
 *
 * The one place the library does this arithmetic. A macro, since it needs
 * the type: container_of(p, struct t, member) is the struct t whose member
 * p points to. p must point into a struct t (never NULL).
 */
#ifndef FWPM_CORE_CONTAINER_OF_H
#define FWPM_CORE_CONTAINER_OF_H

#include <stddef.h>

#define container_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

#endif /* FWPM_CORE_CONTAINER_OF_H */
