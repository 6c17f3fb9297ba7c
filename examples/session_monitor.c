/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session_monitor.c - fwpm's example: several threads open named sessions
 * while a monitor thread lists all sessions page by page as a table, the way
 * Windows firewall tools show their session view.
 *
 *   session-monitor [--agents N] [--sessions-per-agent N] [--rounds N] [--page-size N]
 */
#define _POSIX_C_SOURCE 200809L
#include <fwpm_linux.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int agents = 4, sessions_per_agent = 3, rounds = 3;
static UINT32 page_size = 4;
static pthread_barrier_t opened, listed;

static void print_key(const GUID *g)
{
    printf("%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->Data1, g->Data2, g->Data3,
           g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5],
           g->Data4[6], g->Data4[7]);
}

static void print_session(const FWPM_SESSION0 *s)
{
    print_key(&s->sessionKey);
    printf("  %7u  %-10ls  %-7s  %-16ls  %ls\n", s->processId, s->username,
           (s->flags & FWPM_SESSION_FLAG_DYNAMIC) ? "dynamic" : "-",
           s->displayData.name ? s->displayData.name : L"(none)",
           s->displayData.description ? s->displayData.description : L"");
}

static DWORD check(DWORD status, const char *what)
{
    if (status != ERROR_SUCCESS)
        fprintf(stderr, "%s: %s\n", what, fwpm_strerror(status));
    return status;
}

/* Lists every session of a fresh snapshot, page by page. */
static int list_sessions(HANDLE engine, int round)
{
    HANDLE e;
    if (check(FwpmSessionCreateEnumHandle0(engine, NULL, &e), "create enum handle"))
        return 1;
    printf("\n== round %d: sessions (pages of %u) ==\n", round, page_size);
    printf("%-36s  %7s  %-10s  %-7s  %-16s  %s\n", "key", "pid", "user", "flags", "name",
           "description");
    UINT32 total = 0, pages = 0;
    for (;;) {
        FWPM_SESSION0 **entries;
        UINT32 n;
        if (check(FwpmSessionEnum0(engine, e, page_size, &entries, &n), "enum"))
            return 1;
        for (UINT32 i = 0; i < n; i++)
            print_session(entries[i]);
        FwpmFreeMemory0((void **)&entries);
        total += n;
        pages += n > 0;
        if (n < page_size)
            break; /* a short page: the enumeration is exhausted */
    }
    printf("-- %u sessions in %u pages\n", total, pages);
    return check(FwpmSessionDestroyEnumHandle0(engine, e), "destroy enum handle") != 0;
}

static void *agent(void *arg)
{
    int id = (int)(intptr_t)arg;
    HANDLE *mine = calloc((size_t)sessions_per_agent, sizeof(HANDLE));
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < sessions_per_agent; i++) {
            wchar_t name[64], description[64];
            swprintf(name, 64, L"agent-%d/%d", id, i);
            swprintf(description, 64, L"round %d of agent %d", r, id);
            FWPM_SESSION0 s;
            memset(&s, 0, sizeof(s));
            s.displayData.name = name;
            s.displayData.description = description;
            s.flags = (i % 2) ? FWPM_SESSION_FLAG_DYNAMIC : 0;
            check(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &mine[i]), "open");
        }
        pthread_barrier_wait(&opened); /* let the monitor list this round */
        pthread_barrier_wait(&listed);
        for (int i = 0; i < sessions_per_agent; i++)
            check(FwpmEngineClose0(mine[i]), "close");
    }
    free(mine);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--agents") == 0)
            agents = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--sessions-per-agent") == 0)
            sessions_per_agent = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--page-size") == 0)
            page_size = (UINT32)strtoul(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: %s [--agents N] [--sessions-per-agent N] [--rounds N] "
                    "[--page-size N]\n",
                    argv[0]);
            return 2;
        }
    }
    if (agents < 1 || sessions_per_agent < 1 || rounds < 1 || page_size < 1) {
        fprintf(stderr, "all counts must be at least 1\n");
        return 2;
    }
    FWPM_SESSION0 me;
    memset(&me, 0, sizeof(me));
    me.displayData.name = L"monitor";
    me.displayData.description = L"lists the sessions";
    HANDLE engine;
    if (check(FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, &me, &engine), "open monitor"))
        return 1;
    pthread_barrier_init(&opened, NULL, (unsigned)agents + 1);
    pthread_barrier_init(&listed, NULL, (unsigned)agents + 1);
    pthread_t *threads = calloc((size_t)agents, sizeof(pthread_t));
    for (int i = 0; i < agents; i++)
        pthread_create(&threads[i], NULL, agent, (void *)(intptr_t)i);
    int failed = 0;
    for (int r = 0; r < rounds; r++) {
        pthread_barrier_wait(&opened);
        failed |= list_sessions(engine, r);
        pthread_barrier_wait(&listed);
    }
    for (int i = 0; i < agents; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    failed |= list_sessions(engine, rounds) != 0;
    FwpmEngineClose0(engine);
    return failed;
}
