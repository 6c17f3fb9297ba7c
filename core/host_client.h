/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_client.h - the API's functions when fwpmd serves the process.
 *
 * A process's sessions share a pool of at most HOST_CLIENT_POOL_MAX
 * connections to the daemon (sd-bus peer connections), each with its own
 * mutex: up to that many sessions, each has a connection of its own and
 * calls on different sessions share nothing; beyond, a new session joins
 * the least-loaded connection, and calls of sessions sharing a connection
 * are serialized on it. The engine handle is a slot of the core's handle
 * table naming the session (its connection and the id the daemon issued
 * there), so bad handles are rejected exactly as in-process; enumeration
 * handles are the daemon's ids, valid only on the connection that got them
 * (it checks them, and their owner). Handles inherited
 * across fork() return ERROR_INVALID_HANDLE in the child: sessions belong to
 * the process that opened them, and the child never touches the parent's
 * connections. A call on a connection the daemon dropped, or that got no
 * answer within HOST_CLIENT_TIMEOUT_USEC, returns RPC_S_SERVER_UNAVAILABLE
 * or RPC_S_CALL_FAILED. Argument checks happen in api.c before these.
 */
#ifndef FWPM_CORE_HOST_CLIENT_H
#define FWPM_CORE_HOST_CLIENT_H

#include "fwpmu.h"

/* Connections a process holds at most. 64: a process with up to 64 sessions
 * (threads with a session each, the common case) never shares a connection,
 * and 100,000 sessions of ten processes cost the daemon 640 descriptors, not
 * 100,000 (the descriptor limit is 20,000 here). */
#define HOST_CLIENT_POOL_MAX 64u

/* How long a call waits for the daemon before RPC_S_CALL_FAILED. */
#define HOST_CLIENT_TIMEOUT_USEC (10u * 1000u * 1000u)

DWORD host_client_open(const FWPM_SESSION0 *session, HANDLE *engine_handle);
DWORD host_client_close(HANDLE engine_handle);
DWORD host_client_create_enum(HANDLE engine_handle, HANDLE *enum_handle);
DWORD host_client_enum(HANDLE engine_handle, HANDLE enum_handle, UINT32 requested,
                       FWPM_SESSION0 ***entries, UINT32 *returned);
DWORD host_client_destroy_enum(HANDLE engine_handle, HANDLE enum_handle);

/* The daemon's metrics text (Prometheus exposition format), on a
 * connection of its own; *text is malloc'd, the caller frees it. */
DWORD host_client_metrics(char **text);

#endif /* FWPM_CORE_HOST_CLIENT_H */
