/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_host.c - the host engine across processes: rundown, identity, access
 * control and quota, RPC errors, socket activation, bad input, 1,000
 * sessions of one client, and 100,000 of ten. Each case runs in a forked child (the engine mode is
 * read once per process) against a private fwpmd in a temporary directory.
 *
 * Usage: test_host FWPMD [CASE]
 */
#include "host_client.h"
#include "host_sdbus.h"
#include "host_wire.h"
#include "page_arena.h"

#include <fwpm_linux.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

static const char *fwpmd_path;
static char dir[64];
static char sock[128];

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* ---- daemons and children ----------------------------------------------- */

/* Waits (at most 10 s) until path names a socket: fwpmd renames it into
 * place once it listens. */
static bool wait_for_socket(const char *path, pid_t daemon)
{
    for (int i = 0; i < 1000; i++) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            return true;
        if (waitpid(daemon, NULL, WNOHANG) == daemon)
            return false;
        usleep(10000);
    }
    return false;
}

/* Starts fwpmd on sock with extra options (NULL-terminated). */
static pid_t start_daemon(const char *const *extra)
{
    unlink(sock);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        const char *argv[16] = {fwpmd_path, "--socket", sock};
        int n = 3;
        for (; extra != NULL && *extra != NULL && n < 15; extra++)
            argv[n++] = *extra;
        argv[n] = NULL;
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        execv(fwpmd_path, (char **)argv);
        _exit(127);
    }
    CHECK(wait_for_socket(sock, pid), "fwpmd did not start");
    return pid;
}

/* SIGTERM; the daemon must exit 0. */
static void stop_daemon(pid_t pid)
{
    kill(pid, SIGTERM);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fwpmd exit status %d", status);
}

/* In a fresh child, before its first fwpm call: host mode on sock. */
static void use_host_engine(void)
{
    char engine[160];
    snprintf(engine, sizeof(engine), "unix:%s", sock);
    setenv("FWPM_ENGINE", engine, 1);
}

/* Runs fn in a child in host mode on sock; returns its exit status. */
static int in_child(void (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        use_host_engine();
        fn(arg);
        exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs fn in a host-mode child against a daemon of its own, started with
 * default options; the daemon must have lived through it and stop with
 * exit status 0. what names the case. */
static void in_child_beside_daemon(void (*fn)(void *), const char *what)
{
    pid_t d = start_daemon(NULL);
    CHECK(in_child(fn, NULL) == 0, "%s", what);
    CHECK(kill(d, 0) == 0, "%s: the daemon died", what);
    stop_daemon(d);
}

static HANDLE open_named(const wchar_t *name)
{
    FWPM_SESSION0 s = {.displayData = {.name = (wchar_t *)name}};
    HANDLE h = NULL;
    DWORD r = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, &s, &h);
    CHECK(r == ERROR_SUCCESS, "open: %s", fwpm_strerror(r));
    return h;
}

/* Counts the daemon's sessions whose process id is pid (0: all). */
static size_t count_sessions(HANDLE engine, DWORD pid)
{
    HANDLE e;
    DWORD r = FwpmSessionCreateEnumHandle0(engine, NULL, &e);
    CHECK(r == ERROR_SUCCESS, "create enum: %s", fwpm_strerror(r));
    FWPM_SESSION0 **entries;
    UINT32 n;
    r = FwpmSessionEnum0(engine, e, INFINITE, &entries, &n);
    CHECK(r == ERROR_SUCCESS, "enum: %s", fwpm_strerror(r));
    size_t count = 0;
    for (UINT32 i = 0; i < n; i++)
        count += pid == 0 || entries[i]->processId == pid;
    FwpmFreeMemory0((void **)&entries);
    FwpmSessionDestroyEnumHandle0(engine, e);
    return count;
}

/* Waits (at most 10 s) until pid's sessions number want: the daemon sees a
 * hang-up on its own loop turn, after the kernel closed the socket. */
static bool settles_at(HANDLE engine, DWORD pid, size_t want)
{
    for (int i = 0; i < 1000; i++) {
        if (count_sessions(engine, pid) == want)
            return true;
        usleep(10000);
    }
    return false;
}

/* ---- cases ---------------------------------------------------------------- */

static void no_daemon_child(void *arg)
{
    (void)arg;
    HANDLE h = NULL;
    DWORD r = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &h);
    CHECK(r == EPT_S_NOT_REGISTERED, "got %s", fwpm_strerror(r));
    CHECK(strstr(fwpm_strerror(r), "EPT_S_NOT_REGISTERED (1753)") != NULL, "strerror");
}

static void case_no_daemon(void)
{
    unlink(sock);
    CHECK(in_child(no_daemon_child, NULL) == 0, "no daemon");
}

/* Children that open sessions, report ready, and wait to be killed. */
static pid_t holder(int sessions, int ready_fd)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        use_host_engine();
        for (int i = 0; i < sessions; i++)
            open_named(L"held");
        char c = 'r';
        CHECK(write(ready_fd, &c, 1) == 1, "ready");
        pause();
        _exit(0);
    }
    return pid;
}

static void multi_process_child(void *arg)
{
    (void)arg;
    HANDLE me = open_named(L"observer");
    int ready[2];
    CHECK(pipe(ready) == 0, "pipe");
    pid_t kids[3];
    for (int i = 0; i < 3; i++)
        kids[i] = holder(i + 1, ready[1]);
    for (int i = 0; i < 3; i++) {
        char c;
        CHECK(read(ready[0], &c, 1) == 1, "child ready");
    }
    for (int i = 0; i < 3; i++)
        CHECK(count_sessions(me, (DWORD)kids[i]) == (size_t)i + 1, "child %d's sessions", i);
    CHECK(count_sessions(me, (DWORD)getpid()) == 1, "own session with own pid");
    kill(kids[2], SIGKILL);
    waitpid(kids[2], NULL, 0);
    CHECK(settles_at(me, (DWORD)kids[2], 0), "SIGKILL'd child's sessions still open");
    CHECK(count_sessions(me, (DWORD)kids[1]) == 2, "others keep theirs");
    kill(kids[0], SIGKILL);
    kill(kids[1], SIGKILL);
    waitpid(kids[0], NULL, 0);
    waitpid(kids[1], NULL, 0);
    CHECK(settles_at(me, 0, 1), "only the observer is left");
    FwpmEngineClose0(me);
}

static void case_multi_process(void)
{
    in_child_beside_daemon(multi_process_child, "multi process");
}

/* As nobody: opens up to the quota, and may or may not enumerate. */
static void nobody_child(void *arg)
{
    bool in_group = arg != NULL;
    if (in_group) {
        gid_t g = *(gid_t *)arg;
        CHECK(setgroups(1, &g) == 0, "setgroups");
    } else {
        CHECK(setgroups(0, NULL) == 0, "setgroups");
    }
    CHECK(setgid(65534) == 0 && setuid(65534) == 0, "drop to nobody");
    HANDLE h[3];
    for (int i = 0; i < 3; i++)
        h[i] = open_named(L"nobody's");
    HANDLE extra = NULL;
    DWORD r = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &extra);
    CHECK(r == ERROR_NOT_ENOUGH_QUOTA, "4th session: %s", fwpm_strerror(r));
    HANDLE e = NULL;
    r = FwpmSessionCreateEnumHandle0(h[0], NULL, &e);
    if (in_group) {
        CHECK(r == ERROR_SUCCESS, "group member enumerates: %s", fwpm_strerror(r));
        FwpmSessionDestroyEnumHandle0(h[0], e);
    } else {
        CHECK(r == ERROR_ACCESS_DENIED, "enumerate as nobody: %s", fwpm_strerror(r));
    }
    FwpmEngineClose0(h[2]);
    h[2] = open_named(L"again"); /* a closed session gives its quota back */
    for (int i = 0; i < 3; i++)
        CHECK(FwpmEngineClose0(h[i]) == ERROR_SUCCESS, "close");
}

static void case_non_root(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "non_root: skipped (needs root to drop to nobody)\n");
        return;
    }
    const char *quota[] = {"--max-sessions-per-user", "3", NULL};
    pid_t d = start_daemon(quota);
    CHECK(in_child(nobody_child, NULL) == 0, "nobody refused enumeration, limited by quota");
    stop_daemon(d);
    struct group *g = getgrnam("nogroup");
    if (g == NULL)
        return;
    gid_t gid = g->gr_gid;
    const char *group[] = {"--max-sessions-per-user", "3", "--enum-group", "nogroup", NULL};
    d = start_daemon(group);
    CHECK(in_child(nobody_child, &gid) == 0, "a member of --enum-group enumerates");
    stop_daemon(d);
}

/* Pipes between the child and the daemon's parent, which kills the daemon
 * (and reaps it, so it is gone for sure) when the child says so. */
struct kill_sync {
    int ready[2], killed[2];
};

static void killed_child(void *arg)
{
    struct kill_sync *k = arg;
    HANDLE h = open_named(L"survivor");
    HANDLE e;
    CHECK(FwpmSessionCreateEnumHandle0(h, NULL, &e) == ERROR_SUCCESS, "create");
    FWPM_SESSION0 **entries;
    UINT32 n;
    CHECK(FwpmSessionEnum0(h, e, INFINITE, &entries, &n) == ERROR_SUCCESS && n == 1, "enum");
    char c = 'r';
    CHECK(write(k->ready[1], &c, 1) == 1 && read(k->killed[0], &c, 1) == 1, "sync");
    HANDLE e2;
    DWORD r = FwpmSessionCreateEnumHandle0(h, NULL, &e2);
    CHECK(r == RPC_S_SERVER_UNAVAILABLE || r == RPC_S_CALL_FAILED, "create: %s", fwpm_strerror(r));
    FWPM_SESSION0 **more;
    r = FwpmSessionEnum0(h, e, 10, &more, &n);
    CHECK(r == RPC_S_SERVER_UNAVAILABLE || r == RPC_S_CALL_FAILED, "enum: %s", fwpm_strerror(r));
    CHECK(wcscmp(entries[0]->displayData.name, L"survivor") == 0, "array still valid");
    CHECK(entries[0]->processId == (DWORD)getpid(), "pid");
    FwpmFreeMemory0((void **)&entries);
    r = FwpmEngineClose0(h);
    CHECK(r == RPC_S_SERVER_UNAVAILABLE || r == RPC_S_CALL_FAILED, "close: %s", fwpm_strerror(r));
    CHECK(FwpmEngineClose0(h) == ERROR_INVALID_HANDLE, "closed for good");
    HANDLE again;
    r = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &again);
    CHECK(r == EPT_S_NOT_REGISTERED, "open after death: %s", fwpm_strerror(r));
}

/* Runs client(&k) in a child process against a daemon of its own, kills the
 * daemon once the client says it is ready (and starts a new one when
 * restart), then lets the client go on; the client must exit 0. */
static void daemon_killed_under_client(void (*client)(void *), bool restart, const char *what)
{
    pid_t d = start_daemon(NULL);
    struct kill_sync k;
    CHECK(pipe(k.ready) == 0 && pipe(k.killed) == 0, "pipes");
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) { /* the client side, in its own process */
        use_host_engine();
        client(&k);
        _exit(0);
    }
    char c;
    CHECK(read(k.ready[0], &c, 1) == 1, "client ready");
    kill(d, SIGKILL);
    waitpid(d, NULL, 0);
    if (restart)
        d = start_daemon(NULL);
    CHECK(write(k.killed[1], &c, 1) == 1, "tell the client");
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", what);
    if (restart)
        stop_daemon(d);
}

static void case_killed_mid_session(void)
{
    daemon_killed_under_client(killed_child, false, "daemon killed mid-session");
}

static void activated_child(void *arg)
{
    (void)arg;
    HANDLE h = open_named(L"activated");
    CHECK(count_sessions(h, (DWORD)getpid()) == 1, "served by the activated daemon");
    FwpmEngineClose0(h);
}

static void case_socket_activation(void)
{
    unlink(sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, sock);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(fd, 16) == 0, "listen");
    pid_t d = fork();
    if (d == 0) {
        dup2(fd, 3);
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", pid, 1);
        execl(fwpmd_path, fwpmd_path, "--socket", "/nonexistent/ignored.sock", (char *)NULL);
        _exit(127);
    }
    close(fd);
    CHECK(in_child(activated_child, NULL) == 0, "socket activation");
    stop_daemon(d);
}

/* Raw bytes to the daemon on a fresh connection; returns the socket. */
static int raw_send(const void *bytes, size_t n)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, sock);
    CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect");
    if (n > 0)
        (void)!write(fd, bytes, n);
    return fd;
}

static void bad_input_child(void *arg)
{
    (void)arg;
    HANDLE keep = open_named(L"innocent");
    static const char garbage[] = "\x00GARBAGE \xff\xfe\r\nBEGIN\r\nnonsense";
    int a = raw_send(garbage, sizeof(garbage));
    /* Authenticated, then a message header claiming a 1 GB body. */
    char auth[64];
    int n = snprintf(auth, sizeof(auth), "%cAUTH EXTERNAL 30\r\nBEGIN\r\n", 0);
    int b = raw_send(auth, (size_t)n);
    static const unsigned char oversized[16] = {'l', 1, 0, 1, 0, 0, 0, 0x40,
                                                1,   0, 0, 0, 0, 0, 0, 0};
    (void)!write(b, oversized, sizeof(oversized));
    /* Truncated: half an auth line, then nothing. */
    int c = raw_send("\0AUTH EXTER", 11);
    CHECK(count_sessions(keep, (DWORD)getpid()) == 1, "the innocent session survived");
    close(a);
    close(b);
    close(c);
    CHECK(count_sessions(keep, 0) == 1, "nothing else left behind");
    FwpmEngineClose0(keep);
}

static void case_bad_input(void)
{
    in_child_beside_daemon(bad_input_child, "bad input");
}

/* ---- a client that stops reading ------------------------------------------ */

static double metric(const char *text, const char *name);

/* Whether the daemon has hung up on fd (its replies may still be unread). */
static bool hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/* A raw sd-bus client with its own session, flooding Metrics calls and never
 * reading a reply, while the library's client checks its session after every
 * batch: the flooder is dropped (its session runs down), the other is served
 * throughout and keeps its session. */
static void stalled_reader_child(void *arg)
{
    (void)arg;
    HANDLE keep = open_named(L"innocent");
    int fd = raw_send(NULL, 0);
    sd_bus *bus = NULL;
    CHECK(sd_bus_new(&bus) >= 0 && sd_bus_set_fd(bus, fd, fd) >= 0 && sd_bus_start(bus) >= 0,
          "flooder bus");
    static const unsigned char key[16] = {'f', 'l', 'o', 'o', 'd'};
    sd_bus_message *m = NULL, *reply = NULL;
    CHECK(sd_bus_message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE,
                                         "Open") >= 0 &&
              sd_bus_message_append_array(m, 'y', key, sizeof(key)) >= 0 &&
              sd_bus_message_append(m, "uuu", 0, 0, 0) >= 0 &&
              sd_bus_message_append_array(m, 'y', NULL, 0) >= 0 &&
              sd_bus_message_append_array(m, 'y', NULL, 0) >= 0 &&
              sd_bus_call(bus, m, 0, NULL, &reply) >= 0,
          "flooder open");
    uint32_t status = 1;
    CHECK(sd_bus_message_read(reply, "u", &status) >= 0 && status == 0, "flooder open status");
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    CHECK(count_sessions(keep, 0) == 2, "both sessions open");

    /* Bounded: the replies of 32,000 calls overflow any socket
     * buffer; the drop comes long before. */
    int batches = 0;
    for (; !hung_up(fd) && batches < 500; batches++) {
        for (int i = 0; i < 64; i++) {
            m = NULL;
            if (sd_bus_message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE,
                                               "Metrics") >= 0)
                (void)sd_bus_send(bus, m, &(uint64_t){0}); /* a reply expected */
            sd_bus_message_unref(m);
        }
        /* Writes what the socket takes; never reads (no sd_bus_process). */
        struct pollfd p = {.fd = fd, .events = POLLOUT | POLLRDHUP};
        (void)poll(&p, 1, 1000);
        (void)sd_bus_flush(bus);
        size_t mine = count_sessions(keep, 0);
        CHECK(mine == 2 || mine == 1, "the innocent client is served throughout (%zu)", mine);
    }
    CHECK(hung_up(fd), "the daemon dropped the client that stopped reading (%d batches)", batches);
    CHECK(settles_at(keep, 0, 1), "the flooder's session ran down, the innocent one stayed");
    char *text = NULL;
    CHECK(host_client_metrics(&text) == ERROR_SUCCESS, "metrics");
    CHECK(metric(text, "fwpm_backlogged_drops_total") >= 1, "the drop was counted");
    free(text);
    sd_bus_close_unref(bus);
    FwpmEngineClose0(keep);
}

static void case_stalled_reader(void)
{
    in_child_beside_daemon(stalled_reader_child, "stalled reader");
}

/* ---- 1,000 clients ----------------------------------------------------------- */

static long open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    long n = 0;
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "ls %s | wc -l", path);
    FILE *p = popen(cmd, "r");
    if (p != NULL && fscanf(p, "%ld", &n) != 1)
        n = -1;
    if (p != NULL)
        pclose(p);
    return n;
}

/* One metric's value from fwpm metrics text. */
static double metric(const char *text, const char *name)
{
    const char *at = text;
    size_t len = strlen(name);
    while ((at = strstr(at, name)) != NULL) {
        if ((at == text || at[-1] == '\n') && at[len] == ' ')
            return atof(at + len + 1);
        at += len;
    }
    return -1;
}

struct metrics_now {
    double connections, sessions, engine_bytes;
};

static void read_metrics_child(void *arg)
{
    int fd = *(int *)arg;
    char *text = NULL;
    CHECK(host_client_metrics(&text) == ERROR_SUCCESS, "metrics");
    struct metrics_now m = {metric(text, "fwpm_connections"), metric(text, "fwpm_sessions"),
                            metric(text, "fwpm_daemon_memory_bytes{kind=\"engine_data\"}")};
    free(text);
    CHECK(write(fd, &m, sizeof(m)) == sizeof(m), "write");
}

static struct metrics_now read_metrics(void)
{
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK(in_child(read_metrics_child, &p[1]) == 0, "metrics child");
    struct metrics_now m;
    CHECK(read(p[0], &m, sizeof(m)) == sizeof(m), "read");
    close(p[0]);
    close(p[1]);
    return m;
}

enum { CLIENTS = 1000, ENUMERATORS = 4 };

static void many_child(void *arg)
{
    int ready = *(int *)arg;
    for (int i = 0; i < CLIENTS; i++)
        open_named(L"one of many"); /* closed by the rundown when we are killed */
    char c = 'r';
    CHECK(write(ready, &c, 1) == 1, "ready");
    pause();
}

static void enumerator_child(void *arg)
{
    (void)arg;
    HANDLE h = open_named(L"enumerator");
    for (int round = 0; round < 5; round++)
        CHECK(count_sessions(h, 0) >= CLIENTS + 1, "sees the many");
}

static void case_thousand_clients(void)
{
    pid_t d = start_daemon(NULL);
    struct metrics_now base = read_metrics();
    long base_fds = open_fds(d);
    int ready[2];
    CHECK(pipe(ready) == 0, "pipe");
    pid_t many = fork();
    if (many == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        use_host_engine();
        many_child(&ready[1]);
        _exit(0);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "1,000 sessions open");
    pid_t enumerators[ENUMERATORS];
    for (int i = 0; i < ENUMERATORS; i++) {
        enumerators[i] = fork();
        if (enumerators[i] == 0)
            _exit(in_child(enumerator_child, NULL));
    }
    for (int i = 0; i < ENUMERATORS; i++) {
        int status;
        waitpid(enumerators[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "enumerator %d", i);
    }
    /* 1,000 sessions of one process share its pool of connections. */
    struct metrics_now held = read_metrics();
    CHECK(held.sessions == base.sessions + CLIENTS, "sessions %g", held.sessions);
    CHECK(held.connections == base.connections + HOST_CLIENT_POOL_MAX, "connections %g",
          held.connections);
    long held_fds = open_fds(d);
    CHECK(held_fds >= base_fds + HOST_CLIENT_POOL_MAX &&
              held_fds <= base_fds + HOST_CLIENT_POOL_MAX + 1,
          "%ld descriptors for %u connections", held_fds - base_fds, HOST_CLIENT_POOL_MAX);
    kill(many, SIGKILL);
    waitpid(many, NULL, 0);
    /* Wait (bounded) for the daemon to see every hang-up, the metrics
     * readers' own connections included: each read_metrics() connects once. */
    struct metrics_now after = {0};
    long fds = -1;
    for (int i = 0; i < 1000; i++) {
        after = read_metrics();
        fds = open_fds(d);
        if (after.connections <= base.connections && after.engine_bytes <= base.engine_bytes &&
            fds <= base_fds)
            break;
        usleep(10000);
    }
    CHECK(after.connections == base.connections, "connections %g vs %g", after.connections,
          base.connections);
    CHECK(after.engine_bytes <= base.engine_bytes, "engine memory %g vs baseline %g",
          after.engine_bytes, base.engine_bytes);
    CHECK(fds == base_fds, "daemon fds %ld vs baseline %ld", fds, base_fds);
    stop_daemon(d);
}

/* ---- ids belong to their connection ---------------------------------------- */

static const struct host_sdbus *sdb;

static int raw_append(sd_bus_message *m, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int r = sdb->message_appendv(m, types, ap);
    va_end(ap);
    return r;
}

/* A raw protocol connection of our own, through host_sdbus's functions. */
static sd_bus *raw_bus(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, sock);
    CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect");
    sd_bus *bus = NULL;
    CHECK(sdb->bus_new(&bus) >= 0 && sdb->bus_set_fd(bus, fd, fd) >= 0 && sdb->bus_start(bus) >= 0,
          "bus");
    return bus;
}

/* Calls method with the arguments of types; the status, and the reply's
 * t that follows it in *out when out is not NULL. */
static uint32_t raw_call(sd_bus *bus, const char *method, uint64_t *out, const char *types, ...)
{
    sd_bus_message *m = NULL, *reply = NULL;
    CHECK(sdb->message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE,
                                       method) >= 0,
          "new call");
    va_list ap;
    va_start(ap, types);
    CHECK(sdb->message_appendv(m, types, ap) >= 0, "append");
    va_end(ap);
    CHECK(sdb->bus_call(bus, m, 0, NULL, &reply) >= 0, "%s call", method);
    sdb->message_unref(m);
    uint32_t status;
    uint64_t value = 0;
    if (out != NULL)
        CHECK(sdb->message_read(reply, "ut", &status, &value) >= 0, "%s reply", method);
    else
        CHECK(sdb->message_read(reply, "u", &status) >= 0, "%s reply", method);
    sdb->message_unref(reply);
    if (out != NULL)
        *out = value;
    return status;
}

/* Opens an anonymous session on bus; its id. */
static uint64_t raw_open(sd_bus *bus)
{
    static const GUID zero;
    sd_bus_message *m = NULL, *reply = NULL;
    CHECK(sdb->message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE,
                                       "Open") >= 0,
          "new Open");
    CHECK(sdb->message_append_array(m, 'y', &zero, sizeof(zero)) >= 0, "key");
    CHECK(raw_append(m, "uuu", 0u, 0u, 0u) >= 0, "flags");
    CHECK(sdb->message_append_array(m, 'y', "", 0) >= 0 &&
              sdb->message_append_array(m, 'y', "", 0) >= 0,
          "strings");
    CHECK(sdb->bus_call(bus, m, 0, NULL, &reply) >= 0, "Open call");
    sdb->message_unref(m);
    uint32_t status;
    uint64_t id;
    CHECK(sdb->message_read(reply, "ut", &status, &id) >= 0 && status == ERROR_SUCCESS && id != 0,
          "Open");
    sdb->message_unref(reply);
    return id;
}

/* Two connections of one process: b cannot name a session or enumeration
 * handle a holds (ids are per connection: a's second session and second
 * handle have ids b never issued), a closed session's id stays dead, and id
 * 0 is never one; each refusal is ERROR_INVALID_HANDLE and changes nothing. */
static void foreign_ids_child(void *arg)
{
    (void)arg;
    sdb = host_sdbus();
    CHECK(sdb != NULL, "libsystemd");
    sd_bus *a = raw_bus(), *b = raw_bus();
    uint64_t a_first = raw_open(a), sa = raw_open(a), sb = raw_open(b);
    uint64_t a_first_enum, ea, eb, none;
    CHECK(raw_call(a, "CreateEnum", &a_first_enum, "t", a_first) == ERROR_SUCCESS, "a's first");
    CHECK(raw_call(a, "CreateEnum", &ea, "t", sa) == ERROR_SUCCESS, "a's handle");
    CHECK(raw_call(b, "CreateEnum", &eb, "t", sb) == ERROR_SUCCESS, "b's handle");
    CHECK(raw_call(b, "CreateEnum", &none, "t", sa) == ERROR_INVALID_HANDLE, "a's session on b");
    CHECK(raw_call(b, "Destroy", NULL, "tt", sb, ea) == ERROR_INVALID_HANDLE, "a's handle on b");
    CHECK(raw_call(b, "Close", NULL, "t", sa) == ERROR_INVALID_HANDLE, "closing a's session on b");
    CHECK(raw_call(a, "Close", NULL, "t", (uint64_t)0) == ERROR_INVALID_HANDLE, "id 0");
    /* Nothing was touched: every handle still works on its own session. */
    CHECK(raw_call(a, "Destroy", NULL, "tt", sa, ea) == ERROR_SUCCESS, "a destroys its own");
    CHECK(raw_call(b, "Destroy", NULL, "tt", sb, eb) == ERROR_SUCCESS, "b destroys its own");
    CHECK(raw_call(a, "Destroy", NULL, "tt", sa, ea) == ERROR_INVALID_HANDLE, "destroyed twice");
    CHECK(raw_call(a, "CreateEnum", &ea, "t", sa) == ERROR_SUCCESS, "a's second handle");
    CHECK(raw_call(a, "Close", NULL, "t", sa) == ERROR_SUCCESS, "a closes its own");
    CHECK(raw_call(a, "Close", NULL, "t", sa) == ERROR_INVALID_HANDLE, "closed twice");
    CHECK(raw_call(a, "CreateEnum", &none, "t", sa) == ERROR_INVALID_HANDLE, "a closed session");
    uint64_t sa2 = raw_open(a);
    CHECK(sa2 != sa, "an id is never issued twice");
    CHECK(raw_call(a, "Destroy", NULL, "tt", sa2, ea) == ERROR_INVALID_HANDLE,
          "a handle closed with its session");
    CHECK(raw_call(a, "Destroy", NULL, "tt", a_first, a_first_enum) == ERROR_SUCCESS,
          "a's first handle untouched");
    CHECK(raw_call(b, "Close", NULL, "t", sb) == ERROR_SUCCESS, "b closes its own");
    sdb->bus_flush_close_unref(a);
    sdb->bus_flush_close_unref(b);
}

static void case_foreign_ids(void)
{
    in_child_beside_daemon(foreign_ids_child, "foreign ids");
}

/* ---- threads of one client on shared connections --------------------------- */

enum { SHARING_THREADS = 8, SESSIONS_PER_THREAD = 24, SHARING_ROUNDS = 20 };

/* Each thread: its own sessions (8 x 24 = 192 > HOST_CLIENT_POOL_MAX, so
 * connections are shared), each round enumerating through one of them and
 * replacing another (close + open), and every call must succeed. */
static void *sharing_thread(void *arg)
{
    (void)arg;
    HANDLE mine[SESSIONS_PER_THREAD];
    for (int i = 0; i < SESSIONS_PER_THREAD; i++)
        mine[i] = open_named(L"sharing");
    for (int round = 0; round < SHARING_ROUNDS; round++) {
        HANDLE h = mine[round % SESSIONS_PER_THREAD], e;
        CHECK(FwpmSessionCreateEnumHandle0(h, NULL, &e) == ERROR_SUCCESS, "create");
        FWPM_SESSION0 **entries;
        UINT32 n;
        CHECK(FwpmSessionEnum0(h, e, INFINITE, &entries, &n) == ERROR_SUCCESS, "enum");
        bool found = false;
        for (UINT32 k = 0; k < n; k++)
            found |= entries[k]->processId == (DWORD)getpid();
        CHECK(found, "own sessions seen");
        FwpmFreeMemory0((void **)&entries);
        CHECK(FwpmSessionDestroyEnumHandle0(h, e) == ERROR_SUCCESS, "destroy");
        int other = (round + 1) % SESSIONS_PER_THREAD;
        CHECK(FwpmEngineClose0(mine[other]) == ERROR_SUCCESS, "close");
        mine[other] = open_named(L"sharing");
    }
    for (int i = 0; i < SESSIONS_PER_THREAD; i++)
        CHECK(FwpmEngineClose0(mine[i]) == ERROR_SUCCESS, "close at the end");
    return NULL;
}

static void sharing_child(void *arg)
{
    (void)arg;
    pthread_t t[SHARING_THREADS];
    for (int i = 0; i < SHARING_THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, sharing_thread, NULL) == 0, "thread");
    for (int i = 0; i < SHARING_THREADS; i++)
        pthread_join(t[i], NULL);
    HANDLE h = open_named(L"after");
    CHECK(count_sessions(h, (DWORD)getpid()) == 1, "every other session closed");
    FwpmEngineClose0(h);
}

static void case_shared_connections(void)
{
    pid_t d = start_daemon(NULL);
    struct metrics_now base = read_metrics();
    CHECK(in_child(sharing_child, NULL) == 0, "shared connections");
    struct metrics_now after = {0};
    for (int i = 0; i < 1000; i++) { /* bounded: the child's hang-up reaches the daemon */
        after = read_metrics();
        if (after.connections <= base.connections)
            break;
        usleep(10000);
    }
    CHECK(after.connections == base.connections && after.sessions == base.sessions,
          "connections %g sessions %g", after.connections, after.sessions);
    stop_daemon(d);
}

/* ---- 100,000 sessions ---------------------------------------------------------- */

enum { HOLDERS = 10, HELD_EACH = 10000 };

/* Opens HELD_EACH sessions, says so, waits for the word, then leaves: odd
 * holders close every session first, even ones just exit (rundown). */
static void hundred_thousand_holder(int index, int ready, int go)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
    use_host_engine();
    static HANDLE held[HELD_EACH];
    for (int i = 0; i < HELD_EACH; i++)
        held[i] = open_named(L"one of 100,000");
    char c = 'r';
    CHECK(write(ready, &c, 1) == 1, "ready");
    CHECK(read(go, &c, 1) == 0, "go"); /* EOF: the test closed its end */
    if (index % 2 == 1)
        for (int i = 0; i < HELD_EACH; i++)
            CHECK(FwpmEngineClose0(held[i]) == ERROR_SUCCESS, "close %d", i);
    _exit(0);
}

static void count_all_child(void *arg)
{
    size_t want = *(size_t *)arg;
    HANDLE h = open_named(L"counter");
    CHECK(count_sessions(h, 0) == want + 1, "sees every session");
    FwpmEngineClose0(h);
}

static void case_hundred_thousand(void)
{
    pid_t d = start_daemon(NULL);
    /* Counted before the metrics read: its connection's hang-up may reach
     * the daemon only after the count, which would then hold one
     * descriptor the daemon is about to close. */
    long base_fds = open_fds(d);
    struct metrics_now base = read_metrics();
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipes");
    pid_t kids[HOLDERS];
    for (int i = 0; i < HOLDERS; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0, "fork");
        if (kids[i] == 0) {
            close(go[1]);
            hundred_thousand_holder(i, ready[1], go[0]);
        }
    }
    close(go[0]);
    for (int i = 0; i < HOLDERS; i++) {
        char c;
        CHECK(read(ready[0], &c, 1) == 1, "holder %d ready", i);
    }
    size_t total = (size_t)HOLDERS * HELD_EACH;
    struct metrics_now held = read_metrics();
    CHECK(held.sessions == base.sessions + (double)total, "sessions %g", held.sessions);
    CHECK(held.connections == base.connections + HOLDERS * HOST_CLIENT_POOL_MAX, "connections %g",
          held.connections);
    long held_fds = open_fds(d);
    CHECK(held_fds <= base_fds + HOLDERS * HOST_CLIENT_POOL_MAX + 1, "%ld descriptors",
          held_fds - base_fds);
    CHECK(in_child(count_all_child, &total) == 0, "enumerating 100,000");
    close(go[1]); /* every holder leaves */
    for (int i = 0; i < HOLDERS; i++) {
        int status;
        CHECK(waitpid(kids[i], &status, 0) == kids[i], "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "holder %d", i);
    }
    /* Bounded wait for the daemon to see every hang-up. */
    struct metrics_now after = {0};
    long fds = -1;
    for (int i = 0; i < 1000; i++) {
        after = read_metrics();
        fds = open_fds(d);
        if (after.sessions <= base.sessions && after.connections <= base.connections &&
            after.engine_bytes <= base.engine_bytes && fds <= base_fds)
            break;
        usleep(10000);
    }
    CHECK(after.sessions == base.sessions, "sessions %g vs %g", after.sessions, base.sessions);
    CHECK(after.connections == base.connections, "connections %g vs %g", after.connections,
          base.connections);
    CHECK(after.engine_bytes <= base.engine_bytes, "engine memory %g vs baseline %g",
          after.engine_bytes, base.engine_bytes);
    CHECK(fds == base_fds, "daemon fds %ld vs baseline %ld", fds, base_fds);
    stop_daemon(d);
}

/* Host-mode arrays come from the page arena, so FwpmFreeMemory0 frees them
 * by the same range check as the in-process engine's; a pointer the API did
 * not return (a malloc block) is ignored and stays the caller's. */
static void host_arrays_child(void *arg)
{
    (void)arg;
    HANDLE h = open_named(L"arrays");
    HANDLE e;
    CHECK(FwpmSessionCreateEnumHandle0(h, NULL, &e) == ERROR_SUCCESS, "create enum");
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    CHECK(FwpmSessionEnum0(h, e, INFINITE, &entries, &n) == ERROR_SUCCESS && n >= 1, "enum");
    CHECK(page_arena_contains(entries), "a host-mode array outside the page arena");
    FWPM_MEMORY_STATS0 before, after;
    CHECK(fwpm_memory_stats(&before) == ERROR_SUCCESS, "stats");
    FwpmFreeMemory0((void **)&entries);
    CHECK(entries == NULL, "FwpmFreeMemory0 left the pointer");
    CHECK(fwpm_memory_stats(&after) == ERROR_SUCCESS, "stats");
    CHECK(after.liveBytes < before.liveBytes, "the host-mode array was not freed");
    size_t size = 4096;
    unsigned char *m = malloc(size);
    CHECK(m != NULL, "malloc");
    memset(m, 0xA5, size);
    void *p = m;
    FwpmFreeMemory0(&p);
    for (size_t i = 0; i < size; i++)
        CHECK(m[i] == 0xA5, "a foreign block was written");
    free(m); /* still the caller's: ASan reports a double free otherwise */
    FwpmSessionDestroyEnumHandle0(h, e);
    FwpmEngineClose0(h);
}

static void case_host_arrays(void)
{
    in_child_beside_daemon(host_arrays_child, "host arrays");
}

/* A fork child keeps none of its parent's sessions alive: the parent
 * (its sessions open) forks a child that lives on; once the parent is
 * SIGKILL'd its sessions go, though the child still holds copies of
 * whatever descriptors it inherited. */
static void forking_parent(int ready_fd, int release_fd)
{
    open_named(L"parent");
    open_named(L"parent");
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        char c;
        ssize_t got = read(release_fd, &c, 1); /* until the observer lets go */
        (void)got;
        _exit(0);
    }
    char c = 'r';
    CHECK(write(ready_fd, &c, 1) == 1, "ready");
    pause();
    _exit(0);
}

static void fork_child_observer(void *arg)
{
    (void)arg;
    HANDLE me = open_named(L"observer");
    int ready[2], release[2];
    CHECK(pipe(ready) == 0 && pipe(release) == 0, "pipes");
    pid_t parent = fork();
    CHECK(parent >= 0, "fork");
    if (parent == 0) {
        close(release[1]);
        forking_parent(ready[1], release[0]);
    }
    close(release[0]);
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "parent ready");
    CHECK(count_sessions(me, (DWORD)parent) == 2, "the parent's sessions");
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    CHECK(settles_at(me, (DWORD)parent, 0), "a fork child kept its parent's sessions open");
    close(release[1]); /* the grandchild reads end-of-file and exits */
    FwpmEngineClose0(me);
}

static void case_fork_child_keeps_no_session(void)
{
    in_child_beside_daemon(fork_child_observer, "fork child");
}

/* A process whose pool is full when the daemon restarts: a new session
 * still opens (on a fresh connection, not on a dead one), and the old
 * sessions answer RPC errors. */
static void full_pool_child(void *arg)
{
    struct kill_sync *k = arg;
    HANDLE held[HOST_CLIENT_POOL_MAX + 1];
    for (unsigned i = 0; i < HOST_CLIENT_POOL_MAX + 1; i++)
        held[i] = open_named(L"before");
    char c = 'r';
    CHECK(write(k->ready[1], &c, 1) == 1 && read(k->killed[0], &c, 1) == 1, "sync");
    HANDLE fresh = open_named(L"after"); /* CHECKs success */
    CHECK(count_sessions(fresh, 0) == 1, "the new daemon holds the new session only");
    for (unsigned i = 0; i < HOST_CLIENT_POOL_MAX + 1; i++) {
        DWORD r = FwpmEngineClose0(held[i]);
        CHECK(r == RPC_S_SERVER_UNAVAILABLE || r == RPC_S_CALL_FAILED, "old close: %s",
              fwpm_strerror(r));
    }
    CHECK(FwpmEngineClose0(fresh) == ERROR_SUCCESS, "new close");
}

static void case_full_pool_after_restart(void)
{
    daemon_killed_under_client(full_pool_child, true, "full pool after a restart");
}

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    {"no_daemon", case_no_daemon},
    {"multi_process", case_multi_process},
    {"non_root", case_non_root},
    {"killed_mid_session", case_killed_mid_session},
    {"socket_activation", case_socket_activation},
    {"bad_input", case_bad_input},
    {"thousand_clients", case_thousand_clients},
    {"stalled_reader", case_stalled_reader},
    {"host_arrays", case_host_arrays},
    {"foreign_ids", case_foreign_ids},
    {"shared_connections", case_shared_connections},
    {"hundred_thousand", case_hundred_thousand},
    {"fork_child_keeps_no_session", case_fork_child_keeps_no_session},
    {"full_pool_after_restart", case_full_pool_after_restart},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_host FWPMD [CASE]\n");
        return 2;
    }
    fwpmd_path = argv[1];
    snprintf(dir, sizeof(dir), "/tmp/fwpm-host-XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    chmod(dir, 0755); /* nobody must reach the socket */
    snprintf(sock, sizeof(sock), "%s/engine.sock", dir);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    signal(SIGPIPE, SIG_IGN);
    int ran = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (argc > 2 && strcmp(argv[2], cases[i].name) != 0)
            continue;
        fprintf(stderr, "test_host: %s\n", cases[i].name);
        cases[i].run();
        ran++;
    }
    unlink(sock);
    rmdir(dir);
    CHECK(ran > 0, "no such case");
    fprintf(stderr, "test_host: %d cases passed\n", ran);
    return 0;
}
