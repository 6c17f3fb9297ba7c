/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page_arena_classes.h - the range's own allocator, for when jemalloc does
 * not serve the library.
 *
 * Power-of-two size classes from 64 bytes up; each class is a lock-free stack
 * of free blocks (a Treiber stack with a version tag against ABA). Blocks are
 * carved from the range when their class is empty and are never given back to
 * the range, only to the kernel: a freed block of 16 KiB or more is discarded
 * (MADV_DONTNEED) before it is pushed. The stacks' links live in a side table
 * in a range of their own, never in the blocks, so a thread popping a block
 * that another thread popped first reads only the allocator's memory.
 *
 * Bound: a class's blocks number at most its peak of simultaneously live
 * blocks, so the address space used is at most twice the peak live bytes per
 * class (rounding to powers of two), and resident memory of freed blocks is at
 * most that of the small classes (below 16 KiB) at their peaks.
 *
 * Any thread, no lock. Set-up (page_arena_classes_reserve) runs once first.
 */
#ifndef FWPM_CORE_PAGE_ARENA_CLASSES_H
#define FWPM_CORE_PAGE_ARENA_CLASSES_H

#include "page_arena_range.h"

/* Reserves the link table for blocks of data; false if it cannot be had. Once,
 * after data is reserved. */
bool page_arena_classes_reserve(struct reserved_range *data);

/* A block of at least bytes bytes (64-byte aligned), or NULL. */
void *page_arena_classes_alloc(size_t bytes);

/* Frees a block of page_arena_classes_alloc(bytes). */
void page_arena_classes_free(void *p, size_t bytes);

#endif /* FWPM_CORE_PAGE_ARENA_CLASSES_H */
