/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * handles.h - the table that turns HANDLE values into engine objects.
 *
 * A handle value encodes a slot index, the slot's generation and the kind of
 * object, plus a tag; nothing is dereferenced before the value has been
 * checked against the table, so NULL, garbage, stale (closed, destroyed) and
 * reused values, and values inherited across fork(), are all recognised and
 * rejected. Destroying a handle bumps
 * its slot's generation, so the value never becomes valid again (a slot
 * whose 32-bit generation is used up is retired for good).
 *
 * Any thread may call any function; lookups are lock-free and must run inside
 * an epoch section, which keeps the object they return alive until the
 * section ends. The object's owner frees it only after handles_remove and a
 * grace period. (A close carries the session it looked up out of its section
 * and touches it only after its handles_invalidate won: engine.c.)
 */
#ifndef FWPM_CORE_HANDLES_H
#define FWPM_CORE_HANDLES_H

#include "fwpmu.h"

#include <stdbool.h>
#include <stdint.h>

enum handle_kind {
    HANDLE_KIND_ENGINE = 1,
    HANDLE_KIND_ENUM = 2,
};

/* Reserves a slot and returns the handle value it will have; NULL when out
 * of memory or when the table is full. The handle is not valid yet. */
HANDLE handles_reserve(enum handle_kind kind);

/* Makes a reserved handle valid, naming object. */
void handles_publish(HANDLE h, void *object);

/* Gives back a reserved handle that was never published. */
void handles_cancel(HANDLE h);

/* The object of a valid handle of this kind, or NULL. Inside a section. */
void *handles_lookup(HANDLE h, enum handle_kind kind);

/* Invalidates a published handle. Exactly one of several racing callers gets
 * true; it then owns the object's teardown. handles_invalidate and then
 * handles_release, in one call. */
bool handles_remove(HANDLE h, enum handle_kind kind);

/* The two steps of handles_remove, for a caller that must decide the race
 * inside a critical section and would rather not touch the free list there.
 * handles_invalidate: as handles_remove, but the slot is not reused yet;
 * the winner calls handles_release(h) once, at any time after. */
bool handles_invalidate(HANDLE h, enum handle_kind kind);
void handles_release(HANDLE h);

/* In a fork child, by the fork handler alone (the child has one thread): no
 * inherited handle is valid from here on, and none the child makes can
 * equal one. O(1): the inherited slots are taken back lazily. */
void handles_reset_after_fork(void);

/* Test hook: limits the table to at most max slots (0: the built-in limit).
 * Only before any handle exists beyond max. */
void handles_set_limit(uint32_t max);

#endif /* FWPM_CORE_HANDLES_H */
