/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enumeration.h - enumeration handles and the pages they hand out.
 *
 * An enumeration holds a snapshot (one reference to the version current when
 * it was created) and an atomic cursor. Any number of threads may page one
 * enumeration at once: each page takes its reference and claims its range
 * of the version with one compare-and-swap on a word that holds both, so
 * every entry is delivered exactly once, and copies the entry pointers out
 * of the immutable version without a lock.
 *
 * A page is returned as an array of FWPM_SESSION0 pointers preceded by a
 * hidden header that holds a reference to the enumeration, which holds the
 * version, so the entries stay valid until the array is freed, whatever
 * happens to the handle or the sessions meanwhile.
 *
 * All functions except enumeration_page_fill and enumeration_free_page run
 * inside an epoch section.
 */
#ifndef FWPM_CORE_ENUMERATION_H
#define FWPM_CORE_ENUMERATION_H

#include "fwpmu.h"

#include "session.h"

#include <stdatomic.h>

#include <stddef.h>
#include <stdint.h>

/* What precedes every returned array. An in-process page (PAGE_MAGIC) holds
 * a reference to its enumeration; a host-engine page (PAGE_MAGIC_HOST, built
 * by host_page.c) holds deep copies of its entries, and source is NULL. Both
 * are one block of `bytes` from the page arena (page_arena.h), freed by
 * enumeration_free_page. */
struct page_header {
    _Atomic uint64_t magic;     /* cleared by the free that claims the array */
    struct enumeration *source; /* the reference that keeps the entries alive */
    size_t bytes;
    uint64_t incarnation; /* of the engine that made it (process.h) */
};

#define PAGE_MAGIC 0x46574D5041474531u      /* "FWMPAGE1" in ASCII, first byte most significant */
#define PAGE_MAGIC_HOST 0x46574D5048535431u /* "FWMPHST1" */

/* FwpmSessionCreateEnumHandle0 once owner_handle resolved to owner. */
DWORD enumeration_create(struct session *owner, HANDLE owner_handle, HANDLE *enum_handle);

/* FwpmSessionEnum0, in two steps, so that the copy runs outside the epoch
 * section (a long page must not hold the epoch, and with it every writer's
 * reclamation): */
struct page_hold {
    struct page_header *page; /* the array, for at least count; NULL: an empty page */
    size_t start;             /* the claimed positions: [start, start + count) */
    size_t count;
};

/* Inside a section: resolves both handles (one lookup when they match) and,
 * if entries are left, allocates the array, takes the reference that keeps
 * the enumeration and its snapshot for it, and claims its positions. A
 * failure claims nothing and moves no cursor. */
DWORD enumeration_page_hold(HANDLE engine_handle, HANDLE enum_handle, UINT32 requested,
                            struct page_hold *hold);

/* After the section (no section needed): copies the entries the hold
 * claimed into its array, and fills *entries and *returned (NULL and 0 for
 * an empty page). Cannot fail. */
void enumeration_page_fill(const struct page_hold *hold, FWPM_SESSION0 ***entries,
                           UINT32 *returned);

/* FwpmSessionDestroyEnumHandle0 once the engine handle resolved to caller. */
DWORD enumeration_destroy(struct session *caller, HANDLE enum_handle);

/* Destroys every enumeration made through s, and any made later (s is
 * closing). Needs no section: the caller keeps s allocated (the close
 * pin), and owns the handles' references it drops. */
void enumeration_destroy_all(struct session *s);

/* FwpmFreeMemory0 for an array returned by enumeration_page. An array
 * inherited across fork() is freed without releasing its enumeration: that
 * belongs to the parent's engine, abandoned in the child (process.h). */
void enumeration_free_page(void **p);

#endif /* FWPM_CORE_ENUMERATION_H */
