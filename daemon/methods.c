/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * methods.c - the engine's D-Bus methods (wire format: core/host_wire.h).
 *
 * Every argument is checked before use: a malformed call gets a D-Bus error
 * (the client reads RPC_S_CALL_FAILED) and changes nothing. Identity is the
 * connection's, never the message's. A session id is looked up in the
 * calling connection's own table only: an id it did not issue, or of a
 * session closed since, answers ERROR_INVALID_HANDLE; an enumeration handle
 * goes to the engine with the session it was named with, and the engine
 * rejects one of another session the same way (docs/contract.md).
 */
#include "server.h"

#include "engine.h"
#include "host_wire.h"
#include "identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_ERROR "org.fwpm.Error.InvalidArgs"

/* Too many replies queued unread: the client stopped reading. */
static bool backlogged(struct connection *c)
{
    uint64_t queued = 0;
    if (sd_bus_get_n_queued_write(c->bus, &queued) >= 0 && queued >= SERVER_MAX_QUEUED_REPLIES) {
        c->server->counters.dropped_backlogged++;
        connection_drop(c);
        return true;
    }
    return false;
}

static int reply_status(sd_bus_message *m, DWORD status)
{
    return sd_bus_reply_method_return(m, "u", status);
}

/* Reads a wire string into a fresh NUL-terminated copy (*out NULL when
 * absent). false when malformed. */
static bool read_string(sd_bus_message *m, bool present, wchar_t **out)
{
    const void *p;
    size_t bytes;
    *out = NULL;
    if (sd_bus_message_read_array(m, 'y', &p, &bytes) < 0)
        return false;
    if (bytes % sizeof(wchar_t) != 0 || bytes > HOST_WIRE_STRING_MAX * sizeof(wchar_t))
        return false;
    if (!present)
        return bytes == 0;
    wchar_t *s = malloc(bytes + sizeof(wchar_t));
    if (s == NULL)
        return false;
    if (bytes > 0) /* an empty array may come as NULL */
        memcpy(s, p, bytes);
    s[bytes / sizeof(wchar_t)] = 0;
    *out = s;
    return true;
}

static int method_open(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    struct connection *c = userdata;
    if (backlogged(c))
        return 0;
    const void *key;
    size_t key_bytes;
    FWPM_SESSION0 requested = {0};
    uint32_t present;
    if (sd_bus_message_read_array(m, 'y', &key, &key_bytes) < 0 || key_bytes != sizeof(GUID) ||
        sd_bus_message_read(m, "uuu", &requested.flags, &requested.txnWaitTimeoutInMSec, &present) <
            0)
        return sd_bus_error_set(error, WIRE_ERROR, "malformed Open");
    memcpy(&requested.sessionKey, key, sizeof(GUID));
    wchar_t *name = NULL, *description = NULL;
    if (!read_string(m, present & HOST_WIRE_PRESENT_NAME, &name) ||
        !read_string(m, present & HOST_WIRE_PRESENT_DESCRIPTION, &description)) {
        free(name);
        return sd_bus_error_set(error, WIRE_ERROR, "malformed Open strings");
    }
    requested.displayData.name = name;
    requested.displayData.description = description;

    struct server *srv = c->server;
    struct identity who;
    struct conn_session *s = NULL;
    uint64_t id = 0;
    HANDLE engine = NULL;
    DWORD status;
    if (!users_may_open(srv, c->uid)) { /* sessions count, not connections */
        status = ERROR_NOT_ENOUGH_QUOTA;
        srv->counters.quota_denied++;
    } else if (!engine_ready() || !identity_of_peer(&who, c->pid, c->uid) ||
               (s = sessions_add(&c->sessions, &id)) == NULL)
        status = ERROR_NOT_ENOUGH_MEMORY;
    else
        status = engine_open_session(&requested, &who, &engine);
    if (status == ERROR_SUCCESS) {
        s->engine = engine;
        s->flags = requested.flags;
        users_opened(srv, c->uid);
        srv->session_count++;
        srv->counters.sessions_opened++;
    } else if (s != NULL) {
        sessions_remove(&c->sessions, s);
        id = 0;
    }
    free(name);
    free(description);
    return sd_bus_reply_method_return(m, "ut", status, id);
}

/* The calling connection's session named by the message's next argument
 * (t, in *id), in *s (NULL for an id this connection does not hold). false
 * when the argument is missing. */
static bool read_session(sd_bus_message *m, struct connection *c, struct conn_session **s,
                         uint64_t *id)
{
    if (sd_bus_message_read(m, "t", id) < 0)
        return false;
    *s = sessions_find(&c->sessions, *id);
    return true;
}

static int method_close(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    struct connection *c = userdata;
    struct conn_session *s;
    uint64_t sid;
    if (!read_session(m, c, &s, &sid))
        return sd_bus_error_set(error, WIRE_ERROR, "malformed Close");
    if (s == NULL)
        return reply_status(m, ERROR_INVALID_HANDLE);
    connection_close_session(c, s); /* before the answer: see host_client.c */
    return reply_status(m, ERROR_SUCCESS);
}

static int method_create_enum(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    struct connection *c = userdata;
    if (backlogged(c))
        return 0;
    struct conn_session *s;
    uint64_t sid;
    if (!read_session(m, c, &s, &sid))
        return sd_bus_error_set(error, WIRE_ERROR, "malformed CreateEnum");
    HANDLE h = NULL;
    struct conn_session *e = NULL;
    uint64_t id = 0;
    DWORD status;
    if (s == NULL)
        status = ERROR_INVALID_HANDLE;
    else if (!c->may_enumerate) {
        status = ERROR_ACCESS_DENIED;
        c->server->counters.access_denied++;
    } else if ((e = enums_add(c, sid, &id)) == NULL)
        status = ERROR_NOT_ENOUGH_MEMORY;
    else
        status = FwpmSessionCreateEnumHandle0(s->engine, NULL, &h);
    if (status == ERROR_SUCCESS) {
        e->engine = h;
        c->server->counters.snapshots++;
    } else if (e != NULL) {
        sessions_remove(&c->enums, e);
        id = 0;
    }
    return sd_bus_reply_method_return(m, "ut", status, id);
}

/* Replies with a status and a packed page of n entries. */
static int reply_page(sd_bus_message *m, DWORD status, FWPM_SESSION0 **entries, UINT32 n)
{
    sd_bus_message *reply = NULL;
    void *space;
    size_t bytes = host_wire_encoded_size(entries, n);
    int r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_append(reply, "u", status);
    if (r >= 0)
        r = sd_bus_message_append_array_space(reply, 'y', bytes, &space);
    if (r >= 0) {
        host_wire_encode(entries, n, space);
        r = sd_bus_send(NULL, reply, NULL);
    }
    sd_bus_message_unref(reply);
    return r;
}

static int method_enum(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    struct connection *c = userdata;
    if (backlogged(c))
        return 0;
    struct conn_session *s;
    uint64_t sid, h;
    uint32_t requested;
    if (!read_session(m, c, &s, &sid) || sd_bus_message_read(m, "tu", &h, &requested) < 0)
        return sd_bus_error_set(error, WIRE_ERROR, "malformed Enum");
    if (requested > HOST_WIRE_CHUNK_ENTRIES)
        requested = HOST_WIRE_CHUNK_ENTRIES;
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    struct conn_session *e = enums_find(c, h);
    DWORD status = s == NULL || e == NULL
                       ? ERROR_INVALID_HANDLE
                       : FwpmSessionEnum0(s->engine, e->engine, requested, &entries, &n);
    if (status != ERROR_SUCCESS)
        n = 0;
    c->server->counters.enumerations++;
    c->server->counters.entries += n;
    int r = reply_page(m, status, entries, n);
    FwpmFreeMemory0((void **)&entries);
    return r;
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    struct connection *c = userdata;
    struct conn_session *s;
    uint64_t sid, h;
    if (!read_session(m, c, &s, &sid) || sd_bus_message_read(m, "t", &h) < 0)
        return sd_bus_error_set(error, WIRE_ERROR, "malformed Destroy");
    struct conn_session *e = enums_find(c, h);
    DWORD status = s == NULL || e == NULL ? ERROR_INVALID_HANDLE
                                          : FwpmSessionDestroyEnumHandle0(s->engine, e->engine);
    if (status == ERROR_SUCCESS)
        sessions_remove(&c->enums, e);
    return reply_status(m, status);
}

static int method_metrics(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    struct connection *c = userdata;
    if (backlogged(c))
        return 0;
    char *text = metrics_render(c->server);
    if (text == NULL)
        return sd_bus_error_set_errno(error, ENOMEM);
    int r = sd_bus_reply_method_return(m, "s", text);
    free(text);
    return r;
}

const sd_bus_vtable server_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Open", "ayuuuayay",
                             SD_BUS_PARAM(key) SD_BUS_PARAM(flags) SD_BUS_PARAM(txnWaitTimeout)
                                 SD_BUS_PARAM(present) SD_BUS_PARAM(name) SD_BUS_PARAM(description),
                             "ut", SD_BUS_PARAM(status) SD_BUS_PARAM(session), method_open,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Close", "t", SD_BUS_PARAM(session), "u", SD_BUS_PARAM(status),
                             method_close, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("CreateEnum", "t", SD_BUS_PARAM(session), "ut",
                             SD_BUS_PARAM(status) SD_BUS_PARAM(enumHandle), method_create_enum,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES(
        "Enum", "ttu", SD_BUS_PARAM(session) SD_BUS_PARAM(enumHandle) SD_BUS_PARAM(requested),
        "uay", SD_BUS_PARAM(status) SD_BUS_PARAM(page), method_enum, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Destroy", "tt", SD_BUS_PARAM(session) SD_BUS_PARAM(enumHandle), "u",
                             SD_BUS_PARAM(status), method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Metrics", "", , "s", SD_BUS_PARAM(text), method_metrics,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};
