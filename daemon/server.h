/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h - fwpmd's state: the listening socket, its client connections,
 * and what the methods need to know about each (fwpmd is one thread: every
 * object here belongs to the event loop's thread).
 *
 * A connection carries any number of engine sessions of one process (the
 * client library spreads a process's sessions over a small pool of
 * connections, host_client.c), each named on the wire by an id this
 * connection issued (sessions.c); an id is looked up only in the calling
 * connection's own table. When a connection drops, by a clean close, a crash
 * or SIGKILL of its process, the loop sees the hang-up and closes all its
 * sessions, and with them their enumeration handles, at once (rundown).
 * Identity (pid, uid, groups) is the kernel's: SO_PEERCRED and SO_PEERGROUPS
 * at accept time, shared by every session of the connection.
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

/* One session of a connection, or one enumeration handle: a slot of its
 * table (sessions.c). */
struct conn_session {
    HANDLE engine;       /* the engine's session or enumeration handle; NULL while being opened */
    uint64_t owner;      /* an enumeration handle's session id */
    uint32_t flags;      /* a session's flags */
    uint32_t generation; /* the upper half of the slot's current id */
    uint32_t next_free;  /* the free list, while not in use */
    bool in_use;
};

/* A connection's sessions by id: O(1) add, find and remove. */
struct session_table {
    struct conn_session *slots;
    uint32_t capacity, open, free_head;
};

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
    struct session_table sessions;
    struct session_table enums; /* enumeration handles; owner: their session's id */
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
    uint64_t session_count; /* sessions of all connections */
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

/* Closes one session of c (its engine session if opened, its quota charge)
 * and frees its slot. */
void connection_close_session(struct connection *c, struct conn_session *s);

/* A fresh slot and its id; NULL when out of memory. */
struct conn_session *sessions_add(struct session_table *t, uint64_t *id);
/* The session id names on this table; NULL for an id it never issued or a
 * closed session. */
struct conn_session *sessions_find(struct session_table *t, uint64_t id);
/* Frees s's slot (its engine session is closed already); its id dies. */
void sessions_remove(struct session_table *t, struct conn_session *s);
void sessions_free(struct session_table *t);
/* The enumeration handle id names on c, if its session is still open (a
 * handle whose session closed, and so was destroyed by the engine, is
 * forgotten here). NULL otherwise. */
struct conn_session *enums_find(struct connection *c, uint64_t id);
/* A fresh enumeration slot for session owner; before growing, the table
 * forgets handles whose sessions closed, so it never outgrows what is
 * live by more than double. NULL when out of memory. */
struct conn_session *enums_add(struct connection *c, uint64_t owner, uint64_t *id);

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
