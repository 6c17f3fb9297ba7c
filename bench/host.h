/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host.h - the host engine in fwpm-bench: a private fwpmd on a temporary
 * socket, the "host" engine (the client transport called directly, so the
 * in-process engine keeps serving the "fwpm" rows of the same run), and
 * helper processes that hold sessions open on the daemon. Only the bench's
 * main thread calls these, between benchmarks.
 */
#ifndef BENCH_HOST_H
#define BENCH_HOST_H

#include "peers/impl.h"

#include <stdbool.h>
#include <stddef.h>

#define HOST_HOLDER_FLAG "--fwpm_host_holder="

extern const struct fwpm_impl fwpm_impl_host;

/* Starts the private fwpmd once (later calls return the first answer). */
bool host_bench_start(void);

/* Makes exactly `sessions` sessions of `procs` helper processes open on the
 * daemon (none of this process's), and waits until the daemon's table says
 * so (rundown of previous helpers included). */
bool host_bench_hold(size_t sessions, unsigned procs);

/* A helper process's body (argv[1] is HOST_HOLDER_FLAG<n>): opens n sessions
 * through the public API in host mode, reports on stdout, waits for EOF on
 * stdin. Returns the exit status. */
int host_bench_holder_main(const char *arg);

/* Ends the helpers and the daemon. */
void host_bench_stop(void);

#endif /* BENCH_HOST_H */
