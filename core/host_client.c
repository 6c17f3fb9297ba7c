/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_client.c - a process's sessions on fwpmd, over a pool of sd-bus peer
 * connections (host_client.h).
 */
#include "host_client.h"

#include "container_of.h"
#include "epoch.h"
#include "handles.h"
#include "host_mode.h"
#include "host_page.h"
#include "host_sdbus.h"
#include "memory.h"
#include "refcount.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <wchar.h>

/* One connection to the daemon, shared by up to all the sessions the pool
 * puts on it. lock serializes the bus (sd-bus objects are single-threaded)
 * and guards bus and every session's closed flag. It also covers every
 * message made on or received from the bus, to its last unref: each
 * reference to a message is one to its bus, and sd-bus counts those without
 * atomics (sd_bus_message_unref calls sd_bus_unref), so a message let go
 * outside the lock races a call on the bus for the bus's count. sessions
 * (under the pool's lock) counts the open sessions on it: the pool closes
 * the bus when it reaches 0. refs: one per host_session naming it; the last
 * frees it. */
struct host_conn {
    _Atomic uint64_t refs;
    pthread_mutex_t lock;
    sd_bus *bus;
    int fd;            /* the bus's socket, fixed once connected (the fork child closes it) */
    uint32_t sessions; /* under the pool's lock */
    bool dead;         /* under the pool's lock: a call failed on the transport; out of the pool */
};

/* One session: its connection and the id the daemon issued for it there.
 * refs: the handle's own reference plus one per call in flight; the last
 * release frees it after a grace period (lookups run in epoch sections). */
struct host_session {
    _Atomic uint64_t refs;
    pid_t owner; /* the process that opened it */
    struct host_conn *conn;
    uint64_t id;
    bool closed;             /* under conn->lock */
    struct host_enum *enums; /* its enumeration handles, under conn->lock */
    epoch_entry retire;
};

/* One enumeration handle: a slot of the handle table (HANDLE_KIND_ENUM)
 * naming the session that made it and the daemon's id for it on that
 * session's connection. So a handle used with another session of the
 * process is told apart (FWP_E_WRONG_SESSION) from a bad one, whichever
 * connections the two sessions are on. session, id and handle are fixed
 * once published; prev/next (the session's list) under its conn->lock.
 * Freed after handles_remove and a grace period. */
struct host_enum {
    struct host_session *session;
    uint64_t id;
    HANDLE handle;
    struct host_enum *prev, *next;
    epoch_entry retire;
};

/* The process's connections (docs/contract.md, "Host engine"). A new
 * session takes a connection of its own while the pool holds fewer than
 * HOST_CLIENT_POOL_MAX, so a process with up to that many sessions has one
 * connection per session (its threads share no lock to reach the daemon);
 * beyond, the least-loaded connection. A connection closes when its last
 * session does. lock guards conns and n, and every connection's sessions;
 * it is held to choose (and to connect), never across a call to the daemon. A fork
 * child starts with an empty pool (the parent's connections are never used
 * there). */
static struct {
    pthread_mutex_t lock;
    struct host_conn *conns[HOST_CLIENT_POOL_MAX];
    uint32_t n;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* sd-bus, loaded by the first connect (written once, inside sd_once: the
 * once orders it before every connect, and so before every use through a
 * connection, however many threads connect at once). */
static const struct host_sdbus *sd;
static pthread_once_t sd_once = PTHREAD_ONCE_INIT;

static void sd_load(void)
{
    sd = host_sdbus();
}

/* ---- the process id, renewed in a fork child (sessions are per process) */

static pthread_once_t pid_once = PTHREAD_ONCE_INIT;
static _Atomic pid_t current_pid;

static void pid_after_fork(void)
{
    atomic_store_explicit(&current_pid, getpid(), memory_order_relaxed);
    /* The only thread of the child: the parent's connections are forgotten
     * (their objects stay unreachable in the child's copy), and their
     * sockets closed, so that the daemon sees the hang-up, and runs the
     * parent's sessions down, when the parent ends, however long the child
     * lives (close is async-signal-safe; fd is fixed once a connection is
     * in the pool). A connection a parent thread was making at the fork is
     * not in the pool yet: its socket stays open in the child. */
    for (uint32_t i = 0; i < pool.n; i++)
        close(pool.conns[i]->fd);
    pthread_mutex_init(&pool.lock, NULL);
    pool.n = 0;
}

static void pid_init(void)
{
    atomic_store_explicit(&current_pid, getpid(), memory_order_relaxed);
    pthread_atfork(NULL, NULL, pid_after_fork);
}

static pid_t this_process(void)
{
    pthread_once(&pid_once, pid_init);
    return atomic_load_explicit(&current_pid, memory_order_relaxed);
}

/* ---- errors ------------------------------------------------------------ */

/* An sd-bus failure on an established connection, as Windows' RPC codes. */
static DWORD rpc_status(int r)
{
    switch (-r) {
    case ECONNRESET:
    case ENOTCONN:
    case EPIPE:
    case ECONNREFUSED:
    case ECHILD:
        return RPC_S_SERVER_UNAVAILABLE;
    default:
        return RPC_S_CALL_FAILED;
    }
}

/* ---- connections ----------------------------------------------------------- */

/* A connected stream socket to the daemon, or -1 with errno. The connect
 * itself is bounded by the send timeout (a full backlog waits that long). */
static int connect_daemon(void)
{
    const char *path = host_mode_socket_path();
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (path == NULL || strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENOENT;
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {HOST_CLIENT_TIMEOUT_USEC / 1000000u, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* A started sd-bus peer connection, or an error code: EPT_S_NOT_REGISTERED
 * when nobody listens. */
static DWORD connect_bus(sd_bus **out, int *out_fd)
{
    pthread_once(&sd_once, sd_load);
    if (sd == NULL)
        return EPT_S_NOT_REGISTERED; /* no libsystemd.so.0: no way to the daemon */
    int fd = connect_daemon();
    if (fd < 0)
        return errno == ENOMEM || errno == ENOBUFS ? ERROR_NOT_ENOUGH_MEMORY : EPT_S_NOT_REGISTERED;
    sd_bus *bus = NULL;
    int r = sd->bus_new(&bus);
    if (r >= 0)
        r = sd->bus_set_fd(bus, fd, fd);
    if (r >= 0)
        r = sd->bus_set_method_call_timeout(bus, HOST_CLIENT_TIMEOUT_USEC);
    if (r >= 0)
        r = sd->bus_start(bus);
    if (r < 0) {
        if (bus != NULL)
            sd->bus_unref(bus); /* closes fd once it took it */
        else
            close(fd);
        return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : EPT_S_NOT_REGISTERED;
    }
    *out = bus;
    if (out_fd != NULL)
        *out_fd = fd;
    return ERROR_SUCCESS;
}

static void host_conn_release(struct host_conn *conn)
{
    if (!refcount_release(&conn->refs))
        return;
    pthread_mutex_destroy(&conn->lock);
    memory_free(conn, sizeof(*conn), MEMORY_DATA);
}

/* Takes conn out of the pool's array, if it is there (a dead one is not).
 * The pool's lock held. */
static void pool_remove(struct host_conn *conn)
{
    for (uint32_t i = 0; i < pool.n; i++)
        if (pool.conns[i] == conn) {
            pool.conns[i] = pool.conns[--pool.n];
            return;
        }
}

/* A call on conn failed on the transport (the daemon is gone or the
 * connection broke): no new session joins it, and its place in the pool
 * goes to a fresh connection, so a full pool of dead connections cannot
 * fail every later open. Its sessions keep it until they close. conn's
 * lock held (the order is conn->lock, then the pool's lock; nothing takes
 * them the other way round). */
static void conn_mark_dead(struct host_conn *conn)
{
    pthread_mutex_lock(&pool.lock);
    if (!conn->dead) {
        conn->dead = true;
        pool_remove(conn);
    }
    pthread_mutex_unlock(&pool.lock);
}

/* A connection for one more session, with a reference and the session
 * counted on it (*fresh: made for it); NULL with *status when no new
 * connection could be made.
 * A new connection is made under the pool's lock (a connect and no round
 * trip: sd-bus authenticates with the first call, outside it), so at most
 * HOST_CLIENT_POOL_MAX are ever made. */
static struct host_conn *pool_join(DWORD *status, bool *fresh)
{
    pthread_mutex_lock(&pool.lock);
    struct host_conn *conn = NULL;
    *fresh = pool.n < HOST_CLIENT_POOL_MAX;
    if (*fresh) {
        conn = memory_alloc(sizeof(*conn), MEMORY_DATA);
        *status = conn == NULL ? ERROR_NOT_ENOUGH_MEMORY : connect_bus(&conn->bus, &conn->fd);
        if (*status != ERROR_SUCCESS) {
            memory_free(conn, conn == NULL ? 0 : sizeof(*conn), MEMORY_DATA);
            pthread_mutex_unlock(&pool.lock);
            return NULL;
        }
        atomic_init(&conn->refs, 0);
        pthread_mutex_init(&conn->lock, NULL);
        conn->sessions = 0;
        conn->dead = false;
        pool.conns[pool.n++] = conn;
    } else {
        conn = pool.conns[0];
        for (uint32_t i = 1; i < pool.n; i++)
            if (pool.conns[i]->sessions < conn->sessions)
                conn = pool.conns[i];
    }
    conn->sessions++;
    /* Relaxed: a holder of conn->refs > 0 (a session counted on it) exists or
     * conn is new; the pool's lock orders the count against pool_leave. */
    atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&pool.lock);
    *status = ERROR_SUCCESS;
    return conn;
}

/* One session less on conn (its Close answered, or its Open failed): the
 * last one takes the connection out of the pool and closes it. The caller
 * still holds its reference. */
static void pool_leave(struct host_conn *conn)
{
    pthread_mutex_lock(&pool.lock);
    bool last = --conn->sessions == 0;
    if (last)
        pool_remove(conn);
    pthread_mutex_unlock(&pool.lock);
    if (!last)
        return;
    /* Out of the pool: no new session comes; no open one is left to call. */
    pthread_mutex_lock(&conn->lock);
    sd->bus_flush_close_unref(conn->bus);
    conn->bus = NULL;
    pthread_mutex_unlock(&conn->lock);
}

static void host_session_free_deferred(epoch_entry *entry)
{
    struct host_session *hs = container_of(entry, struct host_session, retire);
    host_conn_release(hs->conn);
    memory_free(hs, sizeof(*hs), MEMORY_DATA);
}

static void host_session_release(struct host_session *hs)
{
    if (refcount_release(&hs->refs))
        epoch_retire(&hs->retire, host_session_free_deferred);
}

/* The session behind a handle of this process, with a reference; NULL for
 * a bad, closed or inherited handle. */
static struct host_session *host_session_acquire(HANDLE engine_handle)
{
    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        return NULL;
    struct host_session *hs = handles_lookup(engine_handle, HANDLE_KIND_ENGINE);
    if (hs != NULL && (hs->owner != this_process() || !refcount_try_acquire(&hs->refs)))
        hs = NULL;
    epoch_exit(record);
    return hs;
}

/* Takes the session's connection lock; false (lock not held) when the
 * session is closed. */
static bool host_session_lock(struct host_session *hs)
{
    pthread_mutex_lock(&hs->conn->lock);
    if (!hs->closed)
        return true;
    pthread_mutex_unlock(&hs->conn->lock);
    return false;
}

static void host_enum_free_deferred(epoch_entry *entry)
{
    memory_free(container_of(entry, struct host_enum, retire), sizeof(struct host_enum),
                MEMORY_DATA);
}

/* Unlinks en from its session (conn->lock held) and retires it; its handle
 * was removed by the caller. */
static void host_enum_retire(struct host_enum *en)
{
    struct host_session *hs = en->session;
    if (en->prev != NULL)
        en->prev->next = en->next;
    else
        hs->enums = en->next;
    if (en->next != NULL)
        en->next->prev = en->prev;
    epoch_retire(&en->retire, host_enum_free_deferred);
}

/* enum_handle's object if it is hs's (hs->conn->lock held: only a holder of
 * that lock retires hs's handles, so *out stays valid while it is held):
 * ERROR_INVALID_HANDLE for a bad or destroyed one, FWP_E_WRONG_SESSION for
 * another session's. */
static DWORD host_enum_resolve(struct host_session *hs, HANDLE enum_handle, struct host_enum **out)
{
    ck_epoch_record_t *record;
    if (!epoch_enter(&record))
        return ERROR_NOT_ENOUGH_MEMORY;
    struct host_enum *en = handles_lookup(enum_handle, HANDLE_KIND_ENUM);
    DWORD status = ERROR_SUCCESS;
    if (en == NULL)
        status = ERROR_INVALID_HANDLE;
    else if (en->session != hs) /* compared, never followed */
        status = FWP_E_WRONG_SESSION;
    else
        *out = en;
    epoch_exit(record);
    return status;
}

/* Closing hs (conn->lock held): its enumeration handles die with it. */
static void host_session_drop_enums(struct host_session *hs)
{
    while (hs->enums != NULL) {
        struct host_enum *en = hs->enums;
        handles_remove(en->handle, HANDLE_KIND_ENUM);
        host_enum_retire(en);
    }
}

/* sd_bus_message_append through the loaded appendv. */
static int append(sd_bus_message *m, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int r = sd->message_appendv(m, types, ap);
    va_end(ap);
    return r;
}

/* The status of a failed sd-bus call on conn (its lock held): out of
 * memory, or an RPC code, and then conn is dead. */
static DWORD transport_failure(struct host_conn *conn, int r)
{
    if (r == -ENOMEM)
        return ERROR_NOT_ENOUGH_MEMORY;
    conn_mark_dead(conn);
    return rpc_status(r);
}

/* Calls method on conn (its lock held); *reply on success. The first reply
 * argument is always the engine's status. */
static DWORD call(struct host_conn *conn, const char *method, sd_bus_message **reply,
                  const char *types, ...)
{
    sd_bus *bus = conn->bus;
    sd_bus_message *m = NULL;
    int r = sd->message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE, method);
    if (r >= 0 && types != NULL) {
        va_list ap;
        va_start(ap, types);
        r = sd->message_appendv(m, types, ap);
        va_end(ap);
    }
    if (r >= 0)
        r = sd->bus_call(bus, m, 0, NULL, reply);
    sd->message_unref(m);
    if (r < 0)
        return transport_failure(conn, r);
    uint32_t status;
    if (sd->message_read(*reply, "u", &status) < 0) {
        *reply = sd->message_unref(*reply);
        return RPC_S_CALL_FAILED;
    }
    return status;
}

/* ---- the API ------------------------------------------------------------ */

/* Appends a string as native wide characters, at most HOST_WIRE_STRING_MAX
 * (a longer one is cut there, which the engine rejects as too long). */
static int append_string(sd_bus_message *m, const wchar_t *s)
{
    size_t n = s == NULL ? 0 : wcsnlen(s, HOST_WIRE_STRING_MAX);
    return sd->message_append_array(m, 'y', s == NULL ? "" : (const void *)s, n * sizeof(wchar_t));
}

/* Opens a session on conn (its lock held); *id on success. */
static DWORD send_open(struct host_conn *conn, const FWPM_SESSION0 *session, uint64_t *id)
{
    sd_bus *bus = conn->bus;
    static const FWPM_SESSION0 anonymous;
    if (session == NULL)
        session = &anonymous;
    const wchar_t *name = session->displayData.name;
    const wchar_t *description = session->displayData.description;
    uint32_t present = (name != NULL ? HOST_WIRE_PRESENT_NAME : 0) |
                       (description != NULL ? HOST_WIRE_PRESENT_DESCRIPTION : 0);
    sd_bus_message *m = NULL, *reply = NULL;
    int r = sd->message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE, "Open");
    if (r >= 0)
        r = sd->message_append_array(m, 'y', &session->sessionKey, sizeof(GUID));
    if (r >= 0)
        r = append(m, "uuu", session->flags, session->txnWaitTimeoutInMSec, present);
    if (r >= 0)
        r = append_string(m, name);
    if (r >= 0)
        r = append_string(m, description);
    if (r >= 0)
        r = sd->bus_call(bus, m, 0, NULL, &reply);
    sd->message_unref(m);
    if (r < 0)
        return transport_failure(conn, r);
    uint32_t status = RPC_S_CALL_FAILED;
    if (sd->message_read(reply, "ut", &status, id) < 0)
        status = RPC_S_CALL_FAILED;
    sd->message_unref(reply);
    return status;
}

/* Opens a session on a connection of the pool: the connection, with the
 * session's reference, and *id; NULL with *status. An existing connection
 * that turns out dead (a daemon restarted since) leaves the pool and the
 * open is tried again, on a fresh connection once no live one is left: the
 * dead connection's daemon, if it ever saw the request, ran its sessions
 * down with it. Bounded: each retry takes a connection out of the pool. */
static struct host_conn *open_on_pool(const FWPM_SESSION0 *session, uint64_t *id, DWORD *status)
{
    for (unsigned attempt = 0; attempt <= HOST_CLIENT_POOL_MAX; attempt++) {
        bool fresh;
        struct host_conn *conn = pool_join(status, &fresh);
        if (conn == NULL)
            return NULL;
        pthread_mutex_lock(&conn->lock);
        *status = send_open(conn, session, id);
        pthread_mutex_unlock(&conn->lock);
        if (*status == ERROR_SUCCESS)
            return conn;
        pool_leave(conn);
        host_conn_release(conn);
        bool transport = *status == RPC_S_SERVER_UNAVAILABLE || *status == RPC_S_CALL_FAILED;
        if (fresh || !transport)
            return NULL;
    }
    return NULL;
}

DWORD host_client_open(const FWPM_SESSION0 *session, HANDLE *engine_handle)
{
    pid_t me = this_process(); /* first: registers the fork handler that empties the pool */
    struct host_session *hs = memory_alloc(sizeof(*hs), MEMORY_DATA);
    if (hs == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    HANDLE h = handles_reserve(HANDLE_KIND_ENGINE);
    if (h == NULL) {
        memory_free(hs, sizeof(*hs), MEMORY_DATA);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    DWORD status;
    struct host_conn *conn = open_on_pool(session, &hs->id, &status);
    if (conn == NULL) {
        handles_cancel(h);
        memory_free(hs, sizeof(*hs), MEMORY_DATA);
        return status;
    }
    atomic_init(&hs->refs, 1);
    hs->owner = me;
    hs->conn = conn; /* our reference to it becomes the session's */
    hs->closed = false;
    hs->enums = NULL;
    handles_publish(h, hs);
    *engine_handle = h;
    return ERROR_SUCCESS;
}

DWORD host_client_close(HANDLE engine_handle)
{
    struct host_session *hs = host_session_acquire(engine_handle);
    if (hs == NULL)
        return ERROR_INVALID_HANDLE;
    if (!handles_remove(engine_handle, HANDLE_KIND_ENGINE)) {
        host_session_release(hs);
        return ERROR_INVALID_HANDLE; /* a racing close won */
    }
    /* Wait for calls in flight on the connection, then close the session:
     * the daemon closes it before it answers, so a snapshot taken after we
     * return never holds it. The handle is gone whatever the daemon says. */
    struct host_conn *conn = hs->conn;
    pthread_mutex_lock(&conn->lock);
    sd_bus_message *reply = NULL;
    DWORD status = call(conn, "Close", &reply, "t", hs->id);
    sd->message_unref(reply);
    hs->closed = true;
    host_session_drop_enums(hs);
    pthread_mutex_unlock(&conn->lock);
    pool_leave(conn);
    host_session_release(hs); /* ours */
    host_session_release(hs); /* the handle's */
    return status;
}

DWORD host_client_create_enum(HANDLE engine_handle, HANDLE *enum_handle)
{
    struct host_session *hs = host_session_acquire(engine_handle);
    if (hs == NULL)
        return ERROR_INVALID_HANDLE;
    struct host_enum *en = memory_alloc(sizeof(*en), MEMORY_DATA);
    HANDLE h = en == NULL ? NULL : handles_reserve(HANDLE_KIND_ENUM);
    if (h == NULL) {
        memory_free(en, sizeof(*en), MEMORY_DATA);
        host_session_release(hs);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    DWORD status = ERROR_INVALID_HANDLE;
    if (host_session_lock(hs)) {
        sd_bus_message *reply = NULL;
        status = call(hs->conn, "CreateEnum", &reply, "t", hs->id);
        uint64_t id = 0;
        if (reply != NULL && sd->message_read(reply, "t", &id) < 0 && status == ERROR_SUCCESS)
            status = RPC_S_CALL_FAILED;
        sd->message_unref(reply);
        if (status == ERROR_SUCCESS) {
            *en = (struct host_enum){.session = hs, .id = id, .handle = h, .next = hs->enums};
            if (hs->enums != NULL)
                hs->enums->prev = en;
            hs->enums = en;
            handles_publish(h, en);
            *enum_handle = h;
        }
        pthread_mutex_unlock(&hs->conn->lock);
    }
    if (status != ERROR_SUCCESS) {
        handles_cancel(h);
        memory_free(en, sizeof(*en), MEMORY_DATA);
    }
    host_session_release(hs);
    return status;
}

DWORD host_client_destroy_enum(HANDLE engine_handle, HANDLE enum_handle)
{
    struct host_session *hs = host_session_acquire(engine_handle);
    if (hs == NULL)
        return ERROR_INVALID_HANDLE;
    DWORD status = ERROR_INVALID_HANDLE;
    if (host_session_lock(hs)) {
        struct host_enum *en = NULL;
        status = host_enum_resolve(hs, enum_handle, &en);
        if (status == ERROR_SUCCESS && !handles_remove(enum_handle, HANDLE_KIND_ENUM))
            status = ERROR_INVALID_HANDLE; /* never: removals hold this lock too */
        if (status == ERROR_SUCCESS) {
            sd_bus_message *reply = NULL;
            status = call(hs->conn, "Destroy", &reply, "tt", hs->id, en->id);
            sd->message_unref(reply);
            host_enum_retire(en); /* gone here whatever the daemon said */
        }
        pthread_mutex_unlock(&hs->conn->lock);
    }
    host_session_release(hs);
    return status;
}

/* Replies of one FwpmSessionEnum0 call, kept until the page is built. */
struct reply_list {
    sd_bus_message **replies;
    struct host_wire_view *views;
    size_t n, capacity;
};

/* Doubles both arrays: new blocks from the library's allocator (never the
 * host's malloc), the entries copied, the old blocks freed with their sizes. */
static bool reply_list_grow(struct reply_list *l)
{
    size_t capacity = l->capacity == 0 ? 4 : l->capacity * 2;
    sd_bus_message **r = memory_alloc(capacity * sizeof(*r), MEMORY_DATA);
    struct host_wire_view *v = memory_alloc(capacity * sizeof(*v), MEMORY_DATA);
    if (r == NULL || v == NULL) {
        memory_free(r, capacity * sizeof(*r), MEMORY_DATA);
        memory_free(v, capacity * sizeof(*v), MEMORY_DATA);
        return false; /* the list is unchanged */
    }
    if (l->n > 0) {
        memcpy(r, l->replies, l->n * sizeof(*r));
        memcpy(v, l->views, l->n * sizeof(*v));
    }
    memory_free(l->replies, l->capacity * sizeof(*r), MEMORY_DATA);
    memory_free(l->views, l->capacity * sizeof(*v), MEMORY_DATA);
    l->replies = r;
    l->views = v;
    l->capacity = capacity;
    return true;
}

/* Unreferences the replies (each holds a reference to conn's bus: under
 * conn->lock, which this takes, see struct host_conn) and frees the list.
 * conn->bus may be closed by now (pool_leave): the replies' references keep
 * its object until the last of them goes, here, serialized with the close by
 * the same lock. */
static void reply_list_free(struct host_conn *conn, struct reply_list *l)
{
    pthread_mutex_lock(&conn->lock);
    for (size_t i = 0; i < l->n; i++)
        sd->message_unref(l->replies[i]);
    pthread_mutex_unlock(&conn->lock);
    memory_free(l->replies, l->capacity * sizeof(*l->replies), MEMORY_DATA);
    memory_free(l->views, l->capacity * sizeof(*l->views), MEMORY_DATA);
}

/* Fetches one chunk of at most `ask` entries into the list. */
static DWORD fetch_chunk(struct host_session *hs, uint64_t enum_id, uint32_t ask,
                         struct reply_list *l)
{
    if (l->n == l->capacity && !reply_list_grow(l))
        return ERROR_NOT_ENOUGH_MEMORY;
    sd_bus_message *reply = NULL;
    DWORD status = call(hs->conn, "Enum", &reply, "ttu", hs->id, enum_id, ask);
    if (status != ERROR_SUCCESS) {
        sd->message_unref(reply);
        return status;
    }
    const void *blob = NULL;
    size_t bytes = 0;
    if (sd->message_read_array(reply, 'y', &blob, &bytes) < 0 ||
        !host_wire_check(blob, bytes, &l->views[l->n]) || l->views[l->n].count > ask) {
        sd->message_unref(reply);
        return RPC_S_CALL_FAILED;
    }
    l->replies[l->n++] = reply;
    return ERROR_SUCCESS;
}

DWORD host_client_enum(HANDLE engine_handle, HANDLE enum_handle, UINT32 requested,
                       FWPM_SESSION0 ***entries, UINT32 *returned)
{
    struct host_session *hs = host_session_acquire(engine_handle);
    if (hs == NULL)
        return ERROR_INVALID_HANDLE;
    if (!host_session_lock(hs)) {
        host_session_release(hs);
        return ERROR_INVALID_HANDLE;
    }
    struct host_enum *en = NULL;
    DWORD resolved = host_enum_resolve(hs, enum_handle, &en);
    if (resolved != ERROR_SUCCESS) {
        pthread_mutex_unlock(&hs->conn->lock);
        host_session_release(hs);
        return resolved;
    }
    uint64_t enum_id = en->id;
    struct reply_list l = {0};
    DWORD status = ERROR_SUCCESS;
    uint64_t got = 0;
    /* Chunks until the request is met or a short chunk says "exhausted".
     * When a later chunk fails the call fails, and the entries already
     * claimed are lost, as a page lost to an RPC failure is on Windows. */
    do {
        uint32_t ask = requested - got < HOST_WIRE_CHUNK_ENTRIES ? (uint32_t)(requested - got)
                                                                 : HOST_WIRE_CHUNK_ENTRIES;
        status = fetch_chunk(hs, enum_id, ask, &l);
        if (status != ERROR_SUCCESS)
            break;
        got += l.views[l.n - 1].count;
        if (l.views[l.n - 1].count < ask)
            break;
    } while (got < requested);
    pthread_mutex_unlock(&hs->conn->lock);
    /* The copy runs outside the lock (only the replies' bytes are read, and
     * the replies are ours alone: sd-bus dequeued them); letting them go
     * takes it again. */
    if (status == ERROR_SUCCESS)
        status = host_page_build(l.views, l.n, entries, returned);
    reply_list_free(hs->conn, &l);
    host_session_release(hs);
    return status;
}

DWORD host_client_metrics(char **text)
{
    sd_bus *bus = NULL;
    DWORD status = connect_bus(&bus, NULL);
    if (status != ERROR_SUCCESS)
        return status;
    sd_bus_message *m = NULL, *reply = NULL;
    int r =
        sd->message_new_method_call(bus, &m, NULL, HOST_WIRE_PATH, HOST_WIRE_INTERFACE, "Metrics");
    if (r >= 0)
        r = sd->bus_call(bus, m, 0, NULL, &reply);
    sd->message_unref(m);
    const char *s = NULL;
    if (r >= 0)
        r = sd->message_read(reply, "s", &s);
    if (r >= 0) {
        *text = strdup(s);
        status = *text == NULL ? ERROR_NOT_ENOUGH_MEMORY : ERROR_SUCCESS;
    } else {
        status = rpc_status(r);
    }
    sd->message_unref(reply);
    sd->bus_flush_close_unref(bus);
    return status;
}
