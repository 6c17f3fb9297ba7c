/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * users.c - who may enumerate, and how many sessions each user holds.
 *
 * Enumeration (FwpmSessionCreateEnumHandle0) is allowed to root and to
 * members of --enum-group, judged on the connecting process's credentials as
 * the kernel recorded them at connect time: its primary gid (SO_PEERCRED) and
 * its supplementary groups (SO_PEERGROUPS), so a process cannot gain the
 * right by changing groups afterwards, and /etc/group edits apply to new
 * connections only.
 */
#include "server.h"

#include <stdlib.h>
#include <sys/socket.h>

struct user_count {
    uid_t uid;
    uint32_t sessions;
    struct user_count *next;
};

static struct user_count *find(struct server *srv, uid_t uid)
{
    for (struct user_count *u = srv->users; u != NULL; u = u->next)
        if (u->uid == uid)
            return u;
    return NULL;
}

bool users_may_open(struct server *srv, uid_t uid)
{
    if (uid == 0 || srv->config.max_sessions_per_user == 0)
        return true;
    struct user_count *u = find(srv, uid);
    return u == NULL || u->sessions < srv->config.max_sessions_per_user;
}

void users_opened(struct server *srv, uid_t uid)
{
    struct user_count *u = find(srv, uid);
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL)
            return; /* uncounted: the quota errs towards the user */
        u->uid = uid;
        u->next = srv->users;
        srv->users = u;
    }
    u->sessions++;
}

void users_closed(struct server *srv, uid_t uid)
{
    struct user_count *u = find(srv, uid);
    if (u != NULL && u->sessions > 0)
        u->sessions--;
}

bool users_may_enumerate(const struct server *srv, int fd, uid_t uid, gid_t gid)
{
    if (uid == 0)
        return true;
    if (!srv->config.have_enum_group)
        return false;
    if (gid == srv->config.enum_gid)
        return true;
    gid_t groups[1024];
    socklen_t len = sizeof(groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
        return false; /* too many groups or an old kernel: refuse */
    for (size_t i = 0; i < len / sizeof(gid_t); i++)
        if (groups[i] == srv->config.enum_gid)
            return true;
    return false;
}

void users_free(struct server *srv)
{
    while (srv->users != NULL) {
        struct user_count *u = srv->users;
        srv->users = u->next;
        free(u);
    }
}
