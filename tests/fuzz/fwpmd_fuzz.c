/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpmd_fuzz.c - fuzz target for the daemon's message decoding: the real
 * server code (daemon/ built as fwpmd_server, the library fwpmd links) runs
 * in-process on its own thread with its own sd-event loop, listening on a
 * Unix socket in a temporary directory. Each input is one client:
 *
 *   byte 0 % 3 == 0  raw: the rest is written to the socket as is (the sd-bus
 *                    auth handshake included);
 *   byte 0 % 3 == 1  raw after auth: the harness writes the EXTERNAL
 *                    handshake, then the rest;
 *   byte 0 % 3 == 2  structured: the rest becomes method calls with arbitrary
 *                    argument types and values through a real sd-bus client.
 *
 * After each input the client hangs up and the harness waits for the daemon
 * to hang up too; then it checks that a client opened at start-up still has
 * its session, and that a fresh well-behaved client opens a session and
 * enumerates both. Any failure aborts. fwpmd_fuzz_make_corpus (run by
 * fwpmd-corpus) records the seeds.
 */
#include "server.h"

#include "fuzz_input.h"
#include "host_mode.h"
#include "host_wire.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Generous: only a hung daemon takes this long. */
#define HANG_UP_TIMEOUT_MS 20000

#define DIE(...)                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "fwpmd_fuzz: " __VA_ARGS__);                                               \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static char sock_path[108];
static struct server srv;
static sd_bus *keeper; /* the start-up client whose session must survive */
static uint8_t keeper_key[16] = {0x6b, 0x65, 0x65, 0x70, 0x65, 0x72};
static uint64_t keeper_session; /* its id on that connection */

/* Set by the server thread once its socket listens (not merely exists: a
 * connect between bind and listen is refused). */
static _Atomic bool listening;

static void *serve(void *arg)
{
    (void)arg;
    sd_event *event = NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
        DIE("cannot listen on %s: %s", sock_path, strerror(errno));
    /* Release: pairs with the acquire load of the waiting thread. */
    atomic_store_explicit(&listening, true, memory_order_release);
    if (sd_event_new(&event) < 0 || server_start(&srv, event, fd) < 0)
        DIE("cannot start the server");
    sd_event_loop(event);
    return NULL;
}

static int connect_raw(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        DIE("connect: %s", strerror(errno));
    return fd;
}

static sd_bus *connect_bus(int fd)
{
    sd_bus *bus = NULL;
    if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_start(bus) < 0)
        DIE("sd-bus client");
    return bus;
}

static int call(sd_bus *bus, sd_bus_message **reply, const char *method, const char *types, ...)
{
    sd_bus_message *m = NULL;
    int r =
        sd_bus_message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE, method);
    if (r >= 0 && types != NULL) {
        va_list ap;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
    }
    if (r >= 0)
        r = sd_bus_call(bus, m, 10 * 1000 * 1000, NULL, reply);
    sd_bus_message_unref(m);
    return r;
}

/* Open with key: status (and *session) or a negative errno. */
static int open_session(sd_bus *bus, const uint8_t *key, uint64_t *session)
{
    sd_bus_message *m = NULL, *reply = NULL;
    uint32_t status = 0;
    int r =
        sd_bus_message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE, "Open");
    if (r >= 0)
        r = sd_bus_message_append_array(m, 'y', key, 16);
    if (r >= 0)
        r = sd_bus_message_append(m, "uuu", 0, 0, 0);
    if (r >= 0)
        r = sd_bus_message_append_array(m, 'y', NULL, 0);
    if (r >= 0)
        r = sd_bus_message_append_array(m, 'y', NULL, 0);
    if (r >= 0)
        r = sd_bus_call(bus, m, 10 * 1000 * 1000, NULL, &reply);
    if (r >= 0)
        r = sd_bus_message_read(reply, "ut", &status, session);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    return r < 0 ? r : (int)status;
}

/* A snapshot's entry count: CreateEnum, Enum, Destroy. -1 on any failure
 * (why: in last_failure). */
static char last_failure[128];

static long enumerate(sd_bus *bus, uint64_t session)
{
    sd_bus_message *reply = NULL;
    uint32_t status = 1;
    uint64_t h = 0;
    int r = call(bus, &reply, "CreateEnum", "t", session);
    if (r < 0 || sd_bus_message_read(reply, "ut", &status, &h) < 0 || status != 0) {
        snprintf(last_failure, sizeof(last_failure), "CreateEnum: %s, status %u",
                 strerror(r < 0 ? -r : 0), (unsigned)status);
        sd_bus_message_unref(reply);
        return -1;
    }
    reply = sd_bus_message_unref(reply);
    const void *blob = NULL;
    size_t bytes = 0;
    struct host_wire_view view = {0};
    long count = -1;
    if (call(bus, &reply, "Enum", "ttu", session, h, 64) >= 0 &&
        sd_bus_message_read(reply, "u", &status) >= 0 && status == 0 &&
        sd_bus_message_read_array(reply, 'y', &blob, &bytes) >= 0 &&
        host_wire_check(blob, bytes, &view))
        count = view.count;
    else
        snprintf(last_failure, sizeof(last_failure), "Enum: status %u, %zu bytes", (unsigned)status,
                 bytes);
    reply = sd_bus_message_unref(reply);
    status = 1;
    r = call(bus, &reply, "Destroy", "tt", session, h);
    if (r < 0 || sd_bus_message_read(reply, "u", &status) < 0 || status != 0) {
        snprintf(last_failure, sizeof(last_failure), "Destroy: %s, status %u",
                 strerror(r < 0 ? -r : 0), (unsigned)status);
        count = -1;
    }
    sd_bus_message_unref(reply);
    return count;
}

static void init(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    host_mode_force_local(); /* the server hosts the core itself, as fwpmd does */
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/fwpmd-fuzz-XXXXXX";
    if (mkdtemp(dir) == NULL)
        DIE("mkdtemp");
    snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
    srv.config.have_enum_group = true; /* the fuzzing user may enumerate */
    srv.config.enum_gid = getgid();
    pthread_t t;
    if (pthread_create(&t, NULL, serve, NULL) != 0)
        DIE("pthread_create");
    pthread_detach(t);
    /* libFuzzer's -timeout ticks SIGALRM every second: an sd_bus_call that
     * it interrupts fails with EINTR (found by fuzzing: the keeper seemed to
     * lose its session). The server thread takes the signal instead; its
     * loop retries an interrupted wait. */
    sigset_t alarm;
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm, NULL);
    for (int i = 0;; i++) { /* the server thread listens: wait for it */
        if (atomic_load_explicit(&listening, memory_order_acquire))
            break;
        if (i > 100000)
            DIE("the server did not listen");
        sched_yield();
    }
    keeper = connect_bus(connect_raw());
    int status = open_session(keeper, keeper_key, &keeper_session);
    if (status != 0)
        DIE("the keeper cannot open a session: %d", status);
}

/* Writes data while draining what the daemon sends, hangs up, then reads
 * until the daemon hangs up too: the daemon has finished with this input. */
static void feed(int fd, const uint8_t *data, size_t size)
{
    size_t off = 0;
    bool writing = true;
    char sink[65536];
    for (;;) {
        if (writing && off == size) {
            shutdown(fd, SHUT_WR);
            writing = false;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (writing ? POLLOUT : 0)};
        int n = poll(&p, 1, HANG_UP_TIMEOUT_MS);
        if (n == 0)
            DIE("the daemon neither read nor hung up for %d ms", HANG_UP_TIMEOUT_MS);
        if (p.revents & POLLIN) {
            ssize_t got = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN))
                break; /* the daemon hung up */
        } else if (p.revents & (POLLHUP | POLLERR)) {
            break;
        }
        if (writing && (p.revents & POLLOUT)) {
            ssize_t put = send(fd, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (put > 0)
                off += (size_t)put;
            else if (put < 0 && errno != EAGAIN)
                writing = false; /* dropped: keep reading to the end */
        }
    }
    close(fd);
}

static void feed_after_auth(const uint8_t *data, size_t size)
{
    /* The uid goes as the hex of its decimal digits, as sd-bus writes it. */
    char hello[128], uid[16];
    int digits = snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
    int n = snprintf(hello, sizeof(hello), "%cAUTH EXTERNAL ", 0);
    for (int i = 0; i < digits; i++)
        n += snprintf(hello + n, sizeof(hello) - (size_t)n, "%02x", uid[i]);
    n += snprintf(hello + n, sizeof(hello) - (size_t)n, "\r\nBEGIN\r\n");
    uint8_t *all = malloc((size_t)n + size);
    if (all == NULL)
        DIE("out of memory");
    memcpy(all, hello, (size_t)n);
    if (size > 0)
        memcpy(all + n, data, size);
    feed(connect_raw(), all, (size_t)n + size);
    free(all);
}

/* ---- structured mode ---------------------------------------------------- */

static const char *const method_names[] = {"Open",    "Close",   "CreateEnum", "Enum",
                                           "Destroy", "Metrics", "Nope",       ""};

/* The ids the daemon issued on the structured mode's connection: the last
 * session (from Open) and enumeration handle (from CreateEnum). */
struct issued_ids {
    uint64_t session, enumeration;
};

/* Appends one argument of a type chosen by the input. */
static int append_arg(sd_bus_message *m, struct fuzz_input *c, const struct issued_ids *ids)
{
    uint8_t kind = fuzz_u8(c) % 12;
    uint64_t v = fuzz_u64(c);
    switch (kind) {
    case 0: {
        uint8_t y = (uint8_t)v;
        return sd_bus_message_append_basic(m, 'y', &y);
    }
    case 1: {
        int b = (int)(v & 1);
        return sd_bus_message_append_basic(m, 'b', &b);
    }
    case 2: {
        uint32_t u = (uint32_t)v;
        return sd_bus_message_append_basic(m, 'u', &u);
    }
    case 3: {
        int32_t i = (int32_t)v;
        return sd_bus_message_append_basic(m, 'i', &i);
    }
    case 4:
        return sd_bus_message_append_basic(m, 't', &v);
    case 5: /* an id the connection holds: a session, or an enumeration handle */
        return sd_bus_message_append_basic(m, 't', v & 1 ? &ids->enumeration : &ids->session);
    case 6: {
        double d;
        memcpy(&d, &v, sizeof(d));
        return sd_bus_message_append_basic(m, 'd', &d);
    }
    case 7: { /* a byte array: length from the input, bytes from the input */
        size_t n = (size_t)(v % 4096u);
        if (n > c->n)
            n = c->n;
        int r = sd_bus_message_append_array(m, 'y', c->p, n);
        c->p += n;
        c->n -= n;
        return r;
    }
    case 8: /* a large array of zeros: near the string bound */
        return sd_bus_message_append_array_space(m, 'y', (size_t)(v % (1u << 18)), &(void *){0});
    case 9:
        return sd_bus_message_append_basic(m, 's', "x");
    case 10:
        return sd_bus_message_append_basic(m, 'o', "/a");
    default: {
        uint16_t q = (uint16_t)v;
        return sd_bus_message_append_basic(m, 'q', &q);
    }
    }
}

/* Each call: method byte, argument count byte, arguments; bit 3 of the
 * method byte sends without waiting for the reply (a client that does not
 * read them). */
static void structured(const uint8_t *data, size_t size)
{
    struct fuzz_input c = {data, size};
    sd_bus *bus = connect_bus(connect_raw());
    struct issued_ids ids = {0, 0};
    for (int calls = 0; c.n > 0 && calls < 256; calls++) {
        uint8_t what = fuzz_u8(&c);
        unsigned nargs = fuzz_u8(&c) % 8u;
        sd_bus_message *m = NULL, *reply = NULL;
        if (sd_bus_message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE,
                                           method_names[what % 8u]) < 0)
            break;
        int r = 0;
        for (unsigned i = 0; i < nargs && r >= 0; i++)
            r = append_arg(m, &c, &ids);
        if (r >= 0 && (what & 8))
            r = sd_bus_send(bus, m, &(uint64_t){0}); /* replies expected, unread */
        else if (r >= 0)
            r = sd_bus_call(bus, m, 10 * 1000 * 1000, NULL, &reply);
        uint32_t status;
        uint64_t h;
        const char *name = method_names[what % 8u];
        bool opened = strcmp(name, "Open") == 0, created = strcmp(name, "CreateEnum") == 0;
        if (r >= 0 && reply != NULL && (opened || created) &&
            sd_bus_message_read(reply, "ut", &status, &h) >= 0 && status == 0)
            *(opened ? &ids.session : &ids.enumeration) = h;
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
            break; /* the daemon dropped us */
    }
    /* Hang up and wait for the daemon's side to go: its session ran down. */
    int fd = dup(sd_bus_get_fd(bus));
    sd_bus_flush_close_unref(bus);
    if (fd >= 0)
        feed(fd, NULL, 0);
}

/* ---- the checks --------------------------------------------------------- */

/* The keeper's session is intact, and a fresh client opens one and sees
 * both. */
static void check_others(void)
{
    long kept = enumerate(keeper, keeper_session);
    if (kept < 1)
        DIE("the keeper lost its session (enumerate: %ld; %s)", kept, last_failure);
    sd_bus *fresh = connect_bus(connect_raw());
    static const uint8_t fresh_key[16] = {0x66, 0x72, 0x65, 0x73, 0x68};
    uint64_t fresh_session = 0;
    int status = open_session(fresh, fresh_key, &fresh_session);
    if (status != 0)
        DIE("a well-behaved client cannot open a session: %d", status);
    long seen = enumerate(fresh, fresh_session);
    if (seen < 2)
        DIE("a well-behaved client enumerates %ld sessions, not the keeper's and its own (%s)",
            seen, last_failure);
    sd_bus_message *reply = NULL;
    if (call(fresh, &reply, "Close", "t", fresh_session) < 0)
        DIE("a well-behaved client cannot close");
    sd_bus_message_unref(reply);
    int fd = dup(sd_bus_get_fd(fresh));
    sd_bus_flush_close_unref(fresh);
    if (fd >= 0)
        feed(fd, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size == 0)
        return 0;
    switch (data[0] % 3u) {
    case 0:
        feed(connect_raw(), data + 1, size - 1);
        break;
    case 1:
        feed_after_auth(data + 1, size - 1);
        break;
    default:
        structured(data + 1, size - 1);
        break;
    }
    check_others();
    return 0;
}

/* ---- seeds -------------------------------------------------------------- */

struct relay {
    int client, daemon; /* the recorded client's far end; the daemon's socket */
    uint8_t *bytes;     /* what the client wrote */
    size_t size, cap;
};

static void relay_record(struct relay *r, const char *p, size_t n)
{
    if (r->size + n > r->cap) {
        r->cap = (r->size + n) * 2;
        r->bytes = realloc(r->bytes, r->cap);
        if (r->bytes == NULL)
            DIE("out of memory");
    }
    memcpy(r->bytes + r->size, p, n);
    r->size += n;
}

/* Forwards both ways and records the client's bytes, until both hang up. */
static void *relay_run(void *arg)
{
    struct relay *r = arg;
    bool client_open = true, daemon_open = true;
    char buf[65536];
    while (client_open || daemon_open) {
        struct pollfd p[2] = {{.fd = client_open ? r->client : -1, .events = POLLIN},
                              {.fd = daemon_open ? r->daemon : -1, .events = POLLIN}};
        if (poll(p, 2, HANG_UP_TIMEOUT_MS) <= 0)
            DIE("relay: nothing moved for %d ms", HANG_UP_TIMEOUT_MS);
        if (p[0].revents) {
            ssize_t n = read(r->client, buf, sizeof(buf));
            if (n <= 0) {
                client_open = false;
                shutdown(r->daemon, SHUT_WR);
            } else {
                relay_record(r, buf, (size_t)n);
                if (write(r->daemon, buf, (size_t)n) != n)
                    DIE("relay: short write");
            }
        }
        if (p[1].revents) {
            ssize_t n = read(r->daemon, buf, sizeof(buf));
            if (n <= 0) {
                daemon_open = false;
                shutdown(r->client, SHUT_WR);
            } else if (write(r->client, buf, (size_t)n) != n) {
                client_open = false; /* the client went away first */
            }
        }
    }
    return NULL;
}

static void write_seed(const char *dir, const char *name, uint8_t mode, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(&mode, 1, 1, f) != 1 || (n > 0 && fwrite(p, 1, n, f) != n) ||
        fclose(f) != 0)
        DIE("cannot write %s", path);
}

/* Records a well-behaved session's life as a sd-bus client writes it: open,
 * enumeration handle, pages, destroy, close (mode 0: with the handshake;
 * mode 1: after it). */
static void record_session(const char *dir)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        DIE("socketpair");
    struct relay r = {.client = pair[1], .daemon = connect_raw()};
    pthread_t t;
    if (pthread_create(&t, NULL, relay_run, &r) != 0)
        DIE("pthread_create");
    sd_bus *bus = connect_bus(pair[0]);
    static const uint8_t key[16] = {0x73, 0x65, 0x65, 0x64};
    uint64_t session = 0;
    if (open_session(bus, key, &session) != 0)
        DIE("seed: open");
    sd_bus_message *reply = NULL;
    uint32_t status = 1;
    uint64_t h = 0;
    if (call(bus, &reply, "CreateEnum", "t", session) < 0 ||
        sd_bus_message_read(reply, "ut", &status, &h) < 0 || status != 0)
        DIE("seed: CreateEnum");
    reply = sd_bus_message_unref(reply);
    for (int page = 0; page < 3; page++) { /* one entry a page, then the end */
        if (call(bus, &reply, "Enum", "ttu", session, h, 1) < 0)
            DIE("seed: Enum");
        reply = sd_bus_message_unref(reply);
    }
    if (call(bus, &reply, "Destroy", "tt", session, h) < 0)
        DIE("seed: Destroy");
    reply = sd_bus_message_unref(reply);
    if (call(bus, &reply, "Metrics", NULL) < 0)
        DIE("seed: Metrics");
    reply = sd_bus_message_unref(reply);
    if (call(bus, &reply, "Close", "t", session) < 0)
        DIE("seed: Close");
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    pthread_join(t, NULL);
    close(r.client);
    close(r.daemon);
    write_seed(dir, "session-life", 0, r.bytes, r.size);
    const uint8_t *begin = memmem(r.bytes, r.size, "BEGIN\r\n", 7);
    if (begin == NULL)
        DIE("seed: no BEGIN in the handshake");
    begin += 7;
    write_seed(dir, "session-life-after-auth", 1, begin, r.size - (size_t)(begin - r.bytes));
    free(r.bytes);
}

/* Structured seeds: each method with its own signature, then mistyped. */
static void structured_seeds(const char *dir)
{
    /* method byte, argument count, per argument: kind byte + 8 value bytes,
     * little-endian (kind 5: an issued id, the session's for an even value,
     * the enumeration handle's for an odd one) */
    static const uint8_t open_close[] = {
        0, 6, /* Open: ay(16) u u u ay ay */
        7, 16, 0, 0, 0, 0, 0, 0, 0, 's', 'e', 'e', 'd', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /**/
        2, 0,  0, 0, 0, 0, 0, 0, 0, 2,   0,   0,   0,   0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
        0, 0,                                                          /**/
        7, 0,  0, 0, 0, 0, 0, 0, 0, 7,   0,   0,   0,   0, 0, 0, 0, 0, /**/
        2, 1,  5, 0, 0, 0, 0, 0, 0, 0,   0,                            /* CreateEnum(session) */
        3, 3,  5, 0, 0, 0, 0, 0, 0, 0,   0,                            /* Enum(session, */
        5, 1,  0, 0, 0, 0, 0, 0, 0,          /*      enumeration handle, */
        2, 2,  0, 0, 0, 0, 0, 0, 0,          /*      2) */
        4, 2,  5, 0, 0, 0, 0, 0, 0, 0,   0,  /* Destroy(session, */
        5, 1,  0, 0, 0, 0, 0, 0, 0,          /*         enumeration handle) */
        5, 0,                                /* Metrics */
        1, 1,  5, 0, 0, 0, 0, 0, 0, 0,   0}; /* Close(session) */
    write_seed(dir, "structured-session-life", 2, open_close, sizeof(open_close));
    static const uint8_t mistyped[] = {0, 2, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0,  0, 0, 0, 0,
                                       0, 3, 1, 8, 0, 0, 0, 0, 0, 0, 1, 0, 6, 3, 10, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0};
    write_seed(dir, "structured-mistyped", 2, mistyped, sizeof(mistyped));
    uint8_t flood[2 * 40];
    for (size_t i = 0; i < sizeof(flood); i += 2) {
        flood[i] = 5 | 8; /* Metrics, sent without reading the reply */
        flood[i + 1] = 0;
    }
    write_seed(dir, "structured-unread-replies", 2, flood, sizeof(flood));
}

void fwpmd_fuzz_make_corpus(const char *dir);

void fwpmd_fuzz_make_corpus(const char *dir)
{
    init();
    record_session(dir);
    structured_seeds(dir);
    static const char garbage[] = "\0AUTH EXTERNAL\r\nBEGIN\r\nl\1\0\1\xff\xff\xff\x7f";
    write_seed(dir, "garbage-header", 0, garbage, sizeof(garbage) - 1);
}
