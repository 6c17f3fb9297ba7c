/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace.c - the tracepoints' semaphores (see trace.h).
 *
 * sdt.h names one per probe, provider_name_semaphore, in section .probes;
 * a tracer's uprobe increments it while attached (perf does, through the
 * note's semaphore address). Only reclaim_batch reads its own.
 */
#include "trace.h"

#ifdef FWPM_TRACEPOINTS
__attribute__((section(".probes"), used)) unsigned short fwpm_version_published_semaphore;
__attribute__((section(".probes"), used)) unsigned short fwpm_snapshot_taken_semaphore;
__attribute__((section(".probes"), used)) unsigned short fwpm_page_served_semaphore;
__attribute__((section(".probes"), used)) unsigned short fwpm_reclaim_batch_semaphore;
__attribute__((section(".probes"), used)) unsigned short fwpm_session_opened_semaphore;
__attribute__((section(".probes"), used)) unsigned short fwpm_session_closed_semaphore;
#else
typedef int trace_unit_not_empty; /* ISO C wants a unit to declare something */
#endif
