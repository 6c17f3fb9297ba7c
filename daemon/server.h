/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h - fwpmd's state: the listening socket, its client connections,
 * and what the methods need to know about each (fwpmd is one thread: every
 * object here belongs to the event loop's thread).
 *
 * A connection carries at most one engine session (the client library opens
 * one connection per session). When a connection drops, by a clean close, a
 * crash or SIGKILL of its process, the loop sees the hang-up and closes the
 * session at once (rundown). Identity (pid, uid, groups) is the kernel's:
 * SO_PEERCRED and SO_PEERGROUPS at accept time.
 */
#ifndef FWPMD_SERVER_H
#define FWPMD_SERVER_H

#include <fwpm_linux.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

struct server_config {
    const char *socket_path;        /* NULL with socket activation */
    bool have_enum_group;           /* --enum-group given */
    gid_t enum_gid;                 /* its gid */
    uint32_t max_sessions_per_user; /* non-root users; 0: no limit */
};

/* Replies a connection may have queued unread before it is dropped. */
#define SERVER_MAX_QUEUED_REPLIES 16u

struct connection {
    struct server *server;
    sd_bus *bus;
    sd_bus_slot *vtable_slot, *filter_slot;
    sd_event_source *io;          /* the socket, watched for what the bus wants */
    sd_event_source *more;        /* a turn later when one turn did not drain it */
    sd_event_source *free_source; /* set once the connection is dead */
    pid_t pid;
    uid_t uid;
    bool may_enumerate; /* root or member of the enumeration group */
    HANDLE engine;      /* the session, or NULL */
    uint32_t flags;     /* the session's flags */
    struct connection *prev, *next;
};

/* Counters for fwpm metrics, in the loop's thread. */
struct server_counters {
    uint64_t sessions_opened, snapshots, enumerations, entries, access_denied, quota_denied,
        dropped_backlogged, accept_failures;
};

struct server {
    struct server_config config;
    sd_event *event;
    sd_event_source *listen_source, *retry_source;
    int listen_fd;
    sd_id128_t id;
    struct connection *connections;
    uint64_t connection_count;
    struct server_counters counters;
    struct user_count *users; /* per-uid session counts (users.c) */
};

/* Starts serving listen_fd on event. 0 or a negative errno. */
int server_start(struct server *srv, sd_event *event, int listen_fd);

/* Drops every connection (closing their sessions); the loop has ended. */
void server_stop(struct server *srv);

/* Ends a connection from inside a handler: its session closes now, the
 * object goes away once the loop is back. */
void connection_drop(struct connection *c);

/* The method table (methods.c), to be attached to each connection. */
extern const sd_bus_vtable server_vtable[];

/* Per-user session counts (users.c). */
bool users_may_open(struct server *srv, uid_t uid);
void users_opened(struct server *srv, uid_t uid);
void users_closed(struct server *srv, uid_t uid);
/* Whether the peer behind fd may enumerate: root or in the group. */
bool users_may_enumerate(const struct server *srv, int fd, uid_t uid, gid_t gid);
void users_free(struct server *srv);

/* The metrics text (metrics.c); malloc'd, NULL when out of memory. */
char *metrics_render(const struct server *srv);

#endif /* FWPMD_SERVER_H */
