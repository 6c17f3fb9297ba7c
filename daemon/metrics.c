/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - fwpm metrics: the daemon's state in the Prometheus text
 * exposition format (version 0.0.4), for node_exporter's textfile collector.
 */
#include "server.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Open sessions of one (uid, flags) pair. */
struct tally {
    uid_t uid;
    uint32_t flags;
    uint64_t sessions;
};

/* Writes a label value with \, " and newline escaped. */
static void put_label(FILE *out, const char *s)
{
    for (; *s != 0; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', out);
        if (*s == '\n') {
            fputs("\\n", out);
            continue;
        }
        fputc(*s, out);
    }
}

static void put_user(FILE *out, uid_t uid)
{
    struct passwd pw, *found = NULL;
    char buffer[1024];
    if (getpwuid_r(uid, &pw, buffer, sizeof(buffer), &found) == 0 && found != NULL)
        put_label(out, found->pw_name);
    else
        fprintf(out, "%u", (unsigned)uid);
}

static size_t tally_sessions(const struct server *srv, struct tally *t, size_t max)
{
    size_t n = 0;
    for (const struct connection *c = srv->connections; c != NULL; c = c->next) {
        for (uint32_t k = 0; k < c->sessions.capacity; k++) {
            const struct conn_session *s = &c->sessions.slots[k];
            if (!s->in_use || s->engine == NULL)
                continue;
            size_t i = 0;
            while (i < n && (t[i].uid != c->uid || t[i].flags != s->flags))
                i++;
            if (i == n) {
                if (n == max)
                    continue;
                t[n++] = (struct tally){c->uid, s->flags, 0};
            }
            t[i].sessions++;
        }
    }
    return n;
}

static uint64_t resident_bytes(void)
{
    unsigned long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &pages_total, &pages_resident) != 2)
        pages_resident = 0;
    fclose(f);
    return (uint64_t)pages_resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void counter(FILE *out, const char *name, const char *help, uint64_t v)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
            (unsigned long long)v);
}

static void gauge(FILE *out, const char *name, const char *help, uint64_t v)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
            (unsigned long long)v);
}

char *metrics_render(const struct server *srv)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (out == NULL)
        return NULL;
    size_t max = srv->session_count + 1;
    struct tally *t = calloc(max, sizeof(*t));
    size_t n = t == NULL ? 0 : tally_sessions(srv, t, max);
    fputs("# HELP fwpm_sessions_open Sessions open on the host engine, by user and flags.\n"
          "# TYPE fwpm_sessions_open gauge\n",
          out);
    for (size_t i = 0; i < n; i++) {
        fputs("fwpm_sessions_open{user=\"", out);
        put_user(out, t[i].uid);
        fprintf(out, "\",flags=\"%s\"} %llu\n",
                t[i].flags & FWPM_SESSION_FLAG_DYNAMIC ? "dynamic" : "none",
                (unsigned long long)t[i].sessions);
    }
    free(t);
    FWPM_MEMORY_STATS0 stats = {0};
    fwpm_memory_stats(&stats);
    const struct server_counters *k = &srv->counters;
    gauge(out, "fwpm_connections", "Client connections open now.", srv->connection_count);
    gauge(out, "fwpm_sessions", "Sessions open now, of all connections.", srv->session_count);
    counter(out, "fwpm_sessions_opened_total", "Sessions opened since the daemon started.",
            k->sessions_opened);
    counter(out, "fwpm_snapshots_total", "Enumeration handles (snapshots) created.", k->snapshots);
    counter(out, "fwpm_enumerations_total", "FwpmSessionEnum0 requests served.", k->enumerations);
    counter(out, "fwpm_enumerated_entries_total", "Session entries sent to enumerating clients.",
            k->entries);
    counter(out, "fwpm_access_denied_total", "Enumerations refused (ERROR_ACCESS_DENIED).",
            k->access_denied);
    counter(out, "fwpm_quota_denied_total", "Opens refused (ERROR_NOT_ENOUGH_QUOTA).",
            k->quota_denied);
    counter(out, "fwpm_backlogged_drops_total",
            "Connections dropped for not reading their replies.", k->dropped_backlogged);
    gauge(out, "fwpm_live_snapshots", "Snapshot versions still referenced.", stats.liveSnapshots);
    fputs("# HELP fwpm_daemon_memory_bytes Memory of fwpmd: engine data, engine infrastructure "
          "kept for reuse, resident set.\n"
          "# TYPE fwpm_daemon_memory_bytes gauge\n",
          out);
    fprintf(out, "fwpm_daemon_memory_bytes{kind=\"engine_data\"} %llu\n",
            (unsigned long long)stats.liveBytes);
    fprintf(out, "fwpm_daemon_memory_bytes{kind=\"engine_infrastructure\"} %llu\n",
            (unsigned long long)stats.infrastructureBytes);
    fprintf(out, "fwpm_daemon_memory_bytes{kind=\"resident\"} %llu\n",
            (unsigned long long)resident_bytes());
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
