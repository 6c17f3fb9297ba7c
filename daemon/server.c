/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c - accepting connections, driving them, and their rundown.
 *
 * Each connection's socket is its own event source, and only a connection
 * that is readable (or wants to write) is processed: sd_bus_attach_event
 * would ask every bus for its events on every loop iteration, O(connections)
 * per message (measured: 800 us of daemon CPU per open+close at 300 open
 * connections). The sources are edge-triggered: sd-event dispatches one
 * source per loop iteration and polls epoll before each, so N level-triggered
 * sockets that hang up together (a client process with N sessions exits)
 * were reported N times each, O(N^2) (measured: 196 s of daemon CPU to run
 * down 18,000 sessions of ten exiting processes). drive() therefore always
 * runs a bus until it would block, or re-arms itself with `more`.
 */
#include "server.h"

#include "host_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Messages one connection may have processed in a turn before others run. */
#define MESSAGES_PER_TURN 64
/* How long accepting pauses when the daemon is out of descriptors. */
#define ACCEPT_RETRY_USEC (100u * 1000u)

static void list_remove(struct server *srv, struct connection *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->connections = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    srv->connection_count--;
}

/* Closes every session of the connection, and so their enumeration
 * handles (rundown). */
static void close_sessions(struct connection *c)
{
    struct session_table *t = &c->sessions;
    for (uint32_t i = 0; i < t->capacity && t->open > 0; i++)
        if (t->slots[i].in_use)
            connection_close_session(c, &t->slots[i]);
    sessions_free(t);
    sessions_free(&c->enums); /* the engine destroyed them with their sessions */
}

void connection_close_session(struct connection *c, struct conn_session *s)
{
    if (s->engine != NULL) {
        FwpmEngineClose0(s->engine);
        users_closed(c->server, c->uid);
        c->server->session_count--;
    }
    sessions_remove(&c->sessions, s);
}

static void connection_free(struct connection *c)
{
    sd_event_source_disable_unref(c->io);
    sd_event_source_disable_unref(c->more);
    sd_bus_slot_unref(c->vtable_slot);
    sd_bus_slot_unref(c->filter_slot);
    sd_bus_flush_close_unref(c->bus);
    sd_event_source_disable_unref(c->free_source);
    free(c);
}

static int free_later(sd_event_source *s, void *userdata)
{
    (void)s;
    struct connection *c = userdata;
    struct server *srv = c->server;
    connection_free(c);
    if (srv->connections == NULL)
        fwpm_reclaim(); /* idle: give back what the sessions used */
    return 0;
}

/* Rundown: the sessions close and the server forgets the connection. */
static void connection_unlink(struct connection *c)
{
    close_sessions(c);
    list_remove(c->server, c);
}

void connection_drop(struct connection *c)
{
    if (c->free_source != NULL)
        return; /* already dropped */
    connection_unlink(c);
    /* The bus may be inside its own dispatch: free it from the loop. */
    if (sd_event_add_defer(c->server->event, &c->free_source, free_later, c) < 0) {
        fprintf(stderr, "fwpmd: out of memory dropping a connection\n");
        return; /* leaks the object; the sessions are closed already */
    }
    sd_event_source_set_enabled(c->free_source, SD_EVENT_ONESHOT);
    sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
    sd_event_source_set_enabled(c->more, SD_EVENT_OFF);
    sd_bus_close(c->bus);
}

/* sd-bus synthesizes org.freedesktop.DBus.Local.Disconnected on hang-up. */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    (void)error;
    if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected"))
        connection_drop(userdata);
    return 0;
}

/* Watches the socket for what the bus wants next (it may want to write).
 * EPOLL_CTL_MOD re-evaluates readiness, so an edge present now is not lost. */
static int watch(struct connection *c)
{
    int events = sd_bus_get_events(c->bus);
    if (events < 0)
        return events;
    uint32_t epoll_events =
        EPOLLET | ((events & POLLIN) ? EPOLLIN : 0) | ((events & POLLOUT) ? EPOLLOUT : 0);
    return sd_event_source_set_io_events(c->io, epoll_events);
}

/* Runs the connection's bus: reads, dispatches and writes what it can. The
 * source is edge-triggered: sd_bus_process returns 0 only after a read that
 * would block, otherwise `more` brings the connection back. */
static void drive(struct connection *c)
{
    int r = 1;
    for (int i = 0; i < MESSAGES_PER_TURN && r > 0 && c->free_source == NULL; i++)
        r = sd_bus_process(c->bus, NULL);
    if (c->free_source != NULL)
        return; /* dropped by a handler */
    if (r < 0) {
        connection_drop(c); /* hang-up or a protocol violation: rundown */
        return;
    }
    if (r > 0) /* more to do: another turn once the others had theirs */
        sd_event_source_set_enabled(c->more, SD_EVENT_ONESHOT);
    if (watch(c) < 0)
        connection_drop(c);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    (void)s;
    (void)fd;
    (void)revents;
    drive(userdata);
    return 0;
}

static int on_more(sd_event_source *s, void *userdata)
{
    (void)s;
    drive(userdata);
    return 0;
}

static int connection_new(struct server *srv, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return -errno;
    struct connection *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->server = srv;
    c->pid = cred.pid;
    c->uid = cred.uid;
    c->may_enumerate = users_may_enumerate(srv, fd, cred.uid, cred.gid);
    int r = sd_bus_new(&c->bus);
    if (r < 0) {
        free(c);
        return r;
    }
    if ((r = sd_bus_set_fd(c->bus, fd, fd)) < 0 ||
        (r = sd_bus_set_server(c->bus, 1, srv->id)) < 0 ||
        (r = sd_bus_add_object_vtable(c->bus, &c->vtable_slot, HOST_WIRE_PATH, HOST_WIRE_INTERFACE,
                                      server_vtable, c)) < 0 ||
        (r = sd_bus_add_filter(c->bus, &c->filter_slot, on_message, c)) < 0 ||
        (r = sd_bus_start(c->bus)) < 0 ||
        (r = sd_event_add_io(srv->event, &c->io, fd, EPOLLIN | EPOLLET, on_io, c)) < 0 ||
        (r = sd_event_add_defer(srv->event, &c->more, on_more, c)) < 0 ||
        (r = sd_event_source_set_enabled(c->more, SD_EVENT_OFF)) < 0 || (r = watch(c)) < 0) {
        connection_free(c); /* closes fd */
        return r;
    }
    c->next = srv->connections;
    if (c->next != NULL)
        c->next->prev = c;
    srv->connections = c;
    srv->connection_count++;
    return 0;
}

static int resume_accepting(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    struct server *srv = userdata;
    return sd_event_source_set_enabled(srv->listen_source, SD_EVENT_ON);
}

/* Out of descriptors: stop accepting for a while rather than spin. */
static void pause_accepting(struct server *srv)
{
    sd_event_source_set_enabled(srv->listen_source, SD_EVENT_OFF);
    uint64_t now;
    sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
    if (srv->retry_source == NULL)
        sd_event_add_time(srv->event, &srv->retry_source, CLOCK_MONOTONIC, now + ACCEPT_RETRY_USEC,
                          0, resume_accepting, srv);
    else {
        sd_event_source_set_time(srv->retry_source, now + ACCEPT_RETRY_USEC);
        sd_event_source_set_enabled(srv->retry_source, SD_EVENT_ONESHOT);
    }
}

static int on_listen(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    (void)s;
    (void)revents;
    struct server *srv = userdata;
    for (int i = 0; i < 64; i++) { /* a batch, then let the clients run */
        int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                srv->counters.accept_failures++;
                pause_accepting(srv);
            }
            return 0;
        }
        int r = connection_new(srv, client);
        if (r < 0) {
            srv->counters.accept_failures++;
            fprintf(stderr, "fwpmd: dropping a new connection: %s\n", strerror(-r));
        }
    }
    return 0;
}

int server_start(struct server *srv, sd_event *event, int listen_fd)
{
    srv->event = event;
    srv->listen_fd = listen_fd;
    int r = sd_id128_randomize(&srv->id);
    if (r < 0)
        return r;
    return sd_event_add_io(event, &srv->listen_source, listen_fd, EPOLLIN, on_listen, srv);
}

void server_stop(struct server *srv)
{
    while (srv->connections != NULL) {
        struct connection *c = srv->connections;
        connection_unlink(c); /* the loop has ended: no dispatch to defer past */
        connection_free(c);
    }
    srv->listen_source = sd_event_source_disable_unref(srv->listen_source);
    srv->retry_source = sd_event_source_disable_unref(srv->retry_source);
    users_free(srv);
}
