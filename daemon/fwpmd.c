/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpmd.c - the host engine: options, the listening socket, the loop.
 *
 * fwpmd hosts the same core as the library (linked, never copied) in
 * in-process mode and serves it to every process of the machine.
 */
#include "host_mode.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define DEFAULT_MAX_SESSIONS_PER_USER 1024u

static const char usage[] =
    "Usage: fwpmd [OPTIONS]\n"
    "The fwpm host engine: serves the filter engine's sessions to every process.\n"
    "Clients choose it with FWPM_ENGINE=unix:PATH (or FWPM_ENGINE=host).\n"
    "\n"
    "  -s, --socket PATH              listen on PATH (default " HOST_MODE_DEFAULT_SOCKET ");\n"
    "                                 ignored under socket activation (LISTEN_FDS)\n"
    "  -g, --enum-group NAME          members of group NAME may enumerate sessions\n"
    "                                 (root always may; others get ERROR_ACCESS_DENIED)\n"
    "  -m, --max-sessions-per-user N  sessions each non-root user may hold (default 1024,\n"
    "                                 0: no limit); beyond: ERROR_NOT_ENOUGH_QUOTA\n"
    "  -h, --help                     this text\n"
    "  -V, --version                  the version\n"
    "\n"
    "Runs in the foreground and logs to stderr. The socket it creates is mode 0666\n"
    "(anyone may open a session; enumeration is checked per connection from the\n"
    "kernel's peer credentials). Notifies systemd when ready (Type=notify); exits\n"
    "cleanly on SIGTERM or SIGINT, closing every session.\n";

static int parse_options(int argc, char **argv, struct server_config *config)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},
        {"enum-group", required_argument, NULL, 'g'},
        {"max-sessions-per-user", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    config->socket_path = HOST_MODE_DEFAULT_SOCKET;
    config->max_sessions_per_user = DEFAULT_MAX_SESSIONS_PER_USER;
    int opt;
    while ((opt = getopt_long(argc, argv, "s:g:m:hV", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            config->socket_path = optarg;
            break;
        case 'g': {
            struct group *g = getgrnam(optarg);
            if (g == NULL) {
                fprintf(stderr, "fwpmd: no group named %s\n", optarg);
                return 2;
            }
            config->have_enum_group = true;
            config->enum_gid = g->gr_gid;
            break;
        }
        case 'm': {
            char *end;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != 0 || end == optarg || n > UINT32_MAX) {
                fprintf(stderr, "fwpmd: bad --max-sessions-per-user %s\n", optarg);
                return 2;
            }
            config->max_sessions_per_user = (uint32_t)n;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            printf("fwpmd %s\n", FWPM_VERSION);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    return -1; /* carry on */
}

/* mkdir -p of path's parent directory. */
static void make_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + 1; *p != 0; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        mkdir(dir, 0755);
        *p = '/';
    }
}

/* Binds path and listens. The socket is bound under a temporary name and
 * renamed into place once it listens, so a client never finds the path
 * refusing connections; a previous daemon's socket is replaced. Returns the
 * fd or -1. */
static int listen_on(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    char temporary[sizeof(addr.sun_path)];
    if (snprintf(temporary, sizeof(temporary), "%s.%ld", path, (long)getpid()) >=
        (int)sizeof(temporary)) {
        fprintf(stderr, "fwpmd: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(addr.sun_path, temporary);
    make_parent(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(temporary);
    const char *step = "bind";
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        (step = "chmod", chmod(temporary, 0666) < 0) ||
        (step = "listen", listen(fd, SOMAXCONN) < 0) ||
        (step = "rename", rename(temporary, path) < 0)) {
        fprintf(stderr, "fwpmd: %s %s: %s\n", step, path, strerror(errno));
        unlink(temporary);
        close(fd);
        return -1;
    }
    return fd;
}

/* The socket systemd passed (LISTEN_FDS), or -1 when there is none. */
static int activated_socket(void)
{
    int n = sd_listen_fds(1);
    if (n != 1)
        return -1;
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
        fprintf(stderr, "fwpmd: the passed descriptor is not a listening Unix socket\n");
        return -2;
    }
    /* systemd passes blocking sockets: the accept loop must not block. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -2;
    return fd;
}

/* One descriptor per client: as many as the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    struct server srv = {0};
    int done = parse_options(argc, argv, &srv.config);
    if (done >= 0)
        return done;
    host_mode_force_local(); /* the daemon hosts the core itself */
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);

    bool activated = false;
    int fd = activated_socket();
    if (fd == -2)
        return 1;
    if (fd >= 0) {
        activated = true;
        srv.config.socket_path = NULL;
    } else if ((fd = listen_on(srv.config.socket_path)) < 0) {
        return 1;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sd_event *event = NULL;
    int r = sd_event_new(&event);
    if (r >= 0)
        r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
    if (r >= 0)
        r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
    if (r >= 0)
        r = server_start(&srv, event, fd);
    if (r < 0) {
        fprintf(stderr, "fwpmd: cannot start: %s\n", strerror(-r));
        return 1;
    }
    fprintf(stderr, "fwpmd: serving on %s (enumeration: root%s, quota %u sessions per user)\n",
            activated ? "the socket systemd passed" : srv.config.socket_path,
            srv.config.have_enum_group ? " and the --enum-group" : " only",
            srv.config.max_sessions_per_user);
    sd_notify(0, "READY=1");

    r = sd_event_loop(event);
    sd_notify(0, "STOPPING=1");
    server_stop(&srv);
    sd_event_unref(event);
    if (!activated) {
        unlink(srv.config.socket_path);
        close(fd);
    }
    fprintf(stderr, "fwpmd: stopped\n");
    return r < 0 ? 1 : 0;
}
