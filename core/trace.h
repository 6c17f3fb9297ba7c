/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace.h - the library's static tracepoints (USDT, provider "fwpm").
 *
 * Each trace_* function marks one moment; perf and the other USDT tools see
 * it as sdt_fwpm:<name> (perf/README.md shows how). Untraced, a tracepoint
 * is one nop: its arguments are values the caller already has in hand, so
 * nothing is computed for it. The one argument that costs something
 * (reclaim_batch's bytes, which sums string lengths) is computed only while
 * a tool is attached, as the probe's semaphore says.
 *
 * Built with FWPM_TRACEPOINTS (CMake option, on when <sys/sdt.h> exists);
 * without it every function here is empty.
 *
 *   version_published  (number, entries)   a write made a new version current
 *   snapshot_taken     (number, entries)   a reader took a reference to one
 *   page_served        (entries, cursor)   a page copied entries from cursor on
 *   reclaim_batch      (objects, bytes)    what dead versions kept was let go
 *   session_opened     (pid, entries)      entries: open sessions after it
 *   session_closed     (pid, entries)
 *
 * Any thread; no locks, no ordering.
 */
#ifndef FWPM_CORE_TRACE_H
#define FWPM_CORE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef FWPM_TRACEPOINTS
/* Every probe of a unit that includes sdt.h with semaphores has one. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* Set by the kernel while a tool traces the probe (see trace.c). */
extern __attribute__((visibility("hidden"))) unsigned short fwpm_version_published_semaphore;
extern __attribute__((visibility("hidden"))) unsigned short fwpm_snapshot_taken_semaphore;
extern __attribute__((visibility("hidden"))) unsigned short fwpm_page_served_semaphore;
extern __attribute__((visibility("hidden"))) unsigned short fwpm_reclaim_batch_semaphore;
extern __attribute__((visibility("hidden"))) unsigned short fwpm_session_opened_semaphore;
extern __attribute__((visibility("hidden"))) unsigned short fwpm_session_closed_semaphore;
#endif

static inline void trace_version_published(uint64_t number, uint64_t entries)
{
#ifdef FWPM_TRACEPOINTS
    STAP_PROBE2(fwpm, version_published, number, entries);
#else
    (void)number, (void)entries;
#endif
}

static inline void trace_snapshot_taken(uint64_t number, uint64_t entries)
{
#ifdef FWPM_TRACEPOINTS
    STAP_PROBE2(fwpm, snapshot_taken, number, entries);
#else
    (void)number, (void)entries;
#endif
}

static inline void trace_page_served(uint64_t entries, uint64_t cursor)
{
#ifdef FWPM_TRACEPOINTS
    STAP_PROBE2(fwpm, page_served, entries, cursor);
#else
    (void)entries, (void)cursor;
#endif
}

#ifdef FWPM_TRACEPOINTS
/* True while some tool traces the probe of this semaphore. */
static inline bool trace_semaphore_up(const unsigned short *semaphore)
{
    return __builtin_expect(__atomic_load_n(semaphore, __ATOMIC_RELAXED), 0);
}
#endif

/* True while a tool traces reclaim_batch: only then are its bytes summed. */
static inline bool trace_reclaim_batch_enabled(void)
{
#ifdef FWPM_TRACEPOINTS
    return trace_semaphore_up(&fwpm_reclaim_batch_semaphore);
#else
    return false;
#endif
}

static inline void trace_reclaim_batch(uint64_t objects, uint64_t bytes)
{
#ifdef FWPM_TRACEPOINTS
    STAP_PROBE2(fwpm, reclaim_batch, objects, bytes);
#else
    (void)objects, (void)bytes;
#endif
}

/* True while a tool traces session_opened or session_closed: only then is
 * their count of open sessions read (the writer rewrites that word at every
 * publication, so reading it costs another core a cache miss). */
static inline bool trace_session_count_enabled(void)
{
#ifdef FWPM_TRACEPOINTS
    return trace_semaphore_up(&fwpm_session_opened_semaphore) ||
           trace_semaphore_up(&fwpm_session_closed_semaphore);
#else
    return false;
#endif
}

static inline void trace_session_opened(uint64_t pid, uint64_t entries)
{
#ifdef FWPM_TRACEPOINTS
    STAP_PROBE2(fwpm, session_opened, pid, entries);
#else
    (void)pid, (void)entries;
#endif
}

static inline void trace_session_closed(uint64_t pid, uint64_t entries)
{
#ifdef FWPM_TRACEPOINTS
    STAP_PROBE2(fwpm, session_closed, pid, entries);
#else
    (void)pid, (void)entries;
#endif
}

#endif /* FWPM_CORE_TRACE_H */
