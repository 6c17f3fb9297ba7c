/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host.c - fwpm-bench's host engine: a private fwpmd, the "host" engine and
 * the helper processes that hold the daemon's sessions (host.h).
 */
#include "host.h"

#include "host_client.h"
#include "host_mode.h"

#include <fwpm_linux.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FWPM_BENCH_FWPMD
#error "FWPM_BENCH_FWPMD: the fwpmd binary"
#endif

#define MAX_HOLDERS 64u

/* ---- the engine: host_client.c's functions behind the API's types --------- */

static DWORD host_open(const wchar_t *serverName, UINT32 authnService,
                       SEC_WINNT_AUTH_IDENTITY_W *authIdentity, const FWPM_SESSION0 *session,
                       HANDLE *engineHandle)
{
    (void)serverName, (void)authnService, (void)authIdentity;
    return host_client_open(session, engineHandle);
}

static DWORD host_create_enum(HANDLE engineHandle, const FWPM_SESSION_ENUM_TEMPLATE0 *enumTemplate,
                              HANDLE *enumHandle)
{
    (void)enumTemplate;
    return host_client_create_enum(engineHandle, enumHandle);
}

static void host_reclaim(void) {}

static uint64_t host_bytes(void)
{
    return 0; /* the daemon's memory is fwpm metrics' business */
}

const struct fwpm_impl fwpm_impl_host = {
    .name = "host",
    .engine_open = host_open,
    .engine_close = host_client_close,
    .create_enum_handle = host_create_enum,
    .session_enum = host_client_enum,
    .destroy_enum_handle = host_client_destroy_enum,
    .free_memory = FwpmFreeMemory0,
    .reclaim = host_reclaim,
    .memory_bytes = host_bytes,
    .snapshot = "atomic",
};

/* ---- the daemon ------------------------------------------------------------ */

static struct {
    int started; /* 0: not tried, 1: running, -1: failed */
    pid_t pid;
    char dir[64];
    char socket[96];
} daemon_state;

static struct {
    pid_t pid;
    int to_child; /* closing it ends the helper */
} holders[MAX_HOLDERS];
static unsigned nholders;
static size_t held_sessions;

/* One descriptor per session: this process and its helpers use all they may. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool host_bench_start(void)
{
    if (daemon_state.started != 0)
        return daemon_state.started > 0;
    daemon_state.started = -1;
    raise_fd_limit();
    snprintf(daemon_state.dir, sizeof(daemon_state.dir), "/tmp/fwpm-bench-XXXXXX");
    if (mkdtemp(daemon_state.dir) == NULL)
        return false;
    snprintf(daemon_state.socket, sizeof(daemon_state.socket), "%s/engine.sock", daemon_state.dir);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        execl(FWPM_BENCH_FWPMD, "fwpmd", "--socket", daemon_state.socket, "--max-sessions-per-user",
              "0", (char *)NULL);
        _exit(127);
    }
    daemon_state.pid = pid;
    /* fwpmd renames its socket into place once it listens. */
    struct stat sb;
    for (int i = 0; i < 1000 && stat(daemon_state.socket, &sb) != 0; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "fwpm-bench: fwpmd (%s) did not start\n", FWPM_BENCH_FWPMD);
            return false;
        }
        pause_ms(10);
    }
    host_mode_set_socket_path(daemon_state.socket);
    daemon_state.started = 1;
    return true;
}

/* ---- the helpers ----------------------------------------------------------- */

int host_bench_holder_main(const char *arg)
{
    raise_fd_limit();
    size_t n = strtoull(arg, NULL, 10);
    static const FWPM_SESSION0 held = {
        .displayData = {.name = L"fwpm-bench holder", .description = L"a held session"},
        .flags = FWPM_SESSION_FLAG_DYNAMIC,
    };
    for (size_t i = 0; i < n; i++) {
        HANDLE h;
        DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &held, &h);
        if (rc != ERROR_SUCCESS) {
            fprintf(stderr, "fwpm-bench holder: session %zu: FwpmEngineOpen0 %u\n", i,
                    (unsigned)rc);
            return 1;
        }
    }
    if (write(STDOUT_FILENO, "k", 1) != 1)
        return 1;
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0)
        ;
    return 0; /* exit: the daemon runs the sessions down */
}

static void holders_end(void)
{
    for (unsigned i = 0; i < nholders; i++) {
        close(holders[i].to_child);
        waitpid(holders[i].pid, NULL, 0);
    }
    nholders = 0;
    held_sessions = 0;
}

/* Starts one helper holding n sessions; false unless it reported them open. */
static bool holder_start(size_t n)
{
    int down[2], up[2];
    if (pipe(down) != 0)
        return false;
    if (pipe(up) != 0) {
        close(down[0]), close(down[1]);
        return false;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(down[0], STDIN_FILENO);
        dup2(up[1], STDOUT_FILENO);
        closefrom(3);
        char flag[64], engine[128];
        snprintf(flag, sizeof(flag), HOST_HOLDER_FLAG "%zu", n);
        snprintf(engine, sizeof(engine), "FWPM_ENGINE=unix:%s", daemon_state.socket);
        putenv(engine);
        execl("/proc/self/exe", "fwpm-bench", flag, (char *)NULL);
        _exit(127);
    }
    close(down[0]), close(up[1]);
    if (pid < 0) {
        close(down[1]), close(up[0]);
        return false;
    }
    holders[nholders].pid = pid;
    holders[nholders].to_child = down[1];
    nholders++;
    char c = 0;
    ssize_t r = read(up[0], &c, 1);
    close(up[0]);
    return r == 1 && c == 'k';
}

/* Sessions in the daemon's table, counted through a session of our own
 * (itself excluded); -1 on failure. */
static long daemon_sessions(void)
{
    HANDLE h, e;
    FWPM_SESSION0 bench = {.flags = FWPM_SESSION_FLAG_DYNAMIC};
    if (host_client_open(&bench, &h) != ERROR_SUCCESS)
        return -1;
    long n = -1;
    if (host_client_create_enum(h, &e) == ERROR_SUCCESS) {
        FWPM_SESSION0 **entries;
        UINT32 k;
        if (host_client_enum(h, e, INFINITE, &entries, &k) == ERROR_SUCCESS) {
            n = (long)k - 1;
            FwpmFreeMemory0((void **)&entries);
        }
        host_client_destroy_enum(h, e);
    }
    host_client_close(h);
    return n;
}

bool host_bench_hold(size_t sessions, unsigned procs)
{
    if (!host_bench_start())
        return false;
    if (held_sessions == sessions && nholders == procs)
        return true;
    holders_end();
    if (procs > MAX_HOLDERS)
        procs = MAX_HOLDERS;
    for (unsigned i = 0; i < procs; i++) {
        size_t share = sessions / procs + (i < sessions % procs ? 1 : 0);
        if (!holder_start(share)) {
            holders_end();
            return false;
        }
    }
    held_sessions = sessions;
    /* Rundown of the previous helpers is the daemon's, on their hang-up. */
    for (int i = 0; i < 2000; i++) {
        long n = daemon_sessions();
        if (n < 0)
            return false;
        if ((size_t)n == sessions)
            return true;
        pause_ms(5);
    }
    return false;
}

void host_bench_stop(void)
{
    holders_end();
    if (daemon_state.started > 0) {
        kill(daemon_state.pid, SIGTERM);
        waitpid(daemon_state.pid, NULL, 0);
        unlink(daemon_state.socket);
        rmdir(daemon_state.dir);
    }
    daemon_state.started = 0;
}
